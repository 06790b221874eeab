"""Snapshot tests over fixtures/: the exact diagnostics and the exact fixed text of
every fixture, with only the folder's rule selected (all rules for seed/)."""

import os
from pathlib import Path

import pytest

from msfix.engine import fix_text, lint_text
from msfix.report.text import diagnostic_line
from msfix.rule import all_rules, rule_by_code

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
UPDATE = os.environ.get("MSFIX_UPDATE_SNAPSHOTS") == "1"


def _rules(folder: Path):
    if folder.name == "seed":
        return list(all_rules())
    rule = rule_by_code(folder.name)
    assert rule is not None, f"fixtures/{folder.name} names no rule"
    return [rule]


def _cases():
    for folder in sorted(p for p in FIXTURES.iterdir() if p.is_dir() and p.name != "smoke"):
        for script in sorted(folder.glob("*.py")):
            if script.name.endswith((".fixed.py", ".unsafe-fixed.py")):
                continue
            yield pytest.param(folder, script, id=f"{folder.name}/{script.name}")


def _check_snapshot(path: Path, actual: str) -> None:
    if UPDATE:
        path.write_text(actual, encoding="utf-8", newline="")
    assert path.exists(), f"missing snapshot {path}; run with MSFIX_UPDATE_SNAPSHOTS=1"
    assert actual == path.read_text(encoding="utf-8")


def _check_optional(path: Path, actual: str, original: str) -> None:
    if actual == original:
        if UPDATE and path.exists():
            path.unlink()
        assert not path.exists(), f"{path} exists but the fix changes nothing"
        return
    _check_snapshot(path, actual)


@pytest.mark.parametrize("folder,script", list(_cases()))
def test_fixture(folder, script, monkeypatch):
    monkeypatch.chdir(folder)  # config files next to a fixture are read (analysis/configfiles.py)
    rules = _rules(folder)
    text = script.read_text(encoding="utf-8")
    out = lint_text(text, rules, path=script.name)
    assert out.internal_errors == []
    lines = "".join(diagnostic_line(d) + "\n" for d in out.diagnostics)
    _check_snapshot(script.with_suffix(".expected.txt"), lines)
    if script.name.startswith("good"):
        assert out.diagnostics == [], "a good fixture must produce no diagnostics"
        return
    assert out.diagnostics, "a bad fixture must produce diagnostics"
    safe, _, _, err = fix_text(text, rules, unsafe=False, path=script.name)
    assert err is None
    _check_optional(script.with_name(script.stem + ".fixed.py"), safe, text)
    unsafe, remaining, _, err = fix_text(text, rules, unsafe=True, path=script.name)
    assert err is None
    _check_optional(script.with_name(script.stem + ".unsafe-fixed.py"), unsafe, text)
    # fixing is idempotent: a second run changes nothing
    again, _, applied, _ = fix_text(unsafe, rules, unsafe=True, path=script.name)
    assert again == unsafe and applied == 0


def test_every_rule_has_a_bad_and_a_good_fixture():
    for rule in all_rules():
        folder = FIXTURES / rule.code
        assert folder.is_dir(), f"no fixtures/{rule.code}/"
        assert list(folder.glob("bad*.expected.txt")), f"{rule.code}: no bad fixture"
        assert list(folder.glob("good*.expected.txt")), f"{rule.code}: no good fixture"


def test_seed_fixture_is_the_shared_seed():
    """fixtures/seed/train.py is the script in shared/seed, line-broken as there."""
    shared = FIXTURES.parent.parent / "shared" / "seed" / "train.py"
    ours = (FIXTURES / "seed" / "train.py").read_text()
    if shared.exists():  # shared/ sits beside the checkout, here and in CI
        assert ours == shared.read_text()
    assert "resnet50.get_parameters()" in ours and ours.count("\n") == 60

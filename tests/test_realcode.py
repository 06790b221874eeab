"""Real code is the reference: msfix over ../shared/realcode (464 real training scripts
and notebooks, when present beside the checkout). The precision targets of the
committed verdict file hold, and `fix --write --unsafe-fixes` leaves every file
parsing, stable, and with no name undefined that was defined before (msfix's resolver
and ruff's F821)."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))

import realcode_fix_check  # noqa: E402
import realcode_report  # noqa: E402

CORPUS = realcode_report.corpus_root()
needs_corpus = pytest.mark.skipif(CORPUS is None, reason="../shared/realcode is not beside this checkout")


@pytest.fixture(scope="module")
def realcode_run():
    """One msfix run over the corpus, shared by the precision and report tests."""
    return realcode_report.run_msfix(CORPUS)


@needs_corpus
def test_precision_targets_hold_on_real_code(realcode_run):
    errors, warnings, loc, n_files, unreadable = realcode_run
    m = realcode_report.measure(errors, realcode_report.seed_verdicts(CORPUS))
    assert n_files == 464 and loc > 100_000
    assert [k for k, _, _ in m["false"]] == []  # no false error
    assert [k for k, _ in m["unjudged"]] == []  # every error has a verdict
    assert m["recall"] >= realcode_report.MIN_RECALL, m["lost"]
    assert all(v.get("why_lost") for _, v in m["lost"])  # each lost true error says why


@needs_corpus
def test_report_is_current(realcode_run):
    # the committed report is what `python tools/realcode_report.py` writes today
    errors, warnings, loc, n_files, unreadable = realcode_run
    m = realcode_report.measure(errors, realcode_report.seed_verdicts(CORPUS))
    text = realcode_report.render(m, warnings, loc, n_files, unreadable, "../shared/realcode")
    committed = (REPO / "reports" / "realcode-precision.md").read_text(encoding="utf-8")
    assert text.rstrip("\n") == committed.rstrip("\n")


@needs_corpus
def test_unsafe_fixes_on_a_spread_of_real_files_keep_names_and_syntax(tmp_path):
    res = realcode_fix_check.check(CORPUS, every=6, workdir=tmp_path)
    assert res["files"] >= 70
    assert res["changed"] > 10  # the check is about real rewrites
    assert res["problems"] == []
    # fix ran; exit 2 comes only from the real files that are not valid Python
    assert res["first_rc"] in (0, 1, 2), res["first_stderr"]
    errors = [line for line in res["first_stderr"].splitlines() if line.startswith("msfix: error:")]
    assert all("syntax error" in line or "does not parse" in line for line in errors), errors


def test_report_without_corpus_says_so(tmp_path):
    out = subprocess.run([sys.executable, str(REPO / "tools" / "realcode_report.py"), "--corpus",
                          str(tmp_path / "nowhere"), "--no-write"],
                         capture_output=True, text=True, cwd=tmp_path, env={"MSFIX_REALCODE": "", "PATH": ""})
    assert out.returncode == 0
    assert "realcode corpus not found" in out.stdout

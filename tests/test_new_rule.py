"""The rule scaffold: one command writes a rule, its fixture folder and its doc page;
the new rule then passes the fixture, example and docs tests with no other change."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def copy(tmp_path):
    dest = tmp_path / "msfix-copy"
    ignore = shutil.ignore_patterns(".git", ".venv", "*.egg-info", "__pycache__", ".pytest_cache", "build", "dist")
    shutil.copytree(REPO, dest, ignore=ignore, symlinks=True)
    # import msfix (and msfix.rules, which is rules/ once installed) from the copy
    link = dest / "msfix" / "rules"
    if not link.exists():
        link.symlink_to(dest / "rules", target_is_directory=True)
    return dest


def run(copy, *args):
    env = dict(os.environ, PYTHONPATH=str(copy))
    return subprocess.run([sys.executable, *args], cwd=copy, env=env, capture_output=True, text=True)


def test_a_rule_added_with_the_scaffold_needs_nothing_else(copy):
    r = run(copy, "tools/new_rule.py", "MS299", "demo-rule", "--family", "data")
    assert r.returncode == 0, r.stderr
    assert (copy / "rules" / "data" / "ms299_demo_rule.py").exists()
    assert (copy / "fixtures" / "MS299" / "bad.py").exists() and (copy / "fixtures" / "MS299" / "good.py").exists()
    assert (copy / "docs" / "rules" / "MS299.md").read_text(encoding="utf-8").startswith("# MS299 demo-rule")
    assert "[MS299](docs/rules/MS299.md)" in (copy / "README.md").read_text(encoding="utf-8")
    r = run(copy, "-c", "from msfix.rule import rule_by_code; print(rule_by_code('MS299').__module__)")
    assert r.stdout.strip() == "msfix.rules.data.ms299_demo_rule", r.stderr
    env_update = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_fixtures.py", "-k", "MS299"]
    r = subprocess.run([sys.executable, *env_update], cwd=copy, capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=str(copy), MSFIX_UPDATE_SNAPSHOTS="1"))
    assert r.returncode == 0, r.stdout[-2000:]
    assert (copy / "fixtures" / "MS299" / "bad.expected.txt").read_text(encoding="utf-8").startswith(
        "bad.py:4:8: MS299 TODO")
    r = run(copy, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_fixtures.py", "tests/test_docs.py",
            "tests/test_rule_examples.py", "-k", "MS299 or docs or every_rule")
    assert r.returncode == 0, r.stdout[-3000:]
    assert " passed" in r.stdout and "failed" not in r.stdout


def test_the_scaffold_refuses_a_code_that_exists_or_is_malformed(copy):
    r = run(copy, "tools/new_rule.py", "MS201", "again", "--family", "data")
    assert r.returncode != 0 and "MS201 exists already" in r.stderr
    r = run(copy, "tools/new_rule.py", "MS2x1", "bad-code", "--family", "data")
    assert r.returncode != 0 and "must look like MS217" in r.stderr
    r = run(copy, "tools/new_rule.py", "MS399", "wrong-family", "--family", "data")
    assert r.returncode != 0 and "data rules use codes MS2xx" in r.stderr

"""msfix's own code passes its committed linter settings ([tool.ruff] in pyproject)."""

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _ruff() -> str:
    exe = Path(sys.executable).parent / "ruff"
    return str(exe) if exe.exists() else (shutil.which("ruff") or "ruff")


def test_ruff_check_passes_with_the_committed_settings():
    r = subprocess.run([_ruff(), "check", "--no-cache", "msfix", "rules", "tools", "tests", "benchmarks"],
                       cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]


def test_ruff_settings_are_the_committed_ones():
    r = subprocess.run([_ruff(), "check", "--show-settings", "msfix/engine.py"], cwd=REPO,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "line_length = 120" in r.stdout.replace("linter.line_length", "line_length")


def test_mypy_passes_with_the_committed_settings():
    exe = Path(sys.executable).parent / "mypy"
    r = subprocess.run([str(exe) if exe.exists() else "mypy", "--no-incremental"], cwd=REPO,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "Success: no issues found" in r.stdout


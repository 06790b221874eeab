"""docs/rules/ and the README rule table are generated from the rules and kept in sync."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_rule_docs_and_readme_table_are_current():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_docs.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, "run `python tools/gen_docs.py`:\n" + proc.stdout + proc.stderr


def test_readme_quick_start_commands_match_ci():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    test_cmd = [line for line in ci.splitlines() if "pytest" in line and not line.startswith("#")]
    assert test_cmd, ".ci/run must run the README's test command"
    assert test_cmd[-1].strip() in readme

"""The training/checkpoint/hyperparameter fixtures on the real MindSpore CPU wheel:
each bad fixture fails the way the rule says, on the flagged line, and its fixed
version gets past it. Runs go through `msfix smoke` (synthetic MNIST/CIFAR files in
the real formats, written per run), in a child process: the test process never
imports MindSpore."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from msfix.engine import lint_text
from msfix.rule import rule_by_code
from msfix.smoke.runner import run_smoke

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mindspore") is None,
    reason="needs MindSpore in this interpreter",
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

# (fixture, exception type, message fragment)
CRASHES = [
    ("MS402/bad.py", "AttributeError", "zero_grad"),
    ("MS402/bad_loop_function.py", "AttributeError", "zero_grad"),
    ("MS403/bad.py", "AttributeError", "cuda"),
    ("MS403/bad_attributes.py", "AttributeError", "param_groups"),
    ("MS404/bad.py", "RuntimeError", "Map must be consistent"),
    ("MS405/bad.py", "TypeError", "must be int"),
    ("MS406/bad.py", "ValueError", "'metrics' can not be None"),
    ("MS407/bad.py", "TypeError", "should be a dict"),
    ("MS409/bad.py", "ValueError", "loss_scale_manager=None"),
    ("MS502/bad.py", "ValueError", "does not contain '/'"),
    ("MS601/bad.py", "TypeError", "type of 'momentum' should be 'float'"),
    ("MS501/bad_save_checkpoint.py", "ValueError", "format must same"),
]

# fixed versions that must run to the end (no training step is fine for scripts without one)
RUNS = ["MS403/bad.unsafe-fixed.py", "MS404/bad.fixed.py", "MS405/bad.fixed.py", "MS502/bad.fixed.py"]


def _flagged_lines(path: Path) -> set:
    """Lines with an error of the folder's rule, and lines its messages point to."""
    code = path.parent.name
    out = lint_text(path.read_text(), [rule_by_code(code)], path=path.name)
    lines = set()
    for d in out.diagnostics:
        if d.severity.value == "error":
            lines.add(d.span.line)
            if code == "MS404":  # reported on value_and_grad, fails where the optimizer is called
                lines.update(int(x) for x in re.findall(r"\(line (\d+)\)", d.message))
    return lines


@pytest.mark.parametrize("name,exc,fragment", CRASHES, ids=[c[0] for c in CRASHES])
def test_bad_fixture_fails_on_a_flagged_line(name, exc, fragment):
    path = FIXTURES / name
    report = run_smoke(path)
    assert report.outcome == "crashed", (report.outcome, report.message)
    assert report.exception_type == exc, report.message
    assert fragment in report.message
    assert report.script_line in _flagged_lines(path)


@pytest.mark.parametrize("name", RUNS)
def test_fixed_fixture_runs(name):
    report = run_smoke(FIXTURES / name)
    assert report.outcome in ("passed", "no-steps"), (report.outcome, report.exception_type, report.message)


def test_amp_fix_moves_the_crash_past_the_fixed_line():
    # line 11 gets loss_scale_manager=None; line 12 passes an explicit DynamicLossScaleManager (no fix)
    report = run_smoke(FIXTURES / "MS409" / "bad.unsafe-fixed.py")
    assert report.exception_type == "ValueError"
    assert report.script_line == 12

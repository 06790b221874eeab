"""Issue 12: the fixes of MS406, MS207 and MS214 give scripts that run. For one whole
bad fixture per rule, the script as written crashes on the real MindSpore 2.10 CPU wheel
(through the smoke runner) with the error the rule names, and its fixed snapshot (what
`msfix fix` writes, checked by tests/test_fixtures.py) passes with training steps run."""

from pathlib import Path

import pytest

from msfix.smoke.runner import run_smoke

FIX = Path(__file__).resolve().parent.parent / "fixtures"

CASES = [
    # (bad script, its fixed snapshot, smoke outcome of the bad one, exception it raises
    # (None: the smoke runner reports the empty dataset as no-steps), words of its message)
    ("MS406/bad_classifier.py", "MS406/bad_classifier.unsafe-fixed.py", "crashed", "ValueError",
     "'metrics' can not be None"),
    ("MS207/bad_numpy.py", "MS207/bad_numpy.fixed.py", "no-steps", None, "There is no valid data in dataset"),
    ("MS214/bad_train.py", "MS214/bad_train.unsafe-fixed.py", "crashed", "RuntimeError",
     "should return same number of NumPy arrays as specified in column_names"),
]


@pytest.mark.parametrize("bad,fixed,outcome,exc,words", CASES, ids=[c[0] for c in CASES])
def test_bad_fails_and_fixed_runs(bad, fixed, outcome, exc, words):
    before = run_smoke(FIX / bad, timeout=240)
    assert before.outcome == outcome, (before.outcome, before.message)
    if exc is not None:
        assert before.exception_type == exc, before.message
    assert words in before.message, before.message
    after = run_smoke(FIX / fixed, timeout=240)
    assert after.outcome == "passed", (after.outcome, after.exception_type, after.message)
    assert after.steps >= 1

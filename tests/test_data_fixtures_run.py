"""Issue 4: the data fixtures that are whole scripts run on the real MindSpore 2.10 CPU
wheel (through the smoke runner): the bad version fails the way the rule says, the
fixed version passes."""

from pathlib import Path

import pytest

from msfix.smoke.runner import run_smoke

FIX = Path(__file__).resolve().parent.parent / "fixtures"

CASES = [
    ("MS204/bad_int64.py", "MS204/bad_int64.fixed.py", "TypeError"),
    ("MS215/bad.py", "MS215/bad.fixed.py", "TypeError"),
    ("MS215/bad_generator.py", "MS215/bad_generator.fixed.py", "TypeError"),
    # issue 12: float64 from a helper's returned tuple, a source class attribute, list(generator())
    ("MS215/bad_broken_tuple_return.py", "MS215/bad_broken_tuple_return.fixed.py", "TypeError"),
    ("MS215/bad_broken_source_class.py", "MS215/bad_broken_source_class.fixed.py", "TypeError"),
    ("MS215/bad_broken_generator_list.py", "MS215/bad_broken_generator_list.fixed.py", "TypeError"),
    # issue 11: the value set elsewhere (an argparse default dtype, NumPy-made labels)
    ("MS204/bad_argparse.py", "MS204/bad_argparse.fixed.py", "TypeError"),
    ("MS208/bad_numpy.py", "MS208/bad_numpy.unsafe-fixed.py", "TypeError"),
    # issue 12: int64 labels of a source class / of a functional loop; labels through a helper given datasets
    ("MS204/bad_broken_source_class.py", "MS204/bad_broken_source_class.fixed.py", "TypeError"),
    ("MS204/bad_broken_functional_loop.py", "MS204/bad_broken_functional_loop.fixed.py", "TypeError"),
    ("MS208/bad_broken_dataset_helper.py", "MS208/bad_broken_dataset_helper.unsafe-fixed.py", "TypeError"),
    # issue 12: three CIFAR-100 columns reach Model(net, loss_fn).train; the fix projects two
    ("MS217/bad.py", "MS217/bad.unsafe-fixed.py", "ValueError"),
]


@pytest.mark.parametrize("bad,fixed,exc", CASES, ids=[c[0] for c in CASES])
def test_bad_crashes_and_fixed_runs(bad, fixed, exc):
    before = run_smoke(FIX / bad, timeout=240)
    assert before.outcome == "crashed", (before.outcome, before.message)
    assert before.exception_type == exc, before.message
    after = run_smoke(FIX / fixed, timeout=240)
    assert after.outcome == "passed", (after.outcome, after.exception_type, after.message)
    assert after.steps >= 1

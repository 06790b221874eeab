"""Issue 11: every data, network, training and hyperparameter rule whose defect is a value
has at least three fixtures of its bad case where that value comes from somewhere else
than the line it is used on (an argparse default, a config dict or file, a module
constant, a helper's parameter per call site, a NumPy- or generator-derived size), and
a good variant where the value comes from elsewhere and is fine. The fixture tests
(tests/test_fixtures.py) check that each bad one is reported and each good one is not;
this test checks that the variants exist, by the fixture naming convention
`bad_<origin>[_what].py` / `good_<origin>[_what].py`.

Rules whose defect is the shape of the code, not a value, are listed in STRUCTURAL with
the reason; they need no value variants."""
import re
from pathlib import Path

import pytest

from msfix.rule import all_rules

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ORIGINS = ("argparse", "config", "config_file", "constant", "helper_param", "numpy", "generator")
_NAME = re.compile(rf"^(bad|good)_({'|'.join(sorted(ORIGINS, key=len, reverse=True))})(_[a-z0-9_]+)?\.py$")
FAMILIES = ("2", "3", "4", "6")  # data, network, training, hyperparameters

STRUCTURAL = {
    "MS301": "a method named forward instead of construct: no value involved",
    "MS302": "a Cell whose __init__ does not call super().__init__(): no value involved",
    "MS303": "Cells held in a Python list/dict attribute: the container type, not a value",
    "MS401": "a name read before it is bound: evaluation order, not a value",
    "MS402": "torch's zero_grad/backward/step calls: the API used, not a value",
    "MS403": "torch tensor methods (.item(), .parameters()): the API used, not a value",
    "MS404": "value_and_grad without weights: the call's shape, not a value",
    "MS406": "Model.eval on a Model built without metrics: a missing argument, not a value",
    "MS408": "load_param_into_net's return used as a bool: the use of a result, not a value",
    "MS410": "a torch API called in MindSpore code: the API used, not a value",
    "MS411": "an unused torch import: no value involved",
    "MS212": "a vision op mapped after batch: the pipeline order, not a value",
    "MS213": "shuffle/repeat/batch in the wrong order: the pipeline order, not a value",
    "MS216": "Decode on already decoded data: the pipeline order, not a value",
    "MS203": "an image column that reaches the network undecoded / unscaled: the transforms missing, not a value",
    "MS210": "Normalize after HWC2CHW: the pipeline order, not a value",
    "MS211": "HWC2CHW applied twice: the pipeline order, not a value",
    "MS217": "the number of columns a pipeline yields against what Model.train consumes: its shape, not a value",
}


def _value_rules():
    return [r.code for r in all_rules() if not r.plugin and r.code[2] in FAMILIES and r.code not in STRUCTURAL]


def _variants(code):
    d = FIXTURES / code
    names = [p.name for p in d.glob("*.py") if not p.name.endswith((".fixed.py", ".unsafe-fixed.py"))]
    bad = sorted(n for n in names if (m := _NAME.match(n)) and m.group(1) == "bad")
    good = sorted(n for n in names if (m := _NAME.match(n)) and m.group(1) == "good")
    return bad, good


@pytest.mark.parametrize("code", _value_rules())
def test_a_value_rule_has_three_bad_variants_and_a_good_one_from_elsewhere(code):
    bad, good = _variants(code)
    assert len(bad) >= 3, f"{code}: bad variants {bad}; need 3 (bad_<origin>.py, origin in {ORIGINS})"
    assert len({_NAME.match(n).group(2) for n in bad}) >= 2, f"{code}: the bad variants need two origins or more"
    assert good, f"{code}: no good_<origin>.py variant"


def test_structural_rules_exist_and_are_of_the_four_families():
    codes = {r.code for r in all_rules()}
    assert set(STRUCTURAL) <= codes
    assert all(c[2] in FAMILIES for c in STRUCTURAL)


def test_the_naming_convention_is_what_the_check_reads():
    assert _NAME.match("bad_argparse.py") and _NAME.match("good_config_file_nested.py")
    assert _NAME.match("bad_helper_param_training_flag.py").group(2) == "helper_param"
    assert not _NAME.match("bad.py") and not _NAME.match("bad_argparse.fixed.py")

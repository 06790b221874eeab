"""Values the data rules follow to where they are written (issue 11): list()/tuple() of a
known sequence, the expression of a config entry, a dtype given by a helper's caller or a
config entry, and the calls a script helper returns."""

import libcst as cst
from values_helpers import _model, value

from msfix.analysis.builder import build_model
from msfix.analysis.data import dtype_name, returned_calls
from msfix.analysis.model import UNKNOWN
from msfix.analysis.values import member_expr


def test_list_and_tuple_of_a_known_sequence():
    src = "MEAN = (0.485, 0.456, 0.406)\nSTD = [0.2, 0.3]\n"
    assert value(src, "list(MEAN)") == [0.485, 0.456, 0.406]
    assert value(src, "tuple(STD)") == (0.2, 0.3)
    assert value(src, "list(UNSET)") is UNKNOWN
    assert value(src, "list(MEAN, 1)") is UNKNOWN


def test_a_script_function_named_list_is_not_the_builtin():
    src = "def list(x):\n    return 1\nMEAN = (0.5,)\n"
    assert value(src, "list(MEAN)") is UNKNOWN


def test_member_expr_gives_the_entry_expression():
    src = "import numpy as np\ncfg = {'data': {'dtype': np.float64}}\n"
    m, b = _model(src, "cfg['data']['dtype']")
    got = member_expr(m, b.value, m.module_scope, b.order)
    assert got is not None and m.module.code_for_node(got[0]) == "np.float64"
    m, b = _model(src, "cfg['missing']")
    assert member_expr(m, b.value, m.module_scope, b.order) is None


def test_dtype_name_follows_config_entries_and_constants():
    src = "import numpy as np\nimport mindspore as ms\nDT = ms.int64\ncfg = {'dtype': np.float64}\n"
    m, b = _model(src, "cfg['dtype']")
    assert dtype_name(m, b.value, m.module_scope, b.order) == "float64"
    m, b = _model(src, "DT")
    assert dtype_name(m, b.value, m.module_scope, b.order) == "int64"


def test_dtype_name_of_a_helper_parameter_reads_the_call():
    src = ("import numpy as np\n"
           "def make(n, dtype=np.float32):\n"
           "    return np.zeros((n, 2)).astype(dtype)\n"
           "a = make(3, dtype=np.float64)\n"
           "b = make(3)\n")
    m = build_model(cst.parse_module(src), src)
    fn = m.functions["make"]
    calls = m.calls_to("<local>.make")
    ret = fn.node.body.body[0].body[0].value
    dtype_arg = ret.args[0].value
    got = [dtype_name(m, dtype_arg, fn.scope, None, {fn.scope: c}) for c in calls]
    assert got == ["float64", "float32"]
    assert dtype_name(m, dtype_arg, fn.scope, None, None) is None  # no call: unknown


def test_returned_calls_of_a_loss_helper():
    src = ("import mindspore.nn as nn\n"
           "def get_loss(name, sparse=True):\n"
           "    if name == 'ce':\n"
           "        return nn.SoftmaxCrossEntropyWithLogits(sparse=sparse)\n"
           "    loss = nn.MSELoss()\n"
           "    return loss\n"
           "l = get_loss('ce')\n"
           "x = nn.Dense(2, 3)\n")
    m = build_model(cst.parse_module(src), src)
    site = m.calls_to("<local>.get_loss")[0]
    assert [c.qualname for c in returned_calls(m, site)] == [
        "mindspore.nn.SoftmaxCrossEntropyWithLogits", "mindspore.nn.MSELoss"]
    dense = m.calls_to("mindspore.nn.Dense")[0]
    assert returned_calls(m, dense) == []

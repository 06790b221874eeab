"""NumPy shapes and dtypes msfix reads from a script (msfix/analysis/arrays.py), checked
against NumPy itself: each expression is also run, and msfix's shape and dtype must be
the ones NumPy gives (or unknown)."""

import libcst as cst
import numpy as np
import pytest

from msfix.analysis import data
from msfix.analysis.builder import build_model

PRELUDE = "import numpy as np\nrng = np.random.default_rng(0)\nN = 96\n"

CASES = [
    "rng.uniform(size=(96, 4))",
    "rng.uniform(0, 1, (N, 4)).astype(np.float32)",
    "rng.normal(size=(4, 1))",
    "rng.normal(0.0, 1.0, N)",
    "rng.integers(0, 10, size=N)",
    "rng.integers(0, 10, (N, 2), dtype=np.int32)",
    "rng.random((7, 2), dtype=np.float32)",
    "rng.standard_normal(12)",
    "np.random.default_rng(1).uniform(-1, 1, size=(5, 3))",
    "np.random.RandomState(1).rand(5, 3)",
    "np.random.RandomState(1).randint(0, 4, size=(6,))",
    "np.random.rand(10, 3)",
    "np.random.randn(N)",
    "np.random.uniform(0, 1, (4, 2))",
    "np.random.randint(0, 255, (8, 8, 3)).astype(np.uint8)",
    "np.random.permutation(N)",
    "np.zeros((N, 4), dtype=np.float32)",
    "np.ones(5)",
    "np.full((3, 3), 7)",
    "np.full((3, 3), 7.5)",
    "np.zeros_like(np.ones((2, 5), np.int32))",
    "np.arange(12)",
    "np.arange(2, 11, 3)",
    "np.arange(0.0, 1.0, 0.25)",
    "np.linspace(0, 1, 200)",
    "np.linspace(0, 1)",
    "np.eye(4)",
    "np.arange(12).reshape(3, -1)",
    "np.arange(12).reshape((-1, 6))",
    "np.reshape(np.arange(12), (4, 3))",
    "rng.uniform(size=(96, 4)).T",
    "rng.uniform(size=(96, 4)).transpose()",
    "rng.uniform(size=(2, 3, 4)).transpose(0, 2, 1)",
    "np.transpose(rng.uniform(size=(2, 3, 4)), (2, 0, 1))",
    "rng.uniform(size=(96, 4))[:80]",
    "rng.uniform(size=(96, 4))[10:]",
    "rng.uniform(size=(96, 4))[-16:]",
    "rng.uniform(size=(96, 4))[::2]",
    "rng.uniform(size=(96, 4))[:, 0]",
    "rng.uniform(size=(96, 4))[:, :2]",
    "rng.uniform(size=(96, 4))[3]",
    "rng.uniform(size=(96, 4))[:, None]",
    "np.concatenate([np.ones((3, 2)), np.zeros((5, 2))])",
    "np.concatenate((np.ones((3, 2)), np.zeros((3, 4))), axis=1)",
    "np.concatenate([np.ones((3, 2), np.float32), np.ones((5, 2), np.float32)], axis=0)",
    "np.stack([np.ones(4), np.ones(4)])",
    "np.stack([np.ones(4), np.ones(4)], axis=1)",
    "np.vstack([np.ones(4), np.ones(4)])",
    "np.vstack([np.ones((2, 4)), np.ones((3, 4))])",
    "np.hstack([np.ones(4), np.ones(2)])",
    "np.hstack([np.ones((2, 4)), np.ones((2, 1))])",
    "np.column_stack([np.ones(4), np.ones(4)])",
    "rng.uniform(size=(96, 4)) @ rng.normal(size=(4, 1))",
    "rng.uniform(size=(96, 4)).astype(np.float32) @ np.ones((4, 3), np.float32)",
    "rng.uniform(size=(96, 4)) @ np.ones(4)",
    "np.ones(4) @ np.ones((4, 2))",
    "np.matmul(np.ones((5, 4)), np.ones((4, 2)))",
    "rng.uniform(size=(96, 4)).astype(np.float32) * 2.0",
    "3 * rng.uniform(size=(96, 1)) + 0.5",
    "np.ones((4, 3), np.float32) + np.ones(3, np.float32)",
    "np.ones((4, 3), np.float32) + np.ones((4, 3))",
    "np.arange(6) * 2",
    "np.arange(6) / 2",
    "np.ones((3, 3), np.uint8) / 255",
    "-np.ones((2, 2), np.float32)",
    "rng.uniform(size=(6, 4)).flatten()",
    "np.array([[1, 2], [3, 4]])",
    "np.array([1.0, 2.0], dtype=np.float32)",
    "np.array([0, 1, 1, 0])",
    "np.asarray(rng.uniform(size=(3, 3)), dtype=np.float32)",
    "np.float32(rng.uniform(size=(3, 2)))",
]


def _run(expr: str):
    ns: dict = {}
    exec(PRELUDE, ns)
    return eval(expr, ns)


def _info(expr: str):
    src = PRELUDE + f"RESULT = {expr}\n"
    m = build_model(cst.parse_module(src), src)
    b = m.module_scope.bindings["RESULT"][-1]
    return data.array_info(m, b.value, m.module_scope, b.order)


@pytest.mark.parametrize("expr", CASES)
def test_shape_and_dtype_are_numpys(expr):
    got = _info(expr)
    real = np.asarray(_run(expr))
    assert got is not None, expr
    assert got.shape == real.shape, expr
    assert got.dtype == real.dtype.name, expr


def test_every_case_has_a_known_shape():
    # the table above is not vacuous: msfix knows the shape of each case
    assert all(_info(e).shape is not None for e in CASES)


@pytest.mark.parametrize("expr", [
    "rng.uniform(size=(96, 4))[mask]",  # boolean indexing: rows unknown
    "rng.uniform(size=(96, 4))[idx]",
    "rng.uniform(size=(96, 4)).reshape(n, -1)",
    "np.concatenate([rng.uniform(size=(96, 4)), other])",
    "np.random.uniform(0, 1, size)",
])
def test_unknown_parts_stay_unknown(expr):
    got = _info(expr)
    assert got is None or got.shape is None


def test_rows_origin_is_the_expression_that_fixed_the_rows():
    src = PRELUDE + (
        "x = rng.uniform(size=(N, 4)).astype(np.float32)\n"
        "y = (x @ rng.normal(size=(4, 1))).astype(np.float32)\n"
        "z = x[:80]\n"
        "w = np.concatenate([x, z])\n")
    m = build_model(cst.parse_module(src), src)

    def origin(name):
        b = m.module_scope.bindings[name][-1]
        return m.module.code_for_node(data.array_info(m, b.value, m.module_scope, b.order).origin)

    assert origin("x") == origin("y") == "rng.uniform(size=(N, 4))"
    assert origin("z") == "x[:80]"
    assert origin("w") == "np.concatenate([x, z])"


def test_name_rebound_in_a_branch_is_unknown():
    src = PRELUDE + "x = np.ones((4, 2))\nif cond:\n    x = np.ones((8, 2))\nRESULT = x\n"
    m = build_model(cst.parse_module(src), src)
    b = m.module_scope.bindings["RESULT"][-1]
    assert data.array_info(m, b.value, m.module_scope, b.order) is None

"""NumPy shapes and dtypes msfix reads from a script (msfix/analysis/arrays.py), checked
against NumPy itself: each expression is also run, and msfix's shape and dtype must be
the ones NumPy gives (or unknown)."""

import libcst as cst
import numpy as np
import pytest

from msfix.analysis import data
from msfix.analysis.builder import build_model
from msfix.analysis.model import UNKNOWN

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


# ---------------------------------------------------------------- dataset sizes
def _sizes(src: str):
    """{variable: (rows, origin text)} for each dataset source bound to a name."""
    m = build_model(cst.parse_module(src), src)
    out = {}
    for name, bs in m.module_scope.bindings.items():
        p = m.pipeline_of(cst.Name(name), m.module_scope, bs[-1].order + 1)
        if p is not None and p.op == "source":
            size, origin = data.source_size_origin(m, p)
            out[name] = (size, m.module.code_for_node(origin) if origin is not None else None)
    return out


GEN_PRELUDE = """
import numpy as np
import mindspore.dataset as ds
rng = np.random.default_rng(0)
x = rng.uniform(size=(96, 4)).astype(np.float32)
y = (x @ rng.normal(size=(4, 1))).astype(np.float32)
"""


def test_numpy_slices_size_and_origin():
    got = _sizes(GEN_PRELUDE + """
a = ds.NumpySlicesDataset((x, y), column_names=["x", "y"])
b = ds.NumpySlicesDataset({"x": x[:80], "y": y[:80]})
c = ds.NumpySlicesDataset((x, y[:80]))
d = ds.NumpySlicesDataset((x, y), num_samples=10)
""")
    assert got["a"] == (96, "rng.uniform(size=(96, 4))")
    assert got["b"] == (80, "x[:80]")
    assert got["c"][0] is UNKNOWN  # columns of different lengths: MindSpore refuses them
    assert got["d"] == (10, "10")


def test_generator_function_sizes():
    got = _sizes(GEN_PRELUDE + """
N = 50
def gen(n):
    for i in range(n):
        yield x[i], y[i]
def pairs():
    for a, b in zip(x, y):
        yield a, b
def default_gen(n=N):
    for i in range(n):
        yield (x[i],)
def over_len():
    for i in range(len(x)):
        yield x[i], y[i]
def two_yields(n):
    for i in range(n):
        yield x[i], y[i]
        yield x[i], y[i]
def filtered(n):
    for i in range(n):
        if i % 2:
            yield x[i], y[i]
def stops(n):
    for i in range(n):
        if i > 3:
            break
        yield x[i], y[i]
def endless():
    while True:
        yield x[0], y[0]
a = ds.GeneratorDataset(gen(96), ["x", "y"])
b = ds.GeneratorDataset(pairs, ["x", "y"])
c = ds.GeneratorDataset(default_gen, ["x"])
d = ds.GeneratorDataset(over_len(), ["x", "y"])
e = ds.GeneratorDataset(two_yields(96), ["x", "y"])
f = ds.GeneratorDataset(filtered(96), ["x", "y"])
g = ds.GeneratorDataset(stops(96), ["x", "y"])
h = ds.GeneratorDataset(endless, ["x", "y"])
k = ds.GeneratorDataset(gen(unknown_n), ["x", "y"])
""")
    assert got["a"] == (96, "96")
    assert got["b"] == (96, "rng.uniform(size=(96, 4))")
    assert got["c"] == (50, "N")
    assert got["d"][0] == 96
    for name in "efghk":
        assert got[name][0] is UNKNOWN, name


def test_random_access_source_sizes():
    got = _sizes(GEN_PRELUDE + """
class Pairs:
    def __init__(self, a, b):
        self.a, self.b = a, b
    def __getitem__(self, i):
        return self.a[i], self.b[i]
    def __len__(self):
        return len(self.a)
class Fixed:
    def __init__(self, n=64):
        self.n = n
    def __getitem__(self, i):
        return x[i], y[i]
    def __len__(self):
        return self.n
class Resized(Fixed):
    pass
class Changing:
    def __init__(self, n):
        self.n = n
    def __getitem__(self, i):
        self.n += 1
        return x[i], y[i]
    def __len__(self):
        return self.n
class Iterable:
    def __iter__(self):
        return iter(zip(x, y))
a = ds.GeneratorDataset(Pairs(x, y), ["x", "y"])
b = ds.GeneratorDataset(Fixed(), ["x", "y"])
c = ds.GeneratorDataset(Fixed(n=32), ["x", "y"])
src = Pairs(x[:40], y[:40])
d = ds.GeneratorDataset(src, ["x", "y"])
e = ds.GeneratorDataset(list(zip(x, y)), ["x", "y"])
f = ds.GeneratorDataset(Changing(8), ["x", "y"])
g = ds.GeneratorDataset(Iterable(), ["x", "y"])
h = ds.GeneratorDataset(Resized(), ["x", "y"])
""")
    assert got["a"] == (96, "rng.uniform(size=(96, 4))")
    assert got["b"] == (64, "64")
    assert got["c"] == (32, "32")
    assert got["d"] == (40, "x[:40]")
    assert got["e"][0] == 96
    for name in "fgh":
        assert got[name][0] is UNKNOWN, name

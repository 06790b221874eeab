"""MS215: float64 NumPy data fed to a float32 network."""

import libcst as cst

from msfix.context import UNKNOWN
from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule
from msfix.rules.data._pipeline import Once, dtype_expr, dtype_origin

TENSORS = ("mindspore.Tensor", "mindspore.tensor", "mindspore.Tensor.from_numpy", "mindspore.from_numpy")
LOOPS = ("mindspore.value_and_grad", "mindspore.grad", "mindspore.ops.value_and_grad", "mindspore.ops.grad",
         "mindspore.ops.GradOperation")


def _casts_inputs(ctx, qualname) -> bool:
    """Does a local Cell's construct cast its inputs (so float64 is harmless)?"""
    m = ctx.model
    name = qualname[len("<local>."):]
    cell = m.cells.get(name)
    if cell is None:
        return False
    body = cell.methods.get("construct")
    if body is None:
        return True  # inherited: unknown
    text = m.module.code_for_node(body)
    return any(w in text for w in ("cast", "Cast", "astype", "float32", "to_float", ".float()"))


def _why(ctx, arr, scope, order, site, default: str):
    """(how the array got float64, ". The value comes from ..." or "")."""
    d = dtype_expr(arr.node)
    if d is None:
        return default, ""
    return f"the dtype `{ctx.source(d)}` asks for", dtype_origin(ctx, d, scope, order, site)


def _network_call(ctx, site) -> bool:
    """Is `site` a call of a network: a Cell instance, Model.predict or mindspore.export?"""
    m = ctx.model
    q = site.qualname
    if q in ("mindspore.train.Model.predict", "mindspore.train.Model.predict_network"):
        return True
    inst = m.instance_call(site.node.func, site.scope, site.order)
    if inst is None or not inst.qualname:
        return False
    iq = inst.qualname
    if iq.startswith("<local>.") and iq[8:] in m.cells:
        return not _casts_inputs(ctx, iq)
    return iq.startswith("mindspore.nn.") and iq.rsplit(".", 1)[-1] in (
        "Dense", "Conv2d", "Conv1d", "Conv3d", "SequentialCell", "LSTM", "GRU", "RNN", "Linear")


class Float64NumpyData(Rule):
    code = "MS215"
    name = "float64-numpy-data"
    severity = Severity.ERROR
    summary = "float64 NumPy data (np.random.rand, float arrays) is fed to a float32 network."
    fix_applicability = Applicability.SAFE
    versions = "MindSpore 2.x (verified on 2.10, GRAPH and PyNative)"
    doc = """
    ## What it does
    Flags NumPy float64 arrays (`np.random.rand`/`randn`/`uniform`/`normal`,
    `np.zeros`/`np.ones` without `dtype`, `np.array` of Python floats) that reach a
    network without a cast to float32:
    - as a column of a `NumpySlicesDataset`, or of a `GeneratorDataset` whose generator
      (a function or a class with `__getitem__`/`__next__` defined in the script, or a
      `list(...)` of a generator function's rows) yields such arrays (also an attribute
      the class's `__init__` builds, `np.stack` of a comprehension, `np.array` of NumPy
      scalars, or what a helper returns as `x, y = make_data()`), passed to `Model.train`/`eval`/`fit` (or iterated in a
      `value_and_grad` training loop) with no `TypeCast` on it;
    - wrapped in `Tensor(...)` without `dtype` and passed to a Cell defined in the
      script (whose `construct` does not cast), a MindSpore layer, or `Model.predict`.

    ## Why is this bad?
    NumPy's default float type is float64 and `Tensor(array)` keeps it, while the
    parameters are float32. On MindSpore 2.10 the first layer raises in both modes:
    `TypeError: For 'MatMul', the type of 'x2' should be same as 'x1', but got 'x1' with
    type Tensor[Float64] and 'x2' with type Tensor[Float32]` (Dense) or `For
    primitive[Conv2D], the input type must be same` (Conv2d). Older notes that PyNative
    accepts float64 in Dense no longer hold on 2.10 (checked with a Dense and a Conv2d
    network, through `Model.train` and a direct call), so the rule reports an error in
    both modes.

    ## Example
    ```python
    x = np.random.rand(100, 3, 32, 32)
    out = net(ms.Tensor(x))
    ```

    Use instead:
    ```python
    x = np.random.rand(100, 3, 32, 32).astype(np.float32)
    out = net(ms.Tensor(x))
    ```

    ## Fix safety
    Safe: the fix appends `.astype(np.float32)` to the expression that makes the array
    (or to the row a source class returns, `self.x[idx].astype(np.float32)`);
    float32 is the only dtype the float32 network accepts. No fix when the script asks
    for float64 explicitly (`astype(np.float64)`, `dtype=np.float64`), also through an
    argparse option, a config entry, a constant or a helper's parameter: the message says
    which dtype asks for it and where it comes from, and the dtype is changed there.
    """
    invalid = [
        Example(
            "import numpy as np\nimport mindspore as ms\nimport mindspore.nn as nn\n"
            "net = nn.Dense(3, 2)\n"
            "y = net(ms.Tensor(np.random.rand(4, 3)))\n",
            expect=(5,),
            fixed="import numpy as np\nimport mindspore as ms\nimport mindspore.nn as nn\n"
                  "net = nn.Dense(3, 2)\n"
                  "y = net(ms.Tensor(np.random.rand(4, 3).astype(np.float32)))\n",
        ),
    ]
    valid = [
        Example("import numpy as np\nimport mindspore as ms\nimport mindspore.nn as nn\n"
                "net = nn.Dense(3, 2)\n"
                "y = net(ms.Tensor(np.random.rand(4, 3), ms.float32))\n"),
        Example("import numpy as np\nimport mindspore as ms\n"
                "t = ms.Tensor(np.random.rand(4, 3))\nprint(t.sum())\n"),
    ]

    def _fix(self, ctx, arr):
        if arr is None or not isinstance(arr.node, (cst.Call, cst.Subscript, cst.Attribute)):
            return None  # a call making the array, or a row read `self.x[idx]` of a source class
        if isinstance(arr.node, cst.Call):
            f = arr.node.func
            if isinstance(f, cst.Attribute) and f.attr.value == "astype":
                return None
            if any(a.keyword is not None and a.keyword.value == "dtype" for a in arr.node.args):
                return None
        np_name, imp = ctx.ensure_module("numpy", "np")
        top = arr.top if arr.top is not None else ctx.model.top_of(arr.node, -1)
        if top < 0:
            return None
        edits = [ctx.insert_after(arr.node, f".astype({np_name}.float32)", top)]
        ie = ctx.imports_edit([imp])
        if ie is not None:
            edits.append(ie)
        return Fix.safe("Cast the array to float32 with `.astype(np.float32)`", *edits)

    def check(self, ctx):
        self._datasets(ctx)
        self._tensors(ctx)

    def _datasets(self, ctx):
        m = ctx.model
        once = Once()
        views = [(u.view, u.site) for u in ctx.data.uses()]
        if m.calls_to(*LOOPS):
            for site in m.calls:
                if site.method in ("create_tuple_iterator", "create_dict_iterator"):
                    v = ctx.data.view(site.node.func.value, site.scope, site.order)
                    if v is not None:
                        views.append((v, site))
        for view, use in views:
            src = view.source
            if src.source_class not in ("mindspore.dataset.NumpySlicesDataset",
                                        "mindspore.dataset.GeneratorDataset"):
                continue
            cols = ctx.data.source_columns(src, view.env)
            if cols is UNKNOWN:
                continue
            for col, spec in cols.items():  # type: ignore[union-attr]
                arr = spec.get("array")
                if arr is None or arr.dtype != "float64":
                    continue
                if ctx.data.column_dtype(view.pipe, col, view.env) != "float64":
                    continue
                node = arr.node if arr.node is not None else src.call.node
                if not once(node):
                    continue
                top = arr.top if arr.top is not None else m.top_of(node, src.call.top)
                use_line = ctx.span(use.node, use.top).line
                short = src.source_class.rsplit(".", 1)[-1]
                how, comes = _why(ctx, arr, src.call.scope, src.call.order, (view.env or {}).get(src.call.scope),
                                  "NumPy's default")
                ctx.report(
                    node,
                    f"column \"{col}\" of `{short}` (line {ctx.span(src.call.node, src.call.top).line}) "
                    f"is float64 ({how}) and reaches the network (line {use_line}) uncast: float32 "
                    f"layers raise TypeError (\"Tensor[Float64] and ... Tensor[Float32]\"); use "
                    f"`.astype(np.float32)`" + comes,
                    fix=self._fix(ctx, arr),
                    top=top,
                )

    def _tensors(self, ctx):
        m = ctx.model
        once = Once()
        for t in m.calls_to(*TENSORS):
            if t.has_star_args or t.keyword("dtype") is not None or t.positional(1) is not None \
                    or not t.node.args:
                continue
            arr = ctx.data.array_info(t.node.args[0].value, t.scope, t.order)
            if arr is None or arr.dtype != "float64":
                continue
            # where does the Tensor go?
            users = []
            for site in m.calls:
                for a in site.node.args:
                    v = a.value
                    if v is t.node or (isinstance(v, cst.Name) and t.target == v.value
                                       and m.instance_call(v, site.scope, site.order) is t):
                        users.append(site)
            net_use = next((u for u in users if _network_call(ctx, u)), None)
            if net_use is None or not once(t.node):
                continue
            how, comes = _why(ctx, arr, t.scope, t.order, None, "NumPy's default float")
            ctx.report(
                t.node,
                f"`Tensor(...)` of a float64 NumPy array ({how}) is passed to the network at "
                f"line {ctx.span(net_use.node, net_use.top).line}: float32 layers raise TypeError "
                f"(\"Tensor[Float64] and ... Tensor[Float32]\"); cast with `.astype(np.float32)` or pass "
                f"`dtype=ms.float32`" + comes,
                fix=self._fix(ctx, arr),
                top=t.top,
            )

"""MS803: a NumPy reduction called on a MindSpore Tensor inside `construct`."""

from typing import Set

import libcst as cst

from msfix.context import NUMPY_REDUCTIONS
from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule
from msfix.fixes.edits import expr_text, replace_expr

_ATOMS = (cst.Name, cst.Attribute, cst.Call, cst.Subscript)


class GraphNumpyOnTensor(Rule):
    code = "MS803"
    name = "graph-numpy-on-tensor"
    severity = Severity.ERROR
    summary = "`np.mean(x)`/`np.sum(x)`/`np.max(x)`... on a Tensor inside `construct` raises TypeError."
    fix_applicability = Applicability.SAFE
    versions = "MindSpore 2.x (checked on 2.10, GRAPH_MODE and PyNative)"
    doc = """
    ## What it does
    Flags NumPy reductions (`np.mean`, `np.sum`, `np.max`, `np.min`, `np.amax`,
    `np.amin`, `np.std`, `np.var`, `np.prod`, `np.any`, `np.all`, `np.ptp`) applied
    to a Tensor in the `construct` of a Cell (or in a `@jit` function): an input of
    `construct`, the output of a layer or a `mindspore.ops` call, a Tensor method that
    returns a Tensor (`x.reshape(...)`), arithmetic or a slice of these, or a local name
    every binding of which is one of these (`x = self.conv(x)` in a `try`, then
    `x = x / s`). A name also bound to a NumPy array or a number is left alone.

    ## Why is this bad?
    These NumPy functions hand the work to the argument's own method with NumPy's
    keywords (`x.mean(axis=None, out=None)`), which a MindSpore Tensor does not accept:
    `TypeError: mean() got an unexpected keyword argument 'out'` /
    `Failed calling sum with "sum(axis=None, out=None)"`. Verified on MindSpore 2.10 in
    GRAPH_MODE and in PyNative mode. In compiled code the graph fallback may instead
    return a Float64 Tensor (in a `TrainOneStepCell` under GRAPH_MODE, 2.10: the loss
    then raises `TypeError: ... 'logits' should be one of [float16, float32], but got
    Float64`). (Element-wise NumPy functions such as `np.exp`
    run through the graph fallback and return NumPy arrays; they are not flagged here.)

    ## Example
    ```python
    def construct(self, x):
        return np.mean(self.fc(x))
    ```

    Use instead:
    ```python
    def construct(self, x):
        return self.fc(x).mean()
    ```

    ## Fix safety
    Safe where the Tensor method computes the same thing: `np.mean/sum/std/var/any/
    all(x[, axis])` become `x.mean/sum/std/var/any/all([axis=axis])`, and
    `np.max/min/amax/amin/prod(x)` without an axis become `x.max()`/`x.min()`/
    `x.prod()`. With an axis, `Tensor.max/min` return (values, indices), so no fix is
    offered; nor for `np.ptp` or extra NumPy arguments.
    """
    invalid = [
        Example(
            "import numpy as np\nfrom mindspore import nn\n"
            "class Net(nn.Cell):\n"
            "    def construct(self, x):\n"
            "        return np.mean(x)\n",
            expect=(5,),
            fixed="import numpy as np\nfrom mindspore import nn\n"
                  "class Net(nn.Cell):\n"
                  "    def construct(self, x):\n"
                  "        return x.mean()\n",
        ),
        Example(
            "import numpy as np\nfrom mindspore import nn\n"
            "class Net(nn.Cell):\n"
            "    def construct(self, x):\n"
            "        y = self.fc(x)\n"
            "        return np.sum(y, axis=1), np.max(y, 1)\n",
            expect=(6, 6),
            fixed="import numpy as np\nfrom mindspore import nn\n"
                  "class Net(nn.Cell):\n"
                  "    def construct(self, x):\n"
                  "        y = self.fc(x)\n"
                  "        return y.sum(axis=1), np.max(y, 1)\n",
        ),
    ]
    valid = [
        Example(
            "import numpy as np\nfrom mindspore import nn\n"
            "class Net(nn.Cell):\n"
            "    def construct(self, x, scale=2.0):\n"
            "        return x * np.sqrt(scale) * np.mean([1.0, 2.0])\n",
        ),
        Example(
            "import numpy as np\nfrom mindspore import nn\n"
            "class Net(nn.Cell):\n"
            "    def __init__(self, w):\n"
            "        super().__init__()\n"
            "        self.m = np.mean(w)\n",
        ),
        Example(
            "import numpy as np\n"
            "def stats(x):\n"
            "    return np.mean(x)\n",
        ),
    ]

    def check(self, ctx):
        m = ctx.model
        net = ctx.network.info
        targets = []
        seen: Set[int] = set()
        for cell in m.cells.values():
            fn = cell.methods.get("construct")
            if fn is not None:
                targets.append((fn, cell.top, True))
                seen.add(id(fn))
        for cf in net.compiled():
            if id(cf.node) not in seen:
                seen.add(id(cf.node))
                targets.append((cf.node, cf.top, cf.node.name.value == "construct" or cf.via is None))
        compiled = {id(cf.node) for cf in net.compiled()}
        for fn, top, params_are_tensors in targets:
            tensors = ctx.network.tensor_names(fn, params_are_tensors)
            for site in net.calls_in(fn):
                q = site.qualname or ""
                if not q.startswith("numpy.") or q.count(".") != 1:
                    continue
                np_fn = q.split(".", 1)[1]
                if np_fn not in NUMPY_REDUCTIONS or site.has_star_args:
                    continue
                arg = site.positional(0)
                if arg is None or not ctx.network.is_tensor_expr(arg.value, tensors):
                    continue
                self._report(ctx, site, np_fn, arg, top, id(fn) in compiled)

    def _report(self, ctx, site, np_fn, arg, top, compiled=False):
        method, axis_ok = NUMPY_REDUCTIONS[np_fn]
        callee = ctx.source(site.node.func)
        fix = None
        extra = [a for a in site.node.args if a is not arg]
        axis = site.arg("axis", 1)
        if method and all(a is axis for a in extra) and (axis is None or axis_ok):
            recv = expr_text(ctx, arg.value, top)
            if not isinstance(arg.value, _ATOMS):
                recv = f"({recv})"
            inner = "" if axis is None else f"axis={expr_text(ctx, axis.value, top)}"
            new = f"{recv}.{method}({inner})"
            fix = Fix.safe(f"Use the Tensor method: `{new}`", replace_expr(ctx, site.node, new, top))
        call = expr_text(ctx, site.node, top)
        if len(call) > 60:
            call = f"{callee}(...)"
        own = np_fn[1:] if np_fn in ("amax", "amin") else np_fn
        advice = f"use `{new}`" if fix is not None else (
            "use the Tensor method or `mindspore.ops` (note `Tensor.max/min(axis)` return values and indices)")
        ctx.report(
            site.node,
            f"`{call}` on a MindSpore Tensor raises TypeError: NumPy calls the Tensor's own `{own}` with "
            f"`out=`, which it does not take"
            + ("; compiled, the graph fallback may instead give a Float64 result that the next op rejects "
               "(TypeError)" if compiled else "") + f"; {advice}",
            fix=fix, top=top,
        )

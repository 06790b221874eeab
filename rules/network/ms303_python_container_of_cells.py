"""MS303: a Python list/dict/tuple of Cells or Parameters stored on a Cell."""

from typing import List, Optional

import libcst as cst

from msfix.context import PARAMETERIZED_NN
from msfix.diagnostics import Applicability, Edit, Fix, Severity
from msfix.rule import Example, Rule

PARAMETER = "mindspore.Parameter"


class PythonContainerOfCells(Rule):
    code = "MS303"
    name = "python-container-of-cells"
    severity = Severity.ERROR
    summary = "A Python list, dict or tuple of Cells or Parameters is assigned to `self` in a Cell."
    fix_applicability = Applicability.SAFE
    versions = "MindSpore 1.x and 2.x (`nn.CellDict` from 2.5)"
    doc = """
    ## What it does
    Flags `self.x = [...]`, `(...)`, `{...}` or `[... for ...]` in a Cell's `__init__`
    when the elements are layers with parameters (`nn.Dense`, `nn.Conv2d`, Cells of
    the script that build such layers) or `Parameter`s.

    ## Why is this bad?
    MindSpore registers sub-Cells and Parameters only when they are assigned to the
    Cell directly or through `nn.CellList`, `nn.CellDict`, `nn.SequentialCell` or
    `ParameterTuple`. Inside a Python container they are invisible: in PyNative mode the
    script trains with none of their weights in `trainable_params()` (the optimizer
    never updates them, checkpoints do not save them), silently; in GRAPH_MODE the
    compiler raises `RuntimeError: ... its name 'weight' already exists`. Verified on
    MindSpore 2.10: `self.layers = [nn.Dense(2, 2), nn.Dense(2, 2)]` gives 0 trainable
    parameters, `nn.CellList([...])` gives 4.

    ## Example
    ```python
    class MLP(nn.Cell):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Dense(784, 256), nn.Dense(256, 10)]
    ```

    Use instead:
    ```python
    class MLP(nn.Cell):
        def __init__(self):
            super().__init__()
            self.layers = nn.CellList([nn.Dense(784, 256), nn.Dense(256, 10)])
    ```

    ## Fix safety
    Safe: wraps a list or tuple of Cells in `nn.CellList([...])`, a dict with string
    keys in `nn.CellDict({...})` (MindSpore 2.5 and later) and Parameters in
    `ParameterTuple(...)`. These containers index, iterate and (for CellDict) look up
    keys like the Python ones, and register their contents, which is the only reading
    under which the layers train. No fix is offered for a dict on a target version
    before 2.5.
    """
    invalid = [
        Example(
            "from mindspore import nn\n"
            "class MLP(nn.Cell):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.layers = [nn.Dense(4, 4), nn.ReLU(), nn.Dense(4, 2)]\n"
            "    def construct(self, x):\n"
            "        for layer in self.layers:\n"
            "            x = layer(x)\n"
            "        return x\n",
            expect=(5,),
            fixed="from mindspore import nn\n"
                  "class MLP(nn.Cell):\n"
                  "    def __init__(self):\n"
                  "        super().__init__()\n"
                  "        self.layers = nn.CellList([nn.Dense(4, 4), nn.ReLU(), nn.Dense(4, 2)])\n"
                  "    def construct(self, x):\n"
                  "        for layer in self.layers:\n"
                  "            x = layer(x)\n"
                  "        return x\n",
        ),
    ]
    valid = [
        Example("from mindspore import nn\n"
                "class Net(nn.Cell):\n"
                "    def __init__(self):\n        super().__init__()\n"
                "        self.acts = [nn.ReLU(), nn.Sigmoid()]\n"),
        Example("from mindspore import nn\n"
                "class Net(nn.Cell):\n"
                "    def __init__(self):\n        super().__init__()\n"
                "        self.layers = [nn.Dense(2, 2)]\n"
                "        self.seq = nn.SequentialCell(self.layers)\n"),
        Example("from mindspore import nn\n"
                "class Net(nn.Cell):\n"
                "    def __init__(self):\n        super().__init__()\n"
                "        self.sizes = [2, 4]\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        net = ctx.network.info
        for cell in m.cells.values():
            init = cell.methods.get("__init__")
            if init is None or not cell.self_assigns:
                continue
            sites = net.calls_in(init)
            scope = sites[0].scope if sites else None
            if scope is None:
                continue
            passed = set()
            for site in sites:
                for a in site.node.args:
                    v = a.value
                    if isinstance(v, cst.Attribute) and isinstance(v.value, cst.Name) and v.value.value == "self":
                        passed.add(v.attr.value)
            for attr, value, assign in cell.self_assigns:
                if attr in passed or len(assign.targets) != 1:
                    continue
                self._check_one(ctx, net, cell, attr, value, scope)

    def _kind(self, ctx, net, expr, scope) -> Optional[str]:
        """"cell+" (a Cell with parameters), "cell" (parameter-free), "param", or None."""
        m = ctx.model
        site = m.call_of(expr) if isinstance(expr, cst.Call) else None
        if site is None and isinstance(expr, cst.Name):
            site = m.instance_call(expr, scope, None)
            if site is not None and site.scope is not scope:
                site = None
        if site is None or not site.qualname:
            return None
        q = site.qualname
        if q == PARAMETER:
            return "param"
        if q.startswith("<local>.") and q[8:] in m.cells:
            return "cell+" if net.cell_has_params(q[8:]) else "cell"
        if q.startswith("mindspore.nn.") and q.count(".") == 2 and q[13:14].isupper():
            return "cell+" if q[13:] in PARAMETERIZED_NN else "cell"
        return None

    def _check_one(self, ctx, net, cell, attr, value, scope):
        if isinstance(value, (cst.List, cst.Tuple)):
            if not value.elements or any(isinstance(e, cst.StarredElement) for e in value.elements):
                return
            kinds = [self._kind(ctx, net, e.value, scope) for e in value.elements]
            container = "list" if isinstance(value, cst.List) else "tuple"
        elif isinstance(value, cst.ListComp):
            kinds = [self._kind(ctx, net, value.elt, scope)]
            container = "list"
        elif isinstance(value, cst.Dict):
            if not value.elements or any(not isinstance(e, cst.DictElement) for e in value.elements):
                return
            kinds = [self._kind(ctx, net, e.value, scope) for e in value.elements]
            container = "dict"
        else:
            return
        if any(k is None for k in kinds):
            return
        if all(k == "param" for k in kinds):
            what = "Parameters"
        elif all(k in ("cell", "cell+") for k in kinds) and "cell+" in kinds:
            what = "Cells"
        else:
            return
        fix, wrapper = self._fix(ctx, cell, value, container, what)
        ctx.report(
            value,
            f"`self.{attr}` is a Python {container} of {what}: MindSpore does not register them, so their "
            f"weights are missing from `trainable_params()` and never trained in PyNative mode (GRAPH_MODE "
            f"fails with a duplicate parameter name); use `{wrapper}`",
            fix=fix, top=cell.top,
        )

    def _fix(self, ctx, cell, value, container, what):
        m = ctx.model

        def src(node):
            a, b = ctx.offsets(node, cell.top)
            return m.text[a:b]

        imports: List[Optional[str]] = []
        if what == "Parameters":
            name = None
            for n, bs in m.module_scope.bindings.items():
                if bs and all(b.kind == "import" and b.qualname in ("mindspore.ParameterTuple",
                                                                   "mindspore.common.parameter.ParameterTuple")
                              for b in bs):
                    name = n
                    break
            if name is None:
                ms = ctx.module_alias("mindspore")
                if ms is not None:
                    name = f"{ms}.ParameterTuple"
                elif "ParameterTuple" not in m.module_scope.bindings:
                    name = "ParameterTuple"
                    imports.append("from mindspore import ParameterTuple")
                else:
                    return None, "ParameterTuple(...)"
            inner = src(value)
            if container == "tuple":
                inner = f"({inner})"
            text = f"{name}({inner})"
            wrapper = "ParameterTuple(...)"
        else:
            nn, stmt = ctx.ensure_module("mindspore.nn", "nn")
            imports.append(stmt)
            if container == "dict":
                wrapper = "nn.CellDict({...})"
                if not all(isinstance(e.key, cst.SimpleString) for e in value.elements):
                    return None, wrapper
                if not ctx.api.exists("mindspore.nn.CellDict"):
                    return None, wrapper
                text = f"{nn}.CellDict({src(value)})"
            elif container == "tuple":
                wrapper = "nn.CellList([...])"
                text = f"{nn}.CellList([{', '.join(src(e.value) for e in value.elements)}])"
            else:
                wrapper = "nn.CellList([...])"
                text = f"{nn}.CellList({src(value)})"
        start, end = ctx.offsets(value, cell.top)
        for _ in value.lpar:
            if m.text[start - 1:start] == "(" and m.text[end:end + 1] == ")":
                start, end = start - 1, end + 1
        edits = [Edit(start, end, text)]
        imp = ctx.imports_edit(imports)
        if imp is not None:
            edits.append(imp)
        return Fix.safe(f"Wrap in `{wrapper}`", *edits), wrapper

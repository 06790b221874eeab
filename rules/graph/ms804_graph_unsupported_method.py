"""MS804: a Parameter method the graph compiler rejects, called in compiled code."""

from typing import Dict, Optional, Set

import libcst as cst

from msfix.context import CompiledFunction
from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule
from msfix.fixes.edits import expr_text, replace_expr
from msfix.rules.graph._graph import compiled_label

# Parameter methods MindSpore 2.10 refuses to compile in `construct` / `@jit`
# ("Failed to compile in GRAPH_MODE because the 'Parameter' object's method 'set_data'
# is not supported in 'construct' or function with @jit decorator"), each run on the
# 2.10 CPU wheel. Tensor.asnumpy, Tensor.item, Tensor.tolist and Parameter.value /
# copy / copy_ do compile there (JIT Fallback) and are not flagged; Parameter.clone
# compiles but has no CPU kernel in 2.10 (a device limit, not a graph one).
METHODS = {
    "set_data": "use `ops.assign(param, value)` (same shape and dtype) to update it in the graph",
    "init_data": "initialise the Parameter outside, e.g. in `__init__`",
    "set_dtype": "set the dtype outside, e.g. in `__init__`, or use `ops.cast` on its value",
    "asnumpy": "return the Tensor and convert it outside the compiled code",
}

# Parameters every instance of these mindspore.nn layers has (checked on 2.10: the
# attribute is a Parameter with the layer's default arguments)
LAYER_PARAMS: Dict[str, Set[str]] = {
    "Dense": {"weight", "bias"},
    "Conv1d": {"weight"}, "Conv2d": {"weight"}, "Conv3d": {"weight"},
    "Conv1dTranspose": {"weight"}, "Conv2dTranspose": {"weight"}, "Conv3dTranspose": {"weight"},
    "BatchNorm1d": {"gamma", "beta", "moving_mean", "moving_variance"},
    "BatchNorm2d": {"gamma", "beta", "moving_mean", "moving_variance"},
    "BatchNorm3d": {"gamma", "beta", "moving_mean", "moving_variance"},
    "LayerNorm": {"gamma", "beta"}, "GroupNorm": {"gamma", "beta"},
    "Embedding": {"embedding_table"}, "PReLU": {"w"},
}


class GraphUnsupportedMethod(Rule):
    code = "MS804"
    name = "graph-unsupported-method"
    severity = Severity.ERROR
    summary = "`param.set_data(...)`, `param.asnumpy()` and other Parameter methods the graph compiler rejects in `construct`/`@jit`."
    fix_applicability = Applicability.UNSAFE
    versions = ("checked on MindSpore 2.10 (GRAPH_MODE and @jit); before 2.0, construct is compiled by default "
                "(GRAPH_MODE was the default mode); the 1.x wheels are not installable here, so the 1.x compile "
                "errors are not run; `ops.assign` exists in every indexed release")
    doc = """
    ## What it does
    Flags calls of the Parameter methods `set_data`, `init_data`, `set_dtype` and
    `asnumpy` in code MindSpore compiles (the `construct` of the script's
    Cells when it sets GRAPH_MODE, or with a target before 2.0 unless it sets another
    mode: GRAPH_MODE was the default until 2.0 made PyNative the default; `@jit`
    functions and methods; and what these call)
    when the receiver is a Parameter: an attribute the Cell binds to
    `Parameter(...)`, a module-level `Parameter(...)`, or a Parameter of a
    `mindspore.nn` layer (`self.fc.weight`, `self.bn.gamma`), also through `.data`.

    ## Why is this bad?
    The first call fails to compile (MindSpore 2.10): `RuntimeError: Failed to
    compile in GRAPH_MODE because the 'Parameter' object's method 'set_data' is not
    supported in 'construct' or function with @jit decorator`. The same code runs in
    PyNative mode, so it breaks only when the script switches to GRAPH_MODE. (Tensor
    methods such as `x.asnumpy()`, `x.item()` and `x.tolist()` on a Tensor that is
    not a Parameter, and `param.value()`, do compile in 2.10 and are not flagged.)

    ## Example
    ```python
    ms.set_context(mode=ms.GRAPH_MODE)

    class Net(nn.Cell):
        def construct(self, x):
            self.fc.weight.set_data(ops.clip_by_value(self.fc.weight, -1, 1))
            return self.fc(x)
    ```

    Use instead:
    ```python
    class Net(nn.Cell):
        def construct(self, x):
            ops.assign(self.fc.weight, ops.clip_by_value(self.fc.weight, -1, 1))
            return self.fc(x)
    ```

    ## Fix safety
    Unsafe: `param.set_data(value)` as a statement becomes `ops.assign(param, value)`
    (importing `mindspore.ops` when needed), which updates the Parameter inside the
    graph but, unlike `set_data`, needs a value of the Parameter's shape and dtype.
    No fix for the other methods (the value is needed outside the graph) nor for a
    `set_data` whose result is used or that passes `slice_shape`.
    """
    invalid = [
        Example(
            "import mindspore as ms\nfrom mindspore import nn, ops, Parameter, Tensor\n"
            "ms.set_context(mode=ms.GRAPH_MODE)\n"
            "class Net(nn.Cell):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.w = Parameter(Tensor([0.0]), name='w')\n"
            "    def construct(self, x):\n"
            "        self.w.set_data(x)\n"
            "        return self.w * 2\n",
            expect=(9,),
            fixed="import mindspore as ms\nfrom mindspore import nn, ops, Parameter, Tensor\n"
                  "ms.set_context(mode=ms.GRAPH_MODE)\n"
                  "class Net(nn.Cell):\n"
                  "    def __init__(self):\n"
                  "        super().__init__()\n"
                  "        self.w = Parameter(Tensor([0.0]), name='w')\n"
                  "    def construct(self, x):\n"
                  "        ops.assign(self.w, x)\n"
                  "        return self.w * 2\n",
        ),
        Example(
            "import mindspore as ms\nfrom mindspore import nn\n"
            "class Net(nn.Cell):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.fc = nn.Dense(2, 2)\n"
            "    @ms.jit\n"
            "    def construct(self, x):\n"
            "        print(self.fc.weight.asnumpy())\n"
            "        return self.fc(x)\n",
            expect=(9,),
        ),
    ]
    valid = [
        Example(
            "import mindspore as ms\nfrom mindspore import nn\n"
            "ms.set_context(mode=ms.GRAPH_MODE)\n"
            "class Net(nn.Cell):\n"
            "    def construct(self, x):\n"
            "        print(x.asnumpy())\n"
            "        return x\n",
        ),
        Example(
            "from mindspore import nn, Parameter, Tensor\n"
            "class Net(nn.Cell):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.w = Parameter(Tensor([0.0]), name='w')\n"
            "    def construct(self, x):\n"
            "        self.w.set_data(x)\n"
            "        return self.w\n",
        ),
    ]

    def check(self, ctx):
        m = ctx.model
        net = ctx.network.info
        module_params = {name for name, bs in m.module_scope.bindings.items()
                         if bs and all(b.kind == "assign" and self._is_parameter_call(m, b.value) for b in bs)}
        for cf in net.compiled() + self._default_graph_mode(ctx, net):
            cell_params, layers = self._cell_attrs(ctx, net, cf.cell) if cf.cell is not None else (set(), {})
            for site in net.calls_in(cf.node):
                func = site.node.func
                if not isinstance(func, cst.Attribute) or func.attr.value not in METHODS:
                    continue
                recv = func.value
                if isinstance(recv, cst.Attribute) and recv.attr.value == "data":
                    recv = recv.value
                if not self._is_parameter(m, site, recv, cell_params, layers, module_params):
                    continue
                method = func.attr.value
                fix = None
                if method == "set_data" and ctx.api.exists("mindspore.ops.assign") is True:
                    fix = self._assign_fix(ctx, site, func.value, cf.top)
                ctx.report(
                    site.node,
                    f"`{ctx.source(func)}()` in {compiled_label(ctx, net, cf)}: the graph compiler does not "
                    f"support the Parameter method `{method}` (RuntimeError: Failed to compile in GRAPH_MODE); "
                    f"{METHODS[method]}",
                    fix=fix, top=cf.top,
                )

    @staticmethod
    def _default_graph_mode(ctx, net):
        """Before 2.0 GRAPH_MODE was the default mode (MindSpore 1.x programming guide:
        "By default, MindSpore is in Graph mode"; 2.0 made PYNATIVE_MODE the default):
        with a 1.x target, the `construct` of every Cell (and the Cell methods it calls)
        is compiled unless the script sets another mode."""
        m = ctx.model
        if ctx.api.at_least("2.0") or net.graph_mode_site() is not None:
            return []
        for site in m.calls_to("mindspore.set_context"):
            if site.keyword("mode") is not None or site.has_star_args:
                return []  # the script chooses a mode (PyNative, or one msfix cannot read)
        done = {id(cf.node) for cf in net.compiled()}
        why = f"GRAPH_MODE is the default mode before 2.0 (the target is {ctx.api.short_version})"
        out, todo = [], []
        for cell in m.cells.values():
            fn = cell.methods.get("construct")
            if fn is not None:
                todo.append(CompiledFunction(fn, cell.top, cell, why))
        while todo:
            cf = todo.pop(0)
            if id(cf.node) in done:
                continue
            done.add(id(cf.node))
            out.append(cf)
            for site in net.calls_in(cf.node):
                func = site.node.func
                if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self":
                    got = net.method(cf.cell, func.attr.value)
                    if got is not None and not got[1].decorators:
                        label = cf.via or cf.node.name.value
                        todo.append(CompiledFunction(got[1], got[0].top, cf.cell, why, f"{label} -> {got[1].name.value}"))
        return out

    # ------------------------------------------------------------------ receivers
    @staticmethod
    def _is_parameter_call(m, value) -> bool:
        if not isinstance(value, cst.Call):
            return False
        site = m.call_of(value)
        return site is not None and site.qualname == "mindspore.Parameter"

    def _cell_attrs(self, ctx, net, cell):
        """Attributes every assignment binds to `Parameter(...)`, and attributes bound to a
        `mindspore.nn` layer -> its class name, over the Cell and its local bases."""
        m = ctx.model
        assigns: Dict[str, list] = {}
        for c in net.cell_chain(cell) or [cell]:
            for name, value, _node in c.self_assigns:
                assigns.setdefault(name, []).append(value)
        params = {n for n, vs in assigns.items() if all(self._is_parameter_call(m, v) for v in vs)}
        layers = {}
        for n, vs in assigns.items():
            kinds = set()
            for v in vs:
                site = m.call_of(v) if isinstance(v, cst.Call) else None
                kinds.add(ctx.network.nn_class(site.qualname) if site is not None else None)
            if len(kinds) == 1 and next(iter(kinds)) in LAYER_PARAMS:
                layers[n] = next(iter(kinds))
        return params, layers

    @staticmethod
    def _self_attr(expr) -> Optional[str]:
        if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and expr.value.value == "self":
            return expr.attr.value
        return None

    def _is_parameter(self, m, site, recv, cell_params, layers, module_params) -> bool:
        attr = self._self_attr(recv)
        if attr is not None:
            return attr in cell_params
        if isinstance(recv, cst.Attribute):
            layer = self._self_attr(recv.value)
            return layer is not None and recv.attr.value in LAYER_PARAMS.get(layers.get(layer, ""), ())
        if isinstance(recv, cst.Name) and recv.value in module_params:
            b = m.lookup(recv.value, site.scope, site.order)
            return b is not None and b.scope is m.module_scope
        return False

    # ------------------------------------------------------------------ fix
    def _assign_fix(self, ctx, site, param, top):
        call = site.node
        if not self._is_expression_statement(ctx, call):
            return None
        if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
            return None
        ops_name, imp = ctx.ensure_module("mindspore.ops", "ops", before=site.order)
        new = f"{ops_name}.assign({expr_text(ctx, param, top)}, {expr_text(ctx, call.args[0].value, top)})"
        edits = [replace_expr(ctx, call, new, top)]
        if imp is not None:
            e = ctx.imports_edit([imp])
            if e is None:
                return None
            edits.append(e)
        return Fix.unsafe(f"Use `{new}` (the value must have the Parameter's shape and dtype)", *edits)

    @staticmethod
    def _is_expression_statement(ctx, call) -> bool:
        finder = _ExprStatement(call)
        ctx.model.module.visit(finder)
        return finder.found


class _ExprStatement(cst.CSTVisitor):
    """Whether `call` is a whole expression statement (its result unused)."""

    def __init__(self, call: cst.Call) -> None:
        self.call = call
        self.found = False

    def visit_Expr(self, node: cst.Expr) -> None:
        if node.value is self.call:
            self.found = True

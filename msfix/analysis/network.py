"""Network facts shared by the Cell and graph-mode rules (MS3xx, MS8xx).

Computed lazily from the ScriptModel (no whole-tree walk: only the recorded calls,
the local Cell classes and, when asked, one function body at a time) and cached on
the model: `network(model)` returns the same NetworkInfo for one model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Set, Tuple

import libcst as cst

from msfix.analysis.model import UNKNOWN, CallSite, CellClass, ScriptModel
from msfix.analysis.walk import children as _children

# mindspore.nn classes that hold trainable parameters (a Python container of these
# on `self` loses them); parameter-free layers (activations, pooling, dropout,
# flatten...) are left out on purpose.
PARAMETERIZED_NN = frozenset({
    "Dense", "Linear", "BiDense", "Conv1d", "Conv2d", "Conv3d", "Conv1dTranspose", "Conv2dTranspose",
    "Conv3dTranspose", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "LayerNorm",
    "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "Embedding", "EmbeddingLookup",
    "LSTM", "GRU", "RNN", "LSTMCell", "GRUCell", "RNNCell", "PReLU", "MultiheadAttention",
    "Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
    "TransformerDecoderLayer", "SequentialCell", "CellList", "CellDict", "DenseBnAct", "Conv2dBnAct",
})

JIT_NAMES = frozenset({"jit", "ms_function"})
# mindspore.value_and_grad / grad (and the ops spellings): the function they wrap runs,
# and so is compiled, where the returned function is called
GRAD_NAMES = frozenset({"value_and_grad", "grad"})

# numpy functions that call the argument's method with `out=` and so raise TypeError
# on a MindSpore Tensor (verified on 2.10, GRAPH and PyNative), mapped to the Tensor
# method that computes the same; `axis_ok`: the Tensor method takes axis like numpy.
NUMPY_REDUCTIONS: Dict[str, Tuple[str, bool]] = {
    "mean": ("mean", True), "sum": ("sum", True), "std": ("std", True), "var": ("var", True),
    "any": ("any", True), "all": ("all", True),
    # Tensor.max/min(axis) return (values, indices): rewrite only the axis-free form
    "max": ("max", False), "min": ("min", False), "amax": ("max", False), "amin": ("min", False),
    "prod": ("prod", False), "ptp": ("", False),
}

# Tensor methods that return a Tensor (`x.reshape(...)`; not `asnumpy`, `item`, `tolist`)
TENSOR_METHODS = frozenset({
    "reshape", "view", "transpose", "permute", "swapaxes", "flatten", "squeeze", "unsqueeze", "expand_dims",
    "astype", "float", "half", "abs", "clip", "clamp", "mean", "sum", "std", "var", "exp", "log", "sqrt",
    "pow", "square", "neg", "matmul", "repeat", "tile", "broadcast_to", "expand_as", "sigmoid", "tanh",
    "softmax", "norm", "cumsum", "round", "floor", "ceil", "copy", "contiguous", "narrow", "masked_fill",
})

RANDOM_PREFIXES = ("random.", "numpy.random.")
TIME_CALLS = frozenset({"time.time", "time.perf_counter", "time.monotonic", "time.time_ns",
                        "datetime.datetime.now", "datetime.datetime.utcnow"})


def nn_class(qualname: Optional[str]) -> Optional[str]:
    """`mindspore.nn.Conv2d` (or an old path like mindspore.nn.layer.conv.Conv2d,
    canonicalised to mindspore.nn.conv.Conv2d) -> "Conv2d"; None otherwise."""
    if not qualname or not qualname.startswith("mindspore.nn."):
        return None
    last = qualname.rsplit(".", 1)[-1]
    if not last[:1].isupper():
        return None
    return last


def ctx_name(site: CallSite) -> str:
    f = site.node.func
    parts = []
    while isinstance(f, cst.Attribute):
        parts.append(f.attr.value)
        f = f.value
    if isinstance(f, cst.Name):
        parts.append(f.value)
    return ".".join(reversed(parts)) or "jit"


def is_jit_decorator(m: ScriptModel, dec: cst.Decorator, scope) -> bool:
    expr = dec.decorator
    if isinstance(expr, cst.Call):
        expr = expr.func
    q = m.qualname(expr, scope, None)
    return bool(q) and q.startswith("mindspore") and q.rsplit(".", 1)[-1] in JIT_NAMES


@dataclass
class CompiledFunction:
    """A function body MindSpore compiles to a graph."""

    node: cst.FunctionDef
    top: int
    cell: Optional[CellClass]  # the Cell whose method it is, if any
    why: str  # human-readable reason: "GRAPH_MODE (line 5)" / "@jit"
    via: Optional[str] = None  # "construct" -> "helper": the caller chain, for messages


@dataclass
class NetworkInfo:
    m: ScriptModel
    _graph: object = None
    _compiled: Optional[List[CompiledFunction]] = None
    _scope_calls: Optional[Dict[int, List[CallSite]]] = None
    _torch: Optional[List[str]] = None
    _cell_has_params: Dict[str, bool] = field(default_factory=dict)

    # -- classes --------------------------------------------------------------------
    def cell_chain(self, cell: CellClass) -> Optional[List[CellClass]]:
        """The cell and its local Cell ancestors, if every base is known: a local Cell
        or mindspore.nn.Cell itself. None when a base is anything else."""
        out: List[CellClass] = []
        todo = [cell]
        seen: Set[str] = set()
        while todo:
            c = todo.pop()
            if c.name in seen:
                continue
            seen.add(c.name)
            out.append(c)
            for q in c.bases:
                if q == "mindspore.nn.Cell":
                    continue
                if q and q.startswith("<local>.") and q[8:] in self.m.cells:
                    todo.append(self.m.cells[q[8:]])
                    continue
                return None
        return out

    def defines(self, cell: CellClass, name: str) -> bool:
        """The class body binds `name` (a method or a class attribute)."""
        if name in cell.methods:
            return True
        body = cell.node.body
        if not isinstance(body, cst.IndentedBlock):
            return False
        for st in body.body:
            if isinstance(st, cst.SimpleStatementLine):
                for small in st.body:
                    if isinstance(small, cst.Assign) and any(
                            isinstance(t.target, cst.Name) and t.target.value == name for t in small.targets):
                        return True
                    if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) \
                            and small.target.value == name:
                        return True
        return False

    def method(self, cell: CellClass, name: str) -> Optional[Tuple[CellClass, cst.FunctionDef]]:
        """The method `name` a local Cell has, itself or through local Cell bases."""
        todo = [cell]
        seen: Set[str] = set()
        while todo:
            c = todo.pop(0)
            if c.name in seen:
                continue
            seen.add(c.name)
            if name in c.methods:
                return c, c.methods[name]
            for q in c.bases:
                if q and q.startswith("<local>.") and q[8:] in self.m.cells:
                    todo.append(self.m.cells[q[8:]])
        return None

    def cell_has_params(self, name: str) -> bool:
        """A local Cell that builds parameterised layers or Parameters in __init__."""
        if name in self._cell_has_params:
            return self._cell_has_params[name]
        self._cell_has_params[name] = False  # recursion guard
        cell = self.m.cells.get(name)
        result = False
        if cell is not None:
            chain = self.cell_chain(cell) or [cell]
            for c in chain:
                init = c.methods.get("__init__")
                if init is None:
                    continue
                for site in self.calls_in(init):
                    q = site.qualname or ""
                    if q in ("mindspore.Parameter", "mindspore.ParameterTuple"):
                        result = True
                    elif nn_class(q) in PARAMETERIZED_NN:
                        result = True
                    elif q.startswith("<local>.") and q[8:] in self.m.cells and q[8:] != name \
                            and self.cell_has_params(q[8:]):
                        result = True
                    if result:
                        break
                if result:
                    break
        self._cell_has_params[name] = result
        return result

    # -- calls by function ------------------------------------------------------------
    def calls_in(self, fn: cst.FunctionDef) -> List[CallSite]:
        """Calls made directly in the body of `fn` (not in nested functions)."""
        if self._scope_calls is None:
            by: Dict[int, List[CallSite]] = {}
            for site in self.m.calls:
                node = site.scope.node
                if isinstance(node, cst.FunctionDef):
                    by.setdefault(id(node), []).append(site)
            self._scope_calls = by
        return self._scope_calls.get(id(fn), [])

    # -- Tensors inside a compiled function ---------------------------------------------
    def tensor_names(self, fn: cst.FunctionDef, params: bool) -> Set[str]:
        """Local names of `fn` that hold a MindSpore Tensor at every binding: its
        parameters without a default (when `params`, e.g. the inputs of `construct`) and
        names bound from a layer (`self.x(...)`), a `mindspore.ops`/`mint` call, a Tensor
        method that returns a Tensor, or arithmetic/subscripts of such names. A name also
        bound to anything else (a NumPy call, a literal, a loop variable) is left out."""
        names: Set[str] = set()
        if params:
            ps = list(fn.params.params)
            for p in ps[1:] if ps and ps[0].name.value == "self" else ps:
                if p.default is None:
                    names.add(p.name.value)
        scope = next((site.scope for site in self.calls_in(fn)), None)
        if scope is None:
            return names
        # greatest fixed point: `x = x / s` keeps x a Tensor when every other binding does
        cand: Dict[str, list] = {}
        for name, bindings in scope.bindings.items():
            if all((b.kind == "param" and name in names) or (b.kind == "assign" and b.value is not None)
                   for b in bindings):
                cand[name] = [b for b in bindings if b.kind == "assign"]
        out = set(cand)
        changed = True
        while changed:
            changed = False
            for name in list(out):
                if not all(self.is_tensor_expr(b.value, out) for b in cand[name]):
                    out.discard(name)
                    changed = True
        return out

    def is_tensor_expr(self, expr: cst.BaseExpression, names: Set[str]) -> bool:
        """`expr` (in a compiled function whose Tensor-holding locals are `names`) gives a Tensor."""
        if isinstance(expr, cst.Name):
            return expr.value in names
        if isinstance(expr, cst.BinaryOperation):
            return self.is_tensor_expr(expr.left, names) or self.is_tensor_expr(expr.right, names)
        if isinstance(expr, cst.UnaryOperation):
            return not isinstance(expr.operator, cst.Not) and self.is_tensor_expr(expr.expression, names)
        if isinstance(expr, cst.Subscript):
            return self.is_tensor_expr(expr.value, names)
        if isinstance(expr, cst.IfExp):
            return self.is_tensor_expr(expr.body, names) and self.is_tensor_expr(expr.orelse, names)
        if not isinstance(expr, cst.Call):
            return False
        f = expr.func
        if isinstance(f, cst.Attribute) and isinstance(f.value, cst.Name) and f.value.value == "self":
            return True  # a layer of the Cell
        if isinstance(f, cst.Attribute) and f.attr.value in TENSOR_METHODS and self.is_tensor_expr(f.value, names):
            return True  # x.reshape(...), self.pool(x).flatten()
        site = self.m.call_of(expr)
        q = site.qualname if site is not None else None
        return bool(q) and q.startswith(("mindspore.ops.", "mindspore.mint."))

    # -- graph mode -------------------------------------------------------------------
    def graph_mode_site(self) -> Optional[CallSite]:
        """The `set_context(mode=GRAPH_MODE)` / `set_context(mode=0)` call, if any."""
        if self._graph is None:
            found = None
            for site in self.m.calls_to("mindspore.set_context"):
                arg = site.keyword("mode")
                if arg is None:
                    continue
                q = self.m.qualname(arg.value, site.scope, site.order)
                if q == "mindspore.GRAPH_MODE":
                    found = site
                    break
                v = self.m.literal(arg.value, site.scope, site.order)
                if v is not UNKNOWN and isinstance(v, int) and not isinstance(v, bool) and v == 0:
                    found = site
                    break
            self._graph = found if found is not None else False
        return self._graph or None

    def compiled(self) -> List[CompiledFunction]:
        """Functions MindSpore compiles: `construct` of local Cells when the script sets
        GRAPH_MODE, functions and methods decorated with `@jit`, and the undecorated local
        methods and module functions these call (transitively; a decorated callee such as
        `@constexpr` runs in Python at compile time), and the function given to
        `value_and_grad`/`grad` where the function these return is called."""
        if self._compiled is not None:
            return self._compiled
        m = self.m
        out: List[CompiledFunction] = []
        seen: Set[int] = set()
        roots: List[CompiledFunction] = []
        gm = self.graph_mode_site()
        for cell in m.cells.values():
            for name, fn in cell.methods.items():
                if any(is_jit_decorator(m, d, m.module_scope) for d in fn.decorators):
                    roots.append(CompiledFunction(fn, cell.top, cell, "it is decorated with `@jit`"))
                elif name == "construct" and gm is not None:
                    roots.append(CompiledFunction(fn, cell.top, cell, "the script sets GRAPH_MODE"))
        for info in m.functions.values():
            if any(is_jit_decorator(m, d, m.module_scope) for d in info.node.decorators):
                roots.append(CompiledFunction(info.node, m.top_of(info.node, 0), None,
                                              "it is decorated with `@jit`"))
        # train_step = ms.jit(train_step) / ms.jit(fn=forward)
        for site in m.calls:
            q = site.qualname or ""
            if not (q.startswith("mindspore") and q.rsplit(".", 1)[-1] in JIT_NAMES):
                continue
            arg = site.arg("function", 0) or site.keyword("fn")
            if arg is None or not isinstance(arg.value, cst.Name):
                continue
            b = m.lookup(arg.value.value, site.scope, site.order)
            if b is not None and b.kind == "def" and isinstance(b.node, cst.FunctionDef) and not any(
                    not is_jit_decorator(m, d, m.module_scope) for d in b.node.decorators):
                roots.append(CompiledFunction(b.node, m.top_of(b.node, b.top), None,
                                              f"it is passed to `{ctx_name(site)}`"))
        todo = list(roots)
        while todo:
            cf = todo.pop(0)
            if id(cf.node) in seen:
                continue
            seen.add(id(cf.node))
            out.append(cf)
            label = cf.via or cf.node.name.value
            for site in self.calls_in(cf.node):
                func = site.node.func
                # self.helper(...) -> a method of the same Cell
                if cf.cell is not None and isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) \
                        and func.value.value == "self":
                    got = self.method(cf.cell, func.attr.value)
                    if got is not None and got[1] is not cf.node and not got[1].decorators:
                        owner, fn = got
                        todo.append(CompiledFunction(fn, owner.top, cf.cell, cf.why,
                                                     f"{label} -> {fn.name.value}"))
                    continue
                q = site.qualname
                if q and q.startswith("<local>.") and q[8:] in m.functions:
                    info = m.functions[q[8:]]
                    if info.node.decorators:
                        # @constexpr / @_primexpr run in Python at compile time; @jit is a root
                        continue
                    todo.append(CompiledFunction(info.node, m.top_of(info.node, 0), None, cf.why,
                                                 f"{label} -> {info.name}"))
                    continue
                # grad_fn = ms.value_and_grad(forward_fn, ...); grad_fn(x) -> forward_fn is compiled too
                wrapped = self.grad_wrapped(site)
                if wrapped is not None:
                    fn, through = wrapped
                    todo.append(CompiledFunction(fn, m.top_of(fn, 0), None, cf.why,
                                                 f"{label} -> {through} -> {fn.name.value}"))
        self._compiled = out
        return out

    def grad_wrapped(self, site: CallSite) -> Optional[Tuple[cst.FunctionDef, str]]:
        """(the script function, how the call spells the wrapper) when `site` calls the
        result of `mindspore.value_and_grad`/`grad` of an undecorated script function:
        `grad_fn(x)` after `grad_fn = ms.value_and_grad(forward_fn, ...)`, or
        `ms.grad(forward_fn)(x)`."""
        m = self.m
        func = site.node.func
        wrap = None
        if isinstance(func, cst.Call):
            wrap = m.call_of(func)
        elif isinstance(func, cst.Name):
            b = m.lookup(func.value, site.scope, site.order)
            if b is not None and b.kind == "assign" and isinstance(b.value, cst.Call):
                wrap = m.call_of(b.value)
        if wrap is None or wrap.has_star_args:
            return None
        q = wrap.qualname or ""
        if not (q.startswith("mindspore.") and q.rsplit(".", 1)[-1] in GRAD_NAMES):
            return None
        arg = wrap.arg("fn", 0)
        if arg is None or not isinstance(arg.value, cst.Name):
            return None
        b = m.lookup(arg.value.value, wrap.scope, wrap.order)
        if b is None or b.kind != "def" or not isinstance(b.node, cst.FunctionDef) or b.node.decorators:
            return None
        return b.node, (func.value if isinstance(func, cst.Name) else ctx_name(wrap))

    # -- torch-port evidence ------------------------------------------------------------
    def torch_signals(self) -> List[str]:
        """Reasons to believe the script was ported from PyTorch (empty when none)."""
        if self._torch is not None:
            return self._torch
        m = self.m
        out: List[str] = []
        for rec in m.imports:
            mods = [rec.module or ""] + [n for (n, _, _) in rec.names]
            if any(x == "torch" or x.startswith("torch.") for x in mods if x):
                out.append("it imports torch")
                break
        for cell in m.cells.values():
            if "forward" in cell.methods and self.method(cell, "construct") is None:
                out.append(f"`{cell.name}` defines `forward` instead of `construct`")
                break
        for site in m.calls:
            cls = nn_class(site.qualname)
            if cls is None:
                continue
            if cls.startswith("Conv") and site.keyword("padding") is not None and site.keyword("pad_mode") is None:
                v = m.literal(site.keyword("padding").value, site.scope, site.order)
                if v is not UNKNOWN and v != 0:
                    out.append("a Conv layer is given `padding=` without `pad_mode`")
                    break
        for site in m.calls:
            cls = nn_class(site.qualname)
            if cls in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d"):
                mom = site.arg("momentum", 2)
                v = m.literal(mom.value, site.scope, site.order) if mom is not None else UNKNOWN
                if isinstance(v, float) and v < 0.5:
                    out.append("BatchNorm momentum is given in the torch convention")
                    break
        for site in m.calls:
            if nn_class(site.qualname) == "Dropout":
                a = site.positional(0)
                v = m.literal(a.value, site.scope, site.order) if a is not None else UNKNOWN
                if isinstance(v, float) and v < 0.5:
                    out.append("`nn.Dropout` is given a torch-style drop probability")
                    break
        self._torch = out
        return out


def network(m: ScriptModel) -> NetworkInfo:
    return m.cached("network", lambda: NetworkInfo(m))


def walk_body(fn: cst.FunctionDef) -> Iterator[cst.CSTNode]:
    """Every node of a function body, not entering nested functions, classes or lambdas."""
    stack: List[cst.CSTNode] = [fn.body]
    while stack:
        node = stack.pop()
        yield node
        children = list(_children(node))
        for ch in reversed(children):
            if isinstance(ch, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
                yield ch
                continue
            stack.append(ch)

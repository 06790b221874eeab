"""Training-side queries on the ScriptModel: optimizers, Models, train/eval calls,
what kind of MindSpore object an expression holds (Cell, Tensor, optimizer, loss).

Computed lazily from `model.calls` and cached on the model; unknown stays unknown
(None / UNKNOWN) whenever the answer does not follow from the script's literals.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import List, Optional

import libcst as cst

from msfix.analysis.model import UNKNOWN, CallSite, Pipeline, Scope, ScriptModel

_VERSION = "2.10.0"

# MindSpore's gradient functions, and whether the function they return gives the value
# too (value_and_grad) or the gradients only (grad)
GRAD_FUNCS = {
    "mindspore.value_and_grad": True,
    "mindspore.ops.value_and_grad": True,
    "mindspore.ops.composite.value_and_grad": True,
    "mindspore.grad": False,
    "mindspore.ops.grad": False,
    "mindspore.ops.composite.grad": False,
}

OPTIMIZER_NAMES = frozenset({
    "Momentum", "SGD", "Adam", "AdamWeightDecay", "AdamOffload", "Lamb", "LARS", "RMSProp",
    "Adagrad", "Adadelta", "Adamax", "FTRL", "ProximalAdagrad", "LazyAdam", "ASGD", "Rprop",
    "AdamW", "Optimizer", "ThorGpu", "ThorAscend",
})

# Parameter positions (MindSpore 2.x signatures).
MODEL_ARGS = {"network": 0, "loss_fn": 1, "optimizer": 2, "metrics": 3, "eval_network": 4, "eval_indexes": 5,
              "amp_level": 6, "boost_level": 7}
MODEL_QUALNAMES = ("mindspore.train.Model",)
TRAIN_QUALNAMES = ("mindspore.train.Model.train",)
EVAL_QUALNAMES = ("mindspore.train.Model.eval",)
TORCH_ROOTS = frozenset({"torch", "paddle", "tensorflow", "jax", "oneflow", "flax", "keras", "mxnet"})
PASSTHROUGH = frozenset({"cuda", "cpu", "to", "set_train", "to_float", "half", "eval", "train"})
TENSOR_FUNCS = frozenset({"ones", "zeros", "ones_like", "zeros_like", "randn", "rand", "randint", "arange",
                          "linspace", "eye", "full", "fill", "normal", "uniform", "stack", "concat", "cat"})


@functools.lru_cache(maxsize=1)
def _index():
    from msfix.knowledge.api import load_index

    return load_index()


def member_exists(qualname: str, member: str) -> Optional[bool]:
    try:
        return _index().exists(f"{qualname}.{member}", _VERSION)
    except Exception:  # pragma: no cover - index problems must not crash rules
        return None


def short(q: Optional[str]) -> str:
    return (q or "").rsplit(".", 1)[-1]


def is_optimizer_class(q: Optional[str]) -> bool:
    if not q:
        return False
    if q.startswith(("mindspore.experimental.optim.", "mindspore.mint.optim.")):
        return short(q)[:1].isupper() and "lr_scheduler" not in q
    return q.startswith("mindspore.nn.") and short(q) in OPTIMIZER_NAMES


def is_ms_cell_class(q: Optional[str]) -> bool:
    """A MindSpore class whose instances are Cells (nn layers, losses, wrappers)."""
    if not q or not q.startswith("mindspore.") or not short(q)[:1].isupper():
        return False
    if q.startswith("mindspore.nn.") and short(q) == "Cell":
        return True
    return member_exists(q, "set_train") is True and member_exists(q, "trainable_params") is True


def is_loss_class(q: Optional[str]) -> bool:
    if not q or not q.startswith("mindspore.nn."):
        return False
    s = short(q)
    return "Loss" in s or s in {"SoftmaxCrossEntropyWithLogits", "WithLossCell"}


def imports_other_framework(m: ScriptModel) -> bool:
    def compute():
        for rec in m.imports:
            if rec.module is not None and rec.module.split(".")[0] in TORCH_ROOTS:
                return True
            if rec.module is None:
                for full, _, _ in rec.names:
                    if full.split(".")[0] in TORCH_ROOTS:
                        return True
        return False
    return _cached(m, "other_framework", compute)


def _cached(m: ScriptModel, key: str, compute):
    return m.cached(f"training:{key}", compute)


# --------------------------------------------------------------------------- kinds
def _local_cell_lacks(m: ScriptModel, name: str, method: str, _depth: int = 0) -> bool:
    """True when local Cell class `name` (and its local bases) does not define `method`
    and all its non-local bases are MindSpore Cells without it."""
    info = m.cells.get(name)
    if info is None or _depth > 8:
        return False
    if method in info.methods:
        return False
    for q in info.bases:
        if q is None:
            return False
        if q.startswith("<local>."):
            if not _local_cell_lacks(m, q[8:], method, _depth + 1):
                return False
        elif not (q.startswith("mindspore.") and is_ms_cell_class(q)):
            return False
        elif member_exists(q, method) is True:
            return False
    # class-level assignments like `parameters = ...`
    for el in info.node.body.body if isinstance(info.node.body, cst.IndentedBlock) else ():
        if isinstance(el, cst.SimpleStatementLine):
            for s in el.body:
                if isinstance(s, (cst.Assign, cst.AnnAssign)):
                    targets = [t.target for t in s.targets] if isinstance(s, cst.Assign) else [s.target]
                    if any(isinstance(t, cst.Name) and t.value == method for t in targets):
                        return False
    return True


def _enclosing_cell(m: ScriptModel, scope: Scope):
    """The local Cell class whose method body `scope` is (for `self`)."""
    s = scope
    while s is not None and s.kind == "function":
        if s.parent is not None and s.parent.kind == "class":
            return m.cells.get(s.parent.name)
        s = s.parent
    return None


def value_call(m: ScriptModel, expr: cst.BaseExpression, scope: Scope, order: Optional[int]) -> Optional[CallSite]:
    """The call whose result `expr` holds (following simple name bindings and
    `self.x = call(...)` in a local Cell's `__init__`)."""
    if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and expr.value.value == "self":
        cell = _enclosing_cell(m, scope)
        if cell is None:
            return None
        values = [v for (n, v, _) in cell.self_assigns if n == expr.attr.value]
        if len(values) != 1 or not isinstance(values[0], cst.Call):
            return None
        site = m.call_of(values[0])
    else:
        if isinstance(expr, cst.Name) and not straight_line(m, expr.value, scope, order):
            return None
        site = m.instance_call(expr, scope, order)
    # `Net().cuda()`, `net.to(device)`, `net.set_train()` return the object itself
    for _ in range(4):
        if site is None or not isinstance(site.node.func, cst.Attribute) \
                or site.node.func.attr.value not in PASSTHROUGH:
            break
        inner = site.node.func.value
        site = m.call_of(inner) if isinstance(inner, cst.Call) else m.instance_call(inner, site.scope, site.order)
    return site


def _direct_statements(m: ScriptModel, scope: Scope):
    node = scope.node
    if isinstance(node, cst.Module):
        return node.body
    body = getattr(node, "body", None)
    if isinstance(body, cst.IndentedBlock):
        return body.body
    return ()


def straight_line(m: ScriptModel, name: str, scope: Scope, order: Optional[int]) -> bool:
    """The binding `name` resolves to is unambiguous: the name is bound once in its
    scope, or only by statements directly in the scope's body (sequential rebinding,
    not alternatives in `if`/`try` branches or loops)."""
    b = m.lookup(name, scope, order)
    if b is None:
        return True
    bs = b.scope.bindings.get(name, ())
    if len(bs) <= 1:
        return True
    direct = {id(st) for st in _direct_statements(m, b.scope)}
    return all(x.statement is not None and id(x.statement) in direct for x in bs)


def cell_type(m: ScriptModel, expr: cst.BaseExpression, scope: Scope, order: Optional[int]) -> Optional[str]:
    """Qualname of the Cell class `expr` is an instance of ("<local>.Net" or a
    mindspore.nn class), or None when not known to be a MindSpore Cell."""
    if isinstance(expr, cst.Name) and expr.value == "self":
        b = m.lookup("self", scope, order)
        if b is None or b.kind != "param":
            return None
        cell = _enclosing_cell(m, scope)
        return cell.qualname if cell is not None else None
    site = value_call(m, expr, scope, order)
    if site is None or not site.qualname:
        return None
    q = site.qualname
    if q.startswith("<local>.") and q[8:] in m.cells:
        return q
    if is_ms_cell_class(q) and not is_optimizer_class(q):
        return q
    return None


def cell_lacks(m: ScriptModel, cell_q: str, method: str) -> bool:
    if cell_q.startswith("<local>."):
        return _local_cell_lacks(m, cell_q[8:], method)
    return member_exists(cell_q, method) is not True


ITERATORS = ("create_dict_iterator", "create_tuple_iterator")


def _iterator_call(m: ScriptModel, it: cst.BaseExpression) -> Optional[str]:
    """"dict" / "tuple" when `it` is `<dataset>.create_dict_iterator(...)` /
    `create_tuple_iterator(...)` giving Tensors (not `output_numpy=True`), else None."""
    if not (isinstance(it, cst.Call) and isinstance(it.func, cst.Attribute) and it.func.attr.value in ITERATORS):
        return None
    if any(a.star for a in it.args):
        return None
    for a in it.args:
        if a.keyword is not None and a.keyword.value == "output_numpy" \
                and not (isinstance(a.value, cst.Name) and a.value.value == "False"):
            return None
    return "dict" if it.func.attr.value == "create_dict_iterator" else "tuple"


def _loop_item(m: ScriptModel, name: str, scope: Scope, order: Optional[int]):
    """For a name bound by a `for` over a dataset iterator: "dict" (the row dict of
    `create_dict_iterator()`), "tuple" (the row list of `create_tuple_iterator()`),
    "tensor" (a name unpacked from a tuple row: `for x, y in ds.create_tuple_iterator()`,
    `enumerate(...)` too), else None."""
    b = m.lookup(name, scope, order)
    if b is None or b.kind != "loop" or not isinstance(b.statement, cst.For) \
            or len(b.scope.bindings.get(name, ())) != 1:
        return None
    target, it = b.statement.target, b.statement.iter
    if isinstance(it, cst.Call) and isinstance(it.func, cst.Name) and it.func.value == "enumerate" \
            and m.lookup("enumerate", scope, order) is None and it.args and not it.args[0].star \
            and isinstance(target, (cst.Tuple, cst.List)) and len(target.elements) == 2:
        target, it = target.elements[1].value, it.args[0].value
    kind = _iterator_call(m, it)
    if kind is None:
        return None
    if isinstance(target, cst.Name):
        return kind if target.value == name else None
    if kind == "tuple" and isinstance(target, (cst.Tuple, cst.List)) and any(
            isinstance(e.value, cst.Name) and e.value.value == name for e in target.elements):
        return "tensor"
    return None


def _iterator_tensor(m: ScriptModel, expr: cst.BaseExpression, scope: Scope, order: Optional[int],
                     depth: int = 0) -> bool:
    """`expr` holds a column of a dataset iterator row: `row["image"]` of a dict row,
    `row[0]` of a tuple row, a name unpacked from a tuple row, or a name bound (once) to
    one of these (`x = batch["x"]`, `x, y = batch["x"], batch["y"]`, `x, y = row`)."""
    if depth > 4:
        return False
    if isinstance(expr, cst.Subscript) and isinstance(expr.value, cst.Name) and len(expr.slice) == 1 \
            and isinstance(expr.slice[0].slice, cst.Index):
        key = expr.slice[0].slice.value
        kind = _loop_item(m, expr.value.value, scope, order)
        return kind == "dict" and isinstance(key, cst.SimpleString) \
            or kind == "tuple" and isinstance(key, cst.Integer)
    if not isinstance(expr, cst.Name):
        return False
    if _loop_item(m, expr.value, scope, order) == "tensor":
        return True
    b = m.lookup(expr.value, scope, order)
    if b is None or len(b.scope.bindings.get(expr.value, ())) != 1:
        return False
    if b.kind == "assign" and b.value is not None:
        return _iterator_tensor(m, b.value, b.scope, b.order, depth + 1)
    if b.kind == "other" and isinstance(b.statement, cst.SimpleStatementLine):
        for st in b.statement.body:
            if not (isinstance(st, cst.Assign) and len(st.targets) == 1
                    and isinstance(st.targets[0].target, (cst.Tuple, cst.List))):
                continue
            els = st.targets[0].target.elements
            pos = [i for i, e in enumerate(els) if e.value is b.node]
            if not pos or any(isinstance(e, cst.StarredElement) for e in els):
                continue
            if isinstance(st.value, (cst.Tuple, cst.List)) and len(st.value.elements) == len(els) \
                    and not any(isinstance(e, cst.StarredElement) for e in st.value.elements):
                return _iterator_tensor(m, st.value.elements[pos[0]].value, b.scope, b.order, depth + 1)
            if isinstance(st.value, cst.Name):  # x, y = row (a tuple row)
                return _loop_item(m, st.value.value, b.scope, b.order) == "tuple"
    return False


def is_tensor(m: ScriptModel, expr: cst.BaseExpression, scope: Scope, order: Optional[int]) -> bool:
    if not isinstance(expr, cst.Call) and _iterator_tensor(m, expr, scope, order):
        return True  # a column of a MindSpore dataset iterator row
    site = value_call(m, expr, scope, order) if not isinstance(expr, cst.Call) else m.call_of(expr)
    if site is None:
        return False
    if not site.qualname:
        # the output of a MindSpore Cell (`logits = net(x)`)
        return cell_type(m, site.node.func, site.scope, site.order) is not None
    q = site.qualname
    if q in ("mindspore.Tensor", "mindspore.Parameter", "mindspore.tensor", "mindspore.from_numpy"):
        return True
    if q.startswith(("mindspore.ops.", "mindspore.mint.")) and q.count(".") == 2 and short(q) in TENSOR_FUNCS:
        return True
    return False


def optimizer_type(m: ScriptModel, expr: cst.BaseExpression, scope: Scope, order: Optional[int]) -> Optional[str]:
    site = value_call(m, expr, scope, order)
    if site is not None and is_optimizer_class(site.qualname):
        return site.qualname
    return None


# --------------------------------------------------------------------------- Models
@dataclass(eq=False)
class ModelInfo:
    call: CallSite

    def arg(self, name: str) -> Optional[cst.Arg]:
        return self.call.arg(name, MODEL_ARGS.get(name))


def model_of(m: ScriptModel, site: CallSite) -> Optional[ModelInfo]:
    """The `Model(...)` call behind the receiver of a Model method call."""
    f = site.node.func
    if not isinstance(f, cst.Attribute):
        return None
    if isinstance(f.value, cst.Name) and not straight_line(m, f.value.value, site.scope, site.order):
        return None
    c = m.instance_call(f.value, site.scope, site.order)
    if c is None or c.qualname not in MODEL_QUALNAMES:
        return None
    return ModelInfo(c)


def train_dataset(m: ScriptModel, train: CallSite) -> Optional[Pipeline]:
    a = train.arg("train_dataset", 1)
    if a is None:
        return None
    return m.pipeline_of(a.value, train.scope, train.order)


def batch_size_of(m: ScriptModel, pipe: Pipeline):
    from msfix.analysis.data import BATCH_ARGS, literal_arg

    sizes = [literal_arg(m, st.call, "batch_size", BATCH_ARGS) for st in pipe.stages() if st.op == "batch"]
    if len(sizes) != 1 or not isinstance(sizes[0], int) or isinstance(sizes[0], bool) or sizes[0] <= 0:
        return UNKNOWN
    return sizes[0]


def trains_with_optimizer(m: ScriptModel, opt: CallSite) -> List[CallSite]:
    """Model.train calls of Models built with the optimizer created by `opt`."""
    out = []
    for train in m.calls_to(*TRAIN_QUALNAMES, "mindspore.train.Model.fit"):
        info = model_of(m, train)
        if info is None:
            continue
        a = info.arg("optimizer")
        if a is None:
            continue
        if a.value is opt.node or m.instance_call(a.value, info.call.scope, info.call.order) is opt:
            out.append(train)
    return out


def device_targets(m: ScriptModel) -> List[object]:
    """Literal device targets the script sets (set_context(device_target=...), set_device)."""
    def compute():
        out = []
        for c in m.calls_to("mindspore.set_context"):
            a = c.keyword("device_target")
            if a is not None:
                out.append(m.literal(a.value, c.scope, c.order))
        for c in m.calls_to("mindspore.set_device"):
            a = c.arg("device_target", 0)
            if a is not None:
                out.append(m.literal(a.value, c.scope, c.order))
        return out
    return _cached(m, "device_targets", compute)


# --------------------------------------------------------------------------- optimizers
@dataclass(eq=False)
class OptimizerInfo:
    call: CallSite
    kind: str  # short class name
    lr: object  # literal learning rate or UNKNOWN
    momentum: object  # literal momentum, None when the class has none, or UNKNOWN
    momentum_arg: Optional[cst.Arg]
    lr_arg: Optional[cst.Arg]


def _opt_positions(q: str) -> Optional[dict]:
    s = short(q)
    if q.startswith(("mindspore.experimental.optim.", "mindspore.mint.optim.")):
        if s == "SGD":
            return {"lr": 1, "momentum": 2, "_lr_name": "lr"}
        return None
    if s == "Momentum":
        return {"lr": 1, "momentum": 2, "_lr_name": "learning_rate"}
    if s == "SGD":
        return {"lr": 1, "momentum": 2, "_lr_name": "learning_rate", "_default_momentum": 0.0,
                "_default_lr": 0.1}
    if s == "RMSProp":
        return {"lr": 1, "momentum": 3, "_lr_name": "learning_rate", "_default_momentum": 0.0,
                "_default_lr": 0.1}
    return None


def optimizers(m: ScriptModel) -> List[OptimizerInfo]:
    """Optimizers with a momentum term built in the script, with their literal lr and momentum."""
    def compute():
        out = []
        for c in m.calls:
            if not is_optimizer_class(c.qualname):
                continue
            pos = _opt_positions(c.qualname)
            if pos is None:
                continue
            lr_arg = c.arg(pos["_lr_name"], pos["lr"])
            mo_arg = c.arg("momentum", pos["momentum"])
            if c.has_star_args:
                lr, mo = UNKNOWN, UNKNOWN
            else:
                lr = m.literal(lr_arg.value, c.scope, c.order) if lr_arg is not None else pos.get("_default_lr", UNKNOWN)
                mo = m.literal(mo_arg.value, c.scope, c.order) if mo_arg is not None \
                    else pos.get("_default_momentum", UNKNOWN)
            out.append(OptimizerInfo(c, short(c.qualname), lr, mo, mo_arg, lr_arg))
        return out
    return _cached(m, "optimizers", compute)


def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# --------------------------------------------------------------------------- torch attributes
TORCH_ATTRIBUTES = ("grad", "is_cuda", "param_groups")


@dataclass(eq=False)
class AttributeRead:
    node: cst.Attribute
    scope: Scope
    top: int


def torch_attribute_reads(m: ScriptModel) -> List[AttributeRead]:
    """Reads of `x.grad`, `x.is_cuda`, `x.param_groups` on dotted names (not method calls,
    not assignment or del targets), with their scope, from the dotted names the analysis
    pass recorded: no extra walk of the tree."""
    def compute():
        if not any("." + a in m.text for a in TORCH_ATTRIBUTES):
            return []
        call_funcs = {id(c.node.func) for c in m.calls}
        return [AttributeRead(r.node, r.scope, r.top) for r in m.dotted
                if isinstance(r.node, cst.Attribute) and r.node.attr.value in TORCH_ATTRIBUTES
                and id(r.node) not in call_funcs and id(r.node) not in m.store_targets]
    return _cached(m, "torch_attribute_reads", compute)


def unique_binding(m: ScriptModel, expr: cst.BaseExpression, scope: Scope) -> bool:
    """`expr` is `name` or `self.x` whose name is bound once where it resolves."""
    if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and expr.value.value == "self":
        return True
    if not isinstance(expr, cst.Name):
        return False
    b = m.lookup(expr.value, scope, None)
    return b is not None and len(b.scope.bindings.get(expr.value, ())) == 1


# --------------------------------------------------------------------------- receivers
def _param_index(fn: cst.FunctionDef, name: str):
    """(positional index or None, keyword allowed) of parameter `name` of `fn`, or None
    when `name` is not a plain parameter (`*args`, `**kwargs`)."""
    p = fn.params
    pos = [*p.posonly_params, *p.params]
    for i, x in enumerate(pos):
        if x.name.value == name:
            return i, x not in p.posonly_params
    for x in p.kwonly_params:
        if x.name.value == name:
            return None, True
    return None


def caller_arguments(m: ScriptModel, name: str, scope: Scope):
    """[(argument expression, caller CallSite)] for parameter `name` of the module-level
    function whose body is `scope`, over every call of that function in the script; None
    when the function is used other than by direct calls (passed as a value, rebound),
    is never called, or some call does not pass the parameter plainly (default value,
    `*args` / `**kwargs` expansion)."""
    if scope.kind != "function" or scope.parent is None or scope.parent.kind != "module":
        return None
    fn = m.functions.get(scope.name)
    if fn is None or fn.scope is not scope:
        return None
    b = scope.bindings.get(name, ())
    if len(b) != 1 or b[0].kind != "param":
        return None
    where = _param_index(fn.node, name)
    if where is None or len(m.module_scope.bindings.get(fn.name, ())) != 1:
        return None
    calls = [c for c in m.calls if c.qualname == f"<local>.{fn.name}"
             and isinstance(c.node.func, cst.Name)]
    call_funcs = {id(c.node.func) for c in calls}
    # every read of the function's name is the callee of one of those calls
    if not calls or any(r.name == fn.name and id(r.node) not in call_funcs for r in m.reads):
        return None
    index, by_keyword = where
    out = []
    for c in calls:
        if c.has_star_args:
            return None
        a = c.keyword(name) if by_keyword else None
        if a is None and index is not None:
            a = c.positional(index)
        if a is None:
            return None
        out.append((a.value, c))
    return out


def receiver_calls(m: ScriptModel, expr: cst.BaseExpression, scope: Scope, order: Optional[int],
                   _depth: int = 0) -> Optional[List[CallSite]]:
    """The calls whose result `expr` may hold: `value_call` where the binding is known,
    and for a parameter of a module-level function, the value each call of the function
    in the script passes for it. None when some of them is not known."""
    site = value_call(m, expr, scope, order)
    if site is not None:
        return [site]
    if _depth > 3 or not isinstance(expr, cst.Name):
        return None
    b = m.lookup(expr.value, scope, order)
    if b is None or b.kind != "param":
        return None
    args = caller_arguments(m, expr.value, b.scope)
    if args is None:
        return None
    out: List[CallSite] = []
    for value, caller in args:
        got = receiver_calls(m, value, caller.scope, caller.order, _depth + 1) \
            if not isinstance(value, cst.Call) else ([m.call_of(value)] if m.call_of(value) else None)
        if not got:
            return None
        out.extend(got)
    return out


def site_cell_type(m: ScriptModel, site: CallSite) -> Optional[str]:
    """`cell_type` for the call that built a value."""
    q = site.qualname
    if not q:
        return None
    if q.startswith("<local>.") and q[8:] in m.cells:
        return q
    if is_ms_cell_class(q) and not is_optimizer_class(q):
        return q
    return None


def train_call_of(m: ScriptModel, cb: CallSite) -> Optional[CallSite]:
    """The Model.train / Model.fit call whose callbacks include the callback built by `cb`."""
    for train in m.calls_to("mindspore.train.Model.train", "mindspore.train.Model.fit"):
        a = train.arg("callbacks", 2)
        if a is None:
            continue
        elements = [el.value for el in a.value.elements] if isinstance(a.value, (cst.List, cst.Tuple)) else [a.value]
        for el in elements:
            if el is cb.node or m.instance_call(el, train.scope, train.order) is cb:
                return train
    return None

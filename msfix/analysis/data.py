"""Dataset pipeline queries on the ScriptModel: map ops and columns, sizes, steps.

Unknown stays unknown: every function returns UNKNOWN when the answer does not
follow from literals and shipped dataset facts.

Datasets built by helper functions (`def create_dataset(path, usage, batch_size):
... return data`) are one Pipeline inside the function, shared by all its call
sites. An *environment* (`env`, a dict {function Scope: CallSite}) gives a
per-call-site view of it: a parameter of a function in `env` takes the value of the
call's argument (or the parameter's default). Without an entry, a parameter has a
value only when every call site of the function in the script agrees on it.
`dataset_view(m, expr, scope, order)` returns the pipeline an expression holds with
the environment of the helper calls it went through; `contexts(m, pipe)` lists one
environment per call site of the helpers a pipeline was built in. Every query takes
an optional `env`.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple, Union

import libcst as cst

from msfix.analysis.model import PIPELINE_OPS, UNKNOWN, CallSite, Pipeline, Scope, ScriptModel
from msfix.analysis.walk import children as _children

Env = Dict[Scope, CallSite]

# Parameter positions of the MindSpore 2.x signatures used here (the Cifar/Mnist
# readers; per-source orders are in datasets.json "params").
SOURCE_ARGS = {"dataset_dir": 0, "usage": 1, "num_samples": 2, "num_parallel_workers": 3, "shuffle": 4}
MAP_ARGS = {"operations": 0, "input_columns": 1, "output_columns": 2}
BATCH_ARGS = {"batch_size": 0, "drop_remainder": 1}

INT_DTYPES = {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}
FLOAT_DTYPES = {"float16", "float32", "float64", "bfloat16"}


def _cache(m: ScriptModel) -> dict:
    return m.memo("data")


# -- values with parameters ------------------------------------------------------------
def value(m: ScriptModel, expr: Optional[cst.BaseExpression], scope: Scope, order: Optional[int] = None,
          env: Optional[Env] = None, _depth: int = 0):
    """The literal value of `expr`, reading function parameters from `env` (see module doc)."""
    from msfix.analysis.values import evaluate

    if expr is None or _depth > 12:
        return UNKNOWN
    return evaluate(m, expr, scope, order, _depth, param=lambda b, depth: _param_value(m, b, env, depth))


def _function_of(m: ScriptModel, scope: Scope):
    """(name, FunctionInfo) of a module-level function scope, else None."""
    if scope.kind != "function" or not isinstance(scope.node, cst.FunctionDef):
        return None
    info = m.functions.get(scope.node.name.value)
    if info is None or info.scope is not scope:
        return None
    return info


def call_sites(m: ScriptModel, scope: Scope) -> List[CallSite]:
    """Direct calls, in the script, of the module-level function whose scope is `scope`."""
    info = _function_of(m, scope)
    if info is None:
        return []
    return list(m.calls_to(f"<local>.{info.name}"))


def returned_calls(m: ScriptModel, site: CallSite) -> List[CallSite]:
    """The calls whose results a call of a script function returns (`return
    nn.SoftmaxCrossEntropyWithLogits(sparse=sparse)`, or a name bound to such a call), each
    `return` of its body; [] when `site` does not call a module-level script function."""
    q = site.qualname or ""
    info = m.functions.get(q[8:]) if q.startswith("<local>.") else None
    if info is None:
        return []
    vals: list = []
    _walk_returns(info.node.body, "return", vals)
    out: List[CallSite] = []
    for v in vals:
        got = m.instance_call(v, info.scope, None) if v is not None else None
        if got is not None and got not in out:
            out.append(got)
    return out


def param_arg(site: CallSite, fn: cst.FunctionDef, pname: str):
    """(expr given for parameter `pname` at `site`, or None when not given) or UNKNOWN
    when it cannot be told (*args/**kwargs at the call)."""
    if site.has_star_args:
        return UNKNOWN
    kw = site.keyword(pname)
    if kw is not None:
        return kw.value
    params = [*fn.params.posonly_params, *fn.params.params]
    for i, p in enumerate(params):
        if p.name.value == pname:
            a = site.positional(i)
            return a.value if a is not None else None
    return None


def _param_value(m: ScriptModel, b, env: Optional[Env], depth: int):
    fscope = b.scope
    fn = fscope.node
    if not isinstance(fn, cst.FunctionDef) or not isinstance(b.node, cst.Param):
        return UNKNOWN
    param: cst.Param = b.node
    if env and fscope in env:
        sites = [env[fscope]]
    else:
        sites = call_sites(m, fscope)
    if not sites:
        return UNKNOWN
    found = []
    for site in sites:
        given = param_arg(site, fn, param.name.value)
        if given is UNKNOWN:
            return UNKNOWN
        if given is None:
            if param.default is None:
                return UNKNOWN
            v = value(m, param.default, fscope.parent or m.module_scope, None, env, depth + 1)
        else:
            v = value(m, given, site.scope, site.order, env, depth + 1)
        if v is UNKNOWN:
            return UNKNOWN
        found.append(v)
    first = found[0]
    if all(type(v) is type(first) and v == first for v in found):
        return first
    return UNKNOWN


# -- datasets reached through helper functions -----------------------------------------
@dataclass
class DatasetView:
    """A pipeline seen from one use: its last stage and the helper calls it went through."""

    pipe: Pipeline
    env: Env = field(default_factory=dict)

    @property
    def source(self) -> Pipeline:
        return self.pipe.source


def _follow(m: ScriptModel, expr: cst.BaseExpression, scope: Scope, order: Optional[int], env: Env,
            depth: int = 0) -> Optional[Pipeline]:
    if depth > 8:
        return None
    call = m.instance_call(expr, scope, order)
    if call is None:
        return None
    q = call.qualname
    if q and q.startswith("<local>.") and q[8:] in m.functions:
        fn = m.functions[q[8:]]
        env.setdefault(fn.scope, call)
        for ret in reversed(fn.returns):
            p = _follow(m, ret, fn.scope, None, env, depth + 1)
            if p is not None:
                return p
        return None
    got = m.pipeline_of(call.node, call.scope, call.order)
    return got if got is not None else _through_param(m, call.node, call.scope, call.order, env)


def _through_param(m: ScriptModel, expr: cst.BaseExpression, scope: Scope, order: Optional[int], env: Env,
                   depth: int = 0) -> Optional[Pipeline]:
    """The pipeline a helper builds on a dataset its caller passes (`def prep(data): data =
    data.map(...); return data.batch(8)` called as `prep(ds.MnistDataset(...))`): the
    caller's pipeline (from the call in `env`) with the helper's stages on top, made for
    this view (one Pipeline per call of the helper, not in `m.pipelines`)."""
    if depth > 16:
        return None
    if isinstance(expr, cst.Call):
        func = expr.func
        site = m.call_of(expr)
        if not isinstance(func, cst.Attribute) or func.attr.value not in PIPELINE_OPS or site is None:
            return None
        parent = m.pipeline_of(func.value, site.scope, site.order)
        if parent is None:
            parent = _through_param(m, func.value, site.scope, site.order, env, depth + 1)
        if parent is None:
            return None
        made = _cache(m).setdefault("through_param", {})
        key = (id(expr), id(parent))
        if key not in made:
            made[key] = Pipeline(func.attr.value, site, parent, source_class=parent.source_class)
        return made[key]
    if not isinstance(expr, cst.Name):
        return None
    b = m.lookup(expr.value, scope, order)
    if b is None:
        return None
    if b.kind == "assign" and b.value is not None and isinstance(b.value, cst.Call):
        return _through_param(m, b.value, b.scope, b.order, env, depth + 1)
    fn = b.scope.node
    site = env.get(b.scope)
    if b.kind != "param" or site is None or not isinstance(fn, cst.FunctionDef):
        return None
    given = param_arg(site, fn, expr.value)
    if given is None or given is UNKNOWN:
        return None
    return _follow(m, given, site.scope, site.order, env, depth + 1) or m.pipeline_of(given, site.scope, site.order)


def _stage_env(m: ScriptModel, pipe: Pipeline, env: Env) -> None:
    for st in pipe.stages()[1:]:
        func = st.call.node.func
        if isinstance(func, cst.Attribute):
            _follow(m, func.value, st.call.scope, st.call.order, env)


def dataset_view(m: ScriptModel, expr: Optional[cst.BaseExpression], scope: Scope,
                 order: Optional[int] = None) -> Optional[DatasetView]:
    """The pipeline `expr` holds, with the environment of the helper calls that built it
    (`train = create_dataset(path, usage="train")` -> env {create_dataset: that call})."""
    if expr is None:
        return None
    env: Env = {}
    pipe = _follow(m, expr, scope, order, env)
    if pipe is None:
        pipe = m.pipeline_of(expr, scope, order)
        if pipe is None:
            return None
    _stage_env(m, pipe, env)
    return DatasetView(pipe, env)


def contexts(m: ScriptModel, pipe: Pipeline, limit: int = 16) -> List[Env]:
    """One environment per combination of call sites of the helper functions the stages
    of `pipe` live in ([{}] when it is built at module level or never called). A helper
    call that the pipeline itself goes through (`make(10).batch(4)`) is fixed; only the
    other helpers range over all their call sites."""
    fixed: Env = {}
    _stage_env(m, pipe, fixed)
    scopes: List[Scope] = []
    for st in pipe.stages():
        s = st.call.scope
        if s.kind == "function" and s not in scopes and s not in fixed:
            scopes.append(s)
    choices = []
    for s in scopes:
        sites = call_sites(m, s)
        if sites:
            choices.append([(s, c) for c in sites])
    if not choices:
        return [dict(fixed)]
    out = []
    for combo in itertools.product(*choices):
        env = dict(fixed)
        env.update(combo)
        out.append(env)
        if len(out) >= limit:
            break
    return out


@dataclass
class DatasetUse:
    """A dataset passed to Model.train / Model.fit / Model.eval."""

    view: DatasetView
    role: str  # "train" | "eval"
    site: CallSite  # the Model.train/fit/eval call
    model_call: Optional[CallSite]  # the Model(...) constructor call


def dataset_uses(m: ScriptModel) -> List[DatasetUse]:
    c = _cache(m)
    if "uses" in c:
        return c["uses"]
    out: List[DatasetUse] = []
    for site in m.calls_to("mindspore.train.Model.train", "mindspore.train.Model.fit",
                           "mindspore.train.Model.eval"):
        if site.method in ("train", "fit"):
            args = [(site.arg("train_dataset", 1), "train")]
            if site.method == "fit":
                args.append((site.arg("valid_dataset", 2), "eval"))
        else:
            args = [(site.arg("valid_dataset", 0), "eval")]
        recv = site.node.func.value if isinstance(site.node.func, cst.Attribute) else None
        mc = m.instance_call(recv, site.scope, site.order) if recv is not None else None
        if mc is not None and mc.qualname != "mindspore.train.Model":
            mc = None
        for a, role in args:
            if a is None:
                continue
            v = dataset_view(m, a.value, site.scope, site.order)
            if v is not None:
                out.append(DatasetUse(v, role, site, mc))
    c["uses"] = out
    return out


def loss_of_model(m: ScriptModel, model_call: Optional[CallSite]) -> Optional[CallSite]:
    """The call that built the loss passed to a `Model(...)` call."""
    if model_call is None:
        return None
    arg = model_call.arg("loss_fn", 1)
    if arg is None:
        return None
    if isinstance(arg.value, cst.Name) and not _unconditional(m, arg.value.value, model_call.scope, model_call.order):
        return None
    return m.instance_call(arg.value, model_call.scope, model_call.order)


def _unconditional(m: ScriptModel, name: str, scope: Scope, order: Optional[int]) -> bool:
    """Is the binding `name` refers to the only one, or a statement directly in its
    module/function body (not one branch of an if/try, where another binding may win)?"""
    b = m.lookup(name, scope, order)
    if b is None:
        return False
    if len(b.scope.bindings.get(name, ())) == 1:
        return True
    node = b.scope.node
    body = node.body if isinstance(node, cst.Module) else (
        node.body.body if isinstance(node, cst.FunctionDef) and isinstance(node.body, cst.IndentedBlock) else ())
    return any(st is b.statement for st in body)


# -- arguments -----------------------------------------------------------------------
def arg_of(site: CallSite, name: str, table: dict) -> Optional[cst.Arg]:
    return site.arg(name, table.get(name))


def literal_arg(m: ScriptModel, site: CallSite, name: str, table: dict, default=UNKNOWN,
                env: Optional[Env] = None):
    if site.has_star_args and site.keyword(name) is None:
        return UNKNOWN
    if any(a.star == "**" for a in site.node.args) and site.keyword(name) is None:
        return UNKNOWN
    a = arg_of(site, name, table)
    if a is None:
        return default
    return value(m, a.value, site.scope, site.order, env)


def source_params(source: Pipeline) -> dict:
    """{parameter: position} of a source class's signature."""
    info = source.facts or {}
    params = info.get("params")
    if params:
        return {p: i for i, p in enumerate(params)}
    return SOURCE_ARGS


def source_arg(source: Pipeline, name: str) -> Optional[cst.Arg]:
    return arg_of(source.call, name, source_params(source))


def source_value(m: ScriptModel, source: Pipeline, name: str, default=UNKNOWN, env: Optional[Env] = None):
    return literal_arg(m, source.call, name, source_params(source), default=default, env=env)


# -- map operations -----------------------------------------------------------------------
@dataclass
class MapOp:
    qualname: Optional[str]  # canonical callee, e.g. "mindspore.dataset.vision.Rescale"; None: unknown
    node: cst.BaseExpression
    call: Optional[cst.Call]
    top: Optional[int] = None  # top-level statement holding `node`
    container: Optional[cst.BaseExpression] = None  # the list/tuple literal holding it, if any
    index: int = 0  # position in `container`
    scope: Optional[Scope] = None
    order: Optional[int] = None

    @property
    def short(self) -> str:
        return (self.qualname or "").rsplit(".", 1)[-1]

    @property
    def known(self) -> bool:
        return self.qualname is not None

    @property
    def is_vision(self) -> bool:
        return bool(self.qualname) and self.qualname.startswith("mindspore.dataset.vision.")  # type: ignore[union-attr]


def _mutated(m: ScriptModel, scope: Scope, name: str) -> bool:
    """Is a list bound to `name` in `scope` changed in place (append/extend/insert/...)?"""
    c = _cache(m)
    idx = c.get("mutated")
    if idx is None:
        idx = set()
        for site in m.calls:
            f = site.node.func
            if isinstance(f, cst.Attribute) and isinstance(f.value, cst.Name) and f.attr.value in (
                    "append", "extend", "insert", "pop", "remove", "clear", "reverse", "sort", "__setitem__"):
                idx.add((id(site.scope), f.value.value))
        c["mutated"] = idx
    return (id(scope), name) in idx


def _list_expr(m: ScriptModel, expr: cst.BaseExpression, scope: Scope, order: Optional[int]):
    """Follow names bound once to an unchanged expression: (expr, scope, order, top)."""
    top = None
    for _ in range(6):
        if not isinstance(expr, cst.Name):
            break
        b = m.lookup(expr.value, scope, order)
        if b is None or b.kind != "assign" or b.value is None:
            return None
        if len(b.scope.bindings.get(expr.value, ())) != 1 or _mutated(m, b.scope, expr.value):
            return None
        expr, scope, order, top = b.value, b.scope, b.order, b.top
    return expr, scope, order, top


def _flatten_ops(m: ScriptModel, expr, scope, order, top, out: List[MapOp], depth: int = 0) -> bool:
    """Append the transforms of an operations expression to `out`; False when the list
    itself cannot be read (its elements may still be unknown callables)."""
    got = _list_expr(m, expr, scope, order)
    if got is None or depth > 4:
        return False
    expr, scope, order, t = got
    top = t if t is not None else top
    if isinstance(expr, (cst.List, cst.Tuple)):
        if any(isinstance(el, cst.StarredElement) for el in expr.elements):
            return False
        items = [(el.value, expr, i) for i, el in enumerate(expr.elements)]
    else:
        items = [(expr, None, 0)]
    for el, container, i in items:
        call = el if isinstance(el, cst.Call) else None
        q = m.qualname(call.func if call is not None else el, scope, order)
        if q == "mindspore.dataset.transforms.Compose" and call is not None and call.args \
                and call.args[0].keyword is None and not call.args[0].star:
            if not _flatten_ops(m, call.args[0].value, scope, order, top, out, depth + 1):
                out.append(MapOp(None, el, call, top, container, i, scope, order))
            continue
        if not q or not q.startswith("mindspore."):
            q = None  # a Python callable or an unknown object can do anything
        out.append(MapOp(q, el, call, top, container, i, scope, order))
    return True


def map_ops_partial(m: ScriptModel, stage: Pipeline) -> Union[List[MapOp], object]:
    """The transforms of a `map` stage in order (Compose flattened); unknown callables
    have qualname None. UNKNOWN when the operations list cannot be read."""
    site = stage.call
    a = arg_of(site, "operations", MAP_ARGS)
    if a is None:
        return UNKNOWN
    out: List[MapOp] = []
    if not _flatten_ops(m, a.value, site.scope, site.order, site.top, out):
        return UNKNOWN
    return out


def map_ops(m: ScriptModel, stage: Pipeline) -> Union[List[MapOp], object]:
    """The transforms of a `map` stage, or UNKNOWN (also when one is not a MindSpore op)."""
    ops = map_ops_partial(m, stage)
    if ops is UNKNOWN or any(not op.known for op in ops):  # type: ignore[union-attr]
        return UNKNOWN
    return ops


def _names(v) -> Union[List[str], object]:
    if isinstance(v, str):
        return [v]
    if isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v):
        return list(v)
    return UNKNOWN


def map_columns(m: ScriptModel, stage: Pipeline, env: Optional[Env] = None) -> Union[List[str], object]:
    """Input columns of a `map` stage (None means the first column), or UNKNOWN."""
    site = stage.call
    a = arg_of(site, "input_columns", MAP_ARGS)
    if a is None:
        if site.has_star_args:
            return UNKNOWN
        cols = stage_columns(m, stage.parent, env) if stage.parent is not None else UNKNOWN
        if isinstance(cols, list) and cols:
            return [cols[0]]
        return UNKNOWN
    v = value(m, a.value, site.scope, site.order, env)
    if v is None:
        cols = stage_columns(m, stage.parent, env) if stage.parent is not None else UNKNOWN
        if isinstance(cols, list) and cols:
            return [cols[0]]
        return UNKNOWN
    return _names(v)


# -- arrays (numpy sources) -----------------------------------------------------------------
@dataclass
class ArrayInfo:
    shape: Optional[Tuple[int, ...]]  # None: unknown
    dtype: Optional[str]  # numpy dtype name, None: unknown
    node: Optional[cst.BaseExpression] = None  # the expression that made it
    top: Optional[int] = None
    random: bool = False  # made by np.random.* / np.zeros/ones (synthetic data)
    origin: Optional[cst.CSTNode] = None  # the expression that fixed the number of rows

    @property
    def rows(self) -> Optional[int]:
        return self.shape[0] if self.shape else None


_DTYPE_NAMES = {
    "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "bool_", "bool", "float_", "double", "single", "half", "int_", "intc", "longlong",
}
_DTYPE_ALIASES = {"float_": "float64", "double": "float64", "single": "float32", "half": "float16",
                  "int_": "int64", "longlong": "int64", "intc": "int32", "bool_": "bool", "float": "float64",
                  "int": "int64"}


def dtype_name(m: ScriptModel, expr: Optional[cst.BaseExpression], scope: Scope, order: Optional[int],
               env: Optional[Env] = None) -> Optional[str]:
    """`np.float32` / `"float32"` / `ms.int32` / `float` -> "float32"...; None when unknown."""
    if expr is None:
        return None
    if isinstance(expr, cst.Name) and expr.value in ("float", "int", "bool"):
        b = m.lookup(expr.value, scope, order)
        if b is None:
            return _DTYPE_ALIASES.get(expr.value, expr.value)
    q = m.qualname(expr, scope, order)
    if q:
        root, _, last = q.rpartition(".")
        if root in ("numpy", "mindspore", "mindspore.common.dtype", "mindspore.dtype") and last in _DTYPE_NAMES:
            return _DTYPE_ALIASES.get(last, last)
        return None
    followed = _dtype_source(m, expr, scope, order, env)
    if followed is not None:  # a helper's parameter, a config entry: the expression written there
        return dtype_name(m, *followed, env)
    v = value(m, expr, scope, order, env)
    if isinstance(v, str) and v in _DTYPE_NAMES | {"float", "int"}:
        return _DTYPE_ALIASES.get(v, v)
    return None


def _dtype_source(m: ScriptModel, expr, scope: Scope, order: Optional[int], env: Optional[Env], _depth: int = 0):
    """(expr, scope, order) a dtype is written as elsewhere: the argument (or default) of
    the helper call in `env` for a parameter, the entry of a dict / EasyDict / namespace
    the script builds (`cfg["dtype"]`); None otherwise."""
    from msfix.analysis.values import member_expr

    if isinstance(expr, cst.Name) and env:
        b = m.lookup(expr.value, scope, order)
        site = env.get(b.scope) if b is not None and b.kind == "param" else None
        fn = b.scope.node if site is not None else None
        if isinstance(fn, cst.FunctionDef) and isinstance(b.node, cst.Param):
            given = param_arg(site, fn, expr.value)
            if given is None and b.node.default is not None:
                return b.node.default, b.scope.parent or m.module_scope, None
            if given is not None and given is not UNKNOWN:
                return given, site.scope, site.order
        return None
    if isinstance(expr, (cst.Attribute, cst.Subscript)):
        return member_expr(m, expr, scope, order)
    return None


def _nested_shape(v) -> Optional[Tuple[int, ...]]:
    if isinstance(v, (list, tuple)):
        if not v:
            return (0,)
        inner = [_nested_shape(x) for x in v]
        if any(s is None for s in inner) or len(set(inner)) != 1:
            return None
        return (len(v),) + inner[0]  # type: ignore[operator]
    if isinstance(v, (int, float, bool)):
        return ()
    return None


def array_info(m: ScriptModel, expr: Optional[cst.BaseExpression], scope: Scope, order: Optional[int] = None,
               env: Optional[Env] = None, _depth: int = 0) -> Optional[ArrayInfo]:
    """Shape and dtype of a NumPy array built in the script (see analysis/arrays.py)."""
    from msfix.analysis.arrays import array_info as _array_info

    return _array_info(m, expr, scope, order, env, _depth)


# -- sources: columns and sizes ---------------------------------------------------------------
def _array_spec(a: Optional[ArrayInfo]) -> dict:
    if a is None:
        return {"dtype": None, "layout": None, "shape": None, "kind": None}
    row = list(a.shape[1:]) if a.shape else None
    layout = None
    if row is not None and len(row) >= 2:
        layout = "HWC" if len(row) == 3 and row[-1] in (1, 3, 4) else "array"
    return {"dtype": a.dtype, "layout": layout, "shape": row, "kind": None, "array": a}


def _numpy_data(m: ScriptModel, source: Pipeline, env: Optional[Env]):
    """[(column name or None, ArrayInfo|None)] of NumpySlicesDataset's `data`, or UNKNOWN."""
    a = source_arg(source, "data")
    if a is None:
        return UNKNOWN
    got = _list_expr(m, a.value, source.call.scope, source.call.order)
    if got is None:
        return UNKNOWN
    expr, scope, order, _ = got
    if isinstance(expr, cst.Dict):
        out = []
        for el in expr.elements:
            if not isinstance(el, cst.DictElement):
                return UNKNOWN
            k = value(m, el.key, scope, order, env)
            if not isinstance(k, str):
                return UNKNOWN
            out.append((k, array_info(m, el.value, scope, order, env)))
        return out
    if isinstance(expr, cst.Tuple):
        if any(isinstance(el, cst.StarredElement) for el in expr.elements):
            return UNKNOWN
        return [(None, array_info(m, el.value, scope, order, env)) for el in expr.elements]
    if isinstance(expr, cst.List):
        v = value(m, expr, scope, order, env)
        if v is not UNKNOWN:
            shape = _nested_shape(v)
            return [(None, ArrayInfo(shape, None, expr))]
        return [(None, None)]
    info = array_info(m, expr, scope, order, env)
    if info is None:
        return UNKNOWN
    return [(None, info)]


def source_columns(m: ScriptModel, source: Pipeline, env: Optional[Env] = None) -> Union[Dict[str, dict], object]:
    """{column: spec} as the source yields them, in order, or UNKNOWN. A spec has dtype
    ("uint8", ...), layout ("HWC", "encoded", "array", None), shape (per row), kind
    ("image", "label", None); None values are unknown."""
    info = source.facts
    if info is None:
        return UNKNOWN
    names = None
    if "from_arrays" in info or "from_generator" in info:
        cn = source_arg(source, "column_names")
        if cn is not None:
            names = _names(value(m, cn.value, source.call.scope, source.call.order, env))
            if names is UNKNOWN:
                return UNKNOWN
    if "from_arrays" in info:
        data = _numpy_data(m, source, env)
        if data is UNKNOWN:
            if names is None:
                return UNKNOWN
            return {n: _array_spec(None) for n in names}  # type: ignore[union-attr]
        keys = [k for k, _ in data]  # type: ignore[union-attr]
        if names is None:
            names = [k if k is not None else f"column_{i}" for i, k in enumerate(keys)]
        if len(names) != len(data):  # type: ignore[arg-type]
            return {n: _array_spec(None) for n in names}  # type: ignore[union-attr]
        return {n: _array_spec(arr) for n, (_, arr) in zip(names, data)}  # type: ignore[arg-type]
    if "from_generator" in info:
        if names is None:
            return UNKNOWN
        rows = generator_rows(m, source, env)
        if rows is None or len(rows) != len(names):  # type: ignore[arg-type]
            return {n: {"dtype": None, "layout": None, "shape": None, "kind": None} for n in names}  # type: ignore
        out = {}
        for n, arr in zip(names, rows):  # type: ignore[arg-type]
            spec = _array_spec(None)
            if arr is not None:
                # a generator row is one sample: its shape is the row shape
                spec = _array_spec(ArrayInfo((0,) + arr.shape if arr.shape is not None else None, arr.dtype,
                                             arr.node, arr.top, arr.random))
            out[n] = spec
        return out
    cols = {k: dict(v) for k, v in info["columns"].items()}
    if not cols:
        return UNKNOWN
    dec = info.get("decode_arg")
    if dec:
        d = source_value(m, source, dec, default=False, env=env)
        for spec in cols.values():
            if spec.get("layout") == "encoded":
                if d is True:
                    spec["layout"] = "HWC"
                elif d is not False:
                    spec["layout"] = None
    return cols


def _rename(cols: List[str], a, b) -> Union[List[str], object]:
    a, b = _names(a), _names(b)
    if a is UNKNOWN or b is UNKNOWN or len(a) != len(b):  # type: ignore[arg-type]
        return UNKNOWN
    return [b[a.index(c)] if c in a else c for c in cols]  # type: ignore[union-attr]


def stage_columns(m: ScriptModel, pipe: Optional[Pipeline], env: Optional[Env] = None) -> Union[List[str], object]:
    """Column names after `pipe` (following project/rename and map output_columns)."""
    if pipe is None:
        return UNKNOWN
    src = source_columns(m, pipe.source, env)
    if src is UNKNOWN:
        return UNKNOWN
    cols: List[str] = list(src.keys())  # type: ignore[union-attr]
    for st in pipe.stages()[1:]:
        if st.call.has_star_args:
            return UNKNOWN
        if st.op in ("shuffle", "repeat", "take", "skip", "filter", "concat"):
            continue
        if st.op == "batch":
            if st.call.keyword("output_columns") is not None or st.call.keyword("column_order") is not None:
                return UNKNOWN
            continue
        if st.op == "map":
            out = arg_of(st.call, "output_columns", MAP_ARGS)
            if st.call.keyword("column_order") is not None:
                return UNKNOWN
            if out is not None:
                ins = map_columns(m, st, env)
                outs = value(m, out.value, st.call.scope, st.call.order, env)
                if outs is None:
                    continue
                got = _rename(cols, ins, outs) if ins is not UNKNOWN else UNKNOWN
                if got is UNKNOWN:
                    return UNKNOWN
                cols = got  # type: ignore[assignment]
            continue
        if st.op == "project":
            v = _names(literal_arg(m, st.call, "columns", {"columns": 0}, env=env))
            if v is UNKNOWN:
                return UNKNOWN
            cols = list(v)  # type: ignore[arg-type]
            continue
        if st.op == "rename":
            t = {"input_columns": 0, "output_columns": 1}
            got = _rename(cols, literal_arg(m, st.call, "input_columns", t, env=env),
                          literal_arg(m, st.call, "output_columns", t, env=env))
            if got is UNKNOWN:
                return UNKNOWN
            cols = got  # type: ignore[assignment]
            continue
        return UNKNOWN
    return cols


def source_usage(m: ScriptModel, source: Pipeline, env: Optional[Env] = None):
    """The literal `usage` of a source (None when not given), or UNKNOWN."""
    return source_value(m, source, "usage", default=None, env=env)


def source_size(m: ScriptModel, source: Pipeline, env: Optional[Env] = None):
    """Number of rows a source yields, or UNKNOWN."""
    return source_size_origin(m, source, env)[0]


def source_size_origin(m: ScriptModel, source: Pipeline, env: Optional[Env] = None):
    """(number of rows a source yields or UNKNOWN, the expression of the script that fixed
    it or None): the array maker of a NumpySlicesDataset, the `range(n)` / `__len__` of
    a GeneratorDataset source, `num_samples=` when it limits the size."""
    facts_ = source.facts
    if facts_ is None:
        return UNKNOWN, None
    for name in ("num_shards", "sampler"):
        if source.call.keyword(name) is not None:
            return UNKNOWN, None
    if source.call.has_star_args:
        return UNKNOWN, None
    origin = None
    if "sizes" in facts_:
        usage = source_usage(m, source, env)
        if usage is UNKNOWN:
            return UNKNOWN, None
        size = facts_["sizes"].get(usage or "all", UNKNOWN)
    elif "from_arrays" in facts_:
        data = _numpy_data(m, source, env)
        if data is UNKNOWN:
            return UNKNOWN, None
        rows = {arr.rows if arr is not None else None for _, arr in data}  # type: ignore[union-attr]
        if len(rows) != 1 or None in rows:
            return UNKNOWN, None
        size = rows.pop()
        origin = next((arr.origin or arr.node for _, arr in data if arr is not None), None)  # type: ignore
    elif "from_generator" in facts_:
        from msfix.analysis.arrays import generator_size

        got = generator_size(m, source, env)
        if got is None:
            return UNKNOWN, None
        size, origin = got
    else:
        return UNKNOWN, None
    if size is UNKNOWN:
        return UNKNOWN, None
    n = source_value(m, source, "num_samples", default=None, env=env)
    if n is UNKNOWN:
        return UNKNOWN, None
    if isinstance(n, int) and n > 0 and n < size:
        from msfix.analysis.arrays import given_expr

        a = source_arg(source, "num_samples")
        size, origin = n, given_expr(m, a.value, source.call.scope, source.call.order, env)  # type: ignore
    return size, origin


def batches(pipe: Pipeline) -> List[Pipeline]:
    return [st for st in pipe.stages() if st.op == "batch"]


def batch_size(m: ScriptModel, stage: Pipeline, env: Optional[Env] = None):
    return literal_arg(m, stage.call, "batch_size", BATCH_ARGS, env=env)


def drop_remainder(m: ScriptModel, stage: Pipeline, env: Optional[Env] = None):
    return literal_arg(m, stage.call, "drop_remainder", BATCH_ARGS, default=False, env=env)


def rows_after(m: ScriptModel, pipe: Pipeline, env: Optional[Env] = None):
    """Number of rows (batches, after a batch stage) one pass over `pipe` yields."""
    size = source_size(m, pipe.source, env)
    if size is UNKNOWN:
        return UNKNOWN
    return rows_from(m, pipe, size, env)


def rows_from(m: ScriptModel, pipe: Pipeline, size: int, env: Optional[Env] = None):
    """Number of rows one pass over `pipe` yields when its source yields `size` rows."""
    for st in pipe.stages()[1:]:
        if st.op in ("map", "shuffle", "project", "rename"):
            continue
        if not stage_runs(m, st, env):
            continue  # built in an `if` branch this call does not take
        if st.op == "batch":
            bs = batch_size(m, st, env)
            drop = drop_remainder(m, st, env)
            if not isinstance(bs, int) or isinstance(bs, bool) or bs <= 0 or not isinstance(drop, bool):
                return UNKNOWN
            size = size // bs if drop else math.ceil(size / bs)
            continue
        if st.op == "repeat":
            n = literal_arg(m, st.call, "count", {"count": 0}, default=None, env=env)
            if not isinstance(n, int) or n <= 0:
                return UNKNOWN
            size *= n
            continue
        if st.op == "take":
            n = literal_arg(m, st.call, "count", {"count": 0}, default=-1, env=env)
            if not isinstance(n, int):
                return UNKNOWN
            if n >= 0:
                size = min(size, n)
            continue
        if st.op == "skip":
            n = literal_arg(m, st.call, "count", {"count": 0}, env=env)
            if not isinstance(n, int):
                return UNKNOWN
            size = max(0, size - n)
            continue
        return UNKNOWN
    return size


def rows_origin(m: ScriptModel, pipe: Pipeline, env: Optional[Env] = None) -> Optional[cst.CSTNode]:
    """The expression of the script that fixed the number of rows `rows_after` counts
    before any batch: the source's (an array maker, a slice, `range(n)`, `num_samples=`)
    or the count of a `take`/`skip` that cuts it; None when not known."""
    size, origin = source_size_origin(m, pipe.source, env)
    if size is UNKNOWN:
        return None
    for st in pipe.stages()[1:]:
        if st.op in ("take", "skip"):
            a = arg_of(st.call, "count", {"count": 0})
            n = literal_arg(m, st.call, "count", {"count": 0}, default=-1 if st.op == "take" else UNKNOWN, env=env)
            if not isinstance(n, int):
                return None
            if st.op == "take" and 0 <= n < size or st.op == "skip" and n > 0:
                from msfix.analysis.arrays import given_expr

                size = min(size, n) if st.op == "take" else max(0, size - n)
                origin = given_expr(m, a.value, st.call.scope, st.call.order, env) if a is not None else st.call.node
        elif st.op in ("batch", "repeat"):
            break
    return origin


def stage_runs(m: ScriptModel, stage: Pipeline, env: Optional[Env] = None) -> bool:
    """False when the `if` branch the stage is built in is not taken for the helper call
    in `env` (`if training: d = d.batch(...)` for a call with training=False); True
    when it is or when that is not known."""
    return branch_taken(m, stage.call.statement, stage.call.scope, stage.call.order, env)


def branch_taken(m: ScriptModel, statement, scope: Scope, order: Optional[int], env: Optional[Env] = None) -> bool:
    """False when an `if` around `statement` (in its function) is known not to take the
    branch holding it, with the parameters of the helper call in `env`; else True."""
    for node, side in _structure(m).branches.get(id(statement), ()):
        t = value(m, node.test, scope, order, env)
        if t is not UNKNOWN and bool(t) != side:
            return False
    return _reached(m, statement, scope, order, env)


def _reached(m: ScriptModel, statement, scope: Scope, order: Optional[int], env: Optional[Env]) -> bool:
    """False when an earlier `if` of the function, whose condition is known, takes a branch
    that ends in `return`/`raise` (`if mode == "train": ... return ds` then the eval
    pipeline), or a `return`/`raise` comes before `statement` in its block."""
    fn = scope.node
    if not isinstance(fn, cst.FunctionDef):
        return True
    idx = _statement_index(m, fn)
    s = statement
    while s is not None and id(s) in idx:
        siblings, i, parent = idx[id(s)]
        for prev in siblings[:i]:
            if _exits(prev):
                return False
            if isinstance(prev, cst.If) and _taken_branch_exits(m, prev, scope, order, env):
                return False
        s = parent
    return True


def _exits(st) -> bool:
    return isinstance(st, cst.SimpleStatementLine) and bool(st.body) and isinstance(st.body[-1], (cst.Return, cst.Raise))


def _taken_branch_exits(m: ScriptModel, node: cst.If, scope: Scope, order: Optional[int], env: Optional[Env]) -> bool:
    t = value(m, node.test, scope, order, env)
    if t is UNKNOWN:
        return False
    if t:
        body = _block(node.body)
        return bool(body) and _exits(body[-1])
    if isinstance(node.orelse, cst.If):
        return _taken_branch_exits(m, node.orelse, scope, order, env)
    if isinstance(node.orelse, cst.Else):
        body = _block(node.orelse.body)
        return bool(body) and _exits(body[-1])
    return False


def _statement_index(m: ScriptModel, fn: cst.FunctionDef) -> Dict[int, tuple]:
    """id(statement) -> (the statements of its block, its position, the compound statement
    holding the block or None) for the statements of `fn` (not of nested functions)."""
    c = _cache(m)
    key = ("statement_index", id(fn))
    if key in c:
        return c[key]
    idx: Dict[int, tuple] = {}

    def walk(stmts, parent) -> None:
        for i, st in enumerate(stmts):
            idx[id(st)] = (stmts, i, parent)
            if isinstance(st, (cst.FunctionDef, cst.ClassDef)):
                continue
            for block in _blocks_of(st):
                walk(block, st)

    walk(_block(fn.body), None)
    c[key] = idx
    return idx


def _blocks_of(st) -> list:
    out = []
    if isinstance(st, cst.If):
        out.append(_block(st.body))
        if isinstance(st.orelse, cst.If):
            out.append([st.orelse])
        elif st.orelse is not None:
            out.append(_block(st.orelse.body))
    elif isinstance(st, (cst.For, cst.While, cst.With)):
        out.append(_block(st.body))
        if getattr(st, "orelse", None) is not None:
            out.append(_block(st.orelse.body))
    elif isinstance(st, (cst.Try, cst.TryStar)):
        out.append(_block(st.body))
        out.extend(_block(h.body) for h in st.handlers)
        out.extend(_block(x.body) for x in (st.orelse, st.finalbody) if x is not None)
    elif isinstance(st, cst.Match):
        out.extend(_block(case.body) for case in st.cases)
    return out


def steps_per_epoch(m: ScriptModel, pipe: Pipeline, env: Optional[Env] = None):
    """Number of rows (batches, after a batch stage) one epoch of `pipe` yields. Pass the
    `env` of a DatasetView for datasets built by helper functions."""
    return rows_after(m, pipe, env)



def first_batch(pipe: Pipeline) -> Optional[Pipeline]:
    for st in pipe.stages():
        if st.op == "batch":
            return st
    return None


def maps_on_column(m: ScriptModel, pipe: Pipeline, column: str, before: Optional[Pipeline] = None,
                   env: Optional[Env] = None):
    """[(stage, ops)] of the map stages that touch `column` (before stage `before`), or
    UNKNOWN if some map's columns or ops cannot be read."""
    out: List[Tuple[Pipeline, list]] = []
    for st in pipe.stages():
        if before is not None and st is before:
            break
        if st.op != "map":
            continue
        cols = map_columns(m, st, env)
        if cols is UNKNOWN:
            return UNKNOWN
        if column in cols:  # type: ignore[operator]
            ops = map_ops(m, st)
            if ops is UNKNOWN:
                return UNKNOWN
            out.append((st, ops))
    return out


# -- what happens to one column ------------------------------------------------------------
@dataclass
class Event:
    kind: str  # "op" (a transform), "batch", "unknown" (a map that may touch the column)
    stage: Pipeline
    op: Optional[MapOp] = None
    batched: bool = False  # after a batch stage


def column_events(m: ScriptModel, pipe: Pipeline, column: str, env: Optional[Env] = None) -> List[Event]:
    """The transforms applied to `column` along `pipe`, in order, with the batch stages.
    An "unknown" event stands for a map that may change the column in unknown ways (an
    unreadable ops list or columns); readers should stop there."""
    out: List[Event] = []
    name = column
    batched = False
    for st in pipe.stages()[1:]:
        if st.op == "batch":
            out.append(Event("batch", st, batched=batched))
            batched = True
            if st.call.keyword("per_batch_map") is not None:
                out.append(Event("unknown", st, batched=True))
                return out
            continue
        if st.op == "rename":
            t = {"input_columns": 0, "output_columns": 1}
            got = _rename([name], literal_arg(m, st.call, "input_columns", t, env=env),
                          literal_arg(m, st.call, "output_columns", t, env=env))
            if got is UNKNOWN:
                out.append(Event("unknown", st, batched=batched))
                return out
            name = got[0]  # type: ignore[index]
            continue
        if st.op != "map":
            continue
        cols = map_columns(m, st, env)
        if cols is UNKNOWN:
            out.append(Event("unknown", st, batched=batched))
            continue
        if name not in cols:  # type: ignore[operator]
            continue
        ops = map_ops_partial(m, st)
        if ops is UNKNOWN or len(cols) != 1:  # type: ignore[arg-type]
            out.append(Event("unknown", st, batched=batched))
        else:
            for op in ops:  # type: ignore[union-attr]
                out.append(Event("op" if op.known else "unknown", st, op, batched))
        outc = arg_of(st.call, "output_columns", MAP_ARGS)
        if outc is not None:
            got = _rename([name], cols, value(m, outc.value, st.call.scope, st.call.order, env))
            if got is UNKNOWN:
                out.append(Event("unknown", st, batched=batched))
                return out
            name = got[0]  # type: ignore[index]
    return out


def label_column(m: ScriptModel, pipe: Pipeline, env: Optional[Env] = None) -> Optional[str]:
    """The column a `Model` with a loss reads labels from: the last of two columns."""
    cols = stage_columns(m, pipe, env)
    if isinstance(cols, list) and len(cols) == 2:
        return cols[1]
    return None


def column_dtype(m: ScriptModel, pipe: Pipeline, column: str, env: Optional[Env] = None) -> Optional[str]:
    """dtype of `column` at the end of `pipe` when casts and sources tell it, else None."""
    src = source_columns(m, pipe.source, env)
    if src is UNKNOWN:
        return None
    # follow renames backwards is complex; only plain pipelines whose column keeps its name
    spec = src.get(column)  # type: ignore[union-attr]
    if spec is None:
        return None
    dt = spec.get("dtype")
    for ev in column_events(m, pipe, column, env):
        if ev.kind == "unknown":
            return None
        if ev.kind != "op":
            continue
        short = ev.op.short
        if short in ("TypeCast", "ToType"):
            call = ev.op.call
            if call is None or not call.args:
                return None
            dt = dtype_name(m, call.args[0].value, ev.op.scope, ev.op.order, env)
        elif short == "OneHot":
            dt = "onehot"
        elif short in ("Rescale", "Normalize", "ToTensor"):
            dt = "float32"
        elif not ev.op.is_vision and not short.startswith(("Random", "Resize", "Crop", "Center")):
            return None
    return dt


# -- GeneratorDataset sources defined in the script -----------------------------------------
def _walk_returns(node: cst.CSTNode, kind: str, out: list) -> None:
    """Yield (kind="yield") or Return (kind="return") values in a function body, not in
    nested functions, lambdas or classes."""
    for child in _children(node):
        if isinstance(child, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        if kind == "yield" and isinstance(child, cst.Yield):
            if isinstance(child.value, cst.From):
                out.append(None)
            else:
                out.append(child.value)
        elif kind == "return" and isinstance(child, cst.Return):
            out.append(child.value)
        _walk_returns(child, kind, out)


def _scope_of_def(m: ScriptModel, fn: cst.FunctionDef) -> Optional[Scope]:
    for info in m.functions.values():
        if info.node is fn:
            return info.scope
    c = _cache(m)
    idx = c.get("def_scopes")
    if idx is None:
        idx = {}
        # scopes holding a call or a name read (a `__getitem__` that only indexes arrays)
        for s in [site.scope for site in m.calls] + [r.lex for r in m.reads]:
            while s is not None:
                if s.kind == "function" and s.node is not None:
                    idx.setdefault(id(s.node), s)
                s = s.parent
        c["def_scopes"] = idx
    return idx.get(id(fn))


def _class_rows(m: ScriptModel, cls: cst.ClassDef):
    """Row expressions returned by a source class's `__getitem__` (else `__next__`), or None."""
    if not isinstance(cls.body, cst.IndentedBlock):
        return None
    for meth in ("__getitem__", "__next__"):
        fn = next((el for el in cls.body.body if isinstance(el, cst.FunctionDef) and el.name.value == meth), None)
        if fn is not None:
            return _row_exprs(m, fn, "return")
    return None


def _row_exprs(m: ScriptModel, fn: cst.FunctionDef, kind: str):
    """[(scope, [column expressions])] for each yield/return of `fn`, or None."""
    scope = _scope_of_def(m, fn)
    if scope is None:
        return None
    vals: list = []
    _walk_returns(fn.body, kind, vals)
    if not vals or any(v is None for v in vals):
        return None
    rows = []
    for v in vals:
        if isinstance(v, cst.Tuple):
            if any(isinstance(el, cst.StarredElement) for el in v.elements):
                return None
            rows.append((scope, [el.value for el in v.elements]))
        else:
            rows.append((scope, [v]))
    return rows


def generator_rows(m: ScriptModel, source: Pipeline, env: Optional[Env] = None):
    """[ArrayInfo|None per column] of the rows a GeneratorDataset's local generator
    function (or class with __getitem__/__next__) yields, or None when unknown."""
    a = source_arg(source, "source")
    if a is None:
        return None
    expr, scope, order = a.value, source.call.scope, source.call.order
    rows = None
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value in ("list", "tuple") \
            and m.lookup(expr.func.value, scope, order) is None and len(expr.args) == 1 \
            and not expr.args[0].star and expr.args[0].keyword is None \
            and isinstance(expr.args[0].value, cst.Call):
        expr = expr.args[0].value  # `list(gen(n))`: the rows the generator yields
        q = m.qualname(expr.func, scope, order)
        if not (q and q.startswith("<local>.") and q[8:] in m.functions):
            return None
    if isinstance(expr, cst.Call):
        q = m.qualname(expr.func, scope, order)
        if q and q.startswith("<local>."):
            name = q[8:]
            if name in m.functions:
                rows = _row_exprs(m, m.functions[name].node, "yield")
            elif name in m.classes:
                rows = _class_rows(m, m.classes[name])
    elif isinstance(expr, cst.Name):
        b = m.lookup(expr.value, scope, order)
        if b is not None and b.kind == "def" and expr.value in m.functions:
            rows = _row_exprs(m, m.functions[expr.value].node, "yield")
        elif b is not None and b.kind == "assign" and isinstance(b.value, cst.Call):
            q = m.qualname(b.value.func, b.scope, b.order)
            if q and q.startswith("<local>.") and q[8:] in m.classes:
                rows = _class_rows(m, m.classes[q[8:]])
            elif q and q.startswith("<local>.") and q[8:] in m.functions:
                rows = _row_exprs(m, m.functions[q[8:]].node, "yield")
    if not rows:
        return None
    width = {len(cols) for _, cols in rows}
    if len(width) != 1:
        return None
    out = []
    for i in range(width.pop()):
        infos = [array_info(m, cols[i], s, None, None) for s, cols in rows]
        if any(x is None for x in infos):
            out.append(None)
            continue
        dts = {x.dtype for x in infos}
        shapes = {x.shape for x in infos}
        first = infos[0]
        out.append(ArrayInfo(first.shape if len(shapes) == 1 else None,
                             first.dtype if len(dts) == 1 else None, first.node, first.top, first.random))
    return out


# -- train / eval role of a dataset ----------------------------------------------------------
# "Is this training or evaluation data?" is decided here, once, for every rule. The role of
# the data at one pipeline stage comes from, in order:
#   1. how the data from that stage on is used: `Model.train`/`Model.fit` (train),
#      `Model.eval`/`fit(valid_dataset=)` (eval), a `train_dataset=`/`eval_dataset=` keyword
#      of any call (a Trainer), a `for ... in ds` / `ds.create_*_iterator()` loop whose body
#      runs a training step (value_and_grad/grad function, optimizer or TrainOneStepCell call)
#      or evaluates (a metric `update`, predictions' argmax compared with labels) -- also through
#      function parameters (`train_loop(model, train_ds)`), `zip` and `concat`;
#   2. the branch it is built in, when the condition reads a parameter of the helper
#      function (`if do_train: ... else: <eval data>`);
#   3. a literal `usage="train"` / `usage="test"`;
#   4. variable names (train / test / eval / val ...), as a last resort, and only for
#      data not iterated in a loop that neither trains nor evaluates (a demo).
# Uses that disagree with the branch, or both roles without a branch, give "unknown":
# rules report nothing for unknown data.

TRAIN, EVAL, NO_ROLE = "train", "eval", "unknown"

GRAD_QUALNAMES = frozenset({
    "mindspore.value_and_grad", "mindspore.grad", "mindspore.ops.value_and_grad", "mindspore.ops.grad",
    "mindspore.ops.GradOperation", "mindspore.ops.composite.GradOperation", "mindspore.ops.composite.grad",
    "mindspore.ops.composite.value_and_grad",
})
TRAIN_CELLS = frozenset({
    "mindspore.nn.TrainOneStepCell", "mindspore.nn.TrainOneStepWithLossScaleCell",
    "mindspore.boost.BoostTrainOneStepCell", "mindspore.nn.wrap.TrainOneStepCell",
})
USE_KEYWORDS = {"train_dataset": TRAIN, "eval_dataset": EVAL, "valid_dataset": EVAL, "test_dataset": EVAL,
                "val_dataset": EVAL, "validation_dataset": EVAL}
ITERATORS = frozenset({"create_tuple_iterator", "create_dict_iterator"})
ITER_WRAPPERS = frozenset({"enumerate", "tqdm", "iter", "trange"})

_WORD = r"(?:ds|data|dataset)?_?({})_?(?:set|sets|data|dataset|datasets|ds|loader|iter|iterator|pipe|pipeline)?"
_TRAIN_WORDS = ("train", "training", "trn")
_EVAL_WORDS = ("test", "testing", "eval", "evaluation", "val", "valid", "validation", "dev")


def _word_re(words):
    return re.compile("^" + _WORD.format("|".join(words)) + "$")


_TRAIN_RE = _word_re(_TRAIN_WORDS)
_EVAL_RE = _word_re(_EVAL_WORDS)


def _tokens(name: str) -> List[str]:
    parts = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()
    return [t for t in re.split(r"[^a-z]+", parts) if t]


def name_role(name: str) -> str:
    """train / eval / unknown from an identifier (`train_ds`, `testset`, `ds_val`)."""
    toks = _tokens(name)
    words = set(toks) | {name.lower().replace("_", "")}
    t = any(_TRAIN_RE.match(w) for w in words)
    e = any(_EVAL_RE.match(w) for w in words)
    if t != e:
        return TRAIN if t else EVAL
    return NO_ROLE


def _cond_role(m: ScriptModel, test: cst.BaseExpression, scope: Optional[Scope]) -> str:
    """Role of the true branch of an `if` whose condition reads a parameter of the function
    it is in (`if do_train:`, `if not is_training:`, `if mode == "train":`), else unknown."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        r = _cond_role(m, test.expression, scope)
        return {TRAIN: EVAL, EVAL: TRAIN}.get(r, NO_ROLE)
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        comp = test.comparisons[0]
        lit = comp.comparator if isinstance(comp.comparator, cst.SimpleString) else (
            test.left if isinstance(test.left, cst.SimpleString) else None)
        other = test.left if lit is comp.comparator else comp.comparator
        if lit is None or not _reads_param(m, other, scope):
            return NO_ROLE
        word = lit.evaluated_value if isinstance(lit.evaluated_value, str) else ""
        r = name_role(word)
        if isinstance(comp.operator, (cst.Equal, cst.Is)):
            return r
        if isinstance(comp.operator, (cst.NotEqual, cst.IsNot)):
            return {TRAIN: EVAL, EVAL: TRAIN}.get(r, NO_ROLE)
        return NO_ROLE
    if isinstance(test, (cst.Name, cst.Attribute)) and _reads_param(m, test, scope):
        ident = test.value if isinstance(test, cst.Name) else test.attr.value
        toks = [t for t in _tokens(ident) if t not in ("is", "do", "for", "in", "run", "use", "mode", "flag")]
        if len(toks) == 1:
            if toks[0] in _TRAIN_WORDS:
                return TRAIN
            if toks[0] in _EVAL_WORDS or toks[0] in ("evaluate", "infer", "inference", "predict"):
                return EVAL
    return NO_ROLE


def _reads_param(m: ScriptModel, expr: cst.BaseExpression, scope: Optional[Scope]) -> bool:
    """Does `expr` (a name or `name.attr`) read a parameter of the function `scope` is in?"""
    while isinstance(expr, cst.Attribute):
        expr = expr.value
    if not isinstance(expr, cst.Name) or scope is None:
        return False
    b = m.lookup(expr.value, scope)
    return b is not None and b.kind == "param"


@dataclass
class _Structure:
    """Statement-level facts (one walk over statements, not expressions): the `if`
    branches each statement is in, the `for` loops, and the statements inside each
    loop, function and class (nested ones included)."""

    branches: Dict[int, tuple] = field(default_factory=dict)  # id(stmt) -> ((If, in_body), ...), innermost last
    loops: List[cst.For] = field(default_factory=list)
    inside: Dict[int, set] = field(default_factory=dict)  # id(For/FunctionDef/ClassDef) -> ids of statements


def _block(node) -> list:
    return list(node.body) if isinstance(node, cst.IndentedBlock) else []


def _structure(m: ScriptModel) -> _Structure:
    c = _cache(m)
    if "structure" in c:
        return c["structure"]
    out = _Structure()

    def walk(stmts, ctx: tuple, holders: tuple) -> None:
        for st in stmts:
            out.branches[id(st)] = ctx
            for h in holders:
                h.add(id(st))
            if isinstance(st, cst.If):
                walk(_block(st.body), ctx + ((st, True),), holders)
                if isinstance(st.orelse, cst.If):
                    walk([st.orelse], ctx + ((st, False),), holders)
                elif st.orelse is not None:
                    walk(_block(st.orelse.body), ctx + ((st, False),), holders)
            elif isinstance(st, (cst.FunctionDef, cst.ClassDef, cst.For)):
                own: set = set()
                out.inside[id(st)] = own
                if not isinstance(st.body, cst.IndentedBlock):
                    own.add(id(st))  # `for x in d: f(x)`: the body's calls belong to the statement
                inner = () if not isinstance(st, cst.For) else ctx
                if isinstance(st, cst.For):
                    out.loops.append(st)
                walk(_block(st.body), inner, holders + (own,))
                if isinstance(st, cst.For) and st.orelse is not None:
                    walk(_block(st.orelse.body), ctx, holders)
            elif isinstance(st, (cst.While, cst.With)):
                walk(_block(st.body), ctx, holders)
                if isinstance(st, cst.While) and st.orelse is not None:
                    walk(_block(st.orelse.body), ctx, holders)
            elif isinstance(st, (cst.Try, cst.TryStar)):
                walk(_block(st.body), ctx, holders)
                for h in st.handlers:
                    walk(_block(h.body), ctx, holders)
                for extra in (st.orelse, st.finalbody):
                    if extra is not None:
                        walk(_block(extra.body), ctx, holders)
            elif isinstance(st, cst.Match):
                for case in st.cases:
                    walk(_block(case.body), ctx, holders)

    walk(m.module.body, (), ())
    c["structure"] = out
    return out


def _calls_in(m: ScriptModel, node: cst.CSTNode) -> List[CallSite]:
    """The calls in the body of a loop, function or class (nested bodies included)."""
    ids = _structure(m).inside.get(id(node))
    if not ids:
        return []
    c = _cache(m)
    by = c.get("calls_by_statement")
    if by is None:
        by = c["calls_by_statement"] = {}
        for site in m.calls:
            by.setdefault(id(site.statement), []).append(site)
    return [site for i in ids for site in by.get(i, ())]


def branch_role(m: ScriptModel, pipe: Pipeline) -> str:
    """Role the innermost telling `if` branch the stage `pipe` is built in gives it (see
    `_cond_role`). Only the stage's own branch: a stage after the end of an if/else serves
    both branches, whichever of them msfix chained it to."""
    br = _structure(m).branches
    for node, side in reversed(br.get(id(pipe.call.statement), ())):
        r = _cond_role(m, node.test, pipe.call.scope)
        if r != NO_ROLE:
            return r if side else {TRAIN: EVAL, EVAL: TRAIN}[r]
    return NO_ROLE


# -- what a loop over a dataset does --
def _trains_class(m: ScriptModel, name: str) -> bool:
    cls = m.classes.get(name)
    if cls is None:
        return False
    for base in cls.bases:
        q = m.qualname(base.value, m.module_scope)
        if q in TRAIN_CELLS:
            return True
    return any(site.qualname in GRAD_QUALNAMES for site in _calls_in(m, cls))


def _is_train_step(m: ScriptModel, site: CallSite, depth: int, seen: set) -> bool:
    """Does the call `site` run a training step (directly, or through local functions)?"""
    q = site.qualname
    if q in GRAD_QUALNAMES:
        return True
    if q and q.startswith("<local>."):
        name = q[8:]
        if name in m.functions:
            return _fn_trains(m, m.functions[name].node, depth + 1, seen)
    return _callable_trains(m, site.node.func, site.scope, site.order, depth, seen)


def _callable_trains(m: ScriptModel, func: cst.BaseExpression, scope: Scope, order: Optional[int], depth: int,
                     seen: set) -> bool:
    """Is `func` a training step: a grad function, an optimizer, a TrainOneStepCell (or a
    script class that computes gradients), a function that calls one -- for a parameter
    (`def train_model(train_net, ds): ... train_net(x, y)`), the argument of any call?"""
    from msfix.analysis.training import is_optimizer_class

    if depth > 3:
        return False
    made = m.instance_call(func, scope, order)
    if made is not None:
        mq = made.qualname
        if mq in GRAD_QUALNAMES or mq in TRAIN_CELLS or is_optimizer_class(mq):
            return True
        if mq and mq.startswith("<local>.") and _trains_class(m, mq[8:]):
            return True
    if isinstance(func, cst.Name):
        b = m.lookup(func.value, scope, order)
        if b is not None and b.kind == "def" and isinstance(b.node, cst.FunctionDef):
            return _fn_trains(m, b.node, depth + 1, seen)
        if b is not None and b.kind == "param" and isinstance(b.scope.node, cst.FunctionDef):
            for site in call_sites(m, b.scope):
                given = param_arg(site, b.scope.node, func.value)
                if given is not None and given is not UNKNOWN and \
                        _callable_trains(m, given, site.scope, site.order, depth + 1, seen):
                    return True
    return False


def _fn_trains(m: ScriptModel, fn: cst.FunctionDef, depth: int, seen: set) -> bool:
    if depth > 3 or id(fn) in seen:
        return False
    seen.add(id(fn))
    return any(_is_train_step(m, s, depth, seen) for s in _calls_in(m, fn))


def _argmax_compared(sites: List[CallSite]) -> bool:
    """Does a statement with one of these calls compare an `argmax` with something
    (`correct += (pred.argmax(1) == label).sum()`)?"""
    def compares(n: cst.CSTNode, call: cst.Call) -> bool:
        if isinstance(n, cst.Comparison) and any(isinstance(c.operator, cst.Equal) for c in n.comparisons):
            return _contains(n, call)
        return any(compares(c, call) for c in _children(n))

    for s in sites:
        f = s.node.func
        name = f.attr.value if isinstance(f, cst.Attribute) else f.value if isinstance(f, cst.Name) else ""
        if name.lower() == "argmax" and isinstance(s.statement, cst.SimpleStatementLine) \
                and compares(s.statement, s.node):
            return True
    return False


def _contains(tree: cst.CSTNode, node: cst.CSTNode) -> bool:
    return tree is node or any(_contains(c, node) for c in _children(tree))


def _loop_kind(m: ScriptModel, loop: cst.For) -> str:
    """train / eval / "demo" for what the body of a loop over a dataset does: a training
    step; a metric `update` or predictions compared with labels; anything else (printing,
    plotting, inference, feature extraction)."""
    sites = _calls_in(m, loop)
    seen: set = set()
    if any(_is_train_step(m, s, 0, seen) for s in sites):
        return TRAIN
    for s in sites:
        if s.method == "update" and isinstance(s.node.func, cst.Attribute):
            made = m.instance_call(s.node.func.value, s.scope, s.order)
            if made is not None and (made.qualname or "").startswith(("mindspore.train.", "mindspore.nn.metrics")):
                return EVAL
    if _argmax_compared(sites):
        return EVAL
    return "demo"


def _loop_uses(m: ScriptModel):
    """(dataset expression, scope, order, kind) for each `for` loop over a dataset."""
    out = []
    for loop in _structure(m).loops:
        expr = loop.iter
        for _ in range(3):
            if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value in ITER_WRAPPERS \
                    and expr.args and expr.args[0].keyword is None and not expr.args[0].star:
                expr = expr.args[0].value
            else:
                break
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value in ITERATORS:
            expr = expr.func.value
        root = expr
        while isinstance(root, cst.Attribute):
            root = root.value
        if not isinstance(root, cst.Name):
            continue
        read = m.read_of(root)
        if read is None:
            continue
        scope = read.lex
        while scope.kind in ("lambda", "comprehension") and scope.parent is not None:
            scope = scope.parent
        out.append((expr, scope, read.order, _loop_kind(m, loop)))
    return out


def _use_exprs(m: ScriptModel):
    """(expression, scope, order, role) for every place a dataset is trained on, evaluated
    or iterated (role "demo": a loop that neither trains nor evaluates)."""
    out = []
    for site in m.calls_to("mindspore.train.Model.train", "mindspore.train.Model.fit",
                           "mindspore.train.Model.eval"):
        if site.method in ("train", "fit"):
            args = [(site.arg("train_dataset", 1), TRAIN)]
            if site.method == "fit":
                args.append((site.arg("valid_dataset", 2), EVAL))
        else:
            args = [(site.arg("valid_dataset", 0), EVAL)]
        out.extend((a.value, site.scope, site.order, r) for a, r in args if a is not None)
    for site in m.calls:
        if site.qualname in ("mindspore.train.Model.train", "mindspore.train.Model.fit", "mindspore.train.Model.eval"):
            continue
        for a in site.node.args:
            if a.keyword is not None and a.keyword.value in USE_KEYWORDS:
                out.append((a.value, site.scope, site.order, USE_KEYWORDS[a.keyword.value]))
    out.extend(_loop_uses(m))
    return out


def _use_targets(m: ScriptModel, expr, scope: Scope, order: Optional[int], depth: int = 0) -> List[int]:
    """ids of the call nodes whose dataset `expr` holds; through function parameters, the
    arguments of every call of the function."""
    if depth > 3:
        return []
    out = []
    v = dataset_view(m, expr, scope, order)
    if v is not None and m.pipeline_of(v.pipe.call.node, v.pipe.call.scope) is v.pipe:
        out.append(id(v.pipe.call.node))  # not a helper's stage on its caller's dataset: shared by all calls
    made = m.instance_call(expr, scope, order)
    if made is not None:
        out.append(id(made.node))
    if out or not isinstance(expr, cst.Name):
        return out
    b = m.lookup(expr.value, scope, order)
    if b is None or b.kind != "param" or not isinstance(b.scope.node, cst.FunctionDef):
        return out
    for site in call_sites(m, b.scope):
        given = param_arg(site, b.scope.node, expr.value)
        if given is None or given is UNKNOWN:
            continue
        out.extend(_use_targets(m, given, site.scope, site.order, depth + 1))
    return out


def _uses_by_node(m: ScriptModel) -> Dict[int, set]:
    c = _cache(m)
    if "role_uses" not in c:
        by: Dict[int, set] = {}
        for expr, scope, order, role in _use_exprs(m):
            for t in _use_targets(m, expr, scope, order):
                by.setdefault(t, set()).add(role)
        c["role_uses"] = by
    return c["role_uses"]


def downstream(m: ScriptModel, pipe: Pipeline) -> List[CallSite]:
    """The calls the data of `pipe` flows through: its derived stages, then `zip`/`concat`
    of it with other datasets and the stages applied to those."""
    return _downstream(m, pipe, None)


def downstream_of_call(m: ScriptModel, site: CallSite) -> List[CallSite]:
    """The calls the dataset one call of a helper function returns flows through, at that
    call site only (`train = create_dataset(...)`; `train.batch(32)`; ...)."""
    return _downstream(m, None, site)


def _downstream(m: ScriptModel, pipe: Optional[Pipeline], start: Optional[CallSite]) -> List[CallSite]:
    c = _cache(m)
    key = ("downstream", id(pipe) if pipe is not None else None, id(start) if start is not None else None)
    if key in c:
        return c[key]
    combiners = [s for s in m.calls if s.method in PIPELINE_METHODS or s.qualname in ("mindspore.dataset.zip",)
                 or (s.qualname or "").startswith("<local>.") and s.qualname[8:] in m.functions]
    nodes: Dict[int, CallSite] = {}

    def add(p: Pipeline) -> None:
        for d in m.derived(p):
            nodes.setdefault(id(d.call.node), d.call)

    if pipe is not None:
        add(pipe)
    if start is not None:
        nodes[id(start.node)] = start
    for _ in range(4):
        grew = False
        for s in combiners:
            if id(s.node) in nodes:
                continue
            exprs = []
            if isinstance(s.node.func, cst.Attribute) and s.method in PIPELINE_METHODS:
                exprs.append(s.node.func.value)
            if s.method in ("zip", "concat") or s.qualname == "mindspore.dataset.zip":
                for a in s.node.args:
                    exprs.extend([el.value for el in a.value.elements]
                                 if isinstance(a.value, (cst.Tuple, cst.List)) else [a.value])
            helper = None
            if s.qualname and s.qualname.startswith("<local>.") and s.qualname[8:] in m.functions:
                helper = m.functions[s.qualname[8:]]
                flows = _param_flow(m, helper)
                for pname, (returned, inner) in flows.items():
                    given = param_arg(s, helper.node, pname)
                    if given is None or given is UNKNOWN or not _holds(m, given, s.scope, s.order, nodes):
                        continue
                    for site in inner:  # `def prep(d): return d.shuffle(100).batch(8)`
                        nodes.setdefault(id(site.node), site)
                    if returned:
                        exprs.append(given)
            if any(_holds(m, e, s.scope, s.order, nodes) for e in exprs):
                nodes[id(s.node)] = s
                p = m._pipe_by_node.get(id(s.node))
                if p is not None:
                    add(p)
                grew = True
        if not grew:
            break
    out = sorted(nodes.values(), key=lambda s: s.order)
    c[key] = out
    return out


def _holds(m: ScriptModel, expr, scope: Scope, order: Optional[int], nodes: Dict[int, CallSite]) -> bool:
    """Does `expr` hold the data of one of the calls in `nodes`?"""
    p = m.pipeline_of(expr, scope, order)
    made = m.instance_call(expr, scope, order)
    return (p is not None and id(p.call.node) in nodes) or (made is not None and id(made.node) in nodes)


def _chain_root(expr) -> Optional[str]:
    """`d` for `d.map(...).batch(...)` (a method-call chain on a name), else None."""
    while isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
        expr = expr.func.value
    return expr.value if isinstance(expr, cst.Name) else None


def _param_flow(m: ScriptModel, info) -> Dict[str, Tuple[bool, List[CallSite]]]:
    """For each parameter of a script function: (is data derived from it returned, the
    dataset-method calls the function applies to it)."""
    c = _cache(m)
    key = ("param_flow", id(info.node))
    if key in c:
        return c[key]
    fn = info.node
    out: Dict[str, Tuple[bool, List[CallSite]]] = {}
    calls = [s for s in _calls_in(m, fn) if s.method in PIPELINE_METHODS and isinstance(s.node.func, cst.Attribute)]
    for p in [*fn.params.posonly_params, *fn.params.params, *fn.params.kwonly_params]:
        names = {p.name.value}
        for _ in range(2):
            for bs in info.scope.bindings.values():
                for b in bs:
                    if b.kind == "assign" and b.value is not None and _chain_root(b.value) in names:
                        names.add(b.name)
        inner = [s for s in calls if _chain_root(s.node.func.value) in names]
        returned = any(_chain_root(r) in names for r in info.returns if r is not None)
        if inner or returned:
            out[p.name.value] = (returned, inner)
    c[key] = out
    return out


PIPELINE_METHODS = frozenset({"map", "batch", "padded_batch", "shuffle", "repeat", "project", "rename", "take",
                              "skip", "filter", "concat", "zip", "bucket_batch_by_length", "split",
                              "use_sampler", "add_sampler"})


def later_shuffle(m: ScriptModel, pipe: Pipeline) -> bool:
    """Is the data of `pipe` shuffled by a later `shuffle` stage (also after zip/concat)?"""
    return any(s.method == "shuffle" and s is not pipe.call for s in downstream(m, pipe))


def call_role(m: ScriptModel, site: CallSite) -> str:
    """train / eval / unknown for the dataset one call of a helper function returns: from
    the uses of that call's result, else from the name it is assigned to."""
    by = _uses_by_node(m)
    uses: set = set()
    for s in downstream_of_call(m, site):
        uses |= by.get(id(s.node), set())
    demo = "demo" in uses
    uses.discard("demo")
    if len(uses) == 1:
        return next(iter(uses))
    if uses or demo:
        return NO_ROLE
    names = {s.target for s in downstream_of_call(m, site) if s.target}
    found = {name_role(n) for n in names} - {NO_ROLE}
    return found.pop() if len(found) == 1 else NO_ROLE


def in_branch(m: ScriptModel, site: CallSite) -> bool:
    """Is `site` inside an `if` of its function (or module) body?"""
    return bool(_structure(m).branches.get(id(site.statement)))


def role_of(m: ScriptModel, pipe: Pipeline) -> str:
    """train / eval / unknown for the data at stage `pipe` (see the section comment)."""
    c = _cache(m)
    key = ("role", id(pipe))
    if key in c:
        return c[key]
    c[key] = r = _decide_role(m, pipe)
    return r


def _decide_role(m: ScriptModel, pipe: Pipeline) -> str:
    by = _uses_by_node(m)
    uses: set = set()
    for s in downstream(m, pipe):
        uses |= by.get(id(s.node), set())
    demo = "demo" in uses
    uses.discard("demo")
    branch = branch_role(m, pipe)
    if len(uses) == 1:
        r = next(iter(uses))
        return r if branch in (NO_ROLE, r) else NO_ROLE
    if uses:
        return branch
    if branch != NO_ROLE:
        return branch
    src = pipe.source
    if src.op == "source":
        usage = source_usage(m, src)
        if isinstance(usage, str):
            r = name_role(usage)
            if r != NO_ROLE:
                return r
    if demo:
        return NO_ROLE
    names = set()
    for st in pipe.stages():
        names |= st.names
    for d in m.derived(pipe):
        names |= d.names
    found = {name_role(n) for n in names} - {NO_ROLE}
    return found.pop() if len(found) == 1 else NO_ROLE


# -- labels reaching a loss in a functional training loop --------------------------------------
@dataclass
class LoopLoss:
    """A loss called, in the body of a `for` loop over `<dataset>.create_tuple_iterator()`,
    on a column of the row, directly or through script functions and `value_and_grad`."""

    view: DatasetView  # the dataset the loop iterates
    column: str  # the column the loss gets as its labels
    loss: CallSite  # the call that built the loss
    call: CallSite  # the loss call


_LABELS_ARG = ("labels", 1)


def _tracked(m: ScriptModel, expr, scope: Scope, order: Optional[int], names: Dict[int, int]) -> Optional[int]:
    """The column index the name `expr` holds (its binding is one of `names`), else None."""
    if not isinstance(expr, cst.Name):
        return None
    b = m.lookup(expr.value, scope, order)
    if b is None or len(b.scope.bindings.get(expr.value, ())) != 1:
        return None
    return names.get(id(b))


def _step_function(m: ScriptModel, site: CallSite) -> Optional[cst.FunctionDef]:
    """The script function a call runs with its arguments as given: `step(x, y)`, or
    `grad_fn(x, y)` for `grad_fn = value_and_grad(forward, ...)` (also `grad(forward)`)."""
    q = site.qualname
    if q and q.startswith("<local>.") and q[8:] in m.functions:
        return m.functions[q[8:]].node
    made = m.instance_call(site.node.func, site.scope, site.order) if isinstance(site.node.func, cst.Name) else None
    if made is None or made.qualname not in GRAD_QUALNAMES or not made.node.args or made.node.args[0].keyword:
        return None
    f = made.node.args[0].value
    if isinstance(f, cst.Name):
        fq = m.qualname(f, made.scope, made.order)
        if fq and fq.startswith("<local>.") and fq[8:] in m.functions:
            return m.functions[fq[8:]].node
    return None


def _losses_from(m: ScriptModel, site: CallSite, names: Dict[int, int], depth: int, out: list) -> None:
    if site.has_star_args or depth > 3:
        return
    made = m.instance_call(site.node.func, site.scope, site.order) if isinstance(site.node.func, cst.Name) else None
    if made is not None and made.qualname and made.qualname.startswith("mindspore.nn."):
        a = site.arg(*_LABELS_ARG)
        k = _tracked(m, a.value, site.scope, site.order, names) if a is not None else None
        if k is not None:
            out.append((k, made, site))
        return
    fn = _step_function(m, site)
    if fn is None:
        return
    fscope = _scope_of_def(m, fn)
    if fscope is None:
        return
    inner: Dict[int, int] = {}
    params = [*fn.params.posonly_params, *fn.params.params]
    for i, p in enumerate(params):
        a = site.keyword(p.name.value) or site.positional(i)
        k = _tracked(m, a.value, site.scope, site.order, names) if a is not None else None
        bs = fscope.bindings.get(p.name.value, ())
        if k is not None and len(bs) == 1 and bs[0].kind == "param":
            inner[id(bs[0])] = k
    if not inner:
        return
    for s in _calls_in(m, fn):
        if s.scope is fscope:
            _losses_from(m, s, inner, depth + 1, out)


def loop_label_losses(m: ScriptModel) -> List[LoopLoss]:
    """Losses a functional training (or evaluation) loop calls on a column of the dataset
    it iterates: `for x, y in data.create_tuple_iterator(): grad_fn(x, y)` with
    `grad_fn = value_and_grad(forward, ...)` and `loss_fn(net(x), y)` in `forward`. Only
    the row's names passed on unchanged (never rebound) are followed."""
    c = _cache(m)
    if "loop_losses" in c:
        return c["loop_losses"]
    out: List[LoopLoss] = []
    for loop in _structure(m).loops:
        target, it = loop.target, loop.iter
        if isinstance(it, cst.Call) and isinstance(it.func, cst.Name) and it.func.value == "enumerate" \
                and it.args and not it.args[0].star and isinstance(target, (cst.Tuple, cst.List)) \
                and len(target.elements) == 2:
            target, it = target.elements[1].value, it.args[0].value
        if not (isinstance(it, cst.Call) and isinstance(it.func, cst.Attribute)
                and it.func.attr.value == "create_tuple_iterator") or any(a.star for a in it.args):
            continue
        if any(a.keyword is not None and a.keyword.value in ("output_numpy", "columns") for a in it.args):
            continue
        if not isinstance(target, (cst.Tuple, cst.List)) or \
                not all(isinstance(e.value, cst.Name) and not isinstance(e, cst.StarredElement)
                        for e in target.elements):
            continue
        isite = m.call_of(it)
        if isite is None:
            continue
        view = dataset_view(m, it.func.value, isite.scope, isite.order)
        if view is None:
            continue
        cols = stage_columns(m, view.pipe, view.env)
        if not isinstance(cols, list) or len(cols) != len(target.elements):
            continue
        names: Dict[int, int] = {}
        for i, e in enumerate(target.elements):
            bs = isite.scope.bindings.get(e.value.value, ())
            if len(bs) == 1 and bs[0].kind == "loop" and bs[0].statement is loop:
                names[id(bs[0])] = i
        found: list = []
        for s in _calls_in(m, loop):
            _losses_from(m, s, names, 0, found)
        seen = set()
        for k, made, call in found:
            if (k, id(made.node)) not in seen:
                seen.add((k, id(made.node)))
                out.append(LoopLoss(view, cols[k], made, call))
    c["loop_losses"] = out
    return out

"""NumPy arrays built in the script: shape and dtype, and the sizes of the in-script data
a dataset reads (NumpySlicesDataset arrays, GeneratorDataset sources).

Unknown stays unknown: `array_info` returns None when the expression is not recognised
as a NumPy array, and an ArrayInfo with `shape`/`dtype` None for the part that does not
follow from literals. Shapes follow NumPy 1.x/2.x for what is handled here:
`np.random.*` and `default_rng()`/`RandomState()` draws with `size`, zeros/ones/empty/
full(_like), arange, linspace, eye, array; `astype`, `reshape` (one -1), `transpose`/
`.T`, `flatten`/`ravel`, literal slicing and integer indexing, `concatenate`/`stack`/
`vstack`/`hstack`, `@` and element-wise arithmetic (broadcasting).
"""

from __future__ import annotations

import math
from typing import List, Optional, Tuple

import libcst as cst

from msfix.analysis.data import ArrayInfo, Env, _nested_shape, call_sites, dtype_name, param_arg, value
from msfix.analysis.model import UNKNOWN, Pipeline, Scope, ScriptModel
from msfix.analysis.walk import children as _children

_FLOAT = ("float16", "float32", "float64")
_RNG_MAKERS = ("numpy.random.default_rng", "numpy.random.RandomState", "numpy.random.Generator")
# Generator methods: position of `size` in the signature (2.10's NumPy 1.26 / 2.x)
_GEN_SIZE = {"random": 0, "standard_normal": 0, "uniform": 2, "normal": 2, "integers": 2, "exponential": 1,
             "standard_exponential": 0, "lognormal": 2, "beta": 2, "gamma": 2, "poisson": 1, "binomial": 2,
             "laplace": 2, "logistic": 2}
# legacy np.random.* / RandomState methods
_LEGACY_SIZE = {"random": 0, "random_sample": 0, "ranf": 0, "sample": 0, "standard_normal": 0, "uniform": 2,
                "normal": 2, "randint": 2, "exponential": 1, "lognormal": 2, "beta": 2, "gamma": 2, "poisson": 1,
                "binomial": 2, "laplace": 2, "logistic": 2}
_INT_DRAWS = ("randint", "integers", "poisson", "binomial")


def _int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _shape_of(v) -> Optional[Tuple[int, ...]]:
    if _int(v):
        return (v,) if v >= 0 else None
    if isinstance(v, (list, tuple)) and all(_int(x) and x >= 0 for x in v):
        return tuple(v)
    return None


def _promote(a: Optional[str], b: Optional[str]) -> Optional[str]:
    """Result dtype of an operation on two arrays (the cases this module needs)."""
    if a is None or b is None:
        return None
    if a == b:
        return a
    if a in _FLOAT and b in _FLOAT:
        return max(a, b, key=_FLOAT.index)
    if a in _FLOAT or b in _FLOAT:
        f = a if a in _FLOAT else b
        i = b if f is a else a
        return "float64" if f != "float64" and i in ("int32", "int64", "uint32", "uint64") else f
    return None


def _broadcast(a: Optional[tuple], b: Optional[tuple]) -> Optional[tuple]:
    if a is None or b is None:
        return None
    out = []
    for x, y in zip(reversed((1,) * (len(b) - len(a)) + a), reversed((1,) * (len(a) - len(b)) + b)):
        if x != y and 1 not in (x, y):
            return None
        out.append(y if x == 1 else x)
    return tuple(reversed(out))


def _same(info: ArrayInfo, expr, **changes) -> ArrayInfo:
    """`info` for the expression `expr` (its top-level statement is set by the caller
    that knows it: `top` belongs to `node`)."""
    out = ArrayInfo(info.shape, info.dtype, expr, None, info.random, info.origin)
    for k, v in changes.items():
        setattr(out, k, v)
    return out


def _rng_receiver(m: ScriptModel, expr, scope, order) -> Optional[str]:
    """"generator" / "legacy" when `expr` is a NumPy random generator, else None."""
    made = expr if isinstance(expr, cst.Call) else None
    if made is None and isinstance(expr, cst.Name):
        b = m.lookup(expr.value, scope, order)
        if b is None or b.kind != "assign" or not isinstance(b.value, cst.Call):
            return None
        if len(b.scope.bindings.get(expr.value, ())) != 1:
            return None
        made, scope, order = b.value, b.scope, b.order
    if made is None:
        return None
    q = m.qualname(made.func, scope, order)
    if q == "numpy.random.RandomState":
        return "legacy"
    if q in _RNG_MAKERS:
        return "generator"
    return None


def array_info(m: ScriptModel, expr: Optional[cst.BaseExpression], scope: Scope, order: Optional[int] = None,
               env: Optional[Env] = None, _depth: int = 0) -> Optional[ArrayInfo]:
    """Shape and dtype of the NumPy array `expr` holds (see the module doc); None when it is
    not recognised as one. `origin` is the expression that fixed the number of rows."""
    if expr is None or _depth > 10:
        return None
    d = _depth + 1
    ai = lambda e, s=scope, o=order: array_info(m, e, s, o, env, d)  # noqa: E731
    ev = lambda e: value(m, e, scope, order, env)  # noqa: E731
    if isinstance(expr, cst.Name):
        return _name_info(m, expr, scope, order, env, d)
    if isinstance(expr, cst.Attribute):
        if expr.attr.value == "T":
            inner = ai(expr.value)
            if inner is None:
                return None
            return _same(inner, expr, shape=tuple(reversed(inner.shape)) if inner.shape is not None else None,
                         origin=expr if inner.shape and len(inner.shape) > 1 else inner.origin)
        return _self_attr_info(m, expr, scope, env, d)
    if isinstance(expr, cst.Subscript):
        return _subscript(m, expr, scope, order, env, d)
    if isinstance(expr, cst.BinaryOperation):
        return _binop(m, expr, scope, order, env, d)
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, (cst.Minus, cst.Plus)):
        inner = ai(expr.expression)
        return _same(inner, expr) if inner is not None else None
    if not isinstance(expr, cst.Call) or any(a.star for a in expr.args):
        return None
    func = expr.func
    kw = {a.keyword.value: a.value for a in expr.args if a.keyword is not None}
    pos = [a.value for a in expr.args if a.keyword is None]
    q = m.qualname(func, scope, order)
    if isinstance(func, cst.Attribute) and (q is None or not q.startswith("numpy.")):
        meth = func.attr.value
        rng = _rng_receiver(m, func.value, scope, order)
        if rng is not None:
            return _draw(m, expr, meth, rng, pos, kw, scope, order, env)
        if meth in ("astype", "reshape", "transpose", "flatten", "ravel", "copy", "squeeze", "swapaxes", "repeat"):
            inner = ai(func.value)
            if inner is None:
                return None
            return _method(m, expr, meth, inner, pos, kw, scope, order, env)
        return None
    if not q or not q.startswith("numpy."):
        return None
    name = q[len("numpy."):]
    dt_kw = dtype_name(m, kw["dtype"], scope, order, env) if "dtype" in kw else None
    if name.startswith("random."):
        return _draw(m, expr, name[7:], "legacy", pos, kw, scope, order, env)
    if name in ("zeros", "ones", "empty", "full"):
        arg = kw.get("shape", pos[0] if pos else None)
        shape = _shape_of(ev(arg)) if arg is not None else None
        dt = dt_kw
        if "dtype" not in kw:
            dpos = 2 if name == "full" else 1
            if len(pos) > dpos:
                dt = dtype_name(m, pos[dpos], scope, order, env)
            elif name == "full":
                fill = ev(pos[1]) if len(pos) > 1 else (ev(kw["fill_value"]) if "fill_value" in kw else UNKNOWN)
                dt = "int64" if _int(fill) else "float64" if isinstance(fill, float) else \
                    "bool" if isinstance(fill, bool) else None
            else:
                dt = "float64"
        return ArrayInfo(shape, dt, expr, None, True, expr)
    if name in ("zeros_like", "ones_like", "empty_like", "full_like", "copy", "ascontiguousarray"):
        inner = ai(kw.get("a", pos[0] if pos else None))
        if inner is None:
            return None
        return _same(inner, expr, dtype=dt_kw or inner.dtype)
    if name == "arange":
        vals = [ev(p) for p in pos]
        if not 1 <= len(vals) <= 3 or any(not isinstance(v, (int, float)) or isinstance(v, bool) for v in vals):
            return ArrayInfo(None, dt_kw, expr, None, True, expr)
        start, stop, step = (0, vals[0], 1) if len(vals) == 1 else (vals[0], vals[1], vals[2] if len(vals) > 2 else 1)
        if step == 0:
            return None
        n = max(0, math.ceil((stop - start) / step))
        dt = dt_kw or ("int64" if all(_int(v) for v in vals) else "float64")
        return ArrayInfo((n,), dt, expr, None, True, expr)
    if name == "linspace":
        num = ev(kw.get("num", pos[2] if len(pos) > 2 else cst.Integer("50")))
        return ArrayInfo((num,) if _int(num) and num >= 0 else None, dt_kw or "float64", expr, None, True, expr)
    if name in ("eye", "identity"):
        n = ev(kw.get("N", kw.get("n", pos[0] if pos else None)))
        mm = ev(kw["M"]) if "M" in kw else (ev(pos[1]) if name == "eye" and len(pos) > 1 else n)
        shape = (n, mm) if _int(n) and (_int(mm) or mm is None) else None
        if shape is not None and mm is None:
            shape = (n, n)
        return ArrayInfo(shape, dt_kw or "float64", expr, None, True, expr)
    if name in ("concatenate", "stack", "vstack", "hstack", "row_stack", "column_stack"):
        return _join(m, expr, name, pos, kw, scope, order, env, d)
    if name in ("transpose", "reshape", "ravel", "squeeze", "swapaxes"):
        if not pos:
            return None
        inner = ai(pos[0])
        if inner is None:
            return None
        rest = pos[1:]
        if name == "reshape" and "newshape" in kw:
            rest = [kw["newshape"]]
        return _method(m, expr, name, inner, rest, {k: v for k, v in kw.items() if k != "newshape"},
                       scope, order, env)
    if name in _FLOAT_UFUNCS or name in _SAME_UFUNCS:
        if len(pos) != 1 or kw:
            return None
        inner = ai(pos[0])
        if inner is None:
            return None
        dt = inner.dtype
        if name in _FLOAT_UFUNCS and dt not in _FLOAT:
            dt = "float64" if dt in ("int32", "int64", "uint32", "uint64") else None
        return _same(inner, expr, dtype=dt)
    if name in ("matmul", "dot"):
        if len(pos) != 2:
            return None
        return _matmul(expr, ai(pos[0]), ai(pos[1]))
    if name in ("array", "asarray", "float32", "float64", "int32", "int64"):
        if not pos:
            return None
        if name not in ("array", "asarray"):
            dt_kw = name
        inner = ai(pos[0])
        if inner is not None:
            return _same(inner, expr, dtype=dt_kw or inner.dtype)
        if name not in ("array", "asarray"):
            return None
        v = ev(pos[0])
        if v is UNKNOWN:
            if dt_kw is None and name == "array":
                return _array_of_items(m, expr, pos[0], scope, order, env, d)
            return ArrayInfo(None, dt_kw, expr, None, False) if dt_kw else None
        shape = _nested_shape(v)
        dt = dt_kw
        if dt is None and shape is not None:
            flat = list(_flat(v))
            if flat and all(isinstance(x, bool) for x in flat):
                dt = "bool"
            elif flat and all(_int(x) for x in flat):
                dt = "int64"
            elif flat and all(isinstance(x, (int, float)) for x in flat):
                dt = "float64"
        return ArrayInfo(shape, dt, expr, None, False, expr)
    return None


def _flat(v):
    if isinstance(v, (list, tuple)):
        for x in v:
            yield from _flat(x)
    else:
        yield v


def _name_info(m, expr: cst.Name, scope, order, env, depth) -> Optional[ArrayInfo]:
    b = m.lookup(expr.value, scope, order)
    if b is None:
        return None
    if b.kind == "param":
        return _param_info(m, b, env, depth)
    if b.kind == "loop" and b.scope.kind == "comprehension":
        return _comp_item_info(m, b, env, depth)
    if b.kind == "other" and len(b.scope.bindings.get(expr.value, ())) == 1:
        got = _unpacked_info(m, b, env, depth)
        if got is not None and got.top is None:
            got.top = b.top
        return got
    if b.kind != "assign" or b.value is None:
        return None
    bs = b.scope.bindings.get(expr.value, ())
    if len(bs) != 1 and (b.scope is not scope or order is None or any(x.suite != b.suite for x in bs)):
        return None  # rebound in another function, a branch or a loop
    got = array_info(m, b.value, b.scope, b.order, env, depth)
    if got is not None and got.top is None:
        got.top = b.top
    return got


_FLOAT_UFUNCS = ("sin", "cos", "tan", "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "tanh", "sinh",
                 "cosh", "arcsin", "arccos", "arctan")
_SAME_UFUNCS = ("abs", "absolute", "negative", "square")


def _comp_scope(m: ScriptModel, comp) -> Optional[Scope]:
    """The scope of a comprehension (found from the names read in it)."""
    idx = m.memo("arrays").get("comp_scopes")
    if idx is None:
        idx = {}
        for r in m.reads:
            s: Optional[Scope] = r.lex
            while s is not None and s.kind == "comprehension":
                idx.setdefault(id(s.node), s)
                s = s.parent
        m.memo("arrays")["comp_scopes"] = idx
    return idx.get(id(comp))


def _comp_item_info(m, b, env, depth) -> Optional[ArrayInfo]:
    """`k` of `[... for k in arr]` over a known array: one row of it."""
    comp = b.scope.node
    f = getattr(comp, "for_in", None)
    first = True
    while f is not None:
        if f.target is b.node:
            sc = b.scope.parent if first else b.scope
            inner = array_info(m, f.iter, sc or m.module_scope, None, env, depth)
            if inner is None:
                return None
            return ArrayInfo(inner.shape[1:] if inner.shape else None, inner.dtype, b.node, None, inner.random)
        f, first = f.inner_for_in, False
    return None


def _unpacked_info(m, b, env, depth) -> Optional[ArrayInfo]:
    """`x, y = make_data()`: the matching element of what the script function returns
    (every `return` a tuple of the same width, agreeing on the dtype)."""
    st = b.statement
    assigns = [x for x in getattr(st, "body", ()) if isinstance(x, cst.Assign)]
    if len(assigns) != 1 or len(assigns[0].targets) != 1:
        return None
    tgt, val = assigns[0].targets[0].target, assigns[0].value
    if not isinstance(tgt, (cst.Tuple, cst.List)) or any(isinstance(e, cst.StarredElement) for e in tgt.elements):
        return None
    idx = next((i for i, e in enumerate(tgt.elements) if e.value is b.node), None)
    if idx is None:
        return None
    width = len(tgt.elements)
    if isinstance(val, (cst.Tuple, cst.List)):
        if len(val.elements) != width or any(isinstance(e, cst.StarredElement) for e in val.elements):
            return None
        return array_info(m, val.elements[idx].value, b.scope, b.order, env, depth)
    if not isinstance(val, cst.Call) or not isinstance(val.func, cst.Name) or val.func.value not in m.functions:
        return None
    if m.qualname(val.func, b.scope, b.order) != f"<local>.{val.func.value}":
        return None
    fn = m.functions[val.func.value]
    site = m.call_of(val)
    if site is None or site.has_star_args:
        return None
    from msfix.analysis.data import _walk_returns

    rets: list = []
    _walk_returns(fn.node.body, "return", rets)
    if not rets:
        return None
    env2 = dict(env or {})
    env2[fn.scope] = site
    infos = []
    for r in rets:
        if not isinstance(r, cst.Tuple) or len(r.elements) != width \
                or any(isinstance(e, cst.StarredElement) for e in r.elements):
            return None
        got = array_info(m, r.elements[idx].value, fn.scope, None, env2, depth)
        if got is None:
            return None
        infos.append(got)
    first = infos[0]
    if len(infos) == 1:
        return first
    return ArrayInfo(first.shape if all(i.shape == first.shape for i in infos) else None,
                     first.dtype if all(i.dtype == first.dtype for i in infos) else None,
                     first.node, first.top, first.random)


def _array_of_items(m, expr, items, scope, order, env, depth) -> Optional[ArrayInfo]:
    """`np.array([x, y])` of NumPy arrays or scalars (`x = np.random.uniform(...)`):
    their promoted dtype, (n,) + their shape."""
    if not isinstance(items, (cst.List, cst.Tuple)) or not items.elements \
            or any(isinstance(e, cst.StarredElement) for e in items.elements):
        return None
    infos = [array_info(m, e.value, scope, order, env, depth) for e in items.elements]
    known = [i for i in infos if i is not None]
    if len(known) != len(infos):
        return None
    dt = known[0].dtype
    for i in known[1:]:
        dt = _promote(dt, i.dtype)
    shapes = {i.shape for i in known}
    sh = shapes.pop() if len(shapes) == 1 else None
    return ArrayInfo((len(known),) + sh if sh is not None else None, dt, expr, None,
                     any(i.random for i in known), expr)


def _param_info(m, b, env, depth) -> Optional[ArrayInfo]:
    """A parameter of a script function: the array its call (from `env`, else the one call
    site, or all of them agreeing on the shape and dtype) passes."""
    fscope = b.scope
    fn = fscope.node
    if not isinstance(fn, cst.FunctionDef) or not isinstance(b.node, cst.Param):
        return None
    if len(fscope.bindings.get(b.name, ())) != 1:
        return None
    sites = [env[fscope]] if env and fscope in env else call_sites(m, fscope)
    found = []
    for site in sites:
        given = param_arg(site, fn, b.name)
        if given is UNKNOWN:
            return None
        if given is None:
            if b.node.default is None:
                return None
            got = array_info(m, b.node.default, fscope.parent or m.module_scope, None, env, depth)
        else:
            got = array_info(m, given, site.scope, site.order, env, depth)
        if got is None:
            return None
        found.append(got)
    if not found:
        return None
    first = found[0]
    if any(f.shape != first.shape or f.dtype != first.dtype for f in found[1:]):
        return ArrayInfo(first.shape if all(f.shape == first.shape for f in found) else None,
                         first.dtype if all(f.dtype == first.dtype for f in found) else None,
                         first.node, first.top, first.random)
    return first


def _draw(m, expr, meth, kind, pos, kw, scope, order, env) -> Optional[ArrayInfo]:
    """A random draw: np.random.<meth>(...) / RandomState().<meth> ("legacy") or
    default_rng().<meth> ("generator")."""
    ev = lambda e: value(m, e, scope, order, env)  # noqa: E731
    dt_kw = dtype_name(m, kw["dtype"], scope, order, env) if "dtype" in kw else None
    if kind == "legacy" and meth in ("rand", "randn"):
        if kw:
            return None
        vals = [ev(p) for p in pos]
        dims = tuple(vals) if all(_int(v) and v >= 0 for v in vals) else None
        return ArrayInfo(dims, "float64", expr, None, True, expr)
    if meth == "permutation" and pos:
        n = ev(pos[0])
        if _int(n):
            return ArrayInfo((n,), "int64", expr, None, True, expr)
        inner = array_info(m, pos[0], scope, order, env)
        return _same(inner, expr) if inner is not None else None
    table = _GEN_SIZE if kind == "generator" else _LEGACY_SIZE
    if meth not in table:
        return None
    size = kw.get("size")
    if size is None:
        idx = table[meth]
        size = pos[idx] if len(pos) > idx else None
    if size is None:
        shape: Optional[tuple] = ()
    else:
        sv = ev(size)
        shape = () if sv is None else _shape_of(sv)
    if meth in _INT_DRAWS:
        dt = dt_kw or "int64"
    elif kind == "generator" and meth in ("random", "standard_normal", "standard_exponential"):
        dt = dt_kw or "float64"
    else:
        dt = "float64"
    return ArrayInfo(shape, dt, expr, None, True, expr)


def _method(m, expr, meth, inner: ArrayInfo, pos, kw, scope, order, env) -> Optional[ArrayInfo]:
    ev = lambda e: value(m, e, scope, order, env)  # noqa: E731
    shape = inner.shape
    if meth == "astype":
        a = kw.get("dtype", pos[0] if pos else None)
        if a is None:
            return None
        return _same(inner, expr, dtype=dtype_name(m, a, scope, order, env))
    if meth == "copy":
        return _same(inner, expr)
    if meth == "repeat":  # keeps the dtype
        return _same(inner, expr, shape=None, origin=expr)
    if meth in ("flatten", "ravel"):
        return _same(inner, expr, shape=(math.prod(shape),) if shape is not None else None, origin=expr)
    if meth == "squeeze":
        if pos or kw:
            return _same(inner, expr, shape=None)
        return _same(inner, expr, shape=tuple(x for x in shape if x != 1) if shape is not None else None,
                     origin=expr)
    if meth == "transpose":
        if shape is None:
            return _same(inner, expr)
        axes = kw.get("axes")
        vals = [ev(axes)] if axes is not None else [ev(p) for p in pos]
        if len(vals) == 1 and isinstance(vals[0], (list, tuple)):
            vals = list(vals[0])
        if not vals or vals == [None]:
            return _same(inner, expr, shape=tuple(reversed(shape)), origin=expr if len(shape) > 1 else inner.origin)
        if sorted(v for v in vals if _int(v)) != list(range(len(shape))) or len(vals) != len(shape):
            return _same(inner, expr, shape=None)
        return _same(inner, expr, shape=tuple(shape[v] for v in vals), origin=inner.origin if vals[0] == 0 else expr)
    if meth == "swapaxes":
        vals = [ev(p) for p in pos]
        if shape is None or len(vals) != 2 or not all(_int(v) for v in vals):
            return _same(inner, expr, shape=None)
        s = list(shape)
        try:
            s[vals[0]], s[vals[1]] = s[vals[1]], s[vals[0]]
        except IndexError:
            return None
        return _same(inner, expr, shape=tuple(s), origin=inner.origin if 0 not in vals else expr)
    # reshape
    if kw.keys() - {"order"}:
        return _same(inner, expr, shape=None)
    vals = [ev(p) for p in pos]
    want: Optional[Tuple[int, ...]] = _signed_shape(vals[0]) if len(vals) == 1 else _signed_shape(vals)
    new = want
    if new is not None and -1 in new:
        if shape is None or new.count(-1) != 1:
            new = None
        else:
            total = math.prod(shape)
            known = math.prod(x for x in new if x != -1)
            new = tuple(total // known if x == -1 else x for x in new) if known and total % known == 0 else None
    if new is not None and shape is not None and math.prod(new) != math.prod(shape):
        new = None  # numpy raises; not this module's business
    keeps = new is not None and shape is not None and new[:1] == shape[:1]
    return _same(inner, expr, shape=new, origin=inner.origin if keeps else expr)


def _signed_shape(v) -> Optional[Tuple[int, ...]]:
    if _int(v):
        return (v,)
    if isinstance(v, (list, tuple)) and all(_int(x) and x >= -1 for x in v):
        return tuple(v)
    return None


def _subscript(m, expr: cst.Subscript, scope, order, env, depth) -> Optional[ArrayInfo]:
    inner = array_info(m, expr.value, scope, order, env, depth)
    if inner is None:
        return None
    shape = inner.shape
    if shape is None:
        return _same(inner, expr)
    out: List[int] = []
    dims = list(shape)
    i = 0
    first_changed = False
    for el in expr.slice:
        s = el.slice
        if i >= len(dims):
            return _same(inner, expr, shape=None)
        if isinstance(s, cst.Slice):
            parts = []
            for p in (s.lower, s.upper, s.step):
                v = None if p is None else value(m, p, scope, order, env)
                if v is not None and not _int(v):
                    return _same(inner, expr, shape=None)
                parts.append(v)
            if parts[2] == 0:
                return None
            n = len(range(*slice(*parts).indices(dims[i])))
            if i == 0 and n != dims[0]:
                first_changed = True
            out.append(n)
            i += 1
            continue
        if not isinstance(s, cst.Index):
            return _same(inner, expr, shape=None)
        v = value(m, s.value, scope, order, env)
        if _int(v) and -dims[i] <= v < dims[i]:
            if i == 0:
                first_changed = True
            i += 1  # an integer index drops the dimension
            continue
        if v is None and isinstance(s.value, cst.Name) and s.value.value == "None":
            out.append(1)  # np.newaxis
            if i == 0:
                first_changed = True
            continue
        return _same(inner, expr, shape=None)  # fancy/boolean indexing, Ellipsis: dtype only
    out.extend(dims[i:])
    return _same(inner, expr, shape=tuple(out), origin=expr if first_changed else inner.origin)


def _scalar_kind(v) -> Optional[str]:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    return None


def _binop(m, expr: cst.BinaryOperation, scope, order, env, depth) -> Optional[ArrayInfo]:
    left = array_info(m, expr.left, scope, order, env, depth)
    right = array_info(m, expr.right, scope, order, env, depth)
    if isinstance(expr.operator, cst.MatrixMultiply):
        return _matmul(expr, left, right)
    if not isinstance(expr.operator, (cst.Add, cst.Subtract, cst.Multiply, cst.Divide, cst.FloorDivide,
                                      cst.Modulo, cst.Power)):
        return None
    if left is not None and right is not None:
        shape = _broadcast(left.shape, right.shape)
        dt = _promote(left.dtype, right.dtype)
        if isinstance(expr.operator, cst.Divide) and dt is not None and dt not in _FLOAT:
            dt = "float64"
        origin = left.origin if shape is not None and left.shape is not None and shape[:1] == left.shape[:1] \
            and len(shape) == len(left.shape) else expr
        return ArrayInfo(shape, dt, expr, None, left.random or right.random, origin)
    arr, other = (left, expr.right) if left is not None else (right, expr.left)
    if arr is None:
        return None
    kind = _scalar_kind(value(m, other, scope, order, env))
    if kind is None:
        return _same(arr, expr, dtype=None, shape=None)
    dt = arr.dtype
    if dt == "bool":
        dt = None  # bool arrays take the scalar's kind
    elif dt is not None and dt not in _FLOAT and (kind == "float" or isinstance(expr.operator, cst.Divide)):
        dt = "float64"  # an integer array with a float (or true division): float64
    return _same(arr, expr, dtype=dt)


def _matmul(expr, a: Optional[ArrayInfo], b: Optional[ArrayInfo]) -> Optional[ArrayInfo]:
    if a is None or b is None:
        return None
    dt = _promote(a.dtype, b.dtype)
    sa, sb = a.shape, b.shape
    shape: Optional[Tuple[int, ...]] = None
    origin: Optional[cst.CSTNode] = expr
    if sa is not None and sb is not None and sa and sb:
        if len(sa) == 1 and len(sb) == 1:
            shape = () if sa == sb else None
        elif len(sb) == 1:
            shape = sa[:-1] if sa[-1] == sb[0] else None
            origin = a.origin
        elif len(sa) == 1:
            shape = sb[:-2] + sb[-1:] if sa[0] == sb[-2] else None
        elif len(sa) == 2 and len(sb) == 2:
            shape = (sa[0], sb[1]) if sa[1] == sb[0] else None
            origin = a.origin
    return ArrayInfo(shape, dt, expr, None, a.random or b.random, origin)


def _join(m, expr, name, pos, kw, scope, order, env, depth) -> Optional[ArrayInfo]:
    seq = kw.get("arrays", kw.get("tup", pos[0] if pos else None))
    if isinstance(seq, (cst.ListComp, cst.GeneratorExp)) and "dtype" not in kw:
        # `np.stack([row(k) for k in ...])`: the rows' dtype, an unknown count
        cs = _comp_scope(m, seq)
        el = array_info(m, seq.elt, cs, None, env, depth) if cs is not None else None
        if el is None:
            return None
        return ArrayInfo(None, el.dtype, expr, None, el.random, expr)
    if not isinstance(seq, (cst.List, cst.Tuple)) or any(isinstance(e, cst.StarredElement) for e in seq.elements):
        got = seq if isinstance(seq, cst.Name) else None
        if got is None:
            return None
        b = m.lookup(got.value, scope, order)
        if b is None or b.kind != "assign" or not isinstance(b.value, (cst.List, cst.Tuple)) \
                or len(b.scope.bindings.get(got.value, ())) != 1:
            return None
        seq, scope, order = b.value, b.scope, b.order
    infos = [array_info(m, e.value, scope, order, env, depth) for e in seq.elements]
    parts: List[ArrayInfo] = [p for p in infos if p is not None]
    if not parts or len(parts) != len(infos):
        return None
    dt = parts[0].dtype
    for p in parts[1:]:
        dt = _promote(dt, p.dtype)
    if "dtype" in kw:
        dt = dtype_name(m, kw["dtype"], scope, order, env)
    rnd = any(p.random for p in parts)
    top = None
    if any(p.shape is None for p in parts):
        return ArrayInfo(None, dt, expr, top, rnd, expr)
    shapes: List[Tuple[int, ...]] = [p.shape for p in parts if p.shape is not None]
    ax_expr = kw.get("axis", pos[1] if len(pos) > 1 else None)
    axis = 0 if ax_expr is None else value(m, ax_expr, scope, order, env)
    if name in ("vstack", "row_stack"):
        shapes = [s if len(s) >= 2 else (1,) + s for s in shapes]
        name, axis = "concatenate", 0
    elif name == "hstack":
        name, axis = "concatenate", 0 if all(len(s) == 1 for s in shapes) else 1
    elif name == "column_stack":
        shapes = [s + (1,) if len(s) == 1 else s for s in shapes]
        name, axis = "concatenate", 1
    if not _int(axis):
        return ArrayInfo(None, dt, expr, top, rnd, expr)
    if name == "stack":
        if len(set(shapes)) != 1:
            return None
        new = list(shapes[0])
        if axis < 0:
            axis += len(new) + 1
        if not 0 <= axis <= len(new):
            return None
        new.insert(axis, len(shapes))
        return ArrayInfo(tuple(new), dt, expr, top, rnd, expr)
    nd = {len(s) for s in shapes}
    if len(nd) != 1:
        return None
    n = nd.pop()
    if axis < 0:
        axis += n
    if not 0 <= axis < n:
        return None
    if len({s[:axis] + s[axis + 1:] for s in shapes}) != 1:
        return None
    out = list(shapes[0])
    out[axis] = sum(x[axis] for x in shapes)
    return ArrayInfo(tuple(out), dt, expr, top, rnd, expr if axis == 0 else parts[0].origin)


# --------------------------------------------------------------------------- sizes
def _fake_site(m: ScriptModel, real, func_name: str, args, scope, order, top) -> "object":
    """A CallSite standing for a call MindSpore makes (GeneratorDataset(gen) calls
    `gen()`), or for `Cls(...)` seen from `__init__` (a `self` argument first)."""
    from msfix.analysis.model import CallSite

    node = cst.Call(cst.Name(func_name), list(args))
    return CallSite(node, scope, order, top, real.statement if real is not None else node)


def _count(m: ScriptModel, expr, scope, order, env):
    """(number of items iterating `expr` yields, the expression that fixed it) or None:
    range(...), zip(...) (the shortest), enumerate(x), an array (its rows)."""
    if isinstance(expr, cst.Call) and not any(a.star or a.keyword for a in expr.args):
        f = expr.func
        if isinstance(f, cst.Name) and m.lookup(f.value, scope, order) is None:
            args = [a.value for a in expr.args]
            if f.value == "range" and 1 <= len(args) <= 3:
                vals = [_int_of(m, a, scope, order, env) for a in args]
                if any(v is None for v in vals):
                    return None
                nums = [v[0] for v in vals]
                if len(nums) > 2 and nums[2] == 0:
                    return None
                which = vals[0][1] if len(vals) == 1 else vals[1][1]
                return len(range(*nums)), which
            if f.value in ("zip", "enumerate", "list", "tuple") and args and (f.value == "zip" or len(args) == 1):
                got = [_count(m, a, scope, order, env) for a in args]
                if any(g is None for g in got):
                    return None
                return min(got, key=lambda g: g[0])
    info = array_info(m, expr, scope, order, env)
    if info is not None and info.rows is not None:
        return info.rows, info.origin or info.node
    return None


def _int_of(m, expr, scope, order, env):
    """(int value, origin node) of `expr`, reading `len(array)` and `array.shape[0]`."""
    v = value(m, expr, scope, order, env)
    if _int(v):
        return v, given_expr(m, expr, scope, order, env)
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value == "len" \
            and len(expr.args) == 1 and m.lookup("len", scope, order) is None:
        return _count(m, expr.args[0].value, scope, order, env)
    if isinstance(expr, cst.Subscript) and isinstance(expr.value, cst.Attribute) and expr.value.attr.value == "shape":
        i = value(m, expr.slice[0].slice.value, scope, order, env) if len(expr.slice) == 1 \
            and isinstance(expr.slice[0].slice, cst.Index) else None
        info = array_info(m, expr.value.value, scope, order, env)
        if _int(i) and info is not None and info.shape is not None and -len(info.shape) <= i < len(info.shape):
            return info.shape[i], info.origin if i == 0 else expr
    return None


def _nodes(node):
    """Every node under `node`, not entering nested functions, classes or lambdas."""
    for child in _children(node):
        if isinstance(child, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        yield child
        yield from _nodes(child)


def given_expr(m: ScriptModel, expr, scope, order, env, depth: int = 0):
    """The expression a parameter read takes its value from at the call in `env` (the
    argument, else the parameter's default); `expr` itself otherwise."""
    if not isinstance(expr, cst.Name) or depth > 4:
        return expr
    b = m.lookup(expr.value, scope, order)
    if b is None or b.kind != "param" or not isinstance(b.node, cst.Param) or not env or b.scope not in env:
        return expr
    site = env[b.scope]
    fn = b.scope.node
    given = param_arg(site, fn, b.name) if isinstance(fn, cst.FunctionDef) else UNKNOWN
    if given is UNKNOWN:
        return expr
    if given is None:
        return b.node.default if b.node.default is not None else expr
    if isinstance(given, cst.Name) and given.value == "self":
        return expr
    return given_expr(m, given, site.scope, site.order, env, depth + 1)


def _yields(node) -> list:
    return [n for n in _nodes(node) if isinstance(n, cst.Yield)]


def _yields_once_per_item(fn: cst.FunctionDef):
    """The `for` loop of a generator function that yields exactly once per item: one
    `yield` (not `yield from`) in a simple statement directly in its body, no other yield
    in the function, no return, break, continue or raise in the loop; else None."""
    body = fn.body.body if isinstance(fn.body, cst.IndentedBlock) else ()
    loops = [st for st in body if isinstance(st, cst.For)]
    if len(loops) != 1 or loops[0].orelse is not None or loops[0].asynchronous is not None:
        return None
    loop = loops[0]
    if any(_yields(st) for st in body if st is not loop):
        return None
    stmts = loop.body.body if isinstance(loop.body, cst.IndentedBlock) else [loop.body]
    direct = [y for st in stmts if isinstance(st, (cst.SimpleStatementLine, cst.SimpleStatementSuite))
              for y in _yields(st)]
    if len(_yields(loop.body)) != 1 or len(direct) != 1 or isinstance(direct[0].value, cst.From):
        return None
    if any(isinstance(n, (cst.Return, cst.Break, cst.Continue, cst.Raise)) for n in _nodes(loop.body)):
        return None
    return loop


def generator_size(m: ScriptModel, source: Pipeline, env: Optional[Env] = None):
    """(rows, origin node) a GeneratorDataset's `source` yields when the script fixes
    it, else None: a local generator function looping once over range(n) / zip of known
    arrays / an array, yielding once per item; a local class with `__getitem__` whose
    `__len__` returns a literal, a constant, `len(self.x)` or `self.n` set in `__init__`;
    a list/zip of known arrays or an array."""
    from msfix.analysis.data import source_arg

    a = source_arg(source, "source")
    if a is None:
        return None
    expr, scope, order = a.value, source.call.scope, source.call.order
    site = source.call
    call = None
    if isinstance(expr, cst.Name):
        b = m.lookup(expr.value, scope, order)
        if b is not None and b.kind == "assign" and isinstance(b.value, cst.Call) \
                and len(b.scope.bindings.get(expr.value, ())) == 1:
            call, scope, order = b.value, b.scope, b.order
        elif b is not None and b.kind == "def" and expr.value in m.functions:
            fn = m.functions[expr.value]  # GeneratorDataset calls it with no arguments
            fake = _fake_site(m, site, expr.value, (), scope, order, site.top)
            return _gen_function_size(m, fn, fake, env)
    elif isinstance(expr, cst.Call):
        call = expr
    if call is not None:
        q = m.qualname(call.func, scope, order)
        if q and q.startswith("<local>."):
            name = q[8:]
            csite = m.call_of(call)
            if csite is None:
                return None
            if name in m.functions:
                return _gen_function_size(m, m.functions[name], csite, env)
            if name in m.classes:
                return _class_size(m, m.classes[name], csite, env)
            return None
    return _count(m, expr, scope, order, env)


def _gen_function_size(m: ScriptModel, fn, site, env):
    loop = _yields_once_per_item(fn.node)
    if loop is None or site.has_star_args:
        return None
    env2 = dict(env or {})
    env2[fn.scope] = site
    return _count(m, loop.iter, fn.scope, None, env2)


def _class_size(m: ScriptModel, cls: cst.ClassDef, site, env):
    if cls.bases or not isinstance(cls.body, cst.IndentedBlock) or site.has_star_args:
        return None
    meths = {el.name.value: el for el in cls.body.body if isinstance(el, cst.FunctionDef)}
    if "__getitem__" not in meths or "__len__" not in meths:
        return None  # an iterable: MindSpore does not ask for its length
    rets: list = []
    for st in (meths["__len__"].body.body if isinstance(meths["__len__"].body, cst.IndentedBlock) else ()):
        if isinstance(st, cst.SimpleStatementLine):
            rets.extend(x.value for x in st.body if isinstance(x, cst.Return))
        else:
            return None  # branches, loops: not followed
    if len(rets) != 1 or rets[0] is None:
        return None
    ret = rets[0]
    lscope = _def_scope(m, meths["__len__"])
    init = meths.get("__init__")
    iscope = _def_scope(m, init) if init is not None else None
    env2 = dict(env or {})
    if init is not None and iscope is not None:
        env2[iscope] = _fake_site(m, site, "__init__", [cst.Arg(cst.Name("self"))] + list(site.node.args),
                                  site.scope, site.order, site.top)
    # self.x read by __len__: the one assignment of `self.x` in __init__
    target = ret
    if isinstance(ret, cst.Call) and isinstance(ret.func, cst.Name) and ret.func.value == "len" and len(ret.args) == 1:
        target = ret.args[0].value
    wrap_len = target is not ret
    if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and target.value.value == "self":
        got = _self_attr(m, cls, meths, target.attr.value)
        if got is None or iscope is None:
            return None
        expr = got
        sc = iscope
    else:
        if lscope is None:
            return None
        expr, sc = target, lscope
    if wrap_len:
        return _count(m, expr, sc, None, env2)
    return _int_of(m, expr, sc, None, env2)


def _def_scope(m: ScriptModel, fn: cst.FunctionDef) -> Optional[Scope]:
    """The scope of a function or method (found from the names read and the calls made
    in it: a method reading nothing has nothing to follow)."""
    idx = m.memo("arrays").get("def_scopes")
    if idx is None:
        idx = {}
        starts: List[Optional[Scope]] = [r.lex for r in m.reads]
        starts.extend(c.scope for c in m.calls)
        for s in starts:
            while s is not None:
                if s.kind == "function" and s.node is not None:
                    idx.setdefault(id(s.node), s)
                s = s.parent
        m.memo("arrays")["def_scopes"] = idx
    return idx.get(id(fn))


def _self_attr(m, cls, meths, attr: str, in_place_ok: bool = False):
    """The value assigned to `self.<attr>` when the class assigns it once, in __init__'s
    body (not in a branch), and nothing else stores it (with `in_place_ok`, augmented
    assignments `self.x += ...` may also store it: the array keeps its dtype and shape)."""
    found = []
    for name, fn in meths.items():
        for node in _nodes(fn):
            targets: list = []
            if isinstance(node, cst.Assign):
                targets = [(t.target, node.value) for t in node.targets]
            elif isinstance(node, cst.AugAssign) and in_place_ok:
                continue
            elif isinstance(node, (cst.AugAssign, cst.AnnAssign)):
                targets = [(node.target, getattr(node, "value", None))]
            for t, v in targets:
                for x, val in _unpack(t, v):
                    if isinstance(x, cst.Attribute) and x.attr.value == attr:
                        found.append((name, node, val))
    if len(found) != 1 or found[0][0] != "__init__" or found[0][2] is None:
        return None
    init = meths["__init__"]
    body = init.body.body if isinstance(init.body, cst.IndentedBlock) else ()
    if not any(isinstance(st, cst.SimpleStatementLine) and found[0][1] in st.body for st in body):
        return None
    return found[0][2]


def _self_attr_info(m: ScriptModel, expr: cst.Attribute, scope: Scope, env, depth) -> Optional[ArrayInfo]:
    """`self.x` read in a method of a script class without bases (a GeneratorDataset
    source's `__getitem__`): the array `__init__` assigns to `self.x`, when it assigns it
    once, unconditionally, and no other method stores it."""
    if not isinstance(expr.value, cst.Name):
        return None
    b = m.lookup(expr.value.value, scope, None)
    fscope = b.scope if b is not None and b.kind == "param" else None
    fn = fscope.node if fscope is not None else None
    cscope = fscope.parent if fscope is not None else None
    if not isinstance(fn, cst.FunctionDef) or cscope is None or cscope.kind != "class" \
            or not isinstance(cscope.node, cst.ClassDef) or fn.decorators:
        return None
    params = [*fn.params.posonly_params, *fn.params.params]
    if not params or params[0].name.value != expr.value.value:
        return None  # not the instance parameter
    cls = cscope.node
    if cls.bases or not isinstance(cls.body, cst.IndentedBlock):
        return None
    meths = {el.name.value: el for el in cls.body.body if isinstance(el, cst.FunctionDef)}
    init = meths.get("__init__")
    got = _self_attr(m, cls, meths, expr.attr.value, in_place_ok=True) if init is not None else None
    iscope = _def_scope(m, init) if got is not None and init is not None else None
    if got is None or iscope is None:
        return None
    return array_info(m, got, iscope, None, env, depth)


def _unpack(t, v):
    if isinstance(t, (cst.Tuple, cst.List)):
        vals = v.elements if isinstance(v, (cst.Tuple, cst.List)) and len(v.elements) == len(t.elements) else None
        for i, el in enumerate(t.elements):
            yield from _unpack(el.value, vals[i].value if vals is not None else None)
    else:
        yield t, v



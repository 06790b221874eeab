"""Literal evaluation: the value of an expression when it follows from literals."""

from __future__ import annotations

import operator
import posixpath
from typing import TYPE_CHECKING, Optional

import libcst as cst

from msfix.analysis.configfiles import FileValue, loaded_file
from msfix.analysis.model import UNKNOWN
from msfix.analysis.walk import children as _children

if TYPE_CHECKING:  # pragma: no cover
    from msfix.analysis.model import Scope, ScriptModel

_BINOPS = {
    cst.Add: operator.add,
    cst.Subtract: operator.sub,
    cst.Multiply: operator.mul,
    cst.Divide: operator.truediv,
    cst.FloorDivide: operator.floordiv,
    cst.Modulo: operator.mod,
    cst.Power: operator.pow,
}


def _is_member_read(expr) -> bool:
    """`cfg.lr`, `cfg["lr"]` or `cfg.get("lr", d)`: a read of a member that `_member` follows."""
    return isinstance(expr, (cst.Attribute, cst.Subscript)) or (
        isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "get")


def evaluate(model: "ScriptModel", expr: cst.BaseExpression, scope: "Scope", order: Optional[int],
             depth: int = 0, param=None):
    """The value of `expr` when it follows from literals, else UNKNOWN. `param(binding,
    depth)`, when given, supplies the value of a function parameter (a helper function
    evaluated for one call site, see analysis/data.py)."""
    if depth > 12:
        return UNKNOWN
    if isinstance(expr, FileValue):  # a value read from a config file
        return UNKNOWN if isinstance(expr.value, dict) else expr.value
    ev = lambda e: evaluate(model, e, scope, order, depth + 1, param)  # noqa: E731
    if isinstance(expr, cst.Integer):
        try:
            return int(expr.value.replace("_", ""), 0)
        except ValueError:
            return UNKNOWN
    if isinstance(expr, cst.Float):
        return float(expr.value.replace("_", ""))
    if isinstance(expr, cst.SimpleString):
        try:
            return expr.evaluated_value
        except Exception:  # pragma: no cover - malformed escapes
            return UNKNOWN
    if isinstance(expr, cst.ConcatenatedString):
        try:
            v = expr.evaluated_value
            return UNKNOWN if v is None else v
        except Exception:
            return UNKNOWN
    if isinstance(expr, cst.Name):
        if expr.value == "True":
            return True
        if expr.value == "False":
            return False
        if expr.value == "None":
            return None
        b = model.lookup(expr.value, scope, order)
        if b is not None and b.kind == "param" and param is not None:
            return param(b, depth + 1)
        b = _constant_binding(model, expr, scope, order)
        if b is None and param is not None:
            b = _branch_binding(model, expr, scope, order, ev)
            if b is not None and b.kind == "param":
                return param(b, depth + 1)  # no branch rebinding it runs
        if b is None:
            return UNKNOWN
        return evaluate(model, b.value, b.scope, b.order, depth + 1, param)
    if isinstance(expr, cst.IfExp):
        t = ev(expr.test)
        if t is UNKNOWN:
            return UNKNOWN
        return ev(expr.body if t else expr.orelse)
    if isinstance(expr, cst.BooleanOperation):
        a = ev(expr.left)
        if a is UNKNOWN:
            return UNKNOWN
        if isinstance(expr.operator, cst.And):
            return ev(expr.right) if a else a
        return a if a else ev(expr.right)
    if isinstance(expr, cst.Comparison):
        return _compare(ev, expr)
    if _is_member_read(expr):
        got = _member(model, expr, scope, order, depth + 1)
        return UNKNOWN if got is None else got[0]
    if isinstance(expr, cst.UnaryOperation):
        v = ev(expr.expression)
        if v is UNKNOWN or isinstance(v, (str, bytes)) or v is None:
            return UNKNOWN
        try:
            if isinstance(expr.operator, cst.Minus):
                return -v
            if isinstance(expr.operator, cst.Plus):
                return +v
            if isinstance(expr.operator, cst.Not):
                return not v
        except TypeError:
            return UNKNOWN
        return UNKNOWN
    if isinstance(expr, cst.BinaryOperation):
        fn = _BINOPS.get(type(expr.operator))
        if fn is None:
            return UNKNOWN
        a, b = ev(expr.left), ev(expr.right)
        if a is UNKNOWN or b is UNKNOWN:
            return UNKNOWN
        try:
            return fn(a, b)
        except Exception:
            return UNKNOWN
    if isinstance(expr, (cst.Tuple, cst.List)):
        out = []
        for el in expr.elements:
            if isinstance(el, cst.StarredElement):
                return UNKNOWN
            v = ev(el.value)
            if v is UNKNOWN:
                return UNKNOWN
            out.append(v)
        return tuple(out) if isinstance(expr, cst.Tuple) else out
    if isinstance(expr, cst.Call):
        q = model.qualname(expr.func, scope, order)
        if q in ("os.path.join", "posixpath.join"):
            parts = [ev(a.value) for a in expr.args]
            if parts and all(isinstance(p, str) for p in parts) and not any(a.star or a.keyword for a in expr.args):
                return posixpath.join(*parts)
        # list(MEAN) / tuple(STD) of a known sequence (the builtin, not a name the script binds)
        if isinstance(expr.func, cst.Name) and expr.func.value in ("list", "tuple") and len(expr.args) == 1 \
                and not expr.args[0].star and expr.args[0].keyword is None \
                and model.lookup(expr.func.value, scope, order) is None:
            v = ev(expr.args[0].value)
            if isinstance(v, (list, tuple)):
                return list(v) if expr.func.value == "list" else tuple(v)
        return UNKNOWN
    if isinstance(expr, cst.FormattedString):
        out = []
        for part in expr.parts:
            if isinstance(part, cst.FormattedStringText):
                out.append(part.value)
            elif isinstance(part, cst.FormattedStringExpression):
                if part.conversion is not None or part.format_spec is not None:
                    return UNKNOWN
                v = ev(part.expression)
                if not isinstance(v, (str, int, float)) or isinstance(v, bool):
                    return UNKNOWN
                out.append(str(v))
            else:  # pragma: no cover
                return UNKNOWN
        text = "".join(out)
        if "{" in text or "}" in text or "\\" in text or "b" in expr.start.lower():
            return UNKNOWN  # escaped braces or backslashes: not worth decoding
        return text
    return UNKNOWN


_COMPARE = {
    cst.Equal: operator.eq, cst.NotEqual: operator.ne, cst.LessThan: operator.lt, cst.LessThanEqual: operator.le,
    cst.GreaterThan: operator.gt, cst.GreaterThanEqual: operator.ge,
    cst.In: lambda a, b: a in b, cst.NotIn: lambda a, b: a not in b,
}
_PLAIN = (int, float, str, bool, type(None), tuple, list)


def _compare(ev, expr: cst.Comparison):
    """`a == b`, `a < b < c`, `x in ("a", "b")`, `x is None` on known plain values."""
    left = ev(expr.left)
    for comp in expr.comparisons:
        right = ev(comp.comparator)
        if left is UNKNOWN or right is UNKNOWN or not isinstance(left, _PLAIN) or not isinstance(right, _PLAIN):
            return UNKNOWN
        op = type(comp.operator)
        if op in (cst.Is, cst.IsNot):
            if not (left is None or right is None or isinstance(left, bool) and isinstance(right, bool)):
                return UNKNOWN  # identity of other values is not the script's business
            ok = (left is right) == (op is cst.Is)
        else:
            fn = _COMPARE.get(op)
            if fn is None:
                return UNKNOWN
            try:
                ok = fn(left, right)
            except TypeError:
                return UNKNOWN
        if not ok:
            return False
        left = right
    return True


# --------------------------------------------------------------------------- names
def _branch_binding(model, name: cst.Name, scope, order, ev):
    """With the parameters of a helper known (one call site), the assignment a read of
    `name` takes its value from when the name is bound in `if`/`else` branches of the
    same function whose conditions are known (`if training: bs = 32 else: bs = 8`).
    None when a binding sits in a loop, `with` or `try`, or a condition is unknown."""
    from msfix.analysis.data import _structure

    if order is None or scope.kind not in ("function", "module"):
        return None
    bs = [b for b in scope.bindings.get(name.value, ()) if b.order < order]
    if not bs or any(b.kind not in ("assign", "param") for b in bs):
        return None
    branches = _structure(model).branches
    live = None
    base = None
    for b in sorted(bs, key=lambda x: x.order):
        if b.kind == "param":
            live = b
            continue
        chain = branches.get(id(b.statement))
        if chain is None or b.value is None:
            return None
        blocks = []
        taken = True
        for node, side in chain:  # the `if`s around it in its own function (see data._structure)
            if side:
                blocks.append(id(node.body))
            elif isinstance(node.orelse, cst.Else):
                blocks.append(id(node.orelse.body))
            t = ev(node.test)
            if t is UNKNOWN:
                return None
            if bool(t) != side:
                taken = False
        suite = tuple(b.suite)
        if blocks and suite[len(suite) - len(blocks):] != tuple(blocks):
            return None  # a loop, `with` or `try` between the branch and the binding
        outer = suite[:len(suite) - len(blocks)]
        if base is None:
            base = outer
        elif outer != base:
            return None
        if taken:
            live = b
    return live


def _constant_binding(model, name: cst.Name, scope, order):
    """The assignment a read of `name` takes its value from, when that follows from the
    order of the code: bound once in its scope, or rebound only in the same block (no
    branch, loop or `with` body between the bindings), read after them in that scope."""
    b = model.lookup(name.value, scope, order)
    if b is None or b.kind != "assign" or b.value is None:
        return None
    bs = b.scope.bindings.get(name.value, ())
    if len(bs) != 1:
        if b.scope is not scope or order is None:
            return None
        if any(x.suite != b.suite for x in bs):
            return None  # rebound in a branch or a loop: which one runs is not known
    return b


def _name_binding(model, name: cst.Name, scope, order):
    """Like _constant_binding, also for the first name of `a, b = call()` (kind "other")."""
    b = model.lookup(name.value, scope, order)
    if b is None:
        return None
    bs = b.scope.bindings.get(name.value, ())
    if len(bs) != 1 and (b.scope is not scope or order is None or any(x.suite != b.suite for x in bs)):
        return None
    if b.kind == "assign" and b.value is not None:
        return b, b.value
    if b.kind == "other" and isinstance(b.statement, cst.SimpleStatementLine):
        for st in b.statement.body:
            if isinstance(st, cst.Assign) and len(st.targets) == 1 and isinstance(st.targets[0].target, cst.Tuple):
                els = st.targets[0].target.elements
                if els and els[0].value is b.node and isinstance(st.value, cst.Call) \
                        and isinstance(st.value.func, cst.Attribute) and st.value.func.attr.value == "parse_known_args":
                    return b, cst.Subscript(st.value, [cst.SubscriptElement(cst.Index(cst.Integer("0")))])
    return None


# --------------------------------------------------------------------------- records
# A record is a value with members the script reads by key or attribute:
#   ("dict", entries, complete, attr_ok, names)   dict literal, dict(...), EasyDict, SimpleNamespace, dataclass
#   ("args", parser_info, names)                   an argparse Namespace of parse_args()
# entries: key -> (value expr, scope, order); names: the variables it is bound to.

_READ_METHODS = frozenset({"get", "keys", "values", "items", "copy", "__getitem__", "__contains__"})
_EASYDICT = ("easydict.EasyDict", "easydict.edict", "addict.Dict", "attrdict.AttrDict", "munch.Munch")


def _cache(model) -> dict:
    return model.memo("values")


def _mutations(model):
    """What the script may change in records: attribute names stored on anything but
    `self`, literal subscript keys stored or deleted, names a mutating method is
    called on or given to setattr/vars(...).update."""
    c = _cache(model)
    got = c.get("mutations")
    if got is not None:
        return got
    attrs, keys, names = set(), set(), set()
    for t in model.store_nodes:
        for x in (t.elements if isinstance(t, (cst.Tuple, cst.List)) else (t,)):
            x = getattr(x, "value", x) if isinstance(x, cst.Element) else x
            if isinstance(x, cst.Attribute):
                if not (isinstance(x.value, cst.Name) and x.value.value == "self"):
                    attrs.add(x.attr.value)
            elif isinstance(x, cst.Subscript):
                for el in x.slice:
                    if isinstance(el.slice, cst.Index) and isinstance(el.slice.value, cst.SimpleString):
                        try:
                            keys.add(el.slice.value.evaluated_value)
                        except Exception:  # pragma: no cover
                            pass
                    else:
                        keys.add(None)  # a computed key: any key may change
                root = x.value
                while isinstance(root, (cst.Attribute, cst.Subscript)):
                    root = root.value
                if isinstance(root, cst.Name) and None in keys:
                    names.add(root.value)
    for site in model.calls:
        f = site.node.func
        if isinstance(f, cst.Attribute) and f.attr.value not in _READ_METHODS:
            if _through_dict(f.value):
                attrs.add(None)  # x.__dict__.update(...), vars(x).update(...): any attribute of anything
            root = f.value
            while isinstance(root, (cst.Attribute, cst.Subscript, cst.Call)):
                if isinstance(root, cst.Call):  # vars(args).update(...) changes args
                    root = root.args[0].value if isinstance(root.func, cst.Name) and root.func.value == "vars" \
                        and root.args else root.func
                else:
                    root = root.value
            if isinstance(root, cst.Name):
                names.add(root.value)
        elif isinstance(f, cst.Name) and f.value in ("setattr", "delattr") and site.node.args:
            a = site.node.args[0].value
            if isinstance(a, cst.Name):
                names.add(a.value)
            n = site.node.args[1].value if len(site.node.args) > 1 else None
            if isinstance(n, cst.SimpleString):
                attrs.add(n.evaluated_value)
            else:
                attrs.add(None)  # setattr(obj, k, v) with a computed name: any attribute of anything
    got = (attrs, keys, names)
    c["mutations"] = got
    return got


def _through_dict(expr) -> bool:
    while isinstance(expr, (cst.Attribute, cst.Subscript, cst.Call)):
        if isinstance(expr, cst.Attribute) and expr.attr.value == "__dict__":
            return True
        if isinstance(expr, cst.Call):
            if isinstance(expr.func, cst.Name) and expr.func.value == "vars":
                return True
            expr = expr.func
        else:
            expr = expr.value
    return False


def _escapes(model, name: str) -> set:
    """Parameter names of the script's functions that a bare `name` is passed to."""
    c = _cache(model)
    key = ("escapes", name)
    got = c.get(key)
    if got is not None:
        return got
    got = set()
    for site in model.calls:
        q = site.qualname
        if not q or not q.startswith("<local>."):
            continue
        fn = model.functions.get(q[8:])
        node = fn.node if fn is not None else None
        if node is None:
            cls = model.classes.get(q[8:])
            init = next((el for el in (cls.body.body if cls is not None and isinstance(cls.body, cst.IndentedBlock)
                                       else ()) if isinstance(el, cst.FunctionDef) and el.name.value == "__init__"),
                        None)
            node = init
        if node is None:
            continue
        params = [p.name.value for p in [*node.params.posonly_params, *node.params.params]]
        if params and params[0] == "self" and fn is None:
            params = params[1:]
        i = 0
        for a in site.node.args:
            if a.star:
                got.update(params)
                break
            if a.keyword is None:
                if isinstance(a.value, cst.Name) and a.value.value == name and i < len(params):
                    got.add(params[i])
                i += 1
            elif isinstance(a.value, cst.Name) and a.value.value == name:
                got.add(a.keyword.value)
    c[key] = got
    return got


def _record(model, expr, scope, order, depth, names=(), easy=False):
    """`easy`: a dict literal inside an EasyDict (converted to an EasyDict itself)."""
    if depth > 12:
        return None
    if isinstance(expr, FileValue):  # a mapping of a config file (keys only, unless in an EasyDict)
        if not isinstance(expr.value, dict):
            return None
        return ("dict", {k: (v, scope, order) for k, v in expr.value.items()}, True, easy, names, easy)
    if isinstance(expr, cst.Name):
        nb = _name_binding(model, expr, scope, order)
        if nb is None:
            return _param_record(model, expr, scope, order, depth, names)
        b, value = nb
        return _record(model, value, b.scope, b.order, depth + 1, names + (expr.value,))
    if isinstance(expr, cst.Dict):
        entries, complete = {}, True
        for el in expr.elements:
            if isinstance(el, cst.StarredDictElement):
                entries, complete = {}, False  # keys before a ** may be overridden
                continue
            k = evaluate(model, el.key, scope, order, depth + 1)
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                return None
            entries[k] = (el.value, scope, order)
        return ("dict", entries, complete, easy, names, easy)
    if isinstance(expr, (cst.Attribute, cst.Subscript)):
        if isinstance(expr, cst.Subscript) and _is_parse_call(expr.value, "parse_known_args"):
            idx = _index(model, expr, scope, order, depth)
            info = _argparse(model, expr.value, scope, order, depth) if idx == 0 else None
            return None if info is None else ("args", info, names)
        got = _member_expr(model, expr, scope, order, depth + 1)
        if got is None:
            return None
        value, vscope, vorder = got[0]
        return _record(model, value, vscope, vorder, depth + 1, names, easy=got[2] == "easy")
    if isinstance(expr, cst.Call):
        fv = loaded_file(model, expr, scope, order)
        if fv is not None:  # yaml.safe_load(open("config.yaml")), json.load(f)
            return _record(model, fv, scope, order, depth + 1, names, easy)
        if _is_parse_call(expr, "parse_args"):
            info = _argparse(model, expr, scope, order, depth)
            return None if info is None else ("args", info, names)
        q = model.qualname(expr.func, scope, order)
        fname = expr.func.value if isinstance(expr.func, cst.Name) else None
        if fname == "vars" and model.lookup("vars", scope, order) is None and len(expr.args) == 1:
            inner = _record(model, expr.args[0].value, scope, order, depth + 1, names)
            if inner is not None and inner[0] == "args":
                return ("args", inner[1], names + inner[2], "keys")
            return None
        is_dict = fname == "dict" and model.lookup("dict", scope, order) is None
        is_ns = q in ("types.SimpleNamespace", "argparse.Namespace")
        if is_dict or is_ns or q in _EASYDICT:
            entries, complete = {}, True
            for a in expr.args:
                if a.star:
                    entries, complete = {}, False
                elif a.keyword is not None:
                    entries[a.keyword.value] = (a.value, scope, order)
                elif is_ns:
                    return None
                else:
                    inner = _record(model, a.value, scope, order, depth + 1)
                    if inner is None or inner[0] != "dict":
                        return None
                    entries.update(inner[1])
                    complete = complete and inner[2]
            return ("dict", entries, complete, not is_dict, names, q in _EASYDICT)
        if q and q.startswith("<local>.") and q[8:] in model.functions and not expr.args:
            fn = model.functions[q[8:]]  # args = get_args(): the value the function returns
            if len(fn.returns) == 1:
                return _record(model, fn.returns[0], fn.scope, None, depth + 1, names)
            return None
        if q and q.startswith("<local>."):
            return _dataclass_instance(model, expr, q[8:], scope, order, depth, names)
    return None


def _param_record(model, name: cst.Name, scope, order, depth, names):
    """`def main(args): ... args.workers` with `main(args)` called once in the script:
    the record given at that call (the parameter never rebound in the function)."""
    from msfix.analysis.data import call_sites, param_arg

    b = model.lookup(name.value, scope, order)
    if b is None or b.kind != "param" or not isinstance(b.node, cst.Param):
        return None
    fscope = b.scope
    if len(fscope.bindings.get(name.value, ())) != 1 or not isinstance(fscope.node, cst.FunctionDef):
        return None
    sites = call_sites(model, fscope)
    if len(sites) != 1:
        return None
    given = param_arg(sites[0], fscope.node, name.value)
    if given is None or given is UNKNOWN:
        return None
    return _record(model, given, sites[0].scope, sites[0].order, depth + 1, names + (name.value,))


def _is_parse_call(expr, method: str) -> bool:
    return isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value == method


def _index(model, sub: cst.Subscript, scope, order, depth):
    if len(sub.slice) != 1 or not isinstance(sub.slice[0].slice, cst.Index):
        return UNKNOWN
    return evaluate(model, sub.slice[0].slice.value, scope, order, depth + 1)


def _dataclass_instance(model, call, cls_name, scope, order, depth, names):
    cls = model.classes.get(cls_name)
    if cls is None or not any(_is_dataclass_decorator(model, d.decorator, scope, order) for d in cls.decorators):
        return None
    if cls.bases or any(a.keyword is None for a in call.args):
        return None  # inherited fields or positional arguments: not followed
    body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ()
    if any(isinstance(st, cst.FunctionDef) and st.name.value in ("__init__", "__post_init__") for st in body):
        return None  # fields set by code
    cscope = None
    for b in model.module_scope.bindings.get(cls_name, ()):
        if b.node is cls:
            cscope = b.scope
    entries = {}
    body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ()
    for st in body:
        if isinstance(st, cst.SimpleStatementLine):
            for x in st.body:
                if isinstance(x, cst.AnnAssign) and isinstance(x.target, cst.Name) and x.value is not None:
                    v = x.value
                    if isinstance(v, cst.Call) and model.qualname(v.func, model.module_scope) in (
                            "dataclasses.field",):
                        d = next((a.value for a in v.args if a.keyword and a.keyword.value == "default"), None)
                        if d is None:
                            continue
                        v = d
                    entries[x.target.value] = (v, cscope or model.module_scope, None)
    for a in call.args:
        if a.star:
            return None
        entries[a.keyword.value] = (a.value, scope, order)
    return ("dict", entries, False, True, names, False)


def _is_dataclass_decorator(model, d, scope, order) -> bool:
    if isinstance(d, cst.Call):
        d = d.func
    return model.qualname(d, scope, order) == "dataclasses.dataclass"


def _member_expr(model, expr, scope, order, depth):
    """((value expr, scope, order), origin node, label) of `rec.k` / `rec["k"]` /
    `rec.get("k", d)` on a dict-like record, None when unknown."""
    got = _member(model, expr, scope, order, depth, want_expr=True)
    return got


def member_expr(model, expr, scope, order):
    """(expr, scope, order) of the entry `rec.k` / `rec["k"]` reads in a dict / EasyDict /
    namespace / dataclass the script builds (not an argparse option), None when unknown."""
    got = _member(model, expr, scope, order, 0, want_expr=True)
    if got is None or not isinstance(got[0], tuple) or got[0][0] is None:
        return None
    return got[0]


def _member(model, expr, scope, order, depth, want_expr=False):
    """(value, origin) of a member read, None when unknown. origin: (label, node) where
    label is "" or "argparse default"."""
    if depth > 12:
        return None
    default = None
    if isinstance(expr, cst.Attribute):
        base, key, access = expr.value, expr.attr.value, "attr"
    elif isinstance(expr, cst.Subscript):
        k = _index(model, expr, scope, order, depth)
        if not isinstance(k, (str, int)) or isinstance(k, bool):
            return None
        base, key, access = expr.value, k, "key"
    else:  # rec.get("k", d)
        args = expr.args
        if not args or len(args) > 2 or any(a.star or a.keyword for a in args):
            return None
        k = evaluate(model, args[0].value, scope, order, depth + 1)
        if not isinstance(k, (str, int)) or isinstance(k, bool):
            return None
        base, key, access = expr.func.value, k, "get"
        default = args[1].value if len(args) == 2 else cst.Name("None")
    rec = _record(model, base, scope, order, depth + 1)
    if rec is None:
        return None
    attrs, keys, mutated = _mutations(model)
    for n in rec[2 if rec[0] == "args" else 4]:
        if n in mutated or any(p in mutated for p in _escapes(model, n)):
            return None  # changed in place, here or by a function of the script it is given to
    if access == "attr" and (key in attrs or None in attrs) or access != "attr" and key in keys:
        return None
    if rec[0] == "args":
        keyed = len(rec) > 3
        if (access == "attr") == keyed or access == "get" or want_expr:
            return None
        return _argparse_value(model, rec[1], key, depth)
    _, entries, complete, attr_ok, _, easy = rec
    if (access == "attr") and not attr_ok or access != "attr" and attr_ok and not easy:
        return None  # EasyDict: both; dict: keys only; namespaces and dataclasses: attributes only
    if key in entries:
        vexpr, vscope, vorder = entries[key]
        if want_expr:
            return (vexpr, vscope, vorder), vexpr, "easy" if easy else ""
        v = evaluate(model, vexpr, vscope, vorder, depth + 1)
        return None if v is UNKNOWN else (v, (vexpr, ""))
    if access == "get" and complete:
        if want_expr:
            return (default, scope, order), default, "get default"
        v = evaluate(model, default, scope, order, depth + 1)
        return None if v is UNKNOWN else (v, (default, "get default"))
    return None


# --------------------------------------------------------------------------- argparse
def _argparse(model, parse_call: cst.Call, scope, order, depth):
    """The add_argument calls of the parser `parse_call` parses with its defaults, or
    None when the parsed arguments may differ from the defaults the script declares."""
    func = parse_call.func
    for a in parse_call.args:  # parse_args() / parse_args([]) / parse_args(args=[])
        if a.star or (a.keyword is not None and a.keyword.value != "args"):
            return None
        if not (isinstance(a.value, cst.List) and not a.value.elements) \
                and not (isinstance(a.value, cst.Name) and a.value.value == "None"):
            return None
    if not isinstance(func.value, cst.Name):
        return None
    pb = _constant_binding(model, func.value, scope, order)
    if pb is None or not isinstance(pb.value, cst.Call) \
            or model.qualname(pb.value.func, pb.scope, pb.order) != "argparse.ArgumentParser":
        return None
    if any(a.star or (a.keyword is not None and a.keyword.value in ("parents", "argument_default"))
           for a in pb.value.args):
        return None
    c = _cache(model)
    psite = model.call_of(parse_call)
    key = ("argparse", id(pb), id(parse_call))
    if key in c:
        return c[key]
    holders = {id(pb)}
    adds = []
    info = None
    for site in model.calls:
        f = site.node.func
        reads = [a.value for a in site.node.args if isinstance(a.value, cst.Name)]
        if any(model.lookup(r.value, site.scope, site.order) is pb for r in reads):
            break  # the parser is handed to other code, which may add or change arguments
        if not isinstance(f, cst.Attribute) or not isinstance(f.value, cst.Name):
            continue
        hb = model.lookup(f.value.value, site.scope, site.order)
        if hb is None or id(hb) not in holders:
            continue
        m = f.attr.value
        if m in ("add_argument_group", "add_mutually_exclusive_group"):
            if site.target is not None:
                for b in site.scope.bindings.get(site.target, ()):
                    if b.value is site.node:
                        holders.add(id(b))
        elif m == "add_argument":
            if psite is None or site.scope is not psite.scope or site.order < psite.order:
                adds.append(site)  # (one added after parsing is not in the namespace)
        elif m in ("parse_args", "parse_known_args", "parse_intermixed_args", "parse_known_intermixed_args",
                   "format_help", "print_help", "format_usage", "print_usage", "error", "exit",
                   "get_default"):
            continue
        else:  # set_defaults, add_subparsers, register, ...
            break
    else:
        info = adds
    c[key] = info
    return info


def _dest(model, site) -> Optional[str]:
    kw = site.keyword("dest")
    if kw is not None:
        d = model.literal(kw.value, site.scope, site.order)
        return d if isinstance(d, str) else None
    flags = []
    for a in site.node.args:
        if a.keyword is None:
            if a.star:
                return None
            v = model.literal(a.value, site.scope, site.order)
            if not isinstance(v, str):
                return None
            flags.append(v)
    if not flags or not all(f.startswith("-") for f in flags):
        return None  # a positional argument: given on the command line
    long = [f for f in flags if f.startswith("--")]
    return (long[0] if long else flags[0]).lstrip("-").replace("-", "_")


_TYPES = {"int": int, "float": float, "str": str}


def _argparse_value(model, adds, dest, depth):
    found = [s for s in adds if _dest(model, s) == dest]
    if len(found) != 1:
        return None
    site = found[0]
    if site.has_star_args:
        return None
    req = site.keyword("required")
    if req is not None and model.literal(req.value, site.scope, site.order) is not False:
        return None
    action = site.keyword("action")
    act = "store" if action is None else model.literal(action.value, site.scope, site.order)
    d = site.keyword("default")
    if act in ("store_true", "store_false") and d is None:
        return (act == "store_false"), (site.node, "argparse default")
    if act not in ("store", "store_true", "store_false", "store_const", "append", "count", "extend"):
        return None
    if d is None:
        return None, (site.node, "argparse default")
    v = evaluate(model, d.value, site.scope, site.order, depth + 1)
    if v is UNKNOWN:
        return None
    t = site.keyword("type")
    if isinstance(v, str) and t is not None:
        if act != "store":
            return None
        else:
            conv = _TYPES.get(t.value.value) if isinstance(t.value, cst.Name) \
                and model.lookup(t.value.value, site.scope, site.order) is None else None
            if conv is None:
                return None
            try:
                v = conv(v)
            except ValueError:
                return None
    return v, (d.value, "argparse default")


# --------------------------------------------------------------------------- call sites
def per_call(model, expr, scope, order, statement=None, limit: int = 16):
    """[(value, call site)]: the value of `expr` for each call of the script function it
    is in, its parameters taken from that call's arguments (or their defaults) and the
    `if`s on them followed; [(value, None)] when the value does not depend on the call
    (a literal, a constant, no call of the function in the script). With `statement`
    (the one holding `expr`), calls for which its `if` branch is not taken are left out."""
    from msfix.analysis.data import branch_taken, call_sites, value

    plain = evaluate(model, expr, scope, order)
    if plain is not UNKNOWN or scope.kind != "function":
        return [(plain, None)]
    sites = call_sites(model, scope)
    if not sites:
        return [(plain, None)]
    out = []
    for s in sites[:limit]:
        env = {scope: s}
        if statement is None or branch_taken(model, statement, scope, order, env):
            out.append((value(model, expr, scope, order, env), s))
    return out


def _param_origin(model, expr, scope, order, ctx, site) -> Optional[str]:
    """Origin of a parameter read for one call `site` of its function."""
    from msfix.analysis.data import param_arg, value

    b = model.lookup(expr.value, scope, order)
    if b is None or b.kind != "param" or b.scope is not site_scope(site, b) or not isinstance(b.node, cst.Param):
        return None
    fn = b.scope.node
    given = param_arg(site, fn, b.name) if isinstance(fn, cst.FunctionDef) else UNKNOWN
    if given is UNKNOWN:
        return None
    fname = fn.name.value
    call_line = _line(ctx, site.node, model)
    if given is None:
        if b.node.default is None:
            return None
        v = value(model, b.node.default, b.scope.parent or model.module_scope, None)
        if v is UNKNOWN:
            return None
        where = [f"default {v!r} of `{fname}`"]
        line = _line(ctx, b.node, model)
        if line:
            where.append(f"line {line}")
        text = f"`{expr.value}` ({', '.join(where)})" + (f", for the call on line {call_line}" if call_line else "")
        inner = origin_of(model, b.node.default, b.scope.parent or model.module_scope, None, ctx)
        return text + (f", from {inner}" if inner else "")
    v = value(model, given, site.scope, site.order, {b.scope: site})
    if v is UNKNOWN:
        return None
    text = f"`{expr.value}` ({v!r} given to `{fname}`" + (f" on line {call_line})" if call_line else ")")
    inner = origin_of(model, given, site.scope, site.order, ctx)
    return text + (f", from {inner}" if inner else "")


def site_scope(site, b):
    """The function scope `site` calls (the scope of the parameter binding `b` when `site`
    is a call of that function)."""
    q = site.qualname
    if q and q.startswith("<local>.") and isinstance(b.scope.node, cst.FunctionDef) \
            and b.scope.node.name.value == q[8:]:
        return b.scope
    return None


def _line(ctx, node, model) -> Optional[int]:
    if ctx is None:
        return None
    try:
        return ctx.span(node, model.top_of(node)).line
    except (KeyError, LookupError):
        return None


# --------------------------------------------------------------------------- origins
def _is_number_literal(node) -> bool:
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus)):
        node = node.expression
    return isinstance(node, (cst.Integer, cst.Float))


def defining_literal(model, expr, scope, order, depth: int = 0) -> Optional[cst.BaseExpression]:
    """The number literal in the script that the value of `expr` is written as, when it
    comes from that one place (the expression itself, a module constant, a dict /
    EasyDict / namespace entry, an argparse default), followed through names and
    members; None otherwise (a config file, a computed value, several bindings)."""
    if expr is None or depth > 8 or isinstance(expr, FileValue):
        return None
    if _is_number_literal(expr):
        return expr
    if isinstance(expr, cst.Name):
        b = _constant_binding(model, expr, scope, order)
        if b is None:
            return None
        return defining_literal(model, b.value, b.scope, b.order, depth + 1)
    if _is_member_read(expr):
        got = _member(model, expr, scope, order, 0)
        if got is None:
            return None
        _, (node, label) = got
        if isinstance(node, FileValue) or not isinstance(node, cst.BaseExpression):
            return None
        if label == "argparse default":
            return node if _is_number_literal(node) else None
        inner = _member(model, expr, scope, order, 0, want_expr=True)
        if inner is not None and isinstance(inner[0], tuple) and inner[0][0] is node:
            return defining_literal(model, node, inner[0][1], inner[0][2], depth + 1)
        return node if _is_number_literal(node) else None
    return None


def origin_of(model, expr, scope, order, ctx=None, site=None) -> Optional[str]:
    """Where the value of `expr` comes from when it is not written at the use:
    "`args.workers` (argparse default 12, line 12)", "`config["momentum"]` (line 5)",
    "`WORKERS` (line 4)", for one call `site` of the helper it is in "`workers` (16 given
    to `make_loader` on line 20)". None for a literal at the use or an unknown value.
    Lines need `ctx` (a RuleContext); without it the origin has no line."""
    node = label = None
    if site is not None and isinstance(expr, cst.Name):
        got = _param_origin(model, expr, scope, order, ctx, site)
        if got is not None:
            return got
        from msfix.analysis.data import value

        env = {scope: site}
        b = _constant_binding(model, expr, scope, order) or _branch_binding(
            model, expr, scope, order, lambda e: value(model, e, scope, order, env))
        if b is not None and b.kind == "assign" and isinstance(b.value, cst.Name):
            inner = origin_of(model, b.value, b.scope, b.order, ctx, site)
            if inner is not None:
                line = _line(ctx, b.node, model)
                return f"`{expr.value}`" + (f" (line {line})" if line else "") + f", from {inner}"
    if isinstance(expr, cst.Name):
        if expr.value in ("True", "False", "None"):
            return None
        b = _constant_binding(model, expr, scope, order)
        if b is None:
            return None
        value, node, label = evaluate(model, expr, scope, order), b.node, ""
        if value is UNKNOWN:
            return None
        if isinstance(b.value, (cst.Attribute, cst.Subscript, cst.Call)):  # LR = cfg["lr"]
            inner = origin_of(model, b.value, b.scope, b.order, ctx)
            if inner is not None:
                line = _line(ctx, b.node, model)
                return f"`{expr.value}`" + (f" (line {line})" if line else "") + f", from {inner}"
    elif _is_member_read(expr):
        got = _member(model, expr, scope, order, 0)
        if got is None:
            return None
        value, (node, label) = got
    else:
        return None
    where = []
    if label:
        where.append(f"{label} {value!r}")
    if isinstance(node, FileValue):
        where.append(node.where)  # config.yaml:3
    elif ctx is not None:
        try:
            where.append(f"line {ctx.span(node, model.top_of(node)).line}")
        except (KeyError, LookupError):
            pass
    text = model.module.code_for_node(expr)
    return f"`{text}` ({', '.join(where)})" if where else f"`{text}`"


def from_outside(model, expr, scope, order, depth: int = 0) -> bool:
    """Does the value of `expr` depend on something a run can change without editing the
    script: an argparse option (its default is what msfix sees) or a config file? Follows
    constant names and dict / namespace entries the script builds."""
    if expr is None or depth > 8:
        return False
    todo = [expr]
    while todo:
        node = todo.pop()
        if isinstance(node, cst.Lambda):
            continue
        if _is_member_read(node):
            got = _member(model, node, scope, order, 0)
            if got is not None:
                _, (origin, label) = got
                if label == "argparse default" or isinstance(origin, FileValue):
                    return True
                inner = _member(model, node, scope, order, 0, want_expr=True)
                if inner is not None and isinstance(inner[0], tuple) and inner[0][0] is not None:
                    vexpr, vscope, vorder = inner[0]
                    if from_outside(model, vexpr, vscope, vorder, depth + 1):
                        return True
                continue
        elif isinstance(node, cst.Name):
            b = _constant_binding(model, node, scope, order)
            if b is not None and from_outside(model, b.value, b.scope, b.order, depth + 1):
                return True
            continue
        todo.extend(_children(node))
    return False

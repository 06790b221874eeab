"""Literal evaluation: the value of an expression when it follows from literals."""

from __future__ import annotations

import operator
import posixpath
from typing import TYPE_CHECKING, Optional

import libcst as cst

from msfix.analysis.model import UNKNOWN

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


def evaluate(model: "ScriptModel", expr: cst.BaseExpression, scope: "Scope", order: Optional[int],
             depth: int = 0, param=None):
    """The value of `expr` when it follows from literals, else UNKNOWN. `param(binding,
    depth)`, when given, supplies the value of a function parameter (a helper function
    evaluated for one call site, see analysis/data.py)."""
    if depth > 12:
        return UNKNOWN
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
        if b is None or b.kind != "assign" or b.value is None:
            return UNKNOWN
        # only trust names bound once in their scope (constants)
        if len(b.scope.bindings.get(expr.value, ())) != 1:
            if b.scope is not scope or order is None:
                return UNKNOWN
        return evaluate(model, b.value, b.scope, b.order, depth + 1, param)
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
        return UNKNOWN
    return UNKNOWN

"""The children of a node, fast.

LibCST's `node.children` rebuilds the node through a visitor to list them, which makes
it the most expensive attribute an analysis can read. `children(node)` reads the
dataclass fields instead and returns the same nodes in the same (source) order, less
the whitespace, comment and punctuation nodes (commas, parentheses, colons, `=`, dots,
brackets) that no analysis looks at. `tests/test_walk.py` checks the field order of
every LibCST node class against LibCST's own.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, List, Tuple

import libcst as cst

# fields that hold only layout: whitespace and comments, punctuation tokens, newlines
_LAYOUT = frozenset({
    "lpar", "rpar", "comma", "semicolon", "equal", "colon", "dot", "lbracket", "rbracket", "lbrace", "rbrace",
    "arrow", "walrus", "leading_lines", "lines_after_decorators", "header", "footer", "newline", "relative",
    "asynchronous", "empty_lines", "first_line", "value_lpar", "value_rpar", "indent", "first_colon",
    "second_colon", "star_tok",
})

# classes whose fields LibCST visits in another order than they are declared
_ORDER: Dict[type, Tuple[str, ...]] = {
    cst.Arg: ("keyword", "value"),
    cst.FunctionDef: ("decorators", "name", "type_parameters", "params", "returns", "body"),
    cst.ClassDef: ("decorators", "name", "type_parameters", "bases", "keywords", "body"),
    cst.ExceptHandler: ("type", "name", "body"),
    cst.ExceptStarHandler: ("type", "name", "body"),
    cst.IfExp: ("body", "test", "orelse"),
    cst.MatchCase: ("pattern", "guard", "body"),
    cst.Parameters: ("posonly_params", "posonly_ind", "params", "star_arg", "kwonly_params", "star_kwarg"),
    cst.Slice: ("lower", "upper", "step"),
}
if hasattr(cst, "TypeAlias"):  # LibCST releases that parse `type X = ...`
    _ORDER[cst.TypeAlias] = ("name", "type_parameters", "value")

_FIELDS: Dict[type, Tuple[str, ...]] = {}


def fields_of(t: type) -> Tuple[str, ...]:
    """The fields of node class `t` that can hold child nodes, in LibCST's visit order."""
    f = _FIELDS.get(t)
    if f is None:
        names = {fl.name for fl in dataclasses.fields(t)}
        if t in _ORDER:
            f = tuple(n for n in _ORDER[t] if n in names)
        else:
            f = tuple(n for n in (fl.name for fl in dataclasses.fields(t))
                      if "whitespace" not in n and n not in _LAYOUT)
        _FIELDS[t] = f
    return f


def children(node: cst.CSTNode) -> List[cst.CSTNode]:
    """`node.children` without layout nodes, in the same order, without rebuilding the node."""
    out: List[cst.CSTNode] = []
    for name in fields_of(type(node)):
        v = getattr(node, name)
        if isinstance(v, cst.CSTNode):
            out.append(v)
        elif type(v) in (list, tuple):
            for x in v:
                if isinstance(x, cst.CSTNode):
                    out.append(x)
    return out

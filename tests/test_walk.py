"""msfix.analysis.walk.children is LibCST's `children` without layout nodes: the same
nodes in the same order, for every node class (from LibCST's own visit order) and for
every node of the fixtures."""

import dataclasses
import inspect
import re
from pathlib import Path

import libcst as cst
import pytest

from msfix.analysis.walk import _LAYOUT, children, fields_of

REPO = Path(__file__).resolve().parent.parent

LAYOUT = (cst.BaseParenthesizableWhitespace, cst.EmptyLine, cst.TrailingWhitespace, cst.Newline, cst.Comment,
          cst.Comma, cst.LeftParen, cst.RightParen, cst.Semicolon, cst.AssignEqual, cst.Colon, cst.Dot,
          cst.LeftSquareBracket, cst.RightSquareBracket, cst.LeftCurlyBrace, cst.RightCurlyBrace,
          cst.Asynchronous)

NODE_CLASSES = sorted((t for t in vars(cst).values() if isinstance(t, type) and issubclass(t, cst.CSTNode)
                       and dataclasses.is_dataclass(t) and not inspect.isabstract(t)), key=lambda t: t.__name__)


def _visit_order(t):
    """The fields LibCST's `_visit_and_replace_children` visits, in its order."""
    return re.findall(r'visit_\w+\(\s*self,\s*"(\w+)"', inspect.getsource(t._visit_and_replace_children))


@pytest.mark.parametrize("t", NODE_CLASSES, ids=lambda t: t.__name__)
def test_field_order_is_libcsts(t):
    order = list(dict.fromkeys(_visit_order(t)))
    mine = fields_of(t)
    # the fields read are visited by LibCST in the same order
    assert [f for f in order if f in mine] == [f for f in mine if f in order]
    # a field LibCST visits that is not read holds only layout
    assert all("whitespace" in f or f in _LAYOUT for f in order if f not in mine), t
    # a field read that LibCST does not visit holds no node (`Name.value`, `Param.star`)
    assert all(f in order or f in ("value", "star", "conversion", "start", "end", "encoding", "default_indent",
                                   "default_newline", "has_trailing_newline") for f in mine), t


def test_children_equal_libcst_children_on_fixtures():
    n = 0
    for f in sorted((REPO / "fixtures").rglob("*.py"))[::2]:
        try:
            module = cst.parse_module(f.read_text(encoding="utf-8"))
        except cst.ParserSyntaxError:
            continue
        stack = [module]
        while stack:
            node = stack.pop()
            theirs = [c for c in node.children if not isinstance(c, LAYOUT)]
            assert [id(c) for c in children(node)] == [id(c) for c in theirs], type(node).__name__
            stack.extend(theirs)
            n += 1
    assert n > 50_000


def test_msfix_and_rules_do_not_read_libcsts_children():
    import ast

    found = []
    for f in sorted((REPO / "msfix").rglob("*.py")) + sorted((REPO / "rules").rglob("*.py")):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "children" and isinstance(node.ctx, ast.Load):
                found.append(f"{f.relative_to(REPO)}:{node.lineno}")
    assert found == []

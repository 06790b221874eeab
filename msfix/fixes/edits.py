"""Edit helpers shared by every rule: text edits at node ranges that keep the
parentheses of an expression, statement removal, small expression builders. Imports
that a fix adds go through RuleContext.ensure_module / imports_edit (bound before the
first use)."""

from typing import List, Optional, Sequence, Tuple

import libcst as cst

from msfix.analysis.walk import children as _children
from msfix.diagnostics import Edit

_SIMPLE = (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.Integer, cst.Float)


def expr_offsets(ctx, expr: cst.BaseExpression, top: int) -> Tuple[int, int]:
    """Offsets of an expression including its own parentheses (LibCST ranges leave
    them out: `(2, 2)` would otherwise be cut to `2, 2`)."""
    start, end = ctx.offsets(expr, top)
    text = ctx.model.text
    for _ in getattr(expr, "lpar", ()):
        s, e = start, end
        while s > 0 and text[s - 1] in " \t":
            s -= 1
        while e < len(text) and text[e] in " \t":
            e += 1
        if text[s - 1:s] == "(" and text[e:e + 1] == ")":
            start, end = s - 1, e + 1
        else:
            break
    return start, end


def expr_text(ctx, expr: cst.BaseExpression, top: int) -> str:
    start, end = expr_offsets(ctx, expr, top)
    return ctx.model.text[start:end]


def insert_after_expr(ctx, expr: cst.BaseExpression, text: str, top: int) -> Edit:
    _, end = expr_offsets(ctx, expr, top)
    return Edit(end, end, text)


def replace_expr(ctx, expr: cst.BaseExpression, text: str, top: int) -> Edit:
    start, end = expr_offsets(ctx, expr, top)
    return Edit(start, end, text)


def append_kwarg(ctx, call: cst.Call, kw: str, top: Optional[int]) -> Edit:
    """An edit adding `kw` (e.g. "is_hwc=False") as the last argument of `call`."""
    _, end = ctx.offsets(call, top)
    close = end - 1
    before = ctx.model.text[:close].rstrip()
    if not call.args or before.endswith((",", "(")):
        return Edit(close, close, kw)
    return Edit(len(before), len(before), f", {kw}")


def parent_body(root: cst.CSTNode, stmt: cst.CSTNode) -> Optional[Sequence[cst.CSTNode]]:
    """The statement list (block body) holding `stmt`, searched under `root` (a Module or
    a function): a small walk over compound statements only."""
    todo: List[cst.CSTNode] = [root]
    while todo:
        node = todo.pop()
        body: Optional[Sequence[cst.BaseStatement]] = None
        if isinstance(node, cst.Module):
            body = node.body
        elif isinstance(node, (cst.IndentedBlock,)):
            body = node.body
        if body is not None:
            for s in body:
                if s is stmt:
                    return body
            for s in body:
                if isinstance(s, cst.BaseCompoundStatement):
                    todo.append(s)
            continue
        for child in _children(node):
            if isinstance(child, (cst.IndentedBlock, cst.BaseCompoundStatement, cst.Else, cst.ExceptHandler,
                                  cst.Finally, cst.ExceptStarHandler)):
                todo.append(child)
    return None


def remove_statement(ctx, stmt: cst.CSTNode, scope_node: cst.CSTNode, top: int) -> Optional[Edit]:
    """An edit removing the simple statement line `stmt` (or replacing it by `pass`
    when it is the only statement of its block)."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    body = parent_body(scope_node, stmt)
    if body is None:
        return None
    if len(body) == 1:
        return ctx.replace(stmt.body[0], "pass", top)
    start, end = ctx.statement_lines(stmt, top)
    return Edit(start, end, "")


def scope_root(m, scope) -> cst.CSTNode:
    return scope.node if scope.node is not None else m.module


def one_minus(ctx, v, top):
    """Source of `1 - v`: computed for a literal in [0, 1], else `1 - v` / `1 - (v)`."""
    if isinstance(v, (cst.Float, cst.Integer)):
        k = float(v.evaluated_value)
        return repr(round(1 - k, 10)) if 0 <= k <= 1 else None
    s, e = expr_offsets(ctx, v, top)
    src = ctx.model.text[s:e]
    return f"1 - {src}" if isinstance(v, _SIMPLE) else f"1 - ({src})"


def string_literal(text: str, like: cst.BaseExpression) -> str:
    """`text` as a Python string literal using the quote style of `like`."""
    quote = '"'
    if isinstance(like, cst.SimpleString) and like.quote in ("'", '"'):
        quote = like.quote
    r = repr(text)
    if quote == '"' and r.startswith("'") and '"' not in text:
        r = '"' + r[1:-1] + '"'
    return r

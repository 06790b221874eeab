"""Helpers shared by the network rules (MS3xx, MS8xx); not a rule module."""

from typing import Tuple

import libcst as cst

from msfix.diagnostics import Edit


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


def compiled_label(ctx, net, cf) -> str:
    """`Net.construct` (or `helper`, with the call chain) and why MindSpore compiles it."""
    name = f"{cf.cell.name}.{cf.node.name.value}" if cf.cell is not None else cf.node.name.value
    if cf.via:
        name += f" (called as {cf.via})"
    why = cf.why
    gm = net.graph_mode_site()
    if why == "the script sets GRAPH_MODE" and gm is not None:
        why = f"the script sets GRAPH_MODE (line {ctx.span(gm.node, gm.top).line})"
    return f"`{name}`, which MindSpore compiles because {why}"

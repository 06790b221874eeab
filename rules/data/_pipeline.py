"""Fix helpers shared by the data-pipeline rules (not a rule module): insert a map
before the first batch, move a stage before another, remove a transform; report a node
once; name a helper-function call context. The column states they act on come from
`ctx.data` (msfix/analysis/columns.py)."""

from typing import Dict, List, Optional

import libcst as cst

from msfix.context import MAP_ARGS, MapOp, Pipeline
from msfix.diagnostics import Edit


def insert_map_edit(ctx, source: Pipeline, leaves: List[Pipeline], map_text: str) -> Optional[Edit]:
    """An edit inserting `.map(...)` right before the first batch of the pipelines, or
    right after the source call when no pipeline is batched."""
    b = ctx.data.common_first_batch(leaves)
    if b is not None:
        func = b.call.node.func
        assert isinstance(func, cst.Attribute)
        return ctx.insert_after(func.value, map_text, b.call.top)
    if all(ctx.data.first_batch(p) is None for p in leaves):
        return ctx.insert_after(source.call.node, map_text, source.call.top)
    return None


def swap_edit(ctx, first: Pipeline, second: Pipeline) -> Optional[Edit]:
    """An edit that moves stage `second` (applied directly to `first`) before `first`:
    `x.batch(32).map(f)` -> `x.map(f).batch(32)`, or two adjacent statements
    `d = d.batch(32)` / `d = d.map(f)` swapped. None when neither shape matches."""
    fcall, scall = first.call.node, second.call.node
    if not isinstance(fcall.func, cst.Attribute) or not isinstance(scall.func, cst.Attribute):
        return None
    text = ctx.model.text
    if scall.func.value is fcall:
        recv = fcall.func.value
        top = second.call.top
        _, r_end = ctx.offsets(recv, top)
        _, f_end = ctx.offsets(fcall, top)
        _, s_end = ctx.offsets(scall, top)
        return Edit(r_end, s_end, text[f_end:s_end] + text[r_end:f_end])
    # adjacent statements `n = n.first(...)` then `n = n.second(...)`
    s1, s2 = first.call.statement, second.call.statement
    name = _self_update(s1, fcall)
    if name is None or name != _self_update(s2, scall):
        return None
    a0, a1 = ctx.statement_lines(s1, first.call.top)
    b0, b1 = ctx.statement_lines(s2, second.call.top)
    if a1 != b0:
        return None
    return Edit(a0, b1, text[b0:b1] + text[a0:a1])


def _self_update(stmt, call) -> Optional[str]:
    """`n` when `stmt` is exactly `n = n.<op>(...)` with `call` as the value."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    a = stmt.body[0]
    if not isinstance(a, cst.Assign) or len(a.targets) != 1 or a.value is not call:
        return None
    t = a.targets[0].target
    recv = call.func.value
    if isinstance(t, cst.Name) and isinstance(recv, cst.Name) and recv.value == t.value:
        return t.value
    return None


def remove_op_edit(ctx, stage: Optional[Pipeline], op: MapOp) -> Optional[Edit]:
    """An edit removing transform `op` from its map: the list element, or the whole
    `.map(...)` call when the op is its only transform (`stage` None: a Compose list
    outside any map, only the element)."""
    c = op.container
    top = op.top if op.top is not None else (stage.call.top if stage is not None else None)
    if top is None:
        return None
    if c is not None and isinstance(c, (cst.List, cst.Tuple)) and len(c.elements) > 1:
        els = c.elements
        i = op.index
        if i < len(els) - 1:
            s, _ = ctx.offsets(els[i].value, top)
            e, _ = ctx.offsets(els[i + 1].value, top)
            return Edit(s, e, "")
        _, s = ctx.offsets(els[i - 1].value, top)
        _, e = ctx.offsets(els[i].value, top)
        return Edit(s, e, "")
    if stage is None:
        return None
    a = ctx.data.arg_of(stage.call, "operations", MAP_ARGS)
    direct = a is not None and (a.value is op.node or (c is not None and a.value is c))
    if not direct or not isinstance(stage.call.node.func, cst.Attribute):
        return None
    call = stage.call.node
    name = _self_update(stage.call.statement, call)
    if name is not None:
        s, e = ctx.statement_lines(stage.call.statement, stage.call.top)
        return Edit(s, e, "")
    _, r_end = ctx.offsets(call.func.value, stage.call.top)
    _, c_end = ctx.offsets(call, stage.call.top)
    return Edit(r_end, c_end, "")


class Once:
    """Report each node at most once per rule."""

    def __init__(self) -> None:
        self.seen = set()

    def __call__(self, node) -> bool:
        if id(node) in self.seen:
            return False
        self.seen.add(id(node))
        return True


def envs_lines(ctx, env: Dict) -> str:
    """' (when called at line N)' for a helper-function context, else ''."""
    if not env:
        return ""
    sites = list(env.values())
    lines = ", ".join(str(ctx.span(s.node, s.top).line) for s in sites)
    name = sites[0].node.func
    fname = name.value if isinstance(name, cst.Name) else "the helper"
    return f" (for the call `{fname}(...)` at line {lines})"


def dtype_origin(ctx, expr: cst.BaseExpression, scope, order, site) -> str:
    """". The value comes from ..." for a dtype written as `expr` (an argparse option, a
    config entry; a parameter of the helper called at `site`: that call), or ""."""
    origin = ctx.values.origin(expr, scope, order, ctx, site)
    fn = scope.node if site is not None else None
    if origin is None and isinstance(expr, cst.Name) and isinstance(fn, cst.FunctionDef) \
            and expr.value in {p.name.value for p in (*fn.params.posonly_params, *fn.params.params,
                                                      *fn.params.kwonly_params)} \
            and (site.qualname or "").startswith("<local>."):
        origin = (f"`{expr.value}`, given by the call of `{site.qualname[8:]}` on line "
                  f"{ctx.span(site.node, site.top).line}")
    return f". The value comes from {origin}" if origin else ""


def dtype_expr(node) -> Optional[cst.BaseExpression]:
    """The dtype written where an array is made (`dtype=...`, `.astype(...)`), or None."""
    if not isinstance(node, cst.Call):
        return None
    for a in node.args:
        if a.keyword is not None and a.keyword.value == "dtype":
            return a.value
    f = node.func
    if isinstance(f, cst.Attribute) and f.attr.value == "astype" and node.args and node.args[0].keyword is None:
        return node.args[0].value
    return None

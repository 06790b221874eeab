"""Helpers shared by the data-pipeline rules (not a rule module)."""

from typing import List, Optional, Tuple

import libcst as cst

from msfix.analysis.data import first_batch
from msfix.analysis.model import Pipeline, ScriptModel
from msfix.diagnostics import Edit


def sources_reaching_network(m: ScriptModel) -> List[Tuple[Pipeline, List[Pipeline]]]:
    """(source, leaves) for each dataset source whose pipelines are passed to
    Model.train / Model.eval / Model.fit."""
    out = []
    for src in m.pipelines:
        if src.op != "source" or not src.roles:
            continue
        leaves = [p for p in m.derived(src) if p.roles and not any(
            q is not p and q.parent is p and q.roles for q in m.pipelines)]
        out.append((src, leaves))
    return out


def common_first_batch(leaves: List[Pipeline]) -> Optional[Pipeline]:
    """The batch stage all leaves go through first, if they share one."""
    batches = {id(b): b for b in (first_batch(p) for p in leaves) if b is not None}
    if len(batches) != 1 or any(first_batch(p) is None for p in leaves):
        return None
    return next(iter(batches.values()))


def insert_map_edit(ctx, source: Pipeline, leaves: List[Pipeline], map_text: str) -> Optional[Edit]:
    """An edit inserting `.map(...)` right before the first batch of the pipelines, or
    right after the source call when no pipeline is batched."""
    b = common_first_batch(leaves)
    if b is not None:
        func = b.call.node.func
        assert isinstance(func, cst.Attribute)
        return ctx.insert_after(func.value, map_text, b.call.top)
    if all(first_batch(p) is None for p in leaves):
        return ctx.insert_after(source.call.node, map_text, source.call.top)
    return None


# -- shared by MS207-MS216 ----------------------------------------------------------------
import dataclasses  # noqa: E402
from typing import Dict  # noqa: E402

from msfix.analysis import data as _data  # noqa: E402
from msfix.analysis.model import UNKNOWN  # noqa: E402


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


def remove_op_edit(ctx, stage: Optional[Pipeline], op: "_data.MapOp") -> Optional[Edit]:
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
    a = _data.arg_of(stage.call, "operations", _data.MAP_ARGS)
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


@dataclasses.dataclass
class ColState:
    """What is known about a column before a transform (None: unknown)."""

    dtype: Optional[str]
    layout: Optional[str]  # "HWC" | "CHW" | "encoded" | "array" | None
    scale: Optional[str]  # "0-255" | "0-1" | "normalized" | None
    chw_by: Optional["_data.MapOp"] = None  # the op that made it CHW
    decoded_by: Optional["_data.MapOp"] = None


# transforms whose effect depends on transforms they hold: the state is lost after them
_OPAQUE = {"RandomApply", "RandomChoice", "RandomOrder", "UniformAugment", "RandomSelectSubpolicy", "Compose"}


def _apply(m, state: ColState, op, env) -> Optional[ColState]:
    s = op.short
    st = dataclasses.replace(state)
    if s in _OPAQUE:
        return None
    if s == "Decode":
        return ColState("uint8", "HWC", "0-255", None, op)
    if s == "Rescale":
        call = op.call
        r = sh = UNKNOWN
        if call is not None:
            ra = _arg(call, "rescale", 0)
            sa = _arg(call, "shift", 1)
            r = _data.value(m, ra, op.scope, op.order, env) if ra is not None else UNKNOWN
            sh = _data.value(m, sa, op.scope, op.order, env) if sa is not None else UNKNOWN
        st.dtype = "float32"
        st.scale = "0-1" if (state.scale == "0-255" and isinstance(r, (int, float)) and abs(r * 255 - 1) < 1e-3
                             and sh == 0) else None
        return st
    if s == "ToTensor":
        st.dtype = "float32"
        st.scale = "0-1" if state.scale == "0-255" else None
        st.layout = "CHW"
        st.chw_by = op
        return st
    if s == "HWC2CHW":
        st.layout = "CHW"
        st.chw_by = op
        return st
    if s == "Normalize":
        st.dtype = "float32"
        st.scale = "normalized"
        return st
    if s in ("TypeCast", "ToType"):
        call = op.call
        a = _arg(call, "data_type", 0) if call is not None else None
        st.dtype = _data.dtype_name(m, a, op.scope, op.order, env) if a is not None else None
        return st
    return st


def _arg(call: cst.Call, name: str, index: int) -> Optional[cst.BaseExpression]:
    for a in call.args:
        if a.keyword is not None and a.keyword.value == name:
            return a.value
    i = 0
    for a in call.args:
        if a.keyword is None and not a.star:
            if i == index:
                return a.value
            i += 1
    return None


@dataclasses.dataclass
class OpState:
    op: "_data.MapOp"
    stage: Optional[Pipeline]  # None: a `transforms.Compose([...])` list outside any map
    state: ColState  # before the op
    env: Dict
    batched: bool


def _initial(spec: Optional[dict]) -> ColState:
    if spec is None:
        return ColState(None, None, None)
    dt, layout = spec.get("dtype"), spec.get("layout")
    scale = "0-255" if dt == "uint8" and layout in ("HWC", "encoded") else None
    return ColState(dt, layout, scale)


def op_states(m: ScriptModel) -> List[OpState]:
    """Every known transform applied to a single column, with what is known about the
    column before it: from the source through the pipeline where the source's columns are
    known, else from the start of the op's own map list. One entry per (op, context)."""
    cache = _data._cache(m)
    if "op_states" in cache:
        return cache["op_states"]
    out: List[OpState] = []
    seen = set()
    for leaf in m.leaves():
        for env in _data.contexts(m, leaf):
            src = _data.source_columns(m, leaf.source, env)
            if src is UNKNOWN:
                continue
            for col, spec in src.items():  # type: ignore[union-attr]
                state: Optional[ColState] = _initial(spec)
                for ev in _data.column_events(m, leaf, col, env):
                    if ev.kind == "unknown":
                        break
                    if ev.kind != "op":
                        continue
                    key = (id(ev.op.node), id(ev.stage), tuple(sorted(id(k) for k in env)),
                           tuple(id(v) for v in env.values()))
                    if key not in seen:
                        seen.add(key)
                        out.append(OpState(ev.op, ev.stage, state, env, ev.batched))  # type: ignore[arg-type]
                    state = _apply(m, state, ev.op, env)  # type: ignore[arg-type]
                    if state is None:
                        break
    covered = {id(o.op.node) for o in out}
    for st in m.pipelines:
        if st.op != "map":
            continue
        ops = _data.map_ops_partial(m, st)
        if ops is UNKNOWN:
            continue
        cols = st.call.arg("input_columns", 1)
        if cols is not None:
            v = _data.value(m, cols.value, st.call.scope, st.call.order)
            if not (isinstance(v, str) or (isinstance(v, list) and len(v) == 1)):
                continue
        batched = any(p.op == "batch" for p in st.stages()[:-1])
        state = ColState(None, None, None)
        for op in ops:  # type: ignore[union-attr]
            if not op.known:
                break
            if id(op.node) not in covered:
                out.append(OpState(op, st, state, {}, batched))
            state = _apply(m, state, op, {})
            if state is None:
                break
    # Compose lists built anywhere (a dict of transforms, a function argument): their own order
    for site in m.calls_to("mindspore.dataset.transforms.Compose"):
        if not site.node.args or site.node.args[0].keyword is not None or site.node.args[0].star:
            continue
        ops: List = []
        if not _data._flatten_ops(m, site.node.args[0].value, site.scope, site.order, site.top, ops):
            continue
        state = ColState(None, None, None)
        for op in ops:
            if not op.known:
                break
            if id(op.node) not in covered:
                covered.add(id(op.node))
                out.append(OpState(op, None, state, {}, False))
            state = _apply(m, state, op, {})
            if state is None:
                break
    cache["op_states"] = out
    return out


def graph_mode(m: ScriptModel) -> bool:
    """Does the script set GRAPH_MODE with a literal `set_context(mode=...)`?"""
    for site in m.calls_to("mindspore.set_context", "mindspore.context.set_context"):
        a = site.keyword("mode")
        if a is None:
            continue
        q = m.qualname(a.value, site.scope, site.order)
        if q and q.endswith("GRAPH_MODE"):
            return True
        if m.literal(a.value, site.scope, site.order) == 0:
            return True
    return False


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


def final_state(m: ScriptModel, pipe: Pipeline, column: str, env: Dict) -> Optional[ColState]:
    """What is known about `column` at the end of `pipe` (None when a step is unknown)."""
    src = _data.source_columns(m, pipe.source, env)
    if src is UNKNOWN or column not in src:  # type: ignore[operator]
        return None
    state: Optional[ColState] = _initial(src[column])  # type: ignore[index]
    for ev in _data.column_events(m, pipe, column, env):
        if ev.kind == "unknown":
            return None
        if ev.kind == "op":
            state = _apply(m, state, ev.op, env)  # type: ignore[arg-type]
            if state is None:
                return None
    return state

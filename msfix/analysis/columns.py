"""What is known about a dataset column as it goes through the pipeline: its dtype, its
layout (HWC / CHW / encoded bytes / array) and its scale (0-255, 0-1, normalized), op by
op. The effects of the ops are data (`OP_EFFECTS`); the two ops whose effect depends on
their arguments (Rescale, TypeCast) are computed here. Also: which sources reach the
network, and whether the script sets GRAPH_MODE.

Rules read this through `ctx.data` (msfix/context.py)."""

import dataclasses
from typing import Dict, List, Optional, Tuple, cast

import libcst as cst

from msfix.analysis import data as _data
from msfix.analysis import network as _network
from msfix.analysis.data import first_batch
from msfix.analysis.model import UNKNOWN, Pipeline, ScriptModel

# The effect of a transform on the column state, for transforms whose effect does not
# depend on their arguments (checked on the 2.10 wheel: Decode yields uint8 HWC; ToTensor
# yields float32 CHW scaled by 1/255; HWC2CHW only transposes; Normalize yields float32).
# "scale": "0-1 if 0-255" means the scale becomes 0-1 when it was 0-255, else unknown.
OP_EFFECTS: Dict[str, Dict[str, Optional[str]]] = {
    "Decode": {"dtype": "uint8", "layout": "HWC", "scale": "0-255", "decoded": "yes", "chw": "reset"},
    "ToTensor": {"dtype": "float32", "layout": "CHW", "scale": "0-1 if 0-255", "chw": "this"},
    "HWC2CHW": {"layout": "CHW", "chw": "this"},
    "Normalize": {"dtype": "float32", "scale": "normalized"},
}
# transforms whose effect depends on transforms they hold: the state is lost after them
OPAQUE = frozenset({"RandomApply", "RandomChoice", "RandomOrder", "UniformAugment", "RandomSelectSubpolicy",
                    "Compose"})


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


@dataclasses.dataclass
class ColState:
    """What is known about a column before a transform (None: unknown)."""

    dtype: Optional[str]
    layout: Optional[str]  # "HWC" | "CHW" | "encoded" | "array" | None
    scale: Optional[str]  # "0-255" | "0-1" | "normalized" | None
    chw_by: Optional["_data.MapOp"] = None  # the op that made it CHW
    decoded_by: Optional["_data.MapOp"] = None


def _apply(m, state: ColState, op, env) -> Optional[ColState]:
    s = op.short
    if s in OPAQUE:
        return None
    st = dataclasses.replace(state)
    effect = OP_EFFECTS.get(s)
    if effect is not None:
        if effect.get("chw") == "reset":
            st = ColState(None, None, None)
        if "dtype" in effect:
            st.dtype = effect["dtype"]
        if "layout" in effect:
            st.layout = effect["layout"]
        scale = effect.get("scale")
        if scale == "0-1 if 0-255":
            st.scale = "0-1" if state.scale == "0-255" else None
        elif scale is not None:
            st.scale = scale
        if effect.get("chw") == "this":
            st.chw_by = op
        if effect.get("decoded"):
            st.decoded_by = op
        return st
    if s == "Rescale":
        call = op.call
        r = sh = UNKNOWN
        if call is not None:
            ra = arg(call, "rescale", 0)
            sa = arg(call, "shift", 1)
            r = _data.value(m, ra, op.scope, op.order, env) if ra is not None else UNKNOWN
            sh = _data.value(m, sa, op.scope, op.order, env) if sa is not None else UNKNOWN
        st.dtype = "float32"
        st.scale = "0-1" if (state.scale == "0-255" and isinstance(r, (int, float)) and abs(r * 255 - 1) < 1e-3
                             and sh == 0) else None
        return st
    if s in ("TypeCast", "ToType"):
        call = op.call
        a = arg(call, "data_type", 0) if call is not None else None
        st.dtype = _data.dtype_name(m, a, op.scope, op.order, env) if a is not None else None
        return st
    return st


def arg(call: cst.Call, name: str, index: int) -> Optional[cst.BaseExpression]:
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
    cache = m.memo("columns")
    if "op_states" in cache:
        return cache["op_states"]
    out: List[OpState] = []
    seen = set()
    for leaf in m.leaves():
        for env in _data.contexts(m, leaf):
            src = _data.source_columns(m, leaf.source, env)
            if src is UNKNOWN:
                continue
            for col, spec in cast(dict, src).items():
                state: Optional[ColState] = _initial(spec)
                for ev in _data.column_events(m, leaf, col, env):
                    if ev.kind == "unknown":
                        break
                    if ev.kind != "op":
                        continue
                    op = cast(_data.MapOp, ev.op)
                    key = (id(op.node), id(ev.stage), tuple(sorted(id(k) for k in env)),
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
        partial = _data.map_ops_partial(m, st)
        if partial is UNKNOWN:
            continue
        cols = st.call.arg("input_columns", 1)
        if cols is not None:
            v = _data.value(m, cols.value, st.call.scope, st.call.order)
            if not (isinstance(v, str) or (isinstance(v, list) and len(v) == 1)):
                continue
        batched = any(p.op == "batch" for p in st.stages()[:-1])
        state = ColState(None, None, None)
        for op in cast(List[_data.MapOp], partial):
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
        composed: List[_data.MapOp] = []
        if not _data._flatten_ops(m, site.node.args[0].value, site.scope, site.order, site.top, composed):
            continue
        state = ColState(None, None, None)
        for op in composed:
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
    """Does the script set GRAPH_MODE with a literal `set_context(mode=...)`? The one
    answer: `NetworkInfo.graph_mode_site` (the call the graph rules name)."""
    return _network.network(m).graph_mode_site() is not None



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

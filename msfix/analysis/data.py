"""Dataset pipeline queries on the ScriptModel: map ops and columns, sizes, steps.

Unknown stays unknown: every function returns UNKNOWN when the answer does not
follow from literals and shipped dataset facts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional, Tuple, Union

import libcst as cst

from msfix.analysis.model import UNKNOWN, CallSite, Pipeline, ScriptModel

# Parameter positions of the MindSpore 2.x signatures used here.
SOURCE_ARGS = {"dataset_dir": 0, "usage": 1, "num_samples": 2, "num_parallel_workers": 3, "shuffle": 4}
MAP_ARGS = {"operations": 0, "input_columns": 1, "output_columns": 2}
BATCH_ARGS = {"batch_size": 0, "drop_remainder": 1}


def arg_of(site: CallSite, name: str, table: dict) -> Optional[cst.Arg]:
    return site.arg(name, table.get(name))


def literal_arg(m: ScriptModel, site: CallSite, name: str, table: dict, default=UNKNOWN):
    if site.has_star_args and site.keyword(name) is None:
        return UNKNOWN
    a = arg_of(site, name, table)
    if a is None:
        return default
    return m.literal(a.value, site.scope, site.order)


@dataclass
class MapOp:
    qualname: Optional[str]  # canonical callee, e.g. "mindspore.dataset.vision.Rescale"
    node: cst.BaseExpression
    call: Optional[cst.Call]

    @property
    def short(self) -> str:
        return (self.qualname or "").rsplit(".", 1)[-1]


def map_ops(m: ScriptModel, stage: Pipeline) -> Union[List[MapOp], object]:
    """The transforms of a `map` stage, or UNKNOWN."""
    site = stage.call
    a = arg_of(site, "operations", MAP_ARGS)
    if a is None:
        return UNKNOWN
    expr = a.value
    # follow a name bound to a list
    for _ in range(4):
        if isinstance(expr, cst.Name):
            b = m.lookup(expr.value, site.scope, site.order)
            if b is None or b.kind != "assign" or b.value is None:
                return UNKNOWN
            expr = b.value
        else:
            break
    elements: List[cst.BaseExpression]
    if isinstance(expr, (cst.List, cst.Tuple)):
        if any(isinstance(el, cst.StarredElement) for el in expr.elements):
            return UNKNOWN
        elements = [el.value for el in expr.elements]
    else:
        elements = [expr]
    out = []
    for el in elements:
        call = el if isinstance(el, cst.Call) else None
        q = m.qualname(call.func if call is not None else el, site.scope, site.order)
        if not q or not q.startswith("mindspore."):
            return UNKNOWN  # a Python callable or an unknown object can do anything
        out.append(MapOp(q, el, call))
    return out


def map_columns(m: ScriptModel, stage: Pipeline) -> Union[List[str], object]:
    """Input columns of a `map` stage (None means the first column), or UNKNOWN."""
    site = stage.call
    a = arg_of(site, "input_columns", MAP_ARGS)
    if a is None:
        cols = stage_columns(m, stage.parent) if stage.parent is not None else UNKNOWN
        if isinstance(cols, list) and cols:
            return [cols[0]]
        return UNKNOWN
    v = m.literal(a.value, site.scope, site.order)
    if isinstance(v, str):
        return [v]
    if isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v):
        return list(v)
    return UNKNOWN


def stage_columns(m: ScriptModel, pipe: Optional[Pipeline]) -> Union[List[str], object]:
    """Column names after `pipe` (following project/rename and map output_columns)."""
    if pipe is None:
        return UNKNOWN
    facts = pipe.facts
    if facts is None:
        return UNKNOWN
    cols: List[str] = list(facts["columns"].keys())
    for st in pipe.stages()[1:]:
        if st.op in ("batch", "shuffle", "repeat", "take", "skip"):
            continue
        if st.op == "map":
            if arg_of(st.call, "output_columns", MAP_ARGS) is not None:
                return UNKNOWN
            continue
        if st.op == "project":
            v = literal_arg(m, st.call, "columns", {"columns": 0})
            if isinstance(v, str):
                v = [v]
            if not (isinstance(v, list) and all(isinstance(x, str) for x in v)):
                return UNKNOWN
            cols = list(v)
            continue
        if st.op == "rename":
            a = literal_arg(m, st.call, "input_columns", {"input_columns": 0, "output_columns": 1})
            b = literal_arg(m, st.call, "output_columns", {"input_columns": 0, "output_columns": 1})
            if isinstance(a, str):
                a, b = [a], [b]
            if not (isinstance(a, list) and isinstance(b, list) and len(a) == len(b)):
                return UNKNOWN
            cols = [b[a.index(c)] if c in a else c for c in cols]
            continue
        return UNKNOWN
    return cols


def source_usage(m: ScriptModel, source: Pipeline):
    """The literal `usage` of a source (None when not given), or UNKNOWN."""
    return literal_arg(m, source.call, "usage", SOURCE_ARGS, default=None)


def source_size(m: ScriptModel, source: Pipeline):
    facts = source.facts
    if facts is None or "sizes" not in facts:
        return UNKNOWN
    usage = source_usage(m, source)
    if usage is UNKNOWN:
        return UNKNOWN
    size = facts["sizes"].get(usage or "all", UNKNOWN)
    if size is UNKNOWN:
        return UNKNOWN
    n = literal_arg(m, source.call, "num_samples", SOURCE_ARGS, default=None)
    if n is UNKNOWN:
        return UNKNOWN
    if isinstance(n, int) and n > 0:
        size = min(size, n)
    for name in ("num_shards", "sampler"):
        if source.call.keyword(name) is not None:
            return UNKNOWN
    return size


def batches(pipe: Pipeline) -> List[Pipeline]:
    return [st for st in pipe.stages() if st.op == "batch"]


def steps_per_epoch(m: ScriptModel, pipe: Pipeline):
    """Number of rows (batches, after a batch stage) one epoch of `pipe` yields."""
    size = source_size(m, pipe.source)
    if size is UNKNOWN:
        return UNKNOWN
    for st in pipe.stages()[1:]:
        if st.op in ("map", "shuffle", "project", "rename"):
            continue
        if st.op == "batch":
            bs = literal_arg(m, st.call, "batch_size", BATCH_ARGS)
            drop = literal_arg(m, st.call, "drop_remainder", BATCH_ARGS, default=False)
            if not isinstance(bs, int) or bs <= 0 or not isinstance(drop, bool):
                return UNKNOWN
            size = size // bs if drop else math.ceil(size / bs)
            continue
        if st.op == "repeat":
            n = literal_arg(m, st.call, "count", {"count": 0}, default=None)
            if not isinstance(n, int) or n <= 0:
                return UNKNOWN
            size *= n
            continue
        if st.op == "take":
            n = literal_arg(m, st.call, "count", {"count": 0}, default=-1)
            if not isinstance(n, int):
                return UNKNOWN
            if n >= 0:
                size = min(size, n)
            continue
        if st.op == "skip":
            n = literal_arg(m, st.call, "count", {"count": 0})
            if not isinstance(n, int):
                return UNKNOWN
            size = max(0, size - n)
            continue
        return UNKNOWN
    return size


def describe_source(m: ScriptModel, source: Pipeline) -> str:
    return source.source_class.rsplit(".", 1)[-1]


def first_batch(pipe: Pipeline) -> Optional[Pipeline]:
    for st in pipe.stages():
        if st.op == "batch":
            return st
    return None


def maps_on_column(m: ScriptModel, pipe: Pipeline, column: str, before: Optional[Pipeline] = None):
    """[(stage, ops)] of the map stages that touch `column` (before stage `before`), or
    UNKNOWN if some map's columns or ops cannot be read."""
    out: List[Tuple[Pipeline, list]] = []
    for st in pipe.stages():
        if before is not None and st is before:
            break
        if st.op != "map":
            continue
        cols = map_columns(m, st)
        if cols is UNKNOWN:
            return UNKNOWN
        if column in cols:  # type: ignore[operator]
            ops = map_ops(m, st)
            if ops is UNKNOWN:
                return UNKNOWN
            out.append((st, ops))
    return out

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

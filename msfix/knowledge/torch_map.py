"""The PyTorch -> MindSpore API map (``data/torch_map.json``, built by tools/build_torch_map.py
from MindSpore's own mapping tables), and the choice of counterpart for a target version.

The docs branch follows the target: up to 1.10 the r1.10 table, 2.0 to 2.5 the r2.2 table
(mapped to ``mindspore.ops`` / ``mindspore.nn``), 2.6 the r2.6.0 table and later releases
the master table (both mapped to ``mindspore.mint`` where it has the API). A counterpart is
offered only when the API index says it is a public function or class at the target
version; when the target's own table names one the target lacks, the other tables are
tried in order (the newest first for 2.x, so ``mint`` where the target has it, else
``ops`` / ``nn``). For a script that sets the CPU device, the r2.2 table's ``ops`` / ``nn``
counterparts come first: on the 2.10 CPU wheel ``mint.nn.MSELoss``, ``mint.nn.CrossEntropyLoss``,
``mint.nn.Conv2d`` and ``mint.argmax`` raise "The kernel ... unregistered".
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Dict, Optional, Tuple

from msfix.knowledge.api import ApiIndex, _vkey

BRANCHES = ("r1.10", "r2.2", "r2.6.0", "master")


@dataclass(frozen=True)
class Mapping:
    torch: str
    branch: str  # the docs branch the entry comes from
    ms: Optional[str]  # the MindSpore API, None when the table names none
    kind: str  # consistent | names | types | order | diff | note | unstated | none
    page: Optional[str] = None  # the difference page (pytorch_diff/<page>.html)
    note: Optional[str] = None
    renames: Dict[str, str] = field(default_factory=dict)  # torch parameter -> MindSpore parameter
    dropped: Tuple[str, ...] = ()  # torch parameters MindSpore does not have
    defaults: Tuple[str, ...] = ()  # torch parameters whose default differs


@functools.lru_cache(maxsize=1)
def load() -> Dict[str, dict]:
    """torch API -> {branch: raw entry}."""
    out: Dict[str, dict] = {}
    with resources.files("msfix.knowledge").joinpath("data", "torch_map.json").open(encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if i == 0 or not line.strip():
                continue
            out.update(json.loads(line))
    return out


def branch_order(version: str, classic: bool = False) -> Tuple[str, ...]:
    """Docs branches to try for a target version, the target's own first. With `classic`
    (a script that runs on CPU, where some `mindspore.mint` operators have no kernel), the
    r2.2 table's `ops` / `nn` counterparts come first from 2.0 on."""
    k = _vkey(version)[:2]
    if classic and k >= (2, 0):
        return ("r2.2", "master", "r2.6.0", "r1.10") if k >= (2, 7) else ("r2.2", "r2.6.0", "master", "r1.10")
    if k < (2, 0):
        return ("r1.10", "r2.2", "r2.6.0", "master")
    if k < (2, 6):
        return ("r2.2", "r2.6.0", "master", "r1.10")
    if k < (2, 7):
        return ("r2.6.0", "master", "r2.2", "r1.10")
    return ("master", "r2.6.0", "r2.2", "r1.10")


def _mapping(torch: str, branch: str, e: dict) -> Mapping:
    return Mapping(torch=torch, branch=branch, ms=e.get("ms"), kind=e.get("kind", "none"), page=e.get("page"),
                   note=e.get("note"), renames=dict(e.get("renames", {})), dropped=tuple(e.get("dropped", ())),
                   defaults=tuple(e.get("defaults", ())))


def entries(torch: str) -> Dict[str, Mapping]:
    raw = load().get(torch)
    if not raw:
        return {}
    return {br: _mapping(torch, br, e) for br, e in raw.items()}


def available(idx: ApiIndex, qualname: str, version: str) -> bool:
    """A public function or class of MindSpore at `version` (by the API index)."""
    if any(part.startswith("_") for part in qualname.split(".")):
        return False
    return idx.exists(qualname, version) is True and idx.kind(qualname, version) in ("function", "class")


def counterpart(torch: str, idx: ApiIndex, version: str,
                classic: bool = False) -> Tuple[Optional[Mapping], Optional[Mapping]]:
    """(the mapping to use at `version`, or None; the target's own table entry, which may
    name an API the target lacks). `classic`: prefer `ops` / `nn` (see branch_order)."""
    found = entries(torch)
    if not found:
        return None, None
    order = branch_order(version, classic)
    own = next((found[b] for b in order if b in found), None)
    for b in order:
        mp = found.get(b)
        if mp is not None and mp.ms and available(idx, mp.ms, version):
            return mp, own
    return None, own


__all__ = ["BRANCHES", "Mapping", "available", "branch_order", "counterpart", "entries", "load"]

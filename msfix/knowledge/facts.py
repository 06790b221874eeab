"""Small tables of MindSpore facts shipped as data: dataset sources and import aliases.

Loaded lazily and cached; no MindSpore import.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Dict, Optional


@functools.lru_cache(maxsize=None)
def _load(name: str) -> dict:
    with resources.files("msfix.knowledge").joinpath("data", name).open("r", encoding="utf-8") as fh:
        return json.load(fh)


def dataset_sources() -> Dict[str, dict]:
    return _load("datasets.json")["sources"]


def dataset_source(qualname: str) -> Optional[dict]:
    return dataset_sources().get(qualname)


def normalize_stats(qualname: str) -> Optional[dict]:
    return _load("datasets.json")["normalize"].get(qualname)


@functools.lru_cache(maxsize=4096)
def canonical(qualname: str) -> str:
    """Map an old or alternative path to the canonical 2.x name rules match on."""
    data = _load("aliases.json")
    exact = data["exact"]
    if qualname in exact:
        return exact[qualname]
    # longest matching prefix wins
    best = None
    for prefix in data["prefix"]:
        if qualname.startswith(prefix) and (best is None or len(prefix) > len(best)):
            best = prefix
    if best is not None:
        mapped = data["prefix"][best] + qualname[len(best):]
        return exact.get(mapped, mapped)
    return qualname

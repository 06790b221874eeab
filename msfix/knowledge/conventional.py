"""Conventional values of required MindSpore parameters (data/conventional_args.json).

A value is listed only where MindSpore's own docs or tutorials give it; each entry
carries its source. Loaded lazily and cached; no MindSpore import.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Dict, Optional


@functools.lru_cache(maxsize=None)
def table() -> Dict[str, Dict[str, dict]]:
    """{public qualname: {parameter: {"value": source text, "source": where it is documented}}}."""
    with resources.files("msfix.knowledge").joinpath("data", "conventional_args.json").open(
            "r", encoding="utf-8") as fh:
        data = json.load(fh)
    return {k: v for k, v in data.items() if not k.startswith("_")}


def lookup(qualname: str, param: str) -> Optional[dict]:
    """The entry for `param` of `qualname`, or None when the table has none."""
    return table().get(qualname, {}).get(param)

"""mindcv's model registry (data/mindcv_models.json, built from the mindcv wheel by
tools/build_mindcv_registry.py): which model-zoo names exist, importable as
`from mindcv.models import <name>`, and their constructor signatures.

Read as data only: msfix never imports mindcv (nor MindSpore) to check a script."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Dict, List, Optional, Tuple

DATA_NAME = "mindcv_models.json"


def normalize(name: str) -> str:
    """Spelling-insensitive key of a model name: case and underscores dropped
    (`ResNet50`, `resnet_50` and `resnet50` are one name; `MobileNetV2` and
    `mobilenet_v2` too)."""
    return name.replace("_", "").lower()


@dataclass(frozen=True)
class ModelSignature:
    name: str
    module: str
    params: Tuple[Tuple[str, Optional[str]], ...]  # (name, default source or None), in order
    kwonly: Tuple[Tuple[str, Optional[str]], ...]
    varargs: bool
    kwargs: bool

    def default(self, param: str) -> Optional[str]:
        for n, d in self.params + self.kwonly:
            if n == param:
                return d
        return None

    def has(self, param: str) -> bool:
        return any(n == param for n, _ in self.params + self.kwonly)


class MindcvRegistry:
    def __init__(self, raw: dict) -> None:
        self.source: dict = raw["source"]
        self.version: str = self.source["version"]
        self._models: Dict[str, ModelSignature] = {
            name: ModelSignature(name, e["module"], tuple((p, d) for p, d in e["params"]),
                                 tuple((p, d) for p, d in e.get("kwonly", ())),
                                 bool(e.get("varargs")), bool(e.get("kwargs")))
            for name, e in raw["models"].items()
        }
        self._by_key: Dict[str, List[str]] = {}
        for name in sorted(self._models):
            self._by_key.setdefault(normalize(name), []).append(name)

    def names(self) -> List[str]:
        return sorted(self._models)

    def get(self, name: str) -> Optional[ModelSignature]:
        return self._models.get(name)

    def candidates(self, name: str) -> List[str]:
        """The mindcv models a model-zoo name means. Names spelled the same but for case
        and underscores (`ResNet50` -> [`resnet50`]); when there is none, the variants
        of the family it names (`MobileNetV2` -> every `mobilenet_v2_*`: widths and
        resolutions). Empty when mindcv has no such model. One element: confident."""
        key = normalize(name)
        if not key:
            return []
        exact = self._by_key.get(key)
        if exact:
            return list(exact)
        if len(key) < 3:
            return []
        return sorted(n for k, ns in self._by_key.items() if k.startswith(key) for n in ns)


@functools.lru_cache(maxsize=1)
def load_registry() -> MindcvRegistry:
    with resources.files("msfix.knowledge").joinpath("data", DATA_NAME).open(encoding="utf-8") as fh:
        return MindcvRegistry(json.load(fh))

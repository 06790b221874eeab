"""Where a MindSpore name lives in a given release when the script's spelling does not.

A name missing at the target version (`mindspore.dataset.vision.RandomCrop` with a 1.7
target) is usually there under another module (`vision.c_transforms.RandomCrop`):
MindSpore moved names between modules across releases. The candidates are computed
from the API index: the same leaf name, existing at the target, in a public module, of
the same kind. They are ranked: first the modules the rename tables pair with the
script's module (`api_renames.json` modules, `deprecated_paths.json`, both directions,
in table order), then a name that is the same object (the index's defining location).
Nothing here imports MindSpore.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from msfix.knowledge.api import ApiIndex
from msfix.knowledge.api_queries import data


@dataclass(frozen=True)
class Spelling:
    qualname: str          # the spelling at the target
    safe: bool             # the only candidate of its rank, same kind and parameters
    others: tuple = ()     # other candidates of the same rank
    note: str = ""         # why a rewrite needs review


@functools.lru_cache(maxsize=4)
def _by_leaf(idx: ApiIndex) -> dict:
    out: dict = {}
    for q in idx._names_raw:
        out.setdefault(q.rpartition(".")[2], []).append(q)
    return out


@functools.lru_cache(maxsize=None)
def related_modules(module: str) -> tuple:
    """Modules the rename tables pair with `module` (its old homes, or its new one), in
    table order."""
    pairs = [(old, info["new"], info.get("review_names", {}))
             for old, info in data("api_renames.json")["modules"].items()]
    pairs += [(old, info["new"], {}) for old, info in data("deprecated_paths.json")["paths"].items()]
    out = []
    for old, new, _ in pairs:
        if new == module and old not in out:
            out.append(old)
        elif old == module and new not in out:
            out.append(new)
    return tuple(out)


def _review(module: str, leaf: str) -> str:
    info = data("api_renames.json")["modules"].get(module, {})
    return info.get("review_names", {}).get(leaf, "")


def _public(q: str) -> bool:
    return not any(p.startswith("_") for p in q.split("."))


def _kinds(idx: ApiIndex, q: str) -> set:
    return {idx.kind(q, v) for v in idx.versions_of(q)} - {None}


def _params(idx: ApiIndex, q: str, version: str):
    s = idx.signature(q, version)
    return None if s is None else tuple((p.name, p.kind) for p in s.params)


def _nearest_with(idx: ApiIndex, q: str, version: str):
    """The indexed release nearest to `version` where `q` exists."""
    vs = idx.versions_of(q)
    if not vs:
        return None
    order = list(idx.versions)
    t = order.index(version)
    return min(vs, key=lambda v: abs(order.index(v) - t))


def spellings(idx: ApiIndex, missing: str, version: str) -> list:
    """Candidate spellings of `missing` at `version`, best rank first: a list of ranks,
    each a list of qualified names (in table order, then alphabetical)."""
    if "." not in missing or idx.exists(missing, version) is True:
        return []
    parent, leaf = missing.rsplit(".", 1)
    kinds = _kinds(idx, missing)
    if not kinds:
        return []
    canon = {idx.canonical(missing, v) or missing for v in idx.versions_of(missing)}
    related = related_modules(parent)
    ranked: list = [[], []]
    for q in sorted(_by_leaf(idx).get(leaf, ())):
        if q == missing or not _public(q) or idx.exists(q, version) is not True:
            continue
        qp = q.rsplit(".", 1)[0]
        if idx.kind(qp, version) != "module" or idx.kind(q, version) not in kinds:
            continue
        if qp in related:
            ranked[0].append(q)
        elif (idx.canonical(q, version) or q) in canon:
            ranked[1].append(q)
    ranked[0].sort(key=lambda q: related.index(q.rsplit(".", 1)[0]))
    return [r for r in ranked if r]


def target_spelling(idx: ApiIndex, missing: str, version: str) -> Spelling | None:
    """How `version` spells `missing` (which exists in another indexed release), or None.
    Safe only when one module the rename tables pair with the script's module has the
    leaf, of the same kind, with the same parameters as the nearest release that has
    `missing`, and no review note; a path found by the defining location only is
    proposed as unsafe."""
    ranks = spellings(idx, missing, version)
    if not ranks:
        return None
    best = ranks[0]
    q = best[0]
    notes = []
    if len(best) > 1:
        notes.append("also in " + ", ".join(f"`{o.rsplit('.', 1)[0]}`" for o in best[1:]))
    near = _nearest_with(idx, missing, version)
    if idx.kind(q, version) in ("class", "function") and near is not None:
        a, b = _params(idx, missing, near), _params(idx, q, version)
        if a is None or b is None or a != b:
            notes.append(f"its parameters differ from `{missing}` in {near}" if a is not None and b is not None
                         else "its parameters are not known")
    if q.rsplit(".", 1)[0] not in related_modules(missing.rsplit(".", 1)[0]):
        # found by its defining location only (nn.CrossEntropyLoss at 1.8.0 is in
        # nn.loss.loss, not yet exported): a path the release did not publish
        notes.append(f"its defining module: `{missing.rsplit('.', 1)[0]}` does not export it in this release")
    review = _review(q.rsplit(".", 1)[0], q.rsplit(".", 1)[1])
    if review:
        notes.append(review)
    return Spelling(q, safe=not notes, others=tuple(best[1:]), note="; ".join(notes))


def sibling_spelling(idx: ApiIndex, missing: str, version: str) -> Spelling | None:
    """For a name no indexed release has in the script's module (`RandomCrop` looked for
    in `mindspore.dataset.transforms.c_transforms`): the same class or function at
    `version` in a module of the same name under another package
    (`mindspore.dataset.vision.c_transforms`), else in a sibling module of the same
    package (`mindspore.dataset.transforms.RandomCrop` -> `mindspore.dataset.vision`).
    Safe when exactly one module of the first rank has it (a sibling module's name, as
    `nn.relu` -> `ops.relu`, is never safe: the APIs may differ). None when
    `missing` exists in some release (that is `target_spelling`'s case)."""
    if "." not in missing or idx.versions_of(missing):
        return None
    parent, leaf = missing.rsplit(".", 1)
    if idx.kind(parent, version) != "module" or "." not in parent:
        return None
    grand, seg = parent.rsplit(".", 1)
    ranked: list = [[], []]
    for q in sorted(_by_leaf(idx).get(leaf, ())):
        if not _public(q) or idx.exists(q, version) is not True or idx.kind(q, version) not in ("class", "function"):
            continue
        qp = q.rsplit(".", 1)[0]
        if idx.kind(qp, version) != "module" or "." not in qp:
            continue
        qg, qs = qp.rsplit(".", 1)
        if qs == seg and qg != grand and qg.rsplit(".", 1)[0] == grand.rsplit(".", 1)[0]:
            ranked[0].append(q)
        elif qg == grand and qs != seg and not _implementation(idx, q, version):
            ranked[1].append(q)
    for rank, best in enumerate(ranked):
        if best:
            notes = ["also in " + ", ".join(f"`{o.rsplit('.', 1)[0]}`" for o in best[1:])] if len(best) > 1 else []
            if rank == 1:
                notes.append("a name of a sibling module: check the arguments")
            return Spelling(best[0], safe=not notes, others=tuple(best[1:]), note="; ".join(notes))
    return None


def _implementation(idx: ApiIndex, q: str, version: str) -> bool:
    """`q` is where a name reachable from its package is defined (vision.transforms.X
    for vision.X): the package's spelling is the one to propose."""
    parent = q.rsplit(".", 1)[0]
    pkg = parent.rsplit(".", 1)[0]
    return idx.exists(f"{pkg}.{q.rsplit('.', 1)[1]}", version) is True


__all__ = ["Spelling", "related_modules", "sibling_spelling", "spellings", "target_spelling"]

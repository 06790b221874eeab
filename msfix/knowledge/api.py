"""Versioned MindSpore API index (loader).

The data is built by ``tools/build_api_index.py`` from the real MindSpore wheels and
ships as ``data/api_index.json.gz``.  Nothing here imports MindSpore.

Qualified names are dotted paths as a user writes them (``mindspore.nn.Dense``,
``mindspore.dataset.Cifar10Dataset.batch``).  Versions are the indexed release labels,
oldest first (``"1.0.0"``, ... ``"1.9.0"``, ``"1.10.0"``, ``"2.0.0"``,
``"2.5.0.dev20250202"``, ... ``"2.10.0"``); msfix/target.py chooses the one a script
targets.
"""
from __future__ import annotations

import functools
import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
INDEX_PATH = DATA_DIR / "api_index.json.gz"
TORCH_TABLE_PATH = DATA_DIR / "torch_to_mindspore.json"

_PKIND = {"po": "POSITIONAL_ONLY", "pk": "POSITIONAL_OR_KEYWORD", "vp": "VAR_POSITIONAL",
          "ko": "KEYWORD_ONLY", "vk": "VAR_KEYWORD"}
_KIND = {"m": "module", "c": "class", "f": "function", "a": "attribute"}
_DISTS = ("mindspore", "mindspore-gpu", "mindspore-ascend", "mindspore-dev")


# --------------------------------------------------------------------------- values
@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "POSITIONAL_ONLY"|"POSITIONAL_OR_KEYWORD"|"VAR_POSITIONAL"|"KEYWORD_ONLY"|"VAR_KEYWORD"
    has_default: bool
    default: str | None  # source repr of the default


@dataclass(frozen=True)
class Signature:
    params: tuple[Param, ...]  # for classes: __init__ without self

    def accepts_keyword(self, name: str) -> bool:
        for p in self.params:
            if p.kind == "VAR_KEYWORD":
                return True
            if p.name == name and p.kind in ("POSITIONAL_OR_KEYWORD", "KEYWORD_ONLY"):
                return True
        return False

    def required(self) -> list[str]:
        return [p.name for p in self.params
                if not p.has_default and p.kind not in ("VAR_POSITIONAL", "VAR_KEYWORD")]

    def max_positional(self) -> int | None:
        n = 0
        for p in self.params:
            if p.kind == "VAR_POSITIONAL":
                return None
            if p.kind in ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD"):
                n += 1
        return n

    def param(self, name: str) -> Param | None:
        for p in self.params:
            if p.name == name:
                return p
        return None


@dataclass(frozen=True)
class Deprecation:
    since: str | None  # version text as MindSpore wrote it ("1.1"), or None
    replacement: str | None
    message: str


# --------------------------------------------------------------------------- versions
def _vkey(v: str) -> tuple:
    """Sort key: 2.5.0.dev20250202 < 2.5.0 < 2.5.1; "2.3" == "2.3.0"."""
    m = re.match(r"^\s*v?(\d+(?:\.\d+)*)(?:\.?(dev|rc|a|b|post)\.?(\d*))?", v)
    if not m:
        raise ValueError(f"not a version: {v!r}")
    nums = [int(x) for x in m.group(1).split(".")]
    while len(nums) < 3:
        nums.append(0)
    tag = m.group(2)
    rank = {"dev": -4, "a": -3, "b": -2, "rc": -1, None: 0, "post": 1}[tag]
    return (*nums[:3], rank, int(m.group(3) or 0))


def version_key(v: str) -> tuple:
    """Sort key of a MindSpore version string: compare versions with it, never the strings
    (2.10 > 2.9; 2.5.0.dev20250202 < 2.5.0)."""
    return _vkey(v)


def installed_mindspore() -> tuple[str, str] | None:
    """(distribution, version) of an installed MindSpore distribution, from its metadata
    (no import)."""
    from importlib import metadata  # imported here: it costs ~20 ms and lint runs rarely need it

    for dist in _DISTS:
        try:
            v = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
        except Exception:  # broken metadata
            continue
        if v:
            return dist, v
    return None


def installed_mindspore_version() -> str | None:
    """Version of an installed MindSpore distribution, from its metadata (no import)."""
    found = installed_mindspore()
    return found[1] if found else None


def _table(text: str) -> dict[str, str]:
    """``qualname<TAB>json`` lines -> {qualname: json text} (entries are decoded lazily)."""
    if not text:
        return {}
    # entries are compact JSON (no raw tab/newline), so one flat split pairs keys and values
    it = iter(text.replace("\n", "\t").split("\t"))
    return dict(zip(it, it))


# --------------------------------------------------------------------------- index
class ApiIndex:
    def __init__(self, raw: dict):
        self.versions: tuple[str, ...] = tuple(raw["versions"])
        self.newest: str = self.versions[-1]
        self._bit = {v: 1 << i for i, v in enumerate(self.versions)}
        self._keys = [_vkey(v) for v in self.versions]
        self._sigs_raw: list[str] = raw["sigs"].split("\n")
        self._sigs: dict[int, Signature] = {}
        self._names_raw: dict[str, str] = _table(raw["names"])
        self._classes_text: str = raw["classes"]  # split on the first class query
        self._classes_map: dict[str, str] | None = None
        self._names: dict[str, dict] = {}
        self._classes: dict[str, dict] = {}
        self._children: dict[str, list[str]] | None = None
        self._class_children: dict[str, list[str]] | None = None

    # ---- raw access
    def _ent(self, q: str) -> dict | None:
        e = self._names.get(q)
        if e is None:
            s = self._names_raw.get(q)
            if s is None:
                return None
            e = self._names[q] = json.loads(s)
        return e

    def _indexed(self, q: str) -> dict:
        """The entry of `q`, a key of the names table."""
        e = self._ent(q)
        assert e is not None, q
        return e

    @property
    def _classes_raw(self) -> dict[str, str]:
        if self._classes_map is None:
            self._classes_map = _table(self._classes_text)
        return self._classes_map

    def _cls(self, q: str) -> dict | None:
        e = self._classes.get(q)
        if e is None:
            s = self._classes_raw.get(q)
            if s is None:
                return None
            e = self._classes[q] = json.loads(s)
        return e

    def _b(self, version: str) -> int:
        b = self._bit.get(version)
        if b is None:
            b = self._bit[self.resolve_version(version)]
        return b

    @staticmethod
    def _pick(pairs, bit):
        for mask, val in pairs:
            if mask & bit:
                return val
        return None

    def _kind_of(self, e: dict, bit: int) -> str | None:
        if not (e.get("m", 0) & bit):
            return None
        k = e["k"]
        code = k if isinstance(k, str) else self._pick(k, bit)
        return _KIND.get(code)

    def _sig(self, i: int) -> Signature:
        s = self._sigs.get(i)
        if s is None:
            params = tuple(Param(p[0], _PKIND[p[1]], len(p) > 2, p[2] if len(p) > 2 else None)
                           for p in json.loads(self._sigs_raw[i]))
            s = self._sigs[i] = Signature(params)
        return s

    def _canonical_class(self, q: str, bit: int) -> str | None:
        """Canonical (defining) class name of a class reachable as q."""
        e = self._ent(q)
        if e is not None:
            if self._kind_of(e, bit) != "class":
                return None
            a = self._pick(e.get("a", []), bit)
            c = a or q
            ce = self._cls(c)
            return c if ce is not None and ce.get("p", 0) & bit else None
        ce = self._cls(q)
        if ce is not None and ce.get("p", 0) & bit:
            return q
        # a class reached through a module that is not covered, or an alias of an alias
        return None

    def _mro(self, canon: str, bit: int) -> list[str]:
        out, todo = [], [canon]
        while todo:
            c = todo.pop(0)
            if c in out:
                continue
            ce = self._cls(c)
            if ce is None or not (ce.get("p", 0) & bit):
                continue
            out.append(c)
            todo.extend(self._pick(ce.get("b", []), bit) or [])
        return out

    def _class_closed(self, canon: str, bit: int) -> bool:
        for c in self._mro(canon, bit):
            ce = self._cls(c)
            assert ce is not None  # _mro lists only classes with an entry
            if not (ce.get("closed", 0) & bit):
                return False
        return True

    def _method(self, cls_q: str, name: str, bit: int) -> dict | None:
        canon = self._canonical_class(cls_q, bit)
        if canon is None:
            return None
        for c in self._mro(canon, bit):
            me = self._cls(f"{c}.{name}")
            if me is not None and me.get("m", 0) & bit:
                return me
        return None

    def _split(self, q: str) -> tuple[str, str] | None:
        if "." not in q:
            return None
        return tuple(q.rsplit(".", 1))  # type: ignore[return-value]

    # ---- public API
    def resolve_version(self, spec: str | None) -> str:
        """None -> installed version if indexed-compatible, else newest; "2.3" -> nearest <= 2.3."""
        if spec is None:
            inst = installed_mindspore_version()
            if inst is None:
                return self.newest
            try:
                k = _vkey(inst)
            except ValueError:
                return self.newest
            if k < self._keys[0]:
                return self.versions[0]
            return self._nearest(k)
        spec = str(spec).strip()
        if spec in self._bit:
            return spec
        k = _vkey(spec)
        return self._nearest(k)

    def _nearest(self, k: tuple) -> str:
        """The indexed release of k's line (major.minor) nearest below k, else the line's oldest
        (1.8.0 -> 1.8.1 when only 1.8.1 is indexed); for a line not indexed, the nearest older
        release (else the oldest)."""
        line = [(v, vk) for v, vk in zip(self.versions, self._keys) if vk[:2] == k[:2]]
        pool = line or list(zip(self.versions, self._keys))
        best = pool[0][0]
        for v, vk in pool:
            if vk <= k:
                best = v
        return best

    def lines(self) -> tuple[tuple[int, int], ...]:
        """(major, minor) of every indexed release line, oldest first."""
        return tuple(dict.fromkeys(k[:2] for k in self._keys))

    def is_module(self, qualname: str, version: str) -> bool:
        return self.kind(qualname, version) == "module"

    def kind(self, qualname: str, version: str) -> str | None:
        bit = self._b(version)
        e = self._ent(qualname)
        if e is not None:
            k = self._kind_of(e, bit)
            if k is not None:
                return k
        sp = self._split(qualname)
        if sp and self._parent_is_class(sp[0], bit):
            me = self._method(sp[0], sp[1], bit)
            if me is not None:
                k = me["k"] if isinstance(me["k"], str) else self._pick(me["k"], bit)
                return _KIND.get(k)
        return None

    def _parent_is_class(self, q: str, bit: int) -> bool:
        e = self._ent(q)
        if e is not None:
            return self._kind_of(e, bit) == "class"
        ce = self._cls(q)
        return ce is not None and bool(ce.get("p", 0) & bit)

    def exists(self, qualname: str, version: str) -> bool | None:
        """True/False, or None when the parent is not an indexed module or class."""
        bit = self._b(version)
        e = self._ent(qualname)
        if e is not None and e.get("m", 0) & bit:
            return True
        sp = self._split(qualname)
        if sp is None:
            return None if qualname != "mindspore" else False
        parent, name = sp
        if name.startswith("_"):
            return None  # private names are not indexed
        pe = self._ent(parent)
        pk = self._kind_of(pe, bit) if pe is not None else None
        if pk == "module" and pe is not None:
            if not (pe.get("cov", 0) & bit) or pe.get("open", 0) & bit:
                return None
            return False
        if pk == "class" or (pe is None and self._parent_is_class(parent, bit)):
            if self._method(parent, name, bit) is not None:
                return True
            canon = self._canonical_class(parent, bit)
            if canon is not None and self._class_closed(canon, bit):
                return False
            return None
        if pk is None:
            # the parent is not there in this version (or never was): so is the child
            gp = self.exists(parent, version)
            return False if gp is False else None
        return None

    def members(self, qualname: str, version: str) -> frozenset[str]:
        bit = self._b(version)
        k = self.kind(qualname, version)
        if k == "module":
            if self._children is None:
                ch: dict[str, list[str]] = {}
                for q in self._names_raw:
                    p, _, n = q.rpartition(".")
                    if p:
                        ch.setdefault(p, []).append(n)
                self._children = ch
            return frozenset(n for n in self._children.get(qualname, ())
                             if self._indexed(f"{qualname}.{n}").get("m", 0) & bit)
        if k == "class":
            canon = self._canonical_class(qualname, bit)
            if canon is None:
                return frozenset()
            if self._class_children is None:
                ch = {}
                for q in self._classes_raw:
                    p, _, n = q.rpartition(".")
                    ch.setdefault(p, []).append(n)
                self._class_children = ch
            out = set()
            for c in self._mro(canon, bit):
                for n in self._class_children.get(c, ()):
                    me = self._cls(f"{c}.{n}")
                    if me is not None and "k" in me and me.get("m", 0) & bit:
                        out.add(n)
            return frozenset(out)
        return frozenset()

    def versions_of(self, qualname: str) -> tuple[str, ...]:
        e = self._ent(qualname)
        mask = e.get("m", 0) if e is not None else 0
        if not mask:
            sp = self._split(qualname)
            if sp:
                for v, b in self._bit.items():
                    if self.kind(qualname, v) is not None:
                        mask |= b
        return tuple(v for v in self.versions if self._bit[v] & mask)

    def signature(self, qualname: str, version: str) -> Signature | None:
        bit = self._b(version)
        e = self._ent(qualname)
        if e is not None and e.get("m", 0) & bit:
            i = self._pick(e.get("s", []), bit)
            return self._sig(i) if i is not None else None
        sp = self._split(qualname)
        if sp and self._parent_is_class(sp[0], bit):
            me = self._method(sp[0], sp[1], bit)
            if me is not None:
                i = self._pick(me.get("s", []), bit)
                return self._sig(i) if i is not None else None
        return None

    def deprecation(self, qualname: str, version: str) -> Deprecation | None:
        bit = self._b(version)
        e = self._ent(qualname)
        d = None
        if e is not None and e.get("m", 0) & bit:
            d = self._pick(e.get("d", []), bit)
        else:
            sp = self._split(qualname)
            if sp and self._parent_is_class(sp[0], bit):
                me = self._method(sp[0], sp[1], bit)
                if me is not None:
                    d = self._pick(me.get("d", []), bit)
        if not d:
            return None
        return Deprecation(since=d[0], replacement=d[1], message=d[2])

    def canonical(self, qualname: str, version: str) -> str | None:
        """Defining location of an alias (e.g. mindspore.nn.Dense -> mindspore.nn.layer.basic.Dense)."""
        e = self._ent(qualname)
        if e is None:
            return None
        return self._pick(e.get("a", []), self._b(version))

    def suggest(self, qualname: str, version: str, n: int = 3) -> list[str]:
        sp = self._split(qualname)
        if sp is None:
            return []
        parent, name = sp
        cands = sorted(m for m in self.members(parent, version) if not m.startswith("_"))
        if not cands:
            return []
        import difflib

        lower = {c.lower(): c for c in cands}
        out = []
        if name.lower() in lower and lower[name.lower()] != name:
            out.append(lower[name.lower()])
        for c in difflib.get_close_matches(name, cands, n=n, cutoff=0.6):
            if c not in out and c != name:
                out.append(c)
        return out[:n]

    def removed_in(self, qualname: str) -> str | None:
        """First indexed version after the last one where the name exists (None if still there)."""
        vs = self.versions_of(qualname)
        if not vs or vs[-1] == self.newest:
            return None
        return self.versions[self.versions.index(vs[-1]) + 1]

    def added_in(self, qualname: str) -> str | None:
        vs = self.versions_of(qualname)
        return vs[0] if vs else None


def decode_index(data: bytes) -> dict:
    """The index file (format 2, see tools/build_api_index.py ``serialize``) -> the raw
    tables ApiIndex takes: a JSON header line, then the signature, names and classes texts."""
    head, sigs, names, classes = gzip.decompress(data).decode("utf-8").split("\n\f\n")
    raw = json.loads(head)
    if raw.get("format") != 2:
        raise ValueError(f"{INDEX_PATH.name}: unknown format {raw.get('format')!r}")
    raw.update(sigs=sigs, names=names, classes=classes)
    return raw


@functools.lru_cache(maxsize=1)
def load_index() -> ApiIndex:
    return ApiIndex(decode_index(INDEX_PATH.read_bytes()))


@functools.lru_cache(maxsize=1)
def load_torch_table() -> dict:
    with open(TORCH_TABLE_PATH, encoding="utf-8") as f:
        return json.load(f)


__all__ = ["ApiIndex", "Deprecation", "Param", "Signature", "decode_index", "installed_mindspore", "installed_mindspore_version",
           "load_index", "load_torch_table"]

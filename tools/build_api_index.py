#!/usr/bin/env python3
"""Build msfix's versioned MindSpore API index (run by a developer, not at lint time).

What it does
------------
1. ``pip download`` the MindSpore wheels listed in ``RELEASES`` into a cache directory
   outside the repository (default ``~/.cache/msfix-api-wheels``; never commit them).
2. Reads the Python sources inside each wheel zip *statically* with :mod:`ast`:
   modules, ``__all__`` (including ``__all__.extend(x.__all__)`` and ``+=``), star
   imports, classes, functions, parameters with defaults, base classes and public
   methods, and deprecation markers that can be read (``@deprecated(version,
   substitute)`` decorators and unconditional ``logger.warning("... deprecated ...")``
   calls in a function / ``__init__`` / module body).
3. Optionally (``--introspect-python``, default: the interpreter running this script
   if it has mindspore) introspects the *installed* MindSpore in a subprocess, for the
   indexed version equal to the installed one only: ``dir()`` of the covered modules
   (C++-backed and dynamically created names), the kinds of those names,
   ``inspect.signature`` where static reading gave none, and ``dir()`` of classes
   whose bases are C++ classes (``Tensor``).
4. Writes ``msfix/knowledge/data/api_index.json.gz`` and ``api_manifest.json``.
   Output is deterministic: sorted keys, no timestamps, gzip mtime 0, so a rerun with
   the same wheels (and the same installed mindspore for introspection, in an interpreter
   with the same optional packages mindspore imports: with or without tqdm,
   ``mindspore.train.metrics.occlusion_sensitivity.trange`` is tqdm's function or the
   builtin ``range`` class) regenerates the data byte for byte.  ``--check`` rebuilds into memory and compares: with every wheel
   of ``RELEASES`` at hand (downloaded if missing), both files byte for byte; with
   ``--offline`` and only some wheels in the cache, version by version (what the shipped
   index holds for each version whose wheel is at hand, and its manifest entry).

Releases (``RELEASES``, 26): every release line PyPI serves from 1.0 to 2.10 (x86_64
wheels): mindspore-gpu 1.0.0-1.9.0, every release (cp37; there is no 1.4) and 1.10.0
(cp39), mindspore 2.0.0, 2.7.0, 2.7.2, 2.8.0, 2.9.0, 2.10.0, and one mindspore-dev
snapshot each for 2.5 and 2.6 (2.1-2.4 and 2.5.0/2.6.0 are not on PyPI; see NOT_SERVED
and SERVED_NOT_INDEXED).  About 10 GB of wheels: put the cache on a disk with room and delete it after.

Usage::

    python tools/build_api_index.py                 # download (if needed) + build
    python tools/build_api_index.py --check         # rebuild, compare with shipped
    python tools/build_api_index.py --check --offline --cache /tmp/w   # compare the versions
                                                # whose wheels are in /tmp/w
    python tools/build_api_index.py --no-introspect # static only
    python tools/build_api_index.py --validate 2.0.0=/tmp/ms20/bin/python   # check the static
                                                # reading against dir() of another release

The static extractor is importable (``extract_version``/``DirSource``) so the test
suite can re-run it over the installed 2.10 package for a slice and compare the
result with the hash recorded in the manifest (``static_slices``).
"""
from __future__ import annotations

import argparse
import ast
import builtins
import gzip
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = REPO / "msfix" / "knowledge" / "data"
INDEX_FILE = DATA_DIR / "api_index.json.gz"
MANIFEST_FILE = DATA_DIR / "api_manifest.json"
DEFAULT_CACHE = Path(os.environ.get("MSFIX_WHEEL_CACHE", "~/.cache/msfix-api-wheels")).expanduser()
FORMAT = 2  # 1: one JSON object; 2: a JSON header line, then text sections (no JSON string unescaping at load)
SECTION = "\n\f\n"  # between the sections of the index file

# (index version label, pip requirement, python version, platform tag)
RELEASES = [
    # 1.0-1.9: PyPI serves these as mindspore-gpu (and mindspore-ascend) cp37 wheels only
    *[(v, f"mindspore-gpu=={v}", "3.7", "manylinux1_x86_64") for v in (
        "1.0.0", "1.0.1", "1.1.0", "1.1.1", "1.2.0", "1.2.1", "1.3.0", "1.5.0", "1.5.1", "1.5.2",
        "1.6.0", "1.6.1", "1.6.2", "1.7.0", "1.8.0", "1.8.1", "1.9.0")],
    ("1.10.0", "mindspore-gpu==1.10.0", "3.9", "manylinux1_x86_64"),
    ("2.0.0", "mindspore==2.0.0", "3.9", "manylinux1_x86_64"),
    ("2.5.0.dev20250202", "mindspore-dev==2.5.0.dev20250202", "3.9", "manylinux1_x86_64"),
    ("2.6.0.dev20250323", "mindspore-dev==2.6.0.dev20250323", "3.9", "manylinux1_x86_64"),
    ("2.7.0", "mindspore==2.7.0", "3.11", "manylinux1_x86_64"),
    ("2.7.2", "mindspore==2.7.2", "3.11", "manylinux1_x86_64"),
    ("2.8.0", "mindspore==2.8.0", "3.11", "manylinux1_x86_64"),
    ("2.9.0", "mindspore==2.9.0", "3.11", "manylinux1_x86_64"),
    ("2.10.0", "mindspore==2.10.0", "3.11", "manylinux1_x86_64"),
]
NOT_SERVED = {
    "1.x (mindspore CPU)": "PyPI serves 1.x only as mindspore-gpu / mindspore-ascend; the mindspore-gpu "
                          "wheels are used (cp37 for 1.0-1.9, cp39 for 1.10.0)",
    "1.4": "MindSpore has no 1.4 release (1.3.0 is followed by 1.5.0)",
    "2.1.x-2.4.x, 2.5.0, 2.6.0 (mindspore)": "not served by PyPI; the mindspore-dev 2.5/2.6 "
                                             "snapshots are indexed instead",
}
SERVED_NOT_INDEXED = {
    "mindspore 2.7.1, 2.7.1.post1": "between 2.7.0 and 2.7.2; resolve_version('2.7.1') gives 2.7.0",
    "mindspore-ascend 1.0.0-1.10.0": "the same releases as mindspore-gpu; the mindspore-gpu wheels are read",
    "mindspore-gpu/mindspore-ascend 0.1.0-0.7.0": "pre-1.0 releases; a 0.x target is refused, naming 1.0.0",
    "mindspore-dev 2.5.0.dev20250119/26, 2.6.0.dev20250316": "other snapshots of the same lines",
    "platform": "the x86_64 (manylinux1) wheels are read; the files tagged none-any on PyPI hold "
                "aarch64 builds of the same Python sources",
}

# Modules whose members are indexed (if they exist in a version).
ROOT_MODULES = [
    "mindspore", "mindspore.nn", "mindspore.nn.metrics", "mindspore.ops", "mindspore.ops.operations",
    "mindspore.ops.functional", "mindspore.ops.composite", "mindspore.ops.function",
    "mindspore.mint", "mindspore.mint.nn", "mindspore.mint.nn.functional", "mindspore.mint.optim",
    "mindspore.train", "mindspore.train.callback", "mindspore.train.serialization",
    "mindspore.train.model", "mindspore.train.metrics", "mindspore.train.loss_scale_manager",
    "mindspore.train.summary",
    "mindspore.dataset", "mindspore.dataset.vision", "mindspore.dataset.transforms",
    "mindspore.dataset.text", "mindspore.dataset.audio", "mindspore.dataset.vision.c_transforms",
    "mindspore.dataset.vision.py_transforms", "mindspore.dataset.transforms.c_transforms",
    "mindspore.dataset.transforms.py_transforms", "mindspore.dataset.engine",
    "mindspore.dataset.config", "mindspore.dataset.vision.utils", "mindspore.dataset.text.utils",
    "mindspore.common", "mindspore.common.initializer", "mindspore.common.dtype",
    "mindspore.common.api", "mindspore.common.tensor", "mindspore.common.parameter",
    "mindspore.communication", "mindspore.communication.management",
    "mindspore.amp", "mindspore.context", "mindspore.experimental", "mindspore.experimental.optim",
    "mindspore.experimental.optim.lr_scheduler", "mindspore.parallel", "mindspore.runtime",
    "mindspore.nn.probability", "mindspore.boost", "mindspore.numpy", "mindspore.scipy",
]
# Public submodules of these packages are indexed too (recursively, public path only).
RECURSIVE_ROOTS = ["mindspore.nn", "mindspore.train", "mindspore.dataset", "mindspore.mint",
                   "mindspore.experimental.optim", "mindspore.communication"]
RECURSIVE_EXCLUDE = ("mindspore.nn.probability.", "mindspore.dataset.engine.obs",
                     "mindspore.dataset.text.transforms.", "mindspore.train.summary.")

KIND_CODE = {"module": "m", "class": "c", "function": "f", "attribute": "a"}
PKIND = {"POSITIONAL_ONLY": "po", "POSITIONAL_OR_KEYWORD": "pk", "VAR_POSITIONAL": "vp",
         "KEYWORD_ONLY": "ko", "VAR_KEYWORD": "vk"}
CLOSED_BASES = {"object"}


def is_public_path(mod: str) -> bool:
    return not any(p.startswith("_") for p in mod.split("."))


# --------------------------------------------------------------------------- sources
class Source:
    """Python sources of one mindspore distribution (module name -> text)."""

    def __init__(self):
        self.modules: dict[str, str] = {}  # module -> relative path of .py
        self.packages: set[str] = set()
        self.ext: set[str] = set()  # compiled extension modules
        self._cache: dict[str, str] = {}

    def _register(self, rel: str):
        if not rel.startswith("mindspore/"):
            return
        if "/_akg/" in rel or "/.libs/" in rel:
            return
        if rel.endswith(".py"):
            parts = rel[:-3].split("/")
            if not all(p.isidentifier() for p in parts):
                return
            if parts[-1] == "__init__":
                mod = ".".join(parts[:-1])
                self.packages.add(mod)
            else:
                mod = ".".join(parts)
            self.modules[mod] = rel
        elif rel.endswith(".so"):
            base = rel.rsplit("/", 1)
            name = base[1].split(".", 1)[0]
            if name.isidentifier():
                self.ext.add(base[0].replace("/", ".") + "." + name)

    def text(self, mod: str) -> str:
        if mod not in self._cache:
            self._cache[mod] = self._read(self.modules[mod])
        return self._cache[mod]

    def _read(self, rel: str) -> str:
        raise NotImplementedError


class ZipSource(Source):
    def __init__(self, path: Path):
        super().__init__()
        self.zf = zipfile.ZipFile(path)
        for n in sorted(self.zf.namelist()):
            self._register(n)

    def _read(self, rel):
        return self.zf.read(rel).decode("utf-8", errors="replace")


class DirSource(Source):
    """An installed mindspore package (``site-packages/mindspore``)."""

    def __init__(self, pkg_dir: Path):
        super().__init__()
        self.root = Path(pkg_dir).parent
        for dirpath, dirnames, filenames in os.walk(pkg_dir):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for f in sorted(filenames):
                rel = os.path.relpath(os.path.join(dirpath, f), self.root).replace(os.sep, "/")
                self._register(rel)

    def _read(self, rel):
        return (self.root / rel).read_text("utf-8", errors="replace")


# --------------------------------------------------------------------------- strings
def const_str(node) -> str | None:
    """Best-effort text of a string expression (f-strings keep their literal parts)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        out = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                out.append(str(v.value))
            else:
                out.append("{}")
        return "".join(out)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        a = const_str(node.left)
        b = const_str(node.right) if isinstance(node.op, ast.Add) else ""
        if a is not None and b is not None:
            return a + b
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return const_str(node.func.value)
    return None


_VER_RE = re.compile(r"(?:from|since|in)\s+(?:mindspore\s+|version\s+|MindSpore\s+|v)?(\d+\.\d+(?:\.\d+)?)",
                     re.I)
_REPL_RE = re.compile(r"(?:use|using|replaced by|instead by)\s+[`'\"]?([A-Za-z_][\w.]*(?:\(\))?)", re.I)


def parse_deprecation_message(msg: str):
    since = None
    m = _VER_RE.search(msg)
    if m:
        since = m.group(1)
    repl = None
    m = _REPL_RE.search(msg)
    if m:
        repl = m.group(1).rstrip(".")
        if repl.lower() in ("the", "it", "a", "an", "this", "other", "instead", "new"):
            repl = None
    return since, repl


def _is_warning_call(node) -> str | None:
    """logger.warning("...deprecated..."), log.warning, warnings.warn -> message."""
    if not isinstance(node, ast.Expr) or not isinstance(node.value, ast.Call):
        return None
    call = node.value
    f = call.func
    if isinstance(f, ast.Attribute) and f.attr in ("warning", "warn", "deprecated_warning"):
        if call.args:
            s = const_str(call.args[0])
            if s and "deprecat" in s.lower():
                return s
    return None


def deprecation_from_decorators(decos):
    for d in decos:
        if isinstance(d, ast.Call):
            fn = d.func
            name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", None)
            if name == "deprecated" and d.args:
                since = const_str(d.args[0])
                repl = const_str(d.args[1]) if len(d.args) > 1 else None
                msg = f"deprecated from version {since}" + (f", use '{repl}' instead" if repl else "")
                return since, repl or None, msg
    return None


def deprecation_from_body(body):
    for st in body:
        msg = _is_warning_call(st)
        if msg:
            since, repl = parse_deprecation_message(msg)
            return since, repl, msg.strip()
    return None


# --------------------------------------------------------------------------- signatures
def encode_signature(args: ast.arguments, drop_first: bool) -> list:
    params = []
    pos = list(args.posonlyargs) + list(args.args)
    defaults = [None] * (len(pos) - len(args.defaults)) + list(args.defaults)
    for i, a in enumerate(pos):
        kind = "po" if i < len(args.posonlyargs) else "pk"
        p = [a.arg, kind]
        if defaults[i] is not None:
            p.append(ast.unparse(defaults[i]))
        params.append(p)
    if args.vararg:
        params.append([args.vararg.arg, "vp"])
    for a, d in zip(args.kwonlyargs, args.kw_defaults):
        p = [a.arg, "ko"]
        if d is not None:
            p.append(ast.unparse(d))
        params.append(p)
    if args.kwarg:
        params.append([args.kwarg.arg, "vk"])
    if drop_first and params and params[0][1] in ("po", "pk"):
        params = params[1:]
    return params


def _decorator_names(node):
    out = []
    for d in node.decorator_list:
        f = d.func if isinstance(d, ast.Call) else d
        if isinstance(f, ast.Attribute):
            out.append(f.attr)
        elif isinstance(f, ast.Name):
            out.append(f.id)
    return out


# --------------------------------------------------------------------------- analysis
class ModuleInfo:
    def __init__(self, name):
        self.name = name
        self.events: list = []  # ordered binding events
        self.all_ops: list = []  # ordered __all__ operations
        self.dynamic = False
        self.deprecation = None
        self.ns: dict | None = None
        self.redirect = None
        self.all_: list | None = None
        self.tree = None


class Extractor:
    """Static reader for one mindspore distribution."""

    def __init__(self, src: Source):
        self.src = src
        self.infos: dict[str, ModuleInfo] = {}
        self._computing: set[str] = set()
        self._resolving: set = set()
        self.classes: dict[str, dict] = {}  # canonical -> class record

    # ---- parsing
    def info(self, mod: str) -> ModuleInfo | None:
        if mod in self.infos:
            return self.infos[mod]
        if mod not in self.src.modules:
            return None
        mi = ModuleInfo(mod)
        self.infos[mod] = mi
        try:
            tree = ast.parse(self.src.text(mod))
        except SyntaxError:
            mi.dynamic = True
            return mi
        mi.tree = tree
        self._walk(mi, tree.body, top=True)
        mi.deprecation = deprecation_from_body(tree.body)
        return mi

    def _abs(self, mi: ModuleInfo, module: str | None, level: int) -> str:
        if level == 0:
            return module or ""
        base = mi.name if mi.name in self.src.packages else mi.name.rsplit(".", 1)[0]
        for _ in range(level - 1):
            base = base.rsplit(".", 1)[0]
        return f"{base}.{module}" if module else base

    def _walk(self, mi: ModuleInfo, body, top=False):
        for st in body:
            if isinstance(st, ast.Import):
                for a in st.names:
                    if a.asname:
                        mi.events.append(("bind", a.asname, ("mod", a.name)))
                    else:
                        first = a.name.split(".")[0]
                        mi.events.append(("bind", first, ("mod", first)))
                    self._note_submodule(mi, a.name)
            elif isinstance(st, ast.ImportFrom):
                m = self._abs(mi, st.module, st.level)
                self._note_submodule(mi, m)
                for a in st.names:
                    if a.name == "*":
                        mi.events.append(("star", m))
                    else:
                        mi.events.append(("bind", a.asname or a.name, ("from", m, a.name)))
                        self._note_submodule(mi, f"{m}.{a.name}")
            elif isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if st.name == "__getattr__":
                    mi.dynamic = True
                mi.events.append(("bind", st.name, ("def", "function", st)))
            elif isinstance(st, ast.ClassDef):
                mi.events.append(("bind", st.name, ("def", "class", st)))
            elif isinstance(st, (ast.Assign, ast.AnnAssign)):
                targets = st.targets if isinstance(st, ast.Assign) else [st.target]
                value = st.value
                for t in targets:
                    if isinstance(t, ast.Name):
                        if t.id == "__all__":
                            mi.all_ops.append(("set", value))
                        elif value is not None:
                            mi.events.append(("bind", t.id, ("expr", value)))
                    elif isinstance(t, (ast.Tuple, ast.List)):
                        for e in t.elts:
                            if isinstance(e, ast.Name):
                                mi.events.append(("bind", e.id, ("value",)))
            elif isinstance(st, ast.AugAssign):
                if isinstance(st.target, ast.Name) and st.target.id == "__all__":
                    mi.all_ops.append(("add", st.value))
            elif isinstance(st, ast.Expr) and isinstance(st.value, ast.Call):
                f = st.value.func
                if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "__all__":
                    if f.attr == "extend" and st.value.args:
                        mi.all_ops.append(("add", st.value.args[0]))
                    elif f.attr == "append" and st.value.args:
                        mi.all_ops.append(("add", ast.List(elts=[st.value.args[0]])))
                    elif f.attr == "remove" and st.value.args:
                        mi.all_ops.append(("remove", ast.List(elts=[st.value.args[0]])))
                elif isinstance(f, ast.Name) and f.id == "setattr":
                    mi.dynamic = True
                elif (f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")) == "mark_deprecated" \
                        and len(st.value.args) >= 2 and isinstance(st.value.args[0], ast.Name) \
                        and st.value.args[0].id == "__name__" and const_str(st.value.args[1]):
                    # 2.9+: the old module copies the namespace of the new one and logs a deprecation
                    new_mod = const_str(st.value.args[1])
                    mi.events.append(("copyall", new_mod))
                    ver = const_str(st.value.args[2]) if len(st.value.args) > 2 else None
                    for k in st.value.keywords:
                        if k.arg == "version":
                            ver = const_str(k.value)
                    mi.redirect = (new_mod, ver, f)
                elif isinstance(f, ast.Attribute) and f.attr == "update" and isinstance(f.value, ast.Call) \
                        and getattr(f.value.func, "id", None) == "globals":
                    mi.dynamic = True
            elif isinstance(st, ast.Delete):
                for t in st.targets:
                    if isinstance(t, ast.Name):
                        mi.events.append(("del", t.id))
            elif isinstance(st, ast.If):
                # the else branch first, the if branch last (it wins)
                self._walk(mi, st.orelse)
                self._walk(mi, st.body)
            elif isinstance(st, ast.Try):
                for h in st.handlers:
                    self._walk(mi, h.body)
                self._walk(mi, st.body)
                self._walk(mi, st.orelse)
                self._walk(mi, st.finalbody)
            elif isinstance(st, (ast.With, ast.For)):
                self._walk(mi, st.body)

    def _note_submodule(self, mi: ModuleInfo, target: str):
        """Importing pkg.sub (from inside pkg) binds `sub` on pkg."""
        if "." not in target:
            return
        parent, child = target.rsplit(".", 1)
        if parent == mi.name and target in self.src.modules:
            mi.events.append(("sub", child, ("mod", target)))

    # ---- namespaces
    def namespace(self, mod: str) -> dict:
        mi = self.info(mod)
        if mi is None:
            return {}
        if mi.ns is not None:
            return mi.ns
        if mod in self._computing:  # import cycle: what is known so far
            return getattr(mi, "_partial", {})
        self._computing.add(mod)
        ns: dict = {}
        mi._partial = ns
        for ev in mi.events:
            if ev[0] == "bind":
                b = ev[2]
                if b[0] == "expr" and isinstance(b[1], ast.Name) and b[1].id in ns:
                    b = ns[b[1].id]  # x = y binds what y is now (y may be deleted later)
                ns[ev[1]] = b
            elif ev[0] == "sub":
                ns.setdefault(ev[1], ev[2])
            elif ev[0] == "del":
                ns.pop(ev[1], None)
            elif ev[0] == "copyall":
                for n in self.namespace(ev[1]):
                    if not n.startswith("__"):
                        ns[n] = ("from", ev[1], n)
            elif ev[0] == "star":
                target = ev[1]
                if target in self.src.ext or target not in self.src.modules:
                    if target.startswith("mindspore"):
                        mi.dynamic = True
                    continue
                for n in self.exports(target):
                    ns[n] = ("from", target, n)
        # public submodule files are reachable as attributes after an import
        mi.ns = ns
        self._computing.discard(mod)
        return ns

    def all_list(self, mod: str) -> list | None:
        mi = self.info(mod)
        if mi is not None and mi.redirect and not mi.all_ops:
            return self.all_list(mi.redirect[0])
        if mi is None or not mi.all_ops:
            return None
        if mi.all_ is not None:
            return mi.all_
        key = ("all", mod)
        if key in self._resolving:
            return []
        self._resolving.add(key)
        out: list = []
        for op, expr in mi.all_ops:
            vals = self._eval_strlist(mod, expr)
            if op == "set":
                out = list(vals)
            elif op == "add":
                out.extend(vals)
            elif op == "remove":
                for v in vals:
                    if v in out:
                        out.remove(v)
        self._resolving.discard(key)
        mi.all_ = out
        return out

    def _eval_strlist(self, mod, expr) -> list:
        if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
            out = []
            for e in expr.elts:
                if isinstance(e, ast.Constant) and isinstance(e.value, str):
                    out.append(e.value)
                elif isinstance(e, ast.Starred):
                    out.extend(self._eval_strlist(mod, e.value))
            return out
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            return self._eval_strlist(mod, expr.left) + self._eval_strlist(mod, expr.right)
        if isinstance(expr, ast.Attribute) and expr.attr == "__all__":
            t = self.eval_expr(mod, expr.value)
            if t and t[0] == "module":
                return list(self.all_list(t[1]) or [])
            return []
        if isinstance(expr, ast.Name):
            # a list defined earlier in the module (e.g. __primitive__)
            mi = self.info(mod)
            for ev in mi.events:
                if ev[0] == "bind" and ev[1] == expr.id and ev[2][0] == "expr":
                    return self._eval_strlist(mod, ev[2][1])
            return []
        if isinstance(expr, ast.ListComp) and len(expr.generators) == 1:
            it = expr.generators[0].iter
            if isinstance(it, ast.Call) and getattr(it.func, "id", None) == "dir" and not it.args:
                # __all__ = [name for name in dir() if name[0] != "_"]: the public names bound so far
                return sorted(n for n in self.namespace(mod) if not n.startswith("_"))
        if isinstance(expr, ast.Call) and getattr(expr.func, "id", None) in ("list", "tuple", "sorted") \
                and expr.args:
            return self._eval_strlist(mod, expr.args[0])
        return []

    def exports(self, mod: str) -> list:
        a = self.all_list(mod)
        if a is not None:
            return a
        return sorted(n for n in self.namespace(mod) if not n.startswith("_"))

    # ---- resolution
    def members(self, mod: str) -> dict:
        """Public (and bound) names of a module -> binding, incl. public submodule files."""
        ns = dict(self.namespace(mod))
        if mod in self.src.packages:
            prefix = mod + "."
            for m in list(self.src.modules) + sorted(self.src.ext):
                if m.startswith(prefix) and "." not in m[len(prefix):]:
                    ns.setdefault(m[len(prefix):], ("mod", m))
        return ns

    def resolve_name(self, mod: str, name: str, depth=0):
        if depth > 40:
            return ("attribute", None)
        ns = self.namespace(mod)
        if name in ns:
            return self.resolve_binding(mod, name, ns[name], depth + 1)
        sub = f"{mod}.{name}"
        if sub in self.src.modules or sub in self.src.ext:
            return ("module", sub)
        if hasattr(builtins, name):
            return ("builtin", name)
        return None

    def resolve_binding(self, mod, name, b, depth=0):
        key = (mod, name, id(b))
        if key in self._resolving or depth > 40:
            return ("attribute", None)
        self._resolving.add(key)
        try:
            t = b[0]
            if t == "mod":
                m = b[1]
                if m in self.src.modules or m in self.src.ext:
                    return ("module", m)
                return ("extmodule", m) if not m.startswith("mindspore") else None
            if t == "from":
                m, a = b[1], b[2]
                sub = f"{m}.{a}"
                if sub in self.src.modules or sub in self.src.ext:
                    return ("module", sub)
                if m in self.src.ext:
                    return ("ext", m, a)
                if a == "__all__":
                    return ("attribute", None)
                if m in self.src.modules:
                    r = self.resolve_name(m, a, depth + 1)
                    return r
                return ("external", m, a)
            if t == "def":
                return (b[1], mod, b[2])
            if t == "expr":
                return self.eval_expr(mod, b[1], depth + 1) if isinstance(b[1], (ast.Name, ast.Attribute)) \
                    else ("attribute", None)
            return ("attribute", None)
        finally:
            self._resolving.discard(key)

    def eval_expr(self, mod, expr, depth=0):
        if isinstance(expr, ast.Name):
            return self.resolve_name(mod, expr.id, depth + 1)
        if isinstance(expr, ast.Attribute):
            base = self.eval_expr(mod, expr.value, depth + 1)
            if base and base[0] == "module":
                return self.resolve_name(base[1], expr.attr, depth + 1)
            if base and base[0] == "class":
                rec = self.class_record(base[1], base[2])
                meth = rec["methods"].get(expr.attr)
                if meth:
                    return ("method", meth)
            return ("attribute", None)
        return ("attribute", None)

    # ---- deprecation decorators
    def deprecation_of(self, mod, decos, body, own_name):
        d = deprecation_from_decorators(decos)
        if d:
            return d
        for dec in decos:
            f = dec.func if isinstance(dec, ast.Call) else dec
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if not name.startswith("deprecat") or name == "deprecated":
                continue
            r = self.eval_expr(mod, f)
            fac = self._factory_info(r) if r and r[0] == "function" else None
            if not fac:
                continue
            since, new_mod = fac
            sub = None
            if isinstance(dec, ast.Call) and dec.args:
                sub = const_str(dec.args[0])
            repl = f"{new_mod}.{sub or own_name}" if new_mod else sub
            msg = f"deprecated from version {since}" + (f", use '{repl}' instead" if repl else "")
            return since, repl, msg
        return deprecation_from_body(body)

    def _factory_info(self, r):
        """deprecated_c_vision() -> deprecator_factory("1.8", old_module, new_module, ...)."""
        node = r[2]
        for st in ast.walk(node):
            if isinstance(st, ast.Call):
                f = st.func
                fname = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
                if "deprecat" in fname and st.args:
                    since = const_str(st.args[0])
                    if since and re.match(r"^\d+\.\d+", since):
                        new_mod = const_str(st.args[2]) if len(st.args) > 2 else None
                        if new_mod and not re.match(r"^[\w.]+$", new_mod):
                            new_mod = None
                        return since, new_mod
            msg = _is_warning_call(st) if isinstance(st, ast.Expr) else None
            if msg:
                since, _ = parse_deprecation_message(msg)
                if since:
                    return since, None
        return None

    # ---- classes
    def class_record(self, mod, node: ast.ClassDef) -> dict:
        canon = f"{mod}.{node.name}"
        if canon in self.classes and self.classes[canon].get("_node") is node:
            return self.classes[canon]
        rec = {"_node": node, "canon": canon, "bases": [], "closed": True, "methods": {}, "init": None,
               "depr": None, "getattr": False, "attrs": set()}
        self.classes[canon] = rec
        for bexpr in node.bases:
            if isinstance(bexpr, ast.Subscript):
                bexpr = bexpr.value
            r = self.eval_expr(mod, bexpr)
            if r and r[0] == "class":
                rec["bases"].append(self.class_record(r[1], r[2])["canon"])
            elif r and r[0] == "builtin" and r[1] in CLOSED_BASES:
                pass
            else:
                rec["closed"] = False
        if any(isinstance(k, ast.keyword) and k.arg == "metaclass" for k in node.keywords):
            pass
        rec["depr"] = self.deprecation_of(mod, node.decorator_list, [], node.name)
        for st in node.body:
            if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
                decos = _decorator_names(st)
                if st.name in ("__getattr__", "__getattribute__"):
                    rec["closed"] = False
                    rec["getattr"] = True
                for sub in ast.walk(st):
                    if isinstance(sub, (ast.Assign, ast.AnnAssign)):
                        for t in (sub.targets if isinstance(sub, ast.Assign) else [sub.target]):
                            if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) \
                                    and t.value.id == "self" and not t.attr.startswith("_"):
                                rec["attrs"].add(t.attr)
                if st.name == "__init__" or (st.name == "__new__" and rec["init"] is None):
                    sig = encode_signature(st.args, drop_first=True)
                    if st.name == "__init__" or rec["init"] is None:
                        rec["init"] = sig
                    d = self.deprecation_of(mod, st.decorator_list, st.body, node.name)
                    if d and st.name == "__init__":
                        rec["depr"] = rec["depr"] or d
                    continue
                if st.name.startswith("_") and st.name not in ("__call__",):
                    continue
                if "property" in decos or any(x in ("setter", "getter", "deleter") for x in decos):
                    rec["methods"][st.name] = {"kind": "attribute", "sig": None, "depr": None}
                    continue
                static = "staticmethod" in decos
                sig = encode_signature(st.args, drop_first=not static)
                d = self.deprecation_of(mod, st.decorator_list, st.body, st.name)
                rec["methods"][st.name] = {"kind": "function", "sig": sig, "depr": d}
            elif isinstance(st, (ast.Assign, ast.AnnAssign)):
                targets = st.targets if isinstance(st, ast.Assign) else [st.target]
                for t in targets:
                    if isinstance(t, ast.Name) and not t.id.startswith("_"):
                        rec["methods"].setdefault(t.id, {"kind": "attribute", "sig": None, "depr": None})
        for a in sorted(rec["attrs"]):
            rec["methods"].setdefault(a, {"kind": "attribute", "sig": None, "depr": None})
        return rec

    def class_init(self, canon, seen=None) -> list | None:
        seen = seen or set()
        if canon in seen or canon not in self.classes:
            return None
        seen.add(canon)
        rec = self.classes[canon]
        if rec["init"] is not None:
            return rec["init"]
        for b in rec["bases"]:
            s = self.class_init(b, seen)
            if s is not None:
                return s
        if not rec["bases"] and rec["closed"]:
            return []  # object.__init__
        return None


# --------------------------------------------------------------------------- per version
def covered_modules(src: Source) -> list[str]:
    out = set(m for m in ROOT_MODULES if m in src.modules)
    for root in RECURSIVE_ROOTS:
        for m in src.modules:
            if m.startswith(root + ".") and is_public_path(m) and not m.startswith(RECURSIVE_EXCLUDE) \
                    and not m.endswith("_pb2"):  # protobuf modules build their names at run time
                out.add(m)
    return sorted(out)


def extract_version(src: Source, modules: list[str] | None = None) -> dict:
    """Static API of one distribution.

    Returns {"modules": {mod: {"dynamic": bool, "depr": ..., "members": {name: rec}}},
             "classes": {canon: {...}}, "all_modules": [...]}.
    rec = {"kind", "sig" (list|None), "depr" (tuple|None), "canon" (str|None)}.
    """
    ex = Extractor(src)
    mods = modules if modules is not None else covered_modules(src)
    result = {"modules": {}, "classes": {}, "all_modules": sorted(
        m for m in set(src.modules) | src.ext if is_public_path(m))}
    wanted_classes = set()
    for mod in mods:
        mi = ex.info(mod)
        if mi is None:
            continue
        members = {}
        for name, b in sorted(ex.members(mod).items()):
            if name.startswith("_"):
                continue
            r = ex.resolve_binding(mod, name, b)
            rec = {"kind": "attribute", "sig": None, "depr": None, "canon": None}
            if r is None:
                continue  # the import would fail: the name is not there
            k = r[0]
            if k in ("module", "extmodule"):
                rec["kind"] = "module"
                rec["canon"] = r[1] if r[1] != f"{mod}.{name}" else None
            elif k == "class":
                crec = ex.class_record(r[1], r[2])
                rec["kind"] = "class"
                rec["canon"] = crec["canon"]
                rec["sig"] = ex.class_init(crec["canon"])
                rec["depr"] = crec["depr"]
                wanted_classes.add(crec["canon"])
            elif k == "function":
                node = r[2]
                rec["kind"] = "function"
                rec["canon"] = f"{r[1]}.{node.name}"
                rec["sig"] = encode_signature(node.args, drop_first=False)
                rec["depr"] = ex.deprecation_of(r[1], node.decorator_list, node.body, node.name)
            elif k == "method":
                rec["kind"] = "function"
                rec["sig"] = r[1]["sig"]
            elif k in ("ext", "external"):
                rec["kind"] = "attribute"
                rec["canon"] = f"{r[1]}.{r[2]}"
                rec["opaque"] = True
            elif k == "builtin":
                rec["kind"] = "attribute"
            if rec["canon"] == f"{mod}.{name}":
                rec["canon"] = None
            members[name] = rec
        mdepr = mi.deprecation
        if mdepr is None and mi.redirect:
            new_mod, since, fexpr = mi.redirect
            if since is None:  # the default of mark_deprecated(..., version=...)
                r = ex.eval_expr(mod, fexpr)
                if r and r[0] == "function":
                    for p in encode_signature(r[2].args, drop_first=False):
                        if p[0] == "version" and len(p) > 2:
                            since = p[2].strip("'\"")
            mdepr = (since, new_mod, f"Module '{mod}' is deprecated from version {since}, use '{new_mod}' instead.")
        if mdepr is None:
            # every class defined in the module is deprecated the same way -> so is the module
            own = [r for r in members.values() if r["kind"] == "class"
                   and (r["canon"] is None or r["canon"].rsplit(".", 1)[0] == mod)]
            ds = [(r["depr"][0], (r["depr"][1] or "").rsplit(".", 1)[0]) if r["depr"] else None for r in own]
            top = max(set(ds), key=lambda d: (ds.count(d), str(d))) if ds else None
            # at least 80% of the module's own classes carry the same marker
            if top is not None and len(own) >= 3 and ds.count(top) * 5 >= len(own) * 4:
                since, repl_mod = top
                mdepr = (since, repl_mod or None, f"every class of {mod} is deprecated from version {since}"
                         + (f", use '{repl_mod}' instead" if repl_mod else ""))
        result["modules"][mod] = {"dynamic": bool(mi.dynamic), "depr": mdepr, "members": members}
    # classes reachable through bases
    todo = sorted(wanted_classes)
    seen = set()
    while todo:
        c = todo.pop()
        if c in seen or c not in ex.classes:
            continue
        seen.add(c)
        rec = ex.classes[c]
        todo.extend(rec["bases"])
        result["classes"][c] = {"bases": list(rec["bases"]), "closed": rec["closed"], "getattr": rec["getattr"],
                                "methods": {k: dict(v) for k, v in sorted(rec["methods"].items())}}
    return result


def slice_digest(ver: dict, module: str) -> str:
    """sha256 of the canonical JSON of one module's static slice (used by the tests)."""
    data = ver["modules"].get(module)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=list)
    return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------- introspection
INTROSPECT_CODE = r'''
import importlib, inspect, json, re, sys
mods, classes = json.loads(sys.stdin.read())
PK = {"POSITIONAL_ONLY": "po", "POSITIONAL_OR_KEYWORD": "pk", "VAR_POSITIONAL": "vp",
      "KEYWORD_ONLY": "ko", "VAR_KEYWORD": "vk"}
def sig(obj):
    try:
        s = inspect.signature(obj)
    except Exception:
        return None
    out = []
    for p in s.parameters.values():
        e = [p.name, PK[p.kind.name]]
        if p.default is not inspect.Parameter.empty:
            e.append(re.sub(r" at 0x[0-9a-fA-F]+", "", repr(p.default)))  # no addresses: deterministic
        out.append(e)
    return out
def kind(o):
    if inspect.ismodule(o): return "module"
    if inspect.isclass(o): return "class"
    if callable(o): return "function"
    return "attribute"
res = {"version": None, "modules": {}, "classes": {}}
import mindspore
res["version"] = mindspore.__version__
for m in mods:
    try:
        mod = importlib.import_module(m)
    except Exception as e:
        res["modules"][m] = None
        continue
    d = {}
    for n in dir(mod):
        if n.startswith("_"):
            continue
        try:
            o = getattr(mod, n)
        except Exception:
            continue
        k = kind(o)
        d[n] = {"kind": k, "sig": sig(o) if k in ("class", "function") else None}
    res["modules"][m] = d
for c in classes:
    mname, _, cname = c.rpartition(".")
    try:
        cls = getattr(importlib.import_module(mname), cname)
    except Exception:
        continue
    d = {}
    for n in dir(cls):
        if n.startswith("_"):
            continue
        try:
            o = inspect.getattr_static(cls, n)
        except Exception:
            continue
        if isinstance(o, (staticmethod, classmethod)):
            o = o.__func__
        if isinstance(o, property) or not callable(o):
            d[n] = {"kind": "attribute", "sig": None}
        else:
            s = sig(o)
            if s and s[0][0] in ("self", "cls") and s[0][1] in ("po", "pk"):
                s = s[1:]
            elif s is not None and not inspect.isfunction(o):
                s = None  # C++ method descriptors: the text signature is not reliable
            d[n] = {"kind": "function", "sig": s}
    res["classes"][c] = d
sys.stdout.write("\n@@JSON@@" + json.dumps(res, sort_keys=True))
'''


def introspect(python: str, modules: list[str], classes: list[str]) -> dict | None:
    env = dict(os.environ, GLOG_v="3", MS_SUBMODULE_LOG_v="{}", PYTHONWARNINGS="ignore")
    p = subprocess.run([python, "-c", INTROSPECT_CODE], input=json.dumps([modules, classes]),
                       capture_output=True, text=True, env=env, timeout=1200)
    if "@@JSON@@" not in p.stdout:
        print("introspection failed:\n" + p.stderr[-3000:], file=sys.stderr)
        return None
    return json.loads(p.stdout.split("@@JSON@@", 1)[1])


def merge_introspection(ver: dict, intro: dict):
    """Runtime facts win for the installed version."""
    for mod, names in intro["modules"].items():
        if names is None or mod not in ver["modules"]:
            continue
        static = ver["modules"][mod]["members"]
        for n in list(static):
            rec = static[n]
            if n not in names and rec["kind"] != "module":
                del static[n]  # not there at run time (e.g. conditional import failed)
        for n, r in names.items():
            rec = static.get(n)
            if rec is None:
                static[n] = {"kind": r["kind"], "sig": r["sig"], "depr": None, "canon": None}
            else:
                if rec.get("opaque") or rec["kind"] == "attribute":
                    rec["kind"] = r["kind"]
                if rec["sig"] is None and r["sig"] is not None:
                    rec["sig"] = r["sig"]
        ver["modules"][mod]["dynamic"] = False  # dir() is complete
    for c, meths in intro["classes"].items():
        crec = ver["classes"].get(c)
        if crec is None:
            continue
        for n, r in meths.items():
            if n not in crec["methods"]:
                crec["methods"][n] = {"kind": r["kind"], "sig": r["sig"], "depr": None}
        crec["closed"] = not crec.get("getattr")
        crec["bases"] = []  # dir() already holds the inherited names


def open_ext_classes(ver: dict) -> list[str]:
    """Classes whose bases could not be read statically (C++ bases), not dynamic via __getattr__."""
    out = []
    for c, rec in ver["classes"].items():
        if not rec["closed"]:
            out.append(c)
    return sorted(out)


# --------------------------------------------------------------------------- assembling
class Assembler:
    def __init__(self, versions: list[str]):
        self.versions = versions
        self.names: dict[str, dict] = {}  # qualname -> field -> {value_json: mask}
        self.classes: dict[str, dict] = {}

    def _add(self, table, key, field, value, bit):
        slot = table.setdefault(key, {}).setdefault(field, {})
        v = json.dumps(value, sort_keys=True, separators=(",", ":"))
        slot[v] = slot.get(v, 0) | bit

    def add_version(self, i: int, ver: dict):
        bit = 1 << i
        for m in ver["all_modules"]:
            self._add(self.names, m, "k", "m", bit)
        for mod, md in ver["modules"].items():
            self._add(self.names, mod, "k", "m", bit)
            self._add(self.names, mod, "cov", 1, bit)
            if md["dynamic"]:
                self._add(self.names, mod, "open", 1, bit)
            if md["depr"]:
                self._add(self.names, mod, "d", list(md["depr"]), bit)
            for n, rec in md["members"].items():
                q = f"{mod}.{n}"
                self._add(self.names, q, "k", KIND_CODE[rec["kind"]], bit)
                if rec["sig"] is not None:
                    self._add(self.names, q, "s", rec["sig"], bit)
                if rec["depr"]:
                    self._add(self.names, q, "d", list(rec["depr"]), bit)
                if rec["canon"]:
                    self._add(self.names, q, "a", rec["canon"], bit)
        for c, crec in ver["classes"].items():
            self._add(self.classes, c, "p", 1, bit)
            self._add(self.classes, c, "b", crec["bases"], bit)
            if crec["closed"]:
                self._add(self.classes, c, "closed", 1, bit)
            for n, mrec in crec["methods"].items():
                q = f"{c}.{n}"
                self._add(self.classes, q, "k", KIND_CODE[mrec["kind"]], bit)
                if mrec["sig"] is not None:
                    self._add(self.classes, q, "s", mrec["sig"], bit)
                if mrec.get("depr"):
                    self._add(self.classes, q, "d", list(mrec["depr"]), bit)

    def build(self) -> dict:
        sigs: dict[str, int] = {}

        def sig_id(v):
            if v not in sigs:
                sigs[v] = len(sigs)
            return sigs[v]

        def pack(table):
            out = {}
            for key in sorted(table):
                fields = table[key]
                ent = {}
                for field in sorted(fields):
                    pairs = sorted(fields[field].items(), key=lambda kv: (kv[1], kv[0]))
                    if field == "s":
                        ent["s"] = [[m, sig_id(v)] for v, m in pairs]
                    elif field in ("cov", "open", "closed", "p"):
                        ent[field] = pairs[0][1]
                    else:
                        ent[field] = [[m, json.loads(v)] for v, m in pairs]
                out[key] = ent
            return out

        names = pack(self.names)
        classes = pack(self.classes)
        # mask of existence per name = union of kind masks
        for table in (names, classes):
            for ent in table.values():
                if "k" in ent:
                    m = 0
                    for mm, _ in ent["k"]:
                        m |= mm
                    ent["m"] = m
                    if len(ent["k"]) == 1:
                        ent["k"] = ent["k"][0][1]
        sig_list = [None] * len(sigs)
        for v, i in sigs.items():
            sig_list[i] = v  # kept as JSON text, decoded lazily by the loader
        return {"format": FORMAT, "versions": self.versions, "sigs": sig_list,
                "names": names, "classes": classes}


def encode_names_compact(index: dict) -> dict:
    """names/classes tables -> one text per table, a line per entry: ``qualname<TAB>json``.

    The loader splits lines and decodes an entry's JSON only when it is asked for,
    which keeps load_index() well under 50 ms.
    """
    out = dict(index)
    for t in ("names", "classes"):
        out[t] = "\n".join(k + "\t" + json.dumps(v, sort_keys=True, separators=(",", ":"))
                           for k, v in sorted(index[t].items()))
    out["sigs"] = "\n".join(index["sigs"])
    return out


def serialize(index: dict) -> bytes:
    """gzip of: a JSON header line ({"format", "versions"}), then the signatures (one JSON per
    line), the names table and the classes table (``qualname<TAB>json`` lines), separated by
    a form-feed line.  The loader splits the text and decodes an entry's JSON only when asked
    for: reading one big JSON object spent half of load_index() unescaping its strings."""
    enc = encode_names_compact(index)
    head = json.dumps({"format": FORMAT, "versions": index["versions"]}, sort_keys=True, separators=(",", ":"))
    raw = SECTION.join([head, enc["sigs"], enc["names"], enc["classes"]]).encode()
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(raw)
    return buf.getvalue()


def sha256_file(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download(cache: Path, offline: bool = False) -> dict[str, Path]:
    """label -> wheel in `cache`, downloading what is missing (unless `offline`)."""
    cache.mkdir(parents=True, exist_ok=True)
    found = {}
    for label, req, py, plat in RELEASES:
        dist, ver = req.split("==")
        stem = dist.replace("-", "_")
        # the x86_64 wheels (MindSpore also uploads aarch64 builds tagged "none-any")
        pattern = f"{stem}-{ver}-*-{plat}.whl"
        hits = sorted(cache.glob(pattern))
        if not hits and offline:
            continue
        if not hits:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                   "--python-version", py, "--platform", plat, req, "-d", str(cache)]
            if "dev" in ver:
                cmd.insert(4, "--pre")
            print("+", " ".join(cmd), file=sys.stderr)
            r = subprocess.run(cmd)
            hits = sorted(cache.glob(pattern))
            if r.returncode or not hits:
                print(f"!! {req}: not served", file=sys.stderr)
                continue
        found[label] = hits[0]
    return found


def installed_version(python: str) -> str | None:
    code = ("import importlib.metadata as m\n"
            "for d in ('mindspore','mindspore-gpu','mindspore-ascend','mindspore-dev'):\n"
            "    try: print(m.version(d)); break\n"
            "    except Exception: pass\n")
    try:
        p = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60)
    except OSError:
        return None
    return p.stdout.strip() or None


SLICE_MODULES = ["mindspore.nn", "mindspore.train", "mindspore.dataset.vision", "mindspore.amp",
                 "mindspore.common.initializer"]


def build(cache: Path, introspect_python: str | None, verbose=True, offline=False):
    wheels = download(cache, offline)
    labels = [r[0] for r in RELEASES if r[0] in wheels]
    asm = Assembler(labels)
    manifest = {"format": FORMAT, "builder": "tools/build_api_index.py", "versions": labels,
                "not_served": NOT_SERVED, "served_not_indexed": SERVED_NOT_INDEXED,
                "wheels": {}, "introspection": None,
                "root_modules": ROOT_MODULES, "recursive_roots": RECURSIVE_ROOTS,
                "static_slices": {}}
    inst = installed_version(introspect_python) if introspect_python else None
    for i, label in enumerate(labels):
        w = wheels[label]
        if verbose:
            print(f"[{label}] reading {w.name}", file=sys.stderr)
        src = ZipSource(w)
        ver = extract_version(src)
        manifest["wheels"][label] = {
            "file": w.name, "sha256": sha256_file(w),
            "python_modules": len(src.modules), "extension_modules": len(src.ext),
            "covered_modules": len(ver["modules"]),
            "read": "static ast of the wheel's .py files",
        }
        if label == labels[-1]:
            for m in SLICE_MODULES:
                manifest["static_slices"][m] = slice_digest(ver, m)
        if introspect_python and inst == label:
            intro = introspect(introspect_python, sorted(ver["modules"]), open_ext_classes(ver))
            if intro:
                merge_introspection(ver, intro)
                manifest["introspection"] = {"version": label, "mindspore_version": intro["version"],
                                             "modules": len([m for m in intro["modules"].values() if m]),
                                             "classes": len(intro["classes"])}
                manifest["wheels"][label]["read"] += " + dir()/inspect.signature of the installed wheel"
        asm.add_version(i, ver)
    index = asm.build()
    data = serialize(index)
    manifest["index_file"] = INDEX_FILE.name
    manifest["index_sha256"] = hashlib.sha256(data).hexdigest()
    manifest["index_bytes"] = len(data)
    manifest["names"] = len(index["names"])
    manifest["class_entries"] = len(index["classes"])
    manifest["distinct_signatures"] = len(index["sigs"])
    mtext = json.dumps(manifest, sort_keys=True, indent=1) + "\n"
    return data, mtext


def decode(data: bytes) -> dict:
    """The shipped gzip file -> {"versions", "sigs": [json text], "names"/"classes": {key: entry}}."""
    head, sigs, names, classes = gzip.decompress(data).decode().split(SECTION)
    raw = {"names": names, "classes": classes}
    out = {"versions": json.loads(head)["versions"], "sigs": sigs.split("\n")}
    for t in ("names", "classes"):
        out[t] = {}
        for line in raw[t].split("\n") if raw[t] else ():
            k, _, v = line.partition("\t")
            out[t][k] = json.loads(v)
    return out


def project(index: dict, label: str) -> dict:
    """What a decoded index holds for one version: {table: {key: {field: [values]}}} (flags
    as 1), signatures as their JSON text: independent of the other versions in the file."""
    bit = 1 << index["versions"].index(label)
    out = {}
    for t in ("names", "classes"):
        rows = {}
        for key, ent in index[t].items():
            row = {}
            for field, val in ent.items():
                if field == "m":
                    continue
                if field in ("cov", "open", "closed", "p"):
                    if val & bit:
                        row[field] = 1
                    continue
                if field == "k" and isinstance(val, str):
                    if ent.get("m", 0) & bit:
                        row["k"] = [val]
                    continue
                # every value of the version, in file order (a path can be bound twice in one
                # version, e.g. a submodule file and a name of its package: the loader takes the first)
                vals = [index["sigs"][v] if field == "s" else v for mask, v in val if mask & bit]
                if vals:
                    row[field] = vals
            if row:
                rows[key] = row
        out[t] = rows
    return out


def check_partial(data: bytes, mtext: str) -> tuple[bool, list[str]]:
    """Compare a build from the wheels at hand with the shipped data, version by version."""
    new, old = decode(data), decode(INDEX_FILE.read_bytes())
    new_man, old_man = json.loads(mtext), json.loads(MANIFEST_FILE.read_text())
    lines, ok = [], True
    for label in old["versions"]:
        if label not in new["versions"]:
            lines.append(f"{label}: wheel not at hand, not compared")
            continue
        same = project(new, label) == project(old, label) and \
            new_man["wheels"][label] == old_man["wheels"].get(label)
        ok &= same
        lines.append(f"{label}: {'identical' if same else 'DIFFERENT'}")
    extra = [v for v in new["versions"] if v not in old["versions"]]
    if extra:
        ok = False
        lines.append(f"not in the shipped data: {', '.join(extra)}")
    return ok, lines


def validate(cache: Path, label: str, python: str) -> dict:
    """Compare the static reading of one wheel with dir() in an interpreter that has that
    release installed (a developer check: it does not change the shipped data)."""
    wheels = download(cache)
    src = ZipSource(wheels[label])
    ver = extract_version(src)
    intro = introspect(python, sorted(ver["modules"]), [])
    if intro is None:
        raise SystemExit(f"introspection with {python} failed")
    report = {"version": label, "runtime_version": intro["version"], "modules": {}, "runtime_only": 0,
              "static_only": 0}
    for mod, md in sorted(ver["modules"].items()):
        rt = intro["modules"].get(mod)
        if rt is None:
            report["modules"][mod] = "not importable"
            continue
        st = md["members"]
        ro = sorted(set(rt) - set(st))
        so = sorted(n for n in set(st) - set(rt) if st[n]["kind"] != "module")
        sm = []
        for n in sorted(set(rt) & set(st)):
            a, b = st[n]["sig"], rt[n]["sig"]
            if a is not None and b is not None and [p[:2] for p in a] != [p[:2] for p in b]:
                sm.append(n)
        report["signature_mismatches"] = report.get("signature_mismatches", 0) + len(sm)
        report["signatures_compared"] = report.get("signatures_compared", 0) + sum(
            1 for n in set(rt) & set(st) if st[n]["sig"] is not None and rt[n]["sig"] is not None)
        if ro or so or sm:
            report["modules"][mod] = {"runtime_only": ro, "static_only": so, "dynamic": md["dynamic"],
                                      "signature_mismatches": sm}
        if not md["dynamic"]:
            report["runtime_only"] += len(ro)
        report["static_only"] += len(so)
    return report


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--introspect-python", default=sys.executable)
    ap.add_argument("--no-introspect", action="store_true")
    ap.add_argument("--check", action="store_true", help="rebuild and compare with the shipped files")
    ap.add_argument("--offline", action="store_true",
                    help="use only the wheels already in --cache (with --check: compare those versions)")
    ap.add_argument("--validate", metavar="VERSION=PYTHON",
                    help="compare the static reading of VERSION with dir() under PYTHON (no data written)")
    args = ap.parse_args(argv)
    if args.validate:
        label, python = args.validate.split("=", 1)
        print(json.dumps(validate(args.cache, label, python), indent=1, sort_keys=True))
        return 0
    py = None if args.no_introspect else args.introspect_python
    data, mtext = build(args.cache, py, offline=args.offline)
    if args.check:
        if json.loads(mtext)["versions"] == [r[0] for r in RELEASES]:  # every wheel: byte for byte
            ok = INDEX_FILE.read_bytes() == data and MANIFEST_FILE.read_text() == mtext
            print("identical" if ok else "DIFFERENT")
        else:
            ok, lines = check_partial(data, mtext)
            print("\n".join(lines))
            print(("identical" if ok else "DIFFERENT") + " for the versions whose wheels are at hand")
        return 0 if ok else 1
    if args.offline and json.loads(mtext)["versions"] != [r[0] for r in RELEASES]:
        print("--offline without every wheel: nothing written (use --check)", file=sys.stderr)
        return 1
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    INDEX_FILE.write_bytes(data)
    MANIFEST_FILE.write_text(mtext)
    print(f"wrote {INDEX_FILE} ({len(data)} bytes) and {MANIFEST_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

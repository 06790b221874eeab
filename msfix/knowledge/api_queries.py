"""Queries the API rules (MS101-MS108) share, built on the public ApiIndex methods.

Nothing here imports MindSpore; everything reads the shipped API index and the small
tables next to it (`api_renames.json`, `enum_values.json`).
"""
from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Iterator, List, Optional, Tuple

import libcst as cst

from msfix.analysis.walk import children as _children
from msfix.knowledge.api import ApiIndex, Signature, load_index, load_torch_table


@functools.lru_cache(maxsize=None)
def data(name: str) -> dict:
    with resources.files("msfix.knowledge").joinpath("data", name).open(encoding="utf-8") as fh:
        return json.load(fh)


def target(ctx) -> Tuple[ApiIndex, str]:
    idx = load_index()
    return idx, idx.resolve_version(ctx.target_version)


def short(version: str) -> str:
    """'2.10.0' -> '2.10'; dev snapshots keep their label."""
    if "dev" in version:
        return version
    parts = version.split(".")
    while len(parts) > 2 and parts[-1] == "0":
        parts.pop()
    return ".".join(parts)


def when_text(idx: ApiIndex, qualname: str, version: str) -> str:
    """'removed in 2.6.0.dev20250323 (last in 2.5.0.dev20250202)' / 'added in 2.0'."""
    vs = idx.versions_of(qualname)
    if not vs:
        return ""
    order = list(idx.versions)
    t = order.index(version)
    before = [v for v in vs if order.index(v) < t]
    after = [v for v in vs if order.index(v) > t]
    if before:
        last = before[-1]
        gone = order[order.index(last) + 1]
        return f"removed in {short(gone)} (last in {short(last)})"
    if after:
        return f"added in {short(after[0])}"
    return ""


# --------------------------------------------------------------------------- callees
def callee(m, site, idx: ApiIndex, version: str) -> Optional[str]:
    """The MindSpore qualified name of a call's callee that the index knows as a class or
    a function in `version` (the raw path first, then the canonical one), or None."""
    cands = []
    if site.receiver_type is None:
        raw = m.resolve(site.node.func, site.scope, site.order)
        if raw:
            cands.append(raw)
    if site.qualname:
        cands.append(site.qualname)
    for q in cands:
        if not q.startswith("mindspore.") and q != "mindspore":
            continue
        if site.receiver_type is None and "." in q and idx.kind(q.rsplit(".", 1)[0], version) == "class":
            # `Tensor.asnumpy(x)`, `nn.Cell.__init__(self)`: a method reached through its
            # class takes the instance explicitly; the index drops `self` (and cannot tell
            # static methods apart), so the binding is not known
            return None
        if idx.kind(q, version) in ("class", "function"):
            return q
    return None


def canonical_user_name(idx: ApiIndex, q: str, version: str) -> str:
    """A short public name for messages and the torch table (nn.layer.basic.Dense -> nn.Dense)."""
    from msfix.knowledge import facts

    c = facts.canonical(q)
    if c and idx.kind(c, version) is not None:
        return c
    return q


def is_primitive_class(idx: ApiIndex, q: str, version: str) -> bool:
    return idx.kind(q, version) == "class" and idx.exists(f"{q}.add_prim_attr", version) is True \
        and idx.exists(f"{q}.construct", version) is not True


def var_keyword_accepts(q: str) -> Optional[List[str]]:
    table = load_torch_table().get("var_keyword_accepts", {})
    v = table.get(q)
    return list(v) if v is not None else None


def checkable_signature(idx: ApiIndex, q: str, version: str) -> Tuple[Optional[Signature], Optional[set]]:
    """(signature, extra accepted keywords) when every keyword the callee takes is known:
    no signature, or **kwargs not checked by a known table -> (None, None)."""
    sig = idx.signature(q, version)
    if sig is None:
        return None, None
    extra: set = set()
    if any(p.kind == "VAR_KEYWORD" for p in sig.params):
        acc = var_keyword_accepts(canonical_user_name(idx, q, version))
        if acc is None:
            acc = var_keyword_accepts(q)
        if acc is None:
            return None, None
        extra = set(acc)
    return sig, extra


def keyword_params(sig: Signature) -> set:
    return {p.name for p in sig.params if p.kind in ("POSITIONAL_OR_KEYWORD", "KEYWORD_ONLY")}


def has_expansion(call: cst.Call) -> bool:
    return any(a.star for a in call.args)


# --------------------------------------------------------------------------- guards
_GUARD_EXC = {"ImportError", "ModuleNotFoundError", "AttributeError", "Exception", "BaseException",
              "TypeError", "NameError"}


def _handler_guards(h: cst.ExceptHandler) -> bool:
    if h.type is None:
        return True
    names = []
    t = h.type
    elts = t.elements if isinstance(t, cst.Tuple) else [cst.Element(t)]
    for e in elts:
        v = e.value
        if isinstance(v, cst.Name):
            names.append(v.value)
        elif isinstance(v, cst.Attribute):
            names.append(v.attr.value)
    return any(n in _GUARD_EXC for n in names)


def _test_is_version_check(m, test: cst.BaseExpression) -> bool:
    code = m.module.code_for_node(test)
    return any(w in code for w in ("version", "hasattr", "getattr", "VERSION", "is_version"))


def _path_to(root: cst.CSTNode, target: cst.CSTNode) -> Optional[List[cst.CSTNode]]:
    stack = [(root, [root])]
    while stack:
        node, path = stack.pop()
        if node is target:
            return path
        for ch in _children(node):
            stack.append((ch, path + [ch]))
    return None


def guarded(m, node: cst.CSTNode, top: int) -> bool:
    """True when `node` is in a try block that catches import/attribute errors, in such a
    handler, or under an `if` testing a version or hasattr: code written for several
    MindSpore releases. Walks only the top-level statement holding the node."""
    body = m.module.body
    if not (0 <= top < len(body)):
        return False
    path = _path_to(body[top], node)
    if not path:
        return False
    for i, anc in enumerate(path):
        if isinstance(anc, cst.Try):
            if any(_handler_guards(h) for h in anc.handlers):
                return True
        elif isinstance(anc, (cst.If, cst.IfExp)):
            if _test_is_version_check(m, anc.test):
                return True
        elif isinstance(anc, cst.BooleanOperation):
            if _test_is_version_check(m, anc.left):
                return True
    return False


# --------------------------------------------------------------------------- names
def name_uses(m, name: str, scope) -> Iterator[Tuple[cst.Name, int]]:
    """Every `cst.Name` load of `name` in the module (with its top-level index), when the
    name is bound only once in the whole module (else nothing: renaming would be a guess).
    Walks the module: call it only for a reported name."""
    body = m.module.body
    for i, stmt in enumerate(body):
        for n in _names_in(stmt, name):
            yield n, i


def _names_in(root: cst.CSTNode, name: str) -> Iterator[cst.Name]:
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name) and node.value == name:
            yield node
            continue
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            continue
        if isinstance(node, cst.Attribute):
            stack.append(node.value)  # `x.name` is not a use of `name`
            continue
        if isinstance(node, cst.Arg):
            stack.append(node.value)  # keyword names are not uses
            continue
        stack.extend(_children(node))


def bound_once(m, name: str) -> bool:
    """`name` is bound exactly once in the script, and not in any function or class."""
    n = len(m.module_scope.bindings.get(name, ()))
    if n != 1:
        return False
    for fi in m.functions.values():
        if name in fi.scope.bindings:
            return False
    return name not in m.classes


def dotted_root(node: cst.BaseExpression) -> Optional[cst.Name]:
    while isinstance(node, cst.Attribute):
        node = node.value
    return node if isinstance(node, cst.Name) else None


# --------------------------------------------------------------------------- binding
class Binding:
    """How a call's arguments bind to a signature (only for calls without * / ** expansion)."""

    def __init__(self, sig: Signature, extra: set, call: cst.Call):
        self.sig = sig
        pos_params = [p for p in sig.params if p.kind in ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD")]
        self.npos = sum(1 for a in call.args if a.keyword is None and not a.star)
        kws = [(a, a.keyword) for a in call.args if a.keyword is not None]
        names = keyword_params(sig) | extra
        self.has_var_kw = any(p.kind == "VAR_KEYWORD" for p in sig.params)
        self.has_var_pos = any(p.kind == "VAR_POSITIONAL" for p in sig.params)
        self.unknown = [a for a, kw in kws if kw.value not in names]
        given = {kw.value for _, kw in kws}
        self.max_positional = None if self.has_var_pos else len(pos_params)
        self.too_many = self.max_positional is not None and self.npos > self.max_positional
        bound_pos = {p.name for p in pos_params[: self.npos]}
        self.missing = [p.name for p in sig.params
                        if not p.has_default and p.kind not in ("VAR_POSITIONAL", "VAR_KEYWORD")
                        and p.name not in bound_pos and p.name not in given]
        self.duplicate = [a for a, kw in kws if kw.value in bound_pos]


def bind_call(idx: ApiIndex, q: str, version: str, call: cst.Call) -> Optional[Binding]:
    if has_expansion(call):
        return None
    sig, extra = checkable_signature(idx, q, version)
    if sig is None or extra is None:  # both None or neither
        return None
    return Binding(sig, extra, call)


def display(q: str) -> str:
    """mindspore.nn.Dense -> nn.Dense, mindspore.set_context -> ms.set_context (for messages)."""
    if q.startswith("mindspore."):
        rest = q[len("mindspore."):]
        return rest if "." in rest else "ms." + rest
    return q


def present_since(idx: ApiIndex, qualname: str, version: str) -> Optional[str]:
    """The first indexed release from which `qualname` exists in every release up to
    `version`; None when `version` does not have it."""
    order = list(idx.versions)
    t = order.index(version)
    if idx.exists(qualname, version) is not True:
        return None
    i = t
    while i > 0 and idx.exists(qualname, order[i - 1]) is True:
        i -= 1
    return order[i]

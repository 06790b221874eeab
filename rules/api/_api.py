"""Helpers shared by the API rules (MS1xx); not a rule module: the MindSpore paths a
script names, the first missing part of a path, the rename tables, and the one
implementation of "this module or name moved" (the fixes MS103 and MS104 offer)."""

import libcst as cst

from msfix.diagnostics import Fix
from msfix.knowledge.api_queries import bound_once, data, name_uses
from msfix.knowledge.moves import target_spelling

def api_targets(m):
    """(qualname, node, top, group) for every MindSpore path the script names: dotted
    uses, `import a.b.c` and `from a.b import c`. Paths of one import statement share a
    group, so a missing module is reported once per statement."""
    for ref in m.refs:
        yield ref.qualname, ref.node, ref.top, id(ref.node)
    for rec in m.imports:
        group = id(rec.node)
        if rec.module is not None and (rec.module == "mindspore" or rec.module.startswith("mindspore.")):
            yield rec.module, rec.node.module, rec.top, group
            if not rec.star:
                for name, _asname, alias in rec.names:
                    yield f"{rec.module}.{name}", alias.name, rec.top, group
        elif rec.module is None and not rec.star:
            for name, _asname, alias in rec.names:
                if name == "mindspore" or name.startswith("mindspore."):
                    yield name, alias.name, rec.top, id(alias)


def first_missing(idx, qualname: str, version: str):
    """The shortest prefix of `qualname` that does not exist in `version`, when its
    parent is a module the index knows; None if everything exists or is unknown."""
    parts = qualname.split(".")
    if parts[0] != "mindspore":
        return None
    for i in range(2, len(parts) + 1):
        parent = ".".join(parts[: i - 1])
        if idx.kind(parent, version) != "module":
            return None  # attributes of classes and values are not checked here
        prefix = ".".join(parts[:i])
        e = idx.exists(prefix, version)
        if e is None:
            return None
        if e is False:
            return prefix
    return None


def tables():
    d = data("api_renames.json")
    return d["modules"], d["names"], d["hints"]


class Moves:
    """Fixes that point a use or an import at where a module or name lives now."""

    @staticmethod
    def _import_of(m, node):
        for rec in m.imports:
            if isinstance(rec.node, cst.ImportFrom) and rec.node.module is node:
                return rec, None
            for _n, _a, alias in rec.names:
                if alias.name is node:
                    return rec, alias
        return None, None

    @staticmethod
    def _through_missing_import(m, ref, idx, version) -> bool:
        root = ref.node
        while isinstance(root, cst.Attribute):
            root = root.value
        if not isinstance(root, cst.Name):
            return False
        b = m.lookup(root.value, ref.scope)
        if b is None or b.kind != "import" or not b.qualname:
            return False
        return first_missing(idx, b.qualname, version) is not None

    def _module_fix(self, ctx, idx, version, old, new, info, rec, alias, ref, top):
        m = ctx.model
        if idx.exists(new, version) is not True:
            return None
        review = info.get("review_names", {})

        def make(names, msg, *edits):
            bad = [n for n in names if n in review]
            if any(idx.exists(f"{new}.{n}", version) is not True for n in names):
                return None
            if bad:
                return Fix.unsafe(msg + ": " + review[bad[0]], *edits)
            return Fix.safe(msg, *edits)

        if rec is None:
            # a dotted use: mindspore.dataset.vision.c_transforms.Resize -> drop `.c_transforms`
            if ref is None or new != old.rsplit(".", 1)[0]:
                return None
            node = ref.node
            sub = node
            while isinstance(sub, cst.Attribute):
                if m.resolve(sub, ref.scope, None) == old:
                    break
                sub = sub.value
            if not isinstance(sub, cst.Attribute):
                return None
            q = ref.qualname
            attr = q[len(old) + 1:].split(".")[0] if q.startswith(old + ".") else ""
            return make([attr] if attr else [], f"Use `{new}`",
                        ctx.replace(sub, m.module.code_for_node(sub.value), top))
        if isinstance(rec.node, cst.ImportFrom) and alias is None:
            # from OLD import a, b
            if rec.star:
                return None
            return make([n for n, _, _ in rec.names], f"Import from `{new}`", ctx.replace(rec.node.module, new, top))
        if isinstance(rec.node, cst.Import):
            name, asname, _ = next(t for t in rec.names if t[2] is alias)
            if asname is None:
                return make([], f"Import `{new}`", ctx.replace(alias.name, new, top))
            attrs = {a for _, _, a in m.uses_through(asname, old)}
            return make(sorted(attrs), f"Import `{new}` as `{asname}`", ctx.replace(alias.name, new, top))
        # from PARENT import LEAF [as X]
        if len(rec.names) != 1 or "." not in new:
            return None
        name, asname, _ = rec.names[0]
        local = asname or name
        attrs = {a for _, _, a in m.uses_through(local, old)}
        new_parent, new_leaf = new.rsplit(".", 1)
        text = f"from {new_parent} import {new_leaf}" + (f" as {local}" if local != new_leaf else "")
        return make(sorted(attrs), f"Import `{new}` as `{local}`", ctx.replace(rec.node, text, top))

    def _name_fix(self, ctx, idx, version, old, new, info, rec, alias, ref, top):
        m = ctx.model
        if idx.exists(new, version) is not True:
            return None
        new_parent, new_leaf = new.rsplit(".", 1)
        # calls that need review
        review = None
        rk = set(info.get("review_keywords", ()))
        maxp = info.get("max_positional")
        for site in m.calls:
            if m.resolve(site.node.func, site.scope, site.order) != old:
                continue
            kws = {a.keyword.value for a in site.node.args if a.keyword is not None}
            npos = sum(1 for a in site.node.args if a.keyword is None)
            if kws & rk or (maxp is not None and npos > maxp) or site.has_star_args:
                review = info.get("review_note", "the call's arguments differ")
                break

        def make(msg, *edits):
            return Fix.unsafe(msg + f" ({review})", *edits) if review else Fix.safe(msg, *edits)

        if rec is None:
            # a dotted use: ms.ms_function -> ms.jit; mindspore.common.api.ms_function -> mindspore.jit
            if ref is None:
                return None
            node, scope = ref.node, ref.scope
            root = node
            while isinstance(root, cst.Attribute):
                root = root.value
            if not isinstance(root, cst.Name):
                return None
            root_q = m.resolve(root, scope, None) or ""
            sub = node
            while isinstance(sub, cst.Attribute) and m.resolve(sub, scope, None) != old:
                sub = sub.value
            if not isinstance(sub, cst.Attribute):
                return None
            if m.resolve(sub.value, scope, None) == new_parent:
                return make(f"Use `{new_leaf}`", ctx.replace(sub.attr, new_leaf, top))
            if root_q and new.startswith(root_q + "."):
                return make(f"Use `{new}`", ctx.replace(sub, root.value + new[len(root_q):], top))
            return None
        if not isinstance(rec.node, cst.ImportFrom) or alias is None:
            return None
        name, asname, _ = next(t for t in rec.names if t[2] is alias)
        edits = []
        if asname is None:
            if not bound_once(m, name) or new_leaf in m.module_scope.bindings:
                return None
            for use, i in name_uses(m, name, m.module_scope):
                edits.append(ctx.replace(use, new_leaf, i))
        if rec.module == new_parent:
            edits.append(ctx.replace(alias.name, new_leaf, top))
            return make(f"Import `{new_leaf}`", *edits)
        if len(rec.names) != 1:
            return None
        text = f"from {new_parent} import {new_leaf}" + (f" as {asname}" if asname else "")
        edits.append(ctx.replace(rec.node, text, top))
        return make(f"Import `{new}`", *edits)

    def _moved_fix(self, ctx, idx, version, old, sp, rec, alias, ref, top):
        """Rewrite a name the target has under another module (`vision.RandomCrop` at 1.7
        -> `vision.c_transforms.RandomCrop`): the dotted use, or the from-import."""
        m = ctx.model
        new = sp.qualname
        old_parent = old.rsplit(".", 1)[0]
        new_parent, leaf = new.rsplit(".", 1)

        def make(msg, *edits):
            return Fix.safe(msg, *edits) if sp.safe else Fix.unsafe(f"{msg} ({sp.note})", *edits)

        if rec is None:
            if ref is None:
                return None
            scope = ref.scope
            sub = ref.node
            while isinstance(sub, cst.Attribute) and m.resolve(sub, scope, None) != old:
                sub = sub.value
            if not isinstance(sub, cst.Attribute) or sub.attr.value != leaf:
                return None
            base = m.resolve(sub.value, scope, None)
            if base == old_parent and new_parent.startswith(old_parent + "."):
                text = m.module.code_for_node(sub.value) + new_parent[len(old_parent):] + "." + leaf
                load = self._load_submodule(ctx, new_parent, base)
                if load is False:
                    return None
                return make(f"Use `{new}`", ctx.replace(sub, text, top), *([load] if load else []))
            root = sub
            while isinstance(root, cst.Attribute):
                root = root.value
            root_q = m.resolve(root, scope, None) if isinstance(root, cst.Name) else None
            if root_q and (new == root_q or new.startswith(root_q + ".")):
                load = self._load_submodule(ctx, new_parent, root_q)
                if load is False:
                    return None
                return make(f"Use `{new}`", ctx.replace(sub, root.value + new[len(root_q):], top),
                            *([load] if load else []))
            return None
        if not isinstance(rec.node, cst.ImportFrom) or alias is None or rec.star:
            return None
        if all(self._moved_parent(idx, version, f"{rec.module}.{n}") == new_parent for n, _, _ in rec.names):
            return make(f"Import from `{new_parent}`", ctx.replace(rec.node.module, new_parent, top))
        if rec.scope is not m.module_scope:
            return None
        name, asname, _ = next(t for t in rec.names if t[2] is alias)
        kept = [a for a in rec.node.names if a is not alias]
        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        imp = ctx.imports_edit([f"from {new_parent} import {leaf}" + (f" as {asname}" if asname else "")])
        if imp is None:
            return None
        return make(f"Import `{leaf}` from `{new_parent}`",
                    ctx.replace(rec.node, rec.node.with_changes(names=kept), top), imp)

    @staticmethod
    def _moved_parent(idx, version, q):
        """The module `q` moves to at `version` (itself when it exists there), or None."""
        if idx.exists(q, version) is True:
            return q.rsplit(".", 1)[0]
        sp = target_spelling(idx, q, version)
        return sp.qualname.rsplit(".", 1)[0] if sp is not None else None

    @staticmethod
    def _load_submodule(ctx, module, reached):
        """A dotted use that now goes through a submodule the script does not import
        (`vision.c_transforms.X` after `import mindspore.dataset.vision as vision`)
        needs `import <module>` so that the attribute is there: the edit adding it,
        None when nothing is needed, False when it cannot be added (the name
        `mindspore` is bound to something else)."""
        if module == reached:
            return None
        m = ctx.model
        for rec in m.imports:
            if rec.module is None and any(n == module or n.startswith(module + ".") for n, _, _ in rec.names):
                return None
            if rec.module is not None and (rec.module == module or rec.module.startswith(module + ".")):
                return None
        root = module.split(".")[0]
        bound = m.module_scope.bindings.get(root, [])
        if any(b.kind != "import" or not (b.qualname or "").startswith(root) for b in bound):
            return False
        edit = ctx.imports_edit([f"import {module}"])
        return edit if edit is not None else False

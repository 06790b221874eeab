"""The one implementation of "this module or name moved": fixes that point a use or an
import at where a module or name lives now (MS102's old module paths, MS103's removed
modules and names, MS104's deprecated ones). Each function takes the RuleContext and
reads the API index through `ctx.api` (bound to the target version)."""

import libcst as cst

from msfix.diagnostics import Edit, Fix


def import_of(ctx, node):
    """(import record, alias) of the import whose module or alias name is `node`;
    (None, None) when `node` is not part of an import."""
    for rec in ctx.model.imports:
        if isinstance(rec.node, cst.ImportFrom) and rec.node.module is node:
            return rec, None
        for _n, _a, alias in rec.names:
            if alias.name is node:
                return rec, alias
    return None, None


def through_missing_import(ctx, ref) -> bool:
    """The dotted use `ref` starts at a name bound by an import of a path the target
    version does not have (reported at the import)."""
    root = ref.node
    while isinstance(root, cst.Attribute):
        root = root.value
    if not isinstance(root, cst.Name):
        return False
    b = ctx.model.lookup(root.value, ref.scope)
    if b is None or b.kind != "import" or not b.qualname:
        return False
    return ctx.api.first_missing(b.qualname) is not None


def module_fix(ctx, old, new, info, rec, alias, ref, top):
    """Point a use or an import of the module `old` at `new` (same names there, checked in
    the index; names listed in `info["review_names"]` make the fix unsafe)."""
    m, api = ctx.model, ctx.api
    if api.exists(new) is not True:
        return None
    review = info.get("review_names", {})

    def make(names, msg, *edits):
        bad = [n for n in names if n in review]
        if any(api.exists(f"{new}.{n}") is not True for n in names):
            return None
        if bad:
            return Fix.unsafe(msg + ": " + review[bad[0]], *edits)
        return Fix.safe(msg, *edits)

    if rec is None:
        # a dotted use: mindspore.dataset.vision.c_transforms.Resize -> drop `.c_transforms`;
        # ms.train.callback.ModelCheckpoint -> ms.train.ModelCheckpoint
        if ref is None:
            return None
        sub = ref.node
        while isinstance(sub, cst.Attribute):
            if m.resolve(sub, ref.scope, None) == old:
                break
            sub = sub.value
        if not isinstance(sub, cst.Attribute):
            return None
        if new == old.rsplit(".", 1)[0]:
            text = m.module.code_for_node(sub.value)
        else:
            root = sub
            while isinstance(root, cst.Attribute):
                root = root.value
            root_q = m.resolve(root, ref.scope, None) if isinstance(root, cst.Name) else None
            if not root_q or not (new == root_q or new.startswith(root_q + ".")):
                return None
            text = root.value + new[len(root_q):]
        q = ref.qualname
        attr = q[len(old) + 1:].split(".")[0] if q.startswith(old + ".") else ""
        return make([attr] if attr else [], f"Use `{new}`", ctx.replace(sub, text, top))
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


def rebind_fix(ctx, rec, alias, new, uses):
    """`from PARENT import OLD_LEAF` (a module): point its uses at the module `new`
    (imported before the first use when the script does not bind it) and drop the import."""
    local = [n for n, bs in rec.scope.bindings.items()
             if rec.scope is not ctx.model.module_scope and bs[-1].kind == "import" and bs[-1].qualname == new]
    if local:  # `import mindspore` in the same function
        new_name, new_import = local[0], None
    else:
        first_use = min((ref.order for ref, _, _ in uses), default=None)
        new_name, new_import = ctx.ensure_module(new, "ms" if new == "mindspore" else new.rsplit(".", 1)[-1],
                                                 before=first_use)
    edits = [ctx.replace(name_node, new_name, ref.top) for ref, name_node, _ in uses]
    node = rec.node
    if len(rec.names) == 1:
        stmt = rec.statement
        if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
            start, end = ctx.statement_lines(stmt, rec.top)
            indent = ctx.statement_indent(stmt, rec.top)
            replacement = "" if new_import is None or not uses else \
                indent + new_import + ctx.model.module.default_newline
            edits.append(Edit(start, end, replacement))
            return Fix.safe(f"Use `{new}` directly", *edits)
        return None
    kept = [a for a in node.names if a is not alias]
    kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    edits.append(ctx.replace(node, node.with_changes(names=kept), rec.top))
    imp = ctx.imports_edit([new_import])
    if imp is not None:
        edits.append(imp)
    return Fix.safe(f"Use `{new}` directly", *edits)


def name_fix(ctx, old, new, info, rec, alias, ref, top):
    """Point a use or an import of the name `old` at `new` (`ms_function` -> `jit`);
    unsafe when a call passes arguments `info` says the new name treats differently."""
    m, api = ctx.model, ctx.api
    if api.exists(new) is not True:
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
        if not api.bound_once(name) or new_leaf in m.module_scope.bindings:
            return None
        for use, i in api.name_uses(name, m.module_scope):
            edits.append(ctx.replace(use, new_leaf, i))
    if rec.module == new_parent:
        edits.append(ctx.replace(alias.name, new_leaf, top))
        return make(f"Import `{new_leaf}`", *edits)
    if len(rec.names) != 1:
        return None
    text = f"from {new_parent} import {new_leaf}" + (f" as {asname}" if asname else "")
    edits.append(ctx.replace(rec.node, text, top))
    return make(f"Import `{new}`", *edits)


def moved_fix(ctx, old, sp, rec, alias, ref, top):
    """Rewrite a name the target has under another module (`vision.RandomCrop` at 1.7
    -> `vision.c_transforms.RandomCrop`; `sp`: the target's spelling): the dotted use,
    or the from-import."""
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
            load = _load_submodule(ctx, new_parent, base)
            if load is False:
                return None
            return make(f"Use `{new}`", ctx.replace(sub, text, top), *([load] if load else []))
        root = sub
        while isinstance(root, cst.Attribute):
            root = root.value
        root_q = m.resolve(root, scope, None) if isinstance(root, cst.Name) else None
        if root_q and (new == root_q or new.startswith(root_q + ".")):
            load = _load_submodule(ctx, new_parent, root_q)
            if load is False:
                return None
            return make(f"Use `{new}`", ctx.replace(sub, root.value + new[len(root_q):], top),
                        *([load] if load else []))
        return None
    if not isinstance(rec.node, cst.ImportFrom) or alias is None or rec.star:
        return None
    if all(_moved_parent(ctx.api, f"{rec.module}.{n}") == new_parent for n, _, _ in rec.names):
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


def _moved_parent(api, q):
    """The module `q` moves to at the target version (its own when it exists there), or None."""
    if api.exists(q) is True:
        return q.rsplit(".", 1)[0]
    sp = api.target_spelling(q)
    return sp.qualname.rsplit(".", 1)[0] if sp is not None else None


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

"""MS103: a MindSpore name that exists in some indexed release but not in the target one."""

import libcst as cst

from msfix.diagnostics import Applicability, Fix, Severity
from msfix.knowledge.api_queries import bound_once, data, guarded, name_uses, short, target, when_text
from msfix.knowledge.moves import target_spelling
from msfix.rule import Example, Rule
from msfix.rules.ms101_unknown_mindspore_name import api_targets, first_missing


def _tables():
    d = data("api_renames.json")
    return d["modules"], d["names"], d["hints"]




class RemovedApi(Rule):
    code = "MS103"
    name = "removed-api"
    severity = Severity.ERROR
    summary = "A MindSpore name that was removed before (or added after) the target version."
    fix_applicability = Applicability.SAFE
    versions = ("every indexed release, 1.0 to 2.10: c_transforms/py_transforms removed in 2.8, "
                "ms_function/ms_class removed in 2.6, ops/nn.ResizeBilinear removed after 2.0")
    doc = """
    ## What it does
    Checks every MindSpore path the script names against msfix's API index for the
    target version (`--target-version`, default: the installed MindSpore, else the
    newest indexed release) and flags names that exist in some other indexed release
    only, saying when they were removed or added:
    - `mindspore.dataset.vision.c_transforms` / `py_transforms` and
      `mindspore.dataset.transforms.c_transforms` / `py_transforms` (deprecated in 1.8,
      last in 2.7, removed in 2.8: `ModuleNotFoundError` on 2.10);
    - `ms_function` / `ms_class` (replaced by `jit` / `jit_class` in 2.0, removed in
      2.6: `ImportError` on 2.10);
    - `ops.ResizeBilinear` / `nn.ResizeBilinear` (last in 2.0: `AttributeError`);
    - names newer than the target version (`ms.set_device` with a 2.0 target,
      `mindspore.mint` before 2.5). When the target has the same name under another
      module, the message says how the target spells it and the fix rewrites to that
      spelling: with a 1.7 target `mindspore.dataset.vision.RandomCropDecodeResize`
      is `vision.c_transforms.RandomCropDecodeResize`, `transforms.TypeCast` is
      `transforms.c_transforms.TypeCast`, `mindspore.train.ModelCheckpoint` is
      `mindspore.train.callback.ModelCheckpoint`; with 1.5, `ms.set_context` is
      `ms.context.set_context`. The candidates come from the API index: the same
      name, of the same kind, existing at the target, in a module the rename tables
      pair with the script's one (`c_transforms` and `vision`, `train.callback` and
      `train`, `context` and `mindspore`), else the same object under another path.
    Aliases (`import mindspore.nn as mnn`, `from mindspore import nn as N`,
    `ms.nn.X`) are resolved; the script's own definitions shadow MindSpore names;
    code under `try/except ImportError` or a version/`hasattr` test is left alone.

    ## Why is this bad?
    The script fails at import time (`ModuleNotFoundError`, `ImportError`) or when the
    line runs (`AttributeError`) on the target MindSpore version.

    ## Example
    ```python
    import mindspore.dataset.vision.c_transforms as CV
    from mindspore import ms_function
    ```

    Use instead:
    ```python
    import mindspore.dataset.vision as CV
    from mindspore import jit
    ```

    ## Fix safety
    Safe where the new home has the same names (checked per name in the index for the
    target version): the c_transforms/py_transforms modules become
    `mindspore.dataset.vision` / `mindspore.dataset.transforms` (also
    `from ... import Inter`), `ms_function`/`ms_class` become `jit`/`jit_class` (uses
    renamed). Unsafe when the semantics differ: `py_transforms.Normalize` (CHW input)
    versus `vision.Normalize` (`is_hwc=True` by default), and `ms_function` called with
    `input_signature`/`hash_args`/`jit_config`, which `jit` does not take.
    `ops.ResizeBilinear` has no automatic fix (`ops.interpolate` or
    `ops.ResizeBilinearV2` differ in corner alignment). A rewrite to the target's
    spelling of a moved name is safe when exactly one module of the best rank has the
    name, of the same kind and with the same parameters as the nearest release that
    has the script's spelling; otherwise it is unsafe and the message says why
    (`vision.RandomCrop` at 1.7: both `c_transforms` and `py_transforms` have it, the
    first is proposed; `vision.Normalize`: its parameters differ). A from-import
    whose names move to different modules is split.
    """
    invalid = [
        Example("import mindspore.dataset.vision.c_transforms as CV\nop = CV.Resize(32)\n", expect=(1,),
                fixed="import mindspore.dataset.vision as CV\nop = CV.Resize(32)\n"),
        Example("from mindspore.dataset.vision.c_transforms import Inter\n", expect=(1,),
                fixed="from mindspore.dataset.vision import Inter\n"),
        Example("from mindspore import ms_function\n\n@ms_function\ndef f(x):\n    return x\n", expect=(1,),
                fixed="from mindspore import jit\n\n@jit\ndef f(x):\n    return x\n"),
        Example("import mindspore.ops as ops\nresize = ops.ResizeBilinear((8, 8))\n", expect=(2,)),
    ]
    valid = [
        Example("import mindspore.dataset.vision as CV\nop = CV.Resize(32)\n"),
        Example("try:\n    from mindspore import jit\nexcept ImportError:\n    from mindspore import ms_function as jit\n"),
        Example("import mindspore.ops as ops\nclass ResizeBilinear:\n    pass\nr = ResizeBilinear()\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        idx, version = target(ctx)
        modules, names, hints = _tables()
        seen = set()
        refs = {id(r.node): r for r in m.refs}
        for qualname, node, top, group in api_targets(m):
            missing = first_missing(idx, qualname, version)
            if missing is None or not idx.versions_of(missing) or (missing, group) in seen:
                continue
            rec, alias = self._import_of(m, node)
            ref = refs.get(id(node))
            if ref is not None and self._through_missing_import(m, ref, idx, version):
                continue  # reported at the import
            if guarded(m, node, top):
                continue
            seen.add((missing, group))
            when = when_text(idx, missing, version)
            parent, leaf = missing.rsplit(".", 1)
            msg = f"`{missing}` does not exist in MindSpore {short(version)}" + (f": {when}" if when else "")
            fix = None
            if missing in modules:
                new = modules[missing]["new"]
                msg += f"; its contents live in `{new}`"
                fix = self._module_fix(ctx, idx, version, missing, new, modules[missing], rec, alias, ref, top)
            elif missing in names:
                new = names[missing]["new"]
                msg += f"; use `{new}`"
                fix = self._name_fix(ctx, idx, version, missing, new, names[missing], rec, alias, ref, top)
            elif missing in hints:
                msg += f"; {hints[missing]}"
            elif (sp := target_spelling(idx, missing, version)) is not None:
                msg += f"; MindSpore {short(version)} spells it `{sp.qualname}`"
                if sp.note:
                    msg += f" ({sp.note})"
                fix = self._moved_fix(ctx, idx, version, missing, sp, rec, alias, ref, top)
            else:
                dep = None
                for v in reversed(idx.versions_of(missing)):
                    dep = idx.deprecation(missing, v)
                    if dep is not None:
                        break
                if dep is not None and dep.replacement:
                    msg += f"; it was deprecated in favour of `{dep.replacement}`"
            ctx.report(node, msg, fix=fix, top=top)

    # ------------------------------------------------------------------ helpers
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

"""MS102: an old module path that still imports, with its home in the target version."""

import functools
import json
from importlib import resources

import libcst as cst

from msfix.diagnostics import Applicability, Fix, Severity
from msfix.knowledge.api import load_index
from msfix.knowledge.api_queries import short
from msfix.rule import Example, Rule


@functools.lru_cache(maxsize=None)
def deprecated_paths() -> dict:
    with resources.files("msfix.knowledge").joinpath("data", "deprecated_paths.json").open(encoding="utf-8") as fh:
        return json.load(fh)["paths"]


def _names_exist(idx, version, new, names) -> bool:
    return all(idx.exists(f"{new}.{n}", version) is True for n in names)


def _since(idx, version, new, names):
    """The first indexed release from which every name is under `new` in each release up
    to `version`, or None when one of them is not there in `version`."""
    order = list(idx.versions)
    t = order.index(version)
    first = 0
    for n in names:
        if idx.exists(f"{new}.{n}", version) is not True:
            return None
        i = t
        while i > 0 and idx.exists(f"{new}.{n}", order[i - 1]) is True:
            i -= 1
        first = max(first, i)
    return order[first]


def new_home_since(idx, version, old, names=()):
    """When the target has the new home of `old` for the names the script takes from it
    (and the path's probe names): the release it came in, else None (then the old path
    is the target's own spelling and nothing is reported)."""
    info = deprecated_paths()[old]
    new = info["new"]
    if _since(idx, version, new, info.get("probe", ())) is None:
        return None
    present = [n for n in names if idx.exists(f"{new}.{n}", version) is True]
    return _since(idx, version, new, list(info.get("probe", ())) + present)




class DeprecatedModulePath(Rule):
    code = "MS102"
    name = "deprecated-module-path"
    severity = Severity.WARNING
    summary = "An old module path (`mindspore.train.callback`, `mindspore.context`, ...) whose names the target version has in their new home."
    fix_applicability = Applicability.SAFE
    versions = ("from the release where the new home came (index): `mindspore.set_context` 1.6, "
                "`mindspore.train` callbacks 1.8, `mindspore.train` metrics 2.0, checkpoint functions 1.1")
    doc = """
    ## What it does
    Flags imports and uses of the old module paths `mindspore.train.callback`,
    `mindspore.nn.metrics`, `mindspore.train.serialization` and `mindspore.context`
    when the target version has their contents in the new homes `mindspore.train` and
    `mindspore`. Version-aware through msfix's API index: callbacks are in
    `mindspore.train` from 1.8, metrics from 2.0, `mindspore.set_context` and the mode
    constants from 1.6. With an older target (`--target-version 1.5`) the old path is
    that release's only spelling and nothing is reported; the message says from which
    release the new home has the names the script uses.

    ## Why is this bad?
    The old paths still import in 2.10, but they are the 1.x layout: MindSpore's 2.x
    documentation and examples use the new homes, old submodules are removed over time
    (`vision.c_transforms` went this way), and mixing both layouts makes a script
    harder to keep working across releases.

    ## Example
    ```python
    from mindspore.train.callback import ModelCheckpoint, LossMonitor
    from mindspore.train.serialization import load_checkpoint
    from mindspore import context
    context.set_context(mode=context.GRAPH_MODE)
    ```

    Use instead:
    ```python
    from mindspore.train import ModelCheckpoint, LossMonitor
    from mindspore import load_checkpoint
    import mindspore as ms
    ms.set_context(mode=ms.GRAPH_MODE)
    ```

    ## Fix safety
    Safe: the fix is offered only when every name the script takes from the old path
    exists under the new one in the target version (msfix's API index); there they are
    the same objects. A name the new home lacks in the target version is named in the
    message, and nothing is rewritten.
    """
    invalid = [
        Example("def info():\n    from mindspore import context\n    return context.get_context('mode')\n",
                expect=(2,),
                fixed="def info():\n    import mindspore as ms\n    return ms.get_context('mode')\n"),
        Example("def info():\n    import mindspore\n    from mindspore import context\n"
                "    return context.get_context('mode')\n",
                expect=(3,),
                fixed="def info():\n    import mindspore\n    return mindspore.get_context('mode')\n"),
        Example("from mindspore.train.callback import ModelCheckpoint, LossMonitor\n", expect=(1,),
                fixed="from mindspore.train import ModelCheckpoint, LossMonitor\n"),
        Example("from mindspore import context\ncontext.set_context(mode=context.GRAPH_MODE)\n",
                expect=(1,),
                fixed="import mindspore as ms\nms.set_context(mode=ms.GRAPH_MODE)\n"),
        Example("import mindspore.nn.metrics as metrics\nacc = metrics.Accuracy()\n", expect=(1,),
                fixed="import mindspore.train as metrics\nacc = metrics.Accuracy()\n"),
        Example("import mindspore\nmindspore.context.set_context(mode=0)\n", expect=(2,),
                fixed="import mindspore\nmindspore.set_context(mode=0)\n"),
    ]
    valid = [
        Example("from mindspore.train import ModelCheckpoint\nfrom mindspore import load_checkpoint\n"),
        Example("import mindspore as ms\nms.set_context(mode=ms.GRAPH_MODE)\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        idx = load_index()
        version = idx.resolve_version(ctx.target_version)
        paths = deprecated_paths()
        handled_roots = set()
        for rec in m.imports:
            if rec.scope is not m.module_scope and rec.module is None and not rec.names:
                continue
            if rec.module in paths and not rec.star:
                # from OLD import a, b
                new = paths[rec.module]["new"]
                names = [n for n, _, _ in rec.names]
                fix = None
                if _names_exist(idx, version, new, names):
                    fix = Fix.safe(f"Import from `{new}`", ctx.replace(rec.node.module, new, rec.top))
                self._report(ctx, idx, version, rec.node.module, rec.module, names, fix, rec.top)
                continue
            for name, asname, alias in rec.names:
                full = f"{rec.module}.{name}" if rec.module else name
                if full not in paths:
                    continue
                new = paths[full]["new"]
                local = asname or (name if rec.module else None)
                if rec.module is None and asname is None:
                    # `import OLD` binds the root package; uses are handled as refs below
                    fix = Fix.safe(f"Import `{new}`", ctx.replace(alias.name, new, rec.top)) \
                        if not m.uses_through(full.split(".")[0], full) else None
                    self._report(ctx, idx, version, alias.name, full, (), fix, rec.top)
                    continue
                handled_roots.add(local)
                uses = m.uses_through(local, full)
                attrs = {a for _, _, a in uses}
                fix = None
                if _names_exist(idx, version, new, attrs):
                    if rec.module is None:
                        # import OLD as X  ->  import NEW as X
                        fix = Fix.safe(f"Import `{new}` as `{local}`", ctx.replace(alias.name, new, rec.top))
                    else:
                        fix = self._rebind_fix(ctx, rec, alias, local, new, uses)
                self._report(ctx, idx, version, alias, full, attrs, fix, rec.top)
        # uses through a parent package: mindspore.context.set_context, ms.train.callback.X
        prefixes = tuple(p + "." for p in paths)
        for ref in m.refs:
            if not ref.qualname.startswith(prefixes) and ref.qualname not in paths:
                continue
            node = ref.node
            sub = None
            while isinstance(node, cst.Attribute):
                q = m.resolve(node, ref.scope, None)
                if q in paths:
                    sub = (node, q)
                node = node.value
            if sub is None or not isinstance(node, cst.Name) or node.value in handled_roots:
                continue
            sub_node, old = sub
            new = paths[old]["new"]
            root_q = m.resolve(node, ref.scope, None) or ""
            attr = ref.qualname[len(old) + 1:].split(".")[0]
            fix = None
            if new.startswith(root_q) and _names_exist(idx, version, new, [attr] if attr else []):
                text = node.value + new[len(root_q):]
                fix = Fix.safe(f"Use `{new}`", ctx.replace(sub_node, text, ref.top))
            self._report(ctx, idx, version, sub_node, old, [attr] if attr else [], fix, ref.top)

    def _rebind_fix(self, ctx, rec, alias, local, new, uses):
        """`from PARENT import OLD_LEAF`: point the uses at NEW and drop the import."""
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
                from msfix.diagnostics import Edit

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

    def _report(self, ctx, idx, version, node, old, names, fix, top):
        since = new_home_since(idx, version, old, names)
        if since is None:
            return
        info = deprecated_paths()[old]
        new = info["new"]
        missing = sorted(n for n in names if idx.exists(f"{new}.{n}", version) is not True)
        msg = f"`{old}` is the old path: {info['what']} are in `{new}` since {short(since)}"
        if missing:
            msg += " (" + ", ".join(f"`{n}`" for n in missing) + f" not there in {short(version)})"
        else:
            msg += f"; import from `{new}`"
        ctx.report(node, msg, fix=fix, top=top)

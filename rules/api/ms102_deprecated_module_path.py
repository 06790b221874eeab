"""MS102: an old module path that still imports, with its home in the target version."""

import libcst as cst

from msfix.context import version_key
from msfix.diagnostics import Applicability, Severity
from msfix.fixes.moves import module_fix, rebind_fix
from msfix.rule import Example, Rule


def deprecated_paths(api) -> dict:
    """{old module path: {new, what, probe}} (deprecated_paths.json)."""
    return api.table("deprecated_paths.json")["paths"]


def _names_exist(api, new, names) -> bool:
    return all(api.exists(f"{new}.{n}") is True for n in names)


def _since(api, new, names):
    """The first indexed release from which every name is under `new` in each release up
    to the target, or None when one of them is not there in the target."""
    since = [api.present_since(f"{new}.{n}") for n in names]
    if any(v is None for v in since):
        return None
    return max(since, key=version_key) if since else api.versions[0]


def new_home_since(api, old, names=()):
    """When the target has the new home of `old` for the names the script takes from it
    (and the path's probe names): the release it came in, else None (then the old path
    is the target's own spelling and nothing is reported)."""
    info = deprecated_paths(api)[old]
    new = info["new"]
    if _since(api, new, info.get("probe", ())) is None:
        return None
    present = [n for n in names if api.exists(f"{new}.{n}") is True]
    return _since(api, new, list(info.get("probe", ())) + present)


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
        m, api = ctx.model, ctx.api
        paths = deprecated_paths(api)
        handled_roots = set()
        for rec in m.imports:
            if rec.scope is not m.module_scope and rec.module is None and not rec.names:
                continue
            if rec.module in paths and not rec.star:
                # from OLD import a, b
                info = paths[rec.module]
                fix = module_fix(ctx, rec.module, info["new"], info, rec, None, None, rec.top)
                self._report(ctx, rec.node.module, rec.module, [n for n, _, _ in rec.names], fix, rec.top)
                continue
            for name, asname, alias in rec.names:
                full = f"{rec.module}.{name}" if rec.module else name
                if full not in paths:
                    continue
                info = paths[full]
                new = info["new"]
                local = asname or (name if rec.module else None)
                if rec.module is None and asname is None:
                    # `import OLD` binds the root package; uses are handled as refs below
                    fix = module_fix(ctx, full, new, info, rec, alias, None, rec.top) \
                        if not m.uses_through(full.split(".")[0], full) else None
                    self._report(ctx, alias.name, full, (), fix, rec.top)
                    continue
                handled_roots.add(local)
                uses = m.uses_through(local, full)
                attrs = {a for _, _, a in uses}
                fix = None
                if rec.module is None:
                    # import OLD as X  ->  import NEW as X
                    fix = module_fix(ctx, full, new, info, rec, alias, None, rec.top)
                elif _names_exist(api, new, attrs):
                    # from PARENT import OLD_LEAF: the uses go to NEW
                    fix = rebind_fix(ctx, rec, alias, new, uses)
                self._report(ctx, alias, full, attrs, fix, rec.top)
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
            attr = ref.qualname[len(old) + 1:].split(".")[0]
            fix = module_fix(ctx, old, paths[old]["new"], paths[old], None, None, ref, ref.top)
            self._report(ctx, sub_node, old, [attr] if attr else [], fix, ref.top)

    def _report(self, ctx, node, old, names, fix, top):
        api = ctx.api
        since = new_home_since(api, old, names)
        if since is None:
            return
        info = deprecated_paths(api)[old]
        new = info["new"]
        missing = sorted(n for n in names if api.exists(f"{new}.{n}") is not True)
        msg = f"`{old}` is the old path: {info['what']} are in `{new}` since {api.short(since)}"
        if missing:
            msg += " (" + ", ".join(f"`{n}`" for n in missing) + f" not there in {api.short_version})"
        else:
            msg += f"; import from `{new}`"
        ctx.report(node, msg, fix=fix, top=top)

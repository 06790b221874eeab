"""MS104: a deprecated MindSpore API that still works, with its drop-in replacement."""

import libcst as cst

from msfix.diagnostics import Applicability, Edit, Fix, Severity
from msfix.fixes.edits import expr_offsets, one_minus
from msfix.fixes.moves import import_of, module_fix, name_fix
from msfix.rule import Example, Rule


def replacement_of(api, q):
    """(deprecation, replacement qualname) when the index records a replacement that is a
    callable of the same kind and signature in the target version, with another name;
    else (dep, None)."""
    dep = api.deprecation(q)
    if dep is None or not dep.replacement:
        return dep, None
    kind = api.kind(q)
    if kind not in ("class", "function"):
        return dep, None
    r = dep.replacement.strip().rstrip("()")
    parent = q.rsplit(".", 1)[0]
    cands = [f"{parent}.{r}"] if "." not in r else []
    cands.append(r if r.startswith("mindspore.") else f"mindspore.{r}")
    for c in cands:
        if api.exists(c) is True and c.rsplit(".", 1)[1] != q.rsplit(".", 1)[1]:
            sig = api.signature(q)
            if sig is not None and api.kind(c) == kind and api.signature(c) == sig:
                return dep, c
            return dep, None
    return dep, None


class DeprecatedApi(Rule):
    code = "MS104"
    name = "deprecated-api"
    severity = Severity.WARNING
    summary = "A deprecated MindSpore API that still works: `ops.TensorAdd`, `set_context(device_target=)`, `nn.Dropout(keep_prob=)`."
    fix_applicability = Applicability.SAFE
    versions = ("set_context(device_target/device_id): 2.5 and later (ms.set_device); nn.Dropout(keep_prob): 2.0 "
                "and later (p); ops.TensorAdd/Gelu/Pack...: deprecated since 1.1, still present in 2.10")
    doc = """
    ## What it does
    Flags deprecated MindSpore APIs that still run in the target version, when a
    drop-in replacement exists there:
    - `set_context(device_target=..., device_id=...)`: the keys are deprecated in
      favour of `mindspore.set_device(target, id)` (added in 2.5; MindSpore 2.10 logs
      "parameter 'device_target' will be deprecated");
    - `nn.Dropout(keep_prob=k)`: deprecated since 2.0 in favour of `p` (the drop
      probability, `p = 1 - keep_prob`);
    - names the index records as deprecated with a replacement of the same signature
      in the same module: `ops.TensorAdd` -> `ops.Add`, `ops.Gelu` -> `ops.GeLU`,
      `ops.FastGelu` -> `ops.FastGeLU`, `ops.Pack` -> `ops.Stack`,
      `ops.soft_shrink` -> `ops.softshrink`, ... (deprecated since 1.1 to 2.0; 2.10
      logs a warning).
    - with an older target version, the APIs MS103 reports once they are gone, while
      they are still there but deprecated: `vision.c_transforms`/`py_transforms` and
      `transforms.c_transforms`/`py_transforms` (deprecated in 1.8, removed in 2.8),
      `ms_function`/`ms_class` (deprecated in 2.0, removed in 2.6).
    - other `set_context` keys MindSpore 2.10 warns about (`max_device_memory`,
      `save_graphs`, `enable_graph_kernel`, `deterministic`, ...; no automatic fix, the
      message names the replacement API);
    The 1.x module paths (`mindspore.context`, `mindspore.train.callback`, ...) are
    MS102's.

    ## Why is this bad?
    Deprecated APIs log warnings on every run and are removed in later releases
    (`ms_function` and the `c_transforms` modules went this way: MS103). The
    replacement works today.

    ## Example
    ```python
    context.set_context(mode=context.GRAPH_MODE, device_target="Ascend", device_id=0)
    add = ops.TensorAdd()
    drop = nn.Dropout(keep_prob=0.9)
    ```

    Use instead:
    ```python
    context.set_context(mode=context.GRAPH_MODE)
    ms.set_device("Ascend", 0)
    add = ops.Add()
    drop = nn.Dropout(p=0.1)
    ```

    ## Fix safety
    Safe: `set_device(target, id)` sets the same device as the two keys (unsafe when
    the call is inside a function or after other MindSpore calls: `set_device` raises
    RuntimeError once a kernel has run, where the context keys did not); the renamed
    operators have the same signature (checked in the index) and do the same thing;
    `p = 1 - keep_prob` (computed for a literal, written as `1 - (expr)` otherwise).
    """
    invalid = [
        Example("import mindspore.ops as ops\nadd = ops.TensorAdd()\n", expect=(2,),
                fixed="import mindspore.ops as ops\nadd = ops.Add()\n"),
        Example("import mindspore as ms\nms.set_context(device_target='CPU', device_id=0)\n", expect=(2,),
                fixed="import mindspore as ms\nms.set_device('CPU', 0)\n"),
        Example("from mindspore import nn as N\ndrop = N.Dropout(keep_prob=0.9)\n", expect=(2,),
                fixed="from mindspore import nn as N\ndrop = N.Dropout(p=0.1)\n"),
    ]
    valid = [
        Example("import mindspore.ops as ops\nadd = ops.Add()\n"),
        Example("import mindspore as ms\nms.set_device('CPU', 0)\nms.set_context(mode=ms.GRAPH_MODE)\n"),
        Example("import mindspore.nn as nn\ndrop = nn.Dropout(p=0.1)\n"),
    ]

    def check(self, ctx):
        self._device(ctx)
        self._context_keys(ctx)
        self._dropout(ctx)
        self._names(ctx)
        self._moved(ctx)

    # ---------------------------------------------------------------- set_context
    def _device(self, ctx):
        if ctx.api.exists("mindspore.set_device") is not True:
            return
        m = ctx.model
        for site in m.calls_to("mindspore.set_context"):
            call = site.node
            tgt, dev = site.keyword("device_target"), site.keyword("device_id")
            if (tgt is None and dev is None) or site.has_star_args:
                continue
            keys = [k for k, a in (("device_target", tgt), ("device_id", dev)) if a is not None]
            msg = (" and ".join(f"`{k}`" for k in keys) + f" in `set_context` {'is' if len(keys) == 1 else 'are'} "
                   f"deprecated (MindSpore {ctx.api.short_version} logs a warning): use `mindspore.set_device(")
            msg += "target, id)`" if dev is not None else "target)`"
            fix = None
            stmt = site.statement
            if tgt is not None and isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 \
                    and isinstance(stmt.body[0], cst.Expr) and stmt.body[0].value is call:
                ms_name, imp = ctx.ensure_module("mindspore", "ms")
                args = m.module.code_for_node(tgt.value)
                if dev is not None:
                    args += ", " + m.module.code_for_node(dev.value)
                new_call = f"{ms_name}.set_device({args})"
                rest = [a for a in call.args if a is not tgt and a is not dev]
                edits = []
                if not rest:
                    edits.append(ctx.replace(call, new_call, site.top))
                else:
                    rest[-1] = rest[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                    edits.append(ctx.replace(call, call.with_changes(args=rest), site.top))
                    _, end = ctx.statement_lines(stmt, site.top)
                    indent = ctx.statement_indent(stmt, site.top)
                    nl = m.module.default_newline
                    text = m.text
                    prefix = "" if end > 0 and text[end - 1] in "\r\n" else nl
                    edits.append(Edit(end, end, prefix + indent + new_call + (nl if prefix == "" else "")))
                ie = ctx.imports_edit([imp])
                if ie is not None:
                    edits.append(ie)
                if self._runs_first(m, site):
                    fix = Fix.safe(f"Use `{ms_name}.set_device({args})`", *edits)
                else:
                    fix = Fix.unsafe(f"Use `{ms_name}.set_device({args})` (set_device raises RuntimeError once a "
                                     "kernel has run: check that no MindSpore op runs before this call)", *edits)
            node = tgt if tgt is not None else dev
            ctx.report(node, msg, fix=fix, top=site.top)

    _SETUP = ("mindspore.set_context", "mindspore.get_context", "mindspore.set_seed", "mindspore.set_device",
              "mindspore.set_auto_parallel_context", "mindspore.context.set_auto_parallel_context",
              "mindspore.set_deterministic")

    def _runs_first(self, m, site) -> bool:
        """The call is at module level and no other MindSpore call runs before it there:
        `set_device` is then as good as the context keys (it raises RuntimeError once a
        kernel has run, verified on 2.10, where set_context(device_target=) did not)."""
        if site.scope is not m.module_scope:
            return False
        for c in m.calls:
            if c.order >= site.order or c.scope is not m.module_scope:
                continue
            q = c.qualname or ""
            if q.startswith("mindspore") and q not in self._SETUP:
                return False
        return True

    def _context_keys(self, ctx):
        table = ctx.api.table("api_renames.json").get("context_keys", {})
        if not table or not ctx.api.at_least(table["from"]):
            return
        for site in ctx.model.calls_to("mindspore.set_context"):
            for arg in site.node.args:
                if arg.keyword is None or arg.keyword.value not in table["keys"]:
                    continue
                use = table["keys"][arg.keyword.value]
                ctx.report(arg.keyword, f"`set_context({arg.keyword.value}=...)` is deprecated (MindSpore "
                                        f"{ctx.api.short_version} logs a warning and will remove the key): use {use}",
                           top=site.top)

    # ---------------------------------------------------------------- nn.Dropout
    def _dropout(self, ctx):
        sig = ctx.api.signature("mindspore.nn.Dropout")
        if sig is None or sig.param("p") is None:
            return
        m = ctx.model
        for site in m.calls_to("mindspore.nn.Dropout"):
            kp = site.keyword("keep_prob")
            if kp is None:
                continue
            msg = ("`nn.Dropout(keep_prob=...)` is deprecated since MindSpore 2.0 "
                   f"({ctx.api.short_version} logs a warning): use `p`, the drop probability (`p = 1 - keep_prob`)")
            fix = None
            if site.keyword("p") is None and site.positional(1) is None:
                text = one_minus(ctx, kp.value, site.top)
                if text is not None:
                    s, _ = ctx.offsets(kp.keyword, site.top)
                    _, e = expr_offsets(ctx, kp.value, site.top)
                    fix = Fix.safe(f"Use `p={text}`", Edit(s, e, f"p={text}"))
            ctx.report(kp.keyword, msg, fix=fix, top=site.top)

    # ---------------------------------------------------------------- names
    def _names(self, ctx):
        m, api = ctx.model, ctx.api
        modules, names, _hints = api.rename_tables()
        moved = set(modules) | set(names)  # _moved reports these
        seen = set()
        for ref in m.refs:
            q = ref.qualname
            if not q or id(ref.node) in seen or q in moved:
                continue
            dep, new = replacement_of(api, q)
            if new is None or api.guarded(ref.node, ref.top):
                continue
            seen.add(id(ref.node))
            node = ref.node
            fix = None
            if isinstance(node, cst.Attribute) and new.rsplit(".", 1)[0] == q.rsplit(".", 1)[0]:
                fix = Fix.safe(f"Use `{new.rsplit('.', 1)[1]}`", ctx.replace(node.attr, new.rsplit(".", 1)[1], ref.top))
            ctx.report(node, self._msg(api, q, new, dep), fix=fix, top=ref.top)
        for rec in m.imports:
            if rec.module is None or rec.star or not rec.module.startswith("mindspore"):
                continue
            for name, asname, alias in rec.names:
                q = f"{rec.module}.{name}"
                if q in moved:
                    continue
                dep, new = replacement_of(api, q)
                if new is None or api.guarded(alias.name, rec.top):
                    continue
                fix = None
                new_parent, new_leaf = new.rsplit(".", 1)
                if new_parent == rec.module:
                    edits = [ctx.replace(alias.name, new_leaf, rec.top)]
                    ok = True
                    if asname is None:
                        if api.bound_once(name) and new_leaf not in m.module_scope.bindings:
                            edits += [ctx.replace(n, new_leaf, i) for n, i in api.name_uses(name, m.module_scope)]
                        else:
                            ok = False
                    if ok:
                        fix = Fix.safe(f"Import `{new_leaf}`", *edits)
                ctx.report(alias.name, self._msg(api, q, new, dep), fix=fix, top=rec.top)

    # ---------------------------------------------------------------- moved modules/names
    def _moved(self, ctx):
        """The modules and names MS103 reports once they are gone (c_transforms,
        ms_function, ...), while they still exist but are deprecated in the target version."""

        m, api = ctx.model, ctx.api
        modules, names, _hints = api.rename_tables()
        refs = {id(r.node): r for r in m.refs}
        seen = set()
        for qualname, node, top, group in api.targets():
            parts = qualname.split(".")
            old = next((".".join(parts[:i]) for i in range(2, len(parts) + 1)
                        if ".".join(parts[:i]) in modules or ".".join(parts[:i]) in names), None)
            if old is None or (old, group) in seen:
                continue
            info = modules.get(old) or names.get(old)
            new = info["new"]
            dep = api.deprecation(old)
            if api.exists(old) is not True or dep is None or api.exists(new) is not True:
                continue
            rec, alias = import_of(ctx, node)
            ref = refs.get(id(node))
            if ref is not None:
                b = self._root_binding(m, ref)
                if b is not None and b.kind == "import" and b.qualname and \
                        (b.qualname == old or b.qualname.startswith(old + ".")):
                    continue  # reported at the import
            if api.guarded(node, top):
                continue
            seen.add((old, group))
            if old in modules:
                fix = module_fix(ctx, old, new, info, rec, alias, ref, top)
            else:
                fix = name_fix(ctx, old, new, info, rec, alias, ref, top)
            since = f" since {dep.since}" if dep.since else ""
            gone = api.removed_in(old)
            gone = f" (removed in {api.short(gone)})" if gone else ""
            ctx.report(node, f"`{old}` is deprecated{since} in MindSpore {api.short_version} and removed in later "
                             f"releases{gone}: use `{new}`", fix=fix, top=top)

    @staticmethod
    def _root_binding(m, ref):
        root = ref.node
        while isinstance(root, cst.Attribute):
            root = root.value
        return m.lookup(root.value, ref.scope) if isinstance(root, cst.Name) else None

    @staticmethod
    def _msg(api, q, new, dep):
        since = f" since {dep.since}" if dep.since else ""
        return (f"`{api.display(q)}` is deprecated{since} (MindSpore {api.short_version} logs a warning): "
                f"use `{api.display(new)}`, which takes the same arguments")

"""MS407: load_param_into_net(net, "file.ckpt"): a path where a parameter dict is expected."""

import libcst as cst

from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule

LOAD_PARAM = "mindspore.load_param_into_net"


def load_checkpoint_name(ctx, site):
    """How to call load_checkpoint at `site`, and the import to add (or None)."""
    m = ctx.model
    b = m.lookup("load_checkpoint", site.scope, site.order)
    if b is not None and b.kind == "import" and b.qualname and m.qualname(cst.Name("load_checkpoint"), site.scope,
                                                                          site.order) == "mindspore.load_checkpoint":
        return "load_checkpoint", None
    f = site.node.func
    if isinstance(f, cst.Attribute):
        return f"{ctx.source(f.value)}.load_checkpoint", None
    if b is None and "load_checkpoint" not in m.module_scope.bindings:
        # `from ... import load_param_into_net`: import load_checkpoint from mindspore
        bp = m.lookup(f.value, site.scope, site.order) if isinstance(f, cst.Name) else None
        if bp is not None and bp.kind == "import" and bp.qualname and f.value == "load_param_into_net":
            return "load_checkpoint", "from mindspore import load_checkpoint"
    ms, imp = ctx.ensure_module("mindspore", "ms")
    return f"{ms}.load_checkpoint", imp


class LoadParamIntoNetPath(Rule):
    code = "MS407"
    name = "load-param-into-net-path"
    severity = Severity.ERROR
    summary = "`load_param_into_net` takes a parameter dict, not a checkpoint path."
    fix_applicability = Applicability.SAFE
    versions = "MindSpore 1.x and 2.x (checked on 2.10.0)"
    doc = """
    ## What it does
    Flags `load_param_into_net(net, path)` where `path` is a string (a literal, a
    constant, an `os.path.join` of literals, an argparse default, a config dict or file
    entry, or a helper's parameter for a call of the helper; the message says where the
    path comes from).

    ## Why is this bad?
    `load_param_into_net` expects the dict returned by `load_checkpoint`; given a path
    it raises `TypeError: For 'load_param_into_net', the argument 'parameter_dict'
    should be a dict, but got <class 'str'>`.

    ## Example
    ```python
    load_param_into_net(net, "./checkpoints/lenet-10_1875.ckpt")
    ```

    Use instead:
    ```python
    load_param_into_net(net, load_checkpoint("./checkpoints/lenet-10_1875.ckpt"))
    ```

    ## Fix safety
    Safe: the path is wrapped in `load_checkpoint(...)` (imported from the module
    `load_param_into_net` came from, or reached through the `mindspore` module). In a
    helper, only when every call of the helper passes a path; otherwise no fix.
    """
    invalid = [
        Example(
            "from mindspore import load_param_into_net\nload_param_into_net(net, 'lenet.ckpt')\n",
            expect=(2,),
            fixed="from mindspore import load_param_into_net\nfrom mindspore import load_checkpoint\n"
                  "load_param_into_net(net, load_checkpoint('lenet.ckpt'))\n",
        ),
        Example(
            "import mindspore as ms\nimport os\nms.load_param_into_net(net, os.path.join('ck', 'a.ckpt'))\n",
            expect=(3,),
            fixed="import mindspore as ms\nimport os\n"
                  "ms.load_param_into_net(net, ms.load_checkpoint(os.path.join('ck', 'a.ckpt')))\n",
        ),
    ]
    valid = [
        Example("import mindspore as ms\nms.load_param_into_net(net, ms.load_checkpoint('a.ckpt'))\n"),
        Example("import mindspore as ms\nms.load_param_into_net(net, param_dict)\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        for site in m.calls_to(LOAD_PARAM):
            a = site.arg("parameter_dict", 1)
            if a is None:
                continue
            # a helper's parameter: the calls of the helper that pass a path
            every = ctx.values.per_call(a.value, site.scope, site.order, site.statement)
            paths = [(v, c) for v, c in every if isinstance(v, str)]
            if not paths:
                continue
            v, call = paths[0]
            origin = ctx.values.origin(a.value, site.scope, site.order, ctx, call)
            name, imp = load_checkpoint_name(ctx, site)
            edits = [ctx.replace(a.value, f"{name}({ctx.source(a.value)})", site.top)]
            ie = ctx.imports_edit([imp])
            if ie:
                edits.append(ie)
            ctx.report(
                a.value,
                f"`load_param_into_net` expects the parameter dict returned by `load_checkpoint`, but gets the "
                f"path {v!r}: it raises TypeError (parameter_dict should be a dict); "
                f"use `{name}({ctx.source(a.value)})`" + (f". The path comes from {origin}" if origin else ""),
                # in a helper, wrapping is right only when no call passes a dict (or something unknown)
                fix=Fix.safe("Wrap the path in `load_checkpoint(...)`", *edits) if len(paths) == len(every) else None,
                top=site.top,
            )

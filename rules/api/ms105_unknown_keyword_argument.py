"""MS105: a keyword argument the MindSpore callable does not take in the target version."""

import libcst as cst

from msfix.diagnostics import Applicability, Edit, Fix, Severity
from msfix.rule import Example, Rule
from msfix.fixes.edits import expr_offsets, one_minus


def arg_bounds(ctx, call: cst.Call, i: int, top: int):
    """Offsets of argument i without its comma: (start, end)."""
    a = call.args[i]
    vstart, end = expr_offsets(ctx, a.value, top)
    start = ctx.offsets(a.keyword, top)[0] if a.keyword is not None else vstart
    return start, end


def drop_arg(ctx, call: cst.Call, i: int, top: int) -> Edit:
    """Delete argument i with the comma that separates it from its neighbour."""
    start, end = arg_bounds(ctx, call, i, top)
    n = len(call.args)
    if i + 1 < n:
        nxt, _ = arg_bounds(ctx, call, i + 1, top)
        return Edit(start, nxt, "")
    if i > 0:
        _, prev_end = arg_bounds(ctx, call, i - 1, top)
        return Edit(prev_end, end, "")
    return Edit(start, end, "")


def names_parameters(sig) -> bool:
    """False for a signature that names no parameter, only `*args`: the generic
    `__call__(self, *args)` of an operator instance (`ops.partial`, `ops.make_tuple`, ...
    are Primitive / MetaFuncGraph instances), which says nothing about the keywords the
    call takes. Graph mode binds them to the forwarded function: `ops.partial(add, x=2)`
    runs inside `@jit` (and raises TypeError only in PyNative mode, checked on 2.10)."""
    return not (sig.params and all(p.kind == "VAR_POSITIONAL" for p in sig.params))


def torch_renames(api, qualnames):
    table = api.torch_table().get("kwargs", {})
    out = dict(table.get("*", {}))
    for q in qualnames:
        if q in table:
            out.update(table[q])
            break
    return out


class UnknownKeywordArgument(Rule):
    code = "MS105"
    name = "unknown-keyword-argument"
    severity = Severity.ERROR
    summary = "A MindSpore class or function called with a keyword argument it does not take."
    fix_applicability = Applicability.SAFE
    versions = "every indexed release, 1.10 to 2.10 (signatures of the target version)"
    doc = """
    ## What it does
    Checks the keyword arguments of every call to a MindSpore class or function against
    its signature in the target version (msfix's API index: `__init__` for classes).
    Callables whose signature is unknown, or that take `**kwargs` (unless msfix knows
    which keys they check at run time, as for `nn.Adam`), and calls with `**kwargs`
    expansion are not checked. Nor are callables whose signature names no parameter,
    only `*args`: operator instances such as `ops.partial` forward their keywords to
    another callable (`ops.partial(add, x=2)` inside `@jit` binds `x` of `add`). For `set_context` and `set_auto_parallel_context`, whose
    keys are checked at run time, the keys MindSpore 2.10 rejects are flagged
    (`grad_for_scalar`, removed in 2.10; `enable_dump`, `save_dump_path`;
    `mirror_mean`, now `gradients_mean`).

    ## Why is this bad?
    The call raises `TypeError: ... got an unexpected keyword argument` (or `KeyError`
    for `nn.Adam`'s checked `**kwargs`) when the line runs. Most such keywords come
    from PyTorch: `nn.Dense(in_features=...)`, `nn.Conv2d(bias=...)`,
    `nn.Softmax(dim=1)`, `nn.ReLU(inplace=True)`, `nn.Momentum(lr=...)`,
    `nn.Adam(lr=..., betas=...)`; others from older MindSpore releases
    (`SoftmaxCrossEntropyWithLogits(is_grad=False)`, gone in 1.x; verified on 2.10).

    ## Example
    ```python
    fc = nn.Dense(in_features=128, out_features=10, bias=True)
    opt = nn.Momentum(net.trainable_params(), lr=0.01, momentum=0.9)
    loss = nn.SoftmaxCrossEntropyWithLogits(is_grad=False, sparse=True)
    ```

    Use instead:
    ```python
    fc = nn.Dense(in_channels=128, out_channels=10, has_bias=True)
    opt = nn.Momentum(net.trainable_params(), learning_rate=0.01, momentum=0.9)
    loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True)
    ```

    ## Fix safety
    Safe where msfix's PyTorch table has the MindSpore name of the keyword and the
    callable takes it (`in_features`->`in_channels`, `bias`->`has_bias`,
    `groups`->`group`, `dim`->`axis`, `lr`->`learning_rate`, `betas=(a, b)`->
    `beta1=a, beta2=b`, `mirror_mean`->`gradients_mean`), `keep_prob=k`->`p=1-k` where
    the callable takes `p` (`ops.dropout`), or the keyword has no MindSpore meaning
    (`inplace`, `is_grad`: dropped): the renamed call is the only reading that runs.
    Otherwise no fix.
    """
    invalid = [
        Example("import mindspore.nn as mnn\nfc = mnn.Dense(in_features=4, out_features=2)\n", expect=(2, 2),
                fixed="import mindspore.nn as mnn\nfc = mnn.Dense(in_channels=4, out_channels=2)\n"),
        Example("from mindspore import nn as N\nact = N.ReLU(inplace=True)\n", expect=(2,),
                fixed="from mindspore import nn as N\nact = N.ReLU()\n"),
        Example("import mindspore as ms\nloss = ms.nn.SoftmaxCrossEntropyWithLogits(is_grad=False, sparse=True)\n",
                expect=(2,),
                fixed="import mindspore as ms\nloss = ms.nn.SoftmaxCrossEntropyWithLogits(sparse=True)\n"),
    ]
    valid = [
        Example("import mindspore.nn as nn\nfc = nn.Dense(in_channels=4, out_channels=2, has_bias=True)\n"),
        Example("import mindspore.nn as nn\nkw = dict(bias=True)\nfc = nn.Dense(4, 2, **kw)\n"),
        Example("import mindspore.nn as nn\nclass Dense(nn.Cell):\n    def __init__(self, in_features, bias):\n"
                "        super().__init__()\nfc = Dense(in_features=4, bias=True)\n"),
        Example("from mindspore.nn import *\nfc = Dense(in_features=4, out_features=2)\n"),
        Example("import mindspore\nfrom mindspore import ops\ndef add(x, y):\n    return x + y\n"
                "@mindspore.jit()\ndef test():\n    return ops.partial(add, x=2)(y=3)\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        api = ctx.api
        rejected = api.table("rejected_keywords.json")
        for site in m.calls:
            q = api.callee(site)
            if q is None:
                continue
            table = rejected.get(site.qualname or "") or rejected.get(q)
            if table:
                self._rejected(ctx, site, table)
                continue
            b = api.bind_call(q, site.node)
            if b is None or not b.unknown or not names_parameters(b.sig):
                continue
            user = api.canonical_user_name(q)
            renames = torch_renames(api, [user, q])
            params = {p.name for p in b.sig.params}
            given = {a.keyword.value for a in site.node.args if a.keyword is not None}
            for arg in b.unknown:
                kw = arg.keyword.value
                i = list(site.node.args).index(arg)
                msg = f"`{api.display(user)}` has no keyword argument `{kw}` in MindSpore {api.short_version}"
                fix = None
                if kw == "keep_prob" and "p" in params and "p" not in given:
                    msg += "; `p` is the drop probability: `p = 1 - keep_prob`"
                    text = one_minus(ctx, arg.value, site.top)
                    if text is not None:
                        start, end = arg_bounds(ctx, site.node, i, site.top)
                        fix = Fix.safe(f"Use `p={text}`", Edit(start, end, f"p={text}"))
                elif kw in renames:
                    new = renames[kw]
                    if new is None:
                        msg += f" (it raises when the line runs); `{kw}` has no MindSpore meaning: drop it"
                        fix = Fix.safe(f"Remove `{kw}=`", drop_arg(ctx, site.node, i, site.top))
                    elif isinstance(new, str):
                        if new in params and new not in given:
                            msg += f"; the PyTorch `{kw}` is `{new}` here"
                            fix = Fix.safe(f"Rename to `{new}`", ctx.replace(arg.keyword, new, site.top))
                        else:
                            msg += f"; the PyTorch `{kw}` is `{new}` here"
                    elif isinstance(new, list):
                        msg += f"; the PyTorch `{kw}` is " + " and ".join(f"`{n}`" for n in new) + " here"
                        v = arg.value
                        if isinstance(v, (cst.Tuple, cst.List)) and len(v.elements) == len(new) \
                                and all(n in params and n not in given for n in new) \
                                and not any(isinstance(e, cst.StarredElement) for e in v.elements):
                            text = ", ".join(f"{n}={m.module.code_for_node(e.value)}" for n, e in zip(new, v.elements))
                            start, end = arg_bounds(ctx, site.node, i, site.top)
                            fix = Fix.safe(f"Split into {', '.join(new)}", Edit(start, end, text))
                else:
                    close = _close(kw, params)
                    if close:
                        msg += f"; did you mean `{close}`?"
                    else:
                        takes = [p.name for p in b.sig.params if p.kind in ("POSITIONAL_OR_KEYWORD", "KEYWORD_ONLY")]
                        msg += "; it takes " + (", ".join(f"`{t}`" for t in takes[:8]) +
                                                (", ..." if len(takes) > 8 else "") if takes else "no keyword arguments")
                ctx.report(arg.keyword, msg, fix=fix, top=site.top)


    @staticmethod
    def _rejected(ctx, site, table):
        """Keywords a **kwargs callable rejects at run time (set_context, set_auto_parallel_context)."""
        api = ctx.api
        if api.has_expansion(site.node):
            return
        given = {a.keyword.value for a in site.node.args if a.keyword is not None}
        name = api.display(site.qualname or "")
        for arg in site.node.args:
            if arg.keyword is None or arg.keyword.value not in table:
                continue
            info = table[arg.keyword.value]
            if not api.at_least(info["from"]):
                continue
            kw = arg.keyword.value
            fix = None
            msg = f"`{name}` rejects `{kw}` in MindSpore {api.short_version} ({info['error']})"
            if info.get("use"):
                msg += f"; use `{info['use']}`"
                if info["use"] not in given:
                    fix = Fix.safe(f"Rename to `{info['use']}`", ctx.replace(arg.keyword, info["use"], site.top))
            ctx.report(arg.keyword, msg, fix=fix, top=site.top)


def _close(name, params):
    import difflib

    got = difflib.get_close_matches(name, sorted(params), n=1, cutoff=0.75)
    return got[0] if got else None

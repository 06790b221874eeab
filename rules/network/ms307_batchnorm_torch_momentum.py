"""MS307: `nn.BatchNorm*d(momentum=m)` with m < 0.5, the PyTorch convention."""

import libcst as cst

from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule
from msfix.fixes.edits import expr_text, replace_expr

BATCHNORMS = frozenset({"BatchNorm1d", "BatchNorm2d", "BatchNorm3d"})


class BatchNormTorchMomentum(Rule):
    code = "MS307"
    name = "batchnorm-torch-momentum"
    severity = Severity.WARNING
    summary = "BatchNorm momentum below 0.5: MindSpore's momentum is 1 minus PyTorch's."
    fix_applicability = Applicability.UNSAFE
    versions = "MindSpore 1.x and 2.x (`mindspore.mint.nn` BatchNorm follows PyTorch and is not flagged)"
    doc = """
    ## What it does
    Flags `nn.BatchNorm1d/2d/3d` given a `momentum` below 0.5: a literal, or a value from
    a constant, an argparse default, a config dict or file, or a helper's parameter for
    a call of the helper (the message says where it comes from). Not when
    `use_batch_statistics=False`: the running statistics are then never updated.

    ## Why is this bad?
    MindSpore updates the running statistics as
    `moving = momentum * moving + (1 - momentum) * batch`; PyTorch as
    `moving = (1 - momentum) * moving + momentum * batch`. MindSpore's default is 0.9,
    PyTorch's 0.1: the same number means the opposite. A ported `momentum=0.1` makes
    the moving mean and variance follow the last batch almost entirely (verified on
    2.10: after one batch of 10s the moving mean is 9.0 with momentum 0.1, 1.0 with
    0.9), so evaluation uses noisy statistics and accuracy drops, silently.

    ## Example
    ```python
    self.bn = nn.BatchNorm2d(64, momentum=0.1)
    ```

    Use instead:
    ```python
    self.bn = nn.BatchNorm2d(64, momentum=0.9)
    ```

    ## Fix safety
    Unsafe: replaces m by 1 - m, assuming the value was written for PyTorch; a
    deliberately fast-moving average would be changed. A value written elsewhere keeps
    its source (`momentum=1 - args.bn_momentum`); a helper's parameter gets no fix when
    another call of the helper passes a MindSpore-style momentum.
    """
    invalid = [
        Example(
            "from mindspore import nn\nbn = nn.BatchNorm2d(64, momentum=0.1)\n",
            expect=(2,),
            fixed="from mindspore import nn\nbn = nn.BatchNorm2d(64, momentum=0.9)\n",
        ),
        Example(
            "from mindspore import nn\nbn = nn.BatchNorm1d(64, 1e-5, 0.01)\n",
            expect=(2,),
            fixed="from mindspore import nn\nbn = nn.BatchNorm1d(64, 1e-5, 0.99)\n",
        ),
    ]
    valid = [
        Example("from mindspore import nn\nbn = nn.BatchNorm2d(64, momentum=0.9)\n"),
        Example("from mindspore import nn\nbn = nn.BatchNorm2d(64)\n"),
        Example("from mindspore import nn\ndef f(m):\n    return nn.BatchNorm2d(64, momentum=m)\n"),
        Example("from mindspore import mint\nbn = mint.nn.BatchNorm2d(64, momentum=0.1)\n"),
        Example("from mindspore import nn\nbn = nn.BatchNorm2d(64, momentum=0.1, use_batch_statistics=False)\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        for site in m.calls:
            if ctx.network.nn_class(site.qualname) not in BATCHNORMS or site.has_star_args:
                continue
            arg = site.arg("momentum", 2)
            if arg is None:
                continue
            found = [(v, c) for v, c in ctx.values.per_call(arg.value, site.scope, site.order, site.statement)
                     if isinstance(v, (int, float)) and not isinstance(v, bool)]
            frozen = _frozen_calls(ctx, site)
            found = [(v, c) for v, c in found if not frozen(c)]
            bad = [(v, c) for v, c in found if 0.0 <= v < 0.5]
            if not bad:
                continue
            value, call = bad[0]
            mom = float(value)
            text = expr_text(ctx, arg.value, site.top)
            value_new = repr(round(1 - mom, 10))
            literal = isinstance(arg.value, (cst.Float, cst.Integer))
            grouped = text if isinstance(arg.value, (cst.Name, cst.Attribute, cst.Subscript, cst.Call)) \
                else f"({text})"
            new = value_new if literal else f"1 - {grouped}"
            callee = ctx.source(site.node.func)
            # `1 - m` in a helper is right only when every call passes the torch convention
            fix = Fix.unsafe(f"Use the MindSpore convention: momentum={new}",
                             replace_expr(ctx, arg.value, new, site.top)) if len(bad) == len(found) else None
            origin = None if literal else ctx.values.origin(arg.value, site.scope, site.order, ctx, call)
            ctx.report(
                arg,
                f"`{callee}(momentum={text})` keeps only {mom:.0%} of the running statistics per step: "
                f"MindSpore's momentum is 1 - PyTorch's (default 0.9 here, 0.1 in PyTorch); for PyTorch's "
                f"{mom:g} write `momentum={value_new}`" + (f". The value comes from {origin}" if origin else ""),
                fix=fix, top=site.top,
            )


def _frozen_calls(ctx, site):
    """A predicate on the helper call (or None): `use_batch_statistics=False` there, so the
    running statistics are never updated and the momentum does nothing (checked on 2.10)."""
    ubs = site.arg("use_batch_statistics", 8)
    if ubs is None:
        return lambda call: False
    values = {id(c): v for v, c in ctx.values.per_call(ubs.value, site.scope, site.order, site.statement)}
    return lambda call: values.get(id(call)) is False

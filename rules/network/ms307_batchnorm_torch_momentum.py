"""MS307: `nn.BatchNorm*d(momentum=m)` with m < 0.5, the PyTorch convention."""

import libcst as cst

from msfix.context import UNKNOWN
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
    Flags `nn.BatchNorm1d/2d/3d` given a literal `momentum` below 0.5.

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
    deliberately fast-moving average would be changed.
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
    ]

    def check(self, ctx):
        m = ctx.model
        for site in m.calls:
            if ctx.network.nn_class(site.qualname) not in BATCHNORMS or site.has_star_args:
                continue
            arg = site.arg("momentum", 2)
            if arg is None:
                continue
            value = m.literal(arg.value, site.scope, site.order)
            if value is UNKNOWN or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            mom = float(value)
            if not 0.0 <= mom < 0.5:
                continue
            text = expr_text(ctx, arg.value, site.top)
            value_new = repr(round(1 - mom, 10))
            new = value_new if isinstance(arg.value, (cst.Float, cst.Integer)) else f"1 - {text}"
            callee = ctx.source(site.node.func)
            fix = Fix.unsafe(f"Use the MindSpore convention: momentum={new}",
                             replace_expr(ctx, arg.value, new, site.top))
            ctx.report(
                arg,
                f"`{callee}(momentum={text})` keeps only {mom:.0%} of the running statistics per step: "
                f"MindSpore's momentum is 1 - PyTorch's (default 0.9 here, 0.1 in PyTorch); for PyTorch's "
                f"{mom:g} write `momentum={value_new}`",
                fix=fix, top=site.top,
            )

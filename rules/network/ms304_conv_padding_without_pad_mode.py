"""MS304: `nn.Conv2d(..., padding=k)` with k != 0 and no `pad_mode="pad"`."""

from msfix.context import UNKNOWN
from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule
from msfix.fixes.edits import insert_after_expr

CONVS = frozenset({"Conv1d", "Conv2d", "Conv3d", "Conv1dTranspose", "Conv2dTranspose", "Conv3dTranspose"})


def _nonzero_padding(v) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return v != 0
    if isinstance(v, (tuple, list)) and v and all(isinstance(x, int) and not isinstance(x, bool) for x in v):
        return any(x != 0 for x in v)
    return False


class ConvPaddingWithoutPadMode(Rule):
    code = "MS304"
    name = "conv-padding-without-pad-mode"
    severity = Severity.ERROR
    summary = "`nn.Conv*d(..., padding=k)` with k != 0 needs `pad_mode=\"pad\"`."
    fix_applicability = Applicability.SAFE
    versions = "MindSpore 1.x and 2.x"
    doc = """
    ## What it does
    Flags `nn.Conv1d/2d/3d` and `nn.Conv1d/2d/3dTranspose` given a non-zero literal
    `padding` without `pad_mode="pad"`.

    ## Why is this bad?
    MindSpore's convolutions default to `pad_mode="same"` and use `padding` only when
    `pad_mode="pad"`. Any other combination raises when the layer is built:
    `ValueError: For 'Conv2D', the 'pad' must be zero when 'pad_mode' is not 'pad',
    but got 'pad': 1 and 'pad_mode': same` (MindSpore 2.10). This is the most common
    crash of code ported from PyTorch, where `padding=1` alone is enough.

    ## Example
    ```python
    conv = nn.Conv2d(3, 64, 3, padding=1)
    ```

    Use instead:
    ```python
    conv = nn.Conv2d(3, 64, 3, pad_mode="pad", padding=1)
    ```

    ## Fix safety
    Safe when `pad_mode` is not given: adding `pad_mode="pad"` makes the layer pad
    exactly `padding`, the only reading under which the call runs (and what the
    PyTorch original did). When `pad_mode` is given as `"same"` or `"valid"` the
    intent is unclear and no fix is offered.
    """
    invalid = [
        Example(
            "from mindspore import nn\nconv = nn.Conv2d(3, 64, 3, padding=1)\n",
            expect=(2,),
            fixed="from mindspore import nn\nconv = nn.Conv2d(3, 64, 3, padding=1, pad_mode=\"pad\")\n",
        ),
        Example(
            "from mindspore import nn\nconv = nn.Conv2d(3, 64, 3, pad_mode='same', padding=(1, 1, 1, 1))\n",
            expect=(2,),
        ),
    ]
    valid = [
        Example("from mindspore import nn\nconv = nn.Conv2d(3, 64, 3, pad_mode='pad', padding=1)\n"),
        Example("from mindspore import nn\nconv = nn.Conv2d(3, 64, 3, padding=0)\n"),
        Example("from mindspore import nn\ndef f(p):\n    return nn.Conv2d(3, 64, 3, padding=p)\n"),
        Example("from mindspore import mint\nconv = mint.nn.Conv2d(3, 64, 3, padding=1)\n"),
        Example("from mindspore import nn\nconv = nn.Conv2d(3, 64, 3, padding=1, **kw)\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        for site in m.calls:
            cls = ctx.network.nn_class(site.qualname)
            if cls not in CONVS or site.has_star_args:
                continue
            pad = site.arg("padding", 5)
            if pad is None:
                continue
            value = m.literal(pad.value, site.scope, site.order)
            if value is UNKNOWN or not _nonzero_padding(value):
                continue
            mode_arg = site.arg("pad_mode", 4)
            callee = ctx.source(site.node.func)
            if mode_arg is None:
                fix = Fix.safe('Add `pad_mode="pad"`', insert_after_expr(ctx, pad.value, ', pad_mode="pad"', site.top))
                ctx.report(
                    pad,
                    f"`{callee}(..., padding={ctx.source(pad.value)})` without `pad_mode=\"pad\"` raises "
                    f"ValueError (\"the 'pad' must be zero when 'pad_mode' is not 'pad'\"): the default "
                    f"pad_mode is \"same\"; add `pad_mode=\"pad\"`",
                    fix=fix, top=site.top,
                )
                continue
            mode = m.literal(mode_arg.value, site.scope, site.order)
            if not isinstance(mode, str) or mode == "pad":
                continue
            ctx.report(
                pad,
                f"`{callee}(..., pad_mode={mode!r}, padding={ctx.source(pad.value)})` raises ValueError "
                f"(\"the 'pad' must be zero when 'pad_mode' is not 'pad'\"): use `pad_mode=\"pad\"` to pad "
                f"explicitly, or drop `padding`",
                top=site.top,
            )

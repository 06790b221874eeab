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
    Flags `nn.Conv1d/2d/3d` and `nn.Conv1d/2d/3dTranspose` given a non-zero
    `padding` without `pad_mode="pad"`: a literal, or a value from a constant, an
    argparse default, a config dict or file, or a helper's parameter for a call of the
    helper (the message says where it comes from).

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
    PyTorch original did), wherever the padding comes from. Unsafe for a helper's
    parameter when another call of the helper passes padding 0 (or a value msfix cannot
    tell): that call pads "same" today and would stop padding; unsafe too when the
    padding comes from an argparse option or a config file, which another run may set
    to 0. When `pad_mode`
    is given as `"same"` or `"valid"` the
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
            # a helper's parameter: the first call of the helper that pads
            every = ctx.values.per_call(pad.value, site.scope, site.order, site.statement)
            found = [(v, c) for v, c in every if v is not UNKNOWN and _nonzero_padding(v)]
            if not found:
                continue
            value, call = found[0]
            # other calls with padding 0 (or unknown) rely on the default "same": pad_mode="pad" changes them
            all_pad = len(found) == len(every)
            # an option or a config file may give 0 on another run, which pads "same" today
            outside = ctx.values.from_outside(pad.value, site.scope, site.order)
            mode_arg = site.arg("pad_mode", 4)
            callee = ctx.source(site.node.func)
            origin = ctx.values.origin(pad.value, site.scope, site.order, ctx, call)
            comes = f". The value comes from {origin}" if origin else ""
            if mode_arg is None:
                edit = insert_after_expr(ctx, pad.value, ', pad_mode="pad"', site.top)
                if not all_pad:
                    fix = Fix.unsafe('Add `pad_mode="pad"` (the calls with padding 0 stop padding "same")', edit)
                elif outside:
                    fix = Fix.unsafe('Add `pad_mode="pad"` (a run with padding 0 stops padding "same")', edit)
                else:
                    fix = Fix.safe('Add `pad_mode="pad"`', edit)
                ctx.report(
                    pad,
                    f"`{callee}(..., padding={ctx.source(pad.value)})` without `pad_mode=\"pad\"` raises "
                    f"ValueError (\"the 'pad' must be zero when 'pad_mode' is not 'pad'\"): the default "
                    f"pad_mode is \"same\"; add `pad_mode=\"pad\"`{comes}",
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
                f"explicitly, or drop `padding`{comes}",
                top=site.top,
            )

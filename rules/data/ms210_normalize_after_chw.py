"""MS210: Normalize after ToTensor/HWC2CHW without is_hwc=False."""

from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule
from msfix.fixes.edits import append_kwarg
from msfix.rules.data._pipeline import Once


class NormalizeAfterChw(Rule):
    code = "MS210"
    name = "normalize-after-chw"
    severity = Severity.ERROR
    summary = "`Normalize` after `ToTensor`/`HWC2CHW` without `is_hwc=False` normalises the wrong axis."
    fix_applicability = Applicability.SAFE
    versions = "MindSpore 2.x (`is_hwc` exists since 1.8; verified on 2.10)"
    doc = """
    ## What it does
    Flags `vision.Normalize(...)` applied to an image column after `vision.ToTensor()`
    or `vision.HWC2CHW()` has made it channel-first, when `is_hwc` is not `False`.

    ## Why is this bad?
    `Normalize` defaults to `is_hwc=True` and reads the channels from the last axis.
    On a CHW image that is the width: MindSpore 2.10 raises `RuntimeError: Normalize:
    number of channels does not match the size of mean and std vectors, got channels:
    32, size of mean: 3` (and if the width happened to match, it would normalise
    columns instead of channels). The order comes from PyTorch/py_transforms code,
    where `Normalize` follows `ToTensor`.

    ## Example
    ```python
    data = data.map([vision.Decode(), vision.ToTensor(),
                     vision.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])], "image")
    ```

    Use instead:
    ```python
    data = data.map([vision.Decode(), vision.ToTensor(),
                     vision.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225], is_hwc=False)], "image")
    ```

    ## Fix safety
    Safe: `is_hwc=False` makes `Normalize` read the channel axis the data actually has;
    the statistics and the output layout are unchanged.
    """
    invalid = [
        Example(
            "import mindspore.dataset as ds\nimport mindspore.dataset.vision as vision\n"
            "d = ds.Cifar10Dataset('c').map([vision.ToTensor(), vision.Normalize([0.5] * 3, [0.2] * 3)], 'image')\n",
            expect=(3,),
            fixed="import mindspore.dataset as ds\nimport mindspore.dataset.vision as vision\n"
                  "d = ds.Cifar10Dataset('c').map([vision.ToTensor(), "
                  "vision.Normalize([0.5] * 3, [0.2] * 3, is_hwc=False)], 'image')\n",
        ),
    ]
    valid = [
        Example(
            "import mindspore.dataset as ds\nimport mindspore.dataset.vision as vision\n"
            "d = ds.Cifar10Dataset('c').map([vision.ToTensor(), "
            "vision.Normalize([0.5] * 3, [0.2] * 3, is_hwc=False)], 'image')\n"),
        Example(
            "import mindspore.dataset as ds\nimport mindspore.dataset.vision as vision\n"
            "d = ds.Cifar10Dataset('c').map([vision.Normalize([127] * 3, [60] * 3), vision.HWC2CHW()], 'image')\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        once = Once()
        for o in ctx.data.op_states():
            if o.op.short != "Normalize" or o.state.layout != "CHW" or o.op.call is None:
                continue
            call = o.op.call
            if any(a.star for a in call.args):
                continue
            kw = next((a for a in call.args if a.keyword is not None and a.keyword.value == "is_hwc"), None)
            pos = [a for a in call.args if a.keyword is None]
            arg = kw if kw is not None else (pos[2] if len(pos) > 2 else None)
            if arg is not None and m.literal(arg.value, o.op.scope, o.op.order) is not True:
                continue
            if not once(o.op.node):
                continue
            if arg is not None:
                edit = ctx.replace(arg.value, "False", o.op.top)
            else:
                edit = append_kwarg(ctx, call, "is_hwc=False", o.op.top)
            by = o.state.chw_by.short if o.state.chw_by is not None else "an earlier op"
            line = ctx.span(o.state.chw_by.node, o.state.chw_by.top).line if o.state.chw_by is not None else None
            ctx.report(
                o.op.node,
                f"`Normalize` runs after `{by}`{f' (line {line})' if line else ''} made the image CHW, but "
                f"`is_hwc` defaults to True: it takes the last axis (the width) as channels and raises "
                f"\"number of channels does not match the size of mean and std\"; pass `is_hwc=False`",
                fix=Fix.safe("Add `is_hwc=False`", edit),
                top=o.op.top,
            )

"""MS211: HWC2CHW applied twice, or together with ToTensor."""

from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule
from msfix.rules.data._pipeline import Once, remove_op_edit


class DoubleHwc2Chw(Rule):
    code = "MS211"
    name = "double-hwc2chw"
    severity = Severity.ERROR
    summary = "`HWC2CHW` on an image that is already CHW (a second HWC2CHW, or with ToTensor)."
    fix_applicability = Applicability.SAFE
    versions = "MindSpore 2.x (verified on 2.10)"
    doc = """
    ## What it does
    Flags `vision.HWC2CHW()` applied to an image column that an earlier `HWC2CHW` or
    `ToTensor` already made channel-first, and `ToTensor` after `HWC2CHW`.

    ## Why is this bad?
    `ToTensor` already converts HWC to CHW. Transposing again turns a 3x32x32 CIFAR
    image into 32x3x32: no error in the pipeline, a silently wrong shape (the network
    then fails on the channel count, or worse, trains on scrambled axes when the sizes
    happen to fit).

    ## Example
    ```python
    data = data.map([vision.ToTensor(), vision.HWC2CHW()], "image")
    ```

    Use instead:
    ```python
    data = data.map([vision.ToTensor()], "image")
    ```

    ## Fix safety
    Safe: the fix removes the extra `HWC2CHW` (the map itself when it is its only op),
    which leaves the single HWC-to-CHW conversion the code intends.
    """
    invalid = [
        Example(
            "import mindspore.dataset as ds\nimport mindspore.dataset.vision as vision\n"
            "d = ds.Cifar10Dataset('c').map([vision.ToTensor(), vision.HWC2CHW()], 'image')\n",
            expect=(3,),
            fixed="import mindspore.dataset as ds\nimport mindspore.dataset.vision as vision\n"
                  "d = ds.Cifar10Dataset('c').map([vision.ToTensor()], 'image')\n",
        ),
    ]
    valid = [
        Example("import mindspore.dataset as ds\nimport mindspore.dataset.vision as vision\n"
                "d = ds.Cifar10Dataset('c').map([vision.Rescale(1 / 255, 0), vision.HWC2CHW()], 'image')\n"),
        Example("import mindspore.dataset as ds\nimport mindspore.dataset.vision as vision\n"
                "d = ds.Cifar10Dataset('c').map([vision.HWC2CHW(), to_hwc, vision.HWC2CHW()], 'image')\n"),
    ]

    def check(self, ctx):
        once = Once()
        for o in ctx.data.op_states():
            s = o.op.short
            prev = o.state.chw_by
            if o.state.layout != "CHW" or prev is None or s not in ("HWC2CHW", "ToTensor"):
                continue
            if s == "ToTensor" and prev.short != "HWC2CHW":
                continue
            # drop the HWC2CHW: this op, or the earlier one when this is ToTensor
            if s == "HWC2CHW":
                drop, drop_stage = o.op, o.stage
            else:
                drop = prev
                drop_stage = next((x.stage for x in ctx.data.op_states() if x.op is prev), None)
            if not once(drop.node):
                continue
            edit = remove_op_edit(ctx, drop_stage, drop)
            line = ctx.span(prev.node, prev.top).line
            if s == "HWC2CHW":
                msg = (f"`HWC2CHW` on an image that `{prev.short}` (line {line}) already made CHW: the second "
                       f"transpose silently gives a wrong shape (C,H,W becomes W,C,H); remove it")
            else:
                msg = (f"`ToTensor` also converts HWC to CHW, but `HWC2CHW` (line {line}) already did: the "
                       f"image is transposed twice and silently gets a wrong shape; remove the `HWC2CHW`")
            ctx.report(o.op.node, msg,
                       fix=Fix.safe("Remove the extra `HWC2CHW`", edit) if edit is not None else None,
                       top=o.op.top)

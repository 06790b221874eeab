"""MS212: per-image vision ops mapped after batch()."""

from msfix.context import UNKNOWN
from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule
from msfix.rules.data._pipeline import swap_edit

# raise on a 4-D batch (verified on 2.10 with a batch of 4 HWC images)
CRASH = {"HWC2CHW", "Decode", "ToTensor", "Pad", "ConvertColor", "Grayscale", "RandomColorAdjust", "ToPIL"}
# give the same result on a batch as image by image (verified on 2.10): not flagged
SAME = {"Rescale", "Normalize", "Resize", "CenterCrop", "TypeCast", "ToType"}
# made for batches
BATCH_OPS = {"MixUpBatch", "CutMixBatch"}


class VisionOpAfterBatch(Rule):
    code = "MS212"
    name = "vision-op-after-batch"
    severity = Severity.WARNING
    summary = "A per-image vision transform is mapped after `batch`."
    fix_applicability = Applicability.SAFE
    versions = "MindSpore 2.x (verified on 2.10)"
    doc = """
    ## What it does
    Flags a `map` stage that comes after `batch` and applies per-image
    `mindspore.dataset.vision` transforms (everything except `MixUpBatch` and
    `CutMixBatch`, which are made for batches).

    ## Why is this bad?
    After `batch` each row is a 4-D batch. On MindSpore 2.10:
    - `HWC2CHW`, `Decode`, `ToTensor`, `Pad`, `ConvertColor`, `Grayscale` and
      `RandomColorAdjust` raise, e.g. `HWC2CHW: image shape should be <H,W> or <H,W,C>,
      but got rank: 4` (error);
    - random augmentations (`RandomCrop`, `RandomHorizontalFlip`,
      `RandomResizedCrop`, ...) draw their random parameters once per batch: every image
      of a batch gets the same crop or flip (a batch of 8 images was flipped all together
      or not at all), so augmentation is much weaker than intended (warning);
    - other vision ops may fail or treat the batch as one image (warning).
    `Rescale`, `Normalize`, `Resize`, `CenterCrop` and casts give the same result on a
    batch as image by image and are not flagged.

    ## Example
    ```python
    data = data.batch(32)
    data = data.map([vision.RandomHorizontalFlip(), vision.HWC2CHW()], "image")
    ```

    Use instead:
    ```python
    data = data.map([vision.RandomHorizontalFlip(), vision.HWC2CHW()], "image")
    data = data.batch(32)
    ```

    ## Fix safety
    Safe: when the map directly follows the batch (in one chain, or in the next
    statement that rebinds the same name) the fix moves the map before the batch, where
    per-image ops belong; the batches then hold the same transformed images. A `repeat`
    between them is crossed first (a per-row map gives the same rows before or after
    it), then the batch. No fix when other stages sit between them, or the batch has a
    `per_batch_map`.
    """
    invalid = [
        Example(
            "import mindspore.dataset as ds\nimport mindspore.dataset.vision as vision\n"
            "d = ds.Cifar10Dataset('c').batch(32).map(vision.HWC2CHW(), 'image')\n",
            expect=(3,),
            fixed="import mindspore.dataset as ds\nimport mindspore.dataset.vision as vision\n"
                  "d = ds.Cifar10Dataset('c').map(vision.HWC2CHW(), 'image').batch(32)\n",
        ),
    ]
    valid = [
        Example("import mindspore.dataset as ds\nimport mindspore.dataset.vision as vision\n"
                "d = ds.Cifar10Dataset('c').map(vision.HWC2CHW(), 'image').batch(32)\n"),
        Example("import mindspore.dataset as ds\nimport mindspore.dataset.vision as vision\n"
                "d = ds.Cifar10Dataset('c').batch(32).map(vision.CutMixBatch(vision.ImageBatchFormat.NHWC), "
                "['image', 'label'])\n"),
        Example("import mindspore.dataset as ds\nimport mindspore.dataset.vision as vision\n"
                "d = ds.Cifar10Dataset('c').batch(32).map(vision.Rescale(1 / 255, 0), 'image')\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        for st in m.pipelines:
            if st.op != "map":
                continue
            batch = next((p for p in reversed(st.stages()[:-1]) if p.op == "batch"), None)
            if batch is None:
                continue
            ops = ctx.data.map_ops_partial(st)
            if ops is UNKNOWN:
                continue
            shorts = [op.short for op in ops if op.known]  # type: ignore[union-attr]
            bad = [op for op in ops if op.is_vision and op.short not in SAME | BATCH_OPS]  # type: ignore[union-attr]
            if not bad:
                continue
            crash = [op.short for op in bad if op.short in CRASH]
            rand = [op.short for op in bad if op.short.startswith("Random") and op.short not in CRASH]
            other = [op.short for op in bad if op.short not in crash and op.short not in rand]
            fix = None
            if st.parent is batch and not (set(shorts) & BATCH_OPS) \
                    and batch.call.keyword("per_batch_map") is None:
                edit = swap_edit(ctx, batch, st)
                if edit is not None:
                    fix = Fix.safe("Move the map before `batch`", edit)
            elif st.parent is not None and st.parent.op == "repeat" and st.parent.parent is batch \
                    and not (set(shorts) & BATCH_OPS) and batch.call.keyword("per_batch_map") is None:
                # a per-row map gives the same rows before or after `repeat`; the next round
                # moves it before `batch`
                edit = swap_edit(ctx, st.parent, st)
                if edit is not None:
                    fix = Fix.safe("Move the map before `repeat` and then before `batch`", edit)
            line = ctx.span(batch.call.node, batch.call.top).line
            names = ", ".join(f"`{s}`" for s in dict.fromkeys(crash + rand + other))
            if crash:
                why = (f"`{crash[0]}` raises on the 4-D batch (\"image shape should be <H,W> or <H,W,C>, but "
                       f"got rank: 4\" or similar)")
                sev = Severity.ERROR
            elif rand:
                why = (f"`{rand[0]}` draws its random parameters once per batch, so all images of a batch get "
                       f"the same augmentation")
                sev = Severity.WARNING
            else:
                why = f"`{other[0]}` expects one image and may fail or treat the batch as one image"
                sev = Severity.WARNING
            ctx.report(
                st.call.node.func.attr if hasattr(st.call.node.func, "attr") else st.call.node,
                f"per-image vision op{'s' if len(bad) > 1 else ''} {names} mapped after `batch` (line {line}): "
                f"{why}; map before batching",
                fix=fix,
                top=st.call.top,
                severity=sev,
            )

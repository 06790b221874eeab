"""MS216: vision.Decode() on images that are already decoded."""

from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule
from msfix.rules.data._pipeline import Once, remove_op_edit


class DecodeOnDecoded(Rule):
    code = "MS216"
    name = "decode-on-decoded"
    severity = Severity.ERROR
    summary = "`vision.Decode()` on image arrays that are already decoded."
    fix_applicability = Applicability.SAFE
    versions = "MindSpore 2.x (verified on 2.10)"
    doc = """
    ## What it does
    Flags `vision.Decode()` mapped on a column that holds decoded pixels: after an
    earlier `Decode`, from readers that yield decoded images (`Cifar10Dataset`,
    `MnistDataset`, ..., `ImageFolderDataset(decode=True)`), or from a
    `NumpySlicesDataset` whose arrays have image rows (two or more dimensions per row)
    or a `GeneratorDataset` whose generator, defined in the script, yields such arrays.
    A generator that yields 1-D byte buffers (`np.fromfile`) needs its `Decode`.

    ## Why is this bad?
    `Decode` turns encoded JPEG/PNG bytes (a 1-D uint8 array) into pixels. On a decoded
    HWC array MindSpore 2.10 raises `RuntimeError: Decode: invalid input shape, only
    support 1D input, got rank: 3` at the first batch.

    ## Example
    ```python
    images = np.random.randint(0, 255, (100, 32, 32, 3), dtype=np.uint8)
    data = ds.NumpySlicesDataset((images, labels), ["image", "label"])
    data = data.map([vision.Decode(), vision.Resize(224)], "image")
    ```

    Use instead:
    ```python
    data = data.map([vision.Resize(224)], "image")
    ```

    ## Fix safety
    Safe: the fix removes the `Decode` (the whole map when it is its only op); the
    pixels it would have produced are already there.
    """
    invalid = [
        Example(
            "import mindspore.dataset as ds\nimport mindspore.dataset.vision as vision\n"
            "d = ds.Cifar10Dataset('c').map([vision.Decode(), vision.HWC2CHW()], 'image')\n",
            expect=(3,),
            fixed="import mindspore.dataset as ds\nimport mindspore.dataset.vision as vision\n"
                  "d = ds.Cifar10Dataset('c').map([vision.HWC2CHW()], 'image')\n",
        ),
    ]
    valid = [
        Example("import mindspore.dataset as ds\nimport mindspore.dataset.vision as vision\n"
                "d = ds.ImageFolderDataset('f').map([vision.Decode(), vision.HWC2CHW()], 'image')\n"),
        Example("import mindspore.dataset as ds\nimport mindspore.dataset.vision as vision\n"
                "d = ds.GeneratorDataset(read_files, ['image']).map([vision.Decode()], 'image')\n"),
    ]

    def check(self, ctx):
        once = Once()
        for o in ctx.data.op_states():
            if o.op.short != "Decode":
                continue
            st = o.state
            if st.decoded_by is not None:
                line = ctx.span(st.decoded_by.node, st.decoded_by.top).line
                why = f"`Decode` (line {line}) already decoded it"
            elif st.chw_by is not None:
                line = ctx.span(st.chw_by.node, st.chw_by.top).line
                why = f"`{st.chw_by.short}` (line {line}) already works on decoded pixels"
            elif st.layout in ("HWC", "CHW", "array") and o.stage is not None:
                src = o.stage.source
                short = src.source_class.rsplit(".", 1)[-1]
                if src.source_class == "mindspore.dataset.NumpySlicesDataset":
                    why = "the `NumpySlicesDataset` arrays already hold pixel rows"
                elif src.source_class == "mindspore.dataset.GeneratorDataset":
                    why = "the generator already yields pixel arrays (two or more dimensions)"
                elif src.source_class == "mindspore.dataset.ImageFolderDataset":
                    why = "`ImageFolderDataset(decode=True)` already decodes"
                else:
                    why = f"`{short}` yields decoded uint8 HWC images"
            else:
                continue
            if not once(o.op.node):
                continue
            edit = remove_op_edit(ctx, o.stage, o.op)
            ctx.report(
                o.op.node,
                f"`Decode` on an image that is already decoded: {why}; Decode only takes 1-D encoded bytes "
                f"and raises \"Decode: invalid input shape, only support 1D input\"; remove it",
                fix=Fix.safe("Remove the `Decode`", edit) if edit is not None else None,
                top=o.op.top,
            )

"""MS203: raw uint8 HWC images reach the network."""

from msfix.context import UNKNOWN
from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule
from msfix.rules.data._pipeline import insert_map_edit

PREPROCESSING = {"Rescale", "Normalize", "HWC2CHW", "ToTensor", "TypeCast", "ToType"}


class ImageNotPreprocessed(Rule):
    code = "MS203"
    name = "image-not-preprocessed"
    severity = Severity.ERROR
    summary = "Images reach the network as raw uint8 HWC: no Rescale/Normalize/HWC2CHW/ToTensor."
    fix_applicability = Applicability.UNSAFE
    doc = """
    ## What it does
    Follows each dataset passed to `Model.train`/`Model.eval` from its source
    (`Cifar10Dataset`, `MnistDataset`, ...) through its `map` stages, and flags image
    columns that reach the network exactly as the reader yields them: uint8, HWC.
    Also flags `ImageFolderDataset` images that are only decoded (and resized or
    cropped), and uint8 HWC arrays from a `NumpySlicesDataset`/`GeneratorDataset`, when
    every map on them is known.

    ## Why is this bad?
    `Conv2d` weights are float32, so the first step raises `TypeError: For
    primitive[Conv2D], the input type must be same ... Tensor[UInt8]`. Even with a
    cast, HWC data fed to an NCHW network fails on the channel check, and 0-255 pixel
    values without normalisation train badly.

    ## Example
    ```python
    train = ds.Cifar10Dataset(path, usage="train").batch(32)
    ```

    Use instead:
    ```python
    train = ds.Cifar10Dataset(path, usage="train")
    train = train.map([vision.Rescale(1.0 / 255.0, 0.0),
                       vision.Normalize(mean=[0.4914, 0.4822, 0.4465], std=[0.2023, 0.1994, 0.201]),
                       vision.HWC2CHW()], "image")
    train = train.batch(32)
    ```

    ## Fix safety
    Unsafe: the fix inserts the standard maps (Rescale to 0-1, Normalize with the
    dataset's channel statistics, HWC2CHW) before the first `batch`; a network that
    expects other preprocessing needs them changed.
    """
    invalid = [
        Example(
            "import mindspore.dataset as ds\nfrom mindspore import Model\n"
            "data = ds.MnistDataset('m', usage='train').batch(32)\n"
            "Model(net, loss, opt).train(1, data)\n",
            expect=(3,),
            fixed="import mindspore.dataset as ds\nfrom mindspore import Model\n"
                  "from mindspore.dataset import vision\n"
                  "data = ds.MnistDataset('m', usage='train')"
                  ".map(operations=[vision.Rescale(1.0 / 255.0, 0.0), "
                  "vision.Normalize(mean=[0.1307], std=[0.3081]), vision.HWC2CHW()], "
                  "input_columns=\"image\").batch(32)\n"
                  "Model(net, loss, opt).train(1, data)\n",
        ),
    ]
    valid = [
        Example(
            "import mindspore.dataset as ds\nimport mindspore.dataset.vision as vision\n"
            "from mindspore import Model\n"
            "data = ds.MnistDataset('m', usage='train')\n"
            "data = data.map([vision.Rescale(1 / 255, 0), vision.HWC2CHW()], 'image').batch(32)\n"
            "Model(net, loss, opt).train(1, data)\n"),
        Example(
            "import mindspore.dataset as ds\nfrom mindspore import Model\n"
            "data = ds.MnistDataset('m', usage='train')\n"
            "data = data.map(make_transforms(), 'image').batch(32)\n"
            "Model(net, loss, opt).train(1, data)\n"),
    ]

    def check(self, ctx):
        done = self._check_readers(ctx)
        self._check_decoded(ctx, done)

    def _check_decoded(self, ctx, done):
        """Sources without fixed HWC uint8 facts: decoded folders and uint8 arrays."""
        seen = set(done)
        for use in ctx.data.uses():
            pipe, env = use.view.pipe, use.view.env
            src = pipe.source
            info = src.facts
            if info is None or id(src) in seen:
                continue
            if src.source_class not in ("mindspore.dataset.ImageFolderDataset", "mindspore.dataset.NumpySlicesDataset",
                                        "mindspore.dataset.GeneratorDataset"):
                continue
            cols = ctx.data.stage_columns(pipe, env)
            if not isinstance(cols, list) or not cols:
                continue
            col = cols[0]
            state = ctx.data.final_state(pipe, col, env)
            if state is None or state.dtype != "uint8" or state.layout != "HWC" or state.scale != "0-255":
                continue
            seen.add(id(src))
            vision, imp = ctx.ensure_module("mindspore.dataset.vision", "vision")
            map_text = (f".map(operations=[{vision}.Rescale(1.0 / 255.0, 0.0), {vision}.HWC2CHW()], "
                        f"input_columns=\"{col}\")")
            edit = insert_map_edit(ctx, src, [pipe], map_text)
            fix = None
            if edit is not None:
                edits = [edit]
                imp_edit = ctx.imports_edit([imp])
                if imp_edit is not None:
                    edits.append(imp_edit)
                fix = Fix.unsafe("Insert Rescale and HWC2CHW maps before `batch`", *edits)
            short = src.source_class.rsplit(".", 1)[-1]
            how = "decoded images" if state.decoded_by is not None or short == "ImageFolderDataset" else "arrays"
            ctx.report(
                src.call.node,
                f"column \"{col}\" of `{short}` reaches the network as raw uint8 HWC {how}: no "
                f"Rescale/Normalize/HWC2CHW/ToTensor map; Conv2D raises TypeError on uint8 input",
                fix=fix,
                top=src.call.top,
            )

    def _check_readers(self, ctx):
        done = set()
        for src, leaves in ctx.data.sources_reaching_network():
            info = src.facts
            if info is None:
                continue
            for col, spec in info["columns"].items():
                if spec.get("kind") != "image" or spec.get("layout") != "HWC" or spec.get("dtype") != "uint8":
                    continue
                raw = True
                for leaf in leaves:
                    maps = ctx.data.maps_on_column(leaf, col)
                    if maps is UNKNOWN:
                        raw = False
                        break
                    if any(op.short in PREPROCESSING for _, ops in maps for op in ops):
                        raw = False
                        break
                if not raw:
                    continue
                vision, imp = ctx.ensure_module("mindspore.dataset.vision", "vision")
                stats = ctx.api.facts().normalize_stats(src.source_class)
                ops = [f"{vision}.Rescale(1.0 / 255.0, 0.0)"]
                if stats:
                    mean = [round(x / 255.0, 4) for x in stats["mean"]]
                    std = [round(x / 255.0, 4) for x in stats["std"]]
                    ops.append(f"{vision}.Normalize(mean={mean}, std={std})")
                ops.append(f"{vision}.HWC2CHW()")
                map_text = f".map(operations=[{', '.join(ops)}], input_columns=\"{col}\")"
                edit = insert_map_edit(ctx, src, leaves, map_text)
                fix = None
                if edit is not None:
                    edits = [edit]
                    imp_edit = ctx.imports_edit([imp])
                    if imp_edit is not None:
                        edits.append(imp_edit)
                    fix = Fix.unsafe("Insert Rescale, Normalize and HWC2CHW maps before `batch`", *edits)
                done.add(id(src))
                shape = "x".join(str(x) for x in spec.get("shape", ())) or "HWC"
                short = src.source_class.rsplit(".", 1)[-1]
                ctx.report(
                    src.call.node,
                    f"column \"{col}\" of `{short}` reaches the network as raw uint8 HWC ({shape}): "
                    f"no Rescale/Normalize/HWC2CHW/ToTensor map; Conv2D raises TypeError on uint8 input",
                    fix=fix,
                    top=src.call.top,
                )
        return done

"""MS309: a layer built for an input size that is not what reaches it from the data."""

from msfix.diagnostics import Applicability, Fix, Severity
from msfix.fixes.edits import replace_expr
from msfix.rule import Example, Rule
from msfix.rules.network._shapes import origin_text

_LENET_28 = """import mindspore.dataset as ds
import mindspore.dataset.vision as vision
from mindspore import nn
from mindspore.train import Model


class LeNet5(nn.Cell):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, pad_mode="valid")
        self.conv2 = nn.Conv2d(6, 16, 5, pad_mode="valid")
        self.pool = nn.MaxPool2d(2, 2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Dense({features}, 10)

    def construct(self, x):
        x = self.pool(self.conv1(x))
        x = self.pool(self.conv2(x))
        return self.fc1(self.flatten(x))


data = ds.MnistDataset("mnist").map([vision.Rescale(1 / 255, 0), vision.HWC2CHW()], "image").batch(32)
net = LeNet5()
model = Model(net, nn.SoftmaxCrossEntropyWithLogits(sparse=True), nn.Adam(net.trainable_params()))
model.train(1, data)
"""


class LayerInputMismatch(Rule):
    code = "MS309"
    name = "layer-input-mismatch"
    severity = Severity.ERROR
    summary = ("A `Dense`/`Conv`/`BatchNorm` layer whose input size is not what the dataset's samples give it "
               "after the layers before it.")
    fix_applicability = Applicability.UNSAFE
    versions = "MindSpore 2.x"
    doc = """
    ## What it does
    Follows the shape of the dataset's samples (MNIST and FashionMNIST 28x28x1, CIFAR
    32x32x3, an ImageFolder after its Resize or crop) through the pipeline (Resize,
    crops, Pad, HWC2CHW, ToTensor, batch) to the NCHW tensor that reaches the network
    (the one given to `Model`, also inside `nn.WithLossCell`/`nn.TrainOneStepCell`, or
    called in a forward function whose argument comes, through `value_and_grad` and the
    train step, from a loop over `create_tuple_iterator()`/`create_dict_iterator()`),
    then through the network's `construct` (straight-line code, `nn.SequentialCell`,
    Cells defined in the script, `flatten`, `reshape`/`view`) with MindSpore 2.10's
    layer semantics (Conv `pad_mode` defaults to 'same', pools to 'valid' with stride
    1). Flags the first layer on the path whose size does not match what reaches it:
    `nn.Dense` `in_channels` against the flattened features, `nn.Conv1d/2d`
    `in_channels` against the data's channels, `nn.BatchNorm1d/2d` `num_features`
    against the channels. The message shows the shape path. Where a shape is not
    known (an op msfix does not model, a branch in `construct`), nothing is reported.

    ## Why is this bad?
    The network fails on its first batch: LeNet-5 copied from a 32x32 CIFAR tutorial
    onto 28x28 MNIST keeps `nn.Dense(16 * 5 * 5, 120)`, but two valid 5x5
    convolutions and two 2x2 pools leave 16x4x4 = 256 features, and MindSpore 2.10
    raises `ValueError: For 'MatMul' the input dimensions must be equal, but got
    'x1_col': 256 and 'x2_row': 400`; `nn.Conv2d(3, 32, 3)` on grayscale
    FashionMNIST raises `RuntimeError: For 'Conv2D', 'C_in' of input 'x' shape divide
    by parameter 'group' must be equal to 'C_in' of input 'weight' shape: 3, but got
    'C_in' of input 'x' shape: 1`. Only the first mismatch on a path is reported: the
    shapes after it depend on how it is fixed.

    ## Example
    ```python
    self.fc1 = nn.Dense(16 * 5 * 5, 120)  # MNIST: 16x4x4 reach it
    ```

    Use instead:
    ```python
    self.fc1 = nn.Dense(16 * 4 * 4, 120)
    ```

    ## Fix safety
    Unsafe: writes the computed size where it is written as a literal (in the layer
    call, or the argument or default of the Cell's `__init__` parameter it reads). It
    makes the layer fit the data, which changes the model (its weights no longer load
    from a checkpoint of the old shape), and a later layer may need changing too;
    resizing the images instead (a `Resize((32, 32))`) may be what was meant.
    """
    invalid = [
        Example(_LENET_28.format(features="16 * 5 * 5"), expect=(14,),
                fixed=_LENET_28.format(features="16 * 4 * 4")),
    ]
    valid = [
        Example(_LENET_28.format(features="16 * 4 * 4")),
    ]

    def check(self, ctx):
        for rec in ctx.network.layer_inputs():
            if not rec.mismatch or not rec.first:
                continue
            site = rec.layer
            arg = site.arg(rec.param, 0)
            if arg is None:
                continue
            cls = ctx.network.nn_class(site.qualname) or "layer"
            what = {"in_channels": "in_channels", "in_features": "in_features",
                    "num_features": "num_features"}[rec.param]
            if cls.startswith("Dense") or cls == "Linear":
                kind = "features"
            else:
                kind = "channels"
            src = rec.dataset
            data = f"`{ctx.source(src.node.func)}` samples" if src is not None else "the data"
            fix = None
            if rec.fix_expr is not None:
                top = rec.fix_top if rec.fix_top is not None else site.top
                fix = Fix.unsafe(f"Set `{what}` to {rec.fix_text}",
                                 replace_expr(ctx, rec.fix_expr, rec.fix_text, top))
            ctx.report(
                arg.value,
                f"the input {kind} from {data} do not fit `{rec.label}`: {rec.path}, but {rec.label} expects "
                f"{rec.expected} (`{what}`{origin_text(ctx, rec)}); MindSpore raises on the first batch",
                fix=fix, top=site.top,
            )

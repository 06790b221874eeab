"""MS310: the classifier has fewer outputs than the dataset has classes, with a sparse loss."""

from msfix.diagnostics import Applicability, Fix, Severity
from msfix.fixes.edits import replace_expr
from msfix.rule import Example, Rule
from msfix.rules.network._shapes import origin_text

_NET = """import mindspore.dataset as ds
import mindspore.dataset.vision as vision
from mindspore import nn
from mindspore.train import Model


class Net(nn.Cell):
    def __init__(self, num_classes={n}):
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc = nn.Dense(28 * 28, num_classes)

    def construct(self, x):
        return self.fc(self.flatten(x))


data = ds.MnistDataset("mnist").map([vision.Rescale(1 / 255, 0), vision.HWC2CHW()], "image").batch(32)
net = Net()
model = Model(net, nn.SoftmaxCrossEntropyWithLogits(sparse=True), nn.Adam(net.trainable_params()))
model.train(1, data)
"""


class ClassifierSmallerThanClasses(Rule):
    code = "MS310"
    name = "classifier-smaller-than-classes"
    severity = Severity.ERROR
    summary = ("The network's output size is smaller than the number of classes of the dataset's labels, "
               "with a sparse loss.")
    fix_applicability = Applicability.UNSAFE
    versions = "MindSpore 2.x"
    doc = """
    ## What it does
    Flags the `nn.Dense` that sets a network's output size when it is smaller than the
    number of classes in the labels the loss reads: a dataset whose classes are known
    (MNIST, FashionMNIST, KMNIST and CIFAR-10: 10; CIFAR-100: 20 coarse, 100 fine),
    its label column left as the reader gives it (a cast at most: no filter, sampler
    or label transform), with a sparse loss (`nn.SoftmaxCrossEntropyWithLogits(sparse=True)`,
    `nn.CrossEntropyLoss`, `nn.NLLLoss`; labels not cast to a float type) paired with
    the network by `Model` or `nn.WithLossCell`, or called as `loss_fn(net(data), label)`
    in a forward function fed from a loop over the dataset's iterator.

    ## Why is this bad?
    A sparse loss reads each label as the index of a logit; a label `>=` the output
    size has none. On the 2.10 CPU wheel, `SoftmaxCrossEntropyWithLogits(sparse=True)`
    raises `RuntimeError: For 'SparseSoftmaxCrossEntropyWithLogits' got error label!
    label[index] must <= class_num` and `nn.CrossEntropyLoss` raises `For 'GatherD',
    the value of 'index' must be in [-5, 5)` as soon as a batch holds such a label;
    other devices may not check, and train on wrong targets.

    ## Example
    ```python
    self.fc = nn.Dense(84, 5)  # MNIST: 10 classes
    ```

    Use instead:
    ```python
    self.fc = nn.Dense(84, 10)
    ```

    ## Fix safety
    Unsafe: writes the class count where the output size is written as a literal (in
    the layer call, or the argument or default of the Cell's `__init__` parameter it
    reads). A smaller head may be intended with labels remapped in code msfix does not
    follow.
    """
    invalid = [
        Example(_NET.format(n=5), expect=(11,), fixed=_NET.format(n=10)),
    ]
    valid = [
        Example(_NET.format(n=10)),
        Example(_NET.format(n=1000)),
    ]

    def check(self, ctx):
        for cl in ctx.network.classifiers():
            if cl.out >= cl.classes:
                continue
            site = cl.layer
            param = "out_channels" if ctx.network.nn_class(site.qualname) == "Dense" else "out_features"
            arg = site.arg(param, 1)
            if arg is None:
                continue
            fix = None
            if cl.fix_expr is not None:
                top = cl.fix_top if cl.fix_top is not None else site.top
                fix = Fix.unsafe(f"Set `{param}` to {cl.classes}", replace_expr(ctx, cl.fix_expr, str(cl.classes), top))
            data = ctx.source(cl.dataset.node.func)
            loss = ctx.source(cl.loss.node)
            ctx.report(
                arg.value,
                f"`{cl.label}` gives {cl.out} outputs (`{param}`{origin_text(ctx, cl)}), but the `{cl.column}` column of "
                f"`{data}` holds {cl.classes} classes (0-{cl.classes - 1}) and `{loss}` reads each label as the "
                f"index of a logit: MindSpore raises on the first batch with a label >= {cl.out}",
                fix=fix, top=site.top,
            )

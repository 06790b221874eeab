"""MS405: Model.train(dataset, epochs): the arguments swapped."""

from msfix.context import TRAIN_QUALNAMES
from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule


class ModelTrainArgumentOrder(Rule):
    code = "MS405"
    name = "model-train-argument-order"
    severity = Severity.ERROR
    summary = "`Model.train` takes the epoch count first and the dataset second."
    fix_applicability = Applicability.SAFE
    versions = "MindSpore 1.x and 2.x (checked on 2.10.0)"
    doc = """
    ## What it does
    Flags `model.train(dataset, epochs)` (and `model.fit`): a dataset msfix knows
    passed as the first positional argument, where `Model.train(epoch, train_dataset,
    ...)` expects the number of epochs.

    ## Why is this bad?
    Keras-style `fit(data, epochs)` order does not work in MindSpore:
    `Model.train` raises `TypeError: The input value must be int, but got
    'BatchDataset'` before the first step.

    ## Example
    ```python
    model.train(train_data, 10)
    ```

    Use instead:
    ```python
    model.train(10, train_data)
    ```

    ## Fix safety
    Safe when the other argument is an integer: the two positional arguments are
    swapped, which is the only order that runs.
    """
    invalid = [
        Example(
            "import mindspore.dataset as ds\nfrom mindspore import Model\n"
            "data = ds.MnistDataset('m', usage='train').batch(32)\n"
            "model = Model(net, loss, opt)\nmodel.train(data, 10)\n",
            expect=(5,),
            fixed="import mindspore.dataset as ds\nfrom mindspore import Model\n"
                  "data = ds.MnistDataset('m', usage='train').batch(32)\n"
                  "model = Model(net, loss, opt)\nmodel.train(10, data)\n",
        ),
    ]
    valid = [
        Example(
            "import mindspore.dataset as ds\nfrom mindspore import Model\n"
            "data = ds.MnistDataset('m', usage='train').batch(32)\n"
            "model = Model(net, loss, opt)\nmodel.train(10, data)\n"),
        Example("from mindspore import Model\nmodel = Model(net, loss, opt)\nmodel.train(epochs, data)\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        for site in m.calls_to(*TRAIN_QUALNAMES, "mindspore.train.Model.fit"):
            first, second = site.positional(0), site.positional(1)
            if first is None or site.has_star_args:
                continue
            if m.pipeline_of(first.value, site.scope, site.order) is None:
                continue
            meth = site.method or "train"
            epochs = m.literal(second.value, site.scope, site.order) if second is not None else None
            fix = None
            if second is not None and isinstance(epochs, int) and not isinstance(epochs, bool):
                fix = Fix.safe("Swap the epoch count and the dataset",
                               ctx.replace(first.value, ctx.source(second.value), site.top),
                               ctx.replace(second.value, ctx.source(first.value), site.top))
            ctx.report(
                first.value,
                f"`Model.{meth}` takes the number of epochs first: `{ctx.source(first.value)}` is a dataset, so "
                f"the call raises TypeError: The input value must be int; write "
                f"`{meth}({ctx.source(second.value) if second is not None else 'epochs'}, "
                f"{ctx.source(first.value)}, ...)`",
                fix=fix,
                top=site.top,
            )

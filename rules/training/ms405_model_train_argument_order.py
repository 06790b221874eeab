"""MS405: Model.train(dataset, epochs): the arguments swapped."""

import libcst as cst

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
    ...)` expects the number of epochs. The epoch count may come from anywhere (a
    constant, an argparse option, a config); the dataset may be a helper's parameter,
    flagged when a call of the helper passes a dataset for it (the message names the
    call).

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
    swapped, which is the only order that runs. In a helper, only when every call of
    the helper passes a dataset and an integer.
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
            given = _dataset_calls(ctx, first.value, site)
            if not given:
                continue
            meth = site.method or "train"
            epochs = ctx.values.per_call(second.value, site.scope, site.order, site.statement) \
                if second is not None else []
            fix = None
            # a helper's parameters: swapped in the helper only when every call passes a dataset
            # first and an int second
            if epochs and all(isinstance(v, int) and not isinstance(v, bool) for v, _ in epochs) \
                    and (given == [None] or None not in given):
                fix = Fix.safe("Swap the epoch count and the dataset",
                               ctx.replace(first.value, ctx.source(second.value), site.top),
                               ctx.replace(second.value, ctx.source(first.value), site.top))
            where = ""
            call = given[0]
            if call is not None:
                fn = call.qualname[len("<local>."):]
                line = ctx.span(call.node, call.top).line
                where = f" (given to `{fn}` on line {line})"
            ctx.report(
                first.value,
                f"`Model.{meth}` takes the number of epochs first: `{ctx.source(first.value)}` is a dataset"
                f"{where}, so the call raises TypeError: The input value must be int; write "
                f"`{meth}({ctx.source(second.value) if second is not None else 'epochs'}, "
                f"{ctx.source(first.value)}, ...)`",
                fix=fix,
                top=site.top,
            )


def _dataset_calls(ctx, expr, site):
    """[None] when `expr` holds a dataset at `site`; for a parameter of the script
    function `site` is in, the calls of that function that pass a dataset for it, with
    None added when another call passes something else; [] otherwise."""
    m = ctx.model
    if m.pipeline_of(expr, site.scope, site.order) is not None:
        return [None]
    scope = site.scope
    if not isinstance(expr, cst.Name) or scope.kind != "function" or not isinstance(scope.node, cst.FunctionDef):
        return []
    b = m.lookup(expr.value, scope, site.order)
    if b is None or b.kind != "param" or b.scope is not scope:
        return []
    out, other = [], False
    for call in ctx.data.call_sites(scope):
        arg = ctx.data.param_arg(call, scope.node, expr.value)
        if isinstance(arg, cst.BaseExpression) and m.pipeline_of(arg, call.scope, call.order) is not None:
            out.append(call)
        else:
            other = True
    return out + [None] if out and other else out

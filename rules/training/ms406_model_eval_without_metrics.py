"""MS406: Model.eval on a Model built without metrics; metrics without loss_fn/eval_network."""

from msfix.context import EVAL_QUALNAMES, MODEL_ARGS, MODEL_QUALNAMES
from msfix.diagnostics import Severity
from msfix.rule import Example, Rule


class ModelEvalWithoutMetrics(Rule):
    code = "MS406"
    name = "model-eval-without-metrics"
    severity = Severity.ERROR
    summary = "`Model.eval` needs a Model built with `metrics` (and `metrics` needs a loss or `eval_network`)."
    versions = "MindSpore 1.x and 2.x (checked on 2.10.0)"
    doc = """
    ## What it does
    Flags `model.eval(dataset)` when the `Model` was built without `metrics`, and
    `Model(net, metrics=...)` built with neither `loss_fn` nor `eval_network`.

    ## Why is this bad?
    `Model.eval` computes the metrics given to the Model; with none it raises
    `ValueError: For Model.eval, the model argument 'metrics' can not be None or empty`
    (after training has run, when it is the last line of the script). A Model with
    `metrics` but no loss function and no `eval_network` has nothing to evaluate and
    raises `ValueError: If metrics is set, eval_network must not be None` when it is
    built.

    ## Example
    ```python
    model = Model(net, loss_fn, optimizer)
    model.train(10, train_data)
    acc = model.eval(test_data)
    ```

    Use instead:
    ```python
    model = Model(net, loss_fn, optimizer, metrics={"accuracy"})
    ```

    ## Fix safety
    No automatic fix: which metrics to compute is the author's choice.
    """
    invalid = [
        Example("from mindspore import Model\nmodel = Model(net, loss_fn, opt)\nmodel.eval(test_data)\n",
                expect=(3,)),
        Example("from mindspore import Model\nmodel = Model(net, metrics={'acc'})\n", expect=(2,)),
    ]
    valid = [
        Example("from mindspore import Model\nmodel = Model(net, loss_fn, opt, metrics={'acc'})\n"
                "model.eval(test_data)\n"),
        Example("from mindspore import Model\nmodel = Model(net, eval_network=ev, metrics={'acc'})\n"),
        Example("from mindspore import Model\nmodel = Model(net, **kw)\nmodel.eval(test_data)\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        for site in m.calls_to(*MODEL_QUALNAMES):
            if site.has_star_args:
                continue
            metrics = site.arg("metrics", MODEL_ARGS["metrics"])
            if metrics is None or m.literal(metrics.value, site.scope, site.order) in (None, {}, [], ()):
                continue
            loss = site.arg("loss_fn", 1)
            evn = site.arg("eval_network", 4)
            if (loss is None or m.literal(loss.value, site.scope, site.order) is None) and \
                    (evn is None or m.literal(evn.value, site.scope, site.order) is None):
                ctx.report(site.node,
                           "`Model` is given `metrics` but neither `loss_fn` nor `eval_network`: building it raises "
                           "ValueError (If `metrics` is set, `eval_network` must not be None); pass the loss "
                           "function or an evaluation network",
                           top=site.top)
        for site in m.calls_to(*EVAL_QUALNAMES):
            info = ctx.training.model_of(site)
            if info is None or info.call.has_star_args:
                continue
            metrics = info.arg("metrics")
            if metrics is not None:
                v = m.literal(metrics.value, info.call.scope, info.call.order)
                if v not in (None, {}, [], ()):
                    continue
            ctx.report(site.node,
                       f"`Model` (line {ctx.span(info.call.node, info.call.top).line}) was built without `metrics`, "
                       f"so `{ctx.source(site.node.func)}(...)` raises ValueError (the model argument 'metrics' can "
                       f"not be None or empty); pass e.g. `metrics={{\"accuracy\"}}` to `Model`",
                       top=site.top)

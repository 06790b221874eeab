"""MS406: Model.eval on a Model built without metrics; metrics without loss_fn/eval_network."""

import libcst as cst

from msfix.context import EVAL_QUALNAMES, MODEL_ARGS, MODEL_QUALNAMES
from msfix.diagnostics import Applicability, Fix, Severity
from msfix.fixes.edits import append_kwarg, replace_expr
from msfix.rule import Example, Rule

# Losses whose labels are class indices or one-hot rows: `Accuracy` reads them.
CLASSIFICATION_LOSSES = ("mindspore.nn.SoftmaxCrossEntropyWithLogits", "mindspore.nn.CrossEntropyLoss",
                         "mindspore.nn.NLLLoss")
# Losses of a regression: `MAE` reads their labels (Accuracy raises ValueError on them).
REGRESSION_LOSSES = ("mindspore.nn.MSELoss", "mindspore.nn.L1Loss", "mindspore.nn.SmoothL1Loss",
                     "mindspore.nn.HuberLoss", "mindspore.nn.RMSELoss", "mindspore.nn.MAELoss")
# where a metric class is imported from: the 2.x home first, then 1.x
METRIC_HOMES = ("mindspore.train", "mindspore.nn")


class ModelEvalWithoutMetrics(Rule):
    code = "MS406"
    name = "model-eval-without-metrics"
    severity = Severity.ERROR
    summary = "`Model.eval` needs a Model built with `metrics` (and `metrics` needs a loss or `eval_network`)."
    versions = "MindSpore 1.x and 2.x (checked on 2.10.0)"
    fix_applicability = Applicability.UNSAFE
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
    Unsafe fix (`--unsafe-fixes`) for `model.eval` on a Model built with a loss function
    and without `metrics`: it adds `metrics=...` to the `Model(...)` call (or replaces a
    literal `metrics=None`), chosen from the loss the Model is built with: a
    classification loss (`SoftmaxCrossEntropyWithLogits`, `CrossEntropyLoss`, `NLLLoss`)
    gets `metrics={"accuracy": Accuracy()}`, a regression loss (`MSELoss`, `L1Loss`,
    `SmoothL1Loss`, ...) `metrics={"mae": MAE()}` (`Accuracy` raises ValueError on
    regression labels on 2.10), and any other loss `metrics={"loss"}` (the mean loss,
    which every Model with a loss function can compute). The class is imported from
    `mindspore.train` (2.x; `mindspore.nn` for 1.x targets) unless the script already
    imports it. It is unsafe because which metric to compute is the author's choice, and
    code that reads the result of `eval` by key needs that key. A Model with `metrics`
    but neither a loss function nor an `eval_network` gets no fix: which loss or
    evaluation network to pass is not in the script.
    """
    invalid = [
        Example("from mindspore import Model\nmodel = Model(net, loss_fn, opt)\nmodel.eval(test_data)\n",
                expect=(3,), fixed="from mindspore import Model\nmodel = Model(net, loss_fn, opt, metrics={\"loss\"})\n"
                                   "model.eval(test_data)\n"),
        Example("from mindspore import Model, nn\nmodel = Model(net, nn.CrossEntropyLoss(), opt)\n"
                "model.eval(test_data)\n",
                expect=(3,), fixed="from mindspore import Model, nn\nfrom mindspore.train import Accuracy\n"
                                   "model = Model(net, nn.CrossEntropyLoss(), opt, metrics={\"accuracy\": Accuracy()})\n"
                                   "model.eval(test_data)\n"),
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
                       fix=_metrics_fix(ctx, info.call, metrics), top=site.top)


def _metrics_fix(ctx, call, metrics):
    """Add `metrics=...` to the Model call `call` (built with a loss function): Accuracy
    for a classification loss, MAE for a regression loss, the mean loss otherwise."""
    m = ctx.model
    loss = call.arg("loss_fn", MODEL_ARGS["loss_fn"])
    if loss is None or m.literal(loss.value, call.scope, call.order) is None:
        return None  # metrics then need an eval_network: not in the script
    if metrics is not None and not (isinstance(metrics.value, cst.Name) and metrics.value.value == "None"):
        return None  # an empty or computed value: the author's own, left alone
    loss_site = ctx.data.loss_of_model(call)
    q = loss_site.qualname if loss_site is not None else None
    imports = []
    if q in CLASSIFICATION_LOSSES or q in REGRESSION_LOSSES:
        cls, key = ("Accuracy", "accuracy") if q in CLASSIFICATION_LOSSES else ("MAE", "mae")
        name = _metric_class(ctx, cls, call.order, imports)
        if name is None:
            return None
        value, what = f'{{"{key}": {name}()}}', f"`{cls}`"
    else:
        value, what = '{"loss"}', "the mean loss"
    edits = [replace_expr(ctx, metrics.value, value, call.top) if metrics is not None
             else append_kwarg(ctx, call.node, f"metrics={value}", call.top)]
    if imports:
        e = ctx.imports_edit(imports)
        if e is None:
            return None
        edits.append(e)
    return Fix.unsafe(f"Build the `Model` with `metrics={value}` ({what}; which metric is the author's choice)",
                      *edits)


def _metric_class(ctx, cls, order, imports):
    """The name to call metric class `cls` by (importing it when the script does not)."""
    homes = [h for h in METRIC_HOMES if ctx.api.exists(f"{h}.{cls}")]
    if not homes:
        return None
    # the script's own import of it, from any of its homes
    for q in (f"mindspore.train.{cls}", f"mindspore.train.metrics.{cls}", f"mindspore.nn.{cls}",
              f"mindspore.nn.metrics.{cls}", f"mindspore.{cls}"):
        have = ctx.module_alias(q, order)
        if have is not None:
            return have
    name, stmt = ctx.ensure_module(f"{homes[0]}.{cls}", cls, before=order)
    if stmt is not None:
        imports.append(stmt)
    return name

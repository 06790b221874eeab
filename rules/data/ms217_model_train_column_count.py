"""MS217: a dataset given to `Model(net, loss_fn).train/eval` does not have two columns."""

import libcst as cst

from msfix.context import UNKNOWN
from msfix.diagnostics import Applicability, Fix, Severity
from msfix.fixes.edits import replace_expr
from msfix.rule import Example, Rule
from msfix.rules.data._pipeline import Once, envs_lines

_ERRORS = {
    "train": "ValueError: When 'loss_fn' is not None, 'train_dataset' should return two elements, but got {n}",
    "eval": "TypeError: WithEvalCell.construct() takes 3 positional arguments but {n1} were given",
}


class ModelTrainColumnCount(Rule):
    code = "MS217"
    name = "model-train-column-count"
    severity = Severity.ERROR
    summary = "A dataset given to `Model(net, loss_fn)`'s `train`/`eval` does not have exactly two columns."
    versions = "MindSpore 1.x and 2.x (verified on 2.10)"
    fix_applicability = Applicability.UNSAFE
    doc = """
    ## What it does
    Follows the column names of each dataset passed to `Model.train`, `Model.fit` or
    `Model.eval` (from its source through `rename`, `project` and `map(...,
    output_columns=...)`; `Cifar100Dataset` yields image, coarse_label, fine_label) and
    flags one whose column count at the end of its pipeline is not two when the `Model`
    is built with a `loss_fn` (and, for `eval`, no `eval_network`).

    ## Why is this bad?
    With a `loss_fn`, `Model` wraps the network in `WithLossCell(net, loss_fn)` (for eval,
    `WithEvalCell`), whose `construct(data, label)` takes exactly the network input and
    the label. On MindSpore 2.10 `model.train` with a three-column dataset raises
    `ValueError: When 'loss_fn' is not None, 'train_dataset' should return two elements,
    but got 3` and `model.eval` raises `TypeError: WithEvalCell.construct() takes 3
    positional arguments but 4 were given`.

    ## Example
    ```python
    data = ds.Cifar100Dataset(path, usage="train").batch(64)
    model = ms.Model(net, nn.SoftmaxCrossEntropyWithLogits(sparse=True), opt)
    model.train(10, data)
    ```

    Use instead:
    ```python
    model.train(10, data.project(["image", "fine_label"]))
    ```

    ## Fix safety
    Unsafe fix (`--unsafe-fixes`): the dataset argument gets `.project([input, label])`
    only when the choice is certain: exactly one column is not a label column (a column
    the dataset facts give a class count), and exactly one label column has as many
    classes as the network's output size (its final `Dense`), the same for every use of
    the pipeline (a CIFAR-100 network with 100 outputs: `fine_label`; 20: `coarse_label`).
    It is unsafe because dropping a column changes what the script trains on. Otherwise
    no fix; the message lists the columns.
    """
    invalid = [
        Example(
            "import mindspore as ms\nimport mindspore.nn as nn\nimport mindspore.dataset as ds\n"
            "d = ds.Cifar100Dataset('c').batch(8)\n"
            "net = nn.SequentialCell([nn.Flatten(), nn.Dense(3072, 100)])\n"
            "model = ms.Model(net, nn.SoftmaxCrossEntropyWithLogits(sparse=True), nn.Momentum(net.trainable_params(), 0.1, 0.9))\n"
            "model.train(1, d)\n",
            expect=(7,),
            fixed="import mindspore as ms\nimport mindspore.nn as nn\nimport mindspore.dataset as ds\n"
                  "d = ds.Cifar100Dataset('c').batch(8)\n"
                  "net = nn.SequentialCell([nn.Flatten(), nn.Dense(3072, 100)])\n"
                  "model = ms.Model(net, nn.SoftmaxCrossEntropyWithLogits(sparse=True), nn.Momentum(net.trainable_params(), 0.1, 0.9))\n"
                  "model.train(1, d.project([\"image\", \"fine_label\"]))\n",
        ),
    ]
    valid = [
        Example("import mindspore as ms\nimport mindspore.nn as nn\nimport mindspore.dataset as ds\n"
                "d = ds.Cifar10Dataset('c').batch(8)\n"
                "model = ms.Model(net, nn.SoftmaxCrossEntropyWithLogits(sparse=True), opt)\n"
                "model.train(1, d)\n"),
        Example("import mindspore as ms\nimport mindspore.dataset as ds\n"
                "d = ds.Cifar100Dataset('c').batch(8)\n"
                "model = ms.Model(net_with_loss, optimizer=opt)\n"
                "model.train(1, d)\n"),
    ]

    def check(self, ctx):
        once = Once()
        for use in ctx.data.uses():
            mc = use.model_call
            if mc is None or mc.has_star_args or use.site.has_star_args:
                continue
            loss = mc.arg("loss_fn", 1)
            if loss is None or ctx.values.of(loss.value, mc.scope, mc.order) is None:
                continue  # no loss: the network takes every column
            if use.role == "eval" and mc.arg("eval_network", 4) is not None:
                continue
            cols = ctx.data.stage_columns(use.view.pipe, use.view.env)
            if cols is UNKNOWN or not isinstance(cols, list) or not cols or len(cols) == 2:
                continue
            arg = use.site.arg("valid_dataset", 0) if use.site.method == "eval" else \
                use.site.arg("train_dataset", 1) if use.role == "train" else use.site.arg("valid_dataset", 2)
            if arg is None or not once(arg):
                continue
            n = len(cols)
            src = use.view.source.source_class.rsplit(".", 1)[-1]
            listed = ", ".join(f'"{c}"' for c in cols)
            err = _ERRORS[use.role].format(n=n, n1=n + 1)
            ctx.report(
                arg.value,
                f"`Model.{use.site.method}` gets {n} column{'s' if n != 1 else ''} ({listed}) from the `{src}` "
                f"pipeline{envs_lines(ctx, use.view.env)}, but a `Model` with a `loss_fn` passes exactly two "
                f"(the network input and the label) to `construct(data, label)`: {err}",
                fix=_project_fix(ctx, use, arg, cols), top=use.site.top,
            )


def _project_fix(ctx, use, arg, cols):
    """`<dataset>.project([input, label])` when the input and the label are certain."""
    if len(cols) < 2 or not isinstance(arg.value, (cst.Name, cst.Attribute, cst.Call)):
        return None
    spec = ctx.data.source_columns(use.view.source, use.view.env)
    if spec is UNKNOWN:
        return None
    labels = [c for c in cols if isinstance((spec.get(c) or {}).get("classes"), int)]
    inputs = [c for c in cols if c not in labels]
    if len(inputs) != 1 or not labels:
        return None
    label = ctx.network.label_for_output(use.view.pipe, labels)
    if label is None:
        return None
    text = f'{ctx.source(arg.value)}.project(["{inputs[0]}", "{label}"])'
    return Fix.unsafe(f'Keep the network input and the label whose class count matches the network output: '
                      f'`.project(["{inputs[0]}", "{label}"])`', replace_expr(ctx, arg.value, text, use.site.top))

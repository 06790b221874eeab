"""MS208: integer labels with SoftmaxCrossEntropyWithLogits left at sparse=False."""

import libcst as cst

from msfix.context import INT_DTYPES
from msfix.diagnostics import Applicability, Edit, Fix, Severity
from msfix.rule import Example, Rule

SCE = "mindspore.nn.SoftmaxCrossEntropyWithLogits"


class SparseFlagMissing(Rule):
    code = "MS208"
    name = "sparse-flag-missing"
    severity = Severity.ERROR
    summary = "Integer class labels with `SoftmaxCrossEntropyWithLogits()`, whose `sparse` defaults to False."
    fix_applicability = Applicability.UNSAFE
    versions = "MindSpore 1.x and 2.x (verified on 2.10)"
    doc = """
    ## What it does
    Flags a `Model` whose loss is `nn.SoftmaxCrossEntropyWithLogits` without
    `sparse=True` when the dataset it trains or evaluates on yields integer labels
    (the CIFAR/MNIST/ImageFolder readers, integer NumPy arrays, a `TypeCast` to an
    integer type) with no `OneHot` on them. A `sparse` flag set elsewhere (an argparse
    default, a config entry, a constant, the call of a script helper that builds and
    returns the loss) is followed, and the message says where it comes from.

    ## Why is this bad?
    `sparse` defaults to False: the loss then expects one-hot float labels of the same
    shape as the logits. Integer class indices fail at the first step with `TypeError:
    ... input type must be same ... label_type Tensor[Int32] ... logits_type
    Tensor[Float32]` (MindSpore 2.10). PyTorch's `CrossEntropyLoss` takes class
    indices by default, so ports often miss the flag.

    ## Example
    ```python
    loss = nn.SoftmaxCrossEntropyWithLogits()
    model = Model(net, loss, opt)
    model.train(10, cifar_train)  # labels are class indices
    ```

    Use instead:
    ```python
    loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")
    ```

    ## Fix safety
    Unsafe: the fix sets `sparse=True`, the reading that matches integer labels; a
    pipeline that one-hot encodes the labels in a Python function msfix cannot read
    would need `sparse=False`. With uint32 labels the loss then also needs a cast
    (MS204). A flag set elsewhere gets no fix: it is changed where it is set.
    """
    invalid = [
        Example(
            "import mindspore.dataset as ds\nimport mindspore.nn as nn\nfrom mindspore import Model\n"
            "data = ds.MnistDataset('m', usage='train').batch(32)\n"
            "model = Model(net, nn.SoftmaxCrossEntropyWithLogits(), opt)\n"
            "model.train(1, data)\n",
            expect=(5,),
            fixed="import mindspore.dataset as ds\nimport mindspore.nn as nn\nfrom mindspore import Model\n"
                  "data = ds.MnistDataset('m', usage='train').batch(32)\n"
                  "model = Model(net, nn.SoftmaxCrossEntropyWithLogits(sparse=True), opt)\n"
                  "model.train(1, data)\n",
        ),
    ]
    valid = [
        Example(
            "import mindspore.dataset as ds\nimport mindspore.nn as nn\nfrom mindspore import Model\n"
            "data = ds.MnistDataset('m', usage='train').batch(32)\n"
            "model = Model(net, nn.SoftmaxCrossEntropyWithLogits(sparse=True), opt)\n"
            "model.train(1, data)\n"),
        Example(
            "import mindspore.dataset as ds\nimport mindspore.nn as nn\nfrom mindspore import Model\n"
            "import mindspore.dataset.transforms as T\n"
            "data = ds.MnistDataset('m', usage='train').map(T.OneHot(10), 'label').batch(32)\n"
            "model = Model(net, nn.SoftmaxCrossEntropyWithLogits(), opt)\n"
            "model.train(1, data)\n"),
    ]

    def check(self, ctx):
        seen = set()
        for use in ctx.data.uses():
            built = ctx.data.loss_of_model(use.model_call)
            if built is None:
                continue
            # a helper that returns the loss: its SCE calls, parameters read from this call
            for loss, call in [(built, None)] if built.qualname == SCE else \
                    [(c, built) for c in ctx.data.returned_calls(built) if c.qualname == SCE]:
                key = (id(loss.node), id(call.node) if call is not None else None)
                if key in seen or loss.has_star_args:
                    continue
                if self._check(ctx, use, loss, call):
                    seen.add(key)

    def _check(self, ctx, use, loss, call) -> bool:
        sparse = loss.arg("sparse", 0)
        env = {loss.scope: call} if call is not None else None
        if sparse is not None and ctx.data.value(sparse.value, loss.scope, loss.order, env) is not False:
            return False
        pipe, denv = use.view.pipe, use.view.env
        col = ctx.data.label_column(pipe, denv)
        if col is None:
            return False
        dt = ctx.data.column_dtype(pipe, col, denv)
        if dt not in INT_DTYPES:
            return False
        written = sparse is None or isinstance(sparse.value, cst.Name) and sparse.value.value == "False"
        origin = None if written else ctx.values.origin(sparse.value, loss.scope, loss.order, ctx, call)
        if sparse is None and loss.node.args:
            edit = ctx.insert_before(loss.node.args[0], "sparse=True, ", loss.top)
        elif sparse is None:
            end = ctx.offsets(loss.node, loss.top)[1]
            edit = Edit(end - 1, end - 1, "sparse=True")
        elif written:
            edit = ctx.replace(sparse.value, "True", loss.top)
        else:
            edit = None  # set elsewhere (an option, a config entry, a helper's caller): changed there
        src = pipe.source.source_class.rsplit(".", 1)[-1]
        flag = "`sparse=False` (the default)" if sparse is None else "`sparse=False`"
        ctx.report(
            loss.node,
            f"`SoftmaxCrossEntropyWithLogits` has {flag}, but column \"{col}\" of "
            f"`{src}` (line {ctx.span(pipe.source.call.node, pipe.source.call.top).line}) holds {dt} class "
            f"indices: the loss expects one-hot float labels and raises TypeError at the first step; "
            f"pass `sparse=True`" + (f". The value comes from {origin}" if origin else ""),
            fix=Fix.unsafe("Set `sparse=True`", edit) if edit is not None else None,
            top=loss.top,
        )
        return True

"""MS204: uint32 labels reach a loss that only accepts int32/int64."""

from msfix.analysis.data import maps_on_column
from msfix.analysis.model import UNKNOWN
from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule
from msfix.rules._pipeline import insert_map_edit, sources_reaching_network

CASTS = {"TypeCast", "ToType"}

# loss class -> (condition on its literal kwargs, accepted label dtypes)
LOSSES = {
    "mindspore.nn.SoftmaxCrossEntropyWithLogits": ("sparse", "int32 or int64"),
    "mindspore.nn.CrossEntropyLoss": (None, "int32"),
    "mindspore.nn.NLLLoss": (None, "int32"),
}


def _loss_of_model(m, site):
    """The loss CallSite of the Model whose method `site` calls."""
    recv = site.node.func.value
    model_call = m.instance_call(recv, site.scope, site.order)
    if model_call is None or model_call.qualname != "mindspore.train.Model":
        return None
    arg = model_call.arg("loss_fn", 1)
    if arg is None:
        return None
    return m.instance_call(arg.value, model_call.scope, model_call.order)


class LabelDtypeMismatch(Rule):
    code = "MS204"
    name = "label-dtype-mismatch"
    severity = Severity.ERROR
    summary = "uint32 labels from a dataset reach a loss that rejects them."
    fix_applicability = Applicability.SAFE
    doc = """
    ## What it does
    Flags datasets whose label column is uint32 (CIFAR-10/100, MNIST, Fashion-MNIST
    readers) and reaches, without a `TypeCast`, a `Model` whose loss is
    `SoftmaxCrossEntropyWithLogits(sparse=True)`, `nn.CrossEntropyLoss` or `nn.NLLLoss`.

    ## Why is this bad?
    These losses accept only int32 (and for the sparse softmax loss int64) labels. The
    first step raises `TypeError: ... labels_type must be a type of {Tensor[Int32],
    Tensor[Int64]}, but got Tensor[UInt32]`, after the whole setup has run.

    ## Example
    ```python
    data = ds.Cifar10Dataset(path, usage="train").batch(32)
    model = Model(net, nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean"), opt)
    model.train(10, data)
    ```

    Use instead:
    ```python
    data = ds.Cifar10Dataset(path, usage="train")
    data = data.map(transforms.TypeCast(ms.int32), "label").batch(32)
    ```

    ## Fix safety
    Safe: casting class indices from uint32 to int32 keeps their values (class counts
    are far below 2**31) and is the only form the loss accepts.
    """
    invalid = [
        Example(
            "import mindspore.dataset as ds\nimport mindspore.nn as nn\nfrom mindspore import Model\n"
            "data = ds.MnistDataset('m', usage='train').batch(32)\n"
            "model = Model(net, nn.SoftmaxCrossEntropyWithLogits(sparse=True), opt)\n"
            "model.train(1, data)\n",
            expect=(4,),
            fixed="import mindspore.dataset as ds\nimport mindspore.nn as nn\nfrom mindspore import Model\n"
                  "import mindspore as ms\nfrom mindspore.dataset import transforms\n"
                  "data = ds.MnistDataset('m', usage='train')"
                  ".map(operations=transforms.TypeCast(ms.int32), input_columns=\"label\").batch(32)\n"
                  "model = Model(net, nn.SoftmaxCrossEntropyWithLogits(sparse=True), opt)\n"
                  "model.train(1, data)\n",
        ),
    ]
    valid = [
        Example(
            "import mindspore as ms\nimport mindspore.dataset as ds\nimport mindspore.nn as nn\n"
            "from mindspore import Model\nfrom mindspore.dataset import transforms\n"
            "data = ds.MnistDataset('m', usage='train')\n"
            "data = data.map(transforms.TypeCast(ms.int32), 'label').batch(32)\n"
            "model = Model(net, nn.SoftmaxCrossEntropyWithLogits(sparse=True), opt)\n"
            "model.train(1, data)\n"),
        Example(
            "import mindspore.dataset as ds\nimport mindspore.nn as nn\nfrom mindspore import Model\n"
            "data = ds.MnistDataset('m', usage='train').batch(32)\n"
            "model = Model(net, my_loss, opt)\n"
            "model.train(1, data)\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        for src, leaves in sources_reaching_network(m):
            info = src.facts
            if info is None:
                continue
            leaf_ids = {id(p) for p in leaves}
            losses = []
            for site in m.calls_to("mindspore.train.Model.train", "mindspore.train.Model.eval",
                                   "mindspore.train.Model.fit"):
                names = ("train_dataset", 1) if site.method in ("train", "fit") else ("valid_dataset", 0)
                arg = site.arg(*names)
                p = m.pipeline_of(arg.value, site.scope, site.order) if arg is not None else None
                if p is None or id(p) not in leaf_ids:
                    continue
                loss = _loss_of_model(m, site)
                if loss is None or loss.qualname not in LOSSES:
                    continue
                flag, accepted = LOSSES[loss.qualname]
                if flag is not None:
                    a = loss.keyword(flag)
                    if a is None or m.literal(a.value, loss.scope, loss.order) is not True:
                        continue
                losses.append((loss, accepted))
            if not losses:
                continue
            for col, spec in info["columns"].items():
                if spec.get("kind") != "label" or spec.get("dtype") != "uint32":
                    continue
                cast = False
                for leaf in leaves:
                    maps = maps_on_column(m, leaf, col)
                    if maps is UNKNOWN or any(op.short in CASTS for _, ops in maps for op in ops):
                        cast = True
                        break
                if cast:
                    continue
                loss, accepted = losses[0]
                ms_name, ms_imp = ctx.ensure_module("mindspore", "ms")
                tr_name, tr_imp = ctx.ensure_module("mindspore.dataset.transforms", "transforms")
                edit = insert_map_edit(
                    ctx, src, leaves,
                    f".map(operations={tr_name}.TypeCast({ms_name}.int32), input_columns=\"{col}\")")
                fix = None
                if edit is not None:
                    edits = [edit]
                    imp = ctx.imports_edit([ms_imp, tr_imp])
                    if imp is not None:
                        edits.append(imp)
                    fix = Fix.safe(f"Cast \"{col}\" to int32 before `batch`", *edits)
                short = src.source_class.rsplit(".", 1)[-1]
                loss_name = loss.qualname.rsplit(".", 1)[-1]
                ctx.report(
                    src.call.node,
                    f"column \"{col}\" of `{short}` is uint32, but `{loss_name}` "
                    f"(line {ctx.span(loss.node, loss.top).line}) accepts only {accepted} labels: "
                    f"TypeError at the first step; cast it with `TypeCast(mindspore.int32)`",
                    fix=fix,
                    top=src.call.top,
                )

"""MS204: labels whose dtype the loss rejects (uint32 from the readers, int64 with
nn.CrossEntropyLoss/NLLLoss, float with the sparse softmax loss)."""

import libcst as cst

from msfix.context import FLOAT_DTYPES, INT_DTYPES, UNKNOWN
from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule
from msfix.rules.data._pipeline import dtype_expr, dtype_origin, insert_map_edit

CASTS = {"TypeCast", "ToType"}

# loss class -> (condition on its literal kwargs, accepted label dtypes)
LOSSES = {
    "mindspore.nn.SoftmaxCrossEntropyWithLogits": ("sparse", "int32 or int64"),
    "mindspore.nn.CrossEntropyLoss": (None, "int32"),
    "mindspore.nn.NLLLoss": (None, "int32"),
}


INT32_ONLY = {"mindspore.nn.CrossEntropyLoss", "mindspore.nn.NLLLoss"}
SPARSE = "mindspore.nn.SoftmaxCrossEntropyWithLogits"


def _may_reach_loss(ctx, leaves, col):
    """Can `col` be the label a Model's loss gets: some leaf's columns are unknown, or it
    has two columns and `col` is one of them (with three, which one is unknown)."""
    for leaf in leaves:
        cols = ctx.data.stage_columns(leaf)
        if not isinstance(cols, list) or (len(cols) == 2 and col in cols):
            return True
    return False


def _loss_of_model(ctx, site):
    """The loss CallSite of the Model whose method `site` calls."""
    m = ctx.model
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
    summary = "Labels reach a loss that rejects their dtype (uint32, int64 with CrossEntropyLoss, float with sparse=True)."
    fix_applicability = Applicability.SAFE
    doc = """
    ## What it does
    Follows the label column of each dataset passed to `Model.train`/`eval`/`fit` to the
    `Model`'s loss, and the row of a `for x, y in data.create_tuple_iterator()` loop to a
    loss called on it (directly, or through script functions and `value_and_grad`), and
    flags dtypes the loss rejects:
    - uint32 labels (CIFAR-10/100, MNIST, Fashion-MNIST readers) without a `TypeCast`,
      with `SoftmaxCrossEntropyWithLogits(sparse=True)`, `nn.CrossEntropyLoss` or
      `nn.NLLLoss` (not a label column projected away before the `Model`, nor one of
      three columns, where which one is the label is unknown: MS217);
    - int64 labels (NumPy integer arrays such as `np.random.randint(...)` or
      `np.array([...])` in a NumpySlicesDataset or yielded by a GeneratorDataset source
      function or class, or a `TypeCast(int64)`) with
      `nn.CrossEntropyLoss` or `nn.NLLLoss`, which take int32 class indices only (int64
      is fine for the sparse softmax loss);
    - float labels with `SoftmaxCrossEntropyWithLogits(sparse=True)`.

    ## Why is this bad?
    The first step raises a TypeError after the whole setup has run: `labels_type must
    be a type of {Tensor[Int32], Tensor[Int64]}, but got Tensor[UInt32]` (sparse softmax
    loss), `the 'labels' should be Int32, but got 'mindspore.int64'`
    (`nn.CrossEntropyLoss`, MindSpore 2.10). Float class probabilities are valid for
    `nn.CrossEntropyLoss`, so float labels are only flagged with `sparse=True`.

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
    Safe for integer labels: casting class indices from uint32/int64 to int32 keeps
    their values (class counts are far below 2**31) and is the only form the loss
    accepts; a `TypeCast(int64)` in the pipeline is changed to int32. Float labels with
    `sparse=True` get an unsafe fix (cast to int32) when each label is a scalar; one-hot
    rows (shape `(N, C)`) need `sparse=False` instead and get no fix.
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
        Example(
            "import numpy as np\nimport mindspore.dataset as ds\nimport mindspore.nn as nn\n"
            "from mindspore import Model\n"
            "y = np.array([0, 1, 2, 1])\n"
            "data = ds.NumpySlicesDataset((np.ones((4, 3), np.float32), y), ['x', 'y']).batch(2)\n"
            "Model(net, nn.CrossEntropyLoss(), opt).train(1, data)\n",
            expect=(6,),
            fixed="import numpy as np\nimport mindspore.dataset as ds\nimport mindspore.nn as nn\n"
                  "from mindspore import Model\nimport mindspore as ms\nfrom mindspore.dataset import transforms\n"
                  "y = np.array([0, 1, 2, 1])\n"
                  "data = ds.NumpySlicesDataset((np.ones((4, 3), np.float32), y), ['x', 'y'])"
                  ".map(operations=transforms.TypeCast(ms.int32), input_columns=\"y\").batch(2)\n"
                  "Model(net, nn.CrossEntropyLoss(), opt).train(1, data)\n",
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
        self._check_uint32(ctx)
        self._check_other(ctx)

    def _check_other(self, ctx):
        m = ctx.model
        seen = set()
        found = []  # (use: has .view, loss CallSite, label column)
        for use in ctx.data.uses():
            loss = ctx.data.loss_of_model(use.model_call)
            if loss is not None:
                found.append((use, loss, ctx.data.label_column(use.view.pipe, use.view.env)))
        # a functional loop: `for x, y in data.create_tuple_iterator(): grad_fn(x, y)`
        found.extend((ll, ll.loss, ll.column) for ll in ctx.data.loop_label_losses())
        for use, loss, col in found:
            if loss.qualname not in LOSSES or col is None:
                continue
            pipe, env = use.view.pipe, use.view.env
            dt = ctx.data.column_dtype(pipe, col, env)
            if dt is None or dt == "uint32":
                continue
            loss_name = loss.qualname.rsplit(".", 1)[-1]
            sparse = loss.arg("sparse", 0)
            is_sparse = sparse is not None and m.literal(sparse.value, loss.scope, loss.order) is True
            if loss.qualname in INT32_ONLY and dt in INT_DTYPES and dt != "int32":
                problem = f"{dt}, but `{loss_name}` accepts only int32 class indices"
                float_labels = False
            elif loss.qualname == SPARSE and is_sparse and dt in FLOAT_DTYPES:
                problem = f"{dt}, but `{loss_name}(sparse=True)` needs int32 or int64 class indices"
                float_labels = True
            else:
                continue
            key = (id(pipe.source), col, id(loss.node))
            if key in seen:
                continue
            seen.add(key)
            self._report_other(ctx, use, loss, col, dt, problem, float_labels)

    def _report_other(self, ctx, use, loss, col, dt, problem, float_labels):
        pipe, env = use.view.pipe, use.view.env
        src = pipe.source
        # where the dtype comes from: a TypeCast in the pipeline, else the source
        cast_op = None
        for ev in ctx.data.column_events(pipe, col, env):
            if ev.kind == "op" and ev.op.short in CASTS:
                cast_op = ev.op
        line = ctx.span(loss.node, loss.top).line
        fix = None
        comes = ""
        if cast_op is not None:
            node, top = cast_op.node, cast_op.top
            arg = cast_op.call.args[0].value if cast_op.call is not None and cast_op.call.args else None
            if not float_labels and isinstance(arg, cst.Attribute) and arg.attr.value == dt:
                fix = Fix.safe("Cast to int32 instead", ctx.replace(arg.attr, "int32", top))
            elif arg is not None:  # the dtype set elsewhere: say where
                comes = dtype_origin(ctx, arg, cast_op.scope, cast_op.order, (env or {}).get(cast_op.scope))
            where = f"`{cast_op.short}` casts column \"{col}\" to"
        else:
            node, top = src.call.node, src.call.top
            short = src.source_class.rsplit(".", 1)[-1]
            where = f"column \"{col}\" of `{short}` is"
            spec = ctx.data.source_columns(src, env)
            arr = spec.get(col, {}).get("array") if spec is not UNKNOWN else None
            d = dtype_expr(arr.node) if arr is not None else None
            if d is not None:  # the array's dtype written elsewhere: say where
                comes = dtype_origin(ctx, d, src.call.scope, src.call.order, (env or {}).get(src.call.scope))
            row = spec.get(col, {}).get("shape") if spec is not UNKNOWN else None
            if not float_labels or row == []:
                ms_name, ms_imp = ctx.ensure_module("mindspore", "ms")
                tr_name, tr_imp = ctx.ensure_module("mindspore.dataset.transforms", "transforms")
                edit = insert_map_edit(
                    ctx, src, [pipe],
                    f".map(operations={tr_name}.TypeCast({ms_name}.int32), input_columns=\"{col}\")")
                if edit is not None:
                    edits = [edit]
                    imp = ctx.imports_edit([ms_imp, tr_imp])
                    if imp is not None:
                        edits.append(imp)
                    make = Fix.unsafe if float_labels else Fix.safe
                    fix = make(f"Cast \"{col}\" to int32 before `batch`", *edits)
        row = None
        if float_labels and cast_op is None:
            spec = ctx.data.source_columns(src, env)
            row = spec.get(col, {}).get("shape") if spec is not UNKNOWN else None
        if float_labels and row:
            advice = (f"each label is a row of {'x'.join(map(str, row))} values (one-hot or probabilities), "
                      f"which needs `sparse=False`")
        elif float_labels:
            advice = "cast class indices to int32, or pass `sparse=False` if the labels are one-hot rows"
        else:
            advice = "cast it to int32 with `TypeCast(mindspore.int32)`"
        ctx.report(
            node,
            f"{where} {problem} (loss at line {line}): TypeError at the first step; {advice}{comes}",
            fix=fix,
            top=top,
        )

    def _check_uint32(self, ctx):
        m = ctx.model
        for src, leaves in ctx.data.sources_reaching_network():
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
                loss = _loss_of_model(ctx, site)
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
                if not _may_reach_loss(ctx, leaves, col):
                    continue  # projected away, or not the one label of two columns (MS217)
                cast = False
                for leaf in leaves:
                    maps = ctx.data.maps_on_column(leaf, col)
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

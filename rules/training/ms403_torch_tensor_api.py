"""MS403: PyTorch Module/Tensor methods called on MindSpore Cells and Tensors."""

import libcst as cst

from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule

from msfix.fixes.edits import remove_statement, scope_root

CELL_METHODS = {
    # torch name: (replacement description, fix kind)
    "parameters": "trainable_params()",
    "named_parameters": "parameters_and_names()",
    "eval": "set_train(False)",
    "train": "set_train(True)",
    "cuda": None,
    "cpu": None,
    "to": None,
    "modules": "cells_and_names() (pairs of name and cell)",
    "named_modules": "cells_and_names()",
    "children": "cells()",
    "named_children": "name_cells().items()",
    "half": "to_float(mindspore.float16)",
    "zero_grad": None,
}
TENSOR_METHODS = {"cuda", "cpu", "to", "detach", "size"}
DEVICE_STRINGS = ("cuda", "gpu")


class TorchTensorApi(Rule):
    code = "MS403"
    name = "torch-tensor-api"
    severity = Severity.ERROR
    summary = "A PyTorch `nn.Module`/`Tensor` method is called on a MindSpore Cell or Tensor."
    fix_applicability = Applicability.SAFE
    versions = "MindSpore 1.x and 2.x (checked on 2.10.0)"
    doc = """
    ## What it does
    Flags PyTorch methods called on objects msfix knows are MindSpore Cells (instances
    of `mindspore.nn` classes or of Cells defined in the script, `self` inside a Cell)
    or MindSpore Tensors (`ms.Tensor(...)`, `ops.ones(...)`, the columns of a dataset's
    `create_dict_iterator()` / `create_tuple_iterator()` rows: `batch["image"]`,
    `for x, y in data.create_tuple_iterator()`, not with `output_numpy=True`, ...):
    `net.parameters()`, `net.named_parameters()`, `net.eval()`, `net.train()`,
    `net.cuda()`, `net.cpu()`, `net.modules()`, `net.children()`, `net.half()`,
    `net.zero_grad()`, `t.cuda()`, `t.cpu()`, `t.detach()`, `t.to("cuda")`,
    `t.size(0)`, and the attributes `t.grad`, `t.is_cuda` and
    `optimizer.param_groups` (on `mindspore.nn` optimizers).

    ## Why is this bad?
    None of these exist on MindSpore 2.10 Cells and Tensors: the call raises
    `AttributeError`. `Tensor.size` is a property (the number of elements), so
    `t.size(0)` raises `TypeError: 'int' object is not callable`, and `t.to("cuda")`
    raises `ValueError` (device placement is global: `ms.set_device`).
    Methods that do exist in 2.10 (`t.numpy()`, `t.item()`, `t.view()`, `t.float()`,
    `net.state_dict()`, ...) are not flagged.

    ## Example
    ```python
    net = LeNet5().cuda()
    optimizer = nn.Momentum(net.parameters(), 0.01, 0.9)
    net.eval()
    n = images.size(0)
    ```

    Use instead:
    ```python
    net = LeNet5()
    optimizer = nn.Momentum(net.trainable_params(), 0.01, 0.9)
    net.set_train(False)
    n = images.shape[0]
    ```

    ## Fix safety
    Safe: `parameters()` -> `trainable_params()`, `eval()`/`train()` ->
    `set_train(False/True)`, `.cuda()`/`.cpu()` removed, `size(d)` -> `shape[d]`.
    Unsafe: `detach()` -> `ops.stop_gradient(t)`, `named_parameters()` ->
    `parameters_and_names()`, `children()` -> `cells()`, `half()` ->
    `to_float(ms.float16)`, `.to("cuda")` removed. No fix for `modules()`,
    `zero_grad()` and the attributes.
    """
    invalid = [
        Example(
            "import mindspore as ms\nfrom mindspore import nn\n"
            "net = nn.Dense(4, 2).cuda()\n"
            "opt = nn.Momentum(net.parameters(), 0.01, 0.9)\n"
            "net.eval()\n"
            "x = ms.Tensor([1.0, 2.0])\n"
            "n = x.size(0)\n",
            expect=(3, 4, 5, 7),
            fixed="import mindspore as ms\nfrom mindspore import nn\n"
                  "net = nn.Dense(4, 2)\n"
                  "opt = nn.Momentum(net.trainable_params(), 0.01, 0.9)\n"
                  "net.set_train(False)\n"
                  "x = ms.Tensor([1.0, 2.0])\n"
                  "n = x.shape[0]\n",
        ),
    ]
    valid = [
        Example("import torch\nimport mindspore\nnet = torch.nn.Linear(2, 2).cuda()\nnet.eval()\n"),
        Example("import mindspore as ms\nx = ms.Tensor([1.0])\ny = x.numpy()\nz = x.view(1)\ns = x.size\n"),
        Example("from mindspore import nn\nclass Net(nn.Cell):\n    def parameters(self):\n        return []\n"
                "net = Net()\nnet.parameters()\n"),
        Example("from mindspore import nn\nmodel = build()\nmodel.eval()\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        for site in m.calls:
            f = site.node.func
            if not isinstance(f, cst.Attribute):
                continue
            meth = f.attr.value
            if meth not in CELL_METHODS and meth not in TENSOR_METHODS:
                continue
            recv = f.value
            kind = None
            cq = ctx.training.cell_type(recv, site.scope, site.order) if meth in CELL_METHODS else None
            if cq is not None and (meth == "to" or ctx.training.cell_lacks(cq, meth)):
                kind = "cell"
            elif meth in TENSOR_METHODS and ctx.training.is_tensor(recv, site.scope, site.order):
                kind = "tensor"
            if kind is None:
                continue
            self._report(ctx, site, f, recv, meth, kind)
        self._attributes(ctx)

    @staticmethod
    def _attributes(ctx):
        for read in ctx.training.torch_attribute_reads():
            node, recv, name = read.node, read.node.value, read.node.attr.value
            if not ctx.training.unique_binding(recv, read.scope):
                continue
            rtext = ctx.source(recv)
            if name == "param_groups":
                q = ctx.training.optimizer_type(recv, read.scope, None)
                if q is None or not q.startswith("mindspore.nn."):
                    continue  # mindspore.experimental.optim optimizers have param_groups
                msg = (f"`{rtext}.param_groups`: MindSpore `nn` optimizers have no `param_groups` (AttributeError); "
                       f"the learning rate is the Parameter `{rtext}.learning_rate` (change it with "
                       f"`ops.assign`), or pass a dynamic learning rate / `group_params` when building the optimizer")
            else:
                site = ctx.training.value_call(recv, read.scope, None)
                if site is None or site.qualname == "mindspore.Parameter" or not ctx.training.is_tensor(recv, read.scope, None):
                    continue
                if name == "grad":
                    msg = (f"`{rtext}.grad`: MindSpore Tensors have no `grad` (AttributeError); gradients are "
                           f"returned by `ms.grad`/`ms.value_and_grad`")
                else:
                    msg = (f"`{rtext}.is_cuda`: MindSpore Tensors have no `is_cuda` (AttributeError); the device is "
                           f"global: `ms.get_context(\"device_target\")`")
            ctx.report(node, msg, top=read.top)

    def _report(self, ctx, site, f, recv, meth, kind):
        m = ctx.model
        args = [a for a in site.node.args]
        rtext = ctx.source(recv)
        what = "Cells" if kind == "cell" else "Tensors"
        call = f"`{rtext}.{meth}()`"
        top = site.top
        fix = None
        if meth in ("cuda", "cpu", "to"):
            if meth == "to":
                if len(args) != 1 or args[0].keyword is not None and args[0].keyword.value != "device":
                    return
                dev = m.literal(args[0].value, site.scope, site.order)
                if not (isinstance(dev, str) and dev.lower().startswith(DEVICE_STRINGS)):
                    return
                msg = (f"`{rtext}.to({dev!r})`: MindSpore has no per-object device placement; the call raises "
                       f"ValueError in 2.10. Select the device once with `ms.set_device(\"GPU\")` and drop the call")
                edit = self._removal(ctx, site, recv, rtext)
                fix = Fix.unsafe("Remove the `.to(...)` call", edit) if edit else None
            else:
                if args:
                    return
                msg = (f"{call}: MindSpore {what} have no `{meth}` (AttributeError); the device is chosen once "
                       f"with `ms.set_device(...)`, so drop the call")
                edit = self._removal(ctx, site, recv, rtext)
                fix = Fix.safe(f"Remove `.{meth}()`", edit) if edit else None
        elif meth == "size":
            if len(args) > 1 or (args and (args[0].keyword is not None or args[0].star)):
                return
            new = f"{rtext}.shape[{ctx.source(args[0].value)}]" if args else f"{rtext}.shape"
            msg = (f"`{rtext}.size({ctx.source(args[0].value) if args else ''})`: `Tensor.size` is a property "
                   f"(the number of elements) in MindSpore, so calling it raises TypeError: 'int' object is not "
                   f"callable; use `{new}`")
            fix = Fix.safe(f"Use `{new}`", ctx.replace(site.node, new, top))
        elif meth == "detach":
            if args:
                return
            ops, imp = ctx.ensure_module("mindspore.ops", "ops")
            new = f"{ops}.stop_gradient({rtext})"
            msg = f"{call}: MindSpore Tensors have no `detach` (AttributeError); use `{new}`"
            edits = [ctx.replace(site.node, new, top)]
            ie = ctx.imports_edit([imp])
            if ie:
                edits.append(ie)
            fix = Fix.unsafe(f"Use `{new}`", *edits)
        elif meth in ("parameters", "eval"):
            if args:
                return
            use = CELL_METHODS[meth]
            msg = f"{call}: MindSpore Cells have no `{meth}` (AttributeError); use `{rtext}.{use}`"
            fix = Fix.safe(f"Use `{rtext}.{use}`", ctx.replace(site.node, f"{rtext}.{use}", top))
        elif meth == "train":
            if len(args) > 1 or (args and (args[0].keyword is not None or args[0].star)):
                return
            mode = m.literal(args[0].value, site.scope, site.order) if args else True
            arg_text = ctx.source(args[0].value) if args else "True"
            msg = (f"`{rtext}.train({ctx.source(args[0].value) if args else ''})`: MindSpore Cells have no "
                   f"`train` (AttributeError); use `{rtext}.set_train({arg_text})`")
            edit = ctx.replace(site.node, f"{rtext}.set_train({arg_text})", top)
            fix = Fix.safe("Use `set_train`", edit) if isinstance(mode, bool) else Fix.unsafe("Use `set_train`", edit)
        elif meth in ("named_parameters", "children", "named_modules", "named_children"):
            if args:
                return
            use = CELL_METHODS[meth]
            msg = f"{call}: MindSpore Cells have no `{meth}` (AttributeError); use `{rtext}.{use}`"
            fix = Fix.unsafe(f"Use `{rtext}.{use}`", ctx.replace(site.node, f"{rtext}.{use}", top))
        elif meth == "half":
            if args:
                return
            ms, imp = ctx.ensure_module("mindspore", "ms")
            new = f"{rtext}.to_float({ms}.float16)"
            msg = f"{call}: MindSpore Cells have no `half` (AttributeError); use `{new}`"
            edits = [ctx.replace(site.node, new, top)]
            ie = ctx.imports_edit([imp])
            if ie:
                edits.append(ie)
            fix = Fix.unsafe(f"Use `{new}`", *edits)
        elif meth == "modules":
            msg = (f"{call}: MindSpore Cells have no `modules` (AttributeError); iterate "
                   f"`{rtext}.cells_and_names()` (pairs of name and cell)")
        elif meth == "zero_grad":
            msg = (f"{call}: MindSpore Cells have no `zero_grad` (AttributeError); MindSpore does not accumulate "
                   f"gradients, so remove the call")
        else:  # pragma: no cover
            return
        ctx.report(site.node, msg, fix=fix, top=top)

    @staticmethod
    def _removal(ctx, site, recv, rtext):
        """Edit removing `X.cuda()`: the whole statement when it does nothing else."""
        m = ctx.model
        stmt = site.statement
        if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
            small = stmt.body[0]
            whole = (isinstance(small, cst.Expr) and small.value is site.node) or (
                isinstance(small, cst.Assign) and small.value is site.node and len(small.targets) == 1
                and ctx.source(small.targets[0].target) == rtext)
            if whole:
                return remove_statement(ctx, stmt, scope_root(m, site.scope), site.top)
        return ctx.replace(site.node, rtext, site.top)

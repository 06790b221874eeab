"""MS402: a PyTorch training loop (backward / zero_grad / step) in a MindSpore script."""

import libcst as cst

from msfix.diagnostics import Applicability, Severity
from msfix.fixes.torch_step import torch_step_fix
from msfix.rule import Example, Rule

from msfix.rules.training._training import VALUE_AND_GRAD_PATTERN

LOOP_METHODS = ("backward", "zero_grad", "step")


class TorchTrainingLoop(Rule):
    code = "MS402"
    name = "torch-training-loop"
    severity = Severity.ERROR
    fix_applicability = Applicability.UNSAFE
    summary = "`loss.backward()`, `optimizer.zero_grad()` or `optimizer.step()` in a MindSpore script."
    versions = "MindSpore 1.x and 2.x (checked on 2.10.0)"
    doc = """
    ## What it does
    Flags the PyTorch training step written against MindSpore objects:
    `optimizer.zero_grad()` and `optimizer.step()` on a MindSpore optimizer
    (`nn.Momentum`, `nn.Adam`, `experimental.optim.*`, ...) or Cell, and
    `loss.backward()` on the output of a MindSpore loss or Cell or on a MindSpore
    Tensor. The receiver must be known: bound to such a call (also through
    `self.x = ...` in a Cell, and through a function parameter when every call of the
    function in the script passes such an object). Receivers msfix cannot type are
    not reported: optimizers of other packages have `zero_grad` / `step` (mindnlp's
    torch-style `mindnlp.core.optim`), and so have learning-rate schedulers
    (`lr_scheduler.step()`, also MindSpore's `experimental.optim.lr_scheduler`).

    ## Why is this bad?
    MindSpore tensors have no `backward`, and MindSpore optimizers have no `zero_grad`
    or `step`: each raises `AttributeError` at the first training step. Gradients come
    from a function transform and are applied by calling the optimizer:
    `grad_fn = ms.value_and_grad(forward_fn, None, optimizer.parameters)`, then
    `loss, grads = grad_fn(data, label)` and `optimizer(grads)`. Gradients are not
    accumulated between steps, so there is nothing to zero.

    ## Example
    ```python
    for data, label in dataset.create_tuple_iterator():
        optimizer.zero_grad()
        loss = loss_fn(net(data), label)
        loss.backward()
        optimizer.step()
    ```

    Use instead:
    ```python
    def forward_fn(data, label):
        return loss_fn(net(data), label)

    grad_fn = ms.value_and_grad(forward_fn, None, optimizer.parameters)
    for data, label in dataset.create_tuple_iterator():
        loss, grads = grad_fn(data, label)
        optimizer(grads)
    ```

    ## Fix safety
    Unsafe fix, attached to the `backward()` report: when `zero_grad()` (optional),
    the statements the loss is computed by, `loss.backward()` and `optimizer.step()`
    stand together in one block, the statements the loss depends on become
    `forward_fn` (its parameters: the names bound by the loop around them, or by the
    enclosing function), `grad_fn = ms.value_and_grad(forward_fn, None,
    optimizer.parameters)` is defined once before the outermost loop that binds
    nothing it captures, and the step becomes `loss, grads = grad_fn(...)` and
    `optimizer(grads)`. Names the forward statements bind and the code reads later
    come back as auxiliary outputs (`has_aux=True`). Unsafe because the code moves
    into a function: a statement in the slice with a side effect now runs inside the
    gradient computation. No fix when other code stands between `backward()` and
    `step()` (gradient clipping, logging of gradients), when the loss is not a plain
    name, or when a statement the loss needs is not a plain assignment. Torch tensor
    methods in the same code (`.item()`, `.parameters()`) are MS403's fixes, applied in
    the same `msfix fix` run.
    """
    invalid = [
        Example(
            "import mindspore as ms\nfrom mindspore import nn\n"
            "net = nn.Dense(4, 2)\nloss_fn = nn.MSELoss()\n"
            "optimizer = nn.SGD(net.trainable_params(), 0.01)\n"
            "def step(x, y):\n"
            "    optimizer.zero_grad()\n"
            "    loss = loss_fn(net(x), y)\n"
            "    loss.backward()\n"
            "    optimizer.step()\n",
            expect=(7, 9, 10),
        ),
    ]
    valid = [
        Example("import torch\nimport mindspore\nopt = torch.optim.SGD(p, 0.1)\nopt.zero_grad()\nloss.backward()\n"
                "opt.step()\n"),
        Example("import mindspore as ms\nscheduler = make_scheduler()\nscheduler.step()\n"),
        Example("import mindspore as ms\nfrom mindnlp.core.optim import AdamW\n"
                "optimizer = AdamW(model.trainable_params(), lr=1e-3)\n"
                "optimizer.zero_grad()\nloss = grad_fn(**batch)\noptimizer.step()\n"),
        Example("import mindspore as ms\ndef train(opt, loss):\n    opt.zero_grad()\n    loss.backward()\n"
                "    opt.step()\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        if not m.mentions_mindspore:
            return
        found = []
        for site in m.calls:
            f = site.node.func
            if not isinstance(f, cst.Attribute) or f.attr.value not in LOOP_METHODS:
                continue
            meth = f.attr.value
            if meth == "backward":
                kind = None if site.node.args else self._tensor_kind(ctx.training, f.value, site)
            else:
                kind = self._lacking_kind(ctx.training, f.value, site, meth)
            if kind is not None:
                found.append((site, meth, kind))
        steps = [(s, ctx.source(s.node.func.value)) for s, meth, kind in found
                 if meth == "step" and kind == "optimizer"]
        for site, meth, kind in found:
            fix = self._rewrite(ctx, site, steps) if meth == "backward" else None
            self._report(ctx, site, meth, kind, fix)

    @staticmethod
    def _rewrite(ctx, backward, steps):
        """The functional-step rewrite around `backward` with one of the script's
        optimizer `step()` calls in the same scope (msfix/fixes/torch_step.py), or None."""
        step_nodes = {id(s.statement) for s, _ in steps}
        for site, opt in steps:
            if site.scope is not backward.scope:
                continue

            def is_opt(stmt, meth, opt=opt):
                if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
                    return False
                e = stmt.body[0]
                if not (isinstance(e, cst.Expr) and isinstance(e.value, cst.Call) and not e.value.args
                        and isinstance(e.value.func, cst.Attribute) and e.value.func.attr.value == meth):
                    return False
                if ctx.source(e.value.func.value) != opt:
                    return False
                return meth != "step" or id(stmt) in step_nodes

            root = backward.scope.node if backward.scope.node is not None else ctx.model.module
            fix = torch_step_fix(ctx, backward, root, opt, is_opt)
            if fix is not None:
                return fix
        return None

    @staticmethod
    def _lacking_kind(tv, recv, site, meth):
        """"optimizer" / "cell" when every value `recv` may hold is a MindSpore optimizer,
        or a Cell whose class has no `meth`; else None (unknown receivers: other
        packages' optimizers, schedulers, wrappers have `zero_grad` / `step`)."""
        calls = tv.receiver_calls(recv, site.scope, site.order)
        if not calls:
            return None
        kinds = set()
        for c in calls:
            if tv.is_optimizer_class(c.qualname):
                kinds.add("optimizer")
                continue
            cq = tv.site_cell_type(c)
            if cq is None or not tv.cell_lacks(cq, meth):
                return None
            kinds.add("cell")
        return "optimizer" if kinds == {"optimizer"} else "cell"

    @staticmethod
    def _tensor_kind(tv, recv, site):
        """"tensor" when every value `recv` may hold is a MindSpore Tensor: the output of
        a MindSpore Cell or loss, or a Tensor built by MindSpore; else None."""
        calls = tv.receiver_calls(recv, site.scope, site.order)
        if not calls:
            return None
        for c in calls:
            if c.qualname:
                if not tv.is_tensor(c.node, c.scope, c.order):
                    return None
                continue
            # `loss_fn(logits, labels)`: the callee is a MindSpore Cell
            callees = tv.receiver_calls(c.node.func, c.scope, c.order)
            if not callees or any(tv.site_cell_type(k) is None for k in callees):
                return None
        return "tensor"

    def _report(self, ctx, site, meth, kind, fix=None):
        rtext = ctx.source(site.node.func.value)
        if kind == "cell":
            msg = (f"`{rtext}.{meth}()`: MindSpore Cells have no `{meth}` (AttributeError); gradients come from "
                   f"a function transform and are applied by calling the optimizer: {VALUE_AND_GRAD_PATTERN}")
        elif meth == "backward":
            msg = (f"`{rtext}.backward()`: MindSpore tensors have no `backward` (AttributeError); gradients come "
                   f"from a function transform: {VALUE_AND_GRAD_PATTERN}")
        elif meth == "zero_grad":
            msg = (f"`{rtext}.zero_grad()`: MindSpore optimizers have no `zero_grad` (AttributeError) and gradients "
                   f"are not accumulated, so remove it; train with {VALUE_AND_GRAD_PATTERN}")
        else:
            msg = (f"`{rtext}.step()`: MindSpore optimizers have no `step` (AttributeError); apply the gradients "
                   f"by calling the optimizer: {VALUE_AND_GRAD_PATTERN}")
        ctx.report(site.node, msg, fix=fix, top=site.top)

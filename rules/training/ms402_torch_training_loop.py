"""MS402: a PyTorch training loop (backward / zero_grad / step) in a MindSpore script."""

import libcst as cst

from msfix.diagnostics import Severity
from msfix.rule import Example, Rule

from msfix.rules.training._training import VALUE_AND_GRAD_PATTERN

LOOP_METHODS = ("backward", "zero_grad", "step")


class TorchTrainingLoop(Rule):
    code = "MS402"
    name = "torch-training-loop"
    severity = Severity.ERROR
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
    No automatic fix: the rewrite moves the forward pass into a function, which
    changes the structure of the loop.
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
                self._report(ctx, site, meth, kind)

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

    def _report(self, ctx, site, meth, kind):
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
        ctx.report(site.node, msg, top=site.top)

"""MS402: a PyTorch training loop (backward / zero_grad / step) in a MindSpore script."""

import libcst as cst

from msfix.analysis.training import cell_type, imports_other_framework, optimizer_type, value_call
from msfix.diagnostics import Severity
from msfix.rule import Example, Rule

from ._training import VALUE_AND_GRAD_PATTERN

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
    (`nn.Momentum`, `nn.Adam`, `experimental.optim.*`, ...), `loss.backward()` on the
    output of a MindSpore loss or Cell, and the same three calls in a script that
    imports MindSpore and no other deep-learning framework when at least two of them
    appear in the same function.

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
    ]

    def check(self, ctx):
        m = ctx.model
        other = imports_other_framework(m)
        loose = {}  # scope id -> [(site, method)]
        for site in m.calls:
            f = site.node.func
            if not isinstance(f, cst.Attribute) or f.attr.value not in LOOP_METHODS:
                continue
            meth = f.attr.value
            recv = f.value
            known = False
            if meth in ("zero_grad", "step"):
                known = optimizer_type(m, recv, site.scope, site.order) is not None
            elif not site.node.args:
                known = self._is_ms_output(m, recv, site)
            if known:
                self._report(ctx, site, meth)
            elif not other and isinstance(recv, (cst.Name, cst.Attribute)) and not site.node.args \
                    and m.mentions_mindspore:
                loose.setdefault(id(site.scope), []).append((site, meth))
        for sites in loose.values():
            if len({meth for _, meth in sites}) >= 2:
                for site, meth in sites:
                    self._report(ctx, site, meth)

    @staticmethod
    def _is_ms_output(m, recv, site) -> bool:
        """`recv` holds the result of calling a MindSpore loss or Cell."""
        call = value_call(m, recv, site.scope, site.order)
        if call is None:
            return False
        return cell_type(m, call.node.func, call.scope, call.order) is not None

    def _report(self, ctx, site, meth):
        rtext = ctx.source(site.node.func.value)
        if meth == "backward":
            msg = (f"`{rtext}.backward()`: MindSpore tensors have no `backward` (AttributeError); gradients come "
                   f"from a function transform: {VALUE_AND_GRAD_PATTERN}")
        elif meth == "zero_grad":
            msg = (f"`{rtext}.zero_grad()`: MindSpore optimizers have no `zero_grad` (AttributeError) and gradients "
                   f"are not accumulated, so remove it; train with {VALUE_AND_GRAD_PATTERN}")
        else:
            msg = (f"`{rtext}.step()`: MindSpore optimizers have no `step` (AttributeError); apply the gradients "
                   f"by calling the optimizer: {VALUE_AND_GRAD_PATTERN}")
        ctx.report(site.node, msg, top=site.top)

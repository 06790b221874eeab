"""MS404: value_and_grad/grad without weights, whose gradients go to an optimizer."""

import libcst as cst

from msfix.context import GRAD_FUNCS
from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule



class ValueAndGradWithoutWeights(Rule):
    code = "MS404"
    name = "value-and-grad-without-weights"
    severity = Severity.ERROR
    summary = "`value_and_grad(fn)` without `weights` gives input gradients, which are then passed to an optimizer."
    fix_applicability = Applicability.SAFE
    versions = "MindSpore 2.x (checked on 2.10.0)"
    doc = """
    ## What it does
    Flags `ms.value_and_grad(fn)` / `ms.grad(fn)` (also `ops.value_and_grad`,
    `ops.grad`) called without `weights` (and with the default `grad_position=0`) when
    the gradients it returns are passed to a MindSpore optimizer: `optimizer(grads)`.
    Also flags the torch habit of passing `optimizer.param_groups` as the weights
    (`ms.value_and_grad(fn, None, optimizer.param_groups)`) for a MindSpore optimizer:
    `nn` optimizers have no `param_groups` (AttributeError) and those of
    `mindspore.experimental.optim` hold a list of dicts there, which 2.10 rejects
    (`RuntimeError: The pointer[tensor] is null`).

    ## Why is this bad?
    Without `weights`, the transform differentiates with respect to the first input
    of `fn` (the data batch), not the network's parameters: `grads` is one Tensor
    shaped like the input, not a tuple with one gradient per parameter. The optimizer
    then fails at the first step (on 2.10 `nn.SGD` raises `TypeError: 'int' object is
    not callable` and `nn.Adam` `RuntimeError: The types of arguments in Map must be
    consistent`).

    ## Example
    ```python
    grad_fn = ms.value_and_grad(forward_fn)
    loss, grads = grad_fn(data, label)
    optimizer(grads)
    ```

    Use instead:
    ```python
    grad_fn = ms.value_and_grad(forward_fn, None, optimizer.parameters)
    ```

    ## Fix safety
    Safe: with `grad_position=None` and `weights=optimizer.parameters` the gradients
    are exactly the tuple the optimizer expects, in its parameter order.
    `optimizer.param_groups` -> `optimizer.parameters` is safe for the same reason.
    """
    invalid = [
        Example(
            "import mindspore as ms\nfrom mindspore import nn\n"
            "net = nn.Dense(4, 2)\nloss_fn = nn.MSELoss()\n"
            "optimizer = nn.SGD(net.trainable_params(), 0.01)\n"
            "def forward_fn(x, y):\n    return loss_fn(net(x), y)\n"
            "grad_fn = ms.value_and_grad(forward_fn)\n"
            "def train_step(x, y):\n"
            "    loss, grads = grad_fn(x, y)\n"
            "    optimizer(grads)\n"
            "    return loss\n",
            expect=(8,),
            fixed="import mindspore as ms\nfrom mindspore import nn\n"
                  "net = nn.Dense(4, 2)\nloss_fn = nn.MSELoss()\n"
                  "optimizer = nn.SGD(net.trainable_params(), 0.01)\n"
                  "def forward_fn(x, y):\n    return loss_fn(net(x), y)\n"
                  "grad_fn = ms.value_and_grad(forward_fn, None, optimizer.parameters)\n"
                  "def train_step(x, y):\n"
                  "    loss, grads = grad_fn(x, y)\n"
                  "    optimizer(grads)\n"
                  "    return loss\n",
        ),
    ]
    valid = [
        Example(
            "import mindspore as ms\nfrom mindspore import nn\n"
            "optimizer = nn.SGD(net.trainable_params(), 0.01)\n"
            "grad_fn = ms.value_and_grad(forward_fn, None, optimizer.parameters)\n"
            "loss, grads = grad_fn(x, y)\noptimizer(grads)\n"),
        Example(
            "import mindspore as ms\n"
            "grad_fn = ms.value_and_grad(forward_fn)\n"
            "loss, dx = grad_fn(x, y)\nprint(dx)\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        self._param_groups(ctx)
        optimizer_calls = [c for c in m.calls if c.qualname is None and isinstance(c.node.func, (cst.Name, cst.Attribute))
                           and len(c.node.args) >= 1 and isinstance(c.node.args[0].value, cst.Name)
                           and ctx.training.optimizer_type(c.node.func, c.scope, c.order) is not None]
        if not optimizer_calls:
            return
        for vg in m.calls_to(*GRAD_FUNCS):
            returns_value = GRAD_FUNCS[vg.qualname]
            if vg.has_star_args or vg.arg("weights", 2) is not None:
                continue
            gp = vg.arg("grad_position", 1)
            if gp is not None and m.literal(gp.value, vg.scope, vg.order) is None:
                continue
            if vg.target is None:
                continue
            hit = self._grads_to_optimizer(m, vg, returns_value, optimizer_calls)
            if hit is None:
                continue
            opt_site = hit
            opt_text = ctx.source(opt_site.node.func)
            fix = None
            fn_arg = vg.positional(0)
            extra = [a for a in vg.node.args if a is not fn_arg]
            if fn_arg is not None and gp is None and all(a.keyword is not None and a.keyword.value in ("has_aux",)
                                                          for a in extra) \
                    and isinstance(opt_site.node.func, cst.Name) \
                    and self._same_binding(m, opt_site.node.func.value, vg, opt_site):
                fix = Fix.safe(f"Differentiate with respect to `{opt_text}.parameters`",
                               ctx.insert_after(fn_arg.value, f", None, {opt_text}.parameters", vg.top))
            name = vg.qualname.rsplit(".", 1)[-1]
            ctx.report(
                vg.node,
                f"`{name}` without `weights` differentiates with respect to the first input of the function "
                f"(grad_position=0), not the network's parameters, but its gradients are passed to "
                f"`{opt_text}(...)` (line {ctx.span(opt_site.node, opt_site.top).line}), which expects one "
                f"gradient per parameter; use `{name}(fn, None, {opt_text}.parameters)`",
                fix=fix,
                top=vg.top,
            )

    @staticmethod
    def _param_groups(ctx):
        """`value_and_grad(fn, None, optimizer.param_groups)`: the torch spelling of the weights."""
        m = ctx.model
        for vg in m.calls_to(*GRAD_FUNCS):
            w = vg.arg("weights", 2)
            if w is None or not isinstance(w.value, cst.Attribute) or w.value.attr.value != "param_groups":
                continue
            recv = w.value.value
            q = ctx.training.optimizer_type(recv, vg.scope, vg.order)
            if q is None:
                continue
            opt = ctx.source(recv)
            name = vg.qualname.rsplit(".", 1)[-1]
            why = ("MindSpore `nn` optimizers have no `param_groups` (AttributeError)" if q.startswith("mindspore.nn.")
                   else "`mindspore.experimental.optim` optimizers hold a list of dicts in `param_groups`, not Parameters "
                        "(2.10: RuntimeError: The pointer[tensor] is null)")
            ctx.report(w.value,
                       f"`{name}(..., {opt}.param_groups)`: the weights are the torch spelling; {why}; "
                       f"differentiate with respect to `{opt}.parameters`",
                       fix=Fix.safe(f"Use `{opt}.parameters`", ctx.replace(w.value, f"{opt}.parameters", vg.top)),
                       top=vg.top)

    @staticmethod
    def _same_binding(m, name, a, b) -> bool:
        x = m.lookup(name, a.scope, a.order)
        y = m.lookup(name, b.scope, b.order)
        return x is not None and x is y

    @staticmethod
    def _grads_to_optimizer(m, vg, returns_value, optimizer_calls):
        """The optimizer call that receives the gradients of the function `vg` builds."""
        for c in m.calls:
            if not isinstance(c.node.func, cst.Name) or c.node.func.value != vg.target:
                continue
            b = m.lookup(vg.target, c.scope, c.order)
            if b is None or b.kind != "assign" or b.value is not vg.node:
                continue
            stmt = c.statement
            if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
                continue
            small = stmt.body[0]
            if not isinstance(small, cst.Assign) or small.value is not c.node or len(small.targets) != 1:
                continue
            tgt = small.targets[0].target
            grads = None
            if returns_value:
                if isinstance(tgt, (cst.Tuple, cst.List)) and len(tgt.elements) == 2 \
                        and isinstance(tgt.elements[1].value, cst.Name):
                    grads = tgt.elements[1].value.value
            elif isinstance(tgt, cst.Name):
                grads = tgt.value
            if grads is None:
                continue
            for oc in optimizer_calls:
                if oc.scope is c.scope and oc.order > c.order and oc.node.args[0].value.value == grads:
                    return oc
        return None

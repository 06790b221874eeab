"""MS308: `nn.SoftmaxCrossEntropyWithLogits` without `reduction` (defaults to 'none')."""

from typing import List

import libcst as cst

from msfix.diagnostics import Applicability, Edit, Fix, Severity
from msfix.rule import Example, Rule
from msfix.fixes.edits import insert_after_expr

LOSS = "mindspore.nn.SoftmaxCrossEntropyWithLogits"
# wrappers that differentiate the loss as it is (a per-sample vector is summed)
GRAD_WRAPPERS = frozenset({"mindspore.train.Model", "mindspore.nn.WithLossCell"})
REDUCTIONS = frozenset({
    "mindspore.ops.mean", "mindspore.ops.reduce_mean", "mindspore.ops.ReduceMean", "mindspore.ops.sum",
    "mindspore.ops.reduce_sum", "mindspore.ops.ReduceSum", "mindspore.mint.mean", "mindspore.mint.sum",
    "mindspore.numpy.mean", "mindspore.numpy.sum", "mindspore.ops.functional.reduce_mean",
})


def _is_reduction(site) -> bool:
    if site.qualname in REDUCTIONS:
        return True
    f = site.node.func
    name = f.attr.value if isinstance(f, cst.Attribute) else f.value if isinstance(f, cst.Name) else ""
    name = name.lower()
    return name in ("mean", "sum") or "mean" in name or "reduce" in name


def _is_self_attr(expr, attr: str) -> bool:
    return (isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and expr.value.value == "self"
            and expr.attr.value == attr)


class LossWithoutReduction(Rule):
    code = "MS308"
    name = "loss-without-reduction"
    severity = Severity.WARNING
    summary = "`SoftmaxCrossEntropyWithLogits` without `reduction` returns per-sample losses: gradients are summed."
    fix_applicability = Applicability.UNSAFE
    versions = "MindSpore 1.x and 2.x"
    doc = """
    ## What it does
    Flags `nn.SoftmaxCrossEntropyWithLogits(...)` built without `reduction`, or with
    `reduction='none'` (written at the call or coming from a constant, an argparse
    default, a config dict or file, or a helper's parameter for a call of it), when the
    script trains on its output as it is: it is passed to a `Model` that trains (the
    script calls `Model.train`/`fit`) or to `nn.WithLossCell`, or called in a function
    that never averages or sums the result. When the result is
    reduced later (`ops.mean(loss)`, `loss.mean()`, a `ReduceMean`), or handed to a
    wrapper msfix cannot see, the rule stays silent.

    ## Why is this bad?
    Unlike PyTorch's `CrossEntropyLoss` (mean by default) and MindSpore's own
    `nn.CrossEntropyLoss`, `SoftmaxCrossEntropyWithLogits` defaults to
    `reduction='none'` and returns one loss per sample. Differentiating that vector
    sums the per-sample gradients, so the update grows with the batch size: at batch 8
    it was 8 times the 'mean' update (verified on 2.10). The learning rate that works
    for one batch size diverges at another, and the printed loss is a vector.

    ## Example
    ```python
    loss_fn = nn.SoftmaxCrossEntropyWithLogits(sparse=True)
    model = Model(net, loss_fn, opt)
    ```

    Use instead:
    ```python
    loss_fn = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")
    model = Model(net, loss_fn, opt)
    ```

    ## Fix safety
    Unsafe: `reduction="mean"` divides the gradients by the batch size, which is what
    training scripts almost always mean, but a learning rate tuned for the summed
    gradients must then be scaled up. A `'none'` that comes from elsewhere gets no fix
    (the option, the config entry or the other calls of the helper may need it).
    """
    invalid = [
        Example(
            "from mindspore import nn, Model\n"
            "loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True)\n"
            "model = Model(net, loss, opt)\n"
            "model.train(1, data)\n",
            expect=(2,),
            fixed="from mindspore import nn, Model\n"
                  "loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction=\"mean\")\n"
                  "model = Model(net, loss, opt)\n"
                  "model.train(1, data)\n",
        ),
        Example(
            "from mindspore import nn\n"
            "loss_fn = nn.SoftmaxCrossEntropyWithLogits()\n"
            "def forward(x, y):\n"
            "    return loss_fn(net(x), y)\n",
            expect=(2,),
            fixed="from mindspore import nn\n"
                  "loss_fn = nn.SoftmaxCrossEntropyWithLogits(reduction=\"mean\")\n"
                  "def forward(x, y):\n"
                  "    return loss_fn(net(x), y)\n",
        ),
        Example(
            "from mindspore import nn, Model\n"
            "loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction='none')\n"
            "model = Model(net, loss, opt)\n"
            "model.train(1, data)\n",
            expect=(2,),
            fixed="from mindspore import nn, Model\n"
                  "loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction=\"mean\")\n"
                  "model = Model(net, loss, opt)\n"
                  "model.train(1, data)\n",
        ),
    ]
    valid = [
        Example("from mindspore import nn, Model\n"
                "loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction='mean')\n"
                "model = Model(net, loss, opt)\n"),
        Example("from mindspore import nn, ops\n"
                "loss_fn = nn.SoftmaxCrossEntropyWithLogits(sparse=True)\n"
                "def forward(x, y):\n"
                "    return ops.mean(loss_fn(net(x), y))\n"),
        Example("from mindspore import nn\n"
                "loss_fn = nn.SoftmaxCrossEntropyWithLogits(sparse=True)\n"
                "train = MyTrainStep(net, loss_fn)\n"),
        Example("from mindspore import nn\nloss_fn = nn.SoftmaxCrossEntropyWithLogits(sparse=True)\n"),
        Example("from mindspore import nn, Model\n"
                "model = Model(net, nn.SoftmaxCrossEntropyWithLogits(sparse=True), metrics={'acc'})\n"
                "model.eval(data)\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        net = ctx.network.info
        for site in m.calls_to(LOSS):
            if site.has_star_args:
                continue
            given = site.arg("reduction", 1)
            if given is not None:
                # reduction='none' written elsewhere (a constant, argparse, a config, a helper's call)
                found = [(v, c) for v, c in ctx.values.per_call(given.value, site.scope, site.order,
                                                                 site.statement) if isinstance(v, str)]
                bad = [(v, c) for v, c in found if v == "none"]
                if bad and self._trained_unreduced(m, net, site):
                    self._report_none(ctx, site, given, bad[0][1])
                continue
            if not self._trained_unreduced(m, net, site):
                continue
            args = site.node.args
            if args:
                edit = insert_after_expr(ctx, args[-1].value, ', reduction="mean"', site.top)
            else:
                _, end = ctx.offsets(site.node, site.top)
                if m.text[end - 1:end] != ")":
                    continue
                edit = Edit(end - 1, end - 1, 'reduction="mean"')
            callee = ctx.source(site.node.func)
            ctx.report(
                site.node,
                f"`{callee}(...)` without `reduction` returns one loss per sample (the default is 'none') and "
                f"the script does not average it: differentiating the vector sums the per-sample gradients, so "
                f"the step grows with the batch size; pass `reduction=\"mean\"`",
                fix=Fix.unsafe('Average over the batch: `reduction="mean"`', edit), top=site.top,
            )

    @staticmethod
    def _report_none(ctx, site, given, call):
        callee = ctx.source(site.node.func)
        text = ctx.source(given.value)
        literal = isinstance(given.value, cst.SimpleString)
        origin = None if literal else ctx.values.origin(given.value, site.scope, site.order, ctx, call)
        # only a literal at the call is rewritten: an option, a config entry or a helper's
        # parameter may mean 'none' for another run or call
        fix = Fix.unsafe('Average over the batch: `reduction="mean"`',
                         ctx.replace(given.value, '"mean"', site.top)) if literal else None
        ctx.report(
            given.value,
            f"`{callee}(..., reduction={text})` is 'none': it returns one loss per sample and the script does "
            f"not average it: differentiating the vector sums the per-sample gradients, so the step grows "
            f"with the batch size; pass `reduction=\"mean\"`" + (f". The value comes from {origin}" if origin else ""),
            fix=fix, top=site.top,
        )

    def _trained_unreduced(self, m, net, site) -> bool:
        """True when the loss object is differentiated as returned; False when unused, reduced
        or handed to code msfix cannot see."""
        bad = False
        # the call itself passed straight to a wrapper
        for other in m.calls:
            for a in other.node.args:
                if a.value is site.node:
                    if other.qualname in GRAD_WRAPPERS:
                        bad = self._trains(m, other)
                    else:
                        return False
        uses: List = []
        passes: List = []
        if site.target:
            for other in m.calls:
                if other.scope is not site.scope and not _inside(other.scope, site.scope):
                    continue
                f = other.node.func
                if isinstance(f, cst.Name) and f.value == site.target:
                    uses.append(other)
                for a in other.node.args:
                    if isinstance(a.value, cst.Name) and a.value.value == site.target:
                        passes.append(other)
        else:
            cell, attr = self._self_attr(m, site)
            if cell is None:
                return bad
            for fn in cell.methods.values():
                for other in net.calls_in(fn):
                    if _is_self_attr(other.node.func, attr):
                        uses.append(other)
                    if any(_is_self_attr(a.value, attr) for a in other.node.args):
                        passes.append(other)
        for p in passes:
            if p.qualname in GRAD_WRAPPERS:
                bad = bad or self._trains(m, p)
            else:
                return False
        for u in uses:
            fn = u.scope.node
            if isinstance(fn, cst.FunctionDef):
                if any(_is_reduction(c) for c in net.calls_in(fn)):
                    return False
                bad = True
            else:
                return False  # a module-level call: evaluation or printing, not training
        return bad

    @staticmethod
    def _trains(m, wrapper) -> bool:
        """A Model only used for `eval` does not differentiate the loss."""
        if wrapper.qualname != "mindspore.train.Model":
            return True
        return bool(m.calls_to("mindspore.train.Model.train", "mindspore.train.Model.fit"))

    @staticmethod
    def _self_attr(m, site):
        for cell in m.cells.values():
            for attr, value, _ in cell.self_assigns:
                if value is site.node:
                    return cell, attr
        return None, None


def _inside(scope, outer) -> bool:
    s = scope.parent
    while s is not None:
        if s is outer:
            return True
        s = s.parent
    return False

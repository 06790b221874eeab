"""MS602: learning rate and momentum whose effective step lr/(1-m) is large for the batch size."""

import libcst as cst

from msfix.context import EVAL, GRAD_FUNCS, is_number
from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule

REFERENCE_BATCH = 256  # lr 0.1 with momentum 0.9 per 256 samples (Goyal et al., 2017)
REFERENCE_EFFECTIVE = 0.1 / (1 - 0.9)
THRESHOLD = 4.0  # flag when the effective step is more than 4x the linear-scaling one


def named_constant(ctx, expr):
    """The module-level binding `NAME = <number>` when `expr` is a read of NAME, NAME is
    bound once in the script (in no function or class either) to a number literal, and
    `expr` is its only read: editing the constant then changes this argument only."""
    m = ctx.model
    if not isinstance(expr, cst.Name):
        return None
    name = expr.value
    bs = m.module_scope.bindings.get(name, ())
    if len(bs) != 1 or bs[0].kind != "assign" or not isinstance(bs[0].value, (cst.Float, cst.Integer)):
        return None
    if any(name in fi.scope.bindings for fi in m.functions.values()) or name in m.classes:
        return None
    reads = [r for r in m.reads if r.name == name]
    if len(reads) != 1 or reads[0].node is not expr:
        return None
    return bs[0]


def _fmt(x: float) -> str:
    return f"{x:.4g}"


class EffectiveLrTooLarge(Rule):
    code = "MS602"
    name = "effective-lr-too-large"
    severity = Severity.WARNING
    fix_applicability = Applicability.UNSAFE
    summary = "Learning rate and momentum give an effective step lr/(1-momentum) far above linear scaling for the batch size."
    versions = "all versions (optimisation practice)"
    doc = """
    ## What it does
    For an optimizer with momentum (`nn.Momentum`, `nn.SGD`, `nn.RMSProp`) whose
    learning rate and momentum are literals, and a `Model` that trains it on a
    dataset batched with a literal batch size (or, in a custom loop with
    `value_and_grad(fn, None, optimizer.parameters)`, the training dataset the
    script iterates with `create_tuple_iterator`/`create_dict_iterator`), compares the effective step
    `lr / (1 - momentum)` with the linear-scaling rule: lr 0.1 with momentum 0.9
    (effective step 1.0) per 256 samples, scaled linearly with the batch size.
    Flags it when it is more than 4 times larger and the effective step is at least
    the recipe's own 1.0 at a batch below 256: a large-batch recipe used unchanged
    at a small batch. Smaller effective steps are not flagged whatever the batch: the
    linear-scaling rule was established for batches of 64 and more, and below that
    it asks for learning rates nobody needs (on real code, every warning of the
    ratio alone was a tutorial at batch 3 with lr 0.01 and momentum 0.9 whose own
    output shows the loss converging).

    ## Why is this bad?
    With momentum `m` a constant gradient moves the weights by `lr / (1 - m)` per
    step, not by `lr`. Recipes tuned for batch 256 (lr 0.1, momentum 0.9) used
    unchanged at batch 32 take steps 8 times larger per sample than the recipe:
    the loss often spikes or diverges in the first epochs, or training needs a
    warm-up the script does not have.

    ## Example
    ```python
    optimizer = nn.Momentum(net.trainable_params(), learning_rate=0.1, momentum=0.9)
    train_data = train_data.batch(32)
    ```

    Use instead:
    ```python
    optimizer = nn.Momentum(net.trainable_params(), learning_rate=0.0125, momentum=0.9)
    ```

    ## Fix safety
    Unsafe: the fix sets the learning rate to the linear-scaling value for the batch
    size (0.0125 for lr 0.1, momentum 0.9, batch 32), which changes the training
    dynamics on purpose; a warm-up schedule or a larger batch are alternatives. Where
    the argument is a named constant (`learning_rate = 0.1` at module level, bound
    once to a number and read only by this call), the fix edits the constant;
    otherwise it replaces the argument in the call.
    """
    invalid = [
        Example(
            "import mindspore.dataset as ds\nfrom mindspore import nn, Model\n"
            "data = ds.MnistDataset('m', usage='train').batch(32)\n"
            "opt = nn.Momentum(net.trainable_params(), 0.1, 0.9)\n"
            "Model(net, loss, opt).train(10, data)\n",
            expect=(4,),
            fixed="import mindspore.dataset as ds\nfrom mindspore import nn, Model\n"
                  "data = ds.MnistDataset('m', usage='train').batch(32)\n"
                  "opt = nn.Momentum(net.trainable_params(), 0.0125, 0.9)\n"
                  "Model(net, loss, opt).train(10, data)\n",
        ),
        Example(
            "import mindspore as ms\nimport mindspore.dataset as ds\nfrom mindspore import nn\n"
            "train_ds = ds.MnistDataset('m', usage='train').batch(16)\n"
            "opt = nn.SGD(net.trainable_params(), 0.1, 0.9)\n"
            "grad_fn = ms.value_and_grad(fn, None, opt.parameters)\n"
            "for x, y in train_ds.create_tuple_iterator():\n    loss, g = grad_fn(x, y)\n    opt(g)\n",
            expect=(5,),
        ),
        Example(
            "import mindspore.dataset as ds\nfrom mindspore import nn, Model\n"
            "learning_rate = 0.1\n"
            "data = ds.MnistDataset('m', usage='train').batch(32)\n"
            "opt = nn.Momentum(net.trainable_params(), learning_rate, 0.9)\n"
            "Model(net, loss, opt).train(10, data)\n",
            expect=(5,),
            fixed="import mindspore.dataset as ds\nfrom mindspore import nn, Model\n"
                  "learning_rate = 0.0125\n"
                  "data = ds.MnistDataset('m', usage='train').batch(32)\n"
                  "opt = nn.Momentum(net.trainable_params(), learning_rate, 0.9)\n"
                  "Model(net, loss, opt).train(10, data)\n",
        ),
    ]
    valid = [
        Example(
            "import mindspore.dataset as ds\nfrom mindspore import nn, Model\n"
            "data = ds.MnistDataset('m', usage='train').batch(256)\n"
            "opt = nn.Momentum(net.trainable_params(), 0.1, 0.9)\n"
            "Model(net, loss, opt).train(10, data)\n"),
        Example(
            "import mindspore.dataset as ds\nfrom mindspore import nn, Model\n"
            "data = ds.MnistDataset('m', usage='train').batch(32)\n"
            "opt = nn.Momentum(net.trainable_params(), 0.01, 0.9)\n"
            "Model(net, loss, opt).train(10, data)\n"),
        Example(
            "import mindspore.dataset as ds\nfrom mindspore import nn, Model\n"
            "data = ds.NumpySlicesDataset(arrays).batch(3)\n"
            "opt = nn.Momentum(net.trainable_params(), 0.01, 0.9)\n"
            "Model(net, loss, opt).train(350, data)\n"),
    ]

    @staticmethod
    def _differentiated(ctx, opt_call) -> bool:
        """`value_and_grad(fn, None, opt.parameters)` (or `grad`) names this optimizer."""
        m = ctx.model
        for vg in m.calls_to(*GRAD_FUNCS):
            w = vg.arg("weights", 2)
            if w is not None and isinstance(w.value, cst.Attribute) and w.value.attr.value == "parameters" \
                    and m.instance_call(w.value.value, vg.scope, vg.order) is opt_call:
                return True
        return False

    @staticmethod
    def _iterated_training_data(ctx):
        """Pipelines a custom loop iterates (`create_tuple_iterator`/`create_dict_iterator`),
        evaluation data left out."""
        m = ctx.model
        out = []
        for c in m.calls:
            if c.method not in ("create_tuple_iterator", "create_dict_iterator"):
                continue
            pipe = m.pipeline_of(c.node.func.value, c.scope, c.order)
            if pipe is None:
                return []  # an iterated dataset msfix does not know
            if ctx.data.role_of(pipe) != EVAL:
                out.append(pipe)
        return out

    def check(self, ctx):
        for opt in ctx.training.optimizers():
            lr, mo = opt.lr, opt.momentum
            if not (is_number(lr) and is_number(mo)) or lr <= 0 or not 0 < mo < 1:
                continue
            sizes = set()
            trains = ctx.training.trains_with_optimizer(opt.call)
            pipes = [ctx.training.train_dataset(t) for t in trains]
            if not trains and self._differentiated(ctx, opt.call):
                pipes = self._iterated_training_data(ctx)
            for pipe in pipes:
                bs = ctx.training.batch_size_of(pipe) if pipe is not None else None
                if not is_number(bs):
                    sizes = set()
                    break
                sizes.add(bs)
            if len(sizes) != 1:
                continue
            batch = sizes.pop()
            effective = lr / (1 - mo)
            reference = REFERENCE_EFFECTIVE * batch / REFERENCE_BATCH
            ratio = effective / reference
            if ratio <= THRESHOLD or effective < REFERENCE_EFFECTIVE or batch >= REFERENCE_BATCH:
                continue
            node = opt.lr_arg.value if opt.lr_arg is not None else opt.call.node
            target = _fmt(lr / ratio)
            fix = None
            if opt.lr_arg is not None and not opt.call.has_star_args:
                const = named_constant(ctx, opt.lr_arg.value)
                if const is not None:
                    fix = Fix.unsafe(f"Set `{const.name} = {target}` (linear scaling for batch {batch})",
                                     ctx.replace(const.value, target, const.top))
                else:
                    fix = Fix.unsafe(f"Use learning rate {target} (linear scaling for batch {batch})",
                                     ctx.replace(opt.lr_arg.value, target, opt.call.top))
            ctx.report(
                node,
                f"learning rate {_fmt(lr)} with momentum {_fmt(mo)} is an effective step lr/(1-momentum) = "
                f"{_fmt(effective)} at batch {batch}: {_fmt(ratio)} times what the linear-scaling rule "
                f"(lr 0.1 with momentum 0.9 per 256 samples) gives at batch {batch} ({_fmt(reference)}); "
                f"training may diverge. Try learning rate {target} or a larger batch",
                fix=fix,
                top=opt.call.top,
            )

"""MS206: training data read with shuffle=False."""

import libcst as cst

from msfix.context import TRAIN
from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule


class TrainingDataNotShuffled(Rule):
    code = "MS206"
    name = "training-data-not-shuffled"
    severity = Severity.WARNING
    summary = "Training data read with `shuffle=False`: every epoch sees the same batches in the same order."
    fix_applicability = Applicability.UNSAFE
    doc = """
    ## What it does
    Flags dataset sources with `shuffle=False` whose data is trained on and never
    shuffled later: no `shuffle` stage after it, also after a `zip`/`concat` with other
    datasets, and no `sampler`. Training data is data passed to `Model.train`, given as
    `train_dataset=`, iterated by a loop that runs a training step (a `value_and_grad`
    function, an optimizer, a `TrainOneStepCell`), built in the `if is_training:` branch
    of a helper, or, as a last resort, named train; the role is decided once by the
    analysis for all rules. Data read in an evaluation branch, or only iterated to show
    samples or to run inference, is not reported. The flag is followed to where it is set
    (an argparse default, a config entry, a module constant, the call of a dataset helper
    whose parameter it is, judged with that call's role) and the message says where.

    ## Why is this bad?
    Stochastic gradient descent relies on fresh random batches every epoch: the same
    fixed batches in the same order bias the updates (data sorted by class is the worst
    case) and generalise worse. MindSpore's readers shuffle by default; `shuffle=False`
    turns that off for the whole run.

    ## Example
    ```python
    train = ds.Cifar10Dataset(path, usage="train", shuffle=False)
    ```

    Use instead:
    ```python
    train = ds.Cifar10Dataset(path, usage="train", shuffle=True)
    ```

    ## Fix safety
    Unsafe: a script may disable shuffling on purpose (curriculum learning, debugging a
    reproducible run); the fix sets `shuffle=True` when `shuffle=False` is written at the
    read. A flag set elsewhere gets no fix: it is changed where it is set (the option's
    default, the config entry, the helper's caller).
    """
    invalid = [
        Example(
            "import mindspore.dataset as ds\n"
            "train_set = ds.MnistDataset('m', usage='train', shuffle=False).batch(64)\n",
            expect=(2,),
            fixed="import mindspore.dataset as ds\n"
                  "train_set = ds.MnistDataset('m', usage='train', shuffle=True).batch(64)\n",
        ),
    ]
    valid = [
        Example("import mindspore.dataset as ds\n"
                "test_set = ds.MnistDataset('m', usage='test', shuffle=False).batch(64)\n"),
        Example("import mindspore.dataset as ds\n"
                "train_set = ds.MnistDataset('m', usage='train', shuffle=False).shuffle(1000).batch(64)\n"),
    ]

    def check(self, ctx):
        for p in ctx.model.pipelines:
            if p.op != "source":
                continue
            arg = ctx.data.source_arg(p, "shuffle")
            if arg is None or ctx.data.later_shuffle(p) or p.call.keyword("sampler") is not None:
                continue
            site = p.call
            # a helper's parameter: the value of each call of the helper, with that call's role
            call = None
            for value, c in ctx.values.per_call(arg.value, site.scope, site.order, site.statement):
                if value is not False:
                    continue
                if c is None:
                    if ctx.data.role_of(p) == TRAIN:
                        break
                elif ctx.data.call_role(c) == TRAIN and not any(
                        x.method == "shuffle" for x in ctx.data.downstream_of_call(c)):
                    call = c
                    break
            else:
                continue
            written = isinstance(arg.value, cst.Name) and arg.value.value == "False"
            origin = None if written else ctx.values.origin(arg.value, site.scope, site.order, ctx, call)
            # a value set elsewhere (an option, a config entry, a helper's caller) is changed
            # there, not by overwriting the expression at the read
            fix = Fix.unsafe("Set `shuffle=True`", ctx.replace(arg.value, "True", site.top)) if written else None
            ctx.report(
                arg.value if arg.keyword is None else arg,
                "training data is read with `shuffle=False`: every epoch sees the same batches in "
                "the same order; shuffle it so each epoch gets new batches"
                + (f". The value comes from {origin}" if origin else ""),
                fix=fix,
                top=site.top,
            )

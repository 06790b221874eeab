"""MS603: CheckpointConfig(save_checkpoint_steps=N) larger than the total number of steps."""

from msfix.context import is_number
from msfix.diagnostics import Severity
from msfix.rule import Example, Rule


class SaveStepsBeyondTotal(Rule):
    code = "MS603"
    name = "save-steps-beyond-total"
    severity = Severity.WARNING
    summary = "`save_checkpoint_steps` is larger than the whole training: only the final checkpoint is written."
    versions = "MindSpore 1.x and 2.x (checked on 2.10.0)"
    doc = """
    ## What it does
    Follows `CheckpointConfig(save_checkpoint_steps=N)` to the `ModelCheckpoint` that
    uses it and the `Model.train` call that runs it; when the number of epochs and the
    steps per epoch are known (dataset size and batch size), flags `N` larger than the
    total number of training steps.

    ## Why is this bad?
    `ModelCheckpoint` saves every `N` global steps plus once at the end of training.
    With `N` beyond the total, no intermediate checkpoint is ever written: a crash
    or a diverging run leaves nothing to resume from or to compare, and
    `keep_checkpoint_max` has no effect.

    ## Example
    ```python
    config = CheckpointConfig(save_checkpoint_steps=5000)
    model.train(5, mnist_train.batch(64), callbacks=[ModelCheckpoint(config=config)])  # 4685 steps
    ```

    Use instead:
    ```python
    config = CheckpointConfig(save_checkpoint_steps=937)  # once per epoch
    ```

    ## Fix safety
    No automatic fix: the saving interval is the author's choice.
    """
    invalid = [
        Example(
            "import mindspore.dataset as ds\nfrom mindspore.train import Model, ModelCheckpoint, CheckpointConfig\n"
            "data = ds.MnistDataset('m', usage='train').batch(64)\n"
            "cfg = CheckpointConfig(save_checkpoint_steps=5000)\n"
            "cb = ModelCheckpoint(prefix='lenet', config=cfg)\n"
            "Model(net, loss, opt).train(5, data, callbacks=[cb])\n",
            expect=(4,),
        ),
    ]
    valid = [
        Example(
            "import mindspore.dataset as ds\nfrom mindspore.train import Model, ModelCheckpoint, CheckpointConfig\n"
            "data = ds.MnistDataset('m', usage='train').batch(64)\n"
            "cfg = CheckpointConfig(save_checkpoint_steps=938)\n"
            "cb = ModelCheckpoint(prefix='lenet', config=cfg)\n"
            "Model(net, loss, opt).train(5, data, callbacks=[cb])\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        for cb in m.calls_to("mindspore.train.ModelCheckpoint"):
            ca = cb.arg("config", 2)
            if ca is None:
                continue
            cfg = m.instance_call(ca.value, cb.scope, cb.order)
            if cfg is None or cfg.qualname != "mindspore.train.CheckpointConfig" or cfg.has_star_args:
                continue
            sa = cfg.arg("save_checkpoint_steps", 0)
            if sa is None:
                continue
            steps = m.literal(sa.value, cfg.scope, cfg.order)
            if not is_number(steps) or steps <= 0:
                continue
            train = ctx.training.train_call_of(cb)
            if train is None or train.has_star_args or train.keyword("sink_size") is not None \
                    or train.positional(4) is not None or train.keyword("initial_epoch") is not None:
                continue
            ea = train.arg("epoch", 0)
            epochs = m.literal(ea.value, train.scope, train.order) if ea is not None else None
            pipe = ctx.training.train_dataset(train)
            spe = ctx.data.steps_per_epoch(pipe) if pipe is not None else None
            if not is_number(epochs) or not is_number(spe) or epochs <= 0 or spe <= 0:
                continue
            total = epochs * spe
            if steps <= total:
                continue
            where = []
            rows_node = ctx.data.rows_origin(pipe)
            if rows_node is not None:
                text = " ".join(ctx.source(rows_node).split())
                text = text if len(text) <= 60 else text[:57] + "..."
                where.append(f"the dataset's size comes from `{text}` (line {ctx.span(rows_node).line})")
            for what, node, scope, order in (("the number of steps", sa.value, cfg.scope, cfg.order),
                                              ("the epochs", ea.value, train.scope, train.order)):
                origin = ctx.values.origin(node, scope, order, ctx)
                if origin:
                    where.append(f"{what} from {origin}")
            tail = ("; ".join(where)) if where else ""
            ctx.report(sa.value,
                       f"`save_checkpoint_steps={steps}` is more than the {total} steps of the whole training "
                       f"({epochs} epochs x {spe} steps, line {ctx.span(train.node, train.top).line}): only the "
                       f"final checkpoint is written; save every {spe} steps for one checkpoint per epoch"
                       + (f". {tail[0].upper()}{tail[1:]}" if tail else ""),
                       top=cfg.top)

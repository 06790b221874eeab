"""MS205: evaluation pipeline batched with drop_remainder=True."""

import libcst as cst

from msfix.context import BATCH_ARGS, EVAL
from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule

class DropRemainderOnEval(Rule):
    code = "MS205"
    name = "drop-remainder-on-eval"
    severity = Severity.WARNING
    summary = "An evaluation dataset batched with `drop_remainder=True` skips its last samples."
    fix_applicability = Applicability.UNSAFE
    doc = """
    ## What it does
    Flags `batch(..., drop_remainder=True)` on evaluation data: data passed to
    `Model.eval`, given as `eval_dataset=`, iterated by a loop that compares
    predictions with labels or updates a metric, built in the `else` branch of
    `if training:` in a helper, read with `usage="test"`, or, as a last resort, named
    test/eval/val. The role is decided once by the analysis for all rules; a batch
    stage that also serves training data (a helper shared by both, the stage after an
    `if training:`/`else:`), `batch(1, ...)` (never a partial batch) and a named split
    of a standard reader whose size the batch size divides (`MnistDataset(usage="test")`
    at batch 100) are not reported. The flag is followed to where it is set (an argparse
    default, a config entry, a module constant, the call of a dataset helper whose
    parameter it is, judged with that call's role and batch size) and the message says where.

    ## Why is this bad?
    `drop_remainder=True` silently drops the last partial batch. For training that is
    a common choice; for evaluation it means the reported accuracy is computed on
    fewer samples than the test set has (CIFAR-10 test at batch 32: 9984 of 10000),
    and the skipped samples are always the same ones.

    ## Example
    ```python
    test_data = test_data.batch(32, drop_remainder=True)
    model.eval(test_data)
    ```

    Use instead:
    ```python
    test_data = test_data.batch(32, drop_remainder=False)
    ```

    ## Fix safety
    Unsafe: a network with a fixed batch dimension (static shapes in graph mode) may
    need the full batches; the fix sets `drop_remainder=False` when `True` is written at
    the batch call. A flag set elsewhere gets no fix: it is changed where it is set (an
    option shared with training needs its own evaluation setting).

    ## Known limits
    When the test set size is a multiple of the batch size nothing is dropped; msfix
    knows the size only for the named splits of the readers whose split sizes it ships
    (assuming the standard files), so other such scripts are still reported.
    """
    invalid = [
        Example(
            "import mindspore.dataset as ds\n"
            "test_set = ds.MnistDataset('m', usage='test').batch(64, drop_remainder=True)\n",
            expect=(2,),
            fixed="import mindspore.dataset as ds\n"
                  "test_set = ds.MnistDataset('m', usage='test').batch(64, drop_remainder=False)\n",
        ),
    ]
    valid = [
        Example("import mindspore.dataset as ds\n"
                "train_set = ds.MnistDataset('m', usage='train').batch(64, drop_remainder=True)\n"),
        Example("import mindspore.dataset as ds\n"
                "test_set = ds.MnistDataset('m', usage='test').batch(64)\n"),
    ]

    def check(self, ctx):
        for p in ctx.model.pipelines:
            if p.op != "batch":
                continue
            arg = ctx.data.arg_of(p.call, "drop_remainder", BATCH_ARGS)
            if arg is None:
                continue
            site = p.call
            # a helper's parameter: the value of each call of the helper, with that call's role
            for value, call in ctx.values.per_call(arg.value, site.scope, site.order, site.statement):
                if value is not True:
                    continue
                role = ctx.data.role_of(p) if call is None else ctx.data.call_role(call)
                if role == EVAL and self._report(ctx, p, arg, call):
                    break

    def _report(self, ctx, p, arg, call) -> bool:
        site = p.call
        env = {site.scope: call} if call is not None else None
        bs = ctx.data.arg_of(site, "batch_size", BATCH_ARGS)
        size = ctx.data.value(bs.value, site.scope, site.order, env) if bs is not None else None
        if type(size) is int and size == 1:
            return False  # batches of one sample: there is never a partial batch
        # the size of a named split of a standard reader (not of a directory read whole)
        rows = ctx.data.rows_after(p.parent, env) if isinstance(ctx.data.source_usage(p.source, env), str) else None
        left = ""
        if type(size) is int and size > 0 and type(rows) is int:
            if rows % size == 0:
                return False  # the batches divide the split: nothing is dropped
            left = f" ({rows % size} of the {rows} samples)"
        written = isinstance(arg.value, cst.Name) and arg.value.value == "True"
        origin = None if written else ctx.values.origin(arg.value, site.scope, site.order, ctx, call)
        # a value set elsewhere (an option shared with training, a config entry, a helper's
        # caller) is changed there, not by overwriting the expression at the batch
        fix = Fix.unsafe("Set `drop_remainder=False`", ctx.replace(arg.value, "False", site.top)) if written else None
        ctx.report(
            arg.value if arg.keyword is None else arg,
            f"evaluation data is batched with `drop_remainder=True`: the last partial batch{left} is "
            "silently skipped, so the metrics leave out part of the test set"
            + (f". The value comes from {origin}" if origin else ""),
            fix=fix,
            top=site.top,
        )
        return True

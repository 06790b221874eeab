"""MS207: batch(n, drop_remainder=True) larger than the dataset: zero batches."""

import libcst as cst

from msfix.context import BATCH_ARGS, UNKNOWN
from msfix.diagnostics import Severity
from msfix.rule import Example, Rule
from msfix.rules.data._pipeline import Once, envs_lines


class BatchLargerThanDataset(Rule):
    code = "MS207"
    name = "batch-larger-than-dataset"
    severity = Severity.ERROR
    summary = "`batch(n, drop_remainder=True)` on fewer than n rows yields no batch at all."
    versions = "MindSpore 1.x and 2.x (verified on 2.10)"
    doc = """
    ## What it does
    Flags `batch(batch_size, drop_remainder=True)` where the dataset before the batch
    has a size msfix can compute (CIFAR/MNIST readers with their `usage`,
    `num_samples`, `take`, NumpySlicesDataset from arrays of known shape, helper
    functions called with literal arguments) and that size is smaller than the batch.

    ## Why is this bad?
    With `drop_remainder=True` the only, partial batch is dropped: the dataset is
    empty. MindSpore 2.10 logs `No records available` and `Model.train` raises
    `ValueError: There is no valid data in dataset` (a custom loop silently runs zero
    steps). It usually comes from a `take(n)`/`num_samples` for a quick test, or a small
    synthetic dataset, combined with the real batch size.

    ## Example
    ```python
    data = ds.NumpySlicesDataset((x, y), ["image", "label"])  # x has 50 rows
    data = data.batch(64, drop_remainder=True)
    ```

    Use instead:
    ```python
    data = data.batch(32, drop_remainder=True)  # or drop_remainder=False
    ```

    ## Fix safety
    No automatic fix: whether the batch size or the dataset size is wrong is the
    author's call.
    """
    invalid = [
        Example(
            "import mindspore.dataset as ds\n"
            "d = ds.MnistDataset('m', usage='test', num_samples=100).batch(128, drop_remainder=True)\n",
            expect=(2,),
        ),
    ]
    valid = [
        Example("import mindspore.dataset as ds\n"
                "d = ds.MnistDataset('m', usage='test', num_samples=100).batch(128)\n"),
        Example("import mindspore.dataset as ds\n"
                "d = ds.MnistDataset('m', usage='test').batch(128, drop_remainder=True)\n"),
        Example("import mindspore.dataset as ds\n"
                "d = ds.MnistDataset('m', num_samples=n).batch(128, drop_remainder=True)\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        once = Once()
        for st in m.pipelines:
            if st.op != "batch" or st.parent is None:
                continue
            for env in ctx.data.contexts(st):
                if ctx.data.drop_remainder(st, env) is not True or not ctx.data.stage_runs(st, env):
                    continue
                bs = ctx.data.batch_size(st, env)
                if not isinstance(bs, int) or isinstance(bs, bool) or bs <= 0:
                    continue
                rows = ctx.data.rows_after(st.parent, env)
                if rows is UNKNOWN or rows >= bs or not once(st.call.node):
                    continue
                what = "no rows" if rows == 0 else f"only {rows} row{'s' if rows != 1 else ''}"
                origins = [_where(ctx, ctx.data.rows_origin(st.parent, env), rows)]
                bs_arg = ctx.data.arg_of(st.call, "batch_size", BATCH_ARGS)
                bs_origin = ctx.values.origin(bs_arg.value, st.call.scope, st.call.order, ctx,
                                              env.get(st.call.scope)) if bs_arg is not None else None
                ctx.report(
                    st.call.node.func.attr if hasattr(st.call.node.func, "attr") else st.call.node,
                    f"`batch({bs}, drop_remainder=True)` on a dataset of {what}{envs_lines(ctx, env)}: the "
                    f"partial batch is dropped, so every epoch is empty and `Model.train` raises "
                    f"\"There is no valid data in dataset\"; use a batch size of at most {max(rows, 1)} "
                    f"or `drop_remainder=False`" + _sentence(origins + [f"the batch size from {bs_origin}"
                                                                         if bs_origin else ""]),
                    top=st.call.top,
                )


def _where(ctx, node, rows) -> str:
    """'the 96 rows come from `rng.uniform(size=(96, 4))` (line 8)': the expression of the
    script that fixed the number of rows, when the script (not a dataset's files) fixes it."""
    if node is None:
        return ""
    line = ctx.span(node).line
    if isinstance(node, cst.Integer):
        return f"the {rows} rows are set on line {line}"
    text = " ".join(ctx.source(node).split())
    if len(text) > 60:
        text = text[:57] + "..."
    return f"the {rows} rows come from `{text}` (line {line})"


def _sentence(parts) -> str:
    parts = [p for p in parts if p]
    if not parts:
        return ""
    text = "; ".join(parts)
    return ". " + text[0].upper() + text[1:]

"""MS213: repeat before batch, shuffle after batch."""

from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule
from msfix.rules.data._pipeline import Once, swap_edit


class PipelineOrder(Rule):
    code = "MS213"
    name = "pipeline-order"
    severity = Severity.WARNING
    summary = "`repeat` before `batch` (batches mix epochs) or `shuffle` after `batch` (shuffles whole batches)."
    fix_applicability = Applicability.SAFE
    versions = "MindSpore 1.x and 2.x (verified on 2.10)"
    doc = """
    ## What it does
    Flags `repeat(n)` (n > 1) followed later by `batch`, and `shuffle` applied after
    `batch`, in the same dataset pipeline.

    ## Why is this bad?
    - `repeat` before `batch` batches the repeated stream: the last batch of one epoch
      holds samples of the next, and the epoch boundary no longer falls on a batch
      boundary. MindSpore itself logs `Repeat is located before batch, data from two
      epochs can be batched together`.
    - `shuffle` after `batch` shuffles the order of whole batches; the samples inside a
      batch stay together every epoch, which is not what a per-sample shuffle buffer is
      for.
    The usual order is shuffle, map, batch, repeat.

    ## Example
    ```python
    data = data.repeat(10).batch(32)
    data = data.batch(32).shuffle(1000)
    ```

    Use instead:
    ```python
    data = data.batch(32).repeat(10)
    data = data.shuffle(1000).batch(32)
    ```

    ## Fix safety
    Safe: when the two stages are adjacent (in one chain, or in two consecutive
    statements rebinding the same name) the fix swaps them into the intended order. The
    number of steps per epoch can change by the partial batch at the epoch boundary.
    """
    invalid = [
        Example(
            "import mindspore.dataset as ds\nd = ds.MnistDataset('m').repeat(3).batch(32)\n",
            expect=(2,),
            fixed="import mindspore.dataset as ds\nd = ds.MnistDataset('m').batch(32).repeat(3)\n",
        ),
        Example(
            "import mindspore.dataset as ds\nd = ds.MnistDataset('m').batch(32).shuffle(100)\n",
            expect=(2,),
            fixed="import mindspore.dataset as ds\nd = ds.MnistDataset('m').shuffle(100).batch(32)\n",
        ),
    ]
    valid = [
        Example("import mindspore.dataset as ds\nd = ds.MnistDataset('m').shuffle(100).batch(32).repeat(3)\n"),
        Example("import mindspore.dataset as ds\nd = ds.MnistDataset('m').repeat(1).batch(32)\n"),
        Example("import mindspore.dataset as ds\nd = ds.MnistDataset('m').repeat(n).batch(32)\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        once = Once()
        for st in m.pipelines:
            stages = st.stages()
            if st.op == "batch":
                for rep in stages[:-1]:
                    if rep.op != "repeat":
                        continue
                    vals = [ctx.data.literal_arg(rep.call, "count", {"count": 0}, default=None, env=env)
                            for env in ctx.data.contexts(rep)]
                    if not any(isinstance(v, int) and not isinstance(v, bool) and v > 1 for v in vals):
                        continue
                    if not once(rep.call.node):
                        continue
                    fix = None
                    if st.parent is rep:
                        edit = swap_edit(ctx, rep, st)
                        if edit is not None:
                            fix = Fix.safe("Batch before repeating", edit)
                    line = ctx.span(st.call.node, st.call.top).line
                    ctx.report(
                        rep.call.node.func.attr,
                        f"`repeat` comes before `batch` (line {line}): batches are cut from the repeated "
                        f"stream, so a batch can mix the end of one epoch with the start of the next; "
                        f"batch first, then repeat",
                        fix=fix,
                        top=rep.call.top,
                    )
            elif st.op == "shuffle":
                batch = next((p for p in reversed(stages[:-1]) if p.op == "batch"), None)
                if batch is None or not once(st.call.node):
                    continue
                fix = None
                if st.parent is batch:
                    edit = swap_edit(ctx, batch, st)
                    if edit is not None:
                        fix = Fix.safe("Shuffle before batching", edit)
                line = ctx.span(batch.call.node, batch.call.top).line
                ctx.report(
                    st.call.node.func.attr,
                    f"`shuffle` comes after `batch` (line {line}): it shuffles the order of whole batches "
                    f"while the samples in each batch stay together; shuffle before batching",
                    fix=fix,
                    top=st.call.top,
                )

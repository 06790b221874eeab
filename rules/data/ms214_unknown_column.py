"""MS214: a map/batch/project/rename names a column the dataset does not have."""

from msfix.context import UNKNOWN
from msfix.diagnostics import Severity
from msfix.rule import Example, Rule
from msfix.rules.data._pipeline import Once, envs_lines

# stage op -> [(parameter, position)] naming existing columns
COLUMN_ARGS = {
    "map": [("input_columns", 1)],
    "batch": [("input_columns", None)],
    "project": [("columns", 0)],
    "rename": [("input_columns", 0)],
}


class UnknownColumn(Rule):
    code = "MS214"
    name = "unknown-column"
    severity = Severity.ERROR
    summary = "A `map`/`batch`/`project`/`rename` names a column the dataset does not have."
    versions = "MindSpore 1.x and 2.x (verified on 2.10)"
    doc = """
    ## What it does
    Tracks the column names of each dataset from its source (`Cifar10Dataset`: image,
    label; `ImageFolderDataset`: image, label; `Cifar100Dataset`: image, coarse_label,
    fine_label; `NumpySlicesDataset`/`GeneratorDataset`: `column_names`, dict keys, or
    column_0...) through `rename`, `project` and `map(..., output_columns=...)`, and
    flags `map(input_columns=...)`, `batch(input_columns=...)`, `project(...)` and
    `rename(...)` naming a column that is not there.

    ## Why is this bad?
    The pipeline is built lazily, so the typo only fails when the first row is read:
    `RuntimeError: ... input column name: img doesn't exist in the dataset columns`
    (MindSpore 2.10), often after the network has been built and compiled.

    ## Example
    ```python
    data = ds.Cifar10Dataset(path, usage="train")
    data = data.map(vision.HWC2CHW(), input_columns="images")
    ```

    Use instead:
    ```python
    data = data.map(vision.HWC2CHW(), input_columns="image")
    ```

    ## Fix safety
    No automatic fix: the message lists the columns that exist.
    """
    invalid = [
        Example(
            "import mindspore.dataset as ds\nimport mindspore.dataset.vision as vision\n"
            "d = ds.MnistDataset('m').map(vision.HWC2CHW(), input_columns='img')\n",
            expect=(3,),
        ),
    ]
    valid = [
        Example("import mindspore.dataset as ds\nimport mindspore.dataset.vision as vision\n"
                "d = ds.MnistDataset('m').map(vision.HWC2CHW(), input_columns='image')\n"),
        Example("import mindspore.dataset as ds\n"
                "d = ds.MnistDataset('m').rename('image', 'img').project(['img'])\n"),
        Example("import mindspore.dataset as ds\n"
                "d = ds.MindDataset('m.mindrecord').map(f, input_columns='img')\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        once = Once()
        for st in m.pipelines:
            params = COLUMN_ARGS.get(st.op)
            if not params or st.parent is None or st.call.has_star_args:
                continue
            for name, index in params:
                arg = st.call.arg(name, index)
                if arg is None:
                    continue
                for env in [{}] + [e for e in ctx.data.contexts(st) if e]:
                    have = ctx.data.stage_columns(st.parent, env)
                    if have is UNKNOWN:
                        continue
                    named = ctx.data.value(arg.value, st.call.scope, st.call.order, env)
                    if named is None:
                        continue
                    named = ctx.data.names(named)
                    if named is UNKNOWN:
                        continue
                    missing = [c for c in named if c not in have]  # type: ignore[union-attr]
                    if not missing or not once(arg):
                        continue
                    src = st.source.source_class.rsplit(".", 1)[-1]
                    cols = ", ".join(f'"{c}"' for c in have)  # type: ignore[union-attr]
                    what = ", ".join(f'"{c}"' for c in missing)
                    ctx.report(
                        arg.value,
                        f"`{st.op}` names column{'s' if len(missing) > 1 else ''} {what}, but the `{src}` "
                        f"pipeline has {cols} here{envs_lines(ctx, env)}: RuntimeError when the first row is "
                        f"read",
                        top=st.call.top,
                    )

"""MS202: num_parallel_workers larger than a typical machine has."""


from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule

LIMIT = 4


class NumParallelWorkersTooHigh(Rule):
    code = "MS202"
    name = "num-parallel-workers-too-high"
    severity = Severity.ERROR
    summary = "A known `num_parallel_workers` above 4 crashes on machines with fewer cores."
    fix_applicability = Applicability.SAFE
    doc = """
    ## What it does
    Flags dataset sources, `map`/`batch` calls and `ds.config.set_num_parallel_workers`
    given a worker count above 4 that msfix can compute: a literal, a module constant,
    an argparse default (`args.workers` with `default=12`) or a config value
    (`cfg["workers"]`, `cfg.workers`, `cfg.get("workers", 8)`); the message says where
    a value that is not written at the call comes from. A value the command line or
    other code may change is not known and not reported.

    ## Why is this bad?
    MindSpore checks the count against the CPU cores of the machine it runs on. On a
    machine with fewer cores, building the pipeline raises
    `ValueError: num_parallel_workers exceeds the boundary between 1 and N!`
    (`set_num_parallel_workers` raises `RuntimeError`). A script written on a 64-core
    server then crashes on a laptop or a 2-core CI runner.

    ## Example
    ```python
    train = ds.Cifar10Dataset(path, num_parallel_workers=8)
    ```

    Use instead:
    ```python
    import os
    train = ds.Cifar10Dataset(path, num_parallel_workers=min(8, os.cpu_count() or 1))
    ```

    ## Fix safety
    Safe: on machines with enough cores the count is unchanged; elsewhere it is capped
    at the core count instead of crashing (`or 1` where `os.cpu_count()` cannot tell
    and returns None, which `min` would reject with TypeError). The fix adds
    `import os` when needed.
    """
    invalid = [
        Example(
            "import mindspore.dataset as ds\n"
            "d = ds.MnistDataset('data', num_parallel_workers=16)\n",
            expect=(2,),
            fixed="import mindspore.dataset as ds\n"
                  "import os\n"
                  "d = ds.MnistDataset('data', num_parallel_workers=min(16, os.cpu_count() or 1))\n",
        ),
        Example(
            "import os\nfrom mindspore import dataset as ds\n"
            "ds.config.set_num_parallel_workers(32)\n",
            expect=(3,),
            fixed="import os\nfrom mindspore import dataset as ds\n"
                  "ds.config.set_num_parallel_workers(min(32, os.cpu_count() or 1))\n",
        ),
    ]
    valid = [
        Example("import mindspore.dataset as ds\nd = ds.MnistDataset('data', num_parallel_workers=4)\n"),
        Example("import os\nimport mindspore.dataset as ds\n"
                "d = ds.MnistDataset('data', num_parallel_workers=min(8, os.cpu_count()))\n"),
        Example("import multiprocessing\nw = dict(num_parallel_workers=16)\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        for site in m.calls:
            q = site.qualname
            if not q:
                continue
            if q == "mindspore.dataset.config.set_num_parallel_workers":
                arg = site.arg("num", 0)
            elif q.startswith("mindspore.dataset."):
                arg = site.keyword("num_parallel_workers")
            else:
                continue
            if arg is None:
                continue
            # a helper's parameter: the value of each call of the helper (the first too high)
            found = ctx.values.per_call(arg.value, site.scope, site.order, site.statement)
            value, call = next(((v, c) for v, c in found
                                if isinstance(v, int) and not isinstance(v, bool) and v > LIMIT), (None, None))
            if value is None:
                continue
            os_name, os_import = ctx.ensure_module("os", "os", before=site.order)
            text = ctx.source(arg.value)
            # os.cpu_count() returns None when the count cannot be determined
            capped = f"min({text}, {os_name}.cpu_count() or 1)"
            edits = [ctx.replace(arg.value, capped, site.top)]
            imp = ctx.imports_edit([os_import])
            if imp is not None:
                edits.append(imp)
            origin = ctx.values.origin(arg.value, site.scope, site.order, ctx, call)
            ctx.report(
                arg.value,
                f"`num_parallel_workers={value}` raises ValueError on machines with fewer than "
                f"{value} CPU cores; cap it with `{capped}`"
                + (f". The value comes from {origin}" if origin else ""),
                fix=Fix.safe(f"Cap at the machine's core count: `{capped}`", *edits),
                top=site.top,
            )

"""MS207: batch(n, drop_remainder=True) larger than the dataset: zero batches."""

import libcst as cst

from msfix.context import BATCH_ARGS, UNKNOWN
from msfix.diagnostics import Applicability, Fix, Severity
from msfix.fixes.edits import append_kwarg, replace_expr
from msfix.rule import Example, Rule
from msfix.rules.data._pipeline import Once, envs_lines


class BatchLargerThanDataset(Rule):
    code = "MS207"
    name = "batch-larger-than-dataset"
    severity = Severity.ERROR
    summary = "`batch(n, drop_remainder=True)` on fewer than n rows yields no batch at all."
    versions = "MindSpore 1.x and 2.x (verified on 2.10)"
    fix_applicability = Applicability.SAFE
    doc = """
    ## What it does
    Flags `batch(batch_size, drop_remainder=True)` where the dataset before the batch
    has a size msfix can compute (CIFAR/MNIST readers with their `usage`,
    `num_samples`, `take`, NumpySlicesDataset from NumPy arrays of known shape --
    `default_rng()` draws, slices, `concatenate`, `reshape` --, GeneratorDataset over a
    local generator looping over `range(n)` or a class whose `__len__` the script
    fixes, helper functions for each of their calls) and that size is smaller than the
    batch. The sizes and the batch size may come from module constants, argparse
    defaults, config dicts or a YAML/JSON file next to the script; the message says
    where the rows and the batch size come from. A batch built in an `if` branch a
    helper call does not take (`if training:` for `training=False`) is not counted.

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
    When every run of the `batch` call is empty (a batch built once, or in a helper
    whose every call gives it fewer rows than the batch) and `drop_remainder=True` is
    written at the call, the fix writes `drop_remainder=False`: each epoch is then one
    batch of all the rows, exactly what a batch capped at the dataset size would give,
    so only one reading of the script runs. That fix is safe when the batch size and the
    number of rows are fixed by the script itself; it is unsafe when either comes from an
    argparse option or a config file, because a run with other values (more rows) would
    then keep a partial last batch it used to drop.

    When the batch is in a helper and only some calls of it are empty (the others fit),
    `drop_remainder=False` would change the calls that work; if the batch size is a
    parameter of the helper, the unsafe fix passes the dataset size for it at the empty
    call (`create_dataset(..., batch_size=200)`) instead. Other cases get no fix: whether
    the batch size or the dataset size is wrong is the author's call.
    """
    invalid = [
        Example(
            "import mindspore.dataset as ds\n"
            "d = ds.MnistDataset('m', usage='test', num_samples=100).batch(128, drop_remainder=True)\n",
            expect=(2,),
            fixed="import mindspore.dataset as ds\n"
                  "d = ds.MnistDataset('m', usage='test', num_samples=100).batch(128, drop_remainder=False)\n",
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
            envs = ctx.data.contexts(st)
            for env in envs:
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
                    fix=_fix(ctx, st, envs, env, rows), top=st.call.top,
                )


def _empty(ctx, st, env) -> bool:
    """Is the batch stage `st`, for the helper calls in `env`, known to yield no batch?"""
    bs = ctx.data.batch_size(st, env)
    if ctx.data.drop_remainder(st, env) is not True or not isinstance(bs, int) or isinstance(bs, bool) or bs <= 0:
        return False
    rows = ctx.data.rows_after(st.parent, env)
    return rows is not UNKNOWN and rows < bs


def _fix(ctx, st, envs, env, rows):
    """`drop_remainder=False` when every run of the batch is empty; else the batch size
    capped at `rows` at the helper call of `env` (unsafe)."""
    if rows < 1 or len(envs) >= 16:  # 16: the limit of contexts(): more calls may exist
        return None
    running = [e for e in envs if ctx.data.stage_runs(st, e)]
    if all(_empty(ctx, st, e) for e in running):
        arg = ctx.data.arg_of(st.call, "drop_remainder", BATCH_ARGS)
        if arg is None or not (isinstance(arg.value, cst.Name) and arg.value.value == "True"):
            return None
        edit = replace_expr(ctx, arg.value, "False", st.call.top)
        msg = (f"Keep the partial batch (`drop_remainder=False`): each epoch is one batch of the "
               f"{'dataset' if len(running) == 1 else 'rows of each call'}")
        if any(_outside(ctx, st, e) for e in running):
            return Fix.unsafe(msg + " (the sizes come from options or a config file: with other values a partial "
                              "last batch is kept)", edit)
        return Fix.safe(msg, edit)
    return _cap_at_call(ctx, st, env, rows)


def _outside(ctx, st, env) -> bool:
    """Does the batch size or the number of rows depend on an argparse option or a
    config file (through the pipeline's calls or the helper calls that build it)?"""
    sites = [p.call for p in st.stages()] + list(env.values())
    return any(ctx.values.from_outside(a.value, site.scope, site.order)
               for site in sites for a in site.node.args)


def _cap_at_call(ctx, st, env, rows):
    """Pass `rows` for the helper parameter that gives the batch size, at the helper call
    of `env` (only that call changes)."""
    arg = ctx.data.arg_of(st.call, "batch_size", BATCH_ARGS)
    scope = st.call.scope
    if arg is None or not isinstance(arg.value, cst.Name) or scope not in env:
        return None
    fn = scope.node
    b = ctx.model.lookup(arg.value.value, scope, st.call.order)
    if not isinstance(fn, cst.FunctionDef) or b is None or b.kind != "param" or b.scope is not scope \
            or len(scope.bindings.get(arg.value.value, ())) != 1 or not isinstance(b.node, cst.Param):
        return None
    pname = b.node.name.value
    if pname not in [p.name.value for p in (*fn.params.params, *fn.params.kwonly_params)]:
        return None  # positional-only, *args or **kwargs
    site = env[scope]
    given = ctx.data.param_arg(site, fn, pname)
    if given is UNKNOWN:
        return None
    if given is None:
        edit = append_kwarg(ctx, site.node, f"{pname}={rows}", site.top)
    else:
        edit = replace_expr(ctx, given, str(rows), site.top)
    return Fix.unsafe(f"Pass `{pname}={rows}` (the dataset size) to `{ctx.source(site.node.func)}` on line "
                      f"{ctx.span(site.node, site.top).line}: its batches then hold all {rows} rows", edit)


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

"""MS214: a map/batch/project/rename names a column the dataset does not have."""

import re

import libcst as cst

from msfix.context import UNKNOWN
from msfix.diagnostics import Applicability, Fix, Severity
from msfix.fixes.edits import replace_expr, string_literal
from msfix.rule import Example, Rule
from msfix.rules.data._pipeline import Once, envs_lines

# stage op -> [(parameter, position)] naming existing columns
COLUMN_ARGS = {
    "map": [("input_columns", 1)],
    "batch": [("input_columns", None)],
    "project": [("columns", 0)],
    "rename": [("input_columns", 0)],
}


def _listed(names) -> list:
    return names if isinstance(names, list) else []


def _name_origin(ctx, st, expr, env, name):
    """Where the column name `name` that `expr` gives comes from, when it is not written
    at the call (an element of a list written there is followed on its own), or None."""
    if isinstance(expr, (cst.List, cst.Tuple)):
        for el in expr.elements:
            if ctx.data.value(el.value, st.call.scope, st.call.order, env) == name:
                return _name_origin(ctx, st, el.value, env, name)
        return None
    if isinstance(expr, cst.SimpleString):
        return None
    site = env.get(st.call.scope)
    if site is None:  # a helper's parameter: the first call that gives the name
        site = next((c for v, c in ctx.values.per_call(expr, st.call.scope, st.call.order, st.call.statement)
                     if c is not None and v is not UNKNOWN and name in _listed(ctx.data.names(v))), None)
    return ctx.values.origin(expr, st.call.scope, st.call.order, ctx, site)


class UnknownColumn(Rule):
    code = "MS214"
    name = "unknown-column"
    severity = Severity.ERROR
    summary = "A `map`/`batch`/`project`/`rename` names a column the dataset does not have."
    versions = "MindSpore 1.x and 2.x (verified on 2.10)"
    fix_applicability = Applicability.UNSAFE
    doc = """
    ## What it does
    Tracks the column names of each dataset from its source (`Cifar10Dataset`: image,
    label; `ImageFolderDataset`: image, label; `Cifar100Dataset`: image, coarse_label,
    fine_label; `NumpySlicesDataset`/`GeneratorDataset`: `column_names`, dict keys, or
    column_0...) through `rename`, `project` and `map(..., output_columns=...)`, and
    flags `map(input_columns=...)`, `batch(input_columns=...)`, `project(...)` and
    `rename(...)` naming a column that is not there. Also flags a `GeneratorDataset`
    whose `column_names` count differs from the number of values each row of its source
    has, when the script's own generator (or class with `__getitem__`) yields / returns
    a tuple written out (or one NumPy array) at every `yield` / `return`.

    ## Why is this bad?
    The pipeline is built lazily, so the typo only fails when the first row is read:
    `RuntimeError: ... input column name: img doesn't exist in the dataset columns`
    (MindSpore 2.10), often after the network has been built and compiled. A
    generator row of a different width raises `RuntimeError: ... the 'source' of
    'GeneratorDataset' should return same number of NumPy arrays as specified in
    column_names` at the same point.

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
    Unsafe fix (`--unsafe-fixes`): a column name written as a string at the call is
    renamed to the one existing column it is a near miss of: the same name but for case,
    `_` or `-` (`Image` -> `image`); else the only column at one edit (two for names of
    five letters or more) from it, or that it abbreviates (`img` -> `image`, same first
    letter); never a column the same argument already names. The fix is made only when
    that column is the same for every call of the helper that builds the pipeline and no
    call has the name. A name that is a part of several columns (`label` on CIFAR-100:
    `coarse_label` or `fine_label`) is renamed to the one whose class count (dataset
    facts) equals the output size of the network (its final `Dense`) that every `Model`
    given the pipeline trains (100 outputs: `fine_label`). It is unsafe because the right
    column is a guess; a name with no such candidate or with two, or held in a variable,
    gets no fix, and the message lists the columns that exist.
    """
    invalid = [
        Example(
            "import mindspore.dataset as ds\nimport mindspore.dataset.vision as vision\n"
            "d = ds.MnistDataset('m').map(vision.HWC2CHW(), input_columns='img')\n",
            expect=(3,),
            fixed="import mindspore.dataset as ds\nimport mindspore.dataset.vision as vision\n"
                  "d = ds.MnistDataset('m').map(vision.HWC2CHW(), input_columns='image')\n",
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
        self._generator_width(ctx, once)
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
                    origin = _name_origin(ctx, st, arg.value, env, missing[0])
                    ctx.report(
                        arg.value,
                        f"`{st.op}` names column{'s' if len(missing) > 1 else ''} {what}, but the `{src}` "
                        f"pipeline has {cols} here{envs_lines(ctx, env)}: RuntimeError when the first row is "
                        f"read" + (f". The name comes from {origin}" if origin else ""),
                        fix=_rename_fix(ctx, st, arg), top=st.call.top,
                    )


    def _generator_width(self, ctx, once):
        for st in ctx.model.pipelines:
            if st.op != "source" or not st.source_class.endswith(".GeneratorDataset") or st.call.has_star_args:
                continue
            arg = ctx.data.source_arg(st, "column_names")
            if arg is None:
                continue
            for env in ctx.data.contexts(st):
                names = ctx.data.names(ctx.data.value(arg.value, st.call.scope, st.call.order, env))
                rows = ctx.data.generator_rows(st, env)
                if names is UNKNOWN or not names or rows is None or len(rows) == len(names):
                    continue
                if len(rows) == 1 and rows[0] is None:
                    continue  # one value that is not a known array: it may be a tuple of columns
                if not once(arg):
                    break
                src = ctx.data.source_arg(st, "source")
                what = f"`{ctx.source(src.value)}`" if src is not None else "its source"
                listed = ", ".join(f'"{n}"' for n in names)
                ctx.report(
                    arg.value,
                    f"`GeneratorDataset` is given {len(names)} column name{'s' if len(names) != 1 else ''} "
                    f"({listed}) but {what} yields {len(rows)} value{'s' if len(rows) != 1 else ''} per row"
                    f"{envs_lines(ctx, env)}: RuntimeError when the first row is read (the source should return "
                    f"as many NumPy arrays as column_names has)",
                    fix=_width_fix(ctx, st, arg, len(rows)), top=st.call.top,
                )
                break


def _width_fix(ctx, st, arg, width):
    """`column_names` cut to the first `width` names, or padded with `column_<i>`."""
    v = arg.value
    if not isinstance(v, (cst.List, cst.Tuple)) or not v.elements or \
            not all(isinstance(el.value, cst.SimpleString) for el in v.elements):
        return None
    texts = [ctx.source(el.value) for el in v.elements]
    names = [el.value.evaluated_value for el in v.elements]
    if len(names) > width:
        keep, what = texts[:width], f"keep the first {width}"
    else:
        keep = list(texts)
        for i in range(len(names), width):
            new = f"column_{i}"
            while new in names:
                new += "_"
            names.append(new)
            keep.append(string_literal(new, v.elements[0].value))
        what = f"name the {width - len(texts)} extra value{'s' if width - len(texts) != 1 else ''}"
    opener, closer = ("[", "]") if isinstance(v, cst.List) else ("(", ",)" if width == 1 else ")")
    text = opener + ", ".join(keep) + closer
    return Fix.unsafe(f"Match `column_names` to the {width} values each row has ({what}): `{text}`",
                      replace_expr(ctx, v, text, st.call.top))


def _rename_fix(ctx, st, arg):
    """Rename each missing column written as a string in `arg` to the one column it is a
    near miss of, when that holds for every helper call that builds the pipeline."""
    strings = [arg.value] if isinstance(arg.value, cst.SimpleString) else [
        el.value for el in arg.value.elements] if isinstance(arg.value, (cst.List, cst.Tuple)) else []
    if not strings or not all(isinstance(e, cst.SimpleString) for e in strings):
        return None  # a name held in a variable: its value may serve other calls
    named = [e.evaluated_value for e in strings]
    if any(not isinstance(n, str) for n in named):
        return None
    renames = {}
    by_classes = False
    for env in [{}] + [e for e in ctx.data.contexts(st) if e]:
        have = ctx.data.stage_columns(st.parent, env)
        if have is UNKNOWN:
            continue
        for n in named:
            if n in have:
                if n in renames:
                    return None  # there for one call, missing for another
                continue
            free = [c for c in have if c not in named]
            to = _near_miss(n, free)
            if to is None:
                to = _label_choice(ctx, st, n, free)
                by_classes = by_classes or to is not None
            if to is None or renames.setdefault(n, to) != to:
                return None
    if not renames or len(set(renames.values())) != len(renames):
        return None
    edits = [replace_expr(ctx, e, string_literal(renames[e.evaluated_value], e), st.call.top)
             for e in strings if e.evaluated_value in renames]
    what = ", ".join(f'"{a}" -> "{b}"' for a, b in renames.items())
    why = ("the column whose class count matches the network's output size" if by_classes
           else "the one existing column it is a near miss of")
    return Fix.unsafe(f"Rename the column ({what}): {why}", *edits)


def _label_choice(ctx, st, name, columns):
    """The column among those `name` is a part of (`label` in `fine_label`) whose class
    count equals the output size of the network trained on the pipeline, or None."""
    parts = [c for c in columns if name.lower() in re.split(r"[_\-\s]+", c.lower())]
    return ctx.network.label_for_output(st, parts) if parts else None


def _near_miss(name, columns):
    """The one column `name` is a near miss of, or None."""
    def norm(s):
        return s.lower().replace("_", "").replace("-", "").replace(" ", "")
    same = [c for c in columns if norm(c) == norm(name)]
    if same:
        return same[0] if len(same) == 1 else None
    if len(name) < 3:
        return None
    limit = 2 if len(name) >= 5 else 1
    close = [c for c in columns
             if _distance(name.lower(), c.lower()) <= limit or _abbreviates(name.lower(), c.lower())]
    return close[0] if len(close) == 1 else None


def _abbreviates(short, long):
    """`img` abbreviates `image`: same first letter, its letters in order in the longer name."""
    if len(short) >= len(long) or short[0] != long[0]:
        return False
    it = iter(long)
    return all(ch in it for ch in short)


def _distance(a, b):
    """Levenshtein distance."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]

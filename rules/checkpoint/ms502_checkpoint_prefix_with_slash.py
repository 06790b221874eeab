"""MS502: ModelCheckpoint(prefix=...) containing a '/'."""

import posixpath

import libcst as cst

from msfix.diagnostics import Applicability, Fix, Severity
from msfix.fixes.edits import string_literal
from msfix.rule import Example, Rule


class CheckpointPrefixWithSlash(Rule):
    code = "MS502"
    name = "checkpoint-prefix-with-slash"
    severity = Severity.ERROR
    summary = "`ModelCheckpoint(prefix=...)` must be a file name prefix; the path belongs in `directory=`."
    fix_applicability = Applicability.SAFE
    versions = "MindSpore 1.x and 2.x (checked on 2.10.0)"
    doc = """
    ## What it does
    Flags a `prefix` of `ModelCheckpoint` that contains a `/`: a literal (or a value
    followed to a constant, an argparse default, a config entry), or a path built in the
    call: `os.path.join(folder, "name")`, `folder + "/name"`, `f"{folder}/name"`.

    ## Why is this bad?
    `ModelCheckpoint` raises `ValueError: ... the argument 'prefix' for checkpoint file
    name is invalid, it must be callable or string that does not contain '/'` when it
    is built. The folder goes in `directory=`.

    ## Example
    ```python
    ckpt_cb = ModelCheckpoint(prefix="./checkpoints/lenet", config=config)
    ```

    Use instead:
    ```python
    ckpt_cb = ModelCheckpoint(prefix="lenet", directory="./checkpoints", config=config)
    ```

    ## Fix safety
    Safe: the files land where the prefix pointed (`directory` joined with the
    prefix's folder, when `directory` is a literal or absent). A prefix built as
    `os.path.join(folder, ..., "name")`, `folder + "/name"` or `f"{folder}/name"` without
    `directory=` becomes `prefix="name", directory=folder` (the folder expression kept;
    `ModelCheckpoint` creates it as the prefix's folder would have been).
    """
    invalid = [
        Example(
            "from mindspore.train import ModelCheckpoint\ncb = ModelCheckpoint(prefix='out/net', config=cfg)\n",
            expect=(2,),
            fixed="from mindspore.train import ModelCheckpoint\n"
                  "cb = ModelCheckpoint(prefix='net', directory='out', config=cfg)\n",
        ),
        Example(
            "from mindspore.train import ModelCheckpoint\ncb = ModelCheckpoint('a/net', 'ck')\n",
            expect=(2,),
            fixed="from mindspore.train import ModelCheckpoint\ncb = ModelCheckpoint('net', 'ck/a')\n",
        ),
    ]
    valid = [
        Example("from mindspore.train import ModelCheckpoint\n"
                "cb = ModelCheckpoint(prefix='net', directory='out/ck')\n"),
    ]

    @staticmethod
    def _split_computed(m, expr, site, ctx):
        """(folder source, file name source) of a prefix computed as `os.path.join(a, ..., name)`,
        `folder + "/name"` or `f"{folder}/name"` whose last part is the file name (no '/')."""
        if isinstance(expr, cst.Call) and m.qualname(expr.func, site.scope, site.order) in (
                "os.path.join", "posixpath.join"):
            args = list(expr.args)
            if len(args) < 2 or any(a.star or a.keyword is not None for a in args):
                return None
            last = m.literal(args[-1].value, site.scope, site.order)
            if not isinstance(last, str) or not last or "/" in last:
                return None
            head = args[:-1]
            if len(head) == 1:
                folder = ctx.source(head[0].value)
            else:
                folder = f"{ctx.source(expr.func)}({', '.join(ctx.source(a.value) for a in head)})"
            return folder, ctx.source(args[-1].value)
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add) \
                and isinstance(expr.right, cst.SimpleString):
            tail = expr.right.evaluated_value
            if not isinstance(tail, str) or "/" not in tail:
                return None
            folder, base = tail.rsplit("/", 1)
            if not base or m.literal(expr.left, site.scope, site.order) == "":
                return None
            left = ctx.source(expr.left)
            folder_src = f"{left} + {string_literal(folder, expr.right)}" if folder else left
            return folder_src, string_literal(base, expr.right)
        if isinstance(expr, cst.FormattedString) and expr.parts \
                and isinstance(expr.parts[-1], cst.FormattedStringText) and "/" in expr.parts[-1].value \
                and not any(isinstance(p, cst.FormattedStringText) and ("{" in p.value or "}" in p.value)
                            for p in expr.parts):
            text = expr.parts[-1].value
            folder, base = text.rsplit("/", 1)
            if not base or "\\" in base or len(expr.parts) < 2:
                return None
            head = "".join(ctx.source(p) for p in expr.parts[:-1]) + folder
            if expr.end != expr.start[-1] or "'" in base or '"' in base:
                return None
            return f"{expr.start}{head}{expr.end}", f"{expr.end}{base}{expr.end}"
        return None

    def check(self, ctx):
        m = ctx.model
        for site in m.calls_to("mindspore.train.ModelCheckpoint"):
            pa = site.arg("prefix", 0)
            if pa is None or site.has_star_args:
                continue
            prefix = m.literal(pa.value, site.scope, site.order)
            split = self._split_computed(m, pa.value, site, ctx)
            if isinstance(prefix, str):
                if "/" not in prefix:
                    continue
                folder, base = posixpath.split(prefix)
            elif split is not None and not isinstance(pa.value, cst.Call):
                # `folder + "/name"`, f"{folder}/name": a '/' whatever the folder is
                folder, base = None, split[1]
            else:
                continue
            fix = None
            da = site.arg("directory", 1)
            if base and isinstance(pa.value, cst.SimpleString):
                edits = [ctx.replace(pa.value, string_literal(base, pa.value), site.top)]
                if da is None:
                    if pa.keyword is not None:
                        edits.append(ctx.insert_after(pa.value, f", directory={string_literal(folder, pa.value)}",
                                                      site.top))
                    elif site.positional(1) is None:
                        edits.append(ctx.insert_after(pa.value, f", {string_literal(folder, pa.value)}", site.top))
                    else:
                        edits = None
                else:
                    d = m.literal(da.value, site.scope, site.order)
                    if isinstance(d, str) and isinstance(da.value, cst.SimpleString) and not folder.startswith("/"):
                        edits.append(ctx.replace(da.value, string_literal(posixpath.join(d, folder), da.value),
                                                 site.top))
                    elif d is None and isinstance(da.value, cst.Name):
                        edits.append(ctx.replace(da.value, string_literal(folder, pa.value), site.top))
                    else:
                        edits = None
                if edits:
                    fix = Fix.safe("Move the folder into `directory=`", *edits)
            elif base and da is None:
                if split is not None:
                    folder_src, base_src = split
                    fix = Fix.safe("Move the folder into `directory=`",
                                   ctx.replace(pa.value, base_src, site.top),
                                   ctx.insert_after(pa.value, f", directory={folder_src}", site.top))
            if split is not None:
                advice = f"use `prefix={split[1]}, directory={split[0]}`"
            elif base:
                advice = f"use prefix={base!r} and put {folder!r} in `directory=`"
            else:
                advice = f"put {folder!r} in `directory=` and give a file name prefix"
            shown = repr(prefix) if isinstance(prefix, str) else f"`{ctx.source(pa.value)}`"
            ctx.report(pa.value,
                       f"`ModelCheckpoint` prefix {shown} contains '/': building the callback raises ValueError "
                       f"(prefix must be callable or a string without '/'); {advice}",
                       fix=fix, top=site.top)

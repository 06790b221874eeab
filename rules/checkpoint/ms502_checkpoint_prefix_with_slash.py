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
    Flags a literal `prefix` of `ModelCheckpoint` that contains a `/`.

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
    prefix's folder, when `directory` is a literal or absent).
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

    def check(self, ctx):
        m = ctx.model
        for site in m.calls_to("mindspore.train.ModelCheckpoint"):
            pa = site.arg("prefix", 0)
            if pa is None or site.has_star_args:
                continue
            prefix = m.literal(pa.value, site.scope, site.order)
            if not isinstance(prefix, str) or "/" not in prefix:
                continue
            folder, base = posixpath.split(prefix)
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
            advice = (f"use prefix={base!r} and put {folder!r} in `directory=`" if base
                      else f"put {folder!r} in `directory=` and give a file name prefix")
            ctx.report(pa.value,
                       f"`ModelCheckpoint` prefix {prefix!r} contains '/': building the callback raises ValueError "
                       f"(prefix must be callable or a string without '/'); {advice}",
                       fix=fix, top=site.top)

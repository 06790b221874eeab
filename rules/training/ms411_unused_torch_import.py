"""MS411: a MindSpore script imports torch but uses nothing it binds."""

from __future__ import annotations

import libcst as cst

from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule

from msfix.fixes.edits import remove_statement


def _torch_name(q: str) -> bool:
    return q == "torch" or q.startswith("torch.")


def _imports_mindspore(m) -> bool:
    for rec in m.imports:
        mods = [rec.module] if rec.module is not None else [full for full, _, _ in rec.names]
        if any(x and (x == "mindspore" or x.startswith("mindspore.")) for x in mods):
            return True
    return False


class UnusedTorchImport(Rule):
    code = "MS411"
    name = "unused-torch-import"
    severity = Severity.WARNING
    summary = "A MindSpore script imports `torch` but uses none of the names the import binds."
    fix_applicability = Applicability.SAFE
    versions = "MindSpore 1.x and 2.x"
    doc = """
    ## What it does
    Flags a top-level `import torch` / `import torch.nn.functional as F` /
    `from torch import nn` statement in a script that imports MindSpore, when no name
    the statement binds is read anywhere in the script. This is what is left after a
    port (MS410's fixes replace the torch calls by their MindSpore counterparts).

    ## Why is this bad?
    The import alone makes the script need PyTorch: where MindSpore runs without it
    (an Ascend server, a MindSpore image) the script stops with
    `ModuleNotFoundError: No module named 'torch'` before training.

    ## Example
    ```python
    import torch
    import mindspore as ms
    x = ms.mint.cat([a, b], dim=1)
    ```

    Use instead:
    ```python
    import mindspore as ms
    x = ms.mint.cat([a, b], dim=1)
    ```

    ## Fix safety
    Safe: the statement is removed; nothing in the script reads what it binds.
    Imports inside `try`, functions or `if` blocks (optional imports) are not reported,
    nor statements that also import something else.
    """
    invalid = [
        Example("import torch\nimport mindspore as ms\nx = ms.ops.ones((2,))\n", expect=(1,),
                fixed="import mindspore as ms\nx = ms.ops.ones((2,))\n"),
    ]
    valid = [
        Example("import torch\nimport mindspore as ms\nstate = torch.load('a.pth')\n"),
        Example("import torch\nx = 1\n"),
        Example("import mindspore as ms\ntry:\n    import torch\nexcept ImportError:\n    torch = None\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        if not _imports_mindspore(m):
            return
        read = {r.name for r in m.reads}
        for rec in m.imports:
            if rec.scope is not m.module_scope or rec.star:
                continue
            stmt = m.module.body[rec.top] if rec.top < len(m.module.body) else None
            if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1 or stmt.body[0] is not rec.node:
                continue
            if rec.module is not None:
                if not _torch_name(rec.module):
                    continue
                bound = [asname or name for name, asname, _ in rec.names]
            else:
                if not all(_torch_name(full) for full, _, _ in rec.names):
                    continue
                bound = [asname or full.split(".")[0] for full, asname, _ in rec.names]
            if any(b in read for b in bound):
                continue
            edit = remove_statement(ctx, stmt, m.module, rec.top)
            text = m.module.code_for_node(rec.node).strip()
            ctx.report(rec.node,
                       f"`{text}`: the script uses nothing this binds, but the import makes it need PyTorch "
                       f"(ModuleNotFoundError where MindSpore runs without torch); remove it",
                       fix=Fix.safe("Remove the unused torch import", edit) if edit else None, top=rec.top)

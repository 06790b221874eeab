"""MS302: a Cell's `__init__` never calls `super().__init__()`."""

import libcst as cst

from msfix.diagnostics import Applicability, Edit, Fix, Severity
from msfix.rule import Example, Rule


def _is_docstring(stmt) -> bool:
    return (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
            and isinstance(stmt.body[0], cst.Expr)
            and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))


class MissingSuperInit(Rule):
    code = "MS302"
    name = "missing-super-init"
    severity = Severity.ERROR
    summary = "A Cell subclass defines `__init__` without calling `super().__init__()`."
    fix_applicability = Applicability.SAFE
    versions = "MindSpore 1.x and 2.x"
    doc = """
    ## What it does
    Flags the `__init__` of a `mindspore.nn.Cell` subclass that never calls
    `super().__init__()` (or `nn.Cell.__init__(self)`, `super(Net, self).__init__()`).

    ## Why is this bad?
    `Cell.__init__` sets up the bookkeeping every Cell needs. Without it, the first
    assignment of a layer raises `AttributeError: The 'Net' object has no attribute
    '_auto_prefix'`, and a Cell that only stores plain values fails on its first call
    with `AttributeError: ... no attribute '_init_flag'` (MindSpore 2.10).

    ## Example
    ```python
    class Net(nn.Cell):
        def __init__(self):
            self.fc = nn.Dense(784, 10)
    ```

    Use instead:
    ```python
    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.fc = nn.Dense(784, 10)
    ```

    ## Fix safety
    Safe: inserts `super().__init__()` as the first statement of `__init__` (after its
    docstring), which is what every Cell needs. The fix is offered only when the class
    derives directly from `nn.Cell`, whose `__init__` takes no required argument; for a
    base class of the script the right arguments are unknown, so there is no fix.
    """
    invalid = [
        Example(
            "from mindspore import nn\n"
            "class Net(nn.Cell):\n"
            "    def __init__(self, n):\n"
            "        \"\"\"A net.\"\"\"\n"
            "        self.fc = nn.Dense(n, 2)\n"
            "    def construct(self, x):\n"
            "        return self.fc(x)\n",
            expect=(3,),
            fixed="from mindspore import nn\n"
                  "class Net(nn.Cell):\n"
                  "    def __init__(self, n):\n"
                  "        \"\"\"A net.\"\"\"\n"
                  "        super().__init__()\n"
                  "        self.fc = nn.Dense(n, 2)\n"
                  "    def construct(self, x):\n"
                  "        return self.fc(x)\n",
        ),
    ]
    valid = [
        Example("from mindspore import nn\n"
                "class Net(nn.Cell):\n"
                "    def __init__(self):\n        super(Net, self).__init__()\n"),
        Example("from mindspore import nn\n"
                "class Net(nn.Cell):\n"
                "    def __init__(self):\n        nn.Cell.__init__(self)\n"),
        Example("class Net:\n    def __init__(self):\n        self.x = 1\n"),
        Example("from mindspore import nn\n"
                "class Net(nn.Cell):\n"
                "    def construct(self, x):\n        return x\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        for cell in m.cells.values():
            init = cell.methods.get("__init__")
            if init is None or cell.has_super_init:
                continue
            fix = None
            if cell.bases == ["mindspore.nn.Cell"]:
                edit = self._insert(ctx, init, cell.top)
                if edit is not None:
                    fix = Fix.safe("Call `super().__init__()` first in `__init__`", edit)
            ctx.report(
                init.name,
                f"`{cell.name}.__init__` never calls `super().__init__()`: the Cell is never set up, so "
                f"assigning a layer (or the first call) raises AttributeError (\"'{cell.name}' object has "
                f"no attribute '_auto_prefix'\"); call `super().__init__()` first",
                fix=fix, top=cell.top,
            )

    @staticmethod
    def _insert(ctx, init: cst.FunctionDef, top: int):
        body = init.body
        if not isinstance(body, cst.IndentedBlock) or not body.body:
            return None
        stmts = list(body.body)
        first = stmts[0]
        nl = ctx.model.module.default_newline
        indent = ctx.statement_indent(first, top)
        if _is_docstring(first):
            _, end = ctx.statement_lines(first, top)
            text = ctx.model.text
            if end == len(text) and not text.endswith(("\n", "\r")):
                return Edit(end, end, nl + indent + "super().__init__()")
            return Edit(end, end, indent + "super().__init__()" + nl)
        start, _ = ctx.statement_lines(first, top)
        return Edit(start, start, indent + "super().__init__()" + nl)

"""MS301: a Cell subclass defines `forward` and no `construct`."""

import re

from msfix.diagnostics import Applicability, Fix, Severity
from msfix.rule import Example, Rule

_FORWARD_USE = re.compile(r"\.\s*forward\b")


class ForwardInsteadOfConstruct(Rule):
    code = "MS301"
    name = "forward-instead-of-construct"
    severity = Severity.ERROR
    summary = "A Cell subclass defines `forward` (PyTorch) and no `construct`."
    fix_applicability = Applicability.SAFE
    versions = "MindSpore 1.x and 2.x"
    doc = """
    ## What it does
    Flags a subclass of `mindspore.nn.Cell` that defines a `forward` method and no
    `construct`, neither itself nor in a base class defined in the script.

    ## Why is this bad?
    A Cell runs its `construct` method when called; `forward` is the PyTorch name and
    MindSpore never calls it. The first call of the network raises
    `AttributeError: For 'Cell', the method 'construct' is not defined.`
    (MindSpore 2.10).

    ## Example
    ```python
    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.fc = nn.Dense(784, 10)

        def forward(self, x):
            return self.fc(x)
    ```

    Use instead:
    ```python
    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.fc = nn.Dense(784, 10)

        def construct(self, x):
            return self.fc(x)
    ```

    ## Fix safety
    Safe: renames the method to `construct`, the only name MindSpore calls. When the
    script also calls `.forward(...)` somewhere, no fix is offered (the rename would
    break that call).
    """
    invalid = [
        Example(
            "import mindspore.nn as nn\n"
            "class Net(nn.Cell):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.fc = nn.Dense(4, 2)\n"
            "    def forward(self, x):\n"
            "        return self.fc(x)\n",
            expect=(6,),
            fixed="import mindspore.nn as nn\n"
                  "class Net(nn.Cell):\n"
                  "    def __init__(self):\n"
                  "        super().__init__()\n"
                  "        self.fc = nn.Dense(4, 2)\n"
                  "    def construct(self, x):\n"
                  "        return self.fc(x)\n",
        ),
    ]
    valid = [
        Example("import mindspore.nn as nn\n"
                "class Net(nn.Cell):\n"
                "    def construct(self, x):\n        return self.forward(x)\n"
                "    def forward(self, x):\n        return x\n"),
        Example("import mindspore.nn as nn\n"
                "class Base(nn.Cell):\n"
                "    def construct(self, x):\n        return self.forward(x)\n"
                "class Net(Base):\n"
                "    def forward(self, x):\n        return x\n"),
        Example("import torch\n"
                "class Net(torch.nn.Module):\n"
                "    def forward(self, x):\n        return x\n"),
        Example("import mindspore.nn as nn\nfrom mylib import Base\n"
                "class Net(Base, nn.Cell):\n"
                "    def forward(self, x):\n        return x\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        net = ctx.network.info
        forward_used = None
        for cell in m.cells.values():
            fn = cell.methods.get("forward")
            if fn is None:
                continue
            chain = net.cell_chain(cell)
            if chain is None or any(net.defines(c, "construct") for c in chain):
                continue
            if forward_used is None:
                forward_used = bool(_FORWARD_USE.search(m.text))
            fix = None
            if not forward_used:
                fix = Fix.safe("Rename `forward` to `construct`", ctx.replace(fn.name, "construct", cell.top))
            ctx.report(
                fn.name,
                f"`{cell.name}` is a Cell with `forward` and no `construct`: MindSpore calls `construct`, "
                f"so the first call raises AttributeError (\"the method 'construct' is not defined\"); "
                f"rename `forward` to `construct`",
                fix=fix, top=cell.top,
            )

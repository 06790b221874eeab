"""MS802: Python/NumPy random numbers or clock reads inside compiled code."""

from msfix.context import RANDOM_PREFIXES, TIME_CALLS
from msfix.diagnostics import Severity
from msfix.rule import Example, Rule
from msfix.rules.graph._graph import compiled_label


class GraphPythonRandom(Rule):
    code = "MS802"
    name = "graph-python-random"
    severity = Severity.WARNING
    summary = "`random.*`, `np.random.*` or `time.time()` in compiled code run once, at compile time."
    versions = "MindSpore 2.x (checked on 2.10)"
    doc = """
    ## What it does
    Flags calls to Python's `random` module, `numpy.random` and clock functions
    (`time.time()`, `time.perf_counter()`, `datetime.now()`) inside code MindSpore
    compiles: the `construct` of the script's Cells when it sets GRAPH_MODE, `@jit`
    functions, and what they call, the loss function given to `value_and_grad`/`grad`
    included when the function these return is called there
    (`grad_fn = ms.value_and_grad(forward_fn, ...)` called in a `@jit` train step).

    ## Why is this bad?
    The graph compiler evaluates these calls once, while compiling, and bakes the
    result into the graph as a constant. Every later call of the network sees the same
    "random" number or timestamp (verified on 2.10: three calls of a Cell returning
    `x * np.random.rand()` gave the same value). Random augmentation, stochastic
    depth or noise injection written this way silently does nothing random.

    ## Example
    ```python
    def construct(self, x):
        if np.random.rand() < self.drop_prob:
            return x
        return self.block(x)
    ```

    Use instead:
    ```python
    def construct(self, x):
        if ops.rand(1)[0] < self.drop_prob:
            return x
        return self.block(x)
    ```

    ## Fix safety
    No automatic fix: MindSpore's random ops (`ops.rand`, `ops.uniform`,
    `ops.randn`, `ops.randint`, `ops.bernoulli`) take shapes and dtypes that must be
    chosen for the code at hand.
    """
    invalid = [
        Example(
            "import random\nimport mindspore as ms\nfrom mindspore import nn\n"
            "ms.set_context(mode=0)\n"
            "class Net(nn.Cell):\n"
            "    def construct(self, x):\n"
            "        return x * random.random()\n",
            expect=(7,),
        ),
    ]
    valid = [
        Example(
            "import random\nfrom mindspore import nn\n"
            "class Net(nn.Cell):\n"
            "    def construct(self, x):\n"
            "        return x * random.random()\n",
        ),
        Example(
            "import numpy as np\nimport mindspore as ms\nfrom mindspore import nn\n"
            "ms.set_context(mode=ms.GRAPH_MODE)\n"
            "class Net(nn.Cell):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.w = ms.Tensor(np.random.rand(3))\n"
            "    def construct(self, x):\n"
            "        return x * self.w\n",
        ),
    ]

    def check(self, ctx):
        net = ctx.network.info
        for cf in net.compiled():
            for site in net.calls_in(cf.node):
                q = site.qualname or ""
                if not (q.startswith(RANDOM_PREFIXES) or q in TIME_CALLS):
                    continue
                kind = "clock read" if q in TIME_CALLS else "random number"
                callee = ctx.source(site.node.func)
                hint = ("use MindSpore's random ops (`ops.rand`, `ops.uniform`, `ops.randint`, "
                        "`ops.bernoulli`) or draw the value outside and pass it in") if kind == "random number" \
                    else "read the clock outside the compiled code"
                ctx.report(
                    site.node,
                    f"`{callee}()` in {compiled_label(ctx, net, cf)}: the {kind} is computed once at compile "
                    f"time and every call reuses it; {hint}",
                    top=cf.top,
                )

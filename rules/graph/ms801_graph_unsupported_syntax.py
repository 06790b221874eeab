"""MS801: syntax the graph compiler rejects inside code compiled in GRAPH_MODE / @jit."""

import libcst as cst

from msfix.diagnostics import Severity
from msfix.rule import Example, Rule
from msfix.rules.graph._graph import compiled_label


class GraphUnsupportedSyntax(Rule):
    code = "MS801"
    name = "graph-unsupported-syntax"
    severity = Severity.ERROR
    summary = "`try`, `del`, `yield`, `import` or `with open(...)` in code MindSpore compiles to a graph."
    versions = "MindSpore 2.x (checked on 2.10 with the default jit_syntax_level LAX)"
    doc = """
    ## What it does
    Flags `try`/`except`, `del`, `yield`, `import`/`from ... import` and
    `with open(...)` inside code that MindSpore compiles: the `construct` of the
    script's Cells when it sets `mode=GRAPH_MODE` (or `mode=0`), functions and methods
    decorated with `@jit`, and the methods and functions these call.

    ## Why is this bad?
    The graph compiler does not support these statements; the first call raises
    (MindSpore 2.10):
    - `try`: `RuntimeError: Unsupported statement 'Try'.`
    - `del`: `RuntimeError: Unsupported statement 'Delete'.`
    - `yield`: `RuntimeError: Unsupported expression 'Yield'.`
    - `import`: `RuntimeError: Unsupported statement 'Import'.` (and `'ImportFrom'`)
    - `with open(...)`: `TypeError` (only `jit_class` instances may be used in `with`).
    Many other Python constructs do compile under the 2.10 default
    `jit_syntax_level` (LAX): `raise`, `assert`, `global`, f-strings, `print`,
    `x.asnumpy()`, list comprehensions, nested functions; msfix does not flag them.

    ## Example
    ```python
    ms.set_context(mode=ms.GRAPH_MODE)

    class Net(nn.Cell):
        def construct(self, x):
            try:
                return self.fc(x)
            except ValueError:
                return x
    ```

    Use instead: move the Python-only logic out of `construct` (into `__init__` or the
    training loop), or run that Cell in PyNative mode.

    ## Fix safety
    No automatic fix: the replacement depends on what the code was meant to do.
    """
    invalid = [
        Example(
            "import mindspore as ms\nfrom mindspore import nn\n"
            "ms.set_context(mode=ms.GRAPH_MODE)\n"
            "class Net(nn.Cell):\n"
            "    def construct(self, x):\n"
            "        try:\n"
            "            y = x * 2\n"
            "        except Exception:\n"
            "            y = x\n"
            "        return y\n",
            expect=(6,),
        ),
        Example(
            "import mindspore as ms\n"
            "@ms.jit\n"
            "def step(x):\n"
            "    import math\n"
            "    return x\n",
            expect=(4,),
        ),
    ]
    valid = [
        Example(
            "from mindspore import nn\n"
            "class Net(nn.Cell):\n"
            "    def construct(self, x):\n"
            "        try:\n"
            "            return x\n"
            "        except Exception:\n"
            "            return x\n",
        ),
        Example(
            "import mindspore as ms\nfrom mindspore import nn\n"
            "ms.set_context(mode=ms.GRAPH_MODE)\n"
            "class Net(nn.Cell):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        import math\n"
            "    def construct(self, x):\n"
            "        assert x.shape[0] > 0\n"
            "        return x\n",
        ),
    ]

    def check(self, ctx):
        m = ctx.model
        net = ctx.network.info
        for cf in net.compiled():
            where = None
            for node in ctx.network.walk_body(cf.node):
                what = self._what(m, cf, node)
                if what is None:
                    continue
                if where is None:
                    where = compiled_label(ctx, net, cf)
                ctx.report(node, f"{what[0]} in {where}: {what[1]}; move it out of the compiled code",
                           top=cf.top)

    @staticmethod
    def _what(m, cf, node):
        if isinstance(node, (cst.Try, getattr(cst, "TryStar", cst.Try))):
            return "`try`", "the graph compiler raises RuntimeError \"Unsupported statement 'Try'\""
        if isinstance(node, cst.Del):
            return "`del`", "the graph compiler raises RuntimeError \"Unsupported statement 'Delete'\""
        if isinstance(node, cst.Yield):
            return "`yield`", "the graph compiler raises RuntimeError \"Unsupported expression 'Yield'\""
        if isinstance(node, cst.Import):
            return "`import`", "the graph compiler raises RuntimeError \"Unsupported statement 'Import'\""
        if isinstance(node, cst.ImportFrom):
            return "`from ... import`", \
                "the graph compiler raises RuntimeError \"Unsupported statement 'ImportFrom'\""
        if isinstance(node, cst.With):
            for item in node.items:
                call = item.item
                if isinstance(call, cst.Call) and isinstance(call.func, cst.Name) and call.func.value == "open":
                    if m.lookup("open", m.module_scope) is None:
                        return "`with open(...)`", \
                            "the graph compiler raises TypeError (only jit_class instances can be used in `with`)"
        return None

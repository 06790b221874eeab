"""MS401: a MindSpore call uses a name that is defined only later, or never."""

import builtins

import libcst as cst

from msfix.context import free_names
from msfix.diagnostics import Applicability, Edit, Fix, Severity
from msfix.rule import Example, Rule

BUILTINS = frozenset(dir(builtins)) | {"__file__", "__name__", "__doc__"}


def is_optimizer(q: str) -> bool:
    if q.startswith("mindspore.experimental.optim."):
        return True
    if not q.startswith("mindspore.nn."):
        return False
    return q.rsplit(".", 1)[-1] in {
        "Momentum", "SGD", "Adam", "AdamWeightDecay", "AdamOffload", "Lamb", "LARS", "RMSProp",
        "Adagrad", "Adadelta", "Adamax", "FTRL", "ProximalAdagrad", "LazyAdam", "ASGD", "Rprop",
        "AdaSumByGradWrapCell", "AdaSumByDeltaWeightWrapCell", "thor", "THOR",
    }


def _bound_before(m, names, order) -> bool:
    for n in names:
        if n.value in BUILTINS:
            continue
        if m.lookup(n.value, m.module_scope, order) is None:
            return False
    return True


def move_statement_edits(ctx, stmt, stmt_top, before_top, order):
    """Edits moving the top-level simple statement `stmt` above top-level statement
    `before_top`, if what it reads is already defined there. Else None."""
    m = ctx.model
    if not isinstance(stmt, cst.SimpleStatementLine) or m.module.body[stmt_top] is not stmt:
        return None
    reads = []
    for small in stmt.body:
        value = getattr(small, "value", None) if isinstance(small, (cst.Assign, cst.AnnAssign, cst.Expr)) else small
        if value is not None:
            reads.extend(free_names(value, enter_lambdas=True))
    if not _bound_before(m, reads, order):
        return None
    start, end = ctx.statement_lines(stmt, stmt_top)
    text = m.text[start:end]
    target = m.module.body[before_top]
    r = ctx.locator.range(target, before_top)
    at = ctx.locator.offset(r.start.line, 0)
    return [Edit(start, end, ""), Edit(at, at, text)]


class NameUsedBeforeDefinition(Rule):
    code = "MS401"
    name = "name-used-before-definition"
    severity = Severity.ERROR
    summary = "A MindSpore call at module level uses a name that is defined only later, or never."
    fix_applicability = Applicability.UNSAFE
    doc = """
    ## What it does
    Flags arguments of MindSpore calls (and of the script's own Cells) at module level
    that read a name not yet bound at that point: defined further down, or nowhere.
    The typical case is an optimizer built from the parameters of a network that is
    created later, or under another name. Names are resolved by Python's scoping
    rules: lambda parameters, comprehension variables, class bodies, `global` and
    `nonlocal`, `except ... as`, `:=` and `match` captures bind; function and lambda
    bodies run later, so they see names bound further down; a name a star import may
    bring is not reported.

    ## Why is this bad?
    The script dies with `NameError` when it reaches the line, often after minutes of
    dataset setup; a name that is never defined usually means the code was copied from
    another script where the network had another name.

    ## Example
    ```python
    optimizer = nn.Momentum(resnet50.trainable_params(), 0.1, 0.9)
    net = ResNet50()
    ```

    Use instead:
    ```python
    net = ResNet50()
    optimizer = nn.Momentum(net.trainable_params(), 0.1, 0.9)
    ```

    ## Fix safety
    Unsafe. For an optimizer whose parameters come from an undefined name, the fix
    picks the network (the only Cell built at module level, or the one whose class
    matches the name), moves its creation above the optimizer and passes
    `net.trainable_params()`. For a name that is defined later by a simple
    assignment, the fix moves that assignment above the use. Both reorder code.
    """
    invalid = [
        Example(
            "import mindspore.nn as nn\n"
            "class Net(nn.Cell):\n"
            "    def construct(self, x):\n"
            "        return x\n"
            "opt = nn.Momentum(network.trainable_params(), 0.1, 0.9)\n"
            "net = Net()\n",
            expect=(5,),
            fixed="import mindspore.nn as nn\n"
                  "class Net(nn.Cell):\n"
                  "    def construct(self, x):\n"
                  "        return x\n"
                  "net = Net()\n"
                  "opt = nn.Momentum(net.trainable_params(), 0.1, 0.9)\n",
        ),
        Example(
            "from mindspore import Model\n"
            "model = Model(net)\n"
            "net = make_net()\n",
            expect=(2,),
        ),
        Example(
            "from mindspore import Model\n"
            "model = Model(network)\n",
            expect=(2,),
        ),
    ]
    valid = [
        Example("import mindspore.nn as nn\nnet = make()\nopt = nn.Momentum(net.trainable_params(), 0.1, 0.9)\n"),
        Example("import mindspore.nn as nn\n"
                "def build():\n    return nn.Momentum(net.trainable_params(), 0.1, 0.9)\n"
                "net = make()\n"),
        Example("import mindspore.nn as nn\nopt = nn.Momentum(filter(lambda p: p.requires_grad, []), 0.1, 0.9)\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        module_scope = m.module_scope
        seen = set()
        for site in m.calls:
            if site.scope is not module_scope or not site.qualname:
                continue
            q = site.qualname
            if not (q.startswith("mindspore.") or (q.startswith("<local>.") and q[8:] in m.cells)):
                continue
            for arg in site.node.args:
                for name in free_names(arg.value):
                    read = m.read_of(name)
                    if read is None or id(name) in seen:
                        continue
                    # Python's scoping rules: lambda parameters, comprehension
                    # variables, class bodies, global, star imports ("unknown")
                    state = m.read_state(read)
                    if state not in ("later", "never"):
                        continue
                    later = [b for b in module_scope.bindings.get(read.name, ()) if b.order > read.order] \
                        if state == "later" else []
                    seen.add(id(name))
                    self._report(ctx, site, arg, name, later)

    def _report(self, ctx, site, arg, name, later):
        m = ctx.model
        n = name.value
        callee = ctx.source(site.node.func)
        fix = None
        if later:
            first = later[0]
            line = ctx.span(first.node, first.top).line if first.kind != "import" else ctx.span(first.statement, first.top).line
            message = (f"`{n}` is used by `{callee}(...)` before it is defined (line {line}): "
                       f"NameError when this line runs")
        else:
            message = f"`{n}` is not defined anywhere in the script: `{callee}(...)` raises NameError"
        params = site.arg("params", 0)
        if is_optimizer(site.qualname) and params is not None and any(x is name for x in free_names(params.value)):
            net_site = self._pick_network(m, n)
            if net_site is not None:
                net = net_site.target
                edits = [ctx.replace(params.value, f"{net}.trainable_params()", site.top)]
                if net_site.order > site.order:
                    moved = move_statement_edits(ctx, net_site.statement, net_site.top, site.top, site.order)
                    edits = None if moved is None else edits + moved
                if edits is not None:
                    fix = Fix.unsafe(f"Build the optimizer from `{net}.trainable_params()`"
                                     + (", creating `net` first" if net_site.order > site.order else ""), *edits)
                    message += f"; the network built in this script is `{net}` (line {ctx.span(net_site.node, net_site.top).line})"
        elif later:
            first = later[0]
            if first.kind == "assign" and first.statement is not None:
                moved = move_statement_edits(ctx, first.statement, first.top, site.top, site.order)
                if moved is not None:
                    fix = Fix.unsafe(f"Move the definition of `{n}` above its first use", *moved)
        ctx.report(name, message, fix=fix, top=site.top)

    @staticmethod
    def _pick_network(m, name):
        cells = [c for c in m.cell_instances() if c.scope is m.module_scope and c.target]
        targets = {c.target for c in cells}
        if len(targets) == 1:
            return cells[0]
        matching = [c for c in cells if c.qualname[8:].lower() == name.lower()]
        if len({c.target for c in matching}) == 1:
            return matching[0]
        return None

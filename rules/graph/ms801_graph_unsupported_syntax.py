"""MS801: syntax the graph compiler rejects inside code compiled in GRAPH_MODE / @jit."""

import builtins
import sys
from typing import List, Optional

import libcst as cst
from msfix.rules.graph._graph import compiled_label

from msfix.context import children as _children
from msfix.diagnostics import Applicability, Edit, Fix, Severity
from msfix.fixes.edits import remove_statement
from msfix.rule import Example, Rule


class GraphUnsupportedSyntax(Rule):
    code = "MS801"
    name = "graph-unsupported-syntax"
    severity = Severity.ERROR
    fix_applicability = Applicability.UNSAFE
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
    - `try`: unsafe. The `try` body is kept (dedented), followed by the `else`
      block and then the `finally` block, and the `except` handlers are dropped:
      the code runs as it did when the body raised nothing, but the handler's
      fallback is lost when the body raises (the graph then stops with that
      error). No fix when a `finally` follows a body or `else` holding `return`,
      `break` or `continue` (the `finally` would no longer run before them), when
      the body imports a module (a `try` around an import guards an optional
      module: which branch runs depends on the machine), for a one-line body
      (`try: x = f()`), or when a block holds a multi-line string (dedenting would
      change it).
    - `import` / `from ... import` as a statement of the compiled function's own
      body: the statement moves to the top of the script (or is just removed when
      the script already imports it there); the function reads the same module
      through the module-level name. Safe for the standard library, MindSpore and
      packages the script already imports at module level; unsafe for other
      packages (they are then imported when the script starts, even when the
      function never runs, and may not be installed). No fix when the import sits inside an
      `if`/loop/`try` of the function (moving it would make it unconditional),
      when the script binds the same name at module level to something else, when
      the function binds the name elsewhere too, or for names of builtins.
    - `del name` of local variables: the statement is removed (in a graph a local
      holds no memory to free). Safe when the function does not mention the name
      after the `del`; unsafe otherwise (a later read that raised NameError now
      reads the old value).
    - No fix for `del` of an attribute or an item (`del self.cache`, `del d[k]`:
      it changes the object and the graph has no equivalent), for `yield` (a
      generator is not a graph; what `construct` should return instead is the
      author's choice), nor for `with open(...)`: without `with`, `open()` does
      compile in 2.10 (JIT Fallback) but runs once, when the graph is compiled,
      not at each call (checked on the 2.10 wheel: three calls write one line),
      so no rewrite keeps what the code does; move the file I/O out of the
      compiled code.
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
            fixed="import mindspore as ms\nfrom mindspore import nn\n"
                  "ms.set_context(mode=ms.GRAPH_MODE)\n"
                  "class Net(nn.Cell):\n"
                  "    def construct(self, x):\n"
                  "        y = x * 2\n"
                  "        return y\n",
        ),
        Example(
            "import mindspore as ms\n"
            "@ms.jit\n"
            "def step(x):\n"
            "    import math\n"
            "    return x * math.pi\n",
            expect=(4,),
            fixed="import mindspore as ms\nimport math\n"
                  "@ms.jit\n"
                  "def step(x):\n"
                  "    return x * math.pi\n",
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
                           fix=self._fix(ctx, cf, node), top=cf.top)

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

    # ------------------------------------------------------------------ fixes
    def _fix(self, ctx, cf, node) -> Optional[Fix]:
        if isinstance(node, (cst.Try, getattr(cst, "TryStar", cst.Try))):
            return _try_fix(ctx, cf, node)
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            return _import_fix(ctx, cf, node)
        if isinstance(node, cst.Del):
            return _del_fix(ctx, cf, node)
        return None


def _try_fix(ctx, cf, node) -> Optional[Fix]:
    blocks = [node.body]
    if node.orelse is not None:
        blocks.append(node.orelse.body)
    if node.finalbody is not None:
        blocks.append(node.finalbody.body)
    if any(not isinstance(b, cst.IndentedBlock) for b in blocks):
        return None  # `try: x = f()` on one line
    kept = blocks[:-1] if node.finalbody is not None else blocks
    if node.finalbody is not None and any(_has(b, (cst.Return, cst.Break, cst.Continue)) for b in kept):
        return None  # the finally block ran before these; appended after them it would not
    if _has(node.body, (cst.Import, cst.ImportFrom)):
        return None  # an optional-import guard: which branch runs depends on the machine
    if any(_has_multiline_string(ctx, b) for b in blocks):
        return None
    top = cf.top
    indent = ctx.statement_indent(node, top)
    loc = ctx.locator
    lines: List[str] = []
    for b in blocks:
        inner = indent + (b.indent if b.indent is not None else ctx.model.module.default_indent)
        first = b.body[0]
        start_line = ctx.span(first, top).line - len(getattr(first, "leading_lines", ()))
        end_line = ctx.span(b.body[-1], top).end_line
        for ln in range(start_line, end_line + 1):
            text = loc.line_text(ln)
            if not text.strip():
                lines.append("")
            elif text.startswith(inner):
                lines.append(indent + text[len(inner):])
            elif text.lstrip().startswith("#") or len(text) - len(text.lstrip()) >= len(indent):
                # a comment or a continuation line inside brackets: its indentation is free
                lines.append(indent + text.lstrip())
            else:
                return None
    start, end = ctx.statement_lines(node, top)
    newline = ctx.model.module.default_newline
    tail = newline if ctx.model.text[start:end].endswith(("\n", "\r")) else ""
    what = "the `try` body"
    if node.orelse is not None:
        what += ", then its `else` block"
    if node.finalbody is not None:
        what += ", then its `finally` block"
    dropped = "the `except` handlers are dropped" if node.handlers else "nothing is dropped"
    return Fix.unsafe(f"Keep {what} without `try` ({dropped}: their fallback is lost if the body raises)",
                      Edit(start, end, newline.join(lines) + tail))


def _import_fix(ctx, cf, node) -> Optional[Fix]:
    m = ctx.model
    stmt = _statement_of(cf.node, node)
    if stmt is None or len(stmt.body) != 1:
        return None  # inside an if/loop/try of the function, or `import a; x = 1`
    if isinstance(node, cst.ImportFrom) and isinstance(node.names, cst.ImportStar):
        return None
    names = _bound_names(node)
    if not names:
        return None
    scope = _scope_of(m, cf.node)
    if scope is None:
        return None
    text = ctx.source(node)
    for name in names:
        if hasattr(builtins, name) or name in scope.declared_global or name in scope.declared_nonlocal:
            return None
        if len(scope.bindings.get(name, ())) != 1:
            return None  # the function binds the name elsewhere too: it stays local
        for b in m.module_scope.bindings.get(name, ()):
            if b.kind != "import" or not isinstance(b.node, (cst.Import, cst.ImportFrom)) \
                    or ctx.source(b.node) != text:
                return None  # the module binds the name to something else
    remove = remove_statement(ctx, stmt, cf.node, cf.top)
    if remove is None:
        return None
    add = ctx.imports_edit([text])
    if add is None:
        return Fix.safe(f"Remove `{text}` (the script imports it at the top already)", remove)
    msg = f"Move `{text}` to the top of the script"
    if _known_installed(m, node):
        return Fix.safe(msg, remove, add)
    return Fix.unsafe(msg + " (it is then imported when the script starts, even if the function never runs)",
                      remove, add)


def _known_installed(m, node) -> bool:
    """The imported module is the standard library's, MindSpore's, or a package the script
    already imports at module level: importing it when the script starts cannot fail
    where the script ran before."""
    if isinstance(node, cst.ImportFrom):
        if node.relative:
            return False
        tops = {_dotted(node.module).split(".")[0]}
    else:
        tops = {_dotted(a.name).split(".")[0] for a in node.names}
    module_level = set()
    for rec in m.imports:
        if rec.scope is not m.module_scope:
            continue
        if rec.module:
            module_level.add(rec.module.split(".")[0])
        for dotted, _as, _alias in rec.names:
            if not rec.module:
                module_level.add(dotted.split(".")[0])
    return all(t in sys.stdlib_module_names or t == "mindspore" or t in module_level for t in tops)


def _dotted(expr) -> str:
    if isinstance(expr, cst.Attribute):
        return f"{_dotted(expr.value)}.{expr.attr.value}"
    return expr.value if isinstance(expr, cst.Name) else ""


def _del_fix(ctx, cf, node) -> Optional[Fix]:
    m = ctx.model
    stmt = _statement_of(cf.node, node, direct=False)
    if stmt is None or len(stmt.body) != 1:
        return None
    targets = [t.target for t in node.target.elements] if isinstance(node.target, cst.Tuple) else [node.target]
    if not all(isinstance(t, cst.Name) for t in targets):
        return None  # `del self.x` / `del d[k]` change an object
    scope = _scope_of(m, cf.node)
    if scope is None:
        return None
    names = [t.value for t in targets]
    if any(n not in scope.bindings or n in scope.declared_global or n in scope.declared_nonlocal for n in names):
        return None
    edit = remove_statement(ctx, stmt, cf.node, cf.top)
    if edit is None:
        return None
    _, del_end = ctx.offsets(stmt, cf.top)
    later = any(ctx.offsets(n, cf.top)[0] >= del_end for n in _names(cf.node, set(names)))
    msg = f"Remove `{ctx.source(stmt.body[0])}` (a local in a graph holds no memory to free)"
    if later:
        return Fix.unsafe(msg + ": the function mentions the name after it", edit)
    return Fix.safe(msg, edit)


# ---------------------------------------------------------------------- small walks
def _scope_of(m, fn):
    """The model's scope of function or method `fn` (reached from the names it reads and
    the calls it makes), or None."""
    for start in [r.lex for r in m.reads] + [c.scope for c in m.calls]:
        s = start
        while s is not None:
            if s.kind == "function" and s.node is fn:
                return s
            s = s.parent
    return None


def _inner_nodes(root):
    """Nodes under `root`, not entering nested functions, classes or lambdas."""
    stack = list(_children(root))
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        stack.extend(_children(n))


def _has(block, kinds) -> bool:
    return any(isinstance(n, kinds) for n in _inner_nodes(block))


def _has_multiline_string(ctx, block) -> bool:
    for n in _inner_nodes(block):
        if isinstance(n, (cst.SimpleString, cst.FormattedString)) and "\n" in ctx.source(n):
            return True
    return False


def _names(fn, wanted):
    for n in _inner_nodes(fn.body):
        if isinstance(n, cst.Name) and n.value in wanted:
            yield n


def _statement_of(fn, small, direct: bool = True):
    """The SimpleStatementLine of `fn` holding the small statement `small`: among the
    function body's own statements (`direct`), or anywhere in it."""
    if direct:
        stmts = fn.body.body if isinstance(fn.body, cst.IndentedBlock) else ()
    else:
        stmts = [n for n in _inner_nodes(fn.body) if isinstance(n, cst.SimpleStatementLine)]
    for s in stmts:
        if isinstance(s, cst.SimpleStatementLine) and any(x is small for x in s.body):
            return s
    return None


def _bound_names(node) -> List[str]:
    out = []
    for alias in node.names:
        if alias.asname is not None:
            if not isinstance(alias.asname.name, cst.Name):
                return []
            out.append(alias.asname.name.value)
        elif isinstance(node, cst.Import):
            n = alias.name
            while isinstance(n, cst.Attribute):
                n = n.value
            out.append(n.value)
        elif isinstance(alias.name, cst.Name):
            out.append(alias.name.value)
        else:
            return []
    return out

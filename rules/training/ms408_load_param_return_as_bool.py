"""MS408: load_param_into_net's return value (a 2-tuple of lists) used as a bool or a length."""

from typing import List, Tuple

import libcst as cst

from msfix.context import children as _children
from msfix.diagnostics import Applicability, Fix, Severity
from msfix.fixes.edits import scope_root
from msfix.rule import Example, Rule

LOAD_PARAM = "mindspore.load_param_into_net"


def _bool_context_exprs(node: cst.CSTNode):
    """Expressions evaluated for truth directly by `node`."""
    if isinstance(node, (cst.If, cst.While)):
        return [node.test]
    if isinstance(node, cst.Assert):
        return [node.test]
    if isinstance(node, cst.IfExp):
        return [node.test]
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
        return [node.expression]
    if isinstance(node, cst.BooleanOperation):
        return [node.left, node.right]
    return []


def _uses(root: cst.CSTNode, name: str) -> List[Tuple[str, cst.CSTNode]]:
    """Reads of `name` under `root`: ("bool"|"len"|"index"|"other", node). Nested functions and
    classes are skipped (another scope)."""
    out: List[Tuple[str, cst.CSTNode]] = []
    special = {}

    def walk(node, top=False):
        if not top and isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            return
        for e in _bool_context_exprs(node):
            if isinstance(e, cst.Name) and e.value == name:
                special[id(e)] = "bool"
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "len" \
                and len(node.args) == 1 and isinstance(node.args[0].value, cst.Name) \
                and node.args[0].value.value == name:
            special[id(node.args[0].value)] = "len"
        if isinstance(node, cst.Subscript) and isinstance(node.value, cst.Name) and node.value.value == name:
            special[id(node.value)] = "index"
        if isinstance(node, cst.Name) and node.value == name:
            out.append((special.get(id(node), "other"), node))
            return
        if isinstance(node, cst.Attribute):
            walk(node.value)
            return
        for child in _children(node):
            walk(child)

    walk(root, top=True)
    return out


class LoadParamReturnAsBool(Rule):
    code = "MS408"
    name = "load-param-return-as-bool"
    severity = Severity.WARNING
    summary = "`load_param_into_net` returns a tuple of two lists; as a bool it is always true, its len is always 2."
    fix_applicability = Applicability.SAFE
    versions = "MindSpore 2.0 and later (1.x returned the list alone; checked on 2.10.0)"
    applies_from = "2.0"  # 1.x returned the list of parameters not loaded alone
    doc = """
    ## What it does
    Flags the value returned by `load_param_into_net` used as a truth value
    (`if load_param_into_net(...)`, `if not missing`, `assert missing`) or given to
    `len()`.

    ## Why is this bad?
    Since MindSpore 2.0 `load_param_into_net` returns a tuple
    `(param_not_load, ckpt_not_load)`. A tuple of two lists is always true, even
    `([], [])` after a complete load, and its length is always 2, so a check for
    "parameters not loaded" reports a problem every time (or never, with `not`).
    Up to 1.10 it returned the list of parameters not loaded, so such checks were
    right then and broke silently with the upgrade; with `--target-version 1.x` the
    rule stays silent.

    ## Example
    ```python
    missing = load_param_into_net(net, param_dict)
    if missing:
        print("not loaded:", missing)
    ```

    Use instead:
    ```python
    missing, _ = load_param_into_net(net, param_dict)
    ```

    ## Fix safety
    Safe: the value is unpacked into `param_not_load, _` (or indexed with `[0]` when
    the call itself is tested), which is the list the check was written for. The fix
    is offered only when the name is never indexed (`res[0]`).
    """
    invalid = [
        Example(
            "import mindspore as ms\nmissing = ms.load_param_into_net(net, pd)\nif missing:\n    print(missing)\n",
            expect=(3,),
            fixed="import mindspore as ms\nmissing, _ = ms.load_param_into_net(net, pd)\nif missing:\n"
                  "    print(missing)\n",
        ),
        Example(
            "import mindspore as ms\nif not ms.load_param_into_net(net, pd):\n    print('ok')\n",
            expect=(2,),
            fixed="import mindspore as ms\nif not ms.load_param_into_net(net, pd)[0]:\n    print('ok')\n",
        ),
    ]
    valid = [
        Example("import mindspore as ms\nmissing, _ = ms.load_param_into_net(net, pd)\nif missing:\n    pass\n"),
        Example("import mindspore as ms\nres = ms.load_param_into_net(net, pd)\nif res[0]:\n    pass\n"),
    ]

    def check(self, ctx):
        m = ctx.model
        sites = m.calls_to(LOAD_PARAM)
        if not sites:
            return
        len_calls = {id(c.node.args[0].value): c for c in m.calls
                     if isinstance(c.node.func, cst.Name) and c.node.func.value == "len" and len(c.node.args) == 1}
        for site in sites:
            node = site.node
            # the call itself tested or measured
            direct = None
            for e in _bool_context_exprs(site.statement) if isinstance(site.statement, (cst.If, cst.While)) else []:
                if e is node or (isinstance(e, cst.UnaryOperation) and e.expression is node):
                    direct = "bool"
            st = site.statement
            if isinstance(st, cst.SimpleStatementLine):
                for small in st.body:
                    if isinstance(small, cst.Assert) and (small.test is node or (
                            isinstance(small.test, cst.UnaryOperation) and small.test.expression is node)):
                        direct = "bool"
            if id(node) in len_calls:
                direct = "len"
            if direct is not None:
                ctx.report(node, self._message(direct, "the returned tuple"),
                           fix=Fix.safe("Use the list of parameters not loaded (`[0]`)",
                                        ctx.insert_after(node, "[0]", site.top)),
                           top=site.top)
                continue
            if site.target is None:
                continue
            bs = site.scope.bindings.get(site.target, ())
            if len(bs) != 1 or bs[0].value is not node:
                continue
            b = bs[0]
            uses = _uses(scope_root(m, site.scope), site.target)
            uses = [(k, n) for k, n in uses if n is not b.node]
            bad = [(k, n) for k, n in uses if k in ("bool", "len")]
            if not bad:
                continue
            kind, use = bad[0]
            fix = None
            if not any(k == "index" for k, _ in uses) and isinstance(st, cst.SimpleStatementLine) \
                    and len(st.body) == 1 and isinstance(st.body[0], cst.Assign) and len(st.body[0].targets) == 1:
                fix = Fix.safe(f"Unpack: `{site.target}, _ = ...`",
                               ctx.insert_after(b.node, ", _", site.top))
            ctx.report(use, self._message(kind, f"`{site.target}`"), fix=fix, top=ctx.model.top_of(use, site.top))

    @staticmethod
    def _message(kind, what):
        if kind == "len":
            return (f"`load_param_into_net` returns a tuple (param_not_load, ckpt_not_load): `len` of {what} "
                    f"is always 2; count `param_not_load` instead (`param_not_load, _ = load_param_into_net(...)`)")
        return (f"`load_param_into_net` returns a tuple (param_not_load, ckpt_not_load): {what} is always true, "
                f"even `([], [])` after a complete load; test `param_not_load` instead "
                f"(`param_not_load, _ = load_param_into_net(...)`)")

"""The rewrite of a PyTorch training step into MindSpore's functional step (MS402).

    optimizer.zero_grad()                      def forward_fn(data, label):
    logits = net(data)                             logits = net(data)
    loss = loss_fn(logits, label)      ->          loss = loss_fn(logits, label)
    loss.backward()                                return loss
    optimizer.step()
                                               grad_fn = ms.value_and_grad(forward_fn, None, optimizer.parameters)
                                               ...
                                                   loss, grads = grad_fn(data, label)
                                                   optimizer(grads)

The forward function holds the statements the loss depends on (a backward slice over the
block, which must be contiguous up to `backward()`), its parameters are the names those
statements read that are bound inside the loop around them (or in the enclosing
function), and names it binds that the code reads later come back as auxiliary outputs
(`has_aux=True`). `forward_fn` and `grad_fn` are defined before the outermost loop that
binds none of the names they capture, so the gradient function is built once (in
GRAPH_MODE a new function per step would compile per step). Where any step of this is not
certain, there is no rewrite.
"""
from __future__ import annotations

import re
from typing import List, Optional, Sequence, Set, Tuple

import libcst as cst

from msfix.analysis.walk import children as _children
from msfix.diagnostics import Applicability, Edit, Fix

_LOOPS = (cst.For, cst.While)


def _path(root: cst.CSTNode, target: cst.CSTNode) -> Optional[List[cst.CSTNode]]:
    """Nodes from `root` down to `target` (statements and blocks only)."""
    stack: List[Tuple[cst.CSTNode, List[cst.CSTNode]]] = [(root, [root])]
    while stack:
        node, path = stack.pop()
        if node is target:
            return path
        for child in _children(node):
            if isinstance(child, (cst.BaseStatement, cst.BaseSuite, cst.Else, cst.ExceptHandler, cst.Finally,
                                  cst.Module)):
                stack.append((child, path + [child]))
    return None


def _bound(stmt: cst.CSTNode) -> Optional[Set[str]]:
    """Names a simple statement binds; None when it is not a plain assignment / expression."""
    if not isinstance(stmt, cst.SimpleStatementLine):
        return None
    out: Set[str] = set()
    for s in stmt.body:
        if isinstance(s, cst.Expr):
            continue
        if isinstance(s, cst.Assign):
            for t in s.targets:
                names = _target_names(t.target)
                if names is None:
                    return None
                out |= names
        elif isinstance(s, (cst.AugAssign, cst.AnnAssign)):
            names = _target_names(s.target)
            if names is None:
                return None
            out |= names
        else:
            return None
    return out


def _target_names(t: cst.BaseExpression) -> Optional[Set[str]]:
    if isinstance(t, cst.Name):
        return {t.value}
    if isinstance(t, (cst.Tuple, cst.List)):
        out: Set[str] = set()
        for e in t.elements:
            if isinstance(e, cst.StarredElement):
                return None
            sub = _target_names(e.value)
            if sub is None:
                return None
            out |= sub
        return out
    return None  # attribute / subscript targets change state outside the forward pass


def _read_nodes(node: cst.CSTNode, rid: Set[int]) -> List[cst.Name]:
    """Name nodes under `node` that the model records as reads (loads, not stores)."""
    out: List[cst.Name] = []

    class V(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            if id(n) in rid:
                out.append(n)

    node.visit(V())
    return out


def _reads(node: cst.CSTNode, rid: Set[int]) -> Set[str]:
    return {n.value for n in _read_nodes(node, rid)}


def _method_call(stmt: cst.CSTNode, method: str) -> Optional[cst.BaseExpression]:
    """The receiver of a statement that is exactly `<receiver>.<method>()`."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    e = stmt.body[0]
    if not isinstance(e, cst.Expr) or not isinstance(e.value, cst.Call) or e.value.args:
        return None
    f = e.value.func
    if isinstance(f, cst.Attribute) and f.attr.value == method:
        return f.value
    return None


def _binds_any(node: cst.CSTNode, names: Set[str]) -> bool:
    """Does anything under `node` bind one of `names` (assignment, loop target, with, def...)?"""
    found = False

    class V(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            nonlocal found
            if n.value in names and _is_store(n):
                found = True

    stores: Set[int] = set()

    class S(cst.CSTVisitor):
        def _mark(self, t) -> None:
            for n in _all_names(t):
                stores.add(id(n))

        def visit_AssignTarget(self, n: cst.AssignTarget) -> None:
            self._mark(n.target)

        def visit_AugAssign(self, n: cst.AugAssign) -> None:
            self._mark(n.target)

        def visit_AnnAssign(self, n: cst.AnnAssign) -> None:
            self._mark(n.target)

        def visit_For(self, n: cst.For) -> None:
            self._mark(n.target)

        def visit_AsName(self, n: cst.AsName) -> None:
            self._mark(n.name)

        def visit_NamedExpr(self, n: cst.NamedExpr) -> None:
            self._mark(n.target)

        def visit_FunctionDef(self, n: cst.FunctionDef) -> None:
            stores.add(id(n.name))

        def visit_ClassDef(self, n: cst.ClassDef) -> None:
            stores.add(id(n.name))

    def _is_store(n: cst.Name) -> bool:
        return id(n) in stores

    node.visit(S())
    node.visit(V())
    return found


def _all_names(t: cst.CSTNode) -> List[cst.Name]:
    if isinstance(t, cst.Name):
        return [t]
    out: List[cst.Name] = []
    for c in _children(t):
        if isinstance(c, (cst.Element, cst.StarredElement, cst.Tuple, cst.List, cst.Name)):
            out.extend(_all_names(c))
    return out


def _fresh(ctx, base: str) -> str:
    """`base`, or `base2`, ... : a name the script does not mention anywhere."""
    text = ctx.model.text
    name, n = base, 1
    while re.search(rf"\b{name}\b", text):
        n += 1
        name = f"{base}{n}"
    return name


def torch_step_fix(ctx, backward_site, scope_node: cst.CSTNode, optimizer_text: str,
                   is_optimizer_stmt) -> Optional[Fix]:
    """The unsafe fix rewriting the torch step around `loss.backward()` (a CallSite), or
    None. `optimizer_text` is the source of the optimizer receiver of `step()`;
    `is_optimizer_stmt(stmt, method)` tells whether a statement is `<that optimizer>.<method>()`."""
    m = ctx.model
    rid = {id(r.node) for r in m.reads}
    st: cst.CSTNode
    back_stmt = backward_site.statement
    loss_recv = _method_call(back_stmt, "backward")
    if not isinstance(loss_recv, cst.Name):
        return None
    loss = loss_recv.value
    path = _path(scope_node, back_stmt)
    if path is None or len(path) < 2:
        return None
    block_owner = path[-2]
    body: Sequence[cst.CSTNode]
    if isinstance(block_owner, cst.Module):
        body = block_owner.body
    elif isinstance(block_owner, cst.IndentedBlock):
        body = block_owner.body
    else:
        return None
    i = list(body).index(back_stmt)
    # after backward: zero_grad statements, then the optimizer's step()
    j = i + 1
    while j < len(body) and is_optimizer_stmt(body[j], "zero_grad"):
        j += 1
    if j >= len(body) or not is_optimizer_stmt(body[j], "step"):
        return None
    step_idx = j
    # the backward slice: contiguous statements before backward that the loss needs
    needed = {loss}
    forward: List[cst.CSTNode] = []
    k = i - 1
    first = i
    while k >= 0:
        st = body[k]
        if is_optimizer_stmt(st, "zero_grad"):
            first = k
            k -= 1
            continue
        bound = _bound(st)
        if bound is None:
            if _binds_any(st, needed):
                return None
            break
        if not bound & needed:
            break
        if any(_method_call(st, meth) is not None for meth in ("backward", "step")):
            return None
        forward.insert(0, st)
        needed |= _reads(st, rid)
        first = k
        k -= 1
    if not forward:
        return None
    produced: Set[str] = set()
    for st in forward:
        produced |= _bound(st) or set()
    if loss not in produced:
        return None
    reads: Set[str] = set()
    for st in forward:
        reads |= _reads(st, rid)
    inputs_all = reads - produced
    # the loop around the block, and the loops around that (same function)
    loops = [n for n in path[:-1] if isinstance(n, _LOOPS)]
    funcs = [n for n in path[:-1] if isinstance(n, (cst.FunctionDef, cst.Lambda))]
    inner_func = funcs[-1] if funcs else None
    if inner_func is not None:
        loops = [lp for lp in loops if path.index(lp) > path.index(inner_func)]
    # parameters: names bound in the innermost loop (target, body) or, with no loop, in the
    # enclosing function (its parameters and assignments)
    if loops:
        inner = loops[-1]
        params = sorted(n for n in inputs_all if _binds_any(inner, {n}))
    elif isinstance(inner_func, cst.FunctionDef):
        fn = inner_func
        ps = _params(fn)
        sc = backward_site.scope
        if fn is sc.node and sc.parent is not None and sc.parent.kind == "class" and ps:
            ps = ps[1:]  # a method's instance: the forward function closes over it
        local = {p.name.value for p in ps}
        params = sorted(n for n in inputs_all if n in local or _binds_any(fn.body, {n}))
    else:
        params = []
    captured = (inputs_all - set(params)) | _reads_text_root(optimizer_text)
    # hoist before the outermost loop that binds nothing captured
    hoist: Optional[cst.CSTNode] = None
    for lp in reversed(loops):
        if lp is loops[-1]:
            if _binds_any(lp, captured):
                break
            hoist = lp
            continue
        if _binds_any(lp, captured):
            break
        hoist = lp
    # names bound by the forward pass that are read anywhere outside it (aux outputs)
    rest = list(body[step_idx + 1:])
    inside = {id(n) for st in forward for n in _read_nodes(st, rid)}
    outside = {n.value for n in _read_nodes(scope_node, rid) if id(n) not in inside}
    aux = sorted(n for n in produced if n != loss and n in outside)
    fwd_name = _fresh(ctx, "forward_fn")
    grad_name = _fresh(ctx, "grad_fn")
    ms_name, ms_import = ctx.ensure_module("mindspore", "ms", before=backward_site.order)
    nl = m.module.default_newline
    text = m.text
    # the forward function's body: the statements' own lines, re-indented
    block_indent = ctx.statement_indent(back_stmt, backward_site.top)
    anchor = hoist if hoist is not None else body[first]
    anchor_top = backward_site.top
    def_indent = ctx.statement_indent(anchor, anchor_top)
    inner_indent = def_indent + "    "
    lines: List[str] = []
    for st in forward:
        s, e = ctx.statement_lines(st, anchor_top)
        for line in text[s:e].splitlines():
            if line.strip() and not line.startswith(block_indent):
                return None
            lines.append((inner_indent + line[len(block_indent):]) if line.strip() else "")
    ret = loss if not aux else ", ".join([loss] + aux)
    lines.append(f"{inner_indent}return {ret}")
    blank = nl if def_indent else nl + nl
    has_aux = ", has_aux=True" if aux else ""
    definition = (f"{def_indent}def {fwd_name}({', '.join(params)}):{nl}" + nl.join(lines) + nl + blank
                  + f"{def_indent}{grad_name} = {ms_name}.value_and_grad({fwd_name}, None, "
                    f"{optimizer_text}.parameters{has_aux}){nl}")
    target = loss if not aux else "(" + ", ".join([loss] + aux) + ")"
    call = (f"{block_indent}{target}, grads = {grad_name}({', '.join(params)}){nl}"
            f"{block_indent}{optimizer_text}(grads){nl}")
    if "grads" in produced or "grads" in inputs_all or _binds_any(scope_node, {"grads"}):
        return None
    start, _ = ctx.statement_lines(body[first], anchor_top)
    _, end = ctx.statement_lines(body[step_idx], anchor_top)
    edits = []
    if hoist is None:
        edits.append(Edit(start, end, definition + (nl if not def_indent else "") + call))
    else:
        h_start, _ = ctx.statement_lines(hoist, anchor_top)
        edits.append(Edit(h_start, h_start, definition + nl))
        edits.append(Edit(start, end, call))
    # a zero_grad() at the end of the same block (after step) goes too
    for st in rest:
        if is_optimizer_stmt(st, "zero_grad"):
            s, e = ctx.statement_lines(st, anchor_top)
            edits.append(Edit(s, e, ""))
    if ms_import:
        imp = ctx.imports_edit([ms_import])
        if imp is not None:
            edits.append(imp)
    return Fix(message=f"Rewrite the step with `{ms_name}.value_and_grad` and `{optimizer_text}(grads)`",
               edits=tuple(sorted(edits, key=lambda e: e.start)), applicability=Applicability.UNSAFE)


def _params(fn: cst.FunctionDef) -> List[cst.Param]:
    p = fn.params
    out = list(p.posonly_params) + list(p.params) + list(p.kwonly_params)
    if isinstance(p.star_arg, cst.Param):
        out.append(p.star_arg)
    if p.star_kwarg is not None:
        out.append(p.star_kwarg)
    return out


def _reads_text_root(text: str) -> Set[str]:
    root = text.split(".", 1)[0].split("[", 1)[0].strip()
    return {root} if root.isidentifier() else set()

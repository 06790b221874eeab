"""Helpers shared by the training / checkpoint / hyperparameter rules."""

from typing import List, Optional, Sequence

import libcst as cst

from msfix.diagnostics import Edit

VALUE_AND_GRAD_PATTERN = (
    "`grad_fn = ms.value_and_grad(forward_fn, None, optimizer.parameters)`; "
    "`loss, grads = grad_fn(data, label)`; `optimizer(grads)`"
)


def parent_body(root: cst.CSTNode, stmt: cst.CSTNode) -> Optional[Sequence[cst.CSTNode]]:
    """The statement list (block body) holding `stmt`, searched under `root` (a Module or
    a function): a small walk over compound statements only."""
    todo: List[cst.CSTNode] = [root]
    while todo:
        node = todo.pop()
        body = None
        if isinstance(node, cst.Module):
            body = node.body
        elif isinstance(node, (cst.IndentedBlock,)):
            body = node.body
        if body is not None:
            for s in body:
                if s is stmt:
                    return body
            for s in body:
                if isinstance(s, cst.BaseCompoundStatement):
                    todo.append(s)
            continue
        for child in node.children:
            if isinstance(child, (cst.IndentedBlock, cst.BaseCompoundStatement, cst.Else, cst.ExceptHandler,
                                  cst.Finally, cst.ExceptStarHandler)):
                todo.append(child)
    return None


def remove_statement(ctx, stmt: cst.CSTNode, scope_node: cst.CSTNode, top: int) -> Optional[Edit]:
    """An edit removing the simple statement line `stmt` (or replacing it by `pass`
    when it is the only statement of its block)."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    body = parent_body(scope_node, stmt)
    if body is None:
        return None
    if len(body) == 1:
        return ctx.replace(stmt.body[0], "pass", top)
    start, end = ctx.statement_lines(stmt, top)
    return Edit(start, end, "")


def scope_root(m, scope) -> cst.CSTNode:
    return scope.node if scope.node is not None else m.module

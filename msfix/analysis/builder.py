"""The one analysis pass: a single visit of the LibCST tree that fills a ScriptModel.

The visit records raw facts (bindings, imports, calls, dotted names, classes,
functions) with their scope and evaluation order; a short resolution step over the
recorded calls (not over the tree) then computes qualified names, instance types
and dataset pipelines. No whole-tree metadata provider is used.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional, Set

import libcst as cst

from msfix.analysis.model import (
    PIPELINE_OPS,
    Binding,
    CallSite,
    CellClass,
    DottedRef,
    FunctionInfo,
    ImportRecord,
    NameRead,
    Pipeline,
    Scope,
    ScriptModel,
)
from msfix.analysis.walk import children as _children
from msfix.knowledge import facts


def dotted_name(expr: cst.CSTNode) -> Optional[str]:
    """`a.b.c` -> "a.b.c" for pure Name/Attribute chains, else None."""
    parts: List[str] = []
    while isinstance(expr, cst.Attribute):
        parts.append(expr.attr.value)
        expr = expr.value
    if isinstance(expr, cst.Name):
        parts.append(expr.value)
        return ".".join(reversed(parts))
    return None


# Fields that hold only whitespace, punctuation or tokens: never walked.
_SKIP_FIELDS = frozenset({
    "lpar", "rpar", "comma", "semicolon", "equal", "colon", "leading_lines", "lines_after_decorators",
    "header", "footer", "dot", "operator", "newline", "trailing_whitespace", "relative", "keyword",
    "asynchronous", "star", "encoding", "default_indent", "default_newline", "has_trailing_newline",
    "value_lpar", "value_rpar", "first_line", "empty_lines", "indent", "lbracket", "rbracket",
    "lbrace", "rbrace", "arrow", "walrus", "whitespace", "star_tok",
})
# Fields walked in evaluation order where dataclass order differs.
_ORDER = {
    cst.FunctionDef: ("decorators", "params", "returns", "body"),
    cst.ClassDef: ("decorators", "bases", "keywords", "body"),
    cst.For: ("iter", "target", "body", "orelse"),
    cst.CompFor: ("iter", "target", "ifs", "inner_for_in"),
}
_FIELDS: Dict[type, tuple] = {}
_STATEMENT_SET = frozenset({
    cst.SimpleStatementLine, cst.If, cst.For, cst.While, cst.With, cst.Try, cst.TryStar,
    cst.FunctionDef, cst.ClassDef, cst.Match,
})


def _fields_of(t: type) -> tuple:
    f = _FIELDS.get(t)
    if f is None:
        if t in _ORDER:
            f = _ORDER[t]
        else:
            f = tuple(fl.name for fl in dataclasses.fields(t)
                      if fl.name not in _SKIP_FIELDS and not fl.name.startswith("whitespace"))
        _FIELDS[t] = f
    return f


class _Builder:
    """The single visit. A hand-rolled walk over the semantic fields of each node: no
    node is rebuilt and whitespace/token nodes are never entered, which makes it
    several times faster than a LibCST CSTVisitor over the same tree."""

    _handlers: Dict[type, tuple] = {}

    def __init__(self, model: ScriptModel) -> None:
        self.m = model
        self.scope: Scope = model.module_scope
        self.counter = 0
        self.top = -1
        self.top_index: Dict[int, int] = {}
        self.statements: List[cst.CSTNode] = []
        self.assign_target: Dict[int, str] = {}
        self.class_stack: List[cst.ClassDef] = []
        self.func_stack: List[FunctionInfo] = []
        self.raw_calls: List[CallSite] = []
        self.raw_refs: List[DottedRef] = []
        self.raw_classes: List[tuple] = []  # (ClassDef, scope, top)
        self.class_info: Dict[int, CellClass] = {}
        # name resolution: lambda / comprehension scopes inside the current scope, and
        # the Name nodes that are not reads (targets, parameters, attribute names)
        self.lex: List[Scope] = []
        self.not_read: Set[int] = set()
        self.globals_in: List[Scope] = []  # scopes with a `global` statement
        self.suites: List[int] = []  # ids of the enclosing indented blocks
        # where each node is, for positions (msfix.locate): (top-level index, innermost
        # statement, indents of the enclosing blocks, the enclosing statement's frame); one
        # tuple shared by a statement's nodes
        self.indents: List[str] = []
        self.frame: tuple = (-1, None, (), None)

    def _handler(self, t: type):
        h = self._handlers.get(t)
        if h is None:
            name = t.__name__
            h = (getattr(type(self), f"visit_{name}", None), getattr(type(self), f"leave_{name}", None),
                 _fields_of(t), t in _STATEMENT_SET)
            self._handlers[t] = h
        return h

    def walk(self, node: cst.CSTNode) -> None:
        visit, leave, fields, is_stmt = self._handler(type(node))
        self.counter += 1
        i = self.top_index.get(id(node))
        if i is not None:
            self.top = i
        if is_stmt:
            self.statements.append(node)
            self.frame = (self.top, node, tuple(self.indents), self.frame)
        self.m.owner[id(node)] = self.frame
        if visit is None or visit(self, node) is not False:
            for name in fields:
                v = getattr(node, name)
                if isinstance(v, cst.CSTNode):
                    self.walk(v)
                elif type(v) in (list, tuple):
                    for x in v:
                        if isinstance(x, cst.CSTNode):
                            self.walk(x)
        if leave is not None:
            leave(self, node)
        self.counter += 1
        if is_stmt:
            self.statements.pop()
            self.frame = self.frame[3]

    def _bind(self, name: str, kind: str, node: cst.CSTNode, value=None, qualname=None,
              scope: Optional[Scope] = None) -> None:
        s = scope or self.scope
        s.add(Binding(name=name, kind=kind, node=node, scope=s, order=self.counter, top=self.top,
                      value=value, qualname=qualname,
                      statement=self.statements[-1] if self.statements else None,
                      suite=tuple(self.suites)))

    def _lex(self) -> Scope:
        return self.lex[-1] if self.lex else self.scope

    def _read(self, node: cst.Name) -> None:
        r = NameRead(node.value, node, self._lex(), self.counter, self.top)
        self.m.reads.append(r)
        self.m._read_by_node[id(node)] = r

    def _stores(self, target: cst.CSTNode) -> None:
        """Mark the names a target binds as not reads (`a, *b = ...`); the names inside
        attribute and subscript targets are reads."""
        if isinstance(target, cst.Name):
            self.not_read.add(id(target))
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self._stores(el.value)
        elif isinstance(target, cst.StarredElement):
            self._stores(target.value)

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) not in self.not_read:
            self._read(node)

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:  # a skipped field: recorded for positions
            self.m.owner[id(node.keyword)] = self.frame

    def visit_Param(self, node: cst.Param) -> None:
        self.not_read.add(id(node.name))

    def visit_Global(self, node: cst.Global) -> None:
        for item in node.names:
            self.not_read.add(id(item.name))
            self.scope.declared_global.add(item.name.value)
            self.globals_in.append(self.scope)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        for item in node.names:
            self.not_read.add(id(item.name))
            self.scope.declared_nonlocal.add(item.name.value)

    def visit_Lambda(self, node: cst.Lambda) -> None:
        ls = Scope("lambda", "<lambda>", self._lex(), node)
        p = node.params
        for x in [*p.posonly_params, *p.params, *p.kwonly_params, p.star_arg, p.star_kwarg]:
            if isinstance(x, cst.Param):
                self._bind(x.name.value, "param", x, scope=ls)
        self.lex.append(ls)

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self.lex.pop()

    def _enter_comp(self, node) -> None:
        cs = Scope("comprehension", "<comprehension>", self._lex(), node)
        f = node.for_in
        while f is not None:
            self._stores(f.target)
            for n in _target_names(f.target):
                self._bind(n.value, "loop", n, scope=cs)
            f = f.inner_for_in
        self.lex.append(cs)

    def _leave_comp(self, node) -> None:
        self.lex.pop()

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _enter_comp
    leave_ListComp = leave_SetComp = leave_GeneratorExp = leave_DictComp = _leave_comp

    def visit_MatchAs(self, node) -> None:
        if node.name is not None:
            self.not_read.add(id(node.name))
            self._bind(node.name.value, "other", node.name)

    def visit_MatchStar(self, node) -> None:
        if node.name is not None:
            self.not_read.add(id(node.name))
            self._bind(node.name.value, "other", node.name)

    def visit_MatchMapping(self, node) -> None:
        if node.rest is not None:
            self.not_read.add(id(node.rest))
            self._bind(node.rest.value, "other", node.rest)

    def visit_MatchKeywordElement(self, node) -> None:
        self.not_read.add(id(node.key))

    def _bind_target(self, target: cst.BaseExpression, kind: str, value=None) -> None:
        if isinstance(target, cst.Name):
            self._bind(target.value, kind, target, value=value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self._bind_target(el.value, "other" if kind == "assign" else kind)
        elif isinstance(target, cst.StarredElement):
            self._bind_target(target.value, "other")

    def visit_IndentedBlock(self, node) -> None:
        self.suites.append(id(node))
        self.indents.append(self._indent(node))

    def leave_IndentedBlock(self, node) -> None:
        self.suites.pop()
        self.indents.pop()

    def _indent(self, node) -> str:
        """The indent of a block (or of a `match`'s cases)."""
        return self.m.module.default_indent if node.indent is None else node.indent

    def visit_Match(self, node) -> None:  # the cases are indented under `match`
        self.indents.append(self._indent(node))

    def leave_Match(self, node) -> None:
        self.indents.pop()

    def visit_SimpleStatementSuite(self, node) -> None:
        self.suites.append(id(node))

    def leave_SimpleStatementSuite(self, node) -> None:
        self.suites.pop()

    # -- module ---------------------------------------------------------------
    def visit_Module(self, node: cst.Module) -> None:
        self.top_index = {id(s): i for i, s in enumerate(node.body)}

    # -- imports --------------------------------------------------------------
    def _own(self, node):
        """Record the frame of a dotted chain the walk does not enter (for positions);
        returns the chain's root."""
        owner, frame = self.m.owner, self.frame
        while isinstance(node, cst.Attribute):
            owner[id(node)] = frame
            owner[id(node.attr)] = frame
            node = node.value
        owner[id(node)] = frame
        return node

    def _own_aliases(self, aliases) -> None:
        owner, frame = self.m.owner, self.frame
        for alias in aliases:
            owner[id(alias)] = frame
            self._own(alias.name)
            if alias.asname is not None:
                owner[id(alias.asname)] = frame
                owner[id(alias.asname.name)] = frame

    def visit_Import(self, node: cst.Import) -> bool:
        names = []
        self._own_aliases(node.names)
        for alias in node.names:
            full = dotted_name(alias.name) or ""
            asname = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else None
            names.append((full, asname, alias))
            if full.split(".")[0] == "mindspore":
                self.m.mentions_mindspore = True
            if asname:
                self._bind(asname, "import", node, qualname=full)
            else:
                root = full.split(".")[0]
                self._bind(root, "import", node, qualname=root)
        self.m.imports.append(ImportRecord(node, None, names, False, self.scope, self.top, self.statements[-1]))
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        module = dotted_name(node.module) if node.module is not None else None
        relative = len(node.relative) > 0
        if relative:
            module = None
        if module and module.split(".")[0] == "mindspore":
            self.m.mentions_mindspore = True
        names = []
        star = isinstance(node.names, cst.ImportStar)
        if node.module is not None:
            self._own(node.module)
        if not star:
            self._own_aliases(node.names)
            for alias in node.names:  # type: ignore[union-attr]
                n = dotted_name(alias.name) or ""
                asname = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else None
                names.append((n, asname, alias))
                self._bind(asname or n, "import", node, qualname=f"{module}.{n}" if module else None)
        if star and self.scope.kind == "module":
            self.m.has_star_import = True
        self.m.imports.append(ImportRecord(node, module if not relative else None, names, star, self.scope,
                                           self.top, self.statements[-1]))
        return False

    # -- assignments ----------------------------------------------------------
    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self.m.store_targets.add(id(node.target))
        self.m.store_nodes.append(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.m.store_targets.add(id(node.target))
        self.m.store_nodes.append(node.target)
        self._stores(node.target)

    def visit_Del(self, node: cst.Del) -> None:
        self.m.store_targets.add(id(node.target))
        self.m.store_nodes.append(node.target)

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            self.m.store_targets.add(id(t.target))
            self.m.store_nodes.append(t.target)
            self._stores(t.target)
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name) and isinstance(node.value, cst.Call):
            self.assign_target[id(node.value)] = node.targets[0].target.value
        # self.x = ... inside a Cell's __init__
        if self.class_stack and self.func_stack and self.func_stack[-1].name == "__init__":
            info = self.class_info.get(id(self.class_stack[-1]))
            if info is not None and self.func_stack[-1].scope.parent is not None \
                    and self.func_stack[-1].scope.parent.node is self.class_stack[-1]:
                for t in node.targets:
                    tgt = t.target
                    if isinstance(tgt, cst.Attribute) and isinstance(tgt.value, cst.Name) and tgt.value.value == "self":
                        info.self_assigns.append((tgt.attr.value, node.value, node))

    def leave_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            self._bind_target(t.target, "assign", value=node.value if isinstance(t.target, cst.Name) else None)

    def leave_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._bind_target(node.target, "assign", value=node.value)

    def leave_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind_target(node.target, "other")

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._stores(node.target)

    def leave_NamedExpr(self, node: cst.NamedExpr) -> None:
        # a walrus inside a comprehension binds in the enclosing function or module
        self._bind_target(node.target, "other")

    def visit_For(self, node: cst.For) -> None:
        self._stores(node.target)
        self._bind_target(node.target, "loop")

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._stores(node.asname.name)
            self._bind_target(node.asname.name, "with")

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None and isinstance(node.name.name, cst.Name):
            self.not_read.add(id(node.name.name))
            self._bind(node.name.name.value, "other", node)

    # -- functions and classes --------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._bind(node.name.value, "def", node)
        fscope = Scope("function", node.name.value, self.scope, node)
        info = FunctionInfo(node.name.value, node, fscope)
        if self.scope.kind == "module":
            self.m.functions[node.name.value] = info
        params = node.params
        for p in [*params.posonly_params, *params.params, *params.kwonly_params]:
            self._bind(p.name.value, "param", p, scope=fscope)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                self._bind(star.name.value, "param", star, scope=fscope)
        self.func_stack.append(info)
        self.scope = fscope

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.func_stack.pop()
        self.scope = self.scope.parent  # type: ignore[assignment]

    def visit_Return(self, node: cst.Return) -> None:
        if self.func_stack and node.value is not None:
            self.func_stack[-1].returns.append(node.value)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._bind(node.name.value, "class", node)
        if self.scope.kind == "module":
            self.m.classes[node.name.value] = node
        info = CellClass(node.name.value, node, [], top=self.top)
        for el in node.body.body if isinstance(node.body, cst.IndentedBlock) else ():
            if isinstance(el, cst.FunctionDef):
                info.methods[el.name.value] = el
        self.class_info[id(node)] = info
        self.raw_classes.append((node, self.scope, self.counter))
        self.class_stack.append(node)
        self.scope = Scope("class", node.name.value, self.scope, node)

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self.class_stack.pop()
        self.scope = self.scope.parent  # type: ignore[assignment]

    # -- uses -------------------------------------------------------------------
    def visit_Attribute(self, node: cst.Attribute) -> bool:
        if dotted_name(node) is not None:
            self.raw_refs.append(DottedRef(node, "", self.scope, self.top, self.counter))
            self._read(self._own(node))
            return False  # a pure dotted chain: nothing else inside it to record
        self.not_read.add(id(node.attr))
        return True

    def leave_Call(self, node: cst.Call) -> None:
        site = CallSite(node=node, scope=self.scope, order=self.counter, top=self.top,
                        statement=self.statements[-1] if self.statements else node,
                        target=self.assign_target.get(id(node)))
        self.raw_calls.append(site)
        # super().__init__() inside a class's __init__
        f = node.func
        if (isinstance(f, cst.Attribute) and f.attr.value == "__init__" and self.class_stack
                and self.func_stack and self.func_stack[-1].name == "__init__"):
            inner = f.value
            if (isinstance(inner, cst.Call) and isinstance(inner.func, cst.Name) and inner.func.value == "super") \
                    or dotted_name(inner) is not None:
                info = self.class_info.get(id(self.class_stack[-1]))
                if info is not None:
                    info.has_super_init = True


def build_model(module: cst.Module, text: str) -> ScriptModel:
    model = ScriptModel(module, text)
    b = _Builder(model)
    b.walk(module)
    _resolve(model, b)
    return model


def _resolve(m: ScriptModel, b: _Builder) -> None:
    # `global x` in a function, then `x = ...` there: x is a module-level name
    for s in b.globals_in:
        m.global_bound.update(n for n in s.declared_global if n in s.bindings)

    # Dotted references into MindSpore (every pure dotted chain is kept in m.dotted).
    m.dotted = b.raw_refs
    for ref in b.raw_refs:
        q = m.resolve(ref.node, ref.scope, None)
        if q and q.startswith("mindspore"):
            ref.qualname = q
            m.refs.append(ref)

    # Local classes: which are Cells (directly or through local bases).
    infos = list(b.class_info.values())
    for (node, scope, order) in b.raw_classes:
        info = b.class_info[id(node)]
        info.bases = [m.qualname(arg.value, scope, order) for arg in node.bases]
    changed = True
    cell_names: Set[str] = set()
    while changed:
        changed = False
        for info in infos:
            if info.name in cell_names:
                continue
            for q in info.bases:
                if q == "mindspore.nn.Cell" or (q and q.startswith("mindspore.nn.") and q.endswith("Cell")) \
                        or (q and q.startswith("<local>.") and q[8:] in cell_names):
                    cell_names.add(info.name)
                    changed = True
                    break
    for info in infos:
        if info.name in cell_names:
            m.cells[info.name] = info

    # Calls in evaluation order: qualified names, instance methods, pipelines.
    sources = facts.dataset_sources()
    for site in sorted(b.raw_calls, key=lambda c: c.order):
        m._call_by_node[id(site.node)] = site
        func = site.node.func
        q = m.qualname(func, site.scope, site.order)
        if q is None and isinstance(func, cst.Attribute):
            recv = func.value
            t = m.type_of(recv, site.scope, site.order)
            if t is not None:
                site.receiver_type = t
                q = f"{t}.{func.attr.value}"
        site.qualname = q
        m.calls.append(site)
        if q:
            m._by_qualname.setdefault(q, []).append(site)
        # datasets
        pipe: Optional[Pipeline] = None
        if q and (q in sources or (q.startswith("mindspore.dataset.") and q.count(".") == 2
                                   and q.endswith("Dataset") and q != "mindspore.dataset.Dataset")):
            pipe = Pipeline("source", site, None, source_class=q)
        elif isinstance(func, cst.Attribute) and func.attr.value in PIPELINE_OPS:
            parent = m.pipeline_of(func.value, site.scope, site.order)
            if parent is not None:
                pipe = Pipeline(func.attr.value, site, parent, source_class=parent.source_class)
        elif q and q.startswith("<local>.") and q[8:] in m.functions:
            fn = m.functions[q[8:]]
            for ret in reversed(fn.returns):
                got = m.pipeline_of(ret, fn.scope, None)
                if got is not None:
                    m._pipe_by_node[id(site.node)] = got
                    break
        if pipe is not None:
            m.pipelines.append(pipe)
            m._pipe_by_node[id(site.node)] = pipe

    # Names a pipeline was bound to.
    for scope_bindings in _all_bindings(m):
        for bd in scope_bindings:
            if bd.kind == "assign" and isinstance(bd.value, cst.Call):
                p = m._pipe_by_node.get(id(bd.value))
                if p is not None:
                    p.names.add(bd.name)

    # Roles from Model.train / Model.eval / Model.fit.
    for site in m.calls_to("mindspore.train.Model.train"):
        _mark(m, site, site.arg("train_dataset", 1), "train")
    for site in m.calls_to("mindspore.train.Model.fit"):
        _mark(m, site, site.arg("train_dataset", 1), "train")
        _mark(m, site, site.arg("valid_dataset", 2), "eval")
    for site in m.calls_to("mindspore.train.Model.eval"):
        _mark(m, site, site.arg("valid_dataset", 0), "eval")


def _all_bindings(m: ScriptModel):
    seen = [m.module_scope]
    for fn in m.functions.values():
        seen.append(fn.scope)
    for s in seen:
        yield from s.bindings.values()


def _mark(m: ScriptModel, site: CallSite, arg: Optional[cst.Arg], role: str) -> None:
    if arg is None:
        return
    p = m.pipeline_of(arg.value, site.scope, site.order)
    while p is not None:
        p.roles.add(role)
        p = p.parent


def free_names(expr: cst.CSTNode, enter_lambdas: bool = False) -> List[cst.Name]:
    """Names read by `expr` that it does not bind itself (lambda params, comprehension
    targets), in source order. Attribute names and keyword names are not reads. Lambda
    bodies run later, so their names are left out unless `enter_lambdas`."""
    out: List[cst.Name] = []

    def walk(node: cst.CSTNode, bound: frozenset) -> None:
        if isinstance(node, cst.Name):
            if node.value not in bound:
                out.append(node)
            return
        if isinstance(node, cst.Attribute):
            walk(node.value, bound)
            return
        if isinstance(node, cst.Arg):
            walk(node.value, bound)
            return
        if isinstance(node, cst.Lambda):
            p = node.params
            names = {x.name.value for x in [*p.posonly_params, *p.params, *p.kwonly_params]}
            for x in (p.star_arg, p.star_kwarg):
                if isinstance(x, cst.Param):
                    names.add(x.name.value)
            for x in [*p.posonly_params, *p.params, *p.kwonly_params]:
                if x.default is not None:
                    walk(x.default, bound)
            if enter_lambdas:
                walk(node.body, bound | names)
            return
        if isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
            names = set()
            f: Optional[cst.CompFor] = node.for_in
            while f is not None:
                names |= {n.value for n in _target_names(f.target)}
                f = f.inner_for_in
            inner = bound | names
            f = node.for_in
            first = True
            while f is not None:
                walk(f.iter, bound if first else inner)
                first = False
                for cond in f.ifs:
                    walk(cond.test, inner)
                f = f.inner_for_in
            if isinstance(node, cst.DictComp):
                walk(node.key, inner)
                walk(node.value, inner)
            else:
                walk(node.elt, inner)
            return
        for child in _children(node):
            walk(child, bound)

    walk(expr, frozenset())
    return out


def _target_names(t: cst.CSTNode) -> List[cst.Name]:
    if isinstance(t, cst.Name):
        return [t]
    if isinstance(t, (cst.Tuple, cst.List)):
        out: List[cst.Name] = []
        for el in t.elements:
            out.extend(_target_names(el.value))
        return out
    if isinstance(t, cst.StarredElement):
        return _target_names(t.value)
    return []

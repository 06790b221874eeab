"""The ScriptModel: what one analysis pass learns about a training script.

Rules query this model; they do not walk the tree themselves. Everything here is
built by `msfix.analysis.builder.build_model` from one visit of the LibCST tree.
"""

from __future__ import annotations

import builtins as _builtins
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple, TypeVar, Union

import libcst as cst

from msfix.knowledge import facts

T = TypeVar("T")


class _Unknown:
    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False


UNKNOWN = _Unknown()
"""The value of an expression msfix cannot compute statically."""


@dataclass(eq=False)
class Scope:
    """A Python scope. "module", "function" and "class" scopes hold the script's
    bindings and are what CallSite.scope names; "lambda" and "comprehension" scopes
    (their parameters and targets) exist for name resolution only (NameRead.lex)."""

    kind: str  # "module" | "function" | "class" | "lambda" | "comprehension"
    name: str
    parent: Optional["Scope"]
    node: Optional[cst.CSTNode] = None
    bindings: Dict[str, List["Binding"]] = field(default_factory=dict)
    declared_global: set = field(default_factory=set)
    declared_nonlocal: set = field(default_factory=set)

    def add(self, binding: "Binding") -> None:
        self.bindings.setdefault(binding.name, []).append(binding)

    @property
    def module_scope(self) -> "Scope":
        s = self
        while s.parent is not None:
            s = s.parent
        return s


@dataclass(eq=False)
class Binding:
    """A name bound at one point of the script."""

    name: str
    kind: str  # "import" | "assign" | "def" | "class" | "param" | "loop" | "with" | "other"
    node: cst.CSTNode  # the binding statement or the target node
    scope: Scope
    order: int  # position in evaluation order (bindings happen after their value)
    top: int  # index of the top-level statement holding it
    value: Optional[cst.BaseExpression] = None  # assigned expression, if a simple assignment
    qualname: Optional[str] = None  # for imports: the qualified name bound
    statement: Optional[cst.CSTNode] = None  # the whole statement (for moves)
    suite: tuple = ()  # ids of the enclosing indented blocks (same tuple: same branch of the code)


@dataclass(eq=False)
class NameRead:
    """A read of a bare name (the root of `a.b.c` included), in its innermost lexical
    scope (lambda and comprehension scopes included)."""

    name: str
    node: cst.Name
    lex: Scope
    order: int
    top: int


# Names Python (and IPython, for notebooks) provides without a binding in the script.
IMPLICIT_NAMES = frozenset(dir(_builtins)) | {
    "__file__", "__name__", "__doc__", "__spec__", "__loader__", "__package__", "__builtins__",
    "__path__", "__cached__", "__annotations__", "__dict__", "__module__", "__qualname__", "__class__",
    "display", "get_ipython", "In", "Out",
}


@dataclass(eq=False)
class ImportRecord:
    node: Union[cst.Import, cst.ImportFrom]
    module: Optional[str]  # for `from X import ...`: X (None when relative)
    names: List[Tuple[str, Optional[str], cst.ImportAlias]]  # (imported dotted name, asname, alias)
    star: bool
    scope: Scope
    top: int
    statement: cst.CSTNode


@dataclass(eq=False)
class CallSite:
    node: cst.Call
    scope: Scope
    order: int
    top: int
    statement: cst.CSTNode  # the innermost simple statement line / compound statement
    qualname: Optional[str] = None  # canonical MindSpore name of the callee (or "<local>.Name")
    receiver_type: Optional[str] = None  # for method calls on known instances
    target: Optional[str] = None  # name assigned from this call, if `name = call(...)`

    @property
    def func(self) -> cst.BaseExpression:
        return self.node.func

    @property
    def method(self) -> Optional[str]:
        f = self.node.func
        return f.attr.value if isinstance(f, cst.Attribute) else None

    def positional(self, index: int) -> Optional[cst.Arg]:
        i = 0
        for a in self.node.args:
            if a.keyword is None and not a.star:
                if i == index:
                    return a
                i += 1
        return None

    def keyword(self, name: str) -> Optional[cst.Arg]:
        for a in self.node.args:
            if a.keyword is not None and a.keyword.value == name:
                return a
        return None

    def arg(self, name: str, index: Optional[int] = None) -> Optional[cst.Arg]:
        """The argument for parameter `name` given by keyword or at positional `index`."""
        a = self.keyword(name)
        if a is None and index is not None:
            a = self.positional(index)
        return a

    @property
    def has_star_args(self) -> bool:
        return any(a.star for a in self.node.args)


@dataclass(eq=False)
class DottedRef:
    """A dotted name like `nn.ResNet50` resolved to a qualified name."""

    node: cst.BaseExpression
    qualname: str
    scope: Scope
    top: int
    order: int = 0


@dataclass(eq=False)
class FunctionInfo:
    name: str
    node: cst.FunctionDef
    scope: Scope  # the function's own scope
    returns: List[cst.BaseExpression] = field(default_factory=list)


@dataclass(eq=False)
class CellClass:
    name: str
    node: cst.ClassDef
    bases: List[Optional[str]]
    methods: Dict[str, cst.FunctionDef] = field(default_factory=dict)
    has_super_init: bool = False
    self_assigns: List[Tuple[str, cst.BaseExpression, cst.CSTNode]] = field(default_factory=list)
    top: int = 0

    @property
    def qualname(self) -> str:
        return f"<local>.{self.name}"


@dataclass(eq=False)
class Pipeline:
    """A dataset value at one stage of its pipeline: the source, or an op applied to a parent."""

    op: str  # "source" or the Dataset method: map, batch, shuffle, repeat, project, rename, ...
    call: CallSite
    parent: Optional["Pipeline"] = None
    source_class: str = ""  # canonical qualname of the source class
    roles: set = field(default_factory=set)  # "train" / "eval", from Model.train/eval and names
    names: set = field(default_factory=set)  # variable names it was bound to

    def stages(self) -> List["Pipeline"]:
        out = []
        p: Optional[Pipeline] = self
        while p is not None:
            out.append(p)
            p = p.parent
        out.reverse()
        return out

    @property
    def source(self) -> "Pipeline":
        p = self
        while p.parent is not None:
            p = p.parent
        return p

    @property
    def facts(self) -> Optional[dict]:
        return facts.dataset_source(self.source_class)


PIPELINE_OPS = frozenset(
    {
        "map",
        "batch",
        "padded_batch",
        "shuffle",
        "repeat",
        "project",
        "rename",
        "take",
        "skip",
        "filter",
        "concat",
        "zip",
        "bucket_batch_by_length",
        "split",
    }
)


class ScriptModel:
    """Queries over one analysed module."""

    def __init__(self, module: cst.Module, text: str) -> None:
        self.module = module
        self.text = text
        self.path = ""  # the file's path, set by the engine: config files next to it are read (configfiles.py)
        self.module_scope = Scope("module", "<module>", None, module)
        self.imports: List[ImportRecord] = []
        self.calls: List[CallSite] = []
        self.refs: List[DottedRef] = []  # dotted names that resolve into mindspore
        self.dotted: List[DottedRef] = []  # every pure dotted chain `a.b.c` (qualname "" if not mindspore)
        self.store_targets: set = set()  # ids of assignment / del targets
        self.functions: Dict[str, FunctionInfo] = {}
        self.cells: Dict[str, CellClass] = {}
        self.classes: Dict[str, cst.ClassDef] = {}
        self.pipelines: List[Pipeline] = []
        self.mentions_mindspore = False
        self._by_qualname: Dict[str, List[CallSite]] = {}
        self._pipe_by_node: Dict[int, Pipeline] = {}
        self._call_by_node: Dict[int, CallSite] = {}
        # id(node) -> (top-level statement index, innermost statement, indents of its blocks,
        # the frame of the statement around it)
        self.owner: Dict[int, tuple] = {}
        self.reads: List[NameRead] = []  # every read of a bare name, in evaluation order
        self._read_by_node: Dict[int, NameRead] = {}
        self.global_bound: set = set()  # names a `global` statement binds from inside a function
        self.has_star_import = False
        self.store_nodes: List[cst.CSTNode] = []  # assignment / augmented assignment / del targets
        self._memo: Dict[str, object] = {}  # the one cache of derived analyses (see `cached`)

    def cached(self, key: str, compute: Callable[[], T]) -> T:
        """The result of `compute()` for this model under `key`, computed on first use.
        Every derived analysis (data, network, training, values, shapes) keeps its results
        here and nowhere else."""
        memo = self._memo
        if key not in memo:
            memo[key] = compute()
        return memo[key]  # type: ignore[return-value]

    def memo(self, namespace: str) -> dict:
        """A dict for the analysis `namespace` to keep per-node results in (one place)."""
        return self.cached(f"{namespace}:dict", dict)

    # -- names ------------------------------------------------------------------
    def lookup(self, name: str, scope: Scope, order: Optional[int] = None) -> Optional[Binding]:
        """The binding a use of `name` in `scope` at `order` refers to.

        At module level this is the latest binding before the use. In a function body,
        which runs later, a module-level name is its last binding in the module."""
        s: Optional[Scope] = scope
        first = True
        while s is not None:
            if s.kind == "class" and not first:
                s = s.parent
                continue
            bs = s.bindings.get(name)
            if bs:
                if s is scope and order is not None:
                    before = [b for b in bs if b.order < order]
                    if before:
                        return before[-1]
                    if s.kind == "module":
                        return None
                return bs[-1]
            first = False
            s = s.parent
        return None


    # -- name resolution (Python's scoping rules) ---------------------------------
    def read_of(self, node: cst.Name) -> Optional[NameRead]:
        return self._read_by_node.get(id(node))

    def read_state(self, read: NameRead) -> str:
        """"bound" when the read finds a binding by Python's rules at the time it runs,
        "later" when the only bindings come after it in a scope that runs immediately
        (module or class body, comprehension), "unknown" when a star import may bind it,
        "never" when nothing binds it.

        Function and lambda bodies run later: a module-level name bound anywhere in the
        module counts for them; a name bound anywhere in a function is local to it.
        Class bodies are seen only by code directly in them."""
        name = read.name
        s: Optional[Scope] = read.lex
        immediate = True  # the code between the read and `s` runs when `s` runs
        innermost = True
        later = False
        while s is not None:
            if name in s.declared_global and s is not self.module_scope:
                s = self.module_scope  # (`global x` at module level changes nothing)
                innermost = False
                continue
            if name in s.declared_nonlocal:
                return "bound"
            bs = s.bindings.get(name)
            if s.kind in ("function", "lambda", "comprehension"):
                if bs:
                    return "bound"
                if s.kind != "comprehension":
                    immediate = False
            elif s.kind == "class":
                if innermost and bs:
                    if bs[0].order < read.order:  # bindings are recorded in evaluation order
                        return "bound"
                    later = True
            else:  # module
                if bs:
                    if not immediate or bs[0].order < read.order:
                        return "bound"
                    later = True
                if name in self.global_bound:
                    return "bound"
            if s.kind != "comprehension":
                innermost = False
            s = s.parent
        if name in IMPLICIT_NAMES:
            return "bound"
        if later:
            return "later"
        if self.has_star_import:
            return "unknown"
        return "never"

    def unresolved_reads(self) -> List[NameRead]:
        """Reads that no binding reaches when they run ("later" or "never")."""
        return [r for r in self.reads if self.read_state(r) in ("later", "never")]

    def resolve(self, expr: cst.BaseExpression, scope: Scope, order: Optional[int] = None,
                _depth: int = 0) -> Optional[str]:
        """Qualified name of a dotted expression (`nn.Dense` -> `mindspore.nn.Dense`), raw."""
        if _depth > 8:
            return None
        if isinstance(expr, cst.Name):
            b = self.lookup(expr.value, scope, order)
            if b is None:
                return None
            if b.kind == "import":
                return b.qualname
            if b.kind == "class":
                return f"<local>.{b.name}"
            if b.kind == "def":
                return f"<local>.{b.name}"
            if b.kind == "assign" and b.value is not None and isinstance(b.value, (cst.Name, cst.Attribute)):
                return self.resolve(b.value, b.scope, b.order, _depth + 1)
            return None
        if isinstance(expr, cst.Attribute):
            base = self.resolve(expr.value, scope, order, _depth + 1)
            if base is None:
                return None
            return f"{base}.{expr.attr.value}"
        return None

    def qualname(self, expr: cst.BaseExpression, scope: Scope, order: Optional[int] = None) -> Optional[str]:
        """Canonical qualified name of a dotted expression."""
        q = self.resolve(expr, scope, order)
        return facts.canonical(q) if q else None

    def type_of(self, expr: cst.BaseExpression, scope: Scope, order: Optional[int] = None,
                _depth: int = 0) -> Optional[str]:
        """Class of the value of `expr` when it is an instance built in the script."""
        if _depth > 8:
            return None
        if isinstance(expr, cst.Call):
            site = self._call_by_node.get(id(expr))
            if site is not None:
                if id(expr) in self._pipe_by_node:
                    return "mindspore.dataset.Dataset"
                q = site.qualname
                if q and _looks_like_class(q):
                    return q
            return None
        if isinstance(expr, cst.Name):
            b = self.lookup(expr.value, scope, order)
            if b is not None and b.kind == "assign" and b.value is not None:
                return self.type_of(b.value, b.scope, b.order, _depth + 1)
        return None

    def value_binding(self, expr: cst.BaseExpression, scope: Scope, order: Optional[int]) -> Optional[Binding]:
        if isinstance(expr, cst.Name):
            b = self.lookup(expr.value, scope, order)
            if b is not None and b.kind == "assign":
                return b
        return None

    def instance_call(self, expr: cst.BaseExpression, scope: Scope, order: Optional[int] = None,
                      _depth: int = 0) -> Optional[CallSite]:
        """The call that created the value of `expr` (`net` -> the `ResNet50()` call)."""
        if _depth > 8:
            return None
        if isinstance(expr, cst.Call):
            return self._call_by_node.get(id(expr))
        b = self.value_binding(expr, scope, order)
        if b is not None and b.value is not None:
            return self.instance_call(b.value, b.scope, b.order, _depth + 1)
        return None

    def uses_through(self, local_name: str, qualname: str) -> List[Tuple["DottedRef", cst.Name, str]]:
        """Dotted uses `local_name.attr...` of the module `qualname` bound to `local_name`:
        (ref, the root Name node, the first attribute after it)."""
        out = []
        for ref in self.refs:
            node = ref.node
            first = None
            while isinstance(node, cst.Attribute):
                first = node.attr.value
                node = node.value
            if first is not None and isinstance(node, cst.Name) and node.value == local_name \
                    and ref.qualname.startswith(qualname + "."):
                out.append((ref, node, first))
        return out

    # -- values -----------------------------------------------------------------
    def literal(self, expr: Optional[cst.BaseExpression], scope: Optional[Scope] = None,
                order: Optional[int] = None, _depth: int = 0):
        from msfix.analysis.values import evaluate

        if expr is None:
            return UNKNOWN
        return evaluate(self, expr, scope or self.module_scope, order, _depth)

    # -- calls ------------------------------------------------------------------
    def calls_to(self, *qualnames: str) -> List[CallSite]:
        out: List[CallSite] = []
        for q in qualnames:
            out.extend(self._by_qualname.get(q, ()))
        out.sort(key=lambda c: c.order)
        return out


    def call_of(self, node: cst.Call) -> Optional[CallSite]:
        return self._call_by_node.get(id(node))

    # -- datasets ---------------------------------------------------------------
    def pipeline_of(self, expr: Optional[cst.BaseExpression], scope: Scope, order: Optional[int] = None,
                    _depth: int = 0) -> Optional[Pipeline]:
        if expr is None or _depth > 8:
            return None
        if isinstance(expr, cst.Call):
            return self._pipe_by_node.get(id(expr))
        b = self.value_binding(expr, scope, order)
        if b is not None and b.value is not None:
            return self.pipeline_of(b.value, b.scope, b.order, _depth + 1)
        return None

    def leaves(self) -> List[Pipeline]:
        """Pipelines no other pipeline was derived from."""
        parents = {id(p.parent) for p in self.pipelines if p.parent is not None}
        return [p for p in self.pipelines if id(p) not in parents]

    def derived(self, pipe: Pipeline) -> List[Pipeline]:
        """Every pipeline that has `pipe` among its stages (pipe included)."""
        return [p for p in self.pipelines if any(s is pipe for s in p.stages())]

    # -- networks ---------------------------------------------------------------
    def cell_instances(self) -> List[CallSite]:
        """Calls that build an instance of a Cell class defined in the script."""
        return [c for c in self.calls if c.qualname and c.qualname.startswith("<local>.")
                and c.qualname[len("<local>."):] in self.cells]

    def top_of(self, node: cst.CSTNode, default: Optional[int] = None) -> int:
        """Index of the top-level statement holding `node` (`default` for a node the
        walk did not enter, else KeyError)."""
        got = self.owner.get(id(node))
        if got is None:
            if default is None:
                raise KeyError(id(node))
            return default
        return got[0]


def _looks_like_class(qualname: str) -> bool:
    last = qualname.rsplit(".", 1)[-1]
    return bool(last) and last[0].isupper() and not last.isupper()

"""The Rule base class, the rule registry and the context a rule runs in.

A rule is a class in `rules/` (shipped as `msfix.rules`) with a stable code, a
name, a default severity, its documentation and its own VALID/INVALID examples
(which become tests). It reads the ScriptModel and reports diagnostics, each with
an optional safe or unsafe fix made of text edits at node ranges.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import re
import textwrap
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Type

import libcst as cst

from msfix.analysis.model import ScriptModel
from msfix.context import ApiView, DataView, NetworkView, TrainingView, ValuesView
from msfix.diagnostics import Applicability, Diagnostic, Edit, Fix, Severity, Span
from msfix.locate import Locator


@dataclass(frozen=True)
class Example:
    """A rule's own example. For INVALID ones, `expect` lists the (line, code) pairs the
    rule must report and `fixed` the text after applying its fixes (unsafe included)."""

    code: str
    expect: Tuple[int, ...] = ()
    fixed: Optional[str] = None


class Rule:
    code: str = ""
    name: str = ""
    severity: Severity = Severity.ERROR
    summary: str = ""
    # Markdown with the sections: What it does / Why is this bad / Example / Fix safety
    doc: str = ""
    fix_applicability: Optional[Applicability] = None  # the kind of fix it offers, if any
    versions: str = "MindSpore 2.x"  # which MindSpore versions the rule is about (prose, for the docs)
    # The target versions the rule runs for, as data: from `applies_from` (inclusive) up
    # to `applies_until` (exclusive); None means no bound. Compared as versions
    # (msfix.context.version_key), never as strings. The engine skips the rule outside.
    applies_from: Optional[str] = None
    applies_until: Optional[str] = None
    valid: Sequence[Example] = ()
    invalid: Sequence[Example] = ()
    plugin: Optional[str] = None  # set for rules from a plugin's `msfix.rules` entry point

    def check(self, ctx: "RuleContext") -> None:  # pragma: no cover
        """Report each finding with `ctx.report(node, message, fix=...)`. (A generator is
        accepted too, for plugins written that way; what it yields is ignored.)"""
        raise NotImplementedError

    @classmethod
    def applies_to(cls, version: Optional[str]) -> bool:
        """Does the rule run for target `version` (a resolved release like "2.10.0")?
        Unknown version: yes."""
        if not version or (cls.applies_from is None and cls.applies_until is None):
            return True
        from msfix.knowledge.api import version_key

        k = version_key(version)
        if cls.applies_from is not None and k < version_key(cls.applies_from):
            return False
        if cls.applies_until is not None and k >= version_key(cls.applies_until):
            return False
        return True

    @classmethod
    def version_range(cls) -> str:
        """The `applies_from`/`applies_until` range in words ("" when unbounded)."""
        lo, hi = cls.applies_from, cls.applies_until
        if lo and hi:
            return f"target versions {lo} up to (not including) {hi}"
        if lo:
            return f"target versions {lo} and later"
        if hi:
            return f"target versions before {hi}"
        return ""

    @classmethod
    def documentation(cls) -> str:
        body = textwrap.dedent(cls.doc).strip()
        fix = {None: "No automatic fix.", Applicability.SAFE: "Safe fix available.",
               Applicability.UNSAFE: "Unsafe fix available (`--unsafe-fixes`)."}[cls.fix_applicability]
        head = (f"# {cls.code} {cls.name}\n\n"
                f"{cls.summary}\n\n"
                f"Severity: {cls.severity.value}. {fix} Applies to: {cls.versions}."
                + (f" Runs for {cls.version_range()}." if cls.version_range() else "") + "\n\n")
        return head + body + "\n"


ENTRY_POINT_GROUP = "msfix.rules"  # third-party rules: an entry point naming a module or a Rule class
_CODE = re.compile(r"[A-Z]+[0-9]+")


class RuleRegistryError(RuntimeError):
    """Rules that cannot be registered (a plugin that fails to load, a code used twice)."""


@functools.lru_cache(maxsize=None)
def all_rules() -> Tuple[Type[Rule], ...]:
    """Every rule class in msfix.rules and in the `msfix.rules` entry points of
    installed plugins, sorted by code."""
    import msfix.rules as pkg

    found: Dict[str, Type[Rule]] = {}
    origin: Dict[str, str] = {}
    # rules/<family>/ms<code>_<name>.py; modules starting with `_` are family helpers
    for info in pkgutil.walk_packages(pkg.__path__, "msfix.rules."):
        if info.ispkg or info.name.rsplit(".", 1)[1].startswith("_"):
            continue
        mod = importlib.import_module(info.name)
        for obj in _rules_in(mod):
            if obj.code in found:
                raise RuleRegistryError(f"duplicate rule code {obj.code}")
            found[obj.code] = obj
            origin[obj.code] = "msfix"
    for where, obj in _plugin_rules():
        if not isinstance(obj.code, str) or not _CODE.fullmatch(obj.code) or not obj.name:
            raise RuleRegistryError(f"{where}: rule {obj.__name__} needs a code of capital letters then digits "
                                    f"(e.g. ACME101) and a name; it has code {obj.code!r}, name {obj.name!r}")
        if obj.code in found and found[obj.code] is not obj:
            raise RuleRegistryError(f"{where}: rule code {obj.code} ({obj.name}) is already used by "
                                    f"{origin[obj.code]} ({found[obj.code].name}); codes must be unique")
        found[obj.code] = obj
        origin[obj.code] = where
        obj.plugin = where
    return tuple(found[c] for c in sorted(found))


def _rules_in(mod) -> List[Type[Rule]]:
    return [obj for obj in vars(mod).values()
            if isinstance(obj, type) and issubclass(obj, Rule) and obj is not Rule and obj.code
            and obj.__module__ == mod.__name__]


def _plugin_rules() -> List[Tuple[str, Type[Rule]]]:
    """(where, rule class) for every `msfix.rules` entry point: `name = "pkg.module"` (every
    Rule subclass defined in it) or `name = "pkg.module:RuleClass"`."""
    import types
    from importlib.metadata import entry_points

    out: List[Tuple[str, Type[Rule]]] = []
    seen = set()
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: (e.name, e.value)):
        if (ep.name, ep.value) in seen:  # the same distribution found twice on sys.path
            continue
        seen.add((ep.name, ep.value))
        dist = getattr(getattr(ep, "dist", None), "name", None)
        where = f"plugin {dist or ep.name} (entry point {ep.name} = {ep.value})"
        try:
            obj = ep.load()
        except Exception as exc:
            raise RuleRegistryError(f"{where}: cannot be loaded: {type(exc).__name__}: {exc}") from None
        if isinstance(obj, types.ModuleType):
            classes = _rules_in(obj)
        elif isinstance(obj, type) and issubclass(obj, Rule):
            classes = [obj]
        else:
            raise RuleRegistryError(f"{where}: names neither a module nor a Rule subclass")
        if not classes:
            raise RuleRegistryError(f"{where}: defines no Rule subclass")
        out.extend((where, c) for c in classes)
    return out


def plugin_fingerprint() -> str:
    """Names and versions of the installed rule plugins (for the result cache key)."""
    from importlib.metadata import entry_points

    parts = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        parts.append(f"{ep.name}={ep.value}@{getattr(dist, 'name', '')}-{getattr(dist, 'version', '')}")
    return ";".join(sorted(set(parts)))


def rule_by_code(code: str) -> Optional[Type[Rule]]:
    for r in all_rules():
        if r.code == code.upper():
            return r
    return None


def select_rules(select: Iterable[str] = ("MS",), ignore: Iterable[str] = ()) -> List[Type[Rule]]:
    """Rules whose code starts with a selected prefix and with no ignored prefix.
    The longer matching prefix wins, as in ruff."""
    select = [s.strip().upper() for s in select if s.strip()]
    ignore = [s.strip().upper() for s in ignore if s.strip()]
    out = []
    for r in all_rules():
        sel = max((len(p) for p in select if r.code.startswith(p) or p == "ALL"), default=-1)
        ign = max((len(p) for p in ignore if r.code.startswith(p) or p == "ALL"), default=-1)
        if sel >= 0 and sel > ign:
            out.append(r)
    return out


class RuleContext:
    """What a rule sees: the model, positions on demand, and helpers to build fixes."""

    def __init__(self, model: ScriptModel, locator: Locator, path: str = "",
                 target_version: Optional[str] = None) -> None:
        self.model = model
        self.locator = locator
        self.path = path
        self.target_version = target_version
        self.diagnostics: List[Diagnostic] = []
        self._rule: Optional[Type[Rule]] = None
        # set by the engine for each file: the noqa directives by line, what each one
        # suppressed, and the codes of the rules that run (for MS001)
        self.noqa_directives: Dict[int, Any] = {}
        self.noqa_used: Dict[int, set] = {}
        self.enabled_codes: frozenset = frozenset()

    # -- the views of the script model (msfix/context.py), built on first use --------
    @property
    def data(self) -> "DataView":
        """Datasets, pipelines, roles, sizes, columns."""
        return self.model.cached("view:data", lambda: DataView(self.model))

    @property
    def network(self) -> "NetworkView":
        """Cells, layers, compiled functions, graph mode."""
        return self.model.cached("view:network", lambda: NetworkView(self.model))

    @property
    def training(self) -> "TrainingView":
        """Model, loss, optimizers, callbacks, train and eval calls, devices."""
        return self.model.cached("view:training", lambda: TrainingView(self.model))

    @property
    def api(self) -> "ApiView":
        """The API index bound to this file's target version."""
        return self.model.cached(f"view:api:{self.target_version}", lambda: ApiView(self.model, self.target_version))

    @property
    def values(self) -> "ValuesView":
        """Values of expressions and where they come from."""
        return self.model.cached("view:values", lambda: ValuesView(self.model))

    # -- positions ----------------------------------------------------------------
    def top_of(self, node: cst.CSTNode, hint: Optional[int] = None) -> int:
        if hint is not None:
            return hint
        return self.model.top_of(node)

    def span(self, node: cst.CSTNode, top: Optional[int] = None) -> Span:
        r = self.locator.range(node, self.top_of(node, top))
        return Span(r.start.line, r.start.column + 1, r.end.line, r.end.column + 1)

    def offsets(self, node: cst.CSTNode, top: Optional[int] = None) -> Tuple[int, int]:
        return self.locator.offsets(node, self.top_of(node, top))

    def source(self, node: cst.CSTNode) -> str:
        return self.model.module.code_for_node(node)

    # -- edits --------------------------------------------------------------------
    def replace(self, node: cst.CSTNode, new: "str | cst.CSTNode", top: Optional[int] = None) -> Edit:
        text = new if isinstance(new, str) else self.model.module.code_for_node(new)
        start, end = self.offsets(node, top)
        return Edit(start, end, text)

    def insert_before(self, node: cst.CSTNode, text: str, top: Optional[int] = None) -> Edit:
        start, _ = self.offsets(node, top)
        return Edit(start, start, text)

    def insert_after(self, node: cst.CSTNode, text: str, top: Optional[int] = None) -> Edit:
        _, end = self.offsets(node, top)
        return Edit(end, end, text)

    def statement_lines(self, stmt: cst.CSTNode, top: Optional[int] = None) -> Tuple[int, int]:
        """Offsets of the whole lines a statement occupies (without its leading comments)."""
        r = self.locator.range(stmt, self.top_of(stmt, top))
        return self.locator.line_span(r.start.line, r.end.line)

    def statement_indent(self, stmt: cst.CSTNode, top: Optional[int] = None) -> str:
        r = self.locator.range(stmt, self.top_of(stmt, top))
        line = self.locator.line_text(r.start.line)
        return line[: len(line) - len(line.lstrip())]

    def has_import(self, statement: str, within: Optional[int] = None) -> bool:
        """A module-level import statement with exactly this text; with `within`, only
        among the first `within` top-level statements."""
        module = self.model.module
        return any(rec.scope is self.model.module_scope and (within is None or rec.top < within)
                   and module.code_for_node(rec.node).strip() == statement
                   for rec in self.model.imports)

    def imports_edit(self, statements: Sequence[Optional[str]]) -> Optional[Edit]:
        """One edit adding the given import statements (in order, skipping None and those
        already present there) after the module's leading docstring and imports: the
        names they bind are bound before any code uses them."""
        module = self.model.module
        body = module.body
        insert_at = 0
        for i, stmt in enumerate(body):
            if isinstance(stmt, cst.SimpleStatementLine) and stmt.body and all(
                isinstance(s, (cst.Import, cst.ImportFrom)) or (
                    i == 0 and isinstance(s, cst.Expr) and isinstance(s.value, (cst.SimpleString, cst.ConcatenatedString)))
                for s in stmt.body
            ):
                insert_at = i + 1
                continue
            break
        wanted: List[str] = []
        for st in statements:
            if st and st not in wanted and not self.has_import(st, within=insert_at):
                wanted.append(st)
        if not wanted:
            return None
        newline = module.default_newline
        block = "".join(st + newline for st in wanted)
        if insert_at == 0:
            if not body:
                return Edit(len(self.model.text), len(self.model.text), block)
            r = self.locator.range(body[0], 0)
            start = self.locator.offset(r.start.line, 0)
            return Edit(start, start, block)
        last = body[insert_at - 1]
        r = self.locator.range(last, insert_at - 1)
        _, end = self.locator.line_span(r.start.line, r.end.line)
        text = self.model.text
        if end == len(text) and not text.endswith(("\n", "\r")):
            return Edit(end, end, newline + block.rstrip("\r\n"))
        return Edit(end, end, block)

    def module_alias(self, qualname: str, before: Optional[int] = None) -> Optional[str]:
        """A name bound at module level only to the module `qualname` (e.g. "ms" for
        mindspore), usable in new code; with `before` (an evaluation order), only a
        name whose first binding comes before it."""
        for name, bindings in self.model.module_scope.bindings.items():
            if self._only_module(name, qualname) and (before is None or bindings[0].order < before):
                return name
        return None

    def _only_module(self, name: str, qualname: str) -> bool:
        bindings = self.model.module_scope.bindings.get(name) or []
        return bool(bindings) and all(b.kind == "import" and b.qualname == qualname for b in bindings)

    def ensure_module(self, qualname: str, preferred: str,
                      before: Optional[int] = None) -> Tuple[str, Optional[str]]:
        """Name to reach module `qualname` by in new code, and the import statement to add
        if one is needed (`import mindspore as ms`, `from mindspore.dataset import vision`).
        With `before`, the name must be bound before that evaluation order (else the
        import is returned, to be placed before the first use). Pass the statements to
        `imports_edit`."""
        have = self.module_alias(qualname, before)
        if have is not None:
            return have, None
        name = preferred
        n = 1
        while (name in self.model.module_scope.bindings and not self._only_module(name, qualname)) \
                or name in self.model.classes:
            n += 1
            name = f"{preferred}{n}"
        if "." in qualname:
            parent, last = qualname.rsplit(".", 1)
            stmt = f"from {parent} import {last}" + (f" as {name}" if name != last else "")
        else:
            stmt = f"import {qualname}" + (f" as {name}" if name != qualname else "")
        return name, stmt

    # -- reporting ----------------------------------------------------------------
    def report(self, node: cst.CSTNode, message: str, fix: Optional[Fix] = None,
               top: Optional[int] = None, severity: Optional[Severity] = None) -> Diagnostic:
        rule = self._rule
        assert rule is not None
        d = Diagnostic(
            code=rule.code,
            name=rule.name,
            severity=severity or rule.severity,
            message=message,
            span=self.span(node, top),
            fix=fix,
            path=self.path,
        )
        self.diagnostics.append(d)
        return d

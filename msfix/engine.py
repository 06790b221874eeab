"""Run msfix on one file: read, parse once, analyse once, run the rules, apply noqa,
and in fix mode apply fixes round after round until nothing changes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Type

import libcst as cst

from msfix.analysis import configfiles
from msfix.analysis.builder import build_model
from msfix.diagnostics import Diagnostic, Edit
from msfix.locate import Locator, parse_ast
from msfix import noqa
from msfix.rule import Rule, RuleContext
from msfix.source import SourceError, SourceFile, read_source

MAX_FIX_ROUNDS = 10


class ParseError(Exception):
    """The text is not valid Python. str(err) is a one-line reason with line:col."""


@dataclass
class LintOutcome:
    diagnostics: List[Diagnostic]
    internal_errors: List[str] = field(default_factory=list)
    # fix mode: reads of names no binding reaches (Python's scoping rules), by name
    unresolved: Counter = field(default_factory=Counter)
    # fix mode: fixes dropped because they would leave a name unbound (one line each)
    dropped_fixes: List[str] = field(default_factory=list)
    # other files the result depends on (config files the script reads): path -> hash or None
    depends: Dict[str, Optional[str]] = field(default_factory=dict)


@dataclass
class FileResult:
    path: str
    diagnostics: List[Diagnostic] = field(default_factory=list)
    error: Optional[str] = None  # one-line reason the file could not be read or parsed
    source: Optional[SourceFile] = None
    fixed_text: Optional[str] = None  # fix mode: the text after all applied fixes
    fixes_applied: int = 0
    fix_error: Optional[str] = None  # a fix round produced unparsable code
    notes: List[str] = field(default_factory=list)
    dropped_fixes: List[str] = field(default_factory=list)  # fixes not applied: they broke a name
    depends: Dict[str, Optional[str]] = field(default_factory=dict)  # config files read: path -> hash or None

    @property
    def changed(self) -> bool:
        return self.source is not None and self.fixed_text is not None and self.fixed_text != self.source.text


def parse(text: str, path: str = "") -> cst.Module:
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        msg = str(exc.message).splitlines()[0] if exc.message else "invalid syntax"
        raise ParseError(f"syntax error at {exc.raw_line}:{exc.raw_column + 1}: {msg}") from None
    except RecursionError:
        raise ParseError("file is nested too deeply to parse") from None
    except Exception as exc:  # libcst raises a few other types on odd input
        raise ParseError(f"cannot parse: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None


def _quick_syntax_check(text: str) -> None:
    try:
        parse_ast(text)
    except SyntaxError as exc:
        raise ParseError(f"syntax error at {exc.lineno}:{exc.offset}: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ParseError(f"cannot parse: {exc}") from None


def lint_text(text: str, rules: Sequence[Type[Rule]], path: str = "",
              target_version: Optional[str] = None, names: bool = False) -> LintOutcome:
    """Diagnostics for `text` (noqa applied). With `names`, also the unresolved name
    reads (for verifying fixes). Raises ParseError."""
    if "mindspore" not in text:
        # Every rule is about MindSpore; a file that never names it has nothing to
        # report. A cheap C-level parse still catches syntax errors.
        _quick_syntax_check(text)
        return LintOutcome([])
    module = parse(text, path)
    model = build_model(module, text)
    model.path = path
    locator = Locator(module, text, model.owner)
    ctx = RuleContext(model, locator, path=path, target_version=target_version)
    # noqa bookkeeping for rules that run after noqa (`after_noqa = True`, e.g. MS001
    # unused-noqa): line -> codes that a noqa comment on it suppressed, and the codes
    # of every rule that ran.
    ctx.noqa_used = {}
    ctx.noqa_directives = noqa.directives(text)  # comments only: never a string's text
    ctx.enabled_codes = frozenset(r.code for r in rules)
    internal: List[str] = []
    late = [r for r in rules if getattr(r, "after_noqa", False)]
    _run_rules(ctx, [r for r in rules if r not in late], internal)
    kept = _apply_noqa(ctx, ctx.diagnostics)
    if late:
        ctx.diagnostics = []
        _run_rules(ctx, late, internal)
        kept.extend(_apply_noqa(ctx, ctx.diagnostics))
    kept.sort(key=Diagnostic.sort_key)
    out = LintOutcome(kept, internal, depends=configfiles.dependencies(model))
    if names:
        out.unresolved = Counter(r.name for r in model.unresolved_reads())
    return out


def _run_rules(ctx: RuleContext, rules: Sequence[Type[Rule]], internal: List[str]) -> None:
    for rule_cls in rules:
        if (rule_cls.applies_from or rule_cls.applies_until) and not rule_cls.applies_to(_resolved(ctx)):
            continue  # outside the rule's version range (data on the rule, compared as versions)
        ctx._rule = rule_cls
        before = len(ctx.diagnostics)
        try:
            check: Callable[[RuleContext], object] = rule_cls().check
            result = check(ctx)
            for _ in result or ():  # type: ignore[attr-defined]  # a generator rule (plugins) runs when iterated
                pass
        except Exception as exc:  # a rule bug must not take the run down
            del ctx.diagnostics[before:]
            internal.append(f"internal error in rule {rule_cls.code}: {type(exc).__name__}: {exc}")


def _resolved(ctx: RuleContext) -> Optional[str]:
    """The indexed release the file is checked against (None without an API index)."""
    try:
        return ctx.api.version
    except Exception:  # no index shipped: every rule runs
        return None


def _apply_noqa(ctx: RuleContext, diagnostics: Sequence[Diagnostic]) -> List[Diagnostic]:
    kept = []
    for d in diagnostics:
        if noqa.suppressed(ctx.noqa_directives.get(d.span.line), d.code):
            ctx.noqa_used.setdefault(d.span.line, set()).add(d.code)
            continue
        kept.append(d)
    return kept


def _fix_key(d: Diagnostic) -> tuple:
    """A fix's identity across rounds (offsets move when other fixes apply)."""
    assert d.fix is not None
    return (d.code, d.fix.message, tuple(e.text for e in d.fix.edits))


def select_edits(diagnostics: Sequence[Diagnostic], unsafe: bool, exclude: frozenset = frozenset(),
                 taken: Optional[List[Diagnostic]] = None) -> Tuple[List[Edit], int]:
    """Non-conflicting edits of the applicable fixes; a fix is taken whole or not at all
    (a conflicting one waits for the next round). Fixes whose key is in `exclude` are
    skipped; the diagnostics whose fixes were taken are appended to `taken`."""
    accepted: List[Edit] = []
    applied = 0
    for d in diagnostics:
        fix = d.fix
        if fix is None or not (fix.is_safe or unsafe):
            continue
        if exclude and _fix_key(d) in exclude:
            continue
        if any(e.overlaps(a) for e in fix.edits for a in accepted):
            continue
        # fixes are applied together; two fixes may share one insertion (an import)
        accepted.extend(e for e in fix.edits if e not in accepted)
        applied += 1
        if taken is not None:
            taken.append(d)
    return accepted, applied


def _new_unbound(before: Counter, after: Counter) -> List[str]:
    """Names with more unresolved reads after than before."""
    return sorted(n for n, k in after.items() if k > before.get(n, 0))


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    out = []
    pos = len(text)
    for e in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        out.append(text[e.end:pos])
        out.append(e.text)
        pos = e.start
    out.append(text[:pos])
    return "".join(reversed(out))


def fix_text(text: str, rules: Sequence[Type[Rule]], unsafe: bool = False, path: str = "",
             target_version: Optional[str] = None) -> Tuple[str, LintOutcome, int, Optional[str]]:
    """Apply fixes until nothing changes (at most MAX_FIX_ROUNDS rounds).

    Returns (text, remaining diagnostics, number of fixes applied, error). If a round
    produces text that does not parse, nothing is applied: the original text comes back
    with the error. Raises ParseError if the input itself does not parse.

    Every round is verified through the script model's name resolution: a fix after
    which a name has more unresolved reads than before (a use that resolved now does
    not, or a new use of an unbound name) is dropped, the round is redone without it,
    and the dropped fix is listed in the outcome's `dropped_fixes`."""
    outcome = lint_text(text, rules, path, target_version, names=True)
    original, original_outcome = text, outcome
    applied_total = 0
    rejected: set = set()
    dropped: List[str] = []

    def done(t, o, n, err):
        o.dropped_fixes = dropped
        return t, o, n, err

    rounds = 0
    while rounds < MAX_FIX_ROUNDS:
        taken: List[Diagnostic] = []
        edits, applied = select_edits(outcome.diagnostics, unsafe, frozenset(rejected), taken)
        if not applied:
            return done(text, outcome, applied_total, None)
        new_text = apply_edits(text, edits)
        if new_text == text:
            return done(text, outcome, applied_total, None)
        try:
            new_outcome = lint_text(new_text, rules, path, target_version, names=True)
        except ParseError as exc:
            codes = sorted({d.code for d in outcome.diagnostics if d.fix is not None})
            return done(original, original_outcome, 0, (
                f"fixes for {', '.join(codes)} produced code that does not parse ({exc}); "
                "the file was left unchanged"))
        broken = _new_unbound(outcome.unresolved, new_outcome.unresolved)
        if broken:
            culprits = _culprits(text, outcome, taken, rules, path, target_version)
            for d, names in culprits or [(d, broken) for d in taken]:
                rejected.add(_fix_key(d))
                shown = ", ".join(f"`{n}`" for n in names)
                dropped.append(f"{d.span.line}:{d.span.column}: {d.code} fix not applied: "
                               f"{d.fix.message if d.fix else ''} would leave {shown} unbound")
            continue  # the same round again without the dropped fixes
        text, outcome = new_text, new_outcome
        applied_total += applied
        rounds += 1
    return done(text, outcome, applied_total, None)


def _culprits(text: str, outcome: LintOutcome, taken: Sequence[Diagnostic], rules, path, target_version):
    """The fixes of a round that, applied alone, leave a name unbound: (diagnostic, names)."""
    if len(taken) == 1:
        return None  # the caller drops it with the names it found
    out = []
    for d in taken:
        assert d.fix is not None
        try:
            alone = lint_text(apply_edits(text, d.fix.edits), rules, path, target_version, names=True)
        except ParseError:
            continue
        names = _new_unbound(outcome.unresolved, alone.unresolved)
        if names:
            out.append((d, names))
    return out or None


def _run_on_file(path: Path, max_bytes: Optional[int], display: Optional[str], work) -> FileResult:
    """Read `path`, then `work(result, source)`; an unreadable or unparsable file becomes
    a one-line error on the result."""
    name = display or str(path)
    try:
        src = read_source(path, max_bytes)
    except SourceError as exc:
        return FileResult(name, error=str(exc))
    res = FileResult(name, source=src)
    try:
        work(res, src)
    except ParseError as exc:
        res.error = str(exc)
    return res


def lint_file(path: Path, rules: Sequence[Type[Rule]], target_version: Optional[str] = None,
              max_bytes: Optional[int] = None, display: Optional[str] = None) -> FileResult:
    def work(res: FileResult, src: SourceFile) -> None:
        out = lint_text(src.text, rules, res.path, target_version)
        res.diagnostics = out.diagnostics
        res.depends = out.depends
        res.notes.extend(out.internal_errors)

    return _run_on_file(path, max_bytes, display, work)


def fix_file(path: Path, rules: Sequence[Type[Rule]], unsafe: bool = False,
             target_version: Optional[str] = None, max_bytes: Optional[int] = None,
             display: Optional[str] = None) -> FileResult:
    def work(res: FileResult, src: SourceFile) -> None:
        text, out, applied, err = fix_text(src.text, rules, unsafe, res.path, target_version)
        if applied:
            try:
                src.encode(text)
            except UnicodeEncodeError:
                err = f"fixed text cannot be encoded as {src.encoding}; file left unchanged"
                text, applied = src.text, 0
                out = lint_text(src.text, rules, res.path, target_version)
        res.fixed_text = text
        res.fixes_applied = applied
        res.fix_error = err
        res.diagnostics = out.diagnostics
        res.dropped_fixes = list(out.dropped_fixes)
        res.notes.extend(out.internal_errors)

    return _run_on_file(path, max_bytes, display, work)

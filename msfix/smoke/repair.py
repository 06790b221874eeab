"""`msfix fix --smoke` as a repair loop: smoke-run, and when the run crashes at a line
where a rewrite is known, apply it and run again.

Two kinds of repair, tried in this order:

- a run-only repair: a size only the run can tell. MindSpore's shape errors carry the
  numbers: ``For 'MatMul' ... 'x1_col': 256 and 'x2_row': 400`` at an ``nn.Dense`` means
  the layer gets 256 features where its ``in_channels`` says 400; ``For 'Conv2D', 'C_in'
  of input 'x' shape ... 'C_in' of input 'weight' shape: 3, but got 'C_in' of input 'x'
  shape: 1`` at an ``nn.Conv2d`` means 1 input channel where it says 3. The layer is
  found through the model, never by a name: the call on the crashing line
  (``self.fc1(x)`` in a Cell method) -> the one ``self.fc1 = nn.Dense(...)`` of that Cell
  (or of its local base Cells). ``in_channels`` (first positional or keyword) becomes the
  observed number. When the layer cannot be found uniquely, nothing is guessed.
- a rule's fix: the crash maps (``crash_map.json``) to a msfix rule with a fix, and that
  rule, with its unsafe fixes on, rewrites a line of the crash's script frames.

Both guess intent (the run is on synthetic data), so `msfix fix` applies them only with
``--unsafe-fixes``; without it the loop stops at the first crash and names the repair
it would make. Only a version that ran (passed, or diverged: a hyperparameter finding)
is returned for writing. The parent never imports MindSpore: the runs are child
processes (``run_smoke``).
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

OK_OUTCOMES = ("passed", "diverged")

# MindSpore 2.10 messages (captured on the CPU wheel: tests/data/repair/*.log)
_MATMUL = re.compile(r"For 'MatMul' the input dimensions must be equal, but got 'x1_col': (?P<got>\d+) "
                     r"and 'x2_row': (?P<want>\d+)")
_DENSE = re.compile(r"Dense shape error, got x_col: (?P<got>\d+), w_row: (?P<want>\d+)")  # mint.nn.Linear
_CONV = re.compile(r"For '(?P<prim>Conv[23]D)', 'C_in' of input 'x' shape divide by parameter 'group' must be equal to "
                   r"'C_in' of input 'weight' shape: (?P<want>\d+), but got 'C_in' of input 'x' shape: "
                   r"(?P<got>\d+), and 'group': (?P<group>\d+)")

# the crash's primitive -> the layers that run it (checked on the 2.10 wheel: nn.Conv1d
# runs Conv2D; mint.nn.Linear runs Dense) and the parameter that sets the size it checks
_LAYERS = {
    "MatMul": {"mindspore.nn.Dense": "in_channels"},
    "Dense": {"mindspore.mint.nn.Linear": "in_features"},
    "Conv2D": {"mindspore.nn.Conv2d": "in_channels", "mindspore.nn.Conv1d": "in_channels"},
    "Conv3D": {"mindspore.nn.Conv3d": "in_channels"},
}


@dataclass(frozen=True)
class ShapeCrash:
    """The numbers of a shape error: the layer gets `got` where it is built for `want`."""

    primitive: str  # "MatMul" | "Dense" | "Conv2D" | "Conv3D"
    got: int
    want: int
    group: int = 1

    @property
    def layers(self) -> dict:
        """qualname of each layer class that can raise it -> its size parameter"""
        return _LAYERS[self.primitive]

    @property
    def layer(self) -> str:
        return "/".join(_short(q) for q in self.layers)

    def describe(self) -> str:
        if self.primitive.startswith("Conv"):
            return f"{self.primitive} C_in {self.got} vs {self.want}"
        return f"{self.primitive} {self.got} vs {self.want}"


def _short(qualname: str) -> str:
    return qualname.replace("mindspore.", "", 1)


def parse_shape_crash(message: Optional[str]) -> Optional[ShapeCrash]:
    """The numbers of a Dense (MatMul) or Conv2d (Conv2D C_in) size error, else None."""
    if not message:
        return None
    m = _MATMUL.search(message)
    if m:
        return ShapeCrash("MatMul", int(m.group("got")), int(m.group("want")))
    m = _DENSE.search(message)
    if m:
        return ShapeCrash("Dense", int(m.group("got")), int(m.group("want")))
    m = _CONV.search(message)
    if m:
        return ShapeCrash(m.group("prim"), int(m.group("got")), int(m.group("want")), int(m.group("group")))
    return None


@dataclass
class Repair:
    description: str  # "fc1 in_channels 400 -> 256"
    edits: Tuple[Tuple[int, int, str], ...]  # (start, end, replacement) character offsets

    def apply(self, text: str) -> str:
        out, pos = [], len(text)
        for start, end, new in sorted(self.edits, reverse=True):
            out.append(text[end:pos])
            out.append(new)
            pos = start
        out.append(text[:pos])
        return "".join(reversed(out))


@dataclass
class CrashSite:
    """Where a crash is in the script: the line it is reported at and the other script
    lines of its traceback, and the crash-map entry it matched (if any)."""

    line: Optional[int]
    lines: List[int] = field(default_factory=list)
    entry_id: Optional[str] = None
    rule: Optional[str] = None


def crash_site(report, script: Path) -> CrashSite:
    """Map a crashed run to the script's lines the way `msfix diagnose` maps a log: the
    innermost script line of the network's graph notes, else of the traceback."""
    from msfix.diagnose import diagnose_text

    log = report.stderr or ""
    if report.exception_type and report.exception_type not in log:
        log += f"\nTraceback (most recent call last):\n{report.exception_type}: {report.message or ''}\n"
    found = [d for d in diagnose_text(log, script) if d.exception == report.exception_type] if \
        report.exception_type else []
    if found:
        d = found[0]
        loc = d.location or {}
        line = loc.get("line") if loc.get("in_script") else None
        others = [int(f.rsplit(":", 1)[1]) for f in d.frames if f.rsplit(":", 1)[-1].isdigit()]
        line = line if line is not None else report.script_line
        lines = [x for x in [line, *others, report.script_line] if x is not None]
        return CrashSite(line, list(dict.fromkeys(lines)), d.id, d.rule)
    # no entry of the table: the same choice of frame over the exception's own graph
    # notes and traceback
    from msfix.diagnose import ScriptMatcher, _primary, parse_log

    line = report.script_line
    frame_lines: List[int] = []
    blocks = [b for b in parse_log(log)[0] if b.exception == report.exception_type] if report.exception_type else []
    if blocks:
        matcher = ScriptMatcher(script)
        matcher.settle([*blocks[-1].frames, *blocks[-1].inner])
        best, rest = _primary(blocks[-1], matcher)
        if best is not None:
            loc = matcher.locate(best)
            if loc.get("in_script"):
                line = loc["line"]
            frame_lines = [matcher.locate(f)["line"] for f in rest]
    kept = [x for x in [line, *frame_lines, report.script_line] if x is not None]
    return CrashSite(line, list(dict.fromkeys(kept)), None, report.rule_code)


# ---------------------------------------------------------------------------
# the run-only repair: a Dense/Conv2d in_channels


def layer_repair(text: str, line: int, crash: ShapeCrash) -> Tuple[Optional[Repair], str]:
    """The in_channels rewrite for `crash` at script line `line`, or (None, why not)."""
    import libcst as cst

    from msfix.analysis.builder import build_model
    from msfix.analysis.network import network, nn_class
    from msfix.locate import Locator

    if crash.group != 1:
        return None, "a grouped convolution (group != 1)"
    try:
        module = cst.parse_module(text)
    except Exception:
        return None, "the script does not parse"
    m = build_model(module, text)
    loc = Locator(module, text)
    net = network(m)
    by_class = {id(c.node): c for c in m.cells.values()}

    # the layers the crashing line calls: `self.<attr>(...)` in a method of a local Cell
    called = []
    for site in m.calls:
        f = site.node.func
        if not (isinstance(f, cst.Attribute) and isinstance(f.value, cst.Name) and f.value.value == "self"):
            continue
        fn = site.scope.node
        parent = site.scope.parent
        if not isinstance(fn, cst.FunctionDef) or parent is None or id(parent.node) not in by_class:
            continue
        try:
            r = loc.range(site.node, site.top)
        except LookupError:
            continue
        if r.start.line <= line <= r.end.line:
            called.append((by_class[id(parent.node)], f.attr.value))
    if not called:
        return None, f"line {line} calls no layer of a Cell (`self.<layer>(...)`)"

    # each called attribute -> the layer constructor calls it is built from
    candidates = []  # (label, CallSite, in_channels arg, its value)
    why = f"no {crash.layer} is called at line {line}"
    for cell, attr in dict.fromkeys(called):
        chain = net.cell_chain(cell) or [cell]
        built = [value for c in chain for name, value, _stmt in c.self_assigns if name == attr]
        if len(built) != 1:
            if built:
                why = f"`self.{attr}` is assigned {len(built)} times"
            continue
        value = built[0]
        layers = []  # the value itself, or the layers listed in a container call
        for node in _calls_within(value):
            built_site = m.call_of(node)
            if built_site is not None and _canonical(built_site.qualname, nn_class) in crash.layers:
                layers.append(built_site)
        for site in layers:
            kind = _canonical(site.qualname, nn_class)
            param = crash.layers[kind]
            arg = site.arg(param, 0)
            if arg is None or site.has_star_args:
                why = f"`self.{attr}`: {_short(kind)} without an {param} argument msfix can rewrite"
                continue
            val = m.literal(arg.value, site.scope, site.order)
            known = isinstance(val, int) and not isinstance(val, bool)
            if known and val != crash.want:
                continue  # built for another size: not the layer that crashed
            label = attr if site.node is value else f"{attr} ({_short(kind)} at line {_line(loc, site)})"
            candidates.append((label, site, arg, val if known else None, known, param))
    if len(candidates) > 1:
        # several layers at the line; only those whose in_channels is known to be the
        # crash's number can be it
        sure = [c for c in candidates if c[4]]
        if len(sure) != 1:
            names = ", ".join(c[0] for c in candidates)
            return None, f"line {line} has {len(candidates)} candidate {crash.layer} layers ({names})"
        candidates = sure
    if not candidates:
        return None, why
    label, site, arg, val, _known, param = candidates[0]
    where, why = _size_source(m, loc, net, by_class, site, arg.value)
    if where is None:
        return None, f"{label}: {why}"
    start, end, via = where
    old = text[start:end]
    if old.strip() == str(crash.got):
        return None, f"{label} {param} is already {crash.got}"
    shown = str(val) if val is not None else old  # the text where the number is written
    return Repair(f"{label} {param} {shown} -> {crash.got}{via}", ((start, end, str(crash.got)),)), ""


def _size_source(m, loc, net, by_class, site, expr):
    """Where the layer's size (in_channels) is written: the argument itself, or, when it is a
    parameter of the Cell's __init__, the argument of the Cell's one instantiation in
    the script (or that parameter's default when the instantiation leaves it out).
    Returns ((start, end, note), "") or (None, why not)."""
    import libcst as cst

    scope = site.scope
    params = {}
    fn = scope.node
    if isinstance(fn, cst.FunctionDef):
        params = {p.name.value: p for p in [*fn.params.posonly_params, *fn.params.params, *fn.params.kwonly_params]}
    used = [n for n in _names_in(expr) if n.value in params
            and getattr(m.lookup(n.value, scope, site.order), "kind", None) == "param"]
    if not used:
        start, end = loc.offsets(expr, site.top)
        return (start, end, ""), ""
    name = used[0].value
    if not isinstance(expr, cst.Name) or scope.name != "__init__" or scope.parent is None \
            or id(scope.parent.node) not in by_class:
        return None, f"the size is computed from the parameter `{name}`"
    cell = by_class[id(scope.parent.node)]
    builds = [c for c in m.cell_instances()
              if any(k is cell for k in (net.cell_chain(m.cells[c.qualname[len("<local>."):]]) or []))]
    if len(builds) != 1:
        return None, (f"the size is the parameter `{name}` of {cell.name}.__init__, and the script builds "
                      f"{cell.name} {len(builds)} times")
    inst = builds[0]
    positional = [p.name.value for p in [*fn.params.posonly_params, *fn.params.params]]
    index = positional.index(name) - 1 if name in positional and positional.index(name) > 0 else None
    if inst.has_star_args or any(a.star for a in inst.node.args):
        return None, f"{cell.name}(...) at line {_line(loc, inst)} passes *args/**kwargs"
    given = inst.arg(name, index)
    if given is not None:
        start, end = loc.offsets(given.value, inst.top)
        return (start, end, f" (`{name}` of {cell.name}(...) at line {_line(loc, inst)})"), ""
    default = params[name].default
    if default is None:
        return None, f"{cell.name}(...) at line {_line(loc, inst)} does not pass `{name}`"
    start, end = loc.offsets(default, site.top)
    return (start, end, f" (the default of `{name}` in {cell.name}.__init__)"), ""


def _names_in(expr) -> list:
    import libcst as cst

    out = []

    class _V(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            out.append(node)

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            node.value.visit(self)  # `a.b`: only `a` is a name read
            return False

    expr.visit(_V())
    return out


def _canonical(qualname, nn_class) -> str:
    """mindspore.nn.layer.conv.Conv2d (an old path) -> mindspore.nn.Conv2d."""
    short = nn_class(qualname)
    return f"mindspore.nn.{short}" if short else (qualname or "")


def _calls_within(value) -> list:
    """`value` if it is a call, and the calls listed as arguments of a container call
    (`nn.SequentialCell([a, b])`, `nn.SequentialCell(a, b)`, `nn.CellList([...])`)."""
    import libcst as cst

    out = []
    if isinstance(value, cst.Call):
        out.append(value)
        for a in value.args:
            v = a.value
            elements = v.elements if isinstance(v, (cst.List, cst.Tuple)) else [v]
            for e in elements:
                ev = getattr(e, "value", e)
                if isinstance(ev, cst.Call):
                    out.append(ev)
    return out


def _line(loc, site) -> int:
    return loc.range(site.node, site.top).start.line


# ---------------------------------------------------------------------------
# a rule's fix at the crash


def rule_repair(text: str, code: str, lines: Sequence[int], path: str = "",
                target_version: Optional[str] = None) -> Tuple[Optional[Repair], str]:
    """The fix of rule `code` (unsafe fixes on) at one of `lines`, or (None, why not)."""
    from msfix.engine import ParseError, lint_text, parse, select_edits
    from msfix.rule import rule_by_code

    rule = rule_by_code(code)
    if rule is None or rule.fix_applicability is None:
        return None, f"the crash maps to {code}, which has no fix"
    try:
        outcome = lint_text(text, [rule], path, target_version)
    except ParseError:
        return None, "the script does not parse"
    wanted = set(lines)
    fixable = [d for d in outcome.diagnostics if d.fix is not None]
    diags = [d for d in fixable if any(d.span.line <= n <= (d.span.end_line or d.span.line) for n in wanted)]
    if not diags and len(fixable) == 1:
        diags = fixable  # the rule's one fix in the file (a dtype fix sits where the data is made)
    if not diags:
        where = "at the crash's lines" if fixable else "in this script"
        return None, f"the crash maps to {code}, but {code} has no {'single ' if fixable else ''}fix {where}"
    edits, applied = select_edits(diags, unsafe=True)
    if not applied:
        return None, f"{code} has no fix at the crash's lines"
    first_fix = diags[0].fix
    assert first_fix is not None  # `fixable` holds diagnostics with a fix
    repair = Repair(f"{code} fix at line {diags[0].span.line}: {first_fix.message}",
                    tuple((e.start, e.end, e.text) for e in edits))
    try:
        parse(repair.apply(text), path)
    except ParseError:
        return None, f"the {code} fix would not parse"
    return repair, ""


def find_repair(text: str, report, site: CrashSite, path: str = "",
                target_version: Optional[str] = None) -> Tuple[Optional[Repair], str]:
    """The rewrite a crashed run points to, or (None, why not)."""
    shape = parse_shape_crash(report.message)
    if shape is not None:
        if site.line is None:
            return None, "the crash has no line in the script"
        return layer_repair(text, site.line, shape)
    if site.rule:
        return rule_repair(text, site.rule, site.lines, path, target_version)
    return None, "no rewrite is known for this crash"


# ---------------------------------------------------------------------------
# the loop


@dataclass
class RepairOutcome:
    status: str  # "ok" (the text ran), "rejected"
    text: str  # the version that ran (status "ok"), else the text the loop started from
    rounds: List[str]  # one line per round
    repairs: List[str]  # descriptions of the repairs applied
    reason: str = ""  # one line: why nothing may be written
    report: object = None  # the last SmokeReport


def crash_summary(report, shape: Optional[ShapeCrash]) -> str:
    if shape is not None:
        return shape.describe()
    from msfix.smoke.report import short_message

    first = (short_message(report.message, 1) or report.message or "").splitlines()[:1]
    text = f"{report.exception_type or report.outcome}: {first[0]}" if first else (report.exception_type or
                                                                                  report.outcome)
    return text if len(text) <= 100 else text[:97] + "..."


def repair_loop(text: str, display: str, encode: Callable[[str], bytes], *, script_dir: Path,
                max_rounds: int = 3, enabled: bool = True, target_version: Optional[str] = None,
                echo: Callable[[str], None] = print, run=None) -> RepairOutcome:
    """Smoke-run `text` (as `display`, from a temporary copy with the same name), repair
    and run again, at most `max_rounds` runs. Raises SmokeUnavailable."""
    if run is None:
        from msfix.smoke.runner import run_smoke as run
    name = Path(display).name
    start_text = text
    rounds: List[str] = []
    repairs: List[str] = []
    seen = {text}

    def say(line: str) -> None:
        rounds.append(line)
        echo(line)

    def stop(reason: str, report) -> RepairOutcome:
        return RepairOutcome("rejected", start_text, rounds, repairs, reason, report)

    with tempfile.TemporaryDirectory(prefix="msfix-fix-smoke-") as tmp:
        copy = Path(tmp) / name
        for n in range(1, max_rounds + 1):
            copy.write_bytes(encode(text))
            report = run(copy, extra_path=[script_dir])
            if report.outcome in OK_OUTCOMES:
                say(f"round {n}: {report.outcome}")
                return RepairOutcome("ok", text, rounds, repairs, "", report)
            try:
                site = crash_site(report, copy)
            except Exception:  # a log msfix cannot read: the runner's own line
                site = CrashSite(report.script_line, [x for x in [report.script_line] if x is not None])
            where = f"{display}:{site.line}" if site.line is not None else display
            shape = parse_shape_crash(report.message)
            head = f"round {n}: {report.outcome} at {where} ({crash_summary(report, shape)})"
            try:
                repair, why = find_repair(text, report, site, display, target_version)
            except Exception as exc:  # a bug here must not take the run down: nothing is written
                repair, why = None, f"internal error while looking for a repair: {type(exc).__name__}: {exc}"
            if repair is None:
                say(f"{head} -> no repair: {why}")
                return stop(f"{report.outcome} at {where}; no repair: {why}", report)
            if not enabled:
                say(f"{head} -> repair not applied without --unsafe-fixes: {repair.description}")
                return stop(f"{report.outcome} at {where}; the repair ({repair.description}) needs --unsafe-fixes",
                            report)
            if n == max_rounds:
                say(f"{head} -> not tried: --max-rounds {max_rounds} reached ({repair.description})")
                return stop(f"still {report.outcome} after {max_rounds} rounds", report)
            new = repair.apply(text)
            if new in seen:
                say(f"{head} -> {repair.description}: no change, stopping")
                return stop(f"{report.outcome} at {where}; the repair does not change the text", report)
            say(f"{head} -> {repair.description}")
            repairs.append(repair.description)
            seen.add(new)
            text = new
    return stop(f"still crashing after {max_rounds} rounds", None)  # pragma: no cover (max_rounds < 1)

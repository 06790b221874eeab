"""Text output in the style of ruff: `path:line:col: CODE message`, the source line
with a marker under the reported range, then a summary."""

from __future__ import annotations

from collections import Counter
from typing import Dict, List

from msfix.diagnostics import Severity

# ANSI styles, as ruff colours its output (only with color=True: a terminal, FORCE_COLOR)
_STYLE = {"path": "1", "code": "1;31", "fixable": "36", "gutter": "1;34", "marker": "1;31", "fix": "1;36",
          "summary": "1"}


def _c(text: str, style: str, color: bool) -> str:
    return f"\x1b[{_STYLE[style]}m{text}\x1b[0m" if color and text else text


def _marker(d, line_text: str) -> str:
    start = d.span.column - 1
    end = d.span.end_column - 1 if d.span.end_line == d.span.line else len(line_text)
    width = max(1, end - start)
    return " " * start + "^" * width


def _lines(r) -> List[str]:
    if r.fixed_text is not None and not getattr(r, "shown_on_disk", False):
        return r.fixed_text.splitlines()
    if r.source is not None:
        return r.source.text.splitlines()
    from pathlib import Path

    from msfix.source import SourceError, read_source

    try:  # a cached result: read the file again for the snippets
        return read_source(Path(r.path)).text.splitlines()
    except SourceError:
        return []


def _cell_lines(r, cell):
    if getattr(r, "shown_on_disk", False) and getattr(r, "notebook", None) is not None:
        for c in r.notebook.cells:  # a fix dry run: the cell as it is on disk
            if c.number == cell:
                return c.text.splitlines()
        return []
    return r.cell_lines(cell)


def diagnostic_line(d, color: bool = False) -> str:
    from msfix.report import location

    mark = " " + _c("[*]", "fixable", color) if d.fix is not None and d.fix.is_safe else ""
    return f"{_c(d.path, 'path', color)}:{location(d)}: {_c(d.code, 'code', color)}{mark} {d.message}"


def report_concise(results, out, **kw) -> None:
    color = kw.get("color", False)
    for r in results:
        for d in r.diagnostics:
            out.write(diagnostic_line(d, color) + "\n")
    if not kw.get("quiet"):
        _summary(results, out, **_summary_kw(kw))


def _summary_kw(kw) -> dict:
    return {k: kw[k] for k in ("fix_mode", "unsafe", "written", "failed", "fix_only", "color") if k in kw}


def report(results, out, **kw) -> None:
    quiet = kw.get("quiet", False)
    color = kw.get("color", False)
    for r in results:
        lines: List[str] = _lines(r) if r.diagnostics and not quiet and not hasattr(r, "cell_lines") else []
        for d in r.diagnostics:
            out.write(diagnostic_line(d, color) + "\n")
            if hasattr(r, "cell_lines") and not quiet:  # a notebook: the lines of the diagnostic's cell
                lines = _cell_lines(r, getattr(d, "cell", None))
            if not quiet and 0 < d.span.line <= len(lines):
                text = lines[d.span.line - 1].expandtabs(1)
                gutter = len(str(d.span.line))
                bar = _c("|", "gutter", color)
                out.write(f"{' ' * gutter} {bar}\n")
                out.write(f"{_c(str(d.span.line), 'gutter', color)} {bar} {text}\n")
                out.write(f"{' ' * gutter} {bar} {_c(_marker(d, text), 'marker', color)}\n")
                if d.fix is not None:
                    kind = "fix" if d.fix.is_safe else "unsafe fix"
                    out.write(f"{' ' * gutter} {_c('=', 'gutter', color)} {_c(kind, 'fix', color)}: "
                              f"{d.fix.message}\n")
                out.write("\n")
    if not quiet:
        _summary(results, out, **_summary_kw(kw))


def _failed_line(failed: int) -> str:
    return f"{failed} file{'s' if failed != 1 else ''} could not be checked (see the errors above).\n"


def _summary(results, out, fix_mode: bool = False, unsafe: bool = False, written: bool = True, failed: int = 0,
             fix_only: bool = False, color: bool = False) -> None:
    """The closing lines. `failed`: files (or stdin) that could not be read, parsed or
    found; "All checks passed!" is said only when there are none."""
    failed = max(failed, sum(1 for r in results if r.error))
    diags = [d for r in results for d in r.diagnostics]
    errors = sum(1 for d in diags if d.severity is Severity.ERROR)
    warnings = len(diags) - errors
    safe = sum(1 for d in diags if d.fix is not None and d.fix.is_safe)
    unsafe_n = sum(1 for d in diags if d.fix is not None and not d.fix.is_safe)
    fixed = sum(r.fixes_applied for r in results)
    if fix_mode:
        changed = sum(1 for r in results if r.changed)
        verb = "Fixed" if written or not fixed else "Would fix"
        where = f"{verb} {fixed} problem{'s' if fixed != 1 else ''} in {changed} file{'s' if changed != 1 else ''}"
        nothing = " (nothing written: use `--write`)" if fixed and not written else ""
        if fix_only:
            out.write(where + nothing + ".\n")
        else:
            out.write(f"{where}; {len(diags)} remaining ({errors} error{'s' if errors != 1 else ''}, "
                      f"{warnings} warning{'s' if warnings != 1 else ''}){nothing}.\n")
            if unsafe_n and not unsafe:
                out.write(f"{unsafe_n} unsafe fix{'es' if unsafe_n != 1 else ''} held back "
                          f"(enable with `--unsafe-fixes`).\n")
        if failed:
            out.write(_failed_line(failed))
        return
    if not diags:
        out.write(_failed_line(failed) if failed else _c("All checks passed!", "summary", color) + "\n")
        return
    out.write(f"Found {len(diags)} problem{'s' if len(diags) != 1 else ''} "
              f"({errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}).\n")
    if safe or unsafe_n:
        parts = []
        if safe:
            parts.append(f"{safe} fixable with `msfix fix --write`")
        if unsafe_n:
            parts.append(f"{unsafe_n} more with `--unsafe-fixes`")
        out.write("[*] " + "; ".join(parts) + ".\n")
    if failed:
        out.write(_failed_line(failed))


def report_statistics(results, out) -> None:
    counts: Counter[str] = Counter()
    names: Dict[str, str] = {}
    fixable: Dict[str, bool] = {}
    for r in results:
        for d in r.diagnostics:
            counts[d.code] += 1
            names[d.code] = d.name
            fixable[d.code] = fixable.get(d.code, False) or (d.fix is not None and d.fix.is_safe)
    width = max((len(str(c)) for c in counts.values()), default=1)
    for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        mark = "[*]" if fixable[code] else "   "
        out.write(f"{n:>{width}}\t{code}\t{mark} {names[code]}\n")

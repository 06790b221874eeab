"""Text output in the style of ruff: `path:line:col: CODE message`, the source line
with a marker under the reported range, then a summary."""

from __future__ import annotations

from collections import Counter
from typing import List

from msfix.diagnostics import Severity


def _marker(d, line_text: str) -> str:
    start = d.span.column - 1
    end = d.span.end_column - 1 if d.span.end_line == d.span.line else len(line_text)
    width = max(1, end - start)
    return " " * start + "^" * width


def _lines(r) -> List[str]:
    if r.fixed_text is not None:
        return r.fixed_text.splitlines()
    if r.source is not None:
        return r.source.text.splitlines()
    from pathlib import Path

    from msfix.source import SourceError, read_source

    try:  # a cached result: read the file again for the snippets
        return read_source(Path(r.path)).text.splitlines()
    except SourceError:
        return []


def diagnostic_line(d) -> str:
    from msfix.report import location

    mark = " [*]" if d.fix is not None and d.fix.is_safe else ""
    return f"{d.path}:{location(d)}: {d.code}{mark} {d.message}"


def report_concise(results, out, **kw) -> None:
    for r in results:
        for d in r.diagnostics:
            out.write(diagnostic_line(d) + "\n")
    if not kw.get("quiet"):
        _summary(results, out, kw.get("fix_mode", False), kw.get("unsafe", False), kw.get("written", True))


def report(results, out, **kw) -> None:
    quiet = kw.get("quiet", False)
    for r in results:
        lines: List[str] = _lines(r) if r.diagnostics and not quiet and not hasattr(r, "cell_lines") else []
        for d in r.diagnostics:
            out.write(diagnostic_line(d) + "\n")
            if hasattr(r, "cell_lines") and not quiet:  # a notebook: the lines of the diagnostic's cell
                lines = r.cell_lines(getattr(d, "cell", None))
            if not quiet and 0 < d.span.line <= len(lines):
                text = lines[d.span.line - 1].expandtabs(1)
                gutter = len(str(d.span.line))
                out.write(f"{' ' * gutter} |\n")
                out.write(f"{d.span.line} | {text}\n")
                out.write(f"{' ' * gutter} | {_marker(d, text)}\n")
                if d.fix is not None:
                    kind = "fix" if d.fix.is_safe else "unsafe fix"
                    out.write(f"{' ' * gutter} = {kind}: {d.fix.message}\n")
                out.write("\n")
    if not quiet:
        _summary(results, out, kw.get("fix_mode", False), kw.get("unsafe", False), kw.get("written", True))


def _summary(results, out, fix_mode: bool, unsafe: bool, written: bool = True) -> None:
    diags = [d for r in results for d in r.diagnostics]
    errors = sum(1 for d in diags if d.severity is Severity.ERROR)
    warnings = len(diags) - errors
    safe = sum(1 for d in diags if d.fix is not None and d.fix.is_safe)
    unsafe_n = sum(1 for d in diags if d.fix is not None and not d.fix.is_safe)
    fixed = sum(r.fixes_applied for r in results)
    if fix_mode:
        changed = sum(1 for r in results if r.changed)
        verb = "Fixed" if written or not fixed else "Would fix"
        out.write(f"{verb} {fixed} problem{'s' if fixed != 1 else ''} in {changed} file{'s' if changed != 1 else ''}; "
                  f"{len(diags)} remaining ({errors} error{'s' if errors != 1 else ''}, "
                  f"{warnings} warning{'s' if warnings != 1 else ''})"
                  + (" (nothing written: use `--write`)" if fixed and not written else "") + ".\n")
        if unsafe_n and not unsafe:
            out.write(f"{unsafe_n} unsafe fix{'es' if unsafe_n != 1 else ''} held back "
                      f"(enable with `--unsafe-fixes`).\n")
        return
    if not diags:  # a file that could not be read or parsed is not a passed check
        out.write("All checks passed!\n" if not any(r.error for r in results)
                  else "No problems found in the code msfix could read.\n")
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


def report_statistics(results, out) -> None:
    counts = Counter()
    names = {}
    fixable = {}
    for r in results:
        for d in r.diagnostics:
            counts[d.code] += 1
            names[d.code] = d.name
            fixable[d.code] = fixable.get(d.code, False) or (d.fix is not None and d.fix.is_safe)
    width = max((len(str(c)) for c in counts.values()), default=1)
    for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        mark = "[*]" if fixable[code] else "   "
        out.write(f"{n:>{width}}\t{code}\t{mark} {names[code]}\n")

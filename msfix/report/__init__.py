"""Output formats. Each reporter takes the file results and writes to a stream."""

from __future__ import annotations

from typing import Callable

# report(results, out, **options): writes the results to the stream
Reporter = Callable[..., None]

FORMATS = ("text", "concise", "json", "json-lines", "sarif", "github", "junit")


def get_reporter(name: str) -> Reporter:
    report: Reporter
    if name == "json":
        from msfix.report.json_format import report
    elif name == "json-lines":
        from msfix.report.json_format import report_lines as report
    elif name == "sarif":
        from msfix.report.sarif import report
    elif name == "github":
        from msfix.report.github import report
    elif name == "junit":
        from msfix.report.junit import report
    elif name == "concise":
        from msfix.report.text import report_concise as report
    else:
        from msfix.report.text import report
    return report


def location(d) -> str:
    """`line:col`, or `cell N:line:col` for a diagnostic in a notebook cell (as ruff)."""
    cell = getattr(d, "cell", None)
    where = f"{d.span.line}:{d.span.column}"
    return where if cell is None else f"cell {cell}:{where}"

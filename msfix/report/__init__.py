"""Output formats. Each reporter takes the file results and writes to a stream."""

from __future__ import annotations

FORMATS = ("text", "concise", "json")


def get_reporter(name: str):
    if name == "json":
        from msfix.report.json_format import report
    elif name == "concise":
        from msfix.report.text import report_concise as report
    else:
        from msfix.report.text import report
    return report

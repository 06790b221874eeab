"""--output-format github: GitHub Actions workflow commands, one per diagnostic, which
GitHub shows as annotations on the pull request's diff.

    ::error file=train.py,line=56,col=30,endLine=56,endColumn=68,title=MS501::message
"""

from __future__ import annotations

from msfix.diagnostics import Severity


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def report(results, out, **_) -> None:
    for r in results:
        for d in r.diagnostics:
            level = "error" if d.severity is Severity.ERROR else "warning"
            cell = getattr(d, "cell", None)
            msg = d.message if cell is None else f"cell {cell}, line {d.span.line}: {d.message}"
            props = [f"file={_prop(d.path)}", f"line={d.span.line}", f"col={d.span.column}"]
            if cell is None:
                props += [f"endLine={d.span.end_line}", f"endColumn={d.span.end_column}"]
            props.append(f"title={_prop(d.code)}")
            out.write(f"::{level} {','.join(props)}::{_data(f'{d.code} {msg}')}\n")

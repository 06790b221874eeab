"""--output-format json: one JSON array of diagnostics; json-lines: one object a line."""

from __future__ import annotations

import json


def report(results, out, summary=None, **_) -> None:
    items = [d.to_dict() for r in results for d in r.diagnostics]
    out.write(json.dumps(items, indent=2, ensure_ascii=False))
    out.write("\n")


def report_lines(results, out, **_) -> None:
    for r in results:
        for d in r.diagnostics:
            out.write(json.dumps(d.to_dict(), ensure_ascii=False, separators=(",", ":")))
            out.write("\n")

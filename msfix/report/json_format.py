"""--output-format json: one JSON array of diagnostics."""

from __future__ import annotations

import json


def report(results, out, summary=None, **_) -> None:
    items = [d.to_dict() for r in results for d in r.diagnostics]
    out.write(json.dumps(items, indent=2, ensure_ascii=False))
    out.write("\n")

#!/usr/bin/env python3
"""Regenerate docs/rules/<CODE>.md and the rule table in README.md from the rules.

    python tools/gen_docs.py          # write
    python tools/gen_docs.py --check  # exit 1 if anything is out of date (tests do this)
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- rules:start -->", "<!-- rules:end -->"


def rule_pages() -> dict:
    from msfix.rule import all_rules

    return {ROOT / "docs" / "rules" / f"{r.code}.md": r.documentation() for r in all_rules()}


def rules_table() -> str:
    from msfix.rule import all_rules

    rows = ["| Code | Name | Severity | Fix | What it catches |", "|---|---|---|---|---|"]
    for r in all_rules():
        fix = "" if r.fix_applicability is None else r.fix_applicability.value
        rows.append(f"| [{r.code}](docs/rules/{r.code}.md) | {r.name} | {r.severity.value} | {fix} | {r.summary} |")
    return "\n".join(rows)


def readme_text() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{rules_table()}\n{END}{tail}"


def main() -> int:
    check = "--check" in sys.argv
    stale = []
    pages = rule_pages()
    docs_dir = ROOT / "docs" / "rules"
    for path in docs_dir.glob("*.md"):
        if path not in pages:
            stale.append(path)
            if not check:
                path.unlink()
    for path, text in pages.items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(path)
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    readme = readme_text()
    if (ROOT / "README.md").read_text(encoding="utf-8") != readme:
        stale.append(ROOT / "README.md")
        if not check:
            (ROOT / "README.md").write_text(readme, encoding="utf-8")
    for p in stale:
        print(f"{'out of date' if check else 'wrote'}: {p.relative_to(ROOT)}")
    return 1 if (check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())

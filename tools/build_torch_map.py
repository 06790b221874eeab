#!/usr/bin/env python3
"""Build msfix's PyTorch -> MindSpore API map (run by a developer, not at lint time).

Source: MindSpore's own mapping tables from the mindspore-ai/docs repository
(``docs/mindspore/source_en/note/api_mapping/``), one per docs branch, and the pages on
what differs (``pytorch_diff/*.md``), kept in ``../shared/knowledge-sources/pytorch_api_mapping/``
(``--source`` to point elsewhere; the branch commits are in its ``COMMITS.txt``).

What it reads:

* each table row ``| [torch.X](...) | [mindspore.Y](...) | difference |``: the torch API,
  the first MindSpore API named in the second cell (none when the cell names no
  ``mindspore.`` API), and the kind of difference from the third cell:
  ``consistent`` ("Consistent"), ``names`` / ``types`` / ``order`` (the tables' stock
  sentences "the parameter names / data types / number or sequence of parameters are
  inconsistent"), ``diff`` (a link to a difference page), ``note`` (other text, kept
  in ``note``) or ``unstated`` (an empty cell: the r1.10 table leaves most rows empty);
* for ``diff`` rows, the parameter table of the difference page (rows whose second cell
  is "Parameter N"): a torch parameter with another MindSpore name is a rename
  (``dim`` -> ``axis``), one whose MindSpore cell is ``-`` is ``dropped``, and one whose
  text says the default differs is listed in ``defaults``. r2.2 rows use
  ``pytorch_diff.r2.2/``; r2.6.0 and master rows use ``pytorch_diff.master/`` (the only
  other pages at hand); r1.10 pages are not available, so r1.10 rows keep the page name
  only.

Writes ``msfix/knowledge/data/torch_map.json``: a header, then one line per torch API
(sorted), mapping each docs branch to its entry. A rerun on the same sources is byte for
byte the same; ``--check`` rebuilds in memory and compares.

Which branch applies to a target version, and whether the counterpart exists there, is
decided at lint time by :mod:`msfix.knowledge.torch_map` (with the API index).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "msfix" / "knowledge" / "data" / "torch_map.json"
DEFAULT_SOURCE = ROOT.parent / "shared" / "knowledge-sources" / "pytorch_api_mapping"
BRANCHES = ("r1.10", "r2.2", "r2.6.0", "master")
DIFF_DIRS = {"r1.10": None, "r2.2": "pytorch_diff.r2.2", "r2.6.0": "pytorch_diff.master",
             "master": "pytorch_diff.master"}

_LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")
_TORCH = re.compile(r"^(torch[a-z]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
_MS = re.compile(r"(mindspore(?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PAGE = re.compile(r"pytorch_diff/([^/#)]+?)\.html")


def _cells(line: str) -> list[str]:
    s = line.strip()
    if not s.startswith("|"):
        return []
    return [c.strip() for c in s.strip("|").split("|")]


def _plain(cell: str) -> str:
    return re.sub(r"\s+", " ", _LINK.sub(lambda mo: mo.group(1), cell)).strip().strip("`").strip()


def _kind(cell: str) -> tuple[str, str | None, str | None]:
    """(kind, difference page name, note) of a table's third cell."""
    page = None
    mo = _PAGE.search(cell)
    if mo:
        page = mo.group(1)
    text = _plain(cell)
    low = text.lower().rstrip(".")
    if low == "consistent":
        return "consistent", None, None
    if "parameter names are inconsistent" in low:
        return "names", page, None
    if "parameter data types are inconsistent" in low:
        return "types", page, None
    if "number or sequence of parameters is inconsistent" in low:
        return "order", page, None
    if page is not None:
        return "diff", page, None
    if not text:
        return "unstated", None, None
    return "note", None, text[:240]


def parse_table(text: str) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for line in text.splitlines():
        cells = _cells(line)
        if len(cells) < 3:
            continue
        mo = _TORCH.match(_plain(cells[0]))
        if not mo:
            continue
        torch = mo.group(1)
        if torch in out:  # a row repeated in a later section: the first one stands
            continue
        ms_text = _LINK.sub(lambda m: m.group(1), cells[1])
        ms = _MS.search(ms_text)
        kind, page, note = _kind(cells[2])
        entry: dict = {"ms": ms.group(1) if ms else None, "kind": kind if ms else "none"}
        if page:
            entry["page"] = page
        if note and ms:
            entry["note"] = note
        out[torch] = entry
    return out


def parse_diff_page(text: str) -> dict:
    """renames / dropped / defaults from a difference page's parameter table."""
    renames: dict[str, str] = {}
    dropped: list[str] = []
    defaults: list[str] = []
    rows = []
    for line in text.splitlines():
        cells = _cells(line)
        if len(cells) < 5 or not re.match(r"^Parameters?\s*\d+$", cells[1]):
            continue
        tp, mp, why = cells[2].strip("` "), cells[3].strip("` "), cells[4].lower()
        if _IDENT.match(tp):
            rows.append((tp, mp, why))
    torch_params = {tp for tp, _, _ in rows}
    for tp, mp, why in rows:
        if mp in ("-", ""):
            dropped.append(tp)
        elif _IDENT.match(mp) and mp != tp and "order" not in why and mp not in torch_params:
            # a row pairing parameters by position ("the relative order of keepdim and dtype is
            # different") or a MindSpore name that is another torch parameter is no rename
            renames[tp] = mp
        if "default" in why:
            defaults.append(tp)
    out: dict = {}
    if renames:
        out["renames"] = dict(sorted(renames.items()))
    if dropped:
        out["dropped"] = sorted(set(dropped))
    if defaults:
        out["defaults"] = sorted(set(defaults))
    return out


def commits(source: Path) -> dict[str, str]:
    out = {}
    for line in (source / "COMMITS.txt").read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 2:
            out[parts[0]] = parts[1]
    return out


def build(source: Path) -> str:
    apis: dict[str, dict] = {}
    pages_used = 0
    for br in BRANCHES:
        table = parse_table((source / f"pytorch_api_mapping.{br}.md").read_text(encoding="utf-8"))
        d = DIFF_DIRS[br]
        for torch, entry in table.items():
            page = entry.get("page")
            if page and d is not None:
                f = source / d / f"{page}.md"
                if f.is_file():
                    entry.update(parse_diff_page(f.read_text(encoding="utf-8")))
                    pages_used += 1
            apis.setdefault(torch, {})[br] = entry
    head = {
        "format": 1,
        "description": "PyTorch APIs with their MindSpore counterpart per docs branch, from MindSpore's "
                       "PyTorch-MindSpore API mapping tables (mindspore-ai/docs, note/api_mapping). Built by "
                       "tools/build_torch_map.py; read by msfix.knowledge.torch_map.",
        "branches": list(BRANCHES),
        "commits": commits(source),
        "kinds": {
            "consistent": "the table says Consistent",
            "names": "consistent function, parameter names differ",
            "types": "consistent function, parameter data types differ",
            "order": "consistent function, number or order of parameters differs",
            "diff": "a difference page (renames/dropped/defaults from its parameter table where stated)",
            "note": "the difference is stated in words (note)",
            "unstated": "the table leaves the difference empty",
            "none": "no MindSpore counterpart named",
        },
    }
    lines = [json.dumps(head, sort_keys=True, ensure_ascii=False)]
    for torch in sorted(apis):
        lines.append(json.dumps({torch: apis[torch]}, sort_keys=True, ensure_ascii=False, separators=(",", ":")))
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--check", action="store_true", help="rebuild in memory and compare with the shipped file")
    args = ap.parse_args(argv)
    text = build(args.source)
    if args.check:
        have = args.out.read_text(encoding="utf-8") if args.out.is_file() else ""
        if have != text:
            print(f"{args.out} is out of date: run tools/build_torch_map.py", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date ({len(text.splitlines()) - 1} torch APIs)")
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({len(text.splitlines()) - 1} torch APIs, {len(text)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Precision of msfix on real training code: reports/realcode-precision.md.

The corpus is `../shared/realcode` beside the checkout (464 real training scripts and
notebooks; override with `--corpus` or MSFIX_REALCODE). Every error-severity diagnostic
msfix reports there (target 2.10) is looked up in the committed verdict file
`reports/realcode-verdicts.csv` (code, location, verdict, message, why_lost), seeded
from the corpus's own `verdicts.csv`:

- a reported error whose verdict starts with `false` is a false error;
- a reported error with no verdict is *unjudged*: read the code (and reproduce it on the
  2.10 wheel where it can be), then add a row with `true: why` or `false: why`;
- a `true` verdict no longer reported is a lost true error; its `why_lost` column says
  why (a rule made precise at the cost of that case).

Warnings are counted per rule, per 1000 lines of code.

    python tools/realcode_report.py            # write the report
    python tools/realcode_report.py --check    # also exit 1 unless the targets hold:
                                               # no false error, no unjudged error,
                                               # >= 97% of true errors kept, <= 2% false

Without the corpus it prints why and exits 0 (nothing to measure).
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, List, Optional, Tuple

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

VERDICTS = REPO / "reports" / "realcode-verdicts.csv"
REPORT = REPO / "reports" / "realcode-precision.md"
TARGET = "2.10"
FIELDS = ["code", "location", "verdict", "message", "why_lost"]
MIN_RECALL = 0.97
MAX_FALSE_SHARE = 0.02


def corpus_root(explicit: Optional[str] = None) -> Optional[Path]:
    """--corpus, else MSFIX_REALCODE, else ../shared/realcode; a folder named
    explicitly that does not exist means no corpus (never a fallback)."""
    for cand in (explicit, os.environ.get("MSFIX_REALCODE")):
        if cand:
            return Path(cand) if Path(cand).is_dir() else None
    default = REPO.parent / "shared" / "realcode"
    return default if default.is_dir() else None


def location(rel: str, d) -> str:
    cell = getattr(d, "cell", None)
    return f"{rel}:cell{cell}:{d.span.line}" if cell is not None else f"{rel}:{d.span.line}"


def run_msfix(root: Path, target: str = TARGET, jobs: Optional[int] = None):
    """(errors, warnings per code, lines of code, files, unreadable files) over the corpus."""
    from msfix.config import Settings
    from msfix.discover import discover
    from msfix.runner import run_files

    settings = Settings(target_version=target)
    found = discover([str(root)], settings)
    files = sorted(found.files)
    results = run_files(files, settings, jobs=jobs)
    errors: List[Tuple[str, str, str]] = []  # (code, location, message)
    warnings: Counter = Counter()
    unreadable: List[str] = []
    for r in results:
        rel = str(Path(r.path).resolve().relative_to(root.resolve()))
        if r.error:
            unreadable.append(f"{rel}: {r.error}")
        for d in r.diagnostics:
            if d.severity.value == "error":
                errors.append((d.code, location(rel, d), d.message))
            else:
                warnings[d.code] += 1
    loc = 0
    for f in files:
        try:
            loc += sum(1 for line in Path(f).read_text(encoding="utf-8", errors="replace").splitlines()
                       if line.strip()) if str(f).endswith(".py") else _notebook_loc(Path(f))
        except OSError:
            pass
    return errors, warnings, loc, len(files), unreadable


def _notebook_loc(path: Path) -> int:
    import json

    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except Exception:
        return 0
    n = 0
    for c in nb.get("cells", []):
        if c.get("cell_type") == "code":
            src = c.get("source", "")
            src = "".join(src) if isinstance(src, list) else src
            n += sum(1 for line in src.splitlines() if line.strip())
    return n


def read_verdicts(path: Path = VERDICTS) -> Dict[Tuple[str, str], dict]:
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        return {(r["code"], r["location"]): r for r in csv.DictReader(fh)}


def write_verdicts(rows: Dict[Tuple[str, str], dict], path: Path = VERDICTS) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    w.writeheader()
    for key in sorted(rows):
        r = rows[key]
        w.writerow({k: r.get(k, "") or "" for k in FIELDS})
    path.write_text(buf.getvalue(), encoding="utf-8")


def seed_verdicts(corpus: Path) -> Dict[Tuple[str, str], dict]:
    """The committed verdicts, then rows not yet merged from reports/verdicts-pending/*.csv
    (a pending row with a why_lost reason adds it to a known verdict), then the corpus's
    own verdicts.csv for anything else."""
    rows = read_verdicts(VERDICTS)
    for pending in sorted((VERDICTS.parent / "verdicts-pending").glob("*.csv")):
        for key, r in read_verdicts(pending).items():
            if key in rows:
                if r.get("why_lost") and not rows[key].get("why_lost"):
                    rows[key]["why_lost"] = r["why_lost"]
            else:
                rows[key] = dict(r)
    src = corpus / "verdicts.csv"
    if src.exists():
        with src.open(encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                rows.setdefault((r["code"], r["location"]), dict(r))
    return rows


def is_true(verdict: str) -> bool:
    return verdict.strip().lower().startswith("true")


def is_false(verdict: str) -> bool:
    return verdict.strip().lower().startswith("false")


def measure(errors, verdicts):
    reported = {(c, loc): msg for c, loc, msg in errors}
    true_rep, false_rep, unjudged = [], [], []
    for key, msg in sorted(reported.items()):
        v = verdicts.get(key)
        if v is None or not (is_true(v["verdict"]) or is_false(v["verdict"])):
            unjudged.append((key, msg))
        elif is_false(v["verdict"]):
            false_rep.append((key, msg, v["verdict"]))
        else:
            true_rep.append((key, msg, v["verdict"]))
    true_known = [k for k, v in verdicts.items() if is_true(v["verdict"])]
    lost = [(k, verdicts[k]) for k in sorted(true_known) if k not in reported]
    kept = len(true_known) - len(lost)
    recall = kept / len(true_known) if true_known else 1.0
    total = len(reported)
    false_share = len(false_rep) / total if total else 0.0
    return {"reported": reported, "true": true_rep, "false": false_rep, "unjudged": unjudged,
            "lost": lost, "true_known": len(true_known), "kept": kept, "recall": recall,
            "false_share": false_share}


def render(m, warnings, loc, n_files, unreadable, corpus_name: str) -> str:
    out = ["# msfix on real training code: precision report", "",
           f"Generated by `python tools/realcode_report.py` over `{corpus_name}` ({n_files} files, "
           f"{loc} lines of code), target MindSpore {TARGET}. Verdicts: `reports/realcode-verdicts.csv`.", "",
           "| measure | value | target |", "|---|---|---|",
           f"| errors reported | {len(m['reported'])} | |",
           f"| of them true | {len(m['true'])} | |",
           f"| of them false | {len(m['false'])} ({m['false_share']:.1%}) | at most {MAX_FALSE_SHARE:.0%} |",
           f"| of them without a verdict | {len(m['unjudged'])} | 0 |",
           f"| true errors known | {m['true_known']} | |",
           f"| true errors still reported | {m['kept']} ({m['recall']:.1%}) | at least {MIN_RECALL:.0%} |",
           f"| files msfix could not read or parse | {len(unreadable)} | (real files that are not valid Python) |",
           ""]
    by_rule = defaultdict(lambda: [0, 0])
    for (code, _), _msg, _v in m["true"]:
        by_rule[code][0] += 1
    for (code, _), _msg, _v in m["false"]:
        by_rule[code][1] += 1
    out += ["## Errors per rule", "", "| rule | true | false |", "|---|---|---|"]
    for code in sorted(by_rule):
        t, f = by_rule[code]
        out.append(f"| {code} | {t} | {f} |")
    out.append("")
    if m["false"]:
        out += ["## False errors still reported", ""]
        for (code, loc_), msg, v in m["false"]:
            out.append(f"- {code} `{loc_}`: {msg}  \n  verdict: {v}")
        out.append("")
    if m["unjudged"]:
        out += ["## Errors without a verdict", ""]
        for (code, loc_), msg in m["unjudged"]:
            out.append(f"- {code} `{loc_}`: {msg}")
        out.append("")
    if m["lost"]:
        out += ["## True errors no longer reported", ""]
        for (code, loc_), v in m["lost"]:
            why = v.get("why_lost") or "(no reason recorded)"
            out.append(f"- {code} `{loc_}`: {why}")
        out.append("")
    out += ["## Warnings per rule", "", "| rule | warnings | per 1000 lines |", "|---|---|---|"]
    for code in sorted(warnings):
        out.append(f"| {code} | {warnings[code]} | {1000 * warnings[code] / max(loc, 1):.2f} |")
    if not warnings:
        out.append("| (none) | 0 | 0 |")
    out.append("")
    if unreadable:
        out += ["## Files reported as unreadable or not valid Python", ""]
        out += [f"- {u}" for u in sorted(unreadable)]
        out.append("")
    return "\n".join(out)


def failures(m) -> List[str]:
    bad = []
    if m["false"]:
        bad.append(f"{len(m['false'])} false error(s) reported")
    if m["unjudged"]:
        bad.append(f"{len(m['unjudged'])} error(s) without a verdict in {VERDICTS.name}")
    if m["recall"] < MIN_RECALL:
        bad.append(f"only {m['recall']:.1%} of the true errors reported (at least {MIN_RECALL:.0%})")
    if m["false_share"] > MAX_FALSE_SHARE:
        bad.append(f"{m['false_share']:.1%} of the errors are false (at most {MAX_FALSE_SHARE:.0%})")
    missing_why = [k for k, v in m["lost"] if not v.get("why_lost")]
    if missing_why:
        bad.append(f"{len(missing_why)} lost true error(s) without a why_lost reason")
    return bad


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", help="the realcode folder (default ../shared/realcode)")
    ap.add_argument("--check", action="store_true", help="exit 1 unless the precision targets hold")
    ap.add_argument("--no-write", action="store_true", help="print the report instead of writing it")
    ap.add_argument("--jobs", type=int, default=None)
    args = ap.parse_args(argv)
    root = corpus_root(args.corpus)
    if root is None:
        print("realcode corpus not found (../shared/realcode, or --corpus / MSFIX_REALCODE): nothing measured")
        return 0
    errors, warnings, loc, n_files, unreadable = run_msfix(root, jobs=args.jobs)
    verdicts = seed_verdicts(root)
    m = measure(errors, verdicts)
    # keep the messages of the verdict file current for what is reported
    for key, msg in m["reported"].items():
        if key in verdicts:
            verdicts[key]["message"] = msg
    text = render(m, warnings, loc, n_files, unreadable, "../shared/realcode")
    if args.no_write:
        print(text)
    else:
        write_verdicts(verdicts)
        REPORT.write_text(text, encoding="utf-8")
        print(f"wrote {REPORT.relative_to(REPO)}: {len(m['reported'])} errors, {len(m['false'])} false, "
              f"{len(m['unjudged'])} unjudged, {m['kept']}/{m['true_known']} true kept")
    bad = failures(m)
    for b in bad:
        print(f"realcode: {b}", file=sys.stderr)
    return 1 if (args.check and bad) else 0


if __name__ == "__main__":
    sys.exit(main())

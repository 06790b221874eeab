#!/usr/bin/env python3
"""`msfix fix --write --unsafe-fixes` over a copy of the real training code, then check
that the fixes are safe:

- every changed file still parses (notebooks: every code cell that parsed before);
- a second `fix --write --unsafe-fixes` changes nothing;
- no name is left undefined that was defined before, by msfix's own name resolution
  and by ruff's F821 (undefined name), counted per file and name.

    python tools/realcode_fix_check.py                # the whole corpus
    python tools/realcode_fix_check.py --every 8      # every 8th file (sorted): a spread subset

Exits 1 and lists the files when a check fails. The corpus is ../shared/realcode (or
--corpus / MSFIX_REALCODE); without it, says so and exits 0.
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tools"))

from realcode_report import corpus_root  # noqa: E402


def code_of(path: Path) -> List[str]:
    """The Python texts of a file: the file, or a notebook's code cells (IPython lines
    masked as msfix masks them)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix != ".ipynb":
        return [text]
    from msfix.notebook import Notebook

    try:
        nb = Notebook.parse(text)
    except Exception:
        return []
    return [c.lint for c in nb.cells]


def parses(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes in real files: not our concern
            ast.parse(text)
        return True
    except (SyntaxError, ValueError):
        return False


def msfix_unresolved(texts: List[str]) -> Counter:
    """Unresolved reads by msfix's resolver over the parsable code (cells joined in order)."""
    import libcst as cst

    from msfix.analysis.builder import build_model

    joined = "\n".join(t for t in texts if parses(t))
    try:
        module = cst.parse_module(joined)
    except Exception:
        return Counter()
    m = build_model(module, joined)
    return Counter(r.name for r in m.unresolved_reads())


def ruff_f821(root: Path) -> Dict[str, Counter]:
    """file (relative) -> Counter of undefined names, by ruff's F821."""
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    proc = subprocess.run([ruff, "check", "--no-cache", "--isolated", "--select", "F821",
                           "--output-format", "json", "--exit-zero", "."],
                          cwd=root, capture_output=True, text=True)
    if proc.returncode != 0 and not proc.stdout.strip():
        raise SystemExit(f"ruff failed: {proc.stderr[-2000:]}")
    out: Dict[str, Counter] = {}
    for d in json.loads(proc.stdout or "[]"):
        if d.get("code") != "F821":
            continue
        rel = str(Path(d["filename"]).resolve().relative_to(root.resolve()))
        name = d["message"].split("`")[1] if "`" in d["message"] else d["message"]
        out.setdefault(rel, Counter())[name] += 1
    return out


def digest(root: Path) -> Dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def run_fix(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "msfix", "fix", "--write", "--unsafe-fixes", "--exit-zero",
                           "--target-version", "2.10", "."], cwd=root, capture_output=True, text=True)


def check(corpus: Path, every: int = 1, workdir: Optional[Path] = None) -> dict:
    files = sorted(p for p in corpus.rglob("*") if p.suffix in (".py", ".ipynb") and p.is_file())[::max(every, 1)]
    tmp = Path(tempfile.mkdtemp(prefix="msfix-realcode-fix-", dir=workdir))
    try:
        root = tmp / "realcode"
        for f in files:
            dest = root / f.relative_to(corpus)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dest)
        rels = [str(f.relative_to(corpus)) for f in files]
        before_ruff = ruff_f821(root)
        t0 = time.perf_counter()
        first = run_fix(root)
        fix_seconds = time.perf_counter() - t0
        after_first = digest(root)
        second = run_fix(root)
        after_second = digest(root)
        changed = [r for r in rels if (root / r).read_bytes() != (corpus / r).read_bytes()]
        problems: List[str] = []
        before_code = {r: code_of(corpus / r) for r in changed}
        for r in changed:
            old, new = before_code[r], code_of(root / r)
            if r.endswith(".ipynb"):
                if len(old) != len(new):
                    problems.append(f"{r}: notebook lost or gained code cells")
                    continue
                bad = [i for i, (a, b) in enumerate(zip(old, new), 1) if parses(a) and not parses(b)]
                if bad:
                    problems.append(f"{r}: code cell(s) {bad} no longer parse")
            elif not new or not parses(new[0]):
                problems.append(f"{r}: no longer parses")
        not_idempotent = sorted(k for k in after_first if after_first[k] != after_second.get(k))
        for r in not_idempotent:
            problems.append(f"{r}: a second fix run changed it again")
        after_ruff = ruff_f821(root)
        new_undefined = []
        for r in changed:
            ms_new = msfix_unresolved(code_of(root / r)) - msfix_unresolved(before_code[r])
            ruff_new = after_ruff.get(r, Counter()) - before_ruff.get(r, Counter())
            if ms_new:
                new_undefined.append(f"{r}: msfix finds new unresolved names {sorted(ms_new)}")
            if ruff_new:
                new_undefined.append(f"{r}: ruff F821 finds new undefined names {sorted(ruff_new)}")
        problems.extend(new_undefined)
        return {"files": len(files), "changed": len(changed), "problems": problems,
                "fix_seconds": round(fix_seconds, 1), "first_rc": first.returncode,
                "first_stderr": first.stderr[-3000:], "second_rc": second.returncode}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus")
    ap.add_argument("--every", type=int, default=1, help="check every Nth file only")
    args = ap.parse_args(argv)
    root = corpus_root(args.corpus)
    if root is None:
        print("realcode corpus not found (../shared/realcode, or --corpus / MSFIX_REALCODE): nothing checked")
        return 0
    res = check(root, args.every)
    print(f"{res['files']} files, {res['changed']} changed by fix --write --unsafe-fixes in {res['fix_seconds']} s; "
          f"{len(res['problems'])} problem(s)")
    for p in res["problems"]:
        print(f"  {p}")
    return 1 if res["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())

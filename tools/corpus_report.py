#!/usr/bin/env python3
"""Run msfix over the real MindSpore corpus and write reports/corpus-errors.md.

Every error-severity diagnostic of every rule is listed, grouped by rule, with
file:line and message, plus per-rule counts of warnings and the warning rate per 1000
lines. Errors of the API rules (MS101, MS103, MS105, MS106, MS107) are verified
automatically on a real MindSpore wheel in a subprocess (`--python`, default
/work/venv/bin/python with mindspore 2.10): the name is imported / looked up with
getattr, or the call's argument shape is bound with `inspect.signature(...).bind(...)`.
Errors of the other rules get a "why real:" line, read from reports/corpus-reasons.json
(keyed by `file:line:code`, hand-written; regenerating keeps them and adds empty
entries for new errors).

    python tools/corpus_report.py                 # target 2.10, verify on /work/venv/bin/python
    python tools/corpus_report.py --python python3.11 --target-version 2.10
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tools"))

from corpus import corpus_files, ensure_corpus  # noqa: E402

API_RULES = ("MS101", "MS103", "MS105", "MS106", "MS107")
DEFAULT_PYTHON = "/work/venv/bin/python"

# Runs in the MindSpore interpreter: one JSON task per line on stdin, one JSON result
# per line after the marker on stdout.
VERIFIER = r'''
import importlib, inspect, json, sys, traceback
import mindspore

def resolve(q):
    parts = q.split(".")
    obj = importlib.import_module(parts[0])
    for i in range(1, len(parts)):
        name = parts[i]
        try:
            obj = getattr(obj, name)
            continue
        except AttributeError as exc:
            err = exc
        try:
            obj = importlib.import_module(".".join(parts[: i + 1]))
        except ModuleNotFoundError as exc2:
            if inspect.ismodule(obj):
                raise AttributeError(f"{err} (nor is it a submodule: ModuleNotFoundError: {exc2})")
            raise err
    return obj

def run(task):
    kind = task["kind"]
    if kind == "name":
        try:
            obj = resolve(task["qualname"])
        except (ImportError, AttributeError) as exc:
            return {"ok": True, "text": f"{type(exc).__name__}: {exc}"}
        return {"ok": False, "text": f"`{task['qualname']}` resolves to {type(obj).__name__} {getattr(obj, '__name__', '')}"}
    if kind == "bind":
        try:
            obj = resolve(task["qualname"])
        except Exception as exc:
            return {"ok": False, "text": f"cannot resolve `{task['qualname']}`: {type(exc).__name__}: {exc}"}
        try:
            sig = inspect.signature(obj)
        except (TypeError, ValueError) as exc:
            return {"ok": False, "text": f"no signature for `{task['qualname']}`: {exc}"}
        how = "inspect.signature"
        if inspect.isclass(obj) and [p.kind for p in sig.parameters.values()] == [
                inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD]:
            # a decorator without functools.wraps around __init__ (nn optimizers): the
            # wrapper passes everything on to the __init__ held in its closure
            for cell in getattr(obj.__init__, "__closure__", None) or ():
                f = cell.cell_contents
                if inspect.isfunction(f) and f.__name__ == "__init__":
                    inner = inspect.signature(f)
                    sig = inner.replace(parameters=list(inner.parameters.values())[1:])
                    how = "inspect.signature of the wrapped __init__"
                    break
        args = [None] * task["npos"]
        kwargs = {k: None for k in task["keywords"]}
        try:
            if task.get("only"):
                sig.bind_partial(**{task["only"]: None})
            else:
                sig.bind(*args, **kwargs)
        except TypeError as exc:
            return {"ok": True, "text": f"TypeError: {exc} ({how}{sig})"[:400]}
        bad = [k for k in task.get("kwargs_checked", []) if k in kwargs and k == task.get("only", k)]
        if bad:
            return {"ok": True, "text": f"`{task['qualname']}` checks its **kwargs at run time; {bad} is not accepted (see the torch table)"}
        return {"ok": False, "text": f"binds fine: inspect.signature{sig}"[:400]}
    if kind == "call":
        # keywords a **kwargs callable rejects at run time (set_context, ...): call it for real
        obj = resolve(task["qualname"])
        try:
            obj(**task["kwargs"])
        except (TypeError, ValueError, KeyError) as exc:
            return {"ok": True, "text": f"{type(exc).__name__}: {exc}"[:400]}
        return {"ok": False, "text": f"`{task['qualname']}(**{task['kwargs']!r})` ran without error"}
    return {"ok": False, "text": "unknown task"}

out = []
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    task = json.loads(line)
    try:
        out.append(run(task))
    except Exception as exc:
        out.append({"ok": False, "text": f"verifier crashed: {type(exc).__name__}: {exc}"})
print("@@RESULTS@@")
for r in out:
    print(json.dumps(r))
'''


# --------------------------------------------------------------------------- linting
def _lint_one(args):
    path, root, version = args
    from msfix.engine import lint_file
    from msfix.rule import all_rules

    res = lint_file(Path(path), list(all_rules()), target_version=version)
    rel = str(Path(path).relative_to(root))
    diags = [{"file": rel, "line": d.span.line, "column": d.span.column, "code": d.code,
              "severity": d.severity.value, "message": d.message} for d in res.diagnostics]
    tasks = _tasks_for(Path(path), rel, res.diagnostics, version) if any(
        d.code in API_RULES and d.severity.value == "error" for d in res.diagnostics) else {}
    return rel, diags, tasks, res.error


def _tasks_for(path: Path, rel: str, diagnostics, version):
    """Verification tasks for the API-rule errors of one file: key -> task."""
    import re

    from msfix.analysis.builder import build_model
    from msfix.engine import parse
    from msfix.knowledge.api_queries import callee, load_index, var_keyword_accepts, canonical_user_name
    from msfix.locate import Locator
    from msfix.rule import RuleContext

    text = path.read_text(encoding="utf-8", errors="replace")
    module = parse(text, str(path))
    m = build_model(module, text)
    ctx = RuleContext(m, Locator(module, text))
    idx = load_index()
    calls_at = {}
    kw_at = {}
    for site in m.calls:
        try:
            sp = ctx.span(site.node, site.top)
        except Exception:
            continue
        calls_at[(sp.line, sp.column)] = site
        for a in site.node.args:
            if a.keyword is not None:
                ks = ctx.span(a.keyword, site.top)
                kw_at[(ks.line, ks.column)] = site
    tasks = {}
    for d in diagnostics:
        if d.code not in API_RULES or d.severity.value != "error":
            continue
        key = f"{rel}:{d.span.line}:{d.span.column}:{d.code}"
        if d.code == "MS101":
            mm = re.match(r"`([^`]+)` has no attribute `([^`]+)`", d.message)
            if mm:
                tasks[key] = {"kind": "name", "qualname": f"{mm.group(1)}.{mm.group(2)}"}
        elif d.code == "MS103":
            mm = re.match(r"`([^`]+)` does not exist", d.message)
            if mm:
                tasks[key] = {"kind": "name", "qualname": mm.group(1)}
        else:
            pos = (d.span.line, d.span.column)
            site = kw_at.get(pos) if d.code == "MS105" else calls_at.get(pos)
            if site is None:
                continue
            q = callee(m, site, idx, version)
            if q is None:
                continue
            args = site.node.args
            sig = idx.signature(q, version)
            if d.code == "MS105" and sig is not None and any(p.kind == "VAR_KEYWORD" for p in sig.params) \
                    and (var_keyword_accepts(canonical_user_name(idx, q, version)) or var_keyword_accepts(q)) is None:
                import ast

                kw = next(a for a in args if a.keyword is not None
                          and (ctx.span(a.keyword, site.top).line, ctx.span(a.keyword, site.top).column) == pos)
                try:
                    value = ast.literal_eval(m.module.code_for_node(kw.value))
                except Exception:
                    value = None
                tasks[key] = {"kind": "call", "qualname": q, "kwargs": {kw.keyword.value: value}}
                continue
            task = {"kind": "bind", "qualname": q,
                    "npos": sum(1 for a in args if a.keyword is None),
                    "keywords": [a.keyword.value for a in args if a.keyword is not None]}
            if d.code == "MS105":
                flagged = [a.keyword.value for a in args if a.keyword is not None
                           and (ctx.span(a.keyword, site.top).line, ctx.span(a.keyword, site.top).column) == pos]
                if flagged:
                    task["only"] = flagged[0]
            acc = var_keyword_accepts(canonical_user_name(idx, q, version)) or var_keyword_accepts(q)
            if acc is not None:
                sig = idx.signature(q, version)
                named = {p.name for p in sig.params} if sig else set()
                task["kwargs_checked"] = [k for k in task["keywords"] if k not in named and k not in acc]
            tasks[key] = task
    return tasks


def verify(python: str, tasks: dict) -> dict:
    if not tasks:
        return {}
    keys = sorted(tasks)
    stdin = "".join(json.dumps(tasks[k]) + "\n" for k in keys)
    proc = subprocess.run([python, "-c", VERIFIER], input=stdin, capture_output=True, text=True, timeout=1800)
    out = proc.stdout.split("@@RESULTS@@", 1)
    if len(out) != 2:
        raise SystemExit(f"the verifier failed ({python}):\n{proc.stderr[-3000:]}")
    results = [json.loads(line) for line in out[1].strip().splitlines()]
    return dict(zip(keys, results))


def wheel_version(python: str) -> str:
    code = "from importlib import metadata as m\nfor d in ('mindspore','mindspore-gpu','mindspore-ascend','mindspore-dev'):\n" \
           "    try:\n        print(m.version(d)); break\n    except Exception: pass\n"
    try:
        return subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60).stdout.strip() or "?"
    except OSError:
        return "?"


# --------------------------------------------------------------------------- report
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target-version", default="2.10")
    ap.add_argument("--python", default=DEFAULT_PYTHON, help="interpreter with the real MindSpore wheel")
    ap.add_argument("--out", default=str(REPO / "reports" / "corpus-errors.md"))
    ap.add_argument("--reasons", default=str(REPO / "reports" / "corpus-reasons.json"))
    ap.add_argument("--jobs", type=int, default=0)
    ap.add_argument("--no-verify", action="store_true")
    args = ap.parse_args()

    from msfix.knowledge.api import load_index
    from msfix.rule import all_rules

    version = load_index().resolve_version(args.target_version)
    root = ensure_corpus()
    files = corpus_files(root)
    total_lines = sum(f.read_bytes().count(b"\n") for f in files)
    t0 = time.time()
    jobs = args.jobs or None
    results = []
    with ProcessPoolExecutor(max_workers=jobs) as ex:
        for r in ex.map(_lint_one, [(str(f), str(root), version) for f in files], chunksize=8):
            results.append(r)
    lint_s = time.time() - t0

    errors = defaultdict(list)
    warnings = Counter()
    tasks = {}
    failed = []
    for rel, diags, t, err in results:
        if err:
            failed.append((rel, err))
        tasks.update(t)
        for d in diags:
            if d["severity"] == "error":
                errors[d["code"]].append(d)
            else:
                warnings[d["code"]] += 1

    verdicts = {} if args.no_verify else verify(args.python, tasks)
    wheel = "not run" if args.no_verify else wheel_version(args.python)

    reasons_path = Path(args.reasons)
    reasons = json.loads(reasons_path.read_text(encoding="utf-8")) if reasons_path.exists() else {}

    rules = {r.code: r for r in all_rules()}
    lines = []
    w = lines.append
    w("# msfix over the real MindSpore corpus: error diagnostics\n")
    w(f"Generated by `python tools/corpus_report.py --target-version {args.target_version}` "
      f"(target version {version}; API errors verified on the MindSpore {wheel} wheel with `{args.python}`).")
    w(f"Corpus: {len(files)} files, {total_lines} lines from "
      + ", ".join(sorted({f.relative_to(root).parts[0] for f in files}))
      + " (tools/corpus.py).\n")
    w("Errors of the API rules (" + ", ".join(API_RULES) + ") are checked automatically: the name is imported "
      "or looked up with getattr, or the call's argument shape (number of positional arguments, keyword "
      "names) is bound with `inspect.signature(...).bind(...)` on the real wheel. `verified:` gives the error "
      "the wheel raised; `NOT REPRODUCED:` marks a false error to fix in the rule. Other rules' errors carry "
      "a `why real:` line from `reports/corpus-reasons.json` (keyed by `file:line:code`; hand-written, kept "
      "when the report is regenerated).\n")
    w("## Summary\n")
    w("| rule | name | errors | verified on the wheel | warnings | warnings per 1000 lines |")
    w("|---|---|---:|---:|---:|---:|")
    not_reproduced = 0
    for code in sorted(rules):
        errs = errors.get(code, [])
        nver = "-"
        if code in API_RULES:
            ok = 0
            for d in errs:
                v = verdicts.get(f"{d['file']}:{d['line']}:{d['column']}:{code}")
                if v and v["ok"]:
                    ok += 1
            nver = f"{ok}/{len(errs)}" if not args.no_verify else "not run"
        nw = warnings.get(code, 0)
        if not errs and not nw:
            continue
        w(f"| {code} | {rules[code].name} | {len(errs)} | {nver} | {nw} | {1000 * nw / max(total_lines, 1):.2f} |")
    w("")
    w("Rules not listed reported nothing on the corpus.\n")
    if failed:
        w("Files msfix could not read or parse: " + ", ".join(f"`{f}` ({e})" for f, e in failed) + "\n")

    new_reasons = dict(reasons)
    for code in sorted(errors):
        errs = sorted(errors[code], key=lambda d: (d["file"], d["line"], d["column"]))
        w(f"## {code} {rules[code].name if code in rules else ''} ({len(errs)} error{'s' if len(errs) != 1 else ''})\n")
        for d in errs:
            w(f"- `{d['file']}:{d['line']}`: {d['message']}")
            if code in API_RULES:
                v = verdicts.get(f"{d['file']}:{d['line']}:{d['column']}:{code}")
                if args.no_verify:
                    w("  - verification not run")
                elif v is None:
                    not_reproduced += 1
                    w("  - NOT VERIFIED: the report could not rebuild the call or name for this diagnostic")
                elif v["ok"]:
                    w(f"  - verified: {v['text']}")
                else:
                    not_reproduced += 1
                    w(f"  - NOT REPRODUCED: {v['text']}")
            else:
                key = f"{d['file']}:{d['line']}:{code}"
                reason = reasons.get(key, "")
                new_reasons.setdefault(key, "")
                w(f"  - why real: {reason or '(to fill in: reports/corpus-reasons.json)'}")
        w("")
    if not args.no_verify:
        w(f"API-rule errors not reproduced on the wheel: {not_reproduced}.\n")

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines), encoding="utf-8")
    reasons_path.parent.mkdir(parents=True, exist_ok=True)
    reasons_path.write_text(json.dumps(dict(sorted(new_reasons.items())), indent=2, ensure_ascii=False) + "\n",
                            encoding="utf-8")
    total_err = sum(len(v) for v in errors.values())
    print(f"{out} (lint {lint_s:.0f} s): {total_err} errors ({not_reproduced} API errors not reproduced), "
          f"{sum(warnings.values())} warnings over {len(files)} files / {total_lines} lines")


if __name__ == "__main__":
    main()

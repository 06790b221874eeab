#!/usr/bin/env python3
"""Benchmark msfix against Fixit 2 and the LibCST parse floor on the real MindSpore corpus.

    python benchmarks/bench.py            # full table (downloads the corpus and Fixit once)
    python benchmarks/bench.py --no-fixit # skip Fixit

Not a timed test: run it on a quiet machine and quote the figures. The corpus (1,090
files, 212,187 lines from 8 PyPI packages) and a venv with Fixit live in the user cache
directory, outside the repository (tools/corpus.py).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from corpus import cache_root, corpus_files, ensure_corpus  # noqa: E402

PARSE_FLOOR = """
import sys, libcst
from pathlib import Path
for p in sys.argv[1:]:
    try:
        libcst.parse_module(Path(p).read_bytes())
    except Exception:
        pass
"""


def timed(cmd, **kw):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss / 1024, proc


def fixit_venv() -> Path:
    venv = cache_root() / "venv-fixit"
    exe = venv / "bin" / "fixit"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "fixit==2.2.1"], check=True)
    return exe


def realcode(msfix: str, rounds: int = 5, baseline: str = "") -> None:
    """msfix check --no-cache over the .py files of ../shared/realcode against the LibCST
    parse of the same files on two processes (the cost the analysis must stay near).
    The runs alternate, `rounds` times, so that a drift in the machine's speed falls on
    all of them; a ratio quoted is the median of the ratios of each round. `baseline`:
    another msfix command (an older checkout) run in the same rounds."""
    root = ROOT.parent / "shared" / "realcode"
    if not root.is_dir():
        print("realcode: ../shared/realcode not found; skipped")
        return
    files = sorted(str(p) for p in root.rglob("*.py"))
    lines = sum(Path(f).read_bytes().count(b"\n") for f in files)
    halves = [files[0::2], files[1::2]]
    commands = {"msfix check --no-cache": msfix}
    if baseline:
        commands[f"baseline ({baseline}) check --no-cache"] = baseline
    runs: dict = {k: [] for k in commands}
    floor = []
    for _ in range(rounds):
        for label, exe in commands.items():
            wall, cpu, _, proc = timed([exe, "check", "--no-cache", "--exit-zero", "-q", *files])
            runs[label].append(wall)
        t = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-c", PARSE_FLOOR, *h]) for h in halves]
        for p in procs:
            p.wait()
        floor.append(time.perf_counter() - t)
    print(f"realcode .py: {len(files)} files, {lines} lines; {rounds} rounds")
    print("| run | wall s, median (range) | vs the parse, median of the rounds (range) |")
    print("|---|---|---|")
    for label, walls in runs.items():
        ratios = sorted(a / b for a, b in zip(walls, floor))
        print(f"| {label} | {statistics.median(walls):.2f} ({min(walls):.2f}-{max(walls):.2f}) | "
              f"{statistics.median(ratios):.2f}x ({ratios[0]:.2f}x-{ratios[-1]:.2f}x) |")
    print(f"| libcst parse, 2 processes | {statistics.median(floor):.2f} ({min(floor):.2f}-{max(floor):.2f}) | 1.00x |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-fixit", action="store_true")
    ap.add_argument("--realcode", action="store_true",
                    help="only msfix vs the LibCST parse over ../shared/realcode's .py files")
    ap.add_argument("--msfix", default=shutil.which("msfix") or "msfix")
    ap.add_argument("--baseline", default="", help="with --realcode: another msfix command to time in the same rounds, e.g. a "
                         "script running `PYTHONPATH=<old checkout> python -P -m msfix` (-P: not the "
                         "checkout in the current directory)")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    if args.realcode:
        realcode(args.msfix, args.rounds, args.baseline)
        return

    src = ensure_corpus()
    files = corpus_files(src)
    lines = sum(f.read_bytes().count(b"\n") for f in files)
    print(f"corpus: {len(files)} files, {lines} lines ({src})")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}")
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, MSFIX_CACHE_DIR=cache)
        wall, cpu, rss, proc = timed([args.msfix, "check", str(src), "--statistics"], env=env)
        assert proc.returncode in (0, 1), proc.stderr.decode()[-2000:]
        rows.append(("msfix check (cold, no cache)", wall, cpu))
        cold_rss = rss
        wall, cpu, _, proc = timed([args.msfix, "check", str(src), "--statistics"], env=env)
        rows.append(("msfix check (warm cache)", wall, cpu))
    seed = ROOT / "fixtures" / "seed" / "train.py"
    one = [timed([args.msfix, "check", str(seed), "--no-cache", "-q"])[0] for _ in range(7)]
    if not args.no_fixit:
        exe = fixit_venv()
        wall, cpu, _, proc = timed([str(exe), "lint", str(src)])
        rows.append(("fixit lint (Fixit 2.2.1, default rules)", wall, cpu))
    wall, cpu, _, _ = timed([sys.executable, "-c", PARSE_FLOOR, *map(str, files)])
    rows.append(("libcst.parse_module, every file, 1 process", wall, cpu))

    base = rows[0][1]
    print()
    print(f"| {'run':<45} | {'wall s':>7} | {'cpu s':>7} | {'lines/s':>9} | {'vs msfix cold':>13} |")
    print(f"|{'-' * 47}|{'-' * 9}|{'-' * 9}|{'-' * 11}|{'-' * 15}|")
    for name, wall, cpu in rows:
        print(f"| {name:<45} | {wall:7.2f} | {cpu:7.2f} | {lines / wall:9.0f} | {wall / base:12.2f}x |")
    print()
    print(f"msfix check on one file (the seed): median {statistics.median(one):.3f} s over {len(one)} runs "
          f"(min {min(one):.3f})")
    print(f"peak RSS of the largest msfix process (cold run): {cold_rss:.0f} MB")


if __name__ == "__main__":
    main()

"""Run the engine over many files, in a process pool when there are many."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Type

from msfix.config import Settings
from msfix.engine import FileResult, fix_file, lint_file
from msfix.rule import Rule, select_rules

PARALLEL_THRESHOLD = 8


@dataclass(frozen=True)
class Job:
    path: str
    codes: Tuple[str, ...]
    fix: bool
    unsafe: bool
    target_version: Optional[str]
    max_bytes: Optional[int]


def rules_for(settings: Settings, path: Optional[Path] = None) -> List[Type[Rule]]:
    select = [*settings.select, *settings.extend_select]
    ignore = list(settings.ignore)
    if path is not None:
        ignore.extend(settings.ignores_for(path))
    return select_rules(select, ignore)


def _run(job: Job) -> FileResult:
    from msfix.rule import rule_by_code

    rules = [rule_by_code(c) for c in job.codes]
    path = Path(job.path)
    if job.fix:
        return fix_file(path, rules, job.unsafe, job.target_version, job.max_bytes)
    return lint_file(path, rules, job.target_version, job.max_bytes)


def run_files(files: Sequence[Path], settings: Settings, fix: bool = False, unsafe: bool = False,
              jobs: Optional[int] = None) -> List[FileResult]:
    work = [Job(str(f), tuple(r.code for r in rules_for(settings, f)), fix, unsafe,
                settings.target_version, settings.max_file_size) for f in files]
    workers = jobs or os.cpu_count() or 1
    if len(work) < PARALLEL_THRESHOLD or workers <= 1:
        return [_run(j) for j in work]
    with ProcessPoolExecutor(max_workers=min(workers, len(work))) as pool:
        return list(pool.map(_run, work, chunksize=max(1, len(work) // (workers * 8))))

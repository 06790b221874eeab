"""Run the engine over many files: cached results first, then the rest in a process
pool over all cores when there are enough files to pay for it."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Type

from msfix.config import Settings
from msfix.engine import FileResult
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
    from msfix.engine import fix_file, lint_file
    from msfix.rule import rule_by_code

    rules = [rule_by_code(c) for c in job.codes]
    path = Path(job.path)
    try:
        if job.fix:
            return fix_file(path, rules, job.unsafe, job.target_version, job.max_bytes)
        return lint_file(path, rules, job.target_version, job.max_bytes)
    except RecursionError:
        return FileResult(job.path, error="file is nested too deeply to analyse")
    except Exception as exc:  # never let one file take the run down
        return FileResult(job.path, error=f"internal error: {type(exc).__name__}: {exc}")


def run_files(files: Sequence[Path], settings: Settings, fix: bool = False, unsafe: bool = False,
              jobs: Optional[int] = None, use_cache: bool = False) -> List[FileResult]:
    cache = None
    if use_cache and not fix:
        from msfix.cache import ResultCache

        cache = ResultCache(settings)
    results: List[Optional[FileResult]] = [None] * len(files)
    work: List[Tuple[int, Job]] = []
    for i, f in enumerate(files):
        if cache is not None:
            hit = cache.get(f)
            if hit is not None:
                diags, error, notes = hit
                results[i] = FileResult(str(f), diagnostics=diags, error=error, notes=list(notes))
                continue
        work.append((i, Job(str(f), tuple(r.code for r in rules_for(settings, f)), fix, unsafe,
                            settings.target_version, settings.max_file_size)))
    workers = jobs or os.cpu_count() or 1
    if len(work) < PARALLEL_THRESHOLD or workers <= 1:
        done = [_run(j) for _, j in work]
    else:
        with ProcessPoolExecutor(max_workers=min(workers, len(work))) as pool:
            done = list(pool.map(_run, [j for _, j in work], chunksize=max(1, len(work) // (workers * 8))))
    for (i, _), res in zip(work, done):
        results[i] = res
        if cache is not None and not res.notes:
            cache.put(files[i], res.source.raw if res.source is not None else None,
                      res.diagnostics, res.error, res.notes)
    if cache is not None:
        cache.save()
    return results  # type: ignore[return-value]

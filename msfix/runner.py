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
PROGRESS_THRESHOLD = 50  # a progress bar when checking more files than this


def show_progress(n_files: int, stream, env=None) -> bool:
    """A progress bar on `stream` (stderr) only for more than 50 files, when it is a
    terminal, and not in CI (`CI`/`GITHUB_ACTIONS` set) or on a dumb terminal."""
    env = os.environ if env is None else env
    if n_files <= PROGRESS_THRESHOLD:
        return False
    if env.get("CI", "").lower() not in ("", "0", "false") or env.get("GITHUB_ACTIONS") or env.get("TERM") == "dumb":
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class _Progress:
    """A rich progress bar on stderr (transient: it disappears when done)."""

    def __init__(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("msfix"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            console=Console(stderr=True), transient=True)
        self.task = self.bar.add_task("checking", total=total)
        self.bar.start()

    def advance(self, n: int = 1) -> None:
        self.bar.advance(self.task, n)

    def close(self) -> None:
        self.bar.stop()


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

    path = Path(job.path)
    try:
        rules: List[Type[Rule]] = []
        for c in job.codes:  # codes of rules_for's rules: every one is known
            r = rule_by_code(c)
            if r is None:
                raise LookupError(f"unknown rule code {c}")
            rules.append(r)
        if job.path.endswith(".ipynb"):
            from msfix.notebook import fix_notebook, lint_notebook

            if job.fix:
                return fix_notebook(path, rules, job.unsafe, job.target_version, job.max_bytes)
            return lint_notebook(path, rules, job.target_version, job.max_bytes)
        if job.fix:
            return fix_file(path, rules, job.unsafe, job.target_version, job.max_bytes)
        return lint_file(path, rules, job.target_version, job.max_bytes)
    except RecursionError:
        return FileResult(job.path, error="file is nested too deeply to analyse")
    except Exception as exc:  # never let one file take the run down
        return FileResult(job.path, error=f"internal error: {type(exc).__name__}: {exc}")


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def run_files(files: Sequence[Path], settings: Settings, fix: bool = False, unsafe: Optional[bool] = False,
              jobs: Optional[int] = None, use_cache: bool = False, progress: bool = False,
              resolver=None) -> List[FileResult]:
    """Run every file. With a SettingsResolver each file gets the settings of the
    configuration nearest to it (else `settings` for all); `unsafe=None` takes
    `unsafe-fixes` from each file's settings."""
    caches: dict = {}

    def cache_for(s: Settings):
        if not use_cache or fix:
            return None
        from msfix.cache import ResultCache
        from msfix.rule import plugin_fingerprint

        plugins = plugin_fingerprint()  # a plugin installed, upgraded or removed invalidates the cache
        c = ResultCache(s, (plugins,) if plugins else ())
        return caches.setdefault(str(c.path), c)

    results: List[Optional[FileResult]] = [None] * len(files)
    work: List[Tuple[int, Job]] = []
    file_cache: dict = {}
    for i, f in enumerate(files):
        s = resolver.for_file(f) if resolver is not None else settings
        cache = cache_for(s) if id(s) not in file_cache else file_cache[id(s)]
        file_cache[id(s)] = cache
        if cache is not None and not str(f).endswith(".ipynb"):  # notebooks are not cached
            hit = cache.get(f)
            if hit is not None:
                diags, error, notes = hit
                results[i] = FileResult(str(f), diagnostics=diags, error=error, notes=list(notes))
                continue
        work.append((i, Job(str(f), tuple(r.code for r in rules_for(s, f)), fix,
                            s.unsafe_fixes if unsafe is None else unsafe,
                            s.target_version, s.max_file_size)))
        if cache is not None:
            file_cache[("file", i)] = cache
    workers = jobs or os.cpu_count() or 1
    bar = _Progress(len(files)) if progress else None
    try:
        if bar is not None:
            bar.advance(len(files) - len(work))  # cache hits
        done: List[FileResult] = [None] * len(work)  # type: ignore[list-item]  # each filled below
        if len(work) < PARALLEL_THRESHOLD or workers <= 1:
            for k, (_, j) in enumerate(work):
                done[k] = _run(j)
                if bar is not None:
                    bar.advance()
        else:
            # largest files first, in small chunks, so that no worker is left with a big
            # file at the end while the others wait (results go back to input order)
            order = sorted(range(len(work)), key=lambda k: -_size(work[k][1].path))
            with ProcessPoolExecutor(max_workers=min(workers, len(work))) as pool:
                chunk = max(1, min(4, len(work) // (workers * 8)))
                for k, res in zip(order, pool.map(_run, [work[k][1] for k in order], chunksize=chunk)):
                    done[k] = res
                    if bar is not None:
                        bar.advance()
    finally:
        if bar is not None:
            bar.close()
    for (i, _), res in zip(work, done):
        results[i] = res
        cache = file_cache.get(("file", i))
        if cache is not None and not res.notes and not str(files[i]).endswith(".ipynb"):
            cache.put(files[i], res.source.raw if res.source is not None else None,
                      res.diagnostics, res.error, res.notes, res.depends)
    for cache in caches.values():
        cache.save()
    return results  # type: ignore[return-value]

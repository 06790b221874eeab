"""Paths on the command line -> the files to check."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence, Tuple

from msfix.config import Settings

SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", ".bzr", ".venv", "venv", ".tox", ".nox", "__pycache__", "build", "dist",
    "node_modules", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".msfix_cache", "site-packages",
    ".eggs", ".ipynb_checkpoints", ".direnv", "__pypackages__",
})
SUFFIXES = (".py", ".pyi", ".ipynb")


@dataclass
class Discovered:
    files: List[Path]
    errors: List[Tuple[str, str]]  # (path as given, one-line reason)


def _skip_dir(entry: os.DirEntry, settings: Settings) -> bool:
    name = entry.name
    if name in SKIP_DIRS or name.endswith(".egg-info"):
        return True
    if os.path.exists(os.path.join(entry.path, "pyvenv.cfg")):
        return True  # a virtual environment under another name
    return settings.is_excluded(Path(entry.path))


def discover(paths: Sequence[str], settings: Settings, suffixes: Sequence[str] = SUFFIXES) -> Discovered:
    files: List[Path] = []
    errors: List[Tuple[str, str]] = []
    seen = set()

    def add(p: Path) -> None:
        key = os.path.abspath(p)
        if key not in seen:
            seen.add(key)
            files.append(p)

    for raw in paths:
        p = Path(raw)
        try:
            is_dir = p.is_dir()
            exists = p.exists() or p.is_symlink()
        except OSError as exc:
            errors.append((raw, exc.strerror or str(exc)))
            continue
        if not exists:
            errors.append((raw, "no such file or directory"))
            continue
        if not is_dir:
            add(p)  # a file named explicitly is always checked
            continue
        stack = [p]
        visited_dirs = set()
        while stack:
            d = stack.pop()
            try:
                real = os.path.realpath(d)
                if real in visited_dirs:
                    continue
                visited_dirs.add(real)
                entries = sorted(os.scandir(d), key=lambda e: e.name)
            except PermissionError:
                errors.append((str(d), "permission denied"))
                continue
            except OSError as exc:
                errors.append((str(d), exc.strerror or str(exc)))
                continue
            subdirs = []
            for e in entries:
                try:
                    if e.is_dir(follow_symlinks=False):
                        if not _skip_dir(e, settings):
                            subdirs.append(Path(e.path))
                    elif e.name.endswith(tuple(suffixes)) and (e.is_file() or e.is_symlink()):
                        fp = Path(e.path)
                        if not settings.is_excluded(fp):
                            add(fp)
                except OSError as exc:
                    errors.append((e.path, exc.strerror or str(exc)))
            stack.extend(reversed(subdirs))
    return Discovered(files, errors)

"""Paths on the command line -> the files to check."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence, Tuple, Union

from msfix.config import Settings, SettingsResolver

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


def discover(paths: Sequence[str], settings: Union[Settings, SettingsResolver],
             suffixes: Sequence[str] = SUFFIXES, force_exclude: bool = False) -> Discovered:
    """The files under `paths`. Exclusion follows the configuration nearest to each
    directory when `settings` is a SettingsResolver. A path named explicitly is always
    checked unless `force_exclude` (ruff's --force-exclude, for pre-commit, which names
    every file) and it matches `exclude`."""
    files: List[Path] = []
    errors: List[Tuple[str, str]] = []
    seen = set()

    def for_dir(d) -> Settings:
        return settings.for_dir(d) if isinstance(settings, SettingsResolver) else settings

    def excluded(p: Path) -> bool:
        """As ruff's --force-exclude: the path or one of its directories matches the
        `exclude` of the configuration that governs the directory holding it."""
        cur = os.path.abspath(p)
        while True:
            parent = os.path.dirname(cur)
            if parent == cur:
                return False
            s = for_dir(parent)
            root = os.path.abspath(s.root)
            inside = cur == root or cur.startswith(root.rstrip(os.sep) + os.sep)
            if (inside or cur == os.path.abspath(p)) and s.is_excluded(Path(cur)):
                return True
            if not inside:
                return False
            cur = parent

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
        if force_exclude and excluded(p):
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
            here = for_dir(d)
            for e in entries:
                try:
                    if e.is_dir(follow_symlinks=False):
                        if not _skip_dir(e, here):
                            subdirs.append(Path(e.path))
                    elif e.name.endswith(tuple(suffixes)) and (e.is_file() or e.is_symlink()):
                        fp = Path(e.path)
                        if not here.is_excluded(fp):
                            add(fp)
                except OSError as exc:
                    errors.append((e.path, exc.strerror or str(exc)))
            stack.extend(reversed(subdirs))
    return Discovered(files, errors)

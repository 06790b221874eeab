"""Settings from `[tool.msfix]` in the nearest pyproject.toml, or from msfix.toml,
overridden by command-line options."""

from __future__ import annotations

import fnmatch
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Dict, List, Optional, Sequence

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024


class ConfigError(Exception):
    """A configuration problem; str(err) names the file and the key."""


@dataclass
class Settings:
    select: List[str] = field(default_factory=lambda: ["MS"])
    extend_select: List[str] = field(default_factory=list)
    ignore: List[str] = field(default_factory=list)
    exclude: List[str] = field(default_factory=list)
    extend_exclude: List[str] = field(default_factory=list)
    per_file_ignores: Dict[str, List[str]] = field(default_factory=dict)
    target_version: Optional[str] = None
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    unsafe_fixes: bool = False
    output_format: Optional[str] = None
    cache_dir: Optional[str] = None
    config_path: Optional[Path] = None
    root: Path = field(default_factory=Path.cwd)
    # key -> where its value comes from (a config file, one it extends, or --config)
    sources: Dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "config-file": str(self.config_path) if self.config_path else None,
            "select": self.select,
            "extend-select": self.extend_select,
            "ignore": self.ignore,
            "exclude": self.exclude,
            "extend-exclude": self.extend_exclude,
            "per-file-ignores": self.per_file_ignores,
            "target-version": self.target_version,
            "max-file-size": self.max_file_size,
            "unsafe-fixes": self.unsafe_fixes,
            "output-format": self.output_format,
            "cache-dir": self.cache_dir,
        }

    def ignores_for(self, path: Path) -> List[str]:
        """Codes ignored for one file through per-file-ignores."""
        out: List[str] = []
        for pattern, codes in self.per_file_ignores.items():
            if self._matches(path, pattern):
                out.extend(codes)
        return out

    def is_excluded(self, path: Path) -> bool:
        return any(self._matches(path, p) for p in [*self.exclude, *self.extend_exclude])

    def _matches(self, path: Path, pattern: str) -> bool:
        if os.path.isabs(pattern):  # from --exclude or an extended file: resolved against its own base
            absolute = PurePosixPath(*Path(os.path.abspath(path)).parts).as_posix()
            return _match(absolute, PurePosixPath(*Path(pattern).parts).as_posix())
        return _match(_relative(path, self.root), pattern)


def _relative(path: Path, root: Path) -> str:
    try:
        rel = Path(os.path.abspath(path)).relative_to(Path(os.path.abspath(root)))
    except ValueError:
        rel = path
    return PurePosixPath(*rel.parts).as_posix() if rel.parts else "."


def _match(rel: str, pattern: str) -> bool:
    pattern = pattern.rstrip("/")
    if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(rel, f"{pattern}/*"):
        return True
    # a bare name or glob matches any path component, as in ruff's exclude
    if "/" not in pattern:
        return any(fnmatch.fnmatch(part, pattern) for part in rel.split("/"))
    return False


_KEYS = {
    "select": ("select", list),
    "extend-select": ("extend_select", list),
    "ignore": ("ignore", list),
    "exclude": ("exclude", list),
    "extend-exclude": ("extend_exclude", list),
    "per-file-ignores": ("per_file_ignores", dict),
    "target-version": ("target_version", str),
    "max-file-size": ("max_file_size", int),
    "unsafe-fixes": ("unsafe_fixes", bool),
    "output-format": ("output_format", str),
    "cache-dir": ("cache_dir", str),
}


def find_config(start: Path) -> Optional[Path]:
    """The nearest msfix.toml, or pyproject.toml with a [tool.msfix] table, at or above
    `start`."""
    d = start.resolve()
    if d.is_file():
        d = d.parent
    for folder in [d, *d.parents]:
        found = config_in(folder)
        if found is not None:
            return found
    return None


def config_in(folder: Path) -> Optional[Path]:
    """msfix.toml, or a pyproject.toml with a [tool.msfix] table, in `folder` itself."""
    own = folder / "msfix.toml"
    if own.is_file():
        return own
    py = folder / "pyproject.toml"
    if py.is_file():
        try:
            data = tomllib.loads(py.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return None
        if "msfix" in data.get("tool", {}):
            return py
    return None


def _apply(settings: Settings, table: dict, where: str) -> None:
    for key, value in table.items():
        if key == "extend":
            if where.startswith("--config"):
                raise ConfigError("--config: `extend` is only read from a configuration file")
            settings.sources[key] = where
            continue  # applied by _load_table
        if key not in _KEYS:
            import difflib

            close = difflib.get_close_matches(key, [*_KEYS, "extend"], n=1, cutoff=0.6)
            hint = f"; did you mean `{close[0]}`?" if close else ""
            known = ", ".join(sorted([*_KEYS, "extend"]))
            raise ConfigError(f"{where}: unknown key `{key}`{hint} (known keys: {known})")
        attr, typ = _KEYS[key]
        if typ is list:
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}: `{key}` must be a list of strings")
        elif typ is dict:
            if not isinstance(value, dict) or not all(
                    isinstance(v, list) and all(isinstance(c, str) for c in v) for v in value.values()):
                raise ConfigError(f"{where}: `{key}` must map glob patterns to lists of codes")
        elif typ is bool:
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: `{key}` must be true or false")
        elif typ is int:
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"{where}: `{key}` must be a positive integer")
        elif not isinstance(value, str):
            raise ConfigError(f"{where}: `{key}` must be a string")
        setattr(settings, attr, value)
        settings.sources[key] = where


def _read_table(path: Path) -> "tuple[dict, str]":
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("msfix", {})
        where = f"{path} [tool.msfix]"
    else:
        table = data
        where = str(path)
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    return table, where


def _load_table(settings: Settings, path: Path, chain: Sequence[Path] = ()) -> None:
    """Apply the file at `path` to `settings`, after the file it `extend`s (as ruff's
    `extend`: a path relative to the extending file; the nearer file wins key by key)."""
    table, where = _read_table(path)
    base = table.get("extend")
    if base is not None:
        if not isinstance(base, str) or not base.strip():
            raise ConfigError(f"{where}: `extend` must be the path of another msfix.toml or pyproject.toml")
        target = Path(os.path.expanduser(base))
        if not target.is_absolute():
            target = path.parent / target
        target = Path(os.path.abspath(target))
        seen = [Path(os.path.abspath(p)) for p in (*chain, path)]
        if target in seen:
            cycle = " -> ".join(str(p) for p in (*seen, target))
            raise ConfigError(f"{where}: `extend` makes a cycle: {cycle}")
        if not target.is_file():
            raise ConfigError(f"{where}: `extend` names {target}, which does not exist")
        _load_table(settings, target, (*chain, path))
    if chain:  # an extended file: its path patterns are relative to its own directory, as in ruff
        table = _anchor_patterns(table, path.parent)
    _apply(settings, table, where)


def _anchor_patterns(table: dict, base: Path) -> dict:
    def anchor(p):
        return os.path.join(os.path.abspath(base), p) if isinstance(p, str) and "/" in p.rstrip("/") \
            and not os.path.isabs(p) else p

    out = dict(table)
    for key in ("exclude", "extend-exclude"):
        if isinstance(out.get(key), list):
            out[key] = [anchor(p) for p in out[key]]
    if isinstance(out.get("per-file-ignores"), dict):
        out["per-file-ignores"] = {anchor(k): v for k, v in out["per-file-ignores"].items()}
    return out


def load_settings(config_path: Optional[Path] = None, start: Optional[Path] = None,
                  overrides: Sequence[str] = ()) -> Settings:
    return _load(config_path or find_config(start or Path.cwd()), overrides)


def _load(path: Optional[Path], overrides: Sequence[str] = ()) -> Settings:
    settings = Settings()
    if path is not None:
        _load_table(settings, path)
        settings.config_path = path
        settings.root = path.parent
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--config {item!r}: expected KEY=VALUE")
        key, raw = item.split("=", 1)
        key = key.strip()
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        _apply(settings, {key: value}, "--config")
    return settings


def settings_for(path: Optional[Path], config_file: Optional[Path] = None,
                 overrides: Sequence[str] = ()) -> Settings:
    """The settings for one file or directory: `config_file` if given, else the msfix.toml
    or pyproject.toml [tool.msfix] nearest to it (as ruff, per file). The command line
    and the language server both look settings up through this function."""
    if config_file is not None:
        return load_settings(config_file, None, overrides)
    start = Path.cwd() if path is None else Path(os.path.abspath(path))
    while not start.exists() and start != start.parent:  # a file not written yet (an editor buffer)
        start = start.parent
    return load_settings(None, start, overrides)


class SettingsResolver:
    """Settings per file for one run: each file gets the configuration nearest to it;
    each configuration file is read once. `adjust(settings)` applies the command-line
    options (they win over every file)."""

    def __init__(self, config_file: Optional[Path] = None, overrides: Sequence[str] = (),
                 adjust=None) -> None:
        self.config_file = config_file
        self.overrides = tuple(overrides)
        self.adjust = adjust
        self._by_dir: Dict[str, Optional[Path]] = {}
        self._by_config: Dict[Optional[str], Settings] = {}

    def _config_of_dir(self, d: str) -> Optional[Path]:
        if d in self._by_dir:
            return self._by_dir[d]
        found = config_in(Path(d))  # this directory, else its parent's (each read once per run)
        if found is None:
            parent = os.path.dirname(d)
            found = None if parent == d else self._config_of_dir(parent)
        self._by_dir[d] = found
        return found

    def for_dir(self, directory) -> Settings:
        if self.config_file is not None:
            cfg: Optional[Path] = self.config_file
        else:
            d = os.path.abspath(directory)
            while not os.path.isdir(d) and d != os.path.dirname(d):
                d = os.path.dirname(d)
            cfg = self._config_of_dir(d)
        key = None if cfg is None else str(cfg)
        if key not in self._by_config:
            s = _load(cfg, self.overrides)
            if self.adjust is not None:
                self.adjust(s)
            self._by_config[key] = s
        return self._by_config[key]

    def for_file(self, path) -> Settings:
        return self.for_dir(os.path.dirname(os.path.abspath(path)))

    def all(self) -> List[Settings]:
        return list(self._by_config.values())

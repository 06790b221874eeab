"""A content-keyed cache of check results, so an unchanged tree is checked in well
under a second.

One JSON file per (msfix version and code, rule selection, target version) in the cache
directory (`cache-dir` in config, else `.msfix_cache/` next to the config file or in
the current directory). An entry is reused when the file's size and mtime match,
or, failing that, when its content hash matches, and the config files the script
reads (analysis/configfiles.py) still have the content they had.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Dict, Optional, Sequence

from msfix import __version__
from msfix.diagnostics import Applicability, Diagnostic, Edit, Fix, Severity, Span

CACHE_DIR_NAME = ".msfix_cache"


def cache_dir(settings) -> Path:
    if settings.cache_dir:
        return Path(settings.cache_dir)
    env = os.environ.get("MSFIX_CACHE_DIR")
    if env:
        return Path(env)
    return Path(settings.root) / CACHE_DIR_NAME


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def code_fingerprint() -> str:
    """Size and mtime of every file of msfix and its rules and data: an edited rule or
    data file (a development install) invalidates the cache, as a new version does."""
    import msfix
    import msfix.rules

    parts = []
    for base in {os.path.dirname(msfix.__file__), os.path.dirname(msfix.rules.__file__)}:
        for folder, dirs, names in os.walk(base):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for n in names:
                if n.endswith((".py", ".json", ".gz")):
                    st = os.stat(os.path.join(folder, n))
                    parts.append(f"{folder}/{n}:{st.st_size}:{st.st_mtime_ns}")
    return _digest("\n".join(sorted(parts)).encode())


def _diag_from(d: dict) -> Diagnostic:
    fix = None
    if d["fix"] is not None:
        fix = Fix(Applicability(d["fix"]["applicability"]), d["fix"]["message"],
                  tuple(Edit(e["start"], e["end"], e["content"]) for e in d["fix"]["edits"]))
    return Diagnostic(code=d["code"], name=d["name"], severity=Severity(d["severity"]), message=d["message"],
                      span=Span(d["line"], d["column"], d["end_line"], d["end_column"]), fix=fix, path=d["file"])


class ResultCache:
    def __init__(self, settings, extra_key: Sequence[str] = ()) -> None:
        self.dir = cache_dir(settings)
        key = json.dumps([__version__, sorted(settings.select), sorted(settings.extend_select),
                          sorted(settings.ignore), settings.per_file_ignores, settings.target_version,
                          list(extra_key), code_fingerprint()], sort_keys=True)
        self.path = self.dir / f"check-{_digest(key.encode())}.json"
        self.entries: Dict[str, dict] = {}
        self.dirty = False
        try:
            with open(self.path, encoding="utf-8") as fh:
                data = json.load(fh)
            if isinstance(data, dict) and data.get("version") == __version__:
                self.entries = data.get("files", {})
        except (OSError, ValueError):
            self.entries = {}

    @staticmethod
    def _key(path: Path) -> str:
        return os.path.abspath(path)

    def get(self, path: Path):
        """(diagnostics, error, notes) for an unchanged file, else None."""
        entry = self.entries.get(self._key(path))
        if entry is None:
            return None
        try:
            st = os.stat(path)
        except OSError:
            return None
        if entry["size"] != st.st_size:
            return None
        if entry["mtime"] != st.st_mtime_ns:
            try:
                data = Path(path).read_bytes()
            except OSError:
                return None
            if _digest(data) != entry["hash"]:
                return None
            entry["mtime"] = st.st_mtime_ns
            self.dirty = True
        for dep, want in (entry.get("depends") or {}).items():
            try:
                have: Optional[str] = _digest(Path(dep).read_bytes())
            except OSError:
                have = None
            if have != want:
                return None  # a config file the result read changed, appeared or went away
        return [_diag_from(d) for d in entry["diagnostics"]], entry["error"], entry["notes"]

    def put(self, path: Path, raw: Optional[bytes], diagnostics, error, notes,
            depends: Optional[Dict[str, Optional[str]]] = None) -> None:
        try:
            st = os.stat(path)
        except OSError:
            return
        if raw is None:
            try:
                raw = Path(path).read_bytes()
            except OSError:
                return
        self.entries[self._key(path)] = {
            "size": st.st_size,
            "mtime": st.st_mtime_ns,
            "hash": _digest(raw),
            "diagnostics": [d.to_dict() for d in diagnostics],
            "error": error,
            "notes": list(notes),
            "depends": dict(depends or {}),
        }
        self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            gitignore = self.dir / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("# created by msfix\n*\n")
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump({"version": __version__, "files": self.entries}, fh, separators=(",", ":"))
            os.replace(tmp, self.path)
        except OSError:
            pass  # a cache that cannot be written is only a slower next run


def clean(settings) -> Optional[Path]:
    """Remove the cache directory; return it if something was removed."""
    import shutil

    d = cache_dir(settings)
    if d.is_dir():
        shutil.rmtree(d, ignore_errors=True)
        return d
    return None

"""The MindSpore version a script targets, and where that choice comes from.

Precedence (the first that gives a version wins):

1. an explicit version: ``--target-version``, ``--config target-version=...`` or
   ``target-version`` in msfix.toml / ``[tool.msfix]`` (validated: an unknown version
   is an error naming the nearest indexed release);
2. the user's project: walking up from the checked file to the repository root (the
   first directory holding ``.git``/``.hg``/``.svn``) or the filesystem root, the first
   directory whose ``requirements*.txt`` (and ``requirements/*.txt``),
   ``pyproject.toml`` (``[project]`` dependencies and optional dependencies,
   ``[dependency-groups]``, ``[tool.poetry]`` dependencies), ``setup.cfg``
   (``install_requires``), ``setup.py`` (``install_requires=``, read with :mod:`ast`)
   or ``environment.yml`` (conda and pip entries) pins or bounds ``mindspore``,
   ``mindspore-gpu``, ``mindspore-ascend``, ``mindspore-dev`` (or conda's
   ``mindspore-cpu``).  A pin (``==1.8.1``, conda ``=1.8.1``, a wheel file name or
   URL) gives that release; a bound (``>=1.8,<2``, ``~=2.2``, poetry ``^1.8``) gives the
   newest indexed release inside it;
3. the installed MindSpore distribution (its package metadata; never imported);
4. the newest indexed release.

Nothing here imports MindSpore or the user's code; project files are read as text.
"""
from __future__ import annotations

import ast
import configparser
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DISTRIBUTIONS = ("mindspore", "mindspore-gpu", "mindspore-ascend", "mindspore-dev", "mindspore-cpu")
# MindSpore release lines that exist but are not indexed (not served by PyPI as wheels msfix
# can read): a version of these lines is accepted and checked against the nearest older
# indexed release.
UNINDEXED_LINES = ((2, 1), (2, 2), (2, 3), (2, 4))
_REPO_MARKERS = (".git", ".hg", ".svn")
_MAX_FILE = 2 * 1024 * 1024


class UnknownTargetVersion(ValueError):
    """A target version that names no MindSpore release msfix knows."""


@dataclass(frozen=True)
class Target:
    version: Optional[str]  # the indexed release the rules use (None: no API index shipped)
    source: str  # where it came from, for `msfix config` and error messages
    kind: str  # "explicit" | "project" | "installed" | "newest"
    requested: Optional[str] = None  # the version or specifier as written


@dataclass(frozen=True)
class Requirement:
    path: Path
    line: int
    text: str  # the requirement as written, e.g. "mindspore-gpu==1.8.1"
    name: str  # normalized distribution name
    pin: Optional[str]  # an exact release
    clauses: Tuple[Tuple[str, str], ...]  # (op, version) bounds

    @property
    def specified(self) -> bool:
        return self.pin is not None or bool(self.clauses)


# --------------------------------------------------------------------------- versions
def _key(v: str) -> Tuple[int, ...]:
    from msfix.knowledge.api import _vkey

    return _vkey(v)


def _release(v: str) -> Tuple[int, int, int]:
    """Release part only: an indexed dev snapshot (2.5.0.dev20250202) stands for its line."""
    k = _key(v)  # always (major, minor, micro, pre-release rank, number)
    return k[0], k[1], k[2]


def _fmt_versions(versions: Sequence[str]) -> str:
    return ", ".join(versions)


def validate(spec: str, idx=None) -> str:
    """The indexed release for an explicit target version, or UnknownTargetVersion."""
    idx = idx or _index()
    spec = str(spec).strip()
    if spec in idx.versions:
        return spec
    listing = f"indexed versions: {_fmt_versions(idx.versions)}"
    try:
        k = _key(spec)
    except ValueError:
        raise UnknownTargetVersion(f"{spec!r} is not a version number; nearest: {idx.newest} (the newest); "
                                   f"{listing}") from None
    if not re.fullmatch(r"v?\d+(\.\d+){0,2}((\.|-)?(dev|rc|a|b|post)\.?\d*)?", spec):
        raise UnknownTargetVersion(f"{spec!r} is not a MindSpore version number; nearest: {idx.resolve_version(spec)}; "
                                   f"{listing}")
    line = k[:2]
    if line in idx.lines() or line in UNINDEXED_LINES:
        return idx.resolve_version(spec)
    keys = [_key(v) for v in idx.versions]
    if k < keys[0]:
        why, near = "is older than every indexed release", f"{idx.versions[0]} (the oldest)"
    elif k > keys[-1]:
        why, near = "is newer than every indexed release", f"{idx.newest} (the newest)"
    else:
        below = [v for v, vk in zip(idx.versions, keys) if vk < k][-1]
        above = [v for v, vk in zip(idx.versions, keys) if vk > k][0]
        why, near = f"names no MindSpore release (there is no {line[0]}.{line[1]} line)", f"{below} and {above}"
    raise UnknownTargetVersion(f"{spec!r} {why}; nearest: {near}; {listing}")


def pick(req: Requirement, idx=None) -> Tuple[str, str]:
    """(indexed release, note) for a project requirement (never raises)."""
    idx = idx or _index()
    if req.pin is not None:
        try:
            return validate(req.pin, idx), ""
        except UnknownTargetVersion:
            try:
                k = _key(req.pin)
            except ValueError:
                return idx.newest, f"{req.pin!r} is not a version; the newest indexed"
            v = idx.versions[0] if k < _key(idx.versions[0]) else idx.resolve_version(req.pin)
            return v, f"{req.pin} is not indexed; nearest {v}"
    inside = [v for v in idx.versions if all(_satisfies(v, op, b) for op, b in req.clauses)]
    if inside:
        return inside[-1], ""
    lower = [b for op, b in req.clauses if op in (">=", ">", "~=", "==")]
    v = idx.resolve_version(max(lower, key=_key)) if lower else idx.versions[0]
    return v, f"no indexed release inside the bound; nearest {v}"


def _satisfies(label: str, op: str, bound: str) -> bool:
    v = _release(label)
    if bound.endswith(".*"):
        prefix = tuple(int(x) for x in bound[:-2].split(".") if x.isdigit())
        same = v[:len(prefix)] == prefix
        return same if op == "==" else not same if op == "!=" else True
    try:
        b = _release(bound)
    except ValueError:
        return False
    if op == "==":
        return v == b
    if op == "!=":
        return v != b
    if op == ">=":
        return v >= b
    if op == "<=":
        return v <= b
    if op == ">":
        return v > b
    if op == "<":
        return v < b
    if op == "~=":
        parts = [int(x) for x in re.findall(r"\d+", bound.split("dev")[0])][:3]
        prefix = tuple(parts[:-1]) if len(parts) > 1 else tuple(parts)
        return v >= b and v[:len(prefix)] == prefix
    return False


# --------------------------------------------------------------------------- requirement text
_NAME_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")
_CLAUSE_RE = re.compile(r"(===|~=|==|!=|<=|>=|<|>|=)?\s*([0-9][0-9A-Za-z.*+!_-]*)")
_WHEEL_RE = re.compile(r"(?:^|[/\\=@\s])(mindspore(?:[_-](?:gpu|ascend|dev|cpu))?)-(\d+(?:\.\d+)*"
                       r"(?:\.?(?:dev|rc|post)\d*)?)-[^/\\\s]*\.whl", re.I)


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_requirement(text: str, path: Path, line: int, conda: bool = False) -> Optional[Requirement]:
    """A MindSpore requirement in pip (PEP 508) or conda syntax, or None."""
    raw = text.strip()
    if not raw or raw.startswith("#"):
        return None
    wm = _WHEEL_RE.search(raw)
    if wm and normalize(wm.group(1)) in DISTRIBUTIONS:  # a wheel file name or URL
        return Requirement(path, line, raw, normalize(wm.group(1)), wm.group(2), ())
    if raw.startswith("-") or "://" in raw.split("@")[0]:
        return None
    if conda and "::" in raw:
        raw = raw.split("::", 1)[1]
    m = _NAME_RE.match(raw)
    if not m or normalize(m.group(1)) not in DISTRIBUTIONS:
        return None
    name = normalize(m.group(1))
    rest = m.group(3).split(";", 1)[0]
    rest = re.split(r"(?:^|\s)(?:--\w|\\$)", rest)[0].strip()  # pip options (--hash=...), a continuation
    if rest.startswith("@"):
        return Requirement(path, line, raw, name, None, ())  # a URL without a wheel name
    rest = rest.strip("()")
    if conda and re.match(r"^=?[0-9][^=]*=[^=]", rest):
        rest = rest.rsplit("=", 1)[0]  # name=version=build
    clauses: List[Tuple[str, str]] = []
    pin = None
    for part in [p.strip() for p in re.split(r"[,|]", rest) if p.strip()]:
        cm = _CLAUSE_RE.fullmatch(part)
        if not cm:
            continue
        op, ver = cm.group(1), cm.group(2)
        wild = ver.endswith("*")
        ver = ver.rstrip("*").rstrip(".")
        if op is None and not conda:
            continue  # not pip syntax
        if op in (None, "="):
            # conda `=1.8.1` / `1.8.1` is that release (any build); `=1.8`, `1.8.*` its line
            if len(ver.split(".")) >= 3 and not wild:
                pin = ver
            else:
                clauses.append(("==", ver + ".*"))
        elif op in ("==", "===") and not wild:
            pin = ver
        elif wild:
            clauses.append((op, ver + ".*"))
        else:
            clauses.append((op, ver))
    if pin is not None:
        clauses = []  # an exact release wins over other clauses of the same requirement
    return Requirement(path, line, raw, name, pin, tuple(clauses))


def _poetry_requirement(name: str, spec, path: Path, line: int) -> Optional[Requirement]:
    if isinstance(spec, dict):
        spec = spec.get("version")
    if not isinstance(spec, str):
        return None
    s = spec.strip()
    m = re.fullmatch(r"\^\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?", s)
    if m:
        nums = [int(x) if x is not None else None for x in m.groups()]
        major, minor = nums[0], nums[1] or 0
        upper = f"{major + 1}.0" if major else f"0.{minor + 1}"
        return Requirement(path, line, f"{name} = {spec!r}", name, None,
                           ((">=", s[1:].strip()), ("<", upper)))
    m = re.fullmatch(r"~\s*(\d+)\.(\d+)(?:\.(\d+))?", s)
    if m:
        return Requirement(path, line, f"{name} = {spec!r}", name, None,
                           ((">=", s[1:].strip()), ("<", f"{m.group(1)}.{int(m.group(2)) + 1}")))
    if re.fullmatch(r"\d+(\.\d+)*", s):
        return Requirement(path, line, f"{name} = {spec!r}", name, s, ())
    return parse_requirement(name + s if s != "*" else name, path, line)


# --------------------------------------------------------------------------- project files
def _read(path: Path) -> Optional[str]:
    try:
        if path.stat().st_size > _MAX_FILE:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _line_of(text: str, needle: str, default: int = 1) -> int:
    i = text.find(needle)
    return text.count("\n", 0, i) + 1 if i >= 0 else default


def _from_requirements(path: Path, seen: Optional[set] = None) -> Iterator[Requirement]:
    seen = seen if seen is not None else set()
    if path in seen or len(seen) > 20:
        return
    seen.add(path)
    text = _read(path)
    if text is None:
        return
    for n, line in enumerate(text.splitlines(), 1):
        s = re.sub(r"(^|\s)#.*$", "", line).strip()
        inc = re.match(r"^(?:-r|--requirement|-c|--constraint)\s*=?\s*(\S+)", s)
        if inc:
            yield from _from_requirements((path.parent / inc.group(1)).resolve(), seen)
            continue
        r = parse_requirement(s, path, n)
        if r is not None:
            yield r


def _from_pyproject(path: Path) -> Iterator[Requirement]:
    text = _read(path)
    if text is None:
        return
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return
    project = data.get("project")
    if not isinstance(project, dict):
        project = {}
    lists = [project.get("dependencies")]
    opt = project.get("optional-dependencies")
    if isinstance(opt, dict):
        lists.extend(opt.values())
    groups = data.get("dependency-groups")
    if isinstance(groups, dict):
        lists.extend(groups.values())
    for items in lists:
        if not isinstance(items, list):
            continue
        for item in items:
            if isinstance(item, str):
                r = parse_requirement(item, path, _line_of(text, item))
                if r is not None:
                    yield r
    poetry = data.get("tool", {}).get("poetry", {}) if isinstance(data.get("tool"), dict) else {}
    tables = [poetry.get("dependencies")] if isinstance(poetry, dict) else []
    if isinstance(poetry, dict) and isinstance(poetry.get("group"), dict):
        tables.extend(g.get("dependencies") for g in poetry["group"].values() if isinstance(g, dict))
    for table in tables:
        if not isinstance(table, dict):
            continue
        for name, spec in table.items():
            if normalize(name) in DISTRIBUTIONS:
                m = re.search(rf"^\s*[\"']?{re.escape(name)}[\"']?\s*=", text, re.M)
                line = text.count("\n", 0, m.start()) + 1 if m else 1
                r = _poetry_requirement(normalize(name), spec, path, line)
                if r is not None:
                    yield r


def _from_setup_cfg(path: Path) -> Iterator[Requirement]:
    text = _read(path)
    if text is None:
        return
    cp = configparser.ConfigParser(interpolation=None)
    try:
        cp.read_string(text)
    except configparser.Error:
        return
    values = []
    if cp.has_option("options", "install_requires"):
        values.append(cp.get("options", "install_requires"))
    if cp.has_section("options.extras_require"):
        values.extend(v for _, v in cp.items("options.extras_require"))
    for value in values:
        for item in re.split(r"[\n;]", value):
            item = item.strip()
            if item:
                r = parse_requirement(item, path, _line_of(text, item))
                if r is not None:
                    yield r


def _from_setup_py(path: Path) -> Iterator[Requirement]:
    text = _read(path)
    if text is None:
        return
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return
    lists = {}
    for st in tree.body:  # module-level `REQUIRES = [...]`
        if isinstance(st, ast.Assign) and isinstance(st.value, (ast.List, ast.Tuple)):
            for t in st.targets:
                if isinstance(t, ast.Name):
                    lists[t.id] = st.value
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for kw in node.keywords:
            if kw.arg not in ("install_requires", "extras_require"):
                continue
            values = [kw.value]
            if isinstance(kw.value, ast.Dict):
                values = list(kw.value.values)
            for v in values:
                seq = lists.get(v.id) if isinstance(v, ast.Name) else v
                if not isinstance(seq, (ast.List, ast.Tuple)):
                    continue
                for e in seq.elts:
                    if isinstance(e, ast.Constant) and isinstance(e.value, str):
                        r = parse_requirement(e.value, path, e.lineno)
                        if r is not None:
                            yield r


def _from_environment_yml(path: Path) -> Iterator[Requirement]:
    text = _read(path)
    if text is None:
        return
    pip_indent = None
    for n, line in enumerate(text.splitlines(), 1):
        m = re.match(r"^(\s*)-\s+(.*)$", line)
        if not m:
            if line.strip() and not line.startswith(" ") and not line.startswith("-"):
                pip_indent = None  # a new top-level key
            continue
        indent, item = len(m.group(1)), re.sub(r"\s+#.*$", "", m.group(2)).strip().strip("'\"")
        if item.rstrip(":").strip() == "pip" and item.endswith(":"):
            pip_indent = indent
            continue
        in_pip = pip_indent is not None and indent > pip_indent
        if pip_indent is not None and indent <= pip_indent:
            pip_indent = None
        r = parse_requirement(item, path, n, conda=not in_pip)
        if r is not None:
            yield r


def _requirement_files(d: Path) -> List[Path]:
    out: List[Path] = []
    try:
        names = sorted(os.listdir(d))
    except OSError:
        return out
    reqs = [n for n in names if re.fullmatch(r"requirements.*\.txt", n, re.I)]
    reqs.sort(key=lambda n: (n.lower() != "requirements.txt", n))
    out += [d / n for n in reqs]
    sub = d / "requirements"
    if sub.is_dir():
        try:
            out += [sub / n for n in sorted(os.listdir(sub)) if n.endswith(".txt")]
        except OSError:
            pass
    return out


def project_requirements(d: Path) -> Iterator[Requirement]:
    """MindSpore requirements written in the project files of one directory, in order."""
    for p in _requirement_files(d):
        if p.is_file():
            yield from _from_requirements(p)
    for name, reader in (("pyproject.toml", _from_pyproject), ("setup.cfg", _from_setup_cfg),
                         ("setup.py", _from_setup_py), ("environment.yml", _from_environment_yml),
                         ("environment.yaml", _from_environment_yml)):
        p = d / name
        if p.is_file():
            yield from reader(p)


def find_requirement(start: Path) -> Optional[Requirement]:
    """The first pinned or bounded MindSpore requirement in the project files found walking
    up from `start` (a file or a directory) to the repository root or the filesystem root."""
    try:
        d = Path(os.path.abspath(start))
        if not d.is_dir():
            d = d.parent
    except OSError:
        return None
    for folder in [d, *d.parents]:
        for r in project_requirements(folder):
            if r.specified:
                return r
        if any((folder / m).exists() for m in _REPO_MARKERS):
            break
    return None


# --------------------------------------------------------------------------- resolution
def _index():
    from msfix.knowledge.api import load_index

    return load_index()


def _display(path: Path) -> str:
    try:
        rel = Path(os.path.abspath(path)).relative_to(Path.cwd())
        return rel.as_posix()
    except ValueError:
        return str(path)


def resolve_target(start: Optional[Path] = None, explicit: Optional[str] = None,
                   explicit_source: str = "--target-version") -> Target:
    """The target for a file or project directory `start`.  An explicit version that is
    unknown raises UnknownTargetVersion; everything found on disk falls back to the nearest
    indexed release."""
    try:
        idx = _index()
    except (ImportError, OSError):  # the API index is not shipped in this build
        return Target(explicit, explicit_source if explicit else "default", "explicit" if explicit else "newest",
                      explicit)
    if explicit:
        v = validate(explicit, idx)
        note = "" if v == str(explicit).strip() else f"; checked against {v}"
        return Target(v, f"{explicit_source} ({explicit}{note})" if note else explicit_source, "explicit",
                      str(explicit))
    if start is not None:
        req = find_requirement(start)
        if req is not None:
            v, note = pick(req, idx)
            where = f"from {_display(req.path)}:{req.line} ({req.text}{'; ' + note if note else ''})"
            return Target(v, where, "project", req.pin or ",".join(op + b for op, b in req.clauses))
    from msfix.knowledge import api

    inst = api.installed_mindspore()
    if inst:
        resolved: Optional[str]
        try:
            resolved = idx.resolve_version(inst[1])
        except ValueError:
            resolved = None
        if resolved is not None:
            note = "" if resolved == inst[1] else f"; checked against {resolved}"
            return Target(resolved, f"installed {inst[0]} {inst[1]} (package metadata{note})", "installed",
                          inst[1])
    return Target(idx.newest, "the newest indexed version (no MindSpore pin in the project files, "
                              "MindSpore not installed)", "newest")


__all__ = ["DISTRIBUTIONS", "Requirement", "Target", "UnknownTargetVersion", "find_requirement", "parse_requirement",
           "pick", "project_requirements", "resolve_target", "validate"]

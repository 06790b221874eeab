"""Configuration files a script reads by a literal path next to it:
`yaml.safe_load(open("config.yaml"))`, `json.load(f)` with
`f = open(os.path.join(os.path.dirname(__file__), "cfg.json"))`.

The values come with their place ("config.yaml:3"). YAML is read without a YAML
library: a safe subset (block mappings of `key: scalar` nested by indentation,
comments, quoted and plain scalars with PyYAML's YAML 1.1 meaning for the ones read
here); anything else (anchors, aliases, tags, block scalars, flow mappings, lists,
documents) leaves that key, or the whole file, unknown. JSON is read with positions.

Every file looked up is a dependency of the script's result: `dependencies(model)`
lists them with their content hash (None when absent) for the result cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Tuple

import libcst as cst

from msfix.analysis.model import UNKNOWN

MAX_BYTES = 1 << 20


@dataclass(eq=False)
class FileValue:
    """A value read from a config file: a scalar, UNKNOWN, or a dict {key: FileValue}."""

    value: object
    file: str  # the name shown in messages (relative to the script's folder)
    line: int

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _memo(model) -> dict:
    return model.memo("config_files")


def dependencies(model) -> Dict[str, Optional[str]]:
    """{absolute path: content hash, or None when the file was absent} of the config
    files the analysis of `model` looked for."""
    return dict(_memo(model).get("deps", {}))


def load(model, shown: str, path: str) -> Optional[FileValue]:
    """The parsed file at `path` (absolute), or None when absent or not readable."""
    memo = _memo(model)
    cache = memo.setdefault("files", {})
    if path in cache:
        return cache[path]
    deps = memo.setdefault("deps", {})
    got = None
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
        deps[path] = digest(raw)
        if len(raw) <= MAX_BYTES:
            text = raw.decode("utf-8-sig")
            got = parse_json(text, shown) if path.lower().endswith(".json") else parse_yaml(text, shown)
    except (OSError, UnicodeDecodeError):
        deps.setdefault(path, None)
    cache[path] = got
    return got


# --------------------------------------------------------------------------- JSON
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?")
_WS = re.compile(r"[ \t\n\r]*")
_scanstring: Callable[[str, int], Tuple[str, int]] = getattr(json.decoder, "scanstring")


def _skip(s: str, i: int) -> int:
    """The position after the JSON whitespace at `i`."""
    m = _WS.match(s, i)
    return m.end() if m is not None else i


def parse_json(text: str, shown: str) -> Optional[FileValue]:
    """The JSON document in `text` with the line of each value; None when invalid."""
    try:
        json.loads(text)
    except ValueError:
        return None
    try:
        v, end = _json_value(text, _skip(text, 0), shown)
    except (ValueError, IndexError):  # pragma: no cover - json.loads accepted it
        return None
    return v


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _json_value(s: str, i: int, shown: str):
    line = _line_of(s, i)
    c = s[i]
    if c == "{":
        out: Dict[str, FileValue] = {}
        i = _skip(s, i + 1)
        if s[i] == "}":
            return FileValue(out, shown, line), i + 1
        while True:
            key, i = _scanstring(s, i + 1)
            i = _skip(s, i)
            assert s[i] == ":"
            i = _skip(s, i + 1)
            v, i = _json_value(s, i, shown)
            out[key] = v  # a repeated key: the last one wins, as in json.loads
            i = _skip(s, i)
            if s[i] == "}":
                return FileValue(out, shown, line), i + 1
            i = _skip(s, i + 1)  # ","
    if c == "[":
        depth, j, in_str = 0, i, False
        while True:  # skip the list: its items are not read
            ch = s[j]
            if in_str:
                if ch == "\\":
                    j += 1
                elif ch == '"':
                    in_str = False
            elif ch == '"':
                in_str = True
            elif ch in "[{":
                depth += 1
            elif ch in "]}":
                depth -= 1
                if depth == 0:
                    return FileValue(UNKNOWN, shown, line), j + 1
            j += 1
    if c == '"':
        v, i = _scanstring(s, i + 1)
        return FileValue(v, shown, line), i
    for word, v in (("true", True), ("false", False), ("null", None)):
        if s.startswith(word, i):
            return FileValue(v, shown, line), i + len(word)
    m = _NUMBER.match(s, i)
    if m is None:
        raise ValueError("bad JSON")
    txt = m.group(0)
    num = float(txt) if m.group(1) or m.group(2) else int(txt)
    return FileValue(num, shown, line), m.end()


# --------------------------------------------------------------------------- YAML
_KEY = re.compile(r"""^(?P<key>[A-Za-z_][\w.\-]*|"[^"\\]*"|'[^']*'):(?:[ \t]+(?P<rest>.*))?$""")
# PyYAML (YAML 1.1) implicit types, for the plain scalars read here
_Y_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$")
_Y_FLOAT = re.compile(r"^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?)$")
_Y_NUMBERISH = re.compile(r"^[-+]?(?:[0-9]|\.[0-9_])")  # other numbers (1e-3, 017, 0x1f, 1:30, -.5): not guessed; ./path is a string
_Y_TRUE = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"}
_Y_FALSE = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"}
_Y_NULL = {"", "~", "null", "Null", "NULL"}


def _yaml_scalar(text: str):
    """The value of a one-line YAML scalar as PyYAML's safe_load reads it, UNKNOWN for
    anything this reader does not handle."""
    t = text.strip()
    if t.startswith("'"):
        inner = t[1:-1]
        if len(t) >= 2 and t.endswith("'") and "'" not in inner.replace("''", ""):
            return inner.replace("''", "'")
        return UNKNOWN
    if t.startswith('"'):
        inner = t[1:-1]
        if len(t) >= 2 and t.endswith('"') and '"' not in inner and "\\" not in inner:
            return inner
        return UNKNOWN
    if t in _Y_NULL:
        return None
    if t in _Y_TRUE:
        return True
    if t in _Y_FALSE:
        return False
    if t[0] in "&*!|>[]{}@`%,?#'\"" or t == "-" or t.startswith("- ") or ": " in t or " #" in t or t.endswith(":"):
        return UNKNOWN
    if _Y_INT.match(t):
        return int(t.replace("_", ""))
    if _Y_FLOAT.match(t) and any(ch.isdigit() for ch in t):
        return float(t.replace("_", ""))
    if _Y_NUMBERISH.match(t) or t.lower() in ("y", "n", ".inf", "-.inf", "+.inf", ".nan"):
        return UNKNOWN
    return t


def parse_yaml(text: str, shown: str) -> Optional[FileValue]:
    """The block mapping of a YAML file in the subset this reader handles (see the module
    doc), or None when the file is something else."""
    root: Dict[str, FileValue] = {}
    stack = [(-1, root)]  # (indent of the mapping's keys, mapping)
    pending: Optional[tuple] = None  # (indent, key, line, parent) of a `key:` with nothing after it
    lines = text.splitlines()
    skip_deeper: Optional[int] = None  # skipping the block of an unknown value
    for no, raw in enumerate(lines, 1):
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            return None
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped in ("---", "...") and raw == stripped:
            if root or pending:
                return None  # a second document
            continue
        if stripped.startswith("%"):
            return None
        indent = len(raw) - len(raw.lstrip(" "))
        if skip_deeper is not None:
            if indent > skip_deeper:
                continue
            skip_deeper = None
        if pending is not None:
            p_indent, p_key, p_line, p_parent = pending
            pending = None
            if indent > p_indent and not stripped.startswith("- "):
                child: Dict[str, FileValue] = {}
                p_parent[p_key] = FileValue(child, shown, p_line)
                stack.append((indent, child))
            elif indent > p_indent or (indent == p_indent and stripped.startswith("- ")):
                p_parent[p_key] = FileValue(UNKNOWN, shown, p_line)  # a list
                skip_deeper = p_indent
                if indent > p_indent or stripped.startswith("- "):
                    continue
            else:
                p_parent[p_key] = FileValue(None, shown, p_line)
        while stack and indent < stack[-1][0]:
            stack.pop()
        if not stack or indent != stack[-1][0]:
            if stack and stack[-1][0] == -1 and not root and indent >= 0:
                stack[-1] = (indent, root)
            else:
                return None  # indentation this reader does not follow
        mapping = stack[-1][1]
        body = stripped
        m = _KEY.match(body) if not body.startswith(("- ", "? ")) else None
        if m is None:
            return None
        key = m.group("key")
        if key[0] in "'\"":
            key = key[1:-1]
        if key == "<<":
            return None  # merge keys
        rest = m.group("rest")
        if rest is not None and " #" in rest:
            rest = rest.split(" #", 1)[0]
        rest = None if rest is None or not rest.strip() else rest.strip()
        if key in mapping:
            return None  # a repeated key: PyYAML keeps the last, other readers refuse
        if rest is None:
            pending = (indent, key, no, mapping)
            continue
        if rest[:1] in "|>":
            mapping[key] = FileValue(UNKNOWN, shown, no)
            skip_deeper = indent
            continue
        v = _yaml_scalar(rest)
        mapping[key] = FileValue(v, shown, no)
    if pending is not None:
        _, p_key, p_line, p_parent = pending
        p_parent[p_key] = FileValue(None, shown, p_line)
    return FileValue(root, shown, 1)


# --------------------------------------------------------------------------- opening
_LOADERS = {"yaml.safe_load": "yaml", "yaml.load": "yaml", "yaml.full_load": "yaml", "json.load": "json",
            "json.loads": "json"}
_SAFE_YAML_LOADERS = ("yaml.SafeLoader", "yaml.FullLoader", "yaml.Loader", "yaml.CSafeLoader", "yaml.CLoader",
                      "yaml.CFullLoader", "yaml.UnsafeLoader")
_SCRIPT_DIR = object()


def _script_dir(model) -> Optional[str]:
    path = getattr(model, "path", "") or ""
    if not path or path.startswith("<"):
        return None
    return os.path.dirname(os.path.abspath(path))


def loaded_file(model, call: cst.Call, scope, order, depth: int = 0) -> Optional[FileValue]:
    """The config file a `yaml.safe_load(...)` / `json.load(...)` call reads, parsed, or
    None when the call does not read a file next to the script that msfix can find."""
    q = model.qualname(call.func, scope, order)
    kind = _LOADERS.get(q or "")
    if kind is None or not call.args or call.args[0].keyword is not None or call.args[0].star:
        return None
    if q == "yaml.load":
        loader = next((a for a in call.args[1:] if a.keyword is None or a.keyword.value == "Loader"), None)
        if loader is None or model.qualname(loader.value, scope, order) not in _SAFE_YAML_LOADERS:
            return None
    elif len(call.args) > 1 and any(a.keyword is None for a in call.args[1:]):
        return None
    arg = call.args[0].value
    if q == "json.loads":  # json.loads(open(p).read()) / json.loads(f.read())
        if not (isinstance(arg, cst.Call) and isinstance(arg.func, cst.Attribute) and arg.func.attr.value == "read"
                and not arg.args):
            return None
        arg = arg.func.value
    path = _opened_path(model, arg, scope, order)
    folder = _script_dir(model)
    if path is None or folder is None:
        return None
    full = os.path.normpath(os.path.join(folder, path))
    shown = os.path.relpath(full, folder).replace(os.sep, "/")
    if kind == "yaml" and not full.lower().endswith((".yaml", ".yml")):
        return None
    if kind == "json" and not full.lower().endswith(".json"):
        return None
    return load(model, shown, full)


def _opened_path(model, expr, scope, order) -> Optional[str]:
    """The path (relative to the script's folder) `open(path)` is called with, `expr`
    being that call or a name bound to it (`with open(p) as f`, `f = open(p)`)."""
    if isinstance(expr, cst.Name):
        b = model.lookup(expr.value, scope, order)
        if b is None or len(b.scope.bindings.get(expr.value, ())) != 1:
            return None
        if b.kind == "with" and isinstance(b.statement, cst.With):
            item = next((it for it in b.statement.items if it.asname is not None
                         and isinstance(it.asname.name, cst.Name) and it.asname.name.value == expr.value), None)
            if item is None:
                return None
            expr, scope, order = item.item, b.scope, b.order
        elif b.kind == "assign" and b.value is not None:
            expr, scope, order = b.value, b.scope, b.order
        else:
            return None
    if not isinstance(expr, cst.Call):
        return None
    f = expr.func
    is_open = isinstance(f, cst.Name) and f.value == "open" and model.lookup("open", scope, order) is None
    if not is_open and model.qualname(f, scope, order) not in ("io.open", "codecs.open"):
        return None
    if not expr.args or expr.args[0].keyword is not None or expr.args[0].star:
        return None
    for a in expr.args[1:]:
        if a.keyword is None or a.keyword.value == "mode":
            mode = model.literal(a.value, scope, order)
            if not isinstance(mode, str) or any(c in mode for c in "wax+"):
                return None
            break
    got = _path_value(model, expr.args[0].value, scope, order, 0)
    if got is None or got is _SCRIPT_DIR:
        return None
    return got


def _path_value(model, expr, scope, order, depth):
    """A path string relative to the script's folder, _SCRIPT_DIR for the folder itself
    (`os.path.dirname(__file__)`, `Path(__file__).parent`), or None."""
    if depth > 8:
        return None
    if isinstance(expr, cst.Name):
        if expr.value == "__file__" and model.lookup("__file__", scope, order) is None:
            return "__file__"
        from msfix.analysis.values import _constant_binding

        b = _constant_binding(model, expr, scope, order)
        if b is None:
            return None
        return _path_value(model, b.value, b.scope, b.order, depth + 1)
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
        v = model.literal(expr, scope, order)
        if not isinstance(v, str) or os.path.isabs(v) or not v:
            return None
        return v
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Divide):  # Path(...) / "x"
        left = _path_value(model, expr.left, scope, order, depth + 1)
        right = model.literal(expr.right, scope, order)
        if left is _SCRIPT_DIR and isinstance(right, str) and not os.path.isabs(right):
            return right
        return None
    if isinstance(expr, cst.Attribute) and expr.attr.value == "parent":
        inner = _path_value(model, expr.value, scope, order, depth + 1)
        return _SCRIPT_DIR if inner == "__file__" else None
    if not isinstance(expr, cst.Call) or any(a.star or a.keyword for a in expr.args):
        return None
    q = model.qualname(expr.func, scope, order)
    args = [a.value for a in expr.args]
    if isinstance(expr.func, cst.Attribute) and expr.func.attr.value in ("resolve", "absolute") and not args:
        inner = _path_value(model, expr.func.value, scope, order, depth + 1)
        return inner if inner in ("__file__", _SCRIPT_DIR) else None
    if q in ("os.path.abspath", "os.path.realpath", "pathlib.Path", "pathlib.PurePath") and len(args) == 1:
        inner = _path_value(model, args[0], scope, order, depth + 1)
        return inner if inner in ("__file__", _SCRIPT_DIR) or q.startswith("pathlib") else None
    if q == "os.path.dirname" and len(args) == 1:
        inner = _path_value(model, args[0], scope, order, depth + 1)
        return _SCRIPT_DIR if inner == "__file__" else None
    if q in ("os.path.join", "posixpath.join") and args:
        parts = [_path_value(model, a, scope, order, depth + 1) for a in args]
        if parts[0] is _SCRIPT_DIR:
            parts = parts[1:]
        if not parts or any(not isinstance(p, str) or p == "__file__" for p in parts):
            return None
        return "/".join(parts)
    return None

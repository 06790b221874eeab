"""Jupyter notebooks (.ipynb), checked and fixed as ruff does.

The code cells are joined into one Python text, in order (a notebook runs top to
bottom, so a name defined in cell 2 is known in cell 5), with a marker comment line
between two cells. IPython syntax (`%magic`, `!shell`, `x = !ls`, `obj?`) is replaced
line for line by a placeholder statement while linting and put back afterwards;
cells whose first line is a cell magic other than `%%time`/`%%timeit`/`%%capture`/
`%%prun` (e.g. `%%bash`, `%%writefile`) are not Python and are left out.

Each cell is first cleaned up as IPython (7 and 8) does before compiling it: when
its first non-blank line is indented, that indentation is removed from every line
that starts with it (`leading_indent`); columns are reported in the cell as written.

Positions are reported as `cell N:line:column`: N counts every cell of the notebook
from 1 (markdown cells too, as Jupyter shows them), line counts within the cell.

Jupyter compiles each cell on its own, so a cell that does not parse fails alone:
it is reported as `cell N:line:col: syntax error: ...` (the file exits 2) and left
out of the joined text (an opaque placeholder keeps the line numbers and tells the
name rules that it may define anything); the other cells are still checked. In fix
mode such a notebook is not changed (as a .py file with a syntax error is not), but
the other cells' diagnostics are reported.

Fixes are applied to the joined text, split back at the markers and written into
the cells' `source`. Only the bytes of the `source` values that changed are
rewritten; the rest of the file (key order, indentation, outputs, metadata,
escaping) is kept byte for byte.
"""

from __future__ import annotations

import ast
import difflib
import json
import re
import warnings
from dataclasses import dataclass, field
from json.decoder import scanstring  # type: ignore[attr-defined]  # defined at run time, not in typeshed
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Type, cast

from msfix.diagnostics import Diagnostic, Span
from msfix.engine import FileResult, ParseError, fix_text, lint_text, parse
from msfix.rule import Rule
from msfix.source import SourceError, SourceFile

CELL_MARK = "# msfix: cell boundary (do not edit)"
_MAGIC_MARK = re.compile(r"# msfix-magic-(\d+)\b")
_PY_CELL_MAGICS = {"time", "timeit", "capture", "prun", "debug"}
_ASSIGN_MAGIC = re.compile(r"^(\s*)([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)\s*=\s*[%!]")


class NotebookError(Exception):
    """Not a notebook msfix can read; str(err) is a one-line reason."""


# -- a JSON scanner that remembers where each value is ---------------------------------
@dataclass
class _Node:
    value: object
    start: int
    end: int
    members: Dict[str, "_Node"] = field(default_factory=dict)  # an object's: key -> its value's node
    elements: List["_Node"] = field(default_factory=list)  # an array's: the node of each element


_WS = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")


def _ws_end(s: str, i: int) -> int:
    """The offset after the JSON whitespace starting at `i`."""
    m = _WS.match(s, i)
    assert m is not None  # _WS matches the empty string
    return m.end()


def _scan(s: str, i: int) -> _Node:
    i = _ws_end(s, i)
    if i >= len(s):
        raise NotebookError("not valid JSON: unexpected end of file")
    c = s[i]
    if c == "{":
        items: Dict[str, _Node] = {}
        value: Dict[str, object] = {}
        j = _ws_end(s, i + 1)
        if s.startswith("}", j):
            return _Node(value, i, j + 1, members=items)
        while True:
            j = _ws_end(s, j)
            if not s.startswith('"', j):
                raise NotebookError(f"not valid JSON at offset {j}: expected a key")
            key, j = scanstring(s, j + 1)
            j = _ws_end(s, j)
            if not s.startswith(":", j):
                raise NotebookError(f"not valid JSON at offset {j}: expected ':'")
            node = _scan(s, j + 1)
            items[key] = node
            value[key] = node.value
            j = _ws_end(s, node.end)
            if s.startswith(",", j):
                j += 1
                continue
            if s.startswith("}", j):
                return _Node(value, i, j + 1, members=items)
            raise NotebookError(f"not valid JSON at offset {j}: expected ',' or '}}'")
    if c == "[":
        nodes: List[_Node] = []
        j = _ws_end(s, i + 1)
        if s.startswith("]", j):
            return _Node([], i, j + 1, elements=nodes)
        while True:
            node = _scan(s, j)
            nodes.append(node)
            j = _ws_end(s, node.end)
            if s.startswith(",", j):
                j += 1
                continue
            if s.startswith("]", j):
                return _Node([n.value for n in nodes], i, j + 1, elements=nodes)
            raise NotebookError(f"not valid JSON at offset {j}: expected ',' or ']'")
    if c == '"':
        text, j = scanstring(s, i + 1)
        return _Node(text, i, j)
    m = _SCALAR.match(s, i)
    if m is None:
        raise NotebookError(f"not valid JSON at offset {i}")
    return _Node(json.loads(m.group()), i, m.end())


# -- cells -----------------------------------------------------------------------------
@dataclass
class Cell:
    number: int  # 1-based among all cells
    text: str  # the cell's source as the user wrote it
    lint: str  # the same, IPython syntax replaced line for line by placeholders
    magics: List[str]  # original lines, indexed by the placeholder's number
    node: _Node  # the `source` value in the file
    prefixes: List[str] = field(default_factory=list)  # per line, what leading_indent removed

    def shift(self, line: int) -> int:
        """Columns removed from the start of `line` (1-based) by leading_indent."""
        return len(self.prefixes[line - 1]) if 0 < line <= len(self.prefixes) else 0

    def restore(self, lint: str) -> str:
        """The cell's text as written, from a (possibly fixed) text with placeholders."""
        return _reindent(self, _unmask(lint, self.magics))


_INDENT = re.compile(r"[ \t]+")


def _leading_indent(text: str) -> Tuple[str, List[str]]:
    """IPython's `leading_indent` cleanup (7.x, 8.x): if the first non-blank line is
    indented, that indentation is removed from every line that starts with it. Returns
    the text and, per line, the prefix removed (all "" when nothing was)."""
    lines = text.splitlines(keepends=True)
    first = next((i for i, raw in enumerate(lines) if raw and not raw.isspace()), None)
    if first is None:
        return text, []
    m = _INDENT.match(lines[first])
    if m is None:
        return text, []
    space = m.group()
    prefixes = ["" if i < first or not raw.startswith(space) else space for i, raw in enumerate(lines)]
    return "".join(raw[len(p):] for raw, p in zip(lines, prefixes)), prefixes


def _reindent(cell: "Cell", clean: str) -> str:
    """Put back the indentation leading_indent removed: unchanged lines as written,
    changed lines with their line's prefix, new lines with the cell's indentation."""
    if not any(cell.prefixes):
        return clean
    old = cell.text.splitlines(keepends=True)
    old_clean = [raw[len(p):] for raw, p in zip(old, cell.prefixes)]
    new = clean.splitlines(keepends=True)
    indent = next(p for p in cell.prefixes if p)
    out: List[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old_clean, new, autojunk=False).get_opcodes():
        if tag == "equal":
            out.extend(old[i1:i2])
            continue
        for k, raw in enumerate(new[j1:j2]):
            p = cell.prefixes[i1 + k] if tag == "replace" and i2 - i1 == j2 - j1 else indent
            out.append(p + raw if raw.strip() else raw)
    return "".join(out)


def _mask_magics(text: str) -> Tuple[str, List[str]]:
    lines = text.splitlines(keepends=True)
    magics: List[str] = []
    out: List[str] = []
    continuing = False
    indent = ""
    for raw in lines:
        body = raw.rstrip("\r\n")
        eol = raw[len(body):]
        stripped = body.strip()
        is_magic = continuing or stripped.startswith(("%", "!")) or (
            stripped.startswith("?") or (stripped.endswith("?") and not stripped.startswith("#")))
        assign = None if continuing else _ASSIGN_MAGIC.match(body)
        if is_magic or assign:
            n = len(magics)
            magics.append(body)
            if not continuing:
                indent = body[: len(body) - len(body.lstrip())]
            if assign:
                out.append(f"{assign.group(1)}{assign.group(2)} = ...  # msfix-magic-{n}{eol}")
            elif indent:  # inside a block a statement keeps the block valid
                out.append(f"{indent}pass  # msfix-magic-{n}{eol}")
            else:  # at top level a comment: new imports go after the real imports
                out.append(f"# msfix-magic-{n}{eol}")
            continuing = body.endswith("\\")
            continue
        out.append(raw)
    return "".join(out), magics


def _unmask(text: str, magics: Sequence[str]) -> str:
    if not magics:
        return text
    out = []
    for raw in text.splitlines(keepends=True):
        m = _MAGIC_MARK.search(raw)
        if m is not None and int(m.group(1)) < len(magics):
            body = raw.rstrip("\r\n")
            raw = magics[int(m.group(1))] + raw[len(body):]
        out.append(raw)
    return "".join(out)


def _magics_intact(text: str, magics: Sequence[str]) -> bool:
    found = [int(m.group(1)) for m in _MAGIC_MARK.finditer(text)]
    return sorted(found) == list(range(len(magics)))


def _lines(text: str) -> int:
    return len(text.splitlines())


@dataclass
class Notebook:
    raw: str
    cells: List[Cell]

    @classmethod
    def parse(cls, raw: str) -> "Notebook":
        root = _scan(raw, 0)
        if _ws_end(raw, root.end) != len(raw):
            raise NotebookError("not valid JSON: text after the notebook")
        if not isinstance(root.value, dict):
            raise NotebookError("not a notebook: the top level is not a JSON object")
        nb = root.value
        if "cells" not in nb:
            if "worksheets" in nb:
                raise NotebookError("nbformat 3 notebooks are not supported; convert with `jupyter nbconvert --to notebook`")
            raise NotebookError("not a notebook: no `cells`")
        lang = (nb.get("metadata") or {}).get("language_info", {}) if isinstance(nb.get("metadata"), dict) else {}
        if isinstance(lang, dict) and lang.get("name") not in (None, "python"):
            return cls(raw, [])  # an R or Julia notebook: nothing to check
        if not isinstance(nb["cells"], list):
            raise NotebookError("not a notebook: `cells` is not a list")
        cells: List[Cell] = []
        for i, node in enumerate(root.members["cells"].elements, start=1):
            if not isinstance(node.value, dict) or node.value.get("cell_type") != "code":
                continue
            src = node.members.get("source")
            if src is None:
                continue
            # nbformat: a string or a list of strings (join raises on anything else)
            text = src.value if isinstance(src.value, str) else "".join(cast(List[str], src.value))
            first = text.lstrip().split("\n", 1)[0]
            if first.startswith("%%") and first[2:].split(" ")[0].strip() not in _PY_CELL_MAGICS:
                continue  # %%bash, %%writefile, ...: not Python
            clean, prefixes = _leading_indent(text)
            lint, magics = _mask_magics(clean)
            cells.append(Cell(i, text, lint, magics, src, prefixes))
        return cls(raw, cells)

    # -- the joined Python text ----------------------------------------------------
    def joined(self, texts: Optional[Sequence[str]] = None) -> str:
        texts = [c.lint for c in self.cells] if texts is None else texts
        parts = []
        for t in texts:
            parts.append(t if t.endswith("\n") or not t else t + "\n")
        return (CELL_MARK + "\n").join(parts)

    def starts(self, texts: Optional[Sequence[str]] = None) -> List[int]:
        """First line of each cell in the joined text."""
        texts = [c.lint for c in self.cells] if texts is None else texts
        out, line = [], 1
        for t in texts:
            out.append(line)
            line += _lines(t) + 1
        return out

    def split(self, joined: str) -> Optional[List[str]]:
        """Cell texts (with placeholders) from the joined text; None if a fix moved a
        boundary marker."""
        chunks: List[List[str]] = [[]]
        for raw in joined.splitlines(keepends=True):
            if raw.rstrip("\r\n") == CELL_MARK:
                chunks.append([])
            else:
                chunks[-1].append(raw)
        if len(chunks) != len(self.cells):
            return None
        out = []
        for cell, chunk in zip(self.cells, chunks):
            t = "".join(chunk)
            if not cell.lint.endswith("\n") and t.endswith("\n"):
                t = t[:-1]
            out.append(t)
        return out

    def locate(self, line: int, starts: Sequence[int]) -> Tuple[int, int]:
        """(cell index in self.cells, line in cell) of a line of the joined text."""
        k = 0
        for i, s in enumerate(starts):
            if s <= line:
                k = i
        return k, max(1, line - starts[k] + 1)

    # -- writing back ----------------------------------------------------------------
    def render(self, new_texts: Dict[int, str]) -> str:
        """The notebook's text with the `source` of the cells in new_texts (index in
        self.cells -> text) replaced, everything else kept byte for byte."""
        ascii_only = not any(ord(ch) > 127 for ch in self.raw) and "\\u" in self.raw
        edits = []
        for k, text in new_texts.items():
            cell = self.cells[k]
            if text == cell.text:
                continue
            edits.append((cell.node.start, cell.node.end, self._source_json(cell.node, text, ascii_only)))
        out = self.raw
        for start, end, rep in sorted(edits, reverse=True):
            out = out[:start] + rep + out[end:]
        return out

    def _source_json(self, node: _Node, text: str, ascii_only: bool) -> str:
        if isinstance(node.value, str):
            return json.dumps(text, ensure_ascii=ascii_only)
        lines = text.splitlines(keepends=True)
        elems = node.elements
        raw = self.raw
        if len(elems) >= 2:
            opening = raw[node.start + 1:elems[0].start]
            between = raw[elems[0].end:elems[1].start]
            closing = raw[elems[-1].end:node.end - 1]
        elif len(elems) == 1:
            opening = raw[node.start + 1:elems[0].start]
            closing = raw[elems[0].end:node.end - 1]
            between = "," + opening
        else:
            line_start = raw.rfind("\n", 0, node.start) + 1
            head = raw[line_start:node.start]
            key_indent = head[: len(head) - len(head.lstrip(" \t"))]
            second = raw.split("\n", 2)[1] if raw.count("\n") >= 1 else ""
            unit = second[: len(second) - len(second.lstrip(" \t"))] or " "
            if "\n" in raw:
                opening, closing = "\n" + key_indent + unit, "\n" + key_indent
            else:
                opening, closing = "", ""
            between = "," + opening
        if not lines:
            return "[]"
        return "[" + opening + between.join(json.dumps(x, ensure_ascii=ascii_only) for x in lines) + closing + "]"


# -- diagnostics and results -------------------------------------------------------------
@dataclass(frozen=True)
class NotebookDiagnostic(Diagnostic):
    """A diagnostic in a notebook: `span` counts lines within cell number `cell`. The
    offsets of a fix's edits refer to the joined text of the code cells."""

    cell: Optional[int] = None

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["cell"] = self.cell
        return d


@dataclass
class NotebookResult(FileResult):
    notebook: Optional[Notebook] = None
    cell_texts: Dict[int, str] = field(default_factory=dict)  # cell number -> text after fixes

    def cell_lines(self, number: Optional[int]) -> List[str]:
        if number is None:
            return []
        if number in self.cell_texts:
            return self.cell_texts[number].splitlines()
        for c in self.notebook.cells if self.notebook else ():
            if c.number == number:
                return c.text.splitlines()
        return []

    def cell_diff(self) -> str:
        out: List[str] = []
        name = self.path.replace("\\", "/")
        for c in self.notebook.cells if self.notebook else ():
            new = self.cell_texts.get(c.number, c.text)
            if new == c.text:
                continue
            a = c.text.splitlines(keepends=True)
            b = new.splitlines(keepends=True)
            src = f"{name}:cell {c.number}"
            out.extend(difflib.unified_diff(a, b, fromfile=f"a/{src}", tofile=f"b/{src}"))
        return "".join(x if x.endswith(("\n", "\r")) else x + "\n" for x in out)

    def apply_to_cells(self, fn: Callable, wanted: Dict[Tuple[Optional[int], int], object]):
        """Run fn(cell text with placeholders, {line: codes}) -> (text, n, skipped) on
        every cell named in `wanted` ((cell, line) -> codes); returns the notebook text,
        the total n and the skipped positions as `cell N:line`."""
        nb = self.notebook
        per_cell: Dict[Optional[int], Dict[int, object]] = {}
        for (cell, line), codes in wanted.items():
            per_cell.setdefault(cell, {})[line] = codes
        new: Dict[int, str] = {}
        total = 0
        skipped: List[str] = []
        for k, c in enumerate(nb.cells if nb else ()):
            if c.number not in per_cell:
                continue
            text, n, skip = fn(c.lint, per_cell[c.number])
            total += n
            skipped.extend(f"cell {c.number}:{x}" for x in skip)
            if n:
                new[k] = c.restore(text)
        if nb is not None:
            return nb.render(new), total, skipped
        assert self.source is not None, "a notebook result read from a file has its source"
        return self.source.text, total, skipped


def _indent_shifts(cell: Cell, lint: str) -> List[int]:
    """Per line of the cell, how many columns its text as written has before the
    cleaned-up (leading_indent) text: what a column from the linter must gain."""
    if not any(cell.prefixes):
        return []
    out = []
    for a, b in zip(lint.splitlines(), cell.restore(lint).splitlines()):
        wa, wb = len(a) - len(a.lstrip(" \t")), len(b) - len(b.lstrip(" \t"))
        out.append(max(0, wb - wa))
    return out


def _to_cells(nb: Notebook, diags: Sequence[Diagnostic], texts: Sequence[str], path: str) -> List[Diagnostic]:
    starts = nb.starts(texts)
    out: List[Diagnostic] = []
    shifts: Dict[int, List[int]] = {}

    def shift(k: int, line: int) -> int:
        if k not in shifts:
            shifts[k] = _indent_shifts(nb.cells[k], texts[k])
        return shifts[k][line - 1] if 0 < line <= len(shifts[k]) else 0

    def where(m):  # "line 14" in a message -> "cell 5 line 2"
        k, line = nb.locate(int(m.group(1)), starts)
        return f"cell {nb.cells[k].number} line {line}"

    for d in diags:
        k, line = nb.locate(d.span.line, starts)
        k2, end_line = nb.locate(d.span.end_line, starts)
        end_col = d.span.end_column + shift(k, end_line)
        if k2 != k:  # a span running past its cell ends with it
            end_line = max(1, _lines(texts[k]))
            end_col = (len(texts[k].splitlines()[-1]) + 1 + shift(k, end_line)) if texts[k] else 1
        message = re.sub(r"\bline (\d+)\b", where, d.message)
        out.append(NotebookDiagnostic(code=d.code, name=d.name, severity=d.severity, message=message,
                                      span=Span(line, d.span.column + shift(k, line), end_line, end_col),
                                      fix=d.fix, path=path, notes=d.notes, cell=nb.cells[k].number))
    return out


def _parse_error(nb: Notebook, exc: ParseError) -> str:
    msg = str(exc)
    starts = nb.starts()

    def sub(m):
        k, line = nb.locate(int(m.group(1)), starts)
        return f"at cell {nb.cells[k].number}:{line}:{m.group(2)}" if nb.cells else m.group(0)

    return re.sub(r"at (\d+):(\d+)", sub, msg, count=1)


_SYNTAX_AT = re.compile(r"syntax error at (\d+):(\d+): (.*)")


def _cell_error(cell: Cell, libcst: bool = True) -> Optional[str]:
    """Why this cell, compiled alone as Jupyter compiles it (top-level `await` allowed),
    does not parse; None if it does. With `libcst`, also parsed as msfix parses it. The
    reason is one line: `cell N:line:col: ...`."""
    try:
        with warnings.catch_warnings():  # e.g. SyntaxWarning for "\d" in a string: not ours to print
            warnings.simplefilter("ignore")
            compile(cell.lint, f"<cell {cell.number}>", "exec", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
                    dont_inherit=True)
    except SyntaxError as exc:
        line, col, msg = exc.lineno or 1, exc.offset or 1, exc.msg
    except (ValueError, RecursionError, MemoryError) as exc:
        line, col, msg = 1, 1, str(exc)
    else:
        if not libcst:
            return None
        try:
            parse(cell.lint)
        except ParseError as exc:
            m = _SYNTAX_AT.match(str(exc))
            line, col, msg = (int(m.group(1)), int(m.group(2)), m.group(3)) if m else (1, 1, str(exc))
        else:
            return None
    shifts = _indent_shifts(cell, cell.lint)
    col += shifts[line - 1] if 0 < line <= len(shifts) else 0
    return f"cell {cell.number}:{line}:{col}: syntax error: {msg}"


def _opaque(cell: Cell) -> str:
    """Stands for a cell that does not parse, with as many lines: a star import, so the
    rules about names take it as possibly defining anything."""
    return "from _msfix_unparsed_cell import *  # cell left out: it does not parse\n" + \
        "\n" * (max(1, _lines(cell.lint)) - 1)


def _bad_cells(nb: Notebook, libcst: bool) -> Dict[int, str]:
    return {k: why for k, c in enumerate(nb.cells) for why in [_cell_error(c, libcst)] if why}


def _left_out(bad: Dict[int, str], what: str = "left out") -> str:
    return "; ".join(bad.values()) + f" ({'cell' if len(bad) == 1 else 'cells'} {what}; the other cells were checked)"


def _lint_cells(nb: Notebook, rules: Sequence[Type[Rule]], name: str, target_version: Optional[str],
                what: str = "left out"):
    """Lint the joined cells, leaving out those that do not compile alone (Jupyter
    compiles each cell on its own: a statement cannot run on from one cell into the
    next); when the rest does not parse, also those that msfix cannot parse alone.
    Returns (outcome or None, cell texts linted, error or None)."""
    bad = _bad_cells(nb, libcst=False)
    for attempt in (1, 2):
        texts = [_opaque(c) if k in bad else c.lint for k, c in enumerate(nb.cells)]
        try:
            out = lint_text(nb.joined(texts), rules, name, target_version)
            return out, texts, _left_out(bad, what) if bad else None
        except ParseError as exc:
            more = _bad_cells(nb, libcst=True) if attempt == 1 else {}
            if not set(more) - set(bad):
                return None, texts, _parse_error(nb, exc)
            bad = {**bad, **more}
    raise AssertionError("unreachable")


def read_notebook(path: Path, max_bytes: Optional[int] = None) -> Tuple[SourceFile, Notebook]:
    try:
        if max_bytes is not None and path.stat().st_size > max_bytes:
            raise SourceError(f"file is {path.stat().st_size} bytes, over the size limit ({max_bytes} bytes, "
                              "`max-file-size` in config); skipped")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SourceError("no such file or directory") from None
    except PermissionError:
        raise SourceError("permission denied") from None
    except OSError as exc:
        raise SourceError(exc.strerror or str(exc)) from None
    encoding = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise SourceError(f"notebook is not valid UTF-8 (offset {exc.start})") from None
    if encoding == "utf-8-sig":
        text = text.lstrip("\ufeff")
    try:
        nb = Notebook.parse(text)
    except (NotebookError, ValueError) as exc:
        raise SourceError(f"cannot read notebook: {exc}") from None
    except RecursionError:
        raise SourceError("cannot read notebook: nested too deeply") from None
    return SourceFile(path=path, raw=raw, text=text, encoding=encoding), nb


def lint_notebook(path: Path, rules: Sequence[Type[Rule]], target_version: Optional[str] = None,
                  max_bytes: Optional[int] = None) -> NotebookResult:
    name = str(path)
    try:
        src, nb = read_notebook(path, max_bytes)
    except SourceError as exc:
        return NotebookResult(name, error=str(exc))
    res = NotebookResult(name, source=src, notebook=nb)
    if not nb.cells:
        return res
    out, texts, res.error = _lint_cells(nb, rules, name, target_version)
    if out is not None:
        res.diagnostics = _to_cells(nb, out.diagnostics, texts, name)
        res.notes.extend(out.internal_errors)
    return res


def fix_notebook(path: Path, rules: Sequence[Type[Rule]], unsafe: bool = False,
                 target_version: Optional[str] = None, max_bytes: Optional[int] = None) -> NotebookResult:
    """A notebook with a cell that does not parse is not fixed (nothing is written);
    the diagnostics of the other cells are reported."""
    name = str(path)
    try:
        src, nb = read_notebook(path, max_bytes)
    except SourceError as exc:
        return NotebookResult(name, error=str(exc))
    res = NotebookResult(name, source=src, notebook=nb, fixed_text=src.text)
    if not nb.cells:
        return res
    bad = _bad_cells(nb, libcst=False)
    try:
        if bad:
            raise ParseError("a cell does not compile alone")
        joined, out, applied, err = fix_text(nb.joined(), rules, unsafe, name, target_version)
    except ParseError:
        out, texts, res.error = _lint_cells(nb, rules, name, target_version, what="left out, notebook not fixed")
        if out is not None:
            res.diagnostics = _to_cells(nb, out.diagnostics, texts, name)
            res.notes.extend(out.internal_errors)
        return res
    texts = nb.split(joined) if applied else [c.lint for c in nb.cells]
    if texts is not None and not all(_magics_intact(t, c.magics) for c, t in zip(nb.cells, texts)):
        texts, err_text = None, "a fix touched an IPython magic line; notebook left unchanged"
    else:
        err_text = "a fix crossed a cell boundary; notebook left unchanged"
    if texts is None:
        err = err_text
        texts, applied = [c.lint for c in nb.cells], 0
        out = lint_text(nb.joined(), rules, name, target_version)
    new = {k: c.restore(t) for k, (c, t) in enumerate(zip(nb.cells, texts))}
    res.fixed_text = nb.render(new)
    res.cell_texts = {nb.cells[k].number: t for k, t in new.items()}
    res.fixes_applied = applied
    res.fix_error = err
    res.diagnostics = _to_cells(nb, out.diagnostics, texts, name)
    res.notes.extend(out.internal_errors)
    res.dropped_fixes = [_cell_position(nb, texts, d) for d in out.dropped_fixes]
    return res


def _cell_position(nb: Notebook, texts: Sequence[str], line: str) -> str:
    """`12:5: text` (a line of the joined text) -> `cell 3:2:5: text`."""
    m = re.match(r"(\d+):(\d+): ", line)
    if m is None or not nb.cells:
        return line
    k, in_cell = nb.locate(int(m.group(1)), nb.starts(texts))
    return f"cell {nb.cells[k].number}:{in_cell}:{m.group(2)}: {line[m.end():]}"

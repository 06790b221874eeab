"""Positions in fixed text -> positions in the text on disk.

`msfix fix` without `--write` (a dry run) computes the diagnostics that remain after
the fixes, in the fixed text; the file on disk still has the old text. This maps each
remaining diagnostic (its range, the `line N` references in its message and its fix's
edits) back to the file as it is, so the caret sits under the code the user sees.

Unchanged lines map exactly (a line-level diff); inside a changed block a
character-level diff maps what is unchanged exactly and the rest to the start of the
change; a line a fix moved elsewhere is found by its text.
"""

from __future__ import annotations

import bisect
import dataclasses
import difflib
import re
from typing import Dict, List, Literal, Optional, Sequence, Tuple

from msfix.diagnostics import Diagnostic, Edit, Fix, Span

# one opcode of difflib.SequenceMatcher.get_opcodes(): (tag, i1, i2, j1, j2)
_Opcode = Tuple[Literal["replace", "delete", "insert", "equal"], int, int, int, int]


class OffsetMap:
    """Maps character offsets of `new` (fixed text) to offsets of `old` (on disk)."""

    def __init__(self, new: str, old: str) -> None:
        self.new, self.old = new, old
        self.new_lines = new.splitlines(keepends=True)
        self.old_lines = old.splitlines(keepends=True)
        self.new_starts = _starts(self.new_lines)
        self.old_starts = _starts(self.old_lines)
        sm = difflib.SequenceMatcher(None, self.old_lines, self.new_lines, autojunk=False)
        self.blocks = sm.get_opcodes()  # (tag, i1, i2, j1, j2): old[i1:i2] -> new[j1:j2]
        self.block_starts = [b[3] for b in self.blocks]
        # lines of old that a changed block removed, by text: where a moved line came from
        removed: Dict[str, List[int]] = {}
        for tag, i1, i2, _, _ in self.blocks:
            if tag in ("replace", "delete"):
                for i in range(i1, i2):
                    removed.setdefault(self.old_lines[i], []).append(i)
        self.removed = removed
        self._char: Dict[int, List[_Opcode]] = {}

    def _line_of_new(self, offset: int) -> int:
        return max(0, bisect.bisect_right(self.new_starts, offset) - 1)

    def offset(self, offset: int) -> int:
        if not self.new_lines:
            return 0
        line = min(self._line_of_new(offset), len(self.new_lines) - 1)
        col = offset - self.new_starts[line]
        k = max(0, bisect.bisect_right(self.block_starts, line) - 1)
        while k < len(self.blocks) - 1 and self.blocks[k][4] <= line:
            k += 1
        tag, i1, i2, j1, j2 = self.blocks[k]
        if not (j1 <= line < j2):  # past the end
            return len(self.old)
        if tag == "equal":
            return self.old_starts[i1 + line - j1] + col
        text = self.new_lines[line]
        moved = self.removed.get(text)
        if moved and len(moved) == 1:  # the same line, moved by a fix
            return self.old_starts[moved[0]] + col
        if i1 == i2:  # lines only inserted by the fixes: the line that follows them on disk
            return self.old_starts[min(i1, len(self.old_lines))] if i1 < len(self.old_lines) else len(self.old)
        # inside a changed block: a character diff of the block
        a_start, a_end = self.old_starts[i1], self.old_starts[i2]
        b_start, b_end = self.new_starts[j1], self.new_starts[j2]
        ops = self._char.get(k)
        if ops is None:
            ops = difflib.SequenceMatcher(None, self.old[a_start:a_end], self.new[b_start:b_end],
                                          autojunk=False).get_opcodes()
            self._char[k] = ops
        rel = offset - b_start
        for ctag, ci1, ci2, cj1, cj2 in ops:
            if cj1 <= rel < cj2 or (cj1 == cj2 == rel):
                return a_start + (ci1 + rel - cj1 if ctag == "equal" else ci1)
        return a_end

    def position(self, offset: int) -> Tuple[int, int]:
        """An offset of `old` -> (1-based line, 1-based column)."""
        line = max(0, bisect.bisect_right(self.old_starts, offset) - 1)
        if line >= len(self.old_lines) and self.old_lines:
            line = len(self.old_lines) - 1
        return line + 1, offset - (self.old_starts[line] if self.old_starts else 0) + 1

    def new_offset(self, line: int, column: int) -> int:
        i = min(max(line - 1, 0), max(len(self.new_lines) - 1, 0))
        return (self.new_starts[i] if self.new_starts else 0) + column - 1

    def line(self, line: int) -> int:
        return self.position(self.offset(self.new_offset(line, 1)))[0]


def _starts(lines: Sequence[str]) -> List[int]:
    out = [0]
    for ln in lines:
        out.append(out[-1] + len(ln))
    return out


_LINE_REF = re.compile(r"\bline (\d+)\b")


def remap_diagnostic(d: Diagnostic, m: OffsetMap, edits_map: Optional[OffsetMap] = None) -> Diagnostic:
    """`d` (positions in m.new) with positions in m.old. `edits_map` maps the fix's
    edit offsets when they refer to another text (a notebook's joined code)."""
    start = m.offset(m.new_offset(d.span.line, d.span.column))
    end = m.offset(m.new_offset(d.span.end_line, d.span.end_column))
    line, col = m.position(start)
    end_line, end_col = m.position(max(start, end))
    if (end_line, end_col) == (line, col):
        end_col = col + 1
    message = _LINE_REF.sub(lambda g: f"line {m.line(int(g.group(1)))}", d.message)
    fix = d.fix
    em = edits_map or m
    if fix is not None:
        edits = tuple(Edit(em.offset(e.start), max(em.offset(e.start), em.offset(e.end)), e.text)
                      for e in fix.edits)
        fix = Fix(fix.applicability, fix.message, edits)
    return dataclasses.replace(d, span=Span(line, col, end_line, end_col), message=message, fix=fix)


def remap_result(r) -> None:
    """Put the remaining diagnostics of a fix dry run on the positions of the file on
    disk (in place). Notebooks: per cell, with fix offsets in the joined code."""
    if r.source is None or r.fixed_text is None or not r.changed:
        return
    if hasattr(r, "cell_texts") and getattr(r, "notebook", None) is not None:
        nb = r.notebook
        maps = {c.number: OffsetMap(r.cell_texts.get(c.number, c.text), c.text) for c in nb.cells}
        joined_map = OffsetMap(nb.joined([r.cell_texts.get(c.number, c.text) for c in nb.cells]), nb.joined())
        out = []
        for d in r.diagnostics:
            cell = getattr(d, "cell", None)
            out.append(remap_diagnostic(d, maps[cell], joined_map) if cell in maps else d)
        r.diagnostics = out
        r.shown_on_disk = True
        return
    m = OffsetMap(r.fixed_text, r.source.text)
    r.diagnostics = sorted((remap_diagnostic(d, m) for d in r.diagnostics), key=Diagnostic.sort_key)
    r.shown_on_disk = True

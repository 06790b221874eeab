"""Positions of nodes, computed only for the nodes that are reported or rewritten.

LibCST's PositionProvider generates code for the whole module to position every
node. msfix needs positions only for a handful of nodes per file, so it generates
code for the top-level statements up to the one that holds the node (plain codegen,
cheap) and then runs the position-recording codegen on that one statement.
"""

from __future__ import annotations

import re
from typing import Dict, List, Tuple

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst.metadata.position_provider import PositionProvidingCodegenState

NEWLINE_RE = re.compile(r"\r\n?|\n")


class _Sink:
    def __init__(self) -> None:
        self._computed: Dict[cst.CSTNode, object] = {}


class Locator:
    def __init__(self, module: cst.Module, text: str) -> None:
        self.module = module
        self.text = text
        self._line_starts: List[int] | None = None
        self._stmt_lines: List[int] = []  # start line of each top-level statement
        self._plain: CodegenState | None = None
        self._lines_so_far = 1
        self._positioned: Dict[int, Dict[cst.CSTNode, object]] = {}

    # -- lines and offsets --------------------------------------------------------
    @property
    def line_starts(self) -> List[int]:
        if self._line_starts is None:
            starts = [0]
            starts.extend(m.end() for m in NEWLINE_RE.finditer(self.text))
            self._line_starts = starts
        return self._line_starts

    def offset(self, line: int, column: int) -> int:
        """(1-based line, 0-based column) -> character offset."""
        return self.line_starts[line - 1] + column


    def line_text(self, line: int) -> str:
        starts = self.line_starts
        begin = starts[line - 1]
        end = starts[line] if line < len(starts) else len(self.text)
        return NEWLINE_RE.sub("", self.text[begin:end])

    def line_span(self, first_line: int, last_line: int) -> Tuple[int, int]:
        """Offsets covering whole lines first..last including the final newline."""
        starts = self.line_starts
        begin = starts[first_line - 1]
        end = starts[last_line] if last_line < len(starts) else len(self.text)
        return begin, end

    # -- statements ---------------------------------------------------------------
    def _stmt_start_line(self, index: int) -> int:
        body = self.module.body
        if self._plain is None:
            self._plain = CodegenState(
                default_indent=self.module.default_indent,
                default_newline=self.module.default_newline,
            )
            for h in self.module.header:
                h._codegen(self._plain)
            self._lines_so_far = 1 + sum(len(NEWLINE_RE.findall(t)) for t in self._plain.tokens)
        while len(self._stmt_lines) <= index:
            self._stmt_lines.append(self._lines_so_far)
            tokens = self._plain.tokens
            before = len(tokens)
            body[len(self._stmt_lines) - 1]._codegen(self._plain)
            self._lines_so_far += sum(len(NEWLINE_RE.findall(t)) for t in tokens[before:])
        return self._stmt_lines[index]

    def _positions(self, stmt_index: int) -> Dict[cst.CSTNode, object]:
        got = self._positioned.get(stmt_index)
        if got is None:
            sink = _Sink()
            state = PositionProvidingCodegenState(
                default_indent=self.module.default_indent,
                default_newline=self.module.default_newline,
                provider=sink,  # type: ignore[arg-type]
            )
            state.line = self._stmt_start_line(stmt_index)
            state.column = 0
            self.module.body[stmt_index]._codegen(state)
            got = sink._computed
            self._positioned[stmt_index] = got
        return got

    def range(self, node: cst.CSTNode, stmt_index: int):
        """CodeRange (1-based lines, 0-based columns) of `node` in top-level statement."""
        positions = self._positions(stmt_index)
        try:
            return positions[node]
        except KeyError:
            raise LookupError(f"node {type(node).__name__} is not in statement {stmt_index}")

    def offsets(self, node: cst.CSTNode, stmt_index: int) -> Tuple[int, int]:
        r = self.range(node, stmt_index)
        return self.offset(r.start.line, r.start.column), self.offset(r.end.line, r.end.column)

"""Positions of nodes, computed only for the nodes that are reported or rewritten.

LibCST's PositionProvider generates code for the whole module to position every
node. msfix needs positions only for a handful of nodes per file, so it runs the
position-recording codegen on the innermost statement that holds the node: the
analysis walk records that statement and the indents of its blocks
(`ScriptModel.owner`). Its code is generated once, counting lines from 1; the line
it starts on is where that code occurs in the text when it occurs exactly once (most
statements), else the one Python's own `ast` (a C parse) gives, if the code is the
text there. Failing both (and for a node the walk did not record), the line comes
from generating the code of the top-level statements before it.
"""

from __future__ import annotations

import ast
import bisect
import re
import warnings
from typing import Any, Dict, List, Optional, Tuple

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst._position import CodePosition, CodeRange
from libcst.metadata.position_provider import PositionProvidingCodegenState

NEWLINE_RE = re.compile(r"\r\n?|\n")


def parse_ast(text: str) -> ast.Module:
    """Python's own parse of the script, without the warnings it prints about the
    script (invalid escapes are not msfix's to report). Raises SyntaxError."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(text)


class _Sink:
    def __init__(self) -> None:
        self._computed: Dict[cst.CSTNode, object] = {}


class _Mismatch(Exception):
    pass


class _Stop(Exception):
    """The node positions were wanted for has been generated."""


class _PositionState(PositionProvidingCodegenState):
    """Records positions; with `stop`, ends after that node. The nodes still open then
    (its ancestors) are in `open_nodes`: their ranges are not known."""

    stop: Optional[cst.CSTNode] = None
    stopped = False
    open_nodes: List[cst.CSTNode]

    def before_codegen(self, node: cst.CSTNode) -> None:
        super().before_codegen(node)
        if self.stop is not None:
            self.open_nodes.append(node)

    def after_codegen(self, node: cst.CSTNode) -> None:
        super().after_codegen(node)
        if self.stop is not None:
            self.open_nodes.pop()
            if node is self.stop:
                self.stopped = True
                raise _Stop


_COMPOUND: Dict[type, Any] = {
    cst.If: ast.If, cst.For: (ast.For, ast.AsyncFor), cst.While: ast.While,
    cst.With: (ast.With, ast.AsyncWith), cst.Try: ast.Try, cst.TryStar: getattr(ast, "TryStar", ()),
    cst.FunctionDef: (ast.FunctionDef, ast.AsyncFunctionDef), cst.ClassDef: ast.ClassDef,
    cst.Match: getattr(ast, "Match", ()),
}
_COMPOUND_AST = tuple(t for v in _COMPOUND.values() for t in (v if isinstance(v, tuple) else (v,)))


def _block(body) -> Optional[list]:
    """The statements of an indented block; None for a one-line suite (`if x: y`), whose
    small statements are positioned with the compound statement."""
    return list(body.body) if isinstance(body, cst.IndentedBlock) else None


def _pair(stmts: Optional[list], nodes: list, out: Dict[int, int]) -> None:
    """Line each LibCST statement's code starts on (its leading blank and comment lines
    included), from the `ast` statements of the same block."""
    if stmts is None:
        return
    j = 0
    for s in stmts:
        if j >= len(nodes):
            raise _Mismatch
        a = nodes[j]
        if type(s) is cst.SimpleStatementLine:
            if isinstance(a, tuple(_COMPOUND_AST)):
                raise _Mismatch
            out[id(s)] = a.lineno - len(s.leading_lines)
            j += len(s.body)
            continue
        want = _COMPOUND.get(type(s))
        if not want or not isinstance(a, want):
            raise _Mismatch
        j += 1
        first = a.lineno
        decorators = getattr(s, "decorators", ())
        if decorators:
            first = a.decorator_list[0].lineno - len(decorators[0].leading_lines)
        out[id(s)] = first - len(s.leading_lines)
        if isinstance(s, cst.If):
            _pair(_block(s.body), a.body, out)
            if isinstance(s.orelse, cst.If):
                _pair([s.orelse], a.orelse, out)
            elif s.orelse is not None:
                _pair(_block(s.orelse.body), a.orelse, out)
        elif isinstance(s, (cst.For, cst.While)):
            _pair(_block(s.body), a.body, out)
            if s.orelse is not None:
                _pair(_block(s.orelse.body), a.orelse, out)
        elif isinstance(s, (cst.Try, cst.TryStar)):
            _pair(_block(s.body), a.body, out)
            if len(s.handlers) != len(a.handlers):
                raise _Mismatch
            for h, ah in zip(s.handlers, a.handlers):
                _pair(_block(h.body), ah.body, out)  # type: ignore[attr-defined]
            if s.orelse is not None:
                _pair(_block(s.orelse.body), a.orelse, out)
            if s.finalbody is not None:
                _pair(_block(s.finalbody.body), a.finalbody, out)
        elif isinstance(s, cst.Match):
            if len(s.cases) != len(a.cases):
                raise _Mismatch
            for c, ac in zip(s.cases, a.cases):
                _pair(_block(c.body), ac.body, out)
        else:  # With, FunctionDef, ClassDef
            _pair(_block(s.body), a.body, out)
    if j != len(nodes):
        raise _Mismatch



class Locator:
    def __init__(self, module: cst.Module, text: str, owner: Optional[Dict[int, tuple]] = None) -> None:
        """`owner`: ScriptModel.owner (id(node) -> (top index, innermost statement,
        indents)); without it every node is positioned through its top-level statement."""
        self.module = module
        self.text = text
        self.owner = owner
        self._lines: Optional[Dict[int, int]] = None
        # id(statement) -> (generated whole?, its first line - 1, positions counted from
        # line 1), or None when its line is unknown
        self._inner: Dict[int, Optional[Tuple[bool, int, Dict[cst.CSTNode, Any]]]] = {}
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

    def _statement_lines(self) -> Dict[int, int]:
        if self._lines is None:
            lines: Dict[int, int] = {}
            try:
                _pair(list(self.module.body), parse_ast(self.text).body, lines)
            except (_Mismatch, SyntaxError, ValueError, RecursionError, MemoryError, AttributeError):
                lines = {}
            self._lines = lines
        return self._lines

    def _generate(self, state: "_PositionState", stmt: cst.CSTNode, indents: tuple, elif_: bool, stop) -> bool:
        """Run the codegen over `stmt` with its blocks' indents; with `stop` (a node of a
        compound statement's header, say) it ends once that node is done. True when the
        whole statement was generated."""
        state.indent_tokens = list(indents)
        state.stop = stop
        state.open_nodes = []
        try:
            if elif_:
                stmt._codegen(state, is_elif=True)
            else:
                stmt._codegen(state)
        except Exception:
            # the stop unwinds through LibCST's position bookkeeping, which may fail on
            # the way (an end hoisted from a child not generated yet): only a stop is ours
            if not state.stopped:
                raise
            for n in state.open_nodes:  # ranges cut short by the stop
                state.provider._computed.pop(n, None)  # type: ignore[attr-defined]
            return False
        return True

    def _in_text_at(self, code: str, at: int, whole: bool) -> bool:
        """Is `code` the text at offset `at`? The module's last statement may lack the
        newline its code ends with."""
        if self.text.startswith(code, at):
            return True
        if whole and not self.module.has_trailing_newline:
            for nl in ("\r\n", "\n", "\r"):
                if code.endswith(nl):
                    return at + len(code) - len(nl) == len(self.text) and self.text.startswith(code[:-len(nl)], at)
        return False

    def _start_of(self, code: str, whole: bool) -> int:
        """The offset of the one place, at a line start, where `code` is the text; -1 when
        there is none or more than one."""
        text = self.text
        at = text.find(code)
        if at < 0:
            at = len(text) - len(code.rstrip("\r\n"))  # the last statement, without its newline
            if at < 0 or not self._in_text_at(code, at, whole):
                return -1
        elif text.find(code, at + 1) >= 0:
            return -1
        return at if at == 0 or text[at - 1] in "\r\n" else -1

    def _inner_positions(self, frame: tuple, node: cst.CSTNode):
        """(first line - 1, positions counted from line 1) of the nodes of a frame's
        statement (of a compound statement, of its nodes up to `node` at least), or None
        when the line it starts on is unknown. One codegen: the line is where the code
        occurs once in the text, else `ast`'s, checked against the text."""
        stmt = frame[1]
        key = id(stmt)
        if key in self._inner:
            known = self._inner[key]
            if known is None:
                return None
            whole, shift, positions = known
            if whole or node in positions:
                return shift, positions
        # a node in a compound statement's header needs only the code up to it
        stop = None if node is stmt or isinstance(stmt, cst.SimpleStatementLine) else node
        parent = frame[3] if len(frame) > 3 else None
        elif_ = parent is not None and isinstance(parent[1], cst.If) and parent[1].orelse is stmt
        sink = _Sink()
        state = _PositionState(
            default_indent=self.module.default_indent,
            default_newline=self.module.default_newline,
            provider=sink,  # type: ignore[arg-type]
        )
        whole = self._generate(state, stmt, frame[2], elif_, stop)
        code = "".join(state.tokens)
        at = self._start_of(code, whole)
        if at < 0:
            line = self._statement_lines().get(key)
            starts = self.line_starts
            if line is not None and 1 <= line <= len(starts) and self._in_text_at(code, starts[line - 1], whole):
                at = starts[line - 1]
        got = None if at < 0 else (whole, bisect.bisect_right(self.line_starts, at) - 1, sink._computed)
        self._inner[key] = got
        return None if got is None else got[1:]

    def range(self, node: cst.CSTNode, stmt_index: int):
        """CodeRange (1-based lines, 0-based columns) of `node` in top-level statement."""
        frame = self.owner.get(id(node)) if self.owner is not None else None
        if frame is not None and frame[0] == stmt_index and frame[1] is not None:
            inner = self._inner_positions(frame, node)
            if inner is not None:
                shift, positions = inner
                r = positions.get(node)
                if r is not None:
                    return CodeRange(CodePosition(r.start.line + shift, r.start.column),
                                     CodePosition(r.end.line + shift, r.end.column))
        positions = self._positions(stmt_index)
        try:
            return positions[node]
        except KeyError:
            raise LookupError(f"node {type(node).__name__} is not in statement {stmt_index}")

    def offsets(self, node: cst.CSTNode, stmt_index: int) -> Tuple[int, int]:
        r = self.range(node, stmt_index)
        return self.offset(r.start.line, r.start.column), self.offset(r.end.line, r.end.column)

"""`msfix server`: a Language Server (LSP over stdio, built on pygls) for editors.

It publishes msfix's diagnostics for Python documents when they are opened, changed
and saved, and offers code actions: one quick fix per diagnostic that has a fix (safe
fixes are marked preferred), and `source.fixAll.msfix` applying every safe fix.
Settings come from the `[tool.msfix]` / msfix.toml nearest to the document, as on
the command line. Install with `pip install 'msfix[lsp]'`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Optional, Tuple
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from msfix import __version__
from msfix.diagnostics import Diagnostic, Severity

FIX_ALL = "source.fixAll.msfix"


def _path(uri: str) -> Optional[Path]:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))


def _utf16(line_text: str, column: int) -> int:
    """A 0-based code-point column -> UTF-16 code units (the LSP default)."""
    prefix = line_text[:column]
    return column + sum(1 for ch in prefix if ord(ch) > 0xFFFF)


class _Lines:
    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines(keepends=True) or [""]
        self.starts = [0]
        for ln in self.lines:
            self.starts.append(self.starts[-1] + len(ln))

    def position(self, line: int, column: int) -> types.Position:
        """1-based line, 0-based code-point column -> LSP position."""
        i = min(max(line - 1, 0), len(self.lines) - 1)
        return types.Position(line=i, character=_utf16(self.lines[i].rstrip("\r\n"), column))

    def at_offset(self, offset: int) -> types.Position:
        import bisect

        i = max(0, bisect.bisect_right(self.starts, offset) - 1)
        if i >= len(self.lines):
            i = len(self.lines) - 1
        return types.Position(line=i, character=_utf16(self.lines[i], offset - self.starts[i]))


class MsfixServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("msfix", __version__)
        self.results: Dict[str, Tuple[str, List[Diagnostic]]] = {}  # uri -> (text, diagnostics)

    # -- linting -----------------------------------------------------------------------
    def _rules_and_target(self, path: Optional[Path]):
        from msfix.config import ConfigError, settings_for
        from msfix.runner import rules_for

        try:  # the same lookup as the command line: the configuration nearest to the file
            settings = settings_for(path)
        except ConfigError as exc:
            self.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=f"msfix: {exc}"))
            from msfix.config import Settings

            settings = Settings()
        from msfix.target import UnknownTargetVersion, resolve_target

        try:  # as the command line: explicit, else the project's pin, else installed, else newest
            target = resolve_target(path, settings.target_version, settings.sources.get("target-version", "config"))
        except UnknownTargetVersion as exc:
            self.window_show_message(types.ShowMessageParams(type=types.MessageType.Error,
                                                             message=f"msfix: target-version {exc}"))
            target = resolve_target(path)
        return rules_for(settings, path), target.version

    def lint(self, uri: str) -> None:
        from msfix.engine import ParseError, lint_text

        doc = self.workspace.get_text_document(uri)
        text = doc.source
        path = _path(uri)
        if path is not None and path.suffix not in (".py", ".pyi", ""):
            return
        rules, target = self._rules_and_target(path)
        lines = _Lines(text)
        try:
            diags = lint_text(text, rules, str(path or uri), target).diagnostics
        except ParseError as exc:
            self.results[uri] = (text, [])
            m = re.search(r"at (\d+):(\d+)", str(exc))
            line, col = (int(m.group(1)), int(m.group(2)) - 1) if m else (1, 0)
            pos = lines.position(line, max(col, 0))
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                uri=uri, version=doc.version, diagnostics=[types.Diagnostic(
                    range=types.Range(start=pos, end=pos), message=f"msfix: {exc}", source="msfix",
                    severity=types.DiagnosticSeverity.Error)]))
            return
        self.results[uri] = (text, diags)
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, version=doc.version, diagnostics=[self._lsp(d, lines) for d in diags]))

    @staticmethod
    def _lsp(d: Diagnostic, lines: _Lines) -> types.Diagnostic:
        from msfix.report.sarif import DOCS_URL

        return types.Diagnostic(
            range=types.Range(start=lines.position(d.span.line, d.span.column - 1),
                              end=lines.position(d.span.end_line, d.span.end_column - 1)),
            message=d.message,
            severity=types.DiagnosticSeverity.Error if d.severity is Severity.ERROR
            else types.DiagnosticSeverity.Warning,
            code=d.code,
            code_description=types.CodeDescription(href=f"{DOCS_URL}{d.code}.md"),
            source="msfix",
            data={"fix": None if d.fix is None else d.fix.applicability.value},
        )

    # -- code actions --------------------------------------------------------------------
    def code_actions(self, params: types.CodeActionParams) -> List[types.CodeAction]:
        uri = params.text_document.uri
        if uri not in self.results:
            self.lint(uri)
        text, diags = self.results.get(uri, ("", []))
        if text != self.workspace.get_text_document(uri).source:
            self.lint(uri)
            text, diags = self.results.get(uri, ("", []))
        lines = _Lines(text)
        only = params.context.only
        actions: List[types.CodeAction] = []
        want_quickfix = not only or any(k.startswith(types.CodeActionKind.QuickFix) for k in only)
        if want_quickfix:
            r = params.range
            for d in diags:
                if d.fix is None:
                    continue
                ld = self._lsp(d, lines)
                if (ld.range.end.line, ld.range.end.character) < (r.start.line, r.start.character) or \
                        (ld.range.start.line, ld.range.start.character) > (r.end.line, r.end.character):
                    continue
                edits = [types.TextEdit(range=types.Range(start=lines.at_offset(e.start), end=lines.at_offset(e.end)),
                                        new_text=e.text) for e in d.fix.edits]
                unsafe = "" if d.fix.is_safe else " (unsafe)"
                actions.append(types.CodeAction(
                    title=f"{d.code}: {d.fix.message}{unsafe}", kind=types.CodeActionKind.QuickFix,
                    diagnostics=[ld], is_preferred=d.fix.is_safe,
                    edit=types.WorkspaceEdit(changes={uri: edits})))
        if (not only or any(FIX_ALL.startswith(k) for k in only)) and any(
                d.fix is not None and d.fix.is_safe for d in diags):
            from msfix.engine import ParseError, fix_text

            rules, target = self._rules_and_target(_path(uri))
            try:
                fixed, _, applied, err = fix_text(text, rules, False, uri, target)
            except ParseError:
                applied = 0
            if applied and fixed != text:
                end = lines.at_offset(len(text))
                actions.append(types.CodeAction(
                    title="msfix: fix all safe problems", kind=FIX_ALL,
                    edit=types.WorkspaceEdit(changes={uri: [types.TextEdit(
                        range=types.Range(start=types.Position(line=0, character=0), end=end), new_text=fixed)]})))
        return actions


def create_server() -> MsfixServer:
    server = MsfixServer()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: MsfixServer, params: types.DidOpenTextDocumentParams):
        ls.lint(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: MsfixServer, params: types.DidChangeTextDocumentParams):
        ls.lint(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: MsfixServer, params: types.DidSaveTextDocumentParams):
        ls.lint(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: MsfixServer, params: types.DidCloseTextDocumentParams):
        ls.results.pop(params.text_document.uri, None)
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=params.text_document.uri,
                                                                            diagnostics=[]))

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL], resolve_provider=False))
    def code_action(ls: MsfixServer, params: types.CodeActionParams):
        return ls.code_actions(params)

    return server


def main() -> None:
    create_server().start_io()

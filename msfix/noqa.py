"""The one `# noqa` parser: directives are read from comment tokens only (never from
string contents), by the engine, by MS001 unused-noqa and by `check --add-noqa`.

A directive is `# noqa` (suppresses everything on its line) or `# noqa: CODE[, CODE]`;
codes are letters then digits (`MS202`, `E402`), read to their end, separated by commas
or spaces; the match is case-insensitive, as in ruff and flake8.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from typing import Dict, Iterator, Optional, Tuple

_DIRECTIVE = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Za-z]+[0-9]+\w*(?:[\s,]+[A-Za-z]+[0-9]+\w*)*))?", re.I)


@dataclass(frozen=True)
class Directive:
    """A noqa directive inside one comment: `codes` None for a bare `# noqa`; the
    offsets are within the comment text."""

    line: int
    column: int  # 0-based column of the comment on its line
    comment: str
    start: int  # the directive within the comment
    end: int
    codes: Optional[Tuple[str, ...]]  # as written
    codes_start: int = -1
    codes_end: int = -1

    @property
    def upper_codes(self) -> Optional[frozenset]:
        return None if self.codes is None else frozenset(c.upper() for c in self.codes)


def comments(text: str) -> Iterator[Tuple[int, int, str]]:
    """(line, 0-based column, text) of every comment token; nothing once the text
    stops tokenizing."""
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                yield tok.start[0], tok.start[1], tok.string
    except (tokenize.TokenError, SyntaxError):
        return


def parse_comment(comment: str, line: int = 0, column: int = 0) -> Optional[Directive]:
    """The noqa directive in one comment's text, if any."""
    m = _DIRECTIVE.search(comment)
    if m is None:
        return None
    if m.group("codes") is None:
        return Directive(line, column, comment, m.start(), m.end(), None)
    codes = tuple(c for c in re.split(r"[\s,]+", m.group("codes")) if c)
    return Directive(line, column, comment, m.start(), m.end(), codes, m.start("codes"), m.end("codes"))


def directives(text: str) -> Dict[int, Directive]:
    """line -> the noqa directive of the comment on that line."""
    if "noqa" not in text.lower():
        return {}
    out: Dict[int, Directive] = {}
    for line, col, comment in comments(text):
        d = parse_comment(comment, line, col)
        if d is not None:
            out[line] = d
    return out


def suppressed(directive: Optional[Directive], code: str) -> bool:
    """Does the directive suppress `code` on its line?"""
    if directive is None:
        return False
    codes = directive.upper_codes
    return codes is None or code.upper() in codes


def codes_in(comment: str) -> Optional[frozenset]:
    """None: no noqa in the comment. Empty set: bare `# noqa` (everything). Else the
    codes, upper-cased."""
    d = parse_comment(comment)
    if d is None:
        return None
    return frozenset() if d.codes is None else d.upper_codes

"""`msfix check --add-noqa`: put `# noqa: CODE` on every reported line, so that an old
code base can adopt msfix and only new defects fail the build."""

from __future__ import annotations

import io
import tokenize
from typing import Dict, Iterable, List, Set, Tuple

from msfix.noqa import parse_comment



def _line_facts(text: str) -> Tuple[Set[int], Dict[int, int]]:
    """Lines whose end is outside any string (a comment may go there), and the column
    of each line's comment."""
    ends: Set[int] = set()
    comments: Dict[int, int] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.NEWLINE, tokenize.NL):
                ends.add(tok.start[0])
            elif tok.type == tokenize.COMMENT:
                comments[tok.start[0]] = tok.start[1]
            elif tok.type == tokenize.ENDMARKER:
                ends.add(tok.start[0] - 1 if tok.start[1] == 0 else tok.start[0])
    except (tokenize.TokenError, SyntaxError):
        pass
    return ends, comments


def add_noqa(text: str, wanted: Dict[int, Iterable[str]]) -> Tuple[str, int, List[int]]:
    """Add the codes in `wanted` (line -> codes) as noqa directives.

    Returns (new text, number of lines changed, lines that cannot carry a comment,
    e.g. a line that ends inside a multi-line string)."""
    ends, comments = _line_facts(text)
    lines = text.splitlines(keepends=True)
    changed = 0
    skipped: List[int] = []
    for line, codes in sorted(wanted.items()):
        if not 0 < line <= len(lines):
            continue
        codes = sorted(set(c.upper() for c in codes))
        raw = lines[line - 1]
        body = raw.rstrip("\r\n")
        eol = raw[len(body):]
        if line not in ends:
            skipped.append(line)
            continue
        col = comments.get(line)
        comment = body[col:] if col is not None else ""
        directive = parse_comment(comment) if comment else None
        if directive is not None:
            have = directive.upper_codes
            if have is None or all(c in have for c in codes):
                continue  # a bare noqa, or the codes are there already
            merged = list(directive.codes or ()) + [c for c in codes if c not in have]
            comment = comment[:directive.codes_start] + ", ".join(merged) + comment[directive.codes_end:]
            body = body[:col] + comment
        else:
            body = body.rstrip(" \t") + f"  # noqa: {', '.join(codes)}"
        lines[line - 1] = body + eol
        changed += 1
    return "".join(lines), changed, skipped

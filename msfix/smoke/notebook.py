"""``msfix smoke x.ipynb``: a notebook's code cells, in order, as one Python script.

The cells are cleaned up as IPython does (``leading_indent``); IPython syntax is
dropped line for line (``%magic``, ``!shell``, ``obj?``; ``x = !ls`` becomes
``x = ...``), except that ``%time STMT`` / ``%timeit STMT`` run ``STMT`` once;
cells in another language (``%%bash``, ``%%writefile``, ...) are skipped. A
notebook whose cells do not all parse, or that has no code to run, is refused:
Jupyter would stop at the bad cell too. Lines keep their numbers within each
cell, so a crash line in the script maps back to ``cell N:line``.

Never imports MindSpore; runs in the parent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

# IPython defines `display` in every cell's namespace; plain Python does not.
HEADER = ("display = globals().get('display') or (lambda *objs, **kw: print(*objs))"
          "  # msfix smoke: IPython's display\n")

_PLACEHOLDER = re.compile(r"^(\s*)(?:pass  )?# msfix-magic-(\d+)\s*$")
_TIME = re.compile(r"^%(?:time|timeit)\s+((?:-[nr]\s*\d+\s+|-[a-z]\s+)*)(\S.*)$")


class NotRunnable(Exception):
    """The notebook cannot be run as a script; str(err) is a one-line reason."""


@dataclass
class NotebookScript:
    text: str
    cells: List[int]  # cell numbers (as Jupyter counts them), in order
    starts: List[int]  # first line of each of those cells in `text`

    def locate(self, line: Optional[int]) -> Tuple[Optional[int], Optional[int]]:
        """(cell number, line in the cell) of a line of the script; (None, None) for
        the header or an unknown line."""
        if line is None or not self.starts or line < self.starts[0]:
            return None, None
        k = max(i for i, s in enumerate(self.starts) if s <= line)
        return self.cells[k], line - self.starts[k] + 1


def _runnable(cell) -> str:
    """The cell's code with placeholders: `%time STMT` runs STMT, other magics stay
    dropped (a comment, or `pass` inside a block)."""
    out = []
    for raw in cell.lint.splitlines(keepends=True):
        m = _PLACEHOLDER.match(raw.rstrip("\r\n"))
        if m is not None and int(m.group(2)) < len(cell.magics):
            magic = cell.magics[int(m.group(2))].strip()
            t = _TIME.match(magic)
            if t is not None and not magic.endswith("\\"):
                raw = m.group(1) + t.group(2) + raw[len(raw.rstrip("\r\n")):]
        out.append(raw)
    return "".join(out)


def notebook_script(path: Path) -> NotebookScript:
    """The script for ``path``; raises :class:`NotRunnable`."""
    from msfix.notebook import _cell_error, read_notebook
    from msfix.source import SourceError

    try:
        _src, nb = read_notebook(path)
    except SourceError as exc:
        raise NotRunnable(str(exc)) from None
    if not nb.cells:
        raise NotRunnable("no Python code cells to run (a notebook in another language, or only markdown)")
    bad = [why for why in map(_cell_error, nb.cells) if why]
    if bad:
        raise NotRunnable("; ".join(bad) + " (Jupyter would stop there too; fix the cell first)")
    texts = [_runnable(c) for c in nb.cells]
    offset = HEADER.count("\n")
    return NotebookScript(HEADER + nb.joined(texts), [c.number for c in nb.cells],
                          [s + offset for s in nb.starts(texts)])

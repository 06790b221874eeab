"""The objects a rule produces: diagnostics, fixes and text edits."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Optional, Tuple


class Severity(str, enum.Enum):
    """error: the script will crash or silently corrupt results. warning: likely wrong."""

    ERROR = "error"
    WARNING = "warning"


class Applicability(str, enum.Enum):
    """safe: keeps behaviour or is the only reading that runs. unsafe: guesses intent."""

    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True, order=True)
class Edit:
    """Replace text[start:end] (character offsets into the decoded source) with `text`."""

    start: int
    end: int
    text: str

    def overlaps(self, other: "Edit") -> bool:
        """Two edits conflict when their ranges intersect, or two different insertions
        share a point (their order would be a guess). Two fixes may share an identical
        insertion (the same import); identical deletions or replacements conflict, since
        they can belong to different moves of the same code."""
        if self == other:
            return self.start != self.end
        a, b = self, other
        if a.start == a.end and b.start == b.end:
            return a.start == b.start
        if a.start == a.end:
            return b.start < a.start < b.end
        if b.start == b.end:
            return a.start < b.start < a.end
        return a.start < b.end and b.start < a.end


@dataclass(frozen=True)
class Fix:
    applicability: Applicability
    message: str
    edits: Tuple[Edit, ...]

    @classmethod
    def safe(cls, message: str, *edits: Edit) -> "Fix":
        return cls(Applicability.SAFE, message, tuple(sorted(set(edits))))

    @classmethod
    def unsafe(cls, message: str, *edits: Edit) -> "Fix":
        return cls(Applicability.UNSAFE, message, tuple(sorted(set(edits))))

    @property
    def is_safe(self) -> bool:
        return self.applicability is Applicability.SAFE


@dataclass(frozen=True)
class Span:
    """1-based line and column, end exclusive (as ruff reports)."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Diagnostic:
    code: str
    name: str
    severity: Severity
    message: str
    span: Span
    fix: Optional[Fix] = None
    path: str = ""
    notes: Tuple[str, ...] = field(default=())

    def sort_key(self):
        return (self.path, self.span.line, self.span.column, self.code, self.message)

    def to_dict(self) -> dict:
        return {
            "file": self.path,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "message": self.message,
            "fix": None
            if self.fix is None
            else {
                "applicability": self.fix.applicability.value,
                "message": self.fix.message,
                "edits": [
                    {"start": e.start, "end": e.end, "content": e.text}
                    for e in self.fix.edits
                ],
            },
        }

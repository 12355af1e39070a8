"""Located configuration problems: `file:line:col: error: message (field path)`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Path_ = tuple[str | int, ...]


def field_path(path: Path_) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


# slots: a SourceMap holds one per value and key of the configuration (~120,000 per 10,000 destinations).
@dataclass(frozen=True, order=True, slots=True)
class Location:
    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Problem:
    location: Location
    message: str
    path: Path_ = ()

    def __str__(self) -> str:
        suffix = f" ({field_path(self.path)})" if self.path else ""
        return f"{self.location}: error: {self.message}{suffix}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "message": self.message,
            "field": field_path(self.path),
        }

"""Output formats. Every formatter takes the same list of FileResult and returns text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ..model import Finding

FORMATS = ("text", "json")


@dataclass(frozen=True)
class FileResult:
    path: str  # as given on the command line ("-" shown as "<stdin>")
    findings: tuple[Finding, ...] = ()
    error: Optional[str] = None  # a file that could not be read or decoded
    extra: dict = field(default_factory=dict, hash=False, compare=False)


def render(results: list[FileResult], fmt: str, *, color: bool = False, version: str = "") -> str:
    if fmt == "json":
        from .json_format import render_json

        return render_json(results, version)
    from .text import render_text

    return render_text(results, color=color)

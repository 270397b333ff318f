"""Plain data for every stage of the pipeline.

Positions are 1-based. ``end_column`` is exclusive (the column just after the last
character), as in SARIF regions, so a one-character span at column 5 ends at column 6.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Optional


class AnalyzerError(Exception):
    """An error the project reports as one clear line and exit code 2."""


class ParseError(AnalyzerError):
    """The Dockerfile cannot be parsed. Carries the position when it is known."""

    def __init__(self, message: str, line: int = 1, column: int = 1):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def __str__(self) -> str:
        return f"line {self.line}:{self.column}: {self.message}"


class DecodeError(AnalyzerError):
    """The input is not a text file Docker could read (binary, invalid UTF-8, too large)."""


def evolve(obj, **changes):
    """``dataclasses.replace`` for the model's frozen classes, without its per-call field
    introspection (they have no ``__post_init__`` and no init-only fields). What was
    worked out from the old object and kept on it (``_``-named entries: a RUN's script
    and commands) is not carried over."""
    new = object.__new__(type(obj))
    fields = new.__dict__
    fields.update(obj.__dict__)
    for memo in [k for k in fields if k[:1] == "_"]:
        del fields[memo]
    for name, value in changes.items():
        if name not in fields:
            raise TypeError(f"{type(obj).__name__} has no field {name!r}")
        fields[name] = value
    return new


@dataclass(frozen=True)
class Position:
    """Where something is: 1-based line and column, the end exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Comment:
    """A comment line outside heredoc bodies: ``text`` is what follows the ``#``."""

    line: int
    column: int
    text: str


@dataclass(frozen=True)
class Directive:
    """A parser directive at the top of the file (``# escape=`` and friends)."""

    name: str
    value: str
    line: int


@dataclass(frozen=True)
class Heredoc:
    """One heredoc of an instruction: its delimiter name, body and quoting."""

    name: str
    body: str
    expand: bool  # False when the delimiter was quoted (<<"EOF" / <<'EOF')
    chomp: bool  # True for <<- (leading tabs stripped)
    fd: int  # 0 unless written with a prefix such as 3<<EOF
    start_line: int  # first body line (== end_line for an empty body)
    end_line: int  # the terminator's line


@dataclass(frozen=True)
class Script:
    """Text handed to a shell, with the Dockerfile position of every character.

    ``segments`` is a sorted tuple of ``(offset, line, column)``: the character at
    ``offset`` sits at ``line:column`` and the following characters continue on the
    same line until the next segment starts.
    """

    text: str
    segments: tuple[tuple[int, int, int], ...]

    def locate(self, offset: int) -> tuple[int, int]:
        """Dockerfile ``(line, column)`` of the character at ``offset`` in ``text``."""
        segments = self.segments
        if not segments:
            return (1, 1)
        offset = max(0, min(offset, len(self.text)))
        if len(segments) == 1:
            i = 0
        else:
            starts = self.__dict__.get("_starts")
            if starts is None:  # worked out once: a script is located many times
                starts = self.__dict__["_starts"] = [s[0] for s in segments]
            i = bisect.bisect_right(starts, offset) - 1
            if i < 0:
                i = 0
        start, line, col = segments[i]
        return (line, col + (offset - start))

    def span(self, start: int, end: int) -> Position:
        """Position of ``text[start:end]``; ``end`` is exclusive."""
        line, col = self.locate(start)
        if end <= start:
            return Position(line, col, line, col)
        eline, ecol = self.locate(end - 1)
        return Position(line, col, eline, ecol + 1)


@dataclass(frozen=True)
class Instruction:
    """One instruction as BuildKit parses it, with where every part of it is."""

    keyword: str  # upper case (ONBUILD for triggers; see ``trigger``)
    keyword_as_written: str
    args: tuple[str, ...]  # BuildKit's node values (quotes kept where BuildKit keeps them)
    flags: tuple[str, ...]  # raw leading flags, e.g. ("--from=build",)
    json: bool  # exec / JSON-array form
    original: str  # the instruction as BuildKit reports it (continuations joined)
    start_line: int
    end_line: int
    column: int  # column of the keyword on its first line
    index: int  # position among all instructions of the file
    stage: int  # index of the stage it belongs to; -1 before the first FROM
    heredocs: tuple[Heredoc, ...] = ()
    comments: tuple[Comment, ...] = ()  # comment lines directly above the instruction
    logical: str = ""  # the logical line: continuation lines joined, comments dropped
    segments: tuple[tuple[int, int, int], ...] = ()  # position map of ``logical``
    trigger: Optional["Instruction"] = None  # for ONBUILD: the triggered instruction
    legacy_form: bool = False  # ENV/LABEL written as ``KEY value``

    @property
    def position(self) -> Position:
        return Position(self.start_line, self.column, self.start_line, self.column + len(self.keyword_as_written))

    def locate(self, offset: int) -> tuple[int, int]:
        """Dockerfile position of ``logical[offset]``."""
        return Script(self.logical, self.segments).locate(offset)

    def span_of(self, needle: str, start: int = 0) -> Optional[Position]:
        """Position of the first occurrence of ``needle`` in the logical line."""
        i = self.logical.find(needle, start)
        if i < 0:
            return None
        return Script(self.logical, self.segments).span(i, i + len(needle))

    def flag(self, name: str) -> Optional[str]:
        """Value of ``--name=value`` (``""`` for a bare ``--name``); None when absent."""
        for raw in self.flags:
            key, sep, value = raw[2:].partition("=")
            if key.lower() == name.lower():
                return value if sep else ""
        return None

    def flag_values(self, name: str) -> list[str]:
        out = []
        for raw in self.flags:
            key, sep, value = raw[2:].partition("=")
            if key.lower() == name.lower():
                out.append(value if sep else "")
        return out

    @property
    def effective(self) -> "Instruction":
        """The instruction that runs: the trigger of an ONBUILD, else itself."""
        return self.trigger if self.trigger is not None else self


@dataclass(frozen=True)
class Stage:
    """One build stage: its FROM and the instructions after it."""

    index: int
    name: Optional[str]  # lower-cased ``AS`` name
    name_as_written: Optional[str]
    base: str  # the image reference as written (before ARG expansion)
    platform: Optional[str]
    from_instruction: Instruction
    instructions: tuple[Instruction, ...]  # the stage's instructions, FROM excluded


@dataclass(frozen=True)
class Dockerfile:
    """A parsed Dockerfile: text, directives, comments, instructions and stages."""

    path: str
    text: str
    lines: tuple[str, ...]  # physical lines, line endings removed
    escape: str
    directives: tuple[Directive, ...]
    comments: tuple[Comment, ...]
    instructions: tuple[Instruction, ...]  # every instruction, in order
    global_args: tuple[Instruction, ...]  # ARGs (and anything else) before the first FROM
    stages: tuple[Stage, ...]

    def directive(self, name: str) -> Optional[Directive]:
        for d in self.directives:
            if d.name == name.lower():
                return d
        return None

    def stage_by_name(self, name: str) -> Optional[Stage]:
        for s in self.stages:
            if s.name is not None and s.name == name.lower():
                return s
        return None


SEVERITIES = ("error", "warning", "info", "style")
SEVERITY_RANK = {"style": 0, "info": 1, "warning": 2, "error": 3}


@dataclass(frozen=True)
class Finding:
    """One problem a rule found, with its position and severity."""

    rule: str
    severity: str
    message: str
    line: int
    column: int
    end_line: int
    end_column: int
    path: str = ""
    aliases: tuple[str, ...] = ()
    name: str = ""

    def as_json(self) -> dict:
        return {
            "rule": self.rule,
            "name": self.name,
            "aliases": list(self.aliases),
            "severity": self.severity,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "message": self.message,
        }


@dataclass(frozen=True)
class ShellCommand:
    """One command a RUN invokes, after unwrapping wrappers such as ``sudo``."""

    name: str  # argv[0] as the shell sees it after quote removal ("" when dynamic)
    argv: tuple[str, ...]
    position: Position  # of argv[0] in the Dockerfile
    arg_positions: tuple[Position, ...] = ()  # one per argv element
    wrappers: tuple[str, ...] = ()  # e.g. ("sudo",) or ("sh -c",)
    builtin: bool = False
    function: bool = False  # a function defined in the same script
    dynamic: bool = False  # the command name comes from a variable or substitution
    in_pipeline: bool = False
    shell: str = "sh"
    extras: dict = field(default_factory=dict, compare=False, hash=False)

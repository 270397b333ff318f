""".dockerignore files: which context paths a build never sees.

Docker's rules, as its CLI and BuildKit apply them:

* One pattern a line. A line whose first character is ``#`` is a comment; blank lines are
  skipped; surrounding whitespace is trimmed. A UTF-8 byte order mark is ignored.
* ``!pattern`` is an exception: it re-includes what earlier patterns excluded. Patterns are
  applied in order and the last one that matches a path decides.
* Patterns are cleaned like paths (``./a/../b`` is ``b``, ``a//b`` is ``a/b``) and a leading
  ``/`` is dropped: every pattern is relative to the context root.
* ``*`` matches any run of characters except ``/``, ``?`` one character except ``/``,
  ``[...]`` a character class (``[^...]`` negated), ``\\`` escapes the next character, and
  ``**`` any number of directories, zero included (``**/*.go`` matches ``a.go`` and
  ``x/y/a.go``; a trailing ``**`` matches everything below).
* A pattern that matches a directory excludes everything below it: ``build`` excludes
  ``build/out/app``.

Use :func:`load` with a context directory or a file, or :func:`parse` with the text.
"""

from __future__ import annotations

import os

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Union

from .model import AnalyzerError

__all__ = ["DockerignoreError", "Matcher", "Pattern", "for_dockerfile", "load", "parse"]

MAX_BYTES = 16 * 1024 * 1024
_ESCAPED = set(".+()|{}$^")


class DockerignoreError(AnalyzerError):
    """A .dockerignore file that cannot be read, or holds a pattern Docker refuses."""


@dataclass(frozen=True)
class Pattern:
    """One line of a .dockerignore file, cleaned and compiled."""

    text: str  # the cleaned pattern, without the leading "!"
    exclusion: bool  # True for "!pattern" (an exception that re-includes)
    line: int
    regex: "re.Pattern[str]"
    # for a pattern with several wildcards: its tokens, matched by :func:`_nfa_match` (a
    # backtracking regex takes exponential time on ``*a*a*a*a*b`` against ``aaaa...``)
    tokens: Optional[tuple] = None

    def matches(self, path: str) -> bool:
        if self.tokens is not None:
            return _nfa_match(self.tokens, path)
        return self.regex.fullmatch(path) is not None


class Matcher:
    """Decides whether a context path is left out of the build context."""

    def __init__(self, patterns: Iterable[Pattern] = (), source: Optional[str] = None):
        self.patterns: tuple[Pattern, ...] = tuple(patterns)
        self.source = source  # the file the patterns came from, if any

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def __repr__(self) -> str:
        return f"Matcher({[('!' if p.exclusion else '') + p.text for p in self.patterns]!r})"

    @property
    def has_exceptions(self) -> bool:
        """True when some ``!pattern`` re-includes paths."""
        return any(p.exclusion for p in self.patterns)

    def excluded(self, relpath: str) -> bool:
        """True when ``relpath`` (relative to the context root) is not sent to the builder,
        because a pattern matches it or one of its parent directories."""
        path = normalize(relpath)
        if path == ".":
            return False
        parents = path.split("/")[:-1]
        prefixes = ["/".join(parents[: i + 1]) for i in range(len(parents))]
        matched = False
        for pattern in self.patterns:
            # only a pattern that could change the answer needs to be tried
            if pattern.exclusion != matched:
                continue
            hit = pattern.matches(path) or any(pattern.matches(p) for p in prefixes)
            if hit:
                matched = not pattern.exclusion
        return matched


def normalize(relpath: str) -> str:
    """A context path in the form patterns are matched against (``./a//b/`` -> ``a/b``)."""
    path = posixpath.normpath(relpath) if relpath else "."
    return path.lstrip("/") or "."


def parse(text: str, source: Optional[str] = None) -> Matcher:
    """Patterns from the text of a .dockerignore file."""
    if text.startswith("\ufeff"):
        text = text[1:]
    patterns = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.startswith("#"):
            continue
        line = raw.strip()
        if not line:
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
        if not line:
            where = f"{source}:{number}" if source else f"line {number}"
            raise DockerignoreError(f'{where}: illegal exclusion pattern: "!"')
        cleaned = posixpath.normpath(line)
        if len(cleaned) > 1 and cleaned.startswith("/"):
            cleaned = cleaned.lstrip("/") or "/"
        try:
            regex = re.compile(_to_regex(cleaned))
        except re.error as exc:
            where = f"{source}:{number}" if source else f"line {number}"
            raise DockerignoreError(f"{where}: invalid .dockerignore pattern {raw.strip()!r}: {exc}") from None
        tokens = _tokens(cleaned) if cleaned.count("*") > 1 else None
        patterns.append(Pattern(cleaned, exclusion, number, regex, tokens))
    return Matcher(patterns, source)


_STAR, _ANY_DEEP, _DIRS = "*", "**", "**/"  # wildcard markers, as regexes: see _WILDCARDS
_WILDCARDS = {_STAR: "[^/]*", _ANY_DEEP: ".*", _DIRS: "(?:.*/)?"}


def _lex(pattern: str) -> list:
    """``pattern`` read once, as Docker reads it: wildcard markers (``*``, ``**`` at the
    end, ``**/``), and for every other position the regex of the one character it stands
    for (a class, ``?``, an escaped or a plain character). Raises ``re.error`` for a class
    Docker refuses."""
    out: list = []
    i = 0
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            if i + 1 < n and pattern[i + 1] == "*":
                i += 2
                if i < n and pattern[i] == "/":
                    i += 1
                out.append(_ANY_DEEP if i >= n else _DIRS)
                continue
            out.append(_STAR)
        elif ch == "?":
            out.append(_Char("[^/]"))
        elif ch == "\\":
            if i + 1 < n:
                i += 1
                out.append(_Char(re.escape(pattern[i])))
            else:
                out.append(_Char(re.escape("\\")))
        elif ch == "[":
            end = _class_end(pattern, i)
            if end < 0:
                raise re.error("unterminated character class")
            body = pattern[i + 1 : end]
            negate = body.startswith("^")
            if negate:
                body = body[1:]
            if not body:
                raise re.error("empty character class")
            out.append(_Char("[" + ("^" if negate else "") + _class_body(body) + "]"))
            i = end
        elif ch in _ESCAPED:
            out.append(_Char("\\" + ch))
        else:
            out.append(_Char(re.escape(ch) if not ch.isalnum() and ch not in "/_-" else ch))
        i += 1
    return out


class _Char(str):
    """The regex of one character position (a marker is a plain str)."""

    __slots__ = ()


def _to_regex(pattern: str) -> str:
    return "".join(_WILDCARDS[t] if type(t) is str else t for t in _lex(pattern))


def _tokens(pattern: str) -> tuple:
    """``pattern`` for :func:`_nfa_match`: the wildcard markers, and a compiled
    one-character regex for every other position (the same reading as the regex)."""
    return tuple(t if type(t) is str else re.compile(t) for t in _lex(pattern))


def _nfa_match(tokens: tuple, path: str) -> bool:
    """Whether ``tokens`` match all of ``path``, in time linear in the path: every state
    the pattern can be in is followed at once (a state ``-(k + 1)`` is inside the ``**/``
    at ``k``, after at least one character)."""
    n = len(tokens)

    def closure(states: set) -> set:
        todo = list(states)
        while todo:
            k = todo.pop()
            if 0 <= k < n and isinstance(tokens[k], str) and k + 1 not in states:
                states.add(k + 1)
                todo.append(k + 1)
        return states

    current = closure({0})
    for ch in path:
        nxt: set = set()
        for k in current:
            if k < 0:  # inside "**/": any character (as ".", not a newline), and a "/" may end it
                if ch != "\n":
                    nxt.add(k)
                if ch == "/":
                    nxt.add(-k)  # -(k0 + 1) -> k0 + 1: past the "**/"
                continue
            if k >= n:
                continue
            tok = tokens[k]
            if not isinstance(tok, str):
                if tok.fullmatch(ch):
                    nxt.add(k + 1)
            elif tok == _STAR:
                if ch != "/":
                    nxt.add(k)
            elif tok == _ANY_DEEP:
                if ch != "\n":
                    nxt.add(k)
            elif ch != "\n":  # _DIRS
                nxt.add(-(k + 1))
                if ch == "/":
                    nxt.add(k + 1)
        if not nxt:
            return False
        current = closure(nxt)
    return n in current


def _class_end(pattern: str, start: int) -> int:
    i = start + 1
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1  # a leading ] is a member of the class
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
            continue
        if pattern[i] == "]":
            return i
        i += 1
    return -1


def _class_body(body: str) -> str:
    out = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            out.append(re.escape(body[i + 1]))
            i += 2
            continue
        if ch == "-" and 0 < i < len(body) - 1 and out[-1] != "-":
            out.append("-")
        elif ch in "[]^\\-&~|":  # (doubled, "&~|-" would be set operations to Python, and warn)
            out.append("\\" + ch)
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _read(path: Path) -> str:
    from .files import read_regular

    try:
        data = read_regular(path, MAX_BYTES + 1)  # a FIFO or device is refused, not read
    except AnalyzerError as exc:
        raise DockerignoreError(f"{path}: cannot read: {exc}") from None
    if len(data) > MAX_BYTES:
        raise DockerignoreError(f"{path}: larger than {MAX_BYTES:,} bytes")
    if b"\x00" in data[:8192]:
        raise DockerignoreError(f"{path}: binary file, not a .dockerignore")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DockerignoreError(f"{path}: invalid UTF-8 at byte offset {exc.start}") from None


def load(dir_or_file: Union[str, Path]) -> Matcher:
    """The patterns of a .dockerignore file, or of ``<dir>/.dockerignore`` for a context
    directory. A directory without one gives an empty matcher (nothing excluded)."""
    path = Path(dir_or_file)
    if path.is_dir():
        path = path / ".dockerignore"
        if not path.exists():
            return Matcher((), None)
    elif not path.exists():
        raise DockerignoreError(f"{path}: no such file")
    return parse(_read(path), str(path))


def for_dockerfile(dockerfile: Union[str, Path], context: Union[str, Path, None] = None) -> Optional[Matcher]:
    """The ignore file Docker uses with ``dockerfile``: ``<Dockerfile>.dockerignore`` next to
    it wins over ``.dockerignore`` at the context root (the Dockerfile's directory unless
    ``context`` is given). None when neither exists."""
    from analyzer.files import is_file as _is_file

    df = Path(dockerfile)
    if not df.name:
        raise DockerignoreError(f"{dockerfile}: not a file name")
    # the checks as plain strings (each Dockerfile of a batch asks): Path objects only
    # for a file that is there
    own = str(df) + ".dockerignore"
    if _is_file(own):
        return load(df.with_name(df.name + ".dockerignore"))
    root = str(context) if context is not None else (os.path.dirname(str(df)) or ".")
    if _is_file(os.path.join(root, ".dockerignore")):
        return load(Path(root) / ".dockerignore")
    return None

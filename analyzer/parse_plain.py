"""BuildKit's reading of a plain Dockerfile, without the Go bridge.

Most Dockerfiles use a small part of the syntax: printable ASCII, the common instructions
(ONBUILD and HEALTHCHECK included), ``--flag`` words, continuation lines, JSON arrays of
strings with simple escapes, ENV/LABEL/ARG words with quotes but no escape character.
For such a file, with either escape character (``\\`` or a backtick), :func:`plain_commands`
gives exactly what BuildKit's parser (the ``dockerfile`` package) gives, without crossing
into Go (about 20 µs an instruction there, and 5 ms to load). Anything else — heredocs, an
escape character in ENV/LABEL/ARG or a flag, a JSON array with ``\\u`` escapes, control
characters or trailing text, comments or blank lines inside a continuation, a continuation
at the end of the file, a character outside printable ASCII, an unknown instruction, a file
without instructions — makes it answer None, and the file goes to BuildKit's parser, which
also words every error. ``tests/test_parse_plain.py`` compares the two on every file at
hand and on generated lines.
"""

from __future__ import annotations

import re
from typing import NamedTuple, Optional

from .lazyre import lazy


class PlainCommand(NamedTuple):
    """The fields of ``dockerfile.Command``, in its order."""

    cmd: str
    sub_cmd: Optional[str]
    json: bool
    original: str
    start_line: int
    end_line: int
    flags: tuple
    value: tuple
    heredocs: tuple


class LocatedCommand(PlainCommand):
    """A :class:`PlainCommand` that also carries where its logical line came from:
    ``segments``, the (offset, line, column) of each physical line's part, as
    ``parse.logical_line`` gives them (the reader has them at hand)."""

    segments: tuple


_OUTSIDE = re.compile(r"[^\t\n\x20-\x7e]")  # anything but printable ASCII, tab and newline
_KEYWORD = re.compile(r"([A-Za-z]+)(?:[ \t]+|$)")
# a JSON string as Go's decoder takes it and Python's agrees: no control characters, and
# only the escapes that mean the same everywhere (\u escapes are left to BuildKit)
_JSON_STR = r'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt])*"'
_JSON = lazy(r"\[[ \t]*(?:" + _JSON_STR + r"[ \t]*(?:,[ \t]*" + _JSON_STR + r"[ \t]*)*)?\]")
_JSON_STRING = lazy(r'"((?:[^"\\\x00-\x1f]|\\["\\/bfnrt])*)"')
_JSON_ESCAPE = lazy(r'\\(["\\/bfnrt])')
_JSON_MEANS = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_BLANKS = lazy(r"[ \t]+")

_ENDS: dict = {}  # escape character -> (continued line, escaped escape at the end) patterns


def _ends(escape: str) -> tuple:
    found = _ENDS.get(escape)
    if found is None:
        e = re.escape(escape)
        found = _ENDS[escape] = (re.compile(e + r"[ \t]*$"), re.compile(e + e + r"[ \t]*$"))
    return found


_MAYBE_JSON = frozenset({"RUN", "CMD", "ENTRYPOINT", "SHELL"})  # JSON, else the rest as one
_JSON_OR_WORDS = frozenset({"COPY", "ADD", "VOLUME"})  # JSON, else words
_WORDS = frozenset({"FROM", "EXPOSE"})
_STRING = frozenset({"WORKDIR", "USER", "STOPSIGNAL", "MAINTAINER"})
_PAIRS = frozenset({"ENV", "LABEL"})
_HEREDOC_ABLE = frozenset({"RUN", "COPY", "ADD"})


def plain_commands(lines: list[str], escape: str = "\\") -> Optional[list[PlainCommand]]:
    """The commands BuildKit's parser reads from ``lines`` (the physical lines of a file
    whose escape character is ``escape``, directives included), or None when the file is
    not plain."""
    if escape not in ("\\", "`") or _OUTSIDE.search("\n".join(lines)):
        return None
    continued, doubled = _ends(escape)
    out: list[PlainCommand] = []
    n = len(lines)
    i = 0
    while i < n:
        raw = lines[i].lstrip(" \t")
        if not raw or raw[0] == "#":
            i += 1
            continue
        start = i + 1
        parts = []
        segments = [(0, start, len(lines[i]) - len(raw) + 1)]
        offset = 0
        current = raw
        while True:
            m = continued.search(current)
            if m is None:
                parts.append(current)
                i += 1
                break
            if doubled.search(current):
                return None
            part = current[: m.start()]
            parts.append(part)
            offset += len(part)
            i += 1
            segments.append((offset, i + 1, 1))
            if i >= n:
                return None  # a continuation with nothing after it
            current = lines[i]
            following = current.lstrip(" \t")
            if not following or following[0] == "#":
                return None  # BuildKit skips these (with a warning): left to it
        command = _command("".join(parts), start, i, escape)
        if command is None:
            return None
        located = LocatedCommand._make(command)
        located.segments = tuple(segments)
        out.append(located)
    return out or None  # no instructions: BuildKit's parser has its error for that


def _command(logical: str, start: int, end: int, escape: str) -> Optional[PlainCommand]:
    m = _KEYWORD.match(logical)
    if m is None:
        return None
    written = m.group(1)
    keyword = written.upper()
    rest = logical[m.end() :]
    flags = []
    while rest.startswith("--"):
        cut = len(rest)
        for k, ch in enumerate(rest):
            if ch == " " or ch == "\t":
                cut = k
                break
        word = rest[:cut]
        # (BuildKit reads a backslash in a flag as an escape whatever the directive says)
        if word == "--" or '"' in word or "'" in word or "\\" in word or escape in word:
            return None
        flags.append(word)
        rest = rest[cut:].lstrip(" \t")
    rest = rest.rstrip(" \t")
    if keyword in _HEREDOC_ABLE and "<<" in rest:
        return None
    is_json = False
    if keyword in _MAYBE_JSON or keyword in _JSON_OR_WORDS:
        if rest.startswith("["):
            if not _JSON.fullmatch(rest):
                return None
            is_json = True
            value = _json_strings(rest)
        elif keyword in _MAYBE_JSON:
            value = (rest,) if rest else ()
        else:
            value = tuple(rest.split())
    elif keyword in _WORDS:
        value = tuple(rest.split())
    elif keyword == "ARG":  # words as ENV has them: quotes hold blanks
        words = _words(rest, escape) if escape not in rest else None
        if words is None:
            return None
        value = tuple(words)
    elif keyword in _STRING:
        value = (rest,) if rest else ()
    elif keyword in _PAIRS:
        value = _pairs(rest, escape)
        if value is None:
            return None
    elif keyword == "HEALTHCHECK":
        found = _health(rest)
        if found is None:
            return None
        is_json, value = found
    elif keyword == "ONBUILD" and not flags:
        # the trigger's own flags stay with the trigger (read again on its own)
        sub = _command(rest, start, end, escape)
        if sub is None or sub.cmd.upper() in ("ONBUILD", "HEALTHCHECK"):
            return None
        return PlainCommand(written, sub.cmd, sub.json, logical, start, end, (), sub.value, ())
    else:
        return None  # unknown words: BuildKit's parser decides
    return PlainCommand(written, None, is_json, logical, start, end, tuple(flags), value, ())


def _json_strings(array: str) -> tuple:
    """The strings of a JSON array of strings that ``_JSON`` accepted, decoded."""
    return tuple(
        _JSON_ESCAPE.sub(_unescape, raw) if "\\" in raw else raw for raw in _JSON_STRING.findall(array)
    )


def _unescape(m: "re.Match") -> str:
    return _JSON_MEANS[m.group(1)]


def _health(rest: str) -> Optional[tuple]:
    """HEALTHCHECK after its flags: ``NONE``, or ``CMD`` and a command (JSON or not)."""
    if not rest:
        return False, ()
    m = _KEYWORD.match(rest)
    if m is None:
        return None
    word = m.group(1)
    after = rest[m.end() :]
    if word.upper() == "NONE" and not after:
        return False, (word,)
    if word.upper() != "CMD":
        return None
    if after.startswith("["):
        if not _JSON.fullmatch(after):
            return None
        return True, (word, *_json_strings(after))
    return False, ((word, after) if after else (word,))


# a word of text without the escape character: unquoted runs and closed quotes, joined
_WORD = re.compile(r"""(?:[^\s"']+|"[^"]*"|'[^']*')+""")


def parse_words(rest: str, escape: str, limit: int = 0) -> tuple[list[str], bool]:
    """``rest`` split as BuildKit's ``parseWords`` splits it: at blanks outside quotes, the
    quotes and escape characters kept in the words (at most ``limit`` words, 0: all);
    and whether a quote was left open at the end."""
    if escape not in rest:
        found = _split_words(rest, limit)
        if found is not None:
            return found, False
    return _scan_words(rest, escape, limit)


def _scan_words(rest: str, escape: str, limit: int) -> tuple[list[str], bool]:
    """:func:`parse_words`, character by character as BuildKit does it."""
    words: list[str] = []
    word: list[str] = []
    quote = ""
    n = len(rest)
    i = 0
    while i < n:
        ch = rest[i]
        if not quote:
            if ch.isspace():
                if word:
                    words.append("".join(word))
                    word = []
                    if len(words) == limit:
                        return words, False
                i += 1
                continue
            if ch == "'" or ch == '"':
                quote = ch
            elif ch == escape and i + 1 < n:
                word.append(ch)
                i += 1
                ch = rest[i]
        elif ch == quote:
            quote = ""
        elif ch == escape and quote != "'" and i + 1 < n:
            word.append(ch)
            i += 1
            ch = rest[i]
        word.append(ch)
        i += 1
    if word:
        words.append("".join(word))
    return words, bool(quote)


def _split_words(rest: str, limit: int) -> Optional[list[str]]:
    """:func:`parse_words` of text without the escape character, by pattern; None when a
    quote is left open (then the character loop decides)."""
    words = []
    at = 0
    for m in _WORD.finditer(rest):
        if m.start() > at and not rest[at : m.start()].isspace():
            return None  # an open quote in between
        words.append(m.group())
        at = m.end()
        if len(words) == limit:
            return words if at == len(rest) or rest[at].isspace() else None
    return words if at == len(rest) or rest[at:].isspace() else None


def _words(rest: str, escape: str) -> Optional[list[str]]:
    """:func:`parse_words` of text without escape characters; None for an unterminated
    quote (left to BuildKit)."""
    if '"' not in rest and "'" not in rest:
        return rest.split()
    words, open_quote = parse_words(rest, escape)
    return None if open_quote else words


def _pairs(rest: str, escape: str) -> Optional[tuple]:
    """ENV and LABEL: ``K=v K2=v2`` or the legacy ``K value``, quotes kept as written; none
    with an escape character."""
    if escape in rest:
        return None
    words = _words(rest, escape)
    if not words:
        return None
    if "=" in words[0]:
        out = []
        for word in words:
            key, sep, value = word.partition("=")
            if not sep:
                return None
            out += (key, value)
        return tuple(out)
    # the legacy form: the name ends at the first blank, quotes or not
    parts = _BLANKS.split(rest, 1)
    if len(parts) < 2:
        return None
    return (parts[0], parts[1])

"""Parse a Dockerfile exactly as BuildKit does, and keep what BuildKit's parser drops.

Instructions, flags, JSON form, heredoc bodies and line ranges come from BuildKit's own
Go parser (the ``dockerfile`` package). On top of it this module adds parser directives,
comments (outside heredoc bodies), the comment block attached to each instruction, the
keyword column, heredoc details (quoted or not, ``<<-``, fd, body lines), ONBUILD
triggers parsed as instructions of their own, and a character-exact map from the logical
line (continuations joined) back to Dockerfile line and column.
"""

from __future__ import annotations

import os
import re
from typing import Iterable, Optional

from .lazyre import lazy
from .model import Comment, DecodeError, Directive, Dockerfile, Heredoc, Instruction, ParseError, Stage, evolve
from .parse_plain import LocatedCommand, parse_words, plain_commands

MAX_FILE_BYTES = 16 * 1024 * 1024
# plain files are read without the Go parser, with the same result (analyzer.parse_plain);
# ANALYZE_PARSE_FAST=0 sends every file to it
PLAIN_PATH = os.environ.get("ANALYZE_PARSE_FAST", "1").strip() != "0"
MAX_LINE_BYTES = 65535  # BuildKit refuses a line longer than this (CR included)
KNOWN_DIRECTIVES = ("syntax", "escape", "check")
JSON_FORM_KEYWORDS = {"RUN", "CMD", "ENTRYPOINT", "SHELL", "ADD", "COPY", "VOLUME", "HEALTHCHECK"}
HEREDOC_KEYWORDS = {"RUN", "COPY", "ADD"}

# Go's unicode.IsSpace (newline aside): what BuildKit trims from the start of a line and
# what makes a line blank. Go's regexp ``\s`` is only ``[\t\n\f\r ]``, and BuildKit splits
# the keyword from its arguments on ``[\t\v\f\r ]``.
GO_SPACE = "\t\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
_RE_SPACE = "\t\n\f\r "
# BuildKit's ``^#\s*(name)\s*=\s*(.+?)\s*$``, written so that a long line cannot make the
# match quadratic; the value is cut out by :func:`_directive_value`.
_DIRECTIVE_RE = lazy(rf"^#[{_RE_SPACE}]*([a-zA-Z][a-zA-Z0-9]*)[{_RE_SPACE}]*=(.*)$", re.DOTALL)
_COMMENT_RE = lazy(rf"^[{GO_SPACE}]*#")
_BLANK_RE = lazy(rf"^[{GO_SPACE}]*$")
_KEYWORD_SPLIT_RE = lazy(r"[\t\x0b\x0c\r ]+")
_HEREDOC_RE = lazy(r"(?<![<\w])(\d*)<<(-?)(['\"]?)([A-Za-z_][A-Za-z0-9_.-]*)\3")


def decode(data: bytes, path: str = "Dockerfile") -> str:
    """Bytes of a Dockerfile to text, refusing what BuildKit would refuse.

    Raises DecodeError for files over the size limit, binary files and invalid UTF-8
    (with the line, column and byte offset of the first bad byte).
    """
    if len(data) > MAX_FILE_BYTES:
        raise DecodeError(f"file is {len(data):,} bytes; the limit is {MAX_FILE_BYTES:,} bytes")
    nul = data.find(b"\x00", 0, 8192)
    if nul >= 0:
        line, col = _byte_position(data, nul)
        raise DecodeError(f"binary file, not a Dockerfile (NUL byte at offset {nul}, line {line}, column {col})")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _byte_position(data, exc.start)
        raise DecodeError(f"invalid UTF-8 at byte offset {exc.start} (line {line}, column {col})") from None


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    col = len(data[start:offset].decode("utf-8", errors="replace")) + 1
    return line, col


def split_lines(text: str) -> list[str]:
    """Physical lines as BuildKit reads them: split on LF, one trailing CR dropped."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def scan_directives(lines: list[str]) -> tuple[list[Directive], str]:
    """Parser directives at the top of the file, and the escape character."""
    found: list[Directive] = []
    escape = "\\"
    for number, line in enumerate(lines, start=1):
        m = _DIRECTIVE_RE.match(line.lstrip(GO_SPACE))
        value = _directive_value(m.group(2)) if m else None
        if value is None or m.group(1).lower() not in KNOWN_DIRECTIVES:
            break
        name = m.group(1).lower()
        if any(d.name == name for d in found):
            raise ParseError(f"only one {name} parser directive can be used", number, 1)
        if name == "escape":
            if value not in ("\\", "`"):
                raise ParseError(f"invalid escape token '{value}' does not match ` or \\", number, 1)
            escape = value
        found.append(Directive(name, value, number))
    return found, escape


def _directive_value(rest: str) -> Optional[str]:
    """What ``\\s*(.+?)\\s*$`` captures from the text after ``=`` (None: no match)."""
    if not rest:
        return None
    value = rest.strip(_RE_SPACE)
    return value if value else rest[-1]


def keyword_of(logical: str) -> str:
    """The keyword as BuildKit splits it from a logical line (leading blanks removed)."""
    return _KEYWORD_SPLIT_RE.split(logical.rstrip(GO_SPACE), 1)[0]


def _continues(line: str, escape: str) -> bool:
    """True when a physical line ends in the escape character (trailing blanks allowed).

    An escaped escape (``foo \\\\``) is not a continuation, and neither is a line that
    is only the escape character preceded by nothing: BuildKit requires a character
    that is not the escape before it, or the start of the line.
    """
    stripped = line.rstrip(" \t")
    if not stripped.endswith(escape):
        return False
    body = stripped[:-1]
    return body == "" or body[-1] != escape


def logical_line(lines: list[str], start: int, escape: str) -> tuple[str, list[tuple[int, int, int]], int]:
    """Join the physical lines of one instruction from ``start`` (1-based).

    Returns the logical text (leading blanks of the first line removed), the position map
    (offset, line, column) and the last physical line consumed (before heredoc bodies).
    """
    parts: list[str] = []
    segments: list[tuple[int, int, int]] = []
    offset = 0
    number = start
    first = True
    total = len(lines)
    while number <= total:
        raw = lines[number - 1]
        if not first and (_COMMENT_RE.match(raw) or _BLANK_RE.match(raw)):
            number += 1
            continue
        col = 1
        if first:
            stripped = raw.lstrip(GO_SPACE)
            col = len(raw) - len(stripped) + 1
            raw = stripped
            first = False
        cont = _continues(raw, escape)
        if cont:
            raw = raw.rstrip(" \t")[:-1]
        segments.append((offset, number, col))
        parts.append(raw)
        offset += len(raw)
        if not cont:
            break
        number += 1
    return "".join(parts), segments, min(number, total)


def parse(text: str, path: str = "Dockerfile") -> Dockerfile:
    """Parse Dockerfile text into a :class:`~analyzer.model.Dockerfile`.

    Raises :class:`~analyzer.model.ParseError` (with line and column) for anything
    BuildKit would refuse: no instructions, an unterminated heredoc, a line of 64 KiB or
    more, a repeated or invalid directive, a JSON array holding a non-string, ...
    """
    nul = text.find("\x00")
    if nul >= 0:  # the Go bridge would silently drop everything after it
        line = text.count("\n", 0, nul) + 1
        raise ParseError("NUL character in the file (binary data, not a Dockerfile)", line, nul - text.rfind("\n", 0, nul))
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate: the Go bridge would crash on it
            line = text.count("\n", 0, exc.start) + 1
            raise ParseError(
                f"character U+{ord(text[exc.start]):04X} is not text (a lone surrogate)", line, exc.start - text.rfind("\n", 0, exc.start)
            ) from None
    lines = split_lines(text)
    for number, raw in enumerate(text.split("\n"), start=1):
        if len(raw) * 4 <= MAX_LINE_BYTES:
            continue  # no character takes more than four bytes
        size = len(raw.encode("utf-8", errors="surrogatepass"))
        if size > MAX_LINE_BYTES:
            raise ParseError(
                f"line is {size:,} bytes; BuildKit's limit is {MAX_LINE_BYTES:,}",
                number,
                1,
            )
    directives, escape = scan_directives(lines)
    # a plain file is read here as BuildKit's parser reads it (analyzer.parse_plain);
    # anything else crosses into the Go parser itself
    commands = plain_commands(lines, escape) if PLAIN_PATH else None
    if commands is None:
        import dockerfile as bk

        go_text = _text_for_go(text, lines, directives)
        try:
            commands = bk.parse_string(go_text)
        except bk.GoParseError as exc:
            raise _located_error(str(exc), lines, escape, directives) from None
        except Exception as exc:  # the Go bridge refuses text it cannot encode
            raise ParseError(f"cannot parse: {exc}", 1, 1) from None
    if not commands:
        raise ParseError("file with no instructions", 1, 1)
    for cmd in commands:
        if not cmd.cmd:  # only a line continuation, then the end of the file
            raise ParseError("unknown instruction: a line continuation with nothing after it", cmd.start_line, 1)

    # each instruction made with its stage (the FROMs up to it, less one; -1 before any)
    stages_of = []
    stage = -1
    for cmd in commands:
        if cmd.cmd.upper() == "FROM":
            stage += 1
        stages_of.append(stage)
    instructions = [_instruction(cmd, lines, escape, index, [], stage=stages_of[index]) for index, cmd in enumerate(commands)]
    comments = _scan_comments(lines, instructions)
    comments_by_line = {c.line: c for c in comments}
    if comments_by_line:
        instructions = [
            evolve(ins, comments=attached) if (attached := _attached_comments(ins.start_line, comments_by_line)) != ins.comments else ins
            for ins in instructions
        ]
    stages, global_args = _stages(instructions)
    by_index = {}
    for stage in stages:
        for ins in (stage.from_instruction, *stage.instructions):
            by_index[ins.index] = ins
    for ins in global_args:
        by_index[ins.index] = ins
    ordered = tuple(by_index[i] for i in sorted(by_index))
    return Dockerfile(
        path=path,
        text=text,
        lines=tuple(lines),
        escape=escape,
        directives=tuple(directives),
        comments=tuple(comments),
        instructions=ordered,
        global_args=tuple(global_args),
        stages=tuple(stages),
    )


def _text_for_go(text: str, lines: list[str], directives: list[Directive]) -> str:
    """The physical lines, LF-terminated, for BuildKit's parser.

    Passing the lines rather than ``text`` keeps a CRLF file identical to its LF twin
    (BuildKit would otherwise keep the CRs inside heredoc bodies and ``original``).
    BuildKit's parser in the ``dockerfile`` package ends the directive block at
    ``# check=``; move an escape directive to the top (same line count) so it is honoured
    as current BuildKit honours it."""
    new = list(lines)
    esc = next((d for d in directives if d.name == "escape"), None)
    if esc is not None and esc.line != 1:
        new[0], new[esc.line - 1] = new[esc.line - 1], new[0]
    # the Go side drops a byte order mark at the start; ``lines`` has already lost the
    # file's own, so a second one must reach it as written
    bom = "\ufeff" if new and new[0].startswith("\ufeff") else ""
    return bom + "\n".join(new) + "\n"


def _scan_comments(lines: list[str], instructions: list[Instruction]) -> list[Comment]:
    """Comment lines anywhere but in heredoc bodies (those inside a continuation
    included: BuildKit skips them as comments too)."""
    inside = bytearray(len(lines) + 2)
    for ins in instructions:
        docs = ins.heredocs + (ins.trigger.heredocs if ins.trigger is not None else ())
        for doc in docs:
            for n in range(doc.start_line, min(doc.end_line, len(lines)) + 1):
                inside[n] = 1
    out = []
    for number, line in enumerate(lines, start=1):
        if inside[number]:
            continue
        stripped = line.lstrip(GO_SPACE)
        if stripped.startswith("#"):
            out.append(Comment(number, len(line) - len(stripped) + 1, stripped[1:]))
    return out


def _attached_comments(start_line: int, comments_by_line: dict[int, Comment]) -> tuple[Comment, ...]:
    out = []
    n = start_line - 1
    while n in comments_by_line:
        out.append(comments_by_line[n])
        n -= 1
    return tuple(reversed(out))


def _instruction(cmd, lines: list[str], escape: str, index: int, comments: list[Comment], line_offset: int = 0, nested: bool = False,
                 stage: int = -1) -> Instruction:
    start = cmd.start_line + line_offset
    end = cmd.end_line + line_offset
    located = cmd.segments if type(cmd) is LocatedCommand and not line_offset and not nested else None
    if located is not None:  # the plain reader joined the lines already, the same way
        logical, segments, last = cmd.original, list(located), end
    else:
        logical, segments, last = logical_line(lines, start, escape)
    if logical[:1] in GO_SPACE or (len(segments) > 1 and segments[1][0] == 0):
        # the first line held only the escape character: the keyword is on a later line
        # (after any blanks there, which BuildKit trims)
        logical, segments = _cut(logical, segments, len(logical) - len(logical.lstrip(GO_SPACE)))
        keyword_written = keyword_of(logical) if logical.strip(GO_SPACE) else cmd.cmd
    elif located is not None:
        keyword_written = cmd.cmd  # the reader's keyword: letters up to a blank or the end
    else:
        keyword_written = keyword_of(logical) if logical.strip(GO_SPACE) else cmd.cmd
    first_line, first_col = segments[0][1], segments[0][2]
    keyword = cmd.cmd.upper()
    heredocs = _heredocs(cmd, logical, lines, last, keyword) if cmd.heredocs else ()
    # (only ENV and LABEL have a legacy form: the rest of the line is cut out for them alone)
    legacy = keyword in ("ENV", "LABEL") and _legacy_form(keyword, bool(cmd.value), _after_keyword(logical, keyword_written), escape)
    ins = Instruction(
        keyword=keyword,
        keyword_as_written=keyword_written,
        args=tuple(cmd.value),
        flags=tuple(cmd.flags),
        json=bool(cmd.json),
        original=cmd.original,
        start_line=first_line,
        end_line=end,
        column=first_col,
        index=index,
        stage=stage,
        heredocs=heredocs,
        comments=_attached_comments(first_line, {c.line: c for c in comments}) if comments else (),
        logical=logical,
        segments=tuple(segments),
        legacy_form=legacy,
    )
    if keyword == "ONBUILD" and cmd.sub_cmd and not nested:
        # `ONBUILD ONBUILD ...` is refused by Docker (rule AN3043); its trigger is not unpacked
        trigger = _trigger(ins, lines, escape, end, stage)
        if trigger is not None:
            ins = evolve(ins, trigger=trigger)
    return ins


def _legacy_form(keyword: str, has_value: bool, rest: str, escape: str) -> bool:
    """ENV/LABEL written as ``KEY value``: BuildKit's first word (quotes and escapes
    respected) holds no ``=``."""
    if keyword not in ("ENV", "LABEL") or not has_value:
        return False
    return "=" not in _first_word(rest, escape)


def _first_word(rest: str, escape: str) -> str:
    """The first word of ``rest`` split as BuildKit's ``parseWords`` splits it."""
    words, _open = parse_words(rest, escape, limit=1)
    return words[0] if words else ""


def _after_keyword(logical: str, keyword_written: str) -> str:
    return logical[len(keyword_written):] if logical.startswith(keyword_written) else logical


def _heredocs(cmd, logical: str, lines: list[str], last: int, keyword: str) -> tuple[Heredoc, ...]:
    if not cmd.heredocs:
        return ()
    markers = [m for m in _HEREDOC_RE.finditer(logical)]
    out = []
    body_line = last + 1
    for i, doc in enumerate(cmd.heredocs):
        marker = next((m for m in markers if m.group(4) == doc.name), None)
        if marker is not None:
            markers.remove(marker)
        chomp = bool(marker and marker.group(2) == "-")
        quoted = bool(marker and marker.group(3))
        fd = int(marker.group(1)) if marker and marker.group(1) else int(doc.file_descriptor or 0)
        n_body = doc.content.count("\n")
        start = body_line
        end = body_line + n_body
        body = "\n".join(lines[start - 1 : end - 1]) + ("\n" if n_body else "")
        out.append(Heredoc(doc.name, body, not quoted, chomp, fd, start, end))
        body_line = end + 1
    return tuple(out)


def _trigger(onbuild: Instruction, lines: list[str], escape: str, end: int, stage: int = -1) -> Optional[Instruction]:
    """Parse the instruction an ONBUILD carries as an instruction of its own, with its
    real positions (BuildKit's node for ONBUILD drops the trigger's heredocs)."""
    start = onbuild.start_line
    chunk = list(lines[start - 1 : end])
    first = chunk[0]
    col = onbuild.column - 1
    kw = onbuild.keyword_as_written
    chunk[0] = first[:col] + " " * len(kw) + first[col + len(kw) :]
    prefix = [f"# escape={escape}"] if escape != "\\" else []
    cmds = plain_commands(prefix + chunk, escape) if PLAIN_PATH else None
    if cmds is None:
        import dockerfile as bk

        try:
            cmds = bk.parse_string("\n".join(prefix + chunk) + "\n")
        except bk.GoParseError as exc:
            raise ParseError(f"ONBUILD: {exc}", start, onbuild.column) from None
    if not cmds:
        return None
    offset = start - 1 - len(prefix)
    sub = _instruction(cmds[0], lines, escape, onbuild.index, [], line_offset=offset, nested=True, stage=stage)
    # the trigger's own logical line starts after the ONBUILD keyword
    trig_logical, trig_segments, _ = _logical_from(lines, start, escape, col + len(kw))
    written = keyword_of(trig_logical) if trig_logical.strip(GO_SPACE) else sub.keyword
    return evolve(
        sub,
        keyword_as_written=written,
        logical=trig_logical,
        segments=tuple(trig_segments),
        start_line=trig_segments[0][1],
        column=trig_segments[0][2],
        comments=(),
        legacy_form=_legacy_form(sub.keyword, bool(sub.args), _after_keyword(trig_logical, written), escape),
    )


def _logical_from(lines: list[str], start: int, escape: str, skip: int):
    text, segments, last = logical_line(lines, start, escape)
    first_col = segments[0][2]
    cut = skip - (first_col - 1)
    rest = text[cut:]
    lead = len(rest) - len(rest.lstrip(GO_SPACE))
    text, new_segments = _cut(text, segments, cut + lead)
    return text, new_segments, last


def _cut(text: str, segments, cut: int):
    """``text[cut:]`` and its position map. Segments that end by ``cut`` go (empty ones,
    from lines holding only the escape character, included); the last one always stays."""
    out = []
    for i, (off, ln, c) in enumerate(segments):
        end = segments[i + 1][0] if i + 1 < len(segments) else len(text)
        if end <= cut and i + 1 < len(segments):
            continue
        out.append((0, ln, c + (cut - off)) if off < cut else (off - cut, ln, c))
    return text[cut:], out


def _stages(instructions: list[Instruction]) -> tuple[list[Stage], list[Instruction]]:
    stages: list[Stage] = []
    global_args: list[Instruction] = []
    current: Optional[list] = None
    stage_index = -1
    for ins in instructions:
        if ins.keyword == "FROM":
            if current is not None:
                stages.append(_make_stage(*current))
            stage_index += 1
            current = [stage_index, _in_stage(ins, stage_index), []]
        elif current is None:
            global_args.append(ins)
        else:
            current[2].append(_in_stage(ins, stage_index))
    if current is not None:
        stages.append(_make_stage(*current))
    return stages, global_args


def _in_stage(ins: Instruction, stage: int) -> Instruction:
    """``ins`` (and its ONBUILD trigger) with ``stage``: as made, nearly always."""
    trigger = ins.trigger
    if ins.stage == stage and (trigger is None or trigger.stage == stage):
        return ins
    if trigger is not None:
        trigger = evolve(trigger, stage=stage)
    return evolve(ins, stage=stage, trigger=trigger)


def _make_stage(index: int, from_ins: Instruction, body: list[Instruction]) -> Stage:
    args = from_ins.args
    base = args[0] if args else ""
    name = name_written = None
    if len(args) >= 3 and args[1].lower() == "as":
        name_written = args[2]
        name = args[2].lower()
    return Stage(
        index=index,
        name=name,
        name_as_written=name_written,
        base=base,
        platform=from_ins.flag("platform"),
        from_instruction=from_ins,
        instructions=tuple(body),
    )


# --- locating errors the Go parser reports without a position -------------------------


def _chunks(lines: list[str], escape: str, first: int) -> Iterable[tuple[int, int]]:
    """Approximate instruction boundaries (start, end) by our own scan, heredoc aware."""
    n = first
    total = len(lines)
    while n <= total:
        raw = lines[n - 1]
        if _COMMENT_RE.match(raw) or _BLANK_RE.match(raw):
            n += 1
            continue
        logical, _segs, last = logical_line(lines, n, escape)
        end = last
        keyword = logical.split(None, 1)[0].upper() if logical.strip() else ""
        if keyword == "ONBUILD":
            rest = logical.split(None, 1)[1] if len(logical.split(None, 1)) > 1 else ""
            keyword = rest.split(None, 1)[0].upper() if rest.strip() else ""
        if keyword in HEREDOC_KEYWORDS:
            for m in _HEREDOC_RE.finditer(logical):
                name, chomp = m.group(4), m.group(2) == "-"
                k = end + 1
                while k <= total:
                    body = lines[k - 1].lstrip("\t") if chomp else lines[k - 1]
                    if body == name:
                        break
                    k += 1
                end = min(k, total)
        yield n, end
        n = end + 1


def _located_error(message: str, lines: list[str], escape: str, directives: list[Directive]) -> ParseError:
    import dockerfile as bk

    if "no instructions" in message:
        return ParseError("file with no instructions", 1, 1)
    first = (directives[-1].line + 1) if directives else 1
    prefix = [f"# escape={escape}"] if escape != "\\" else []
    checked = 0
    for start, end in _chunks(lines, escape, first):
        checked += 1
        if checked > 20000:
            break
        chunk = prefix + lines[start - 1 : end]
        try:
            bk.parse_string("\n".join(chunk) + "\n")
        except bk.GoParseError as exc:
            if str(exc) == message or "heredoc" in message:
                raw = lines[start - 1]
                col = len(raw) - len(raw.lstrip(GO_SPACE)) + 1
                return ParseError(message, start, col)
        except Exception:
            continue
    return ParseError(message, 1, 1)

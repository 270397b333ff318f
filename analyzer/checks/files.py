"""Rules on the file as a whole."""

from __future__ import annotations

import re

from ..lazyre import lazy
from . import Hit, check


@check("AN4001", commands=("wget", "curl"))
def wget_and_curl(ctx):
    first = {}
    for _run, cmd in ctx.commands_named("wget", "curl"):
        from analyzer.shell import basename

        name = basename(cmd.name) if not cmd.dynamic else cmd.extras.get("static_basename", "")
        first.setdefault(name, cmd)
    if len(first) == 2:
        later = max(first.values(), key=lambda c: (c.position.line, c.position.column))
        other = "curl" if basename_of(later) == "wget" else "wget"
        yield Hit(
            later.position,
            f"both wget and curl are used (also {other} on line {first[other].position.line}); "
            "one download tool is enough",
        )


def basename_of(cmd) -> str:
    from analyzer.shell import basename

    return basename(cmd.name) if not cmd.dynamic else cmd.extras.get("static_basename", "")


@check("AN0001")
def parse_error(ctx):
    """Parse errors are reported by the engine before any check runs: a parsed file has none."""
    return ()


_INLINE_IGNORE = lazy(r"^\s*(?P<tool>hadolint|analyze)\s+ignore\s*=", re.IGNORECASE)


@check("AN0003")
def inline_ignore_pragma(ctx):
    from analyzer.model import Position

    for comment in ctx.df.comments:
        m = _INLINE_IGNORE.match(comment.text)
        if not m:
            continue
        end = comment.column + 1 + len(comment.text.rstrip())
        yield Hit(
            Position(comment.line, comment.column, comment.line, end),
            f"inline '# {m.group('tool')} ignore=' pragma: the exception is hidden next to the code; "
            "fix the finding, or record the exception in the configuration",
        )


@check("AN3061")
def instruction_before_from(ctx):
    for ins in ctx.df.global_args:
        if ins.keyword == "ARG":
            continue
        yield Hit(
            ins.position,
            f"{ins.keyword} before the first FROM: only ARG may come before FROM (the build fails on it)",
        )

"""Rules on the file as a whole."""

from __future__ import annotations

from . import Hit, check


@check("AN4001")
def wget_and_curl(ctx):
    first = {}
    for _run, cmd in ctx.commands_named("wget", "curl"):
        from ..shell import basename

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
    from ..shell import basename

    return basename(cmd.name) if not cmd.dynamic else cmd.extras.get("static_basename", "")


@check("AN0001")
def parse_error(ctx):
    """Parse errors are reported by the engine before any check runs: a parsed file has none."""
    return ()

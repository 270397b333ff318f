"""Rules that need the base images' contents (analyzer.lineage)."""

from __future__ import annotations

import posixpath
import re

from ..lazyre import lazy
from . import Hit, check

_ROOTLESS_WRAPPERS = ("sudo", "gosu", "su-exec", "su -c", "runuser -c", "doas")
_FAMILY_MANAGERS = {
    "debian": {"apt"},
    "ubuntu": {"apt"},
    "alpine": {"apk"},
    "rhel": {"yum", "dnf", "microdnf"},
    "fedora": {"dnf", "yum", "microdnf"},
    "suse": {"zypper"},
}


def _failure_handled(ctx, cmd) -> bool:
    """``cmd || ...``: the RUN goes on when the command is not found."""
    from analyzer.checks import command_span

    end = command_span(cmd)
    lines = ctx.df.lines
    if not (1 <= end.end_line <= len(lines)):
        return False
    rest = lines[end.end_line - 1][end.end_column - 1 :].lstrip()
    for _ in range(4):  # redirections written after the arguments: 2>/dev/null, > out, 2>&1
        m = _REDIRECT.match(rest)
        if not m:
            break
        rest = rest[m.end():].lstrip()
    return rest.startswith("||")


_REDIRECT = lazy(r"^\d*(?:>>?|<|>&|<&)&?\s*[^\s|&;]+")


def _guarded(ins, name: str) -> bool:
    """The RUN looks the command up first (``command -v x``, ``which x``, ``type x``,
    ``hash x``): its use is conditional, so its absence is not a failure."""
    base = re.escape(posixpath.basename(name))
    pattern = rf"(?:command\s+-[vV]|which|type|hash)\s+(?:-\w+\s+)*['\"]?(?:\S*/)?{base}\b"
    return re.search(pattern, ins.original) is not None


def _checks(ctx):
    lineage = getattr(ctx, "lineage", None)
    return lineage.checks if lineage is not None else ()


# how a hint names its package: apt looks up Debian's own package lists
_PACKAGE_KIND = {"apt": "Debian package", "apk": "Alpine package"}


@check("AN6001")
def missing_command(ctx):
    from analyzer.lineage.analysis import suggestions

    lineage = getattr(ctx, "lineage", None)
    if lineage is None:
        return
    for chk in _checks(ctx):
        av = chk.availability
        if av.status != "missing":
            continue
        if _failure_handled(ctx, chk.command) or _guarded(chk.instruction, chk.command.name):
            continue
        name = chk.command.name
        state = lineage.stage_states.get(chk.instruction.stage)
        chain = lineage.chain_for(chk.instruction.stage)
        base = chain[0].image if chain else "the base image"
        message = f"{name}: not installed in {base} at this point"
        if av.removed_by is not None:
            message = f"{name}: removed earlier ({av.reason})"
        hints = suggestions(name, state) if state is not None else []
        if hints:
            h = hints[0]
            where = f" provides {h['path']}" if h.get("path") else f" provides {posixpath.basename(name)}"
            kind = _PACKAGE_KIND.get(h["manager"], f"{h['manager']} package")
            message += f"; `{h['install']}` ({kind} {h['package']}){where}"
            release = getattr(state, "release", None)
            if h["manager"] == "apt" and release and len(release) > 1 and release[1]:
                message += f"; {release[1]}"  # e.g. "ubuntu:24.04: using Debian trixie's index"
        yield Hit(chk.command.position, message)


@check("AN6002")
def package_manager_needs_root(ctx):
    lineage = getattr(ctx, "lineage", None)
    if lineage is None:
        return
    from analyzer.effects import needs_root

    for chk in _checks(ctx):
        cmd = chk.command
        user = chk.user.split(":", 1)[0].strip()
        if user in ("root", "0", ""):
            continue  # (first: the cheapest test, and most RUNs run as root)
        if not needs_root(cmd):
            continue
        if any(w.startswith(_ROOTLESS_WRAPPERS) for w in cmd.wrappers):
            continue
        origin = ""
        state = lineage.start_states.get(chk.instruction.stage) if lineage is not None else None
        if state is not None and state.user_origin is not None and state.user == chk.user:
            o = state.user_origin
            origin = f" (set by {o.instruction} in {o.image})"
        yield Hit(
            cmd.position,
            f"{cmd.name} needs root but this RUN runs as USER {chk.user}{origin}; add USER root before it (and switch back after)",
        )


@check("AN6003")
def foreign_package_manager(ctx):
    if getattr(ctx, "lineage", None) is None:
        return
    from analyzer.effects import package_manager_of

    for chk in _checks(ctx):
        family = chk.family
        if not family or family not in _FAMILY_MANAGERS:
            continue
        manager = package_manager_of(chk.command)
        if manager is None or manager in _FAMILY_MANAGERS[family]:
            continue
        expected = "/".join(sorted(_FAMILY_MANAGERS[family]))
        yield Hit(chk.command.position, f"{chk.command.name} is not the package manager of this {family} base image; use {expected}")

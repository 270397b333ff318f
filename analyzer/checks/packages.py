"""Rules on the commands RUN invokes (package managers, privileges, pipelines)."""

from __future__ import annotations

from . import Hit, check, command_span

_APT_OPTS_WITH_VALUE = {"-o", "-c", "-t", "--option", "--config-file", "--target-release", "--default-release"}


def apt_action(argv) -> tuple[str, list[str]]:
    """The apt-get action (``install``, ``update`` ...) and its option words."""
    options: list[str] = []
    i = 1
    while i < len(argv):
        word = argv[i]
        if word in _APT_OPTS_WITH_VALUE and i + 1 < len(argv):
            options.append(f"{word} {argv[i + 1]}")
            i += 2
            continue
        if word.startswith("-"):
            options.append(word)
            i += 1
            continue
        return word, options + [w for w in argv[i + 1 :] if w.startswith("-")]
    return "", options


def _apt_installs(ctx):
    for run, cmd in ctx.commands_named("apt-get", "apt"):
        action, options = apt_action(cmd.argv)
        if action == "install":
            yield run, cmd, options


def _has_short(options, letter: str) -> bool:
    return any(o.startswith("-") and not o.startswith("--") and letter in o[1:] and " " not in o for o in options)


@check("AN3014")
def apt_get_yes(ctx):
    for _run, cmd, options in _apt_installs(ctx):
        yes = (
            _has_short(options, "y")
            or any(o in ("--yes", "--assume-yes", "--force-yes", "-qq", "-q=2", "--quiet=2") for o in options)
            or any(o.startswith(("-o ", "--option ")) and "assume-yes=true" in o.lower() for o in options)
        )
        if not yes:
            yield Hit(command_span(cmd), f"{cmd.name} install without -y waits for an answer that never comes in a build; add -y")


@check("AN3015")
def apt_get_no_recommends(ctx):
    for _run, cmd, options in _apt_installs(ctx):
        if "--no-install-recommends" in options:
            continue
        if any(o.startswith(("-o ", "--option ")) and "install-recommends=false" in o.lower().replace('"', "") for o in options):
            continue
        yield Hit(
            command_span(cmd),
            f"{cmd.name} install without --no-install-recommends pulls in recommended packages nobody asked for",
        )


@check("AN3004")
def sudo(ctx):
    for _run, cmd in ctx.commands_named("sudo"):
        yield Hit(cmd.position, "sudo in a RUN: builds already run as the USER in effect; switch with USER root instead")


def _sets_pipefail(cmd) -> bool:
    argv = list(cmd.argv)
    for i, word in enumerate(argv[1:], start=1):
        if word == "pipefail" and i > 1 and argv[i - 1].startswith("-") and argv[i - 1].endswith("o"):
            return True
        if word in ("-o", "--") and i + 1 < len(argv) and argv[i + 1] == "pipefail":
            return True
    return False


@check("AN4006")
def missing_pipefail(ctx):
    from ..shell import basename

    for run in ctx.runs:
        if run.script is None or not run.posix:
            continue
        shell = run.shell
        if any(w == "pipefail" for w in shell) and any(w.endswith("o") and w.startswith("-") for w in shell):
            continue
        piped = None
        for r, cmd in ctx.commands:
            if r is not run:
                continue
            if basename(cmd.name) == "set" and _sets_pipefail(cmd):
                break
            if cmd.in_pipeline and not cmd.wrappers:
                piped = cmd
                break
        if piped is not None:
            yield Hit(
                piped.position,
                "a pipeline without pipefail succeeds when an earlier command fails; "
                'use SHELL ["/bin/bash", "-o", "pipefail", "-c"] or start the RUN with set -o pipefail',
            )

"""Rules on single instructions."""

from __future__ import annotations

import re

from ..lazyre import lazy
from ..expand import expand
from ..model import AnalyzerError, Position, Script
from ..scripts import _json_positions, command_offset
from ..shell import basename
from . import Hit, check, word_span

KNOWN_INSTRUCTIONS = {
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
    "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
}


@check("AN0002")
def unknown_instruction(ctx):
    for ins in ctx.df.instructions:
        for one in (ins, ins.trigger) if ins.trigger is not None else (ins,):
            if one.keyword not in KNOWN_INSTRUCTIONS:
                yield Hit(one.position, f"unknown instruction: {one.keyword_as_written}")


def _base_images(ctx):
    """(stage, FROM instruction, expanded base image) for bases that are images."""
    from analyzer.images import is_scratch, looks_dynamic

    res = ctx.resolution
    for stage in ctx.df.stages:
        rs = res.stages[stage.index]
        if rs.base_stage is not None:
            continue
        image = rs.base_image or stage.base
        if rs.base_unresolved or looks_dynamic(image) or is_scratch(image):
            continue
        yield stage, stage.from_instruction, image


@check("AN3006")
def untagged_base(ctx):
    from analyzer.images import InvalidReference, parse_ref

    for stage, ins, image in _base_images(ctx):
        try:
            ref = parse_ref(image)
        except InvalidReference:
            continue
        if not ref.explicit_tag and not ref.digest:
            shown = f" ({image})" if image != stage.base else ""
            yield Hit(
                word_span(ins, stage.base),
                f"FROM {stage.base}{shown} has no tag: it means '{ref.familiar}:latest', "
                "whatever that is on the day of the build; pin a version tag",
            )


@check("AN3007")
def latest_tag(ctx):
    from analyzer.images import InvalidReference, parse_ref

    for stage, ins, image in _base_images(ctx):
        try:
            ref = parse_ref(image)
        except InvalidReference:
            continue
        if ref.explicit_tag and ref.tag == "latest" and not ref.digest:
            yield Hit(word_span(ins, stage.base), f"FROM {image} uses the 'latest' tag; pin a version tag")


@check("AN4000", keywords=("MAINTAINER",))
def maintainer(ctx):
    for ins in ctx.instructions("MAINTAINER"):
        yield Hit(ins.position, 'MAINTAINER is deprecated; use LABEL org.opencontainers.image.authors="..."')


_WINDOWS_ABS = lazy(r"^([A-Za-z]:[\\/]|[\\/])")


@check("AN3000", keywords=("WORKDIR",))
def relative_workdir(ctx):
    for ins in ctx.instructions("WORKDIR"):
        if not ins.args:
            continue
        raw = ins.args[0]
        value = raw.strip("\"'")
        if _WINDOWS_ABS.match(value):
            continue
        if "$" in value:
            # judged after substitution; a variable with no known value is given the benefit of the doubt
            try:
                expanded = ctx.resolution.expand_in(ins, raw)
            except AnalyzerError:
                continue
            value = expanded.value
            if expanded.undefined or not value or _WINDOWS_ABS.match(value):
                continue
        stage = ctx.stage_of(ins)
        if stage is not None and ins.trigger is None and ctx.inherited_workdir(stage):
            continue  # the base image chain sets WORKDIR: the path is known (lineage)
        yield Hit(word_span(ins, raw), f"WORKDIR {raw} is relative: its meaning depends on the WORKDIR before it; use an absolute path")


@check("AN3025", keywords=("CMD", "ENTRYPOINT"))
def shell_form_cmd(ctx):
    for ins in ctx.instructions("CMD", "ENTRYPOINT"):
        if ins.json or not ins.args:
            continue
        yield Hit(
            ins.position,
            f"{ins.keyword} in shell form runs under /bin/sh -c, which does not pass signals on; "
            f'use JSON form: {ins.keyword} ["executable", "arg"]',
        )


# --- helpers shared by the instruction, stage, file and label rules ----------------------


def is_trigger(ctx, ins) -> bool:
    """True for the instruction an ONBUILD carries (it runs in a child build, not here)."""
    owner = ctx.df.instructions[ins.index] if 0 <= ins.index < len(ctx.df.instructions) else None
    return owner is not None and owner.trigger is ins


def arg_spans(ins) -> list:
    """The Dockerfile position of every element of ``ins.args``, in order.

    Shell form: each argument as written, searched left to right after the keyword and
    flags. JSON form: each string of the array. An argument that cannot be found gets
    the keyword's position.
    """
    if ins.json:
        return list(_json_positions(ins))
    script = Script(ins.logical, ins.segments)
    out = []
    pos = command_offset(ins)
    for arg in ins.args:
        i = ins.logical.find(arg, pos) if arg else -1
        if i < 0:
            out.append(ins.position if arg else script.span(pos, pos))
            continue
        out.append(script.span(i, i + len(arg)))
        pos = i + len(arg)
    return out


def flag_span(ins, name: str):
    """Position of the first ``--name`` flag as written (else the keyword's)."""
    m = re.compile(r"--" + re.escape(name) + r"(?![A-Za-z0-9-])\S*", re.IGNORECASE).search(ins.logical)
    if m is None:
        return ins.position
    return Script(ins.logical, ins.segments).span(m.start(), m.end())


def value_of(ctx, ins, word: str):
    """``word`` after BuildKit's variable expansion and quote removal, or None when its
    value cannot be known (a variable without a value, an expansion error, or a
    variable in an ONBUILD trigger, whose values come from the child build)."""
    if is_trigger(ctx, ins):
        if "$" in word:
            return None
        try:
            return expand(word, {}, ctx.df.escape).value
        except AnalyzerError:
            return None
    try:
        exp = ctx.resolution.expand_in(ins, word)
    except AnalyzerError:
        return None
    if exp.missing:
        return None
    return exp.value


def memo(ctx, key: str, compute):
    """A value computed once per linted file (kept on the context)."""
    store = ctx.__dict__.setdefault("_memo_instructions", {})
    if key not in store:
        store[key] = compute()
    return store[key]


def env_pairs(ins) -> list:
    """(key, value, index of the key in args) for the pairs of an ENV or LABEL."""
    return [(ins.args[i], ins.args[i + 1] if i + 1 < len(ins.args) else "", i) for i in range(0, len(ins.args), 2)]


# --- EXPOSE ----------------------------------------------------------------------------

_PORT_SPEC = lazy(r"^(?P<start>[0-9]+)(?:-(?P<end>[0-9]+))?(?:/(?P<proto>[A-Za-z]*))?$")
_PROTOCOLS = {"tcp", "udp", "sctp"}


def _port_problem(spec: str):
    if ":" in spec:
        return None  # an ip/host-port mapping: a format question for ExposeInvalidFormat
    m = _PORT_SPEC.match(spec)
    if not m:
        return "is not a port, a port range or a port/protocol"
    start = int(m.group("start"))
    end = int(m.group("end")) if m.group("end") is not None else start
    proto = m.group("proto")
    if start > 65535 or end > 65535:
        return "is out of range: ports go from 0 to 65535"
    if end < start:
        return "is a range that ends before it starts"
    if proto is not None and proto.lower() not in _PROTOCOLS:
        return "names an unknown protocol (tcp, udp or sctp)"
    return None


@check("AN3011", keywords=("EXPOSE",))
def invalid_expose_port(ctx):
    for ins in ctx.instructions("EXPOSE"):
        for word, pos in zip(ins.args, arg_spans(ins)):
            value = value_of(ctx, ins, word)
            if value is None:
                continue
            for spec in value.split():
                problem = _port_problem(spec)
                if problem:
                    shown = f"{word} ({spec})" if spec != word else word
                    yield Hit(pos, f"EXPOSE {shown} {problem}; the build fails on it")


# --- ADD and COPY ----------------------------------------------------------------------

# what ADD may extract (hadolint's list plus zstd): with one of these, ADD has a reason
_ADD_ARCHIVE_SUFFIXES = (
    ".tar", ".Z", ".bz2", ".gz", ".lz", ".lzma", ".tZ", ".tb2", ".tbz", ".tbz2", ".tgz",
    ".tlz", ".tpz", ".txz", ".xz", ".zst", ".tzst",
)
_GIT_SOURCE = lazy(r"^(git@|git://|ssh://)")


def _is_remote(src: str) -> bool:
    return src.startswith(("http://", "https://")) or bool(_GIT_SOURCE.search(src))


def copy_sources_and_dest(ins):
    """(sources, dest, source spans, dest span) of a COPY or ADD."""
    spans = arg_spans(ins)
    if len(ins.args) < 2:
        return [], None, [], None
    return list(ins.args[:-1]), ins.args[-1], spans[:-1], spans[-1]


@check("AN3020", keywords=("ADD",))
def add_instead_of_copy(ctx):
    for ins in ctx.instructions("ADD"):
        if any(ins.flag(f) is not None for f in ("checksum", "keep-git-dir", "unpack")):
            continue
        sources, _dest, spans, _ = copy_sources_and_dest(ins)
        for src, pos in zip(sources, spans):
            if src.startswith("<<"):
                yield Hit(pos, "ADD of a heredoc: COPY does the same and says what it does; use COPY")
                break
            value = value_of(ctx, ins, src)
            if value is None or _is_remote(value) or value.endswith(_ADD_ARCHIVE_SUFFIXES):
                continue
            yield Hit(
                pos,
                f"ADD {src} copies a local file or directory: use COPY, and keep ADD for URLs, "
                "git sources and archives to extract",
            )
            break


@check("AN3021", keywords=("COPY", "ADD"))
def copy_many_sources_dest_not_dir(ctx):
    for ins in ctx.instructions("COPY", "ADD"):
        sources, dest, _spans, dest_pos = copy_sources_and_dest(ins)
        if len(sources) < 2:
            continue
        value = value_of(ctx, ins, dest)
        if value is None or value.endswith(("/", "\\")):
            continue
        shown = f"{dest} ({value})" if value != dest else dest
        yield Hit(
            dest_pos,
            f"{ins.keyword} with {len(sources)} sources needs a directory destination ending in '/': "
            f"{shown} does not end with '/', and the build fails",
        )


def _is_root_path(path: str) -> bool:
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    return path.startswith(("/", "\\")) and not parts


@check("AN3067", keywords=("COPY",))
def copy_entire_filesystem(ctx):
    for ins in ctx.instructions("COPY"):
        source = ins.flag("from")
        if not source:
            continue
        sources, dest, spans, _ = copy_sources_and_dest(ins)
        dest_value = value_of(ctx, ins, dest) if dest is not None else None
        if dest_value is None or not _is_root_path(dest_value):
            continue
        for src, pos in zip(sources, spans):
            value = value_of(ctx, ins, src)
            if value is not None and _is_root_path(value):
                yield Hit(
                    pos,
                    f"COPY --from={source} {src} {dest} copies the whole filesystem of {source} over this "
                    "one; copy only the directories you need",
                )
                break


# --- FROM --platform ---------------------------------------------------------------------

# platforms no build runs on: a --platform whose value changes with them follows the build
_PROBE_TARGET = "plan9/mips64le/v9"
_PROBE_BUILD = "aix/ppc64"


def probe_resolution(ctx):
    """The file resolved for a made-up target and build platform."""
    from analyzer.expand import resolve

    def compute():
        try:
            return resolve(ctx.df, dict(ctx.options.build_args), _PROBE_TARGET, build_platform=_PROBE_BUILD)
        except AnalyzerError:
            return None

    return memo(ctx, "probe_resolution", compute)


def _strip_quotes(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


@check("AN3029")
def fixed_from_platform(ctx):
    from analyzer.expand import parse_platform

    if not any(stage.from_instruction.flag("platform") for stage in ctx.df.stages):
        return
    probe = probe_resolution(ctx)
    for stage in ctx.df.stages:
        raw = stage.from_instruction.flag("platform")
        if not raw:
            continue
        rs = ctx.resolution.stages[stage.index]
        if rs.platform_expansion is not None and rs.platform_expansion.missing:
            continue  # an ARG without a value: set at build time
        if probe is None or rs.platform is None:
            continue
        if probe.stages[stage.index].platform != rs.platform:
            continue  # follows $BUILDPLATFORM / $TARGETPLATFORM
        try:
            plat = parse_platform(rs.platform)
        except AnalyzerError:
            continue
        name = stage.name or ""
        if name and (plat.os.lower() in name or plat.arch.lower() in name):
            continue  # a per-platform stage, picked with e.g. FROM build_${TARGETARCH}
        shown = f"{raw} ({rs.platform})" if rs.platform != _strip_quotes(raw) else raw
        yield Hit(
            flag_span(stage.from_instruction, "platform"),
            f"FROM --platform={shown} pins the stage to one platform, so the Dockerfile cannot build "
            "for any other; drop it, or use $BUILDPLATFORM for build tools",
        )


@check("AN3065")
def redundant_target_platform(ctx):
    for stage in ctx.df.stages:
        raw = stage.from_instruction.flag("platform")
        if raw is None:
            continue
        if _strip_quotes(raw) in ("$TARGETPLATFORM", "${TARGETPLATFORM}"):
            yield Hit(
                flag_span(stage.from_instruction, "platform"),
                "FROM --platform=$TARGETPLATFORM is what FROM does anyway; drop the flag",
            )


# --- ONBUILD ----------------------------------------------------------------------------


@check("AN3043", keywords=("ONBUILD",))
def invalid_onbuild_trigger(ctx):
    for ins in ctx.df.instructions:
        trig = ins.trigger
        if trig is None or trig.keyword not in ("ONBUILD", "FROM", "MAINTAINER"):
            continue
        what = "ONBUILD ONBUILD (chaining)" if trig.keyword == "ONBUILD" else f"ONBUILD {trig.keyword}"
        yield Hit(trig.position, f"{what} is not allowed: the build fails on it")


# --- ENV ---------------------------------------------------------------------------------


def _referenced_names(word: str, escape: str) -> list:
    from analyzer.expand import expand

    try:
        exp = expand(word, {}, escape)
    except AnalyzerError:
        return []
    return list(exp.undefined)


def _reference_span(value_pos, value: str, name: str):
    """Position of ``$name`` / ``${name...}`` inside a one-line value (else the value's)."""
    m = re.search(r"\$(?:\{" + re.escape(name) + r"(?![A-Za-z0-9_])[^}]*\}?|" + re.escape(name) + r"(?![A-Za-z0-9_]))", value)
    if not m or value_pos.line != value_pos.end_line:
        return value_pos
    return Position(value_pos.line, value_pos.column + m.start(), value_pos.line, value_pos.column + m.end())


@check("AN3044", keywords=("ENV",))
def env_self_reference(ctx):
    for ins in ctx.instructions("ENV"):
        pairs = env_pairs(ins)
        if len(pairs) < 2:
            continue
        spans = arg_spans(ins)
        trigger = is_trigger(ctx, ins)
        before = None if trigger else ctx.resolution.env_before(ins).values
        keys = {}
        for key, value, i in pairs:
            keys.setdefault(key, []).append(i)
        for key, value, i in pairs:
            for name in _referenced_names(value, ctx.df.escape):
                others = [j for j in keys.get(name, ()) if j != i]
                if not others:
                    continue
                if before is not None:
                    new = value_of(ctx, ins, ins.args[others[-1] + 1])
                    if name in before and new is not None and before[name] == new:
                        continue  # the same value either way
                old = "unset" if before is None or name not in before else f"'{before[name]}'"
                if trigger:
                    old = "the value from before this ENV"
                yield Hit(
                    _reference_span(spans[i + 1], value, name),
                    f"${name} in {key}={value} is expanded before this ENV sets {name}: it is {old} here; "
                    f"set {name} in an earlier ENV",
                )


# --- ARG / ENV names that look like secrets ---------------------------------------------

_SECRET_NAMES = frozenset(
    """ACCESS_TOKEN APPLICATION_KEY APP_SECRET AUTH_TOKEN AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
    BITTREX_API_KEY BITTREX_API_SECRET CF_PASSWORD CF_USERNAME CIRCLE_TOKEN CI_DEPLOY_PASSWORD
    CI_DEPLOY_USER DOCKERHUB_PASSWORD DOCKER_EMAIL DOCKER_PASSWORD DOCKER_USERNAME
    FACEBOOK_ACCESS_TOKEN FACEBOOK_APP_ID FACEBOOK_APP_SECRET FIREBASE_API_TOKEN FIREBASE_TOKEN
    FOSSA_API_KEY GH_ENTERPRISE_TOKEN GH_TOKEN GITHUB_ENTERPRISE_TOKEN GITHUB_TOKEN HEROKU_API_KEY
    HEROKU_API_USER NPM_AUTH_TOKEN NPM_TOKEN OKTA_AUTHN_GROUPID OKTA_CLIENT_ORGURL OKTA_CLIENT_TOKEN
    OKTA_OAUTH2_CLIENTID OKTA_OAUTH2_CLIENTSECRET OPENAI_API_KEY OS_PASSWORD OS_USERNAME
    POSTGRES_PASSWORD SLACK_TOKEN STRIPE_API_KEY STRIPE_DEVICE_NAME TRAVIS_OS_NAME
    TRAVIS_SECURE_ENV_VARS TRAVIS_SUDO VAULT_CLIENT_KEY VAULT_TOKEN""".split()
)
_SECRET_PARTS = ("api_key", "client_key", "password", "private", "secret", "token", "username")


def _looks_secret(name: str) -> bool:
    return name.upper() in _SECRET_NAMES or any(p in name.lower() for p in _SECRET_PARTS)


@check("AN3064", keywords=("ARG", "ENV"))
def secret_in_arg_or_env(ctx):
    for ins in ctx.instructions("ARG", "ENV"):
        if ins.keyword == "ENV":
            names = [(key, i) for key, _v, i in env_pairs(ins)]
        else:
            names = [(arg.partition("=")[0], i) for i, arg in enumerate(ins.args)]
        names = [(name, i) for name, i in names if _looks_secret(name)]
        if not names:
            continue
        spans = arg_spans(ins)  # (only now: placing every argument costs more than the names)
        for name, i in names:
            pos = spans[i]
            if pos.line == pos.end_line and pos.end_column - pos.column > len(name):
                pos = Position(pos.line, pos.column, pos.line, pos.column + len(name))
            yield Hit(
                pos,
                f"{ins.keyword} {name} looks like a secret: ARG and ENV values stay in the image "
                "metadata; use a secret mount (RUN --mount=type=secret)",
            )


# --- USER --------------------------------------------------------------------------------


def user_value(ctx, ins):
    """The expanded USER argument, or None when unknown."""
    if not ins.args:
        return None
    return value_of(ctx, ins, ins.args[0])


def is_root_user(value: str) -> bool:
    user = value.split(":", 1)[0]
    return user == "root" or (user.isdigit() and int(user) == 0)


@check("AN3066", keywords=("USER",))
def non_numeric_user(ctx):
    for ins in ctx.instructions("USER"):
        value = user_value(ctx, ins)
        if value is None or not value.strip():
            continue
        user = value.strip().split(":", 1)[0]
        if user.isdigit():
            continue
        raw = ins.args[0]
        shown = f"{raw} ({value})" if value != raw else raw
        yield Hit(
            arg_spans(ins)[0],
            f"USER {shown} is a name: the host, Kubernetes' runAsNonRoot and volume permissions "
            "see only numeric ids; use the uid (e.g. USER 1000:1000)",
        )


# --- commands in RUN ---------------------------------------------------------------------

_POINTLESS = frozenset({"free", "kill", "mount", "ps", "service", "shutdown", "ssh", "top", "vim"})


def command_name(cmd) -> str:
    return basename(cmd.name) if not cmd.dynamic else cmd.extras.get("static_basename", "")


def _first_per_run(ctx, wanted):
    """(run, [matching commands]) for each RUN with a command named in ``wanted``."""
    found: dict = {}
    order = []
    for run, cmd in ctx.commands_named(*wanted):  # in file order, by the index of names
        if cmd.function:
            continue
        if id(run) not in found:
            found[id(run)] = (run, [])
            order.append(id(run))
        found[id(run)][1].append(cmd)
    return [found[k] for k in order]


@check("AN3001", commands=_POINTLESS)
def pointless_command(ctx):
    for _run, cmds in _first_per_run(ctx, _POINTLESS):
        names = sorted({command_name(c) for c in cmds})
        yield Hit(
            cmds[0].position,
            f"{', '.join(names)} in a RUN: a build step has no terminal, services or other processes "
            "to look at or control; leave it out of the Dockerfile",
        )


@check("AN3003", commands=("cd",))
def cd_in_run(ctx):
    for _run, cmds in _first_per_run(ctx, {"cd"}):
        yield Hit(
            cmds[0].position,
            "cd in a RUN: use WORKDIR to change directory (it also applies to later instructions "
            "and to the container)",
        )


def _long_option_value(argv, i, names):
    """Value of ``--name VALUE`` / ``--name=VALUE`` at argv[i] (or None) and the index used."""
    word = argv[i]
    for name in names:
        if word == name and i + 1 < len(argv):
            return argv[i + 1], i + 1
        if word.startswith(name + "="):
            return word[len(name) + 1 :], i
    return None, i


_USERADD_SHORT_WITH_VALUE = set("bcdefgGkKpPRsuZ")


def _useradd_uid(argv):
    """(uid word, its argv index, -l given) of a useradd command line."""
    uid, uid_index, no_log = None, None, False
    i = 1
    while i < len(argv):
        word = argv[i]
        if word == "--":
            break
        if word.startswith("--"):
            if word == "--no-log-init":
                no_log = True
            value, j = _long_option_value(argv, i, ("--uid",))
            if value is not None:
                uid, uid_index = value, j
                i = j + 1
                continue
            if "=" not in word and word[2:] in {
                "base-dir", "comment", "home-dir", "expiredate", "inactive", "gid", "groups", "skel",
                "key", "password", "root", "prefix", "shell", "selinux-user", "btrfs-subvolume",
            }:
                i += 2
                continue
            i += 1
            continue
        if word.startswith("-") and len(word) > 1:
            k = 1
            while k < len(word):
                letter = word[k]
                if letter == "l":
                    no_log = True
                if letter in _USERADD_SHORT_WITH_VALUE:
                    rest = word[k + 1 :]
                    if letter == "u":
                        if rest:
                            uid, uid_index = rest, i
                        elif i + 1 < len(argv):
                            uid, uid_index = argv[i + 1], i + 1
                    if not rest:
                        i += 1
                    break
                k += 1
            i += 1
            continue
        i += 1
    return uid, uid_index, no_log


def _shell_value(ctx, run, word: str):
    """A RUN word with the ARG/ENV values the shell gets (None when unknown)."""
    from analyzer.expand import expand

    if "$(" in word or "`" in word:
        return None
    if "$" not in word:
        return word.strip("\"'")
    if is_trigger(ctx, run.instruction):
        return None
    try:
        exp = expand(word, ctx.resolution.env_before(run.instruction).values, ctx.df.escape)
    except AnalyzerError:
        return None
    return None if exp.missing else exp.value


@check("AN3046", commands=("useradd",))
def useradd_high_uid(ctx):
    for run, cmd in ctx.commands_named("useradd"):
        uid, index, no_log = _useradd_uid(list(cmd.argv))
        if uid is None or no_log:
            continue
        value = _shell_value(ctx, run, uid)
        if value is None or not value.isdigit() or int(value) < 100000:
            continue
        pos = cmd.arg_positions[index] if index is not None and index < len(cmd.arg_positions) else cmd.position
        shown = f"{uid} ({value})" if value != uid else uid
        yield Hit(
            pos,
            f"useradd with uid {shown} and without -l (--no-log-init) writes a sparse lastlog/faillog "
            "that the image layer stores at full size; add -l",
        )


_WGET_QUIET_LONG = ("--progress", "--quiet", "--no-verbose", "--output-file", "--append-output")
_WGET_SHORT_WITH_VALUE = set("oaeiBtTwPOUQlADRXIY")


def _wget_is_quiet(argv) -> bool:
    for word in argv[1:]:
        if word == "--":
            break
        if word.startswith("--"):
            if word.split("=", 1)[0] in _WGET_QUIET_LONG:
                return True
            continue
        if word == "-nv":
            return True
        if word.startswith("-") and len(word) > 1:
            for letter in word[1:]:
                if letter in "qoa":
                    return True
                if letter in _WGET_SHORT_WITH_VALUE:
                    break
    return False


@check("AN3047", commands=("wget",))
def wget_without_progress(ctx):
    for _run, cmd in ctx.commands_named("wget"):
        if _wget_is_quiet(cmd.argv):
            continue
        yield Hit(
            cmd.position,
            "wget without --progress=dot:giga, -q or -nv prints a progress bar line by line and bloats "
            "the build log; add --progress=dot:giga (or -nv)",
        )


_SH_PATHS = ("/bin/sh", "/usr/bin/sh")


@check("AN4005", commands=("ln",))
def ln_bin_sh(ctx):
    for _run, cmd in ctx.commands_named("ln"):
        operands = []
        for i, word in enumerate(cmd.argv[1:], start=1):
            if word.startswith("-") and word != "-":
                continue
            operands.append((word, i))
        if len(operands) < 2:
            continue
        dest, index = operands[-1]
        if dest.rstrip("/") in _SH_PATHS:
            pos = cmd.arg_positions[index] if index < len(cmd.arg_positions) else cmd.position
            yield Hit(
                pos,
                f"ln onto {dest} changes the default shell behind the Dockerfile's back; "
                'use SHELL ["/bin/bash", "-c"] instead',
            )

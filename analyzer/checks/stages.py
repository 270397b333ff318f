"""Rules on stages and the relations between them."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from itertools import accumulate

from ..model import AnalyzerError
from . import Hit, check, word_span
from .instructions import command_name, flag_span


@check("AN3024")
def duplicate_stage_name(ctx):
    seen = {}
    for stage in ctx.df.stages:
        if stage.name is None:
            continue
        if stage.name in seen:
            first = seen[stage.name]
            yield Hit(
                word_span(
                    stage.from_instruction,
                    stage.name_as_written or stage.name,
                    max(0, stage.from_instruction.logical.rfind(stage.name_as_written or stage.name)),
                ),
                f"stage name '{stage.name}' is already used by the stage on line {first}",
            )
        else:
            seen[stage.name] = stage.from_instruction.start_line


def _names_own_stage(stage, value: str) -> bool:
    if re.fullmatch(r"\d+", value):
        return int(value) == stage.index
    return stage.name is not None and value.lower() == stage.name


def _looks_like_image(value: str) -> bool:
    return any(ch in value for ch in "/:.@") or "$" in value


@check("AN3022", keywords=("COPY",))
def copy_from_undefined_stage(ctx):
    df = ctx.df
    for stage in df.stages:
        earlier = {s.name for s in df.stages[: stage.index] if s.name}
        for ins in ctx.stage_instructions(stage, "COPY"):
            for value in ins.flag_values("from"):
                if not value or _looks_like_image(value):
                    continue
                if _names_own_stage(stage, value):
                    continue  # AN3023 reports a stage copying from itself
                if re.fullmatch(r"\d+", value):
                    if int(value) < stage.index:
                        continue
                    msg = f"COPY --from={value} names stage {value}, which is not a stage before this one"
                elif value.lower() in earlier:
                    continue
                elif df.stage_by_name(value) is not None:
                    msg = f"COPY --from={value} names a stage defined later in the file"
                else:
                    msg = (
                        f"COPY --from={value} names no stage of this file; Docker will try to pull "
                        f"an image called '{value}'"
                    )
                yield Hit(flag_span(ins, "from"), msg)


def _count_per_stage(ctx, keyword: str):
    for stage in ctx.df.stages:
        found = list(ctx.stage_instructions(stage, keyword))
        for ins in found[:-1]:
            yield Hit(
                ins.position,
                f"{keyword} on line {ins.start_line} is overridden by the {keyword} on line "
                f"{found[-1].start_line}: only the last {keyword} of a stage takes effect",
            )


@check("AN4003", keywords=("CMD",))
def multiple_cmd(ctx):
    yield from _count_per_stage(ctx, "CMD")


@check("AN4004", keywords=("ENTRYPOINT",))
def multiple_entrypoint(ctx):
    yield from _count_per_stage(ctx, "ENTRYPOINT")


# --- helpers -------------------------------------------------------------------------------


def _parent_stage(ctx, stage):
    """Index of the earlier stage this one is built FROM, else None."""
    rs = ctx.resolution.stages[stage.index]
    return rs.base_stage


def _mount_sources(ins) -> list:
    """``from=`` values of a RUN's --mount flags."""
    out = []
    for value in ins.flag_values("mount"):
        for part in value.split(","):
            key, _, val = part.partition("=")
            if key.strip().lower() == "from" and val:
                out.append(val)
    return out


def _stage_index_named(ctx, ins, value):
    """The stage a --from value on ``ins`` names (else None)."""
    from analyzer.checks.instructions import value_of

    expanded = value_of(ctx, ins, value) if "$" in value else value
    if expanded is None:
        return None
    if re.fullmatch(r"\d+", expanded):
        index = int(expanded)
        return index if index < len(ctx.df.stages) else None
    found = ctx.df.stage_by_name(expanded)
    return found.index if found is not None else None


def used_stages(ctx) -> set:
    """Stages another stage builds on, copies from or mounts."""
    from analyzer.checks.instructions import memo

    def compute():
        used = set()
        for stage in ctx.df.stages:
            parent = _parent_stage(ctx, stage)
            if parent is not None:
                used.add(parent)
            for ins in ctx.stage_instructions(stage, "COPY", "RUN"):
                values = ins.flag_values("from") if ins.keyword == "COPY" else _mount_sources(ins)
                for value in values:
                    index = _stage_index_named(ctx, ins, value)
                    if index is not None and index != stage.index:
                        used.add(index)
        return used

    return memo(ctx, "used_stages", compute)


def leaf_stages(ctx):
    """Stages nothing else in the file uses: the images a build can produce."""
    used = used_stages(ctx)
    return [s for s in ctx.df.stages if s.index not in used]


def lineage_of(ctx, stage):
    """The stage and the stages it is built FROM, nearest first."""
    chain = [stage]
    seen = {stage.index}
    parent = _parent_stage(ctx, stage)
    while parent is not None and parent not in seen:
        seen.add(parent)
        chain.append(ctx.df.stages[parent])
        parent = _parent_stage(ctx, ctx.df.stages[parent])
    return chain


def _from_span(stage):
    return stage.from_instruction.position


# --- USER ----------------------------------------------------------------------------------


@check("AN3002", keywords=("USER",))
def last_user_root(ctx):
    from analyzer.checks.instructions import arg_spans, is_root_user, user_value

    for stage in ctx.df.stages:
        users = list(ctx.stage_instructions(stage, "USER"))
        if not users:
            continue
        last = users[-1]
        value = user_value(ctx, last)
        if value is None or not is_root_user(value.strip()):
            continue
        raw = last.args[0]
        shown = f"{raw} ({value})" if value != raw else raw
        where = f"stage '{stage.name_as_written}'" if stage.name else f"stage {stage.index}"
        inherited = ctx.inherited_state(stage)
        note = ""
        if inherited is not None and inherited.user_origin is not None and not is_root_user(inherited.user.strip()):
            # lineage: the base image was made to run unprivileged, and this file undoes it
            note = f" (the base image {inherited.user_origin.image} runs as USER {inherited.user})"
        yield Hit(
            arg_spans(last)[0],
            f"the last USER of {where} is {shown}{note}: containers of this image run as root; "
            "switch to an unprivileged user after the steps that need root",
        )


# --- HEALTHCHECK ---------------------------------------------------------------------------


@check("AN3012", keywords=("HEALTHCHECK",))
def multiple_healthchecks(ctx):
    yield from _count_per_stage(ctx, "HEALTHCHECK")


@check("AN3057")
def missing_healthcheck(ctx):
    for stage in leaf_stages(ctx):
        if any(any(True for _ in ctx.stage_instructions(s, "HEALTHCHECK")) for s in lineage_of(ctx, stage)):
            continue
        yield Hit(
            _from_span(stage),
            "no HEALTHCHECK in this image: the container runtime cannot tell a hung service from a "
            "healthy one; add HEALTHCHECK CMD ... (or HEALTHCHECK NONE to say there is none)",
        )


# --- COPY --from ----------------------------------------------------------------------------


@check("AN3023", keywords=("COPY",))
def copy_from_own_stage(ctx):
    from analyzer.checks.instructions import value_of

    for stage in ctx.df.stages:
        for ins in ctx.stage_instructions(stage, "COPY"):
            for raw in ins.flag_values("from"):
                if not raw:
                    continue
                value = value_of(ctx, ins, raw)
                if value is None or not _names_own_stage(stage, value):
                    continue
                yield Hit(
                    flag_span(ins, "from"),
                    f"COPY --from={raw} names the stage it is in: a stage cannot copy from itself "
                    "(the build fails); copy from an earlier stage",
                )


# --- stage names ---------------------------------------------------------------------------

_RESERVED_STAGE_NAMES = ("scratch", "context")


@check("AN3063")
def reserved_stage_name(ctx):
    for stage in ctx.df.stages:
        if stage.name in _RESERVED_STAGE_NAMES:
            written = stage.name_as_written or stage.name
            ins = stage.from_instruction
            pos = word_span(ins, written, max(0, ins.logical.rfind(written)))
            yield Hit(
                pos,
                f"stage name '{written}' is a reserved word: FROM {stage.name} and COPY --from={stage.name} "
                "mean something else; rename the stage",
            )


# --- registries ----------------------------------------------------------------------------

class RegistryOptionError(AnalyzerError):
    """The allowed-registries option is malformed."""


_DOCKER_HUB_NAMES = {"docker.io", "index.docker.io", "registry-1.docker.io", "hub.docker.com"}


def _allowed_registries(ctx) -> list:
    raw = ctx.option("allowed-registries")
    if raw is None:
        raw = ctx.option("trusted-registries")
    if raw is None:
        return []
    if isinstance(raw, str):
        raw = [p for p in re.split(r"[,\s]+", raw) if p]
    if not isinstance(raw, (list, tuple)) or not all(isinstance(r, str) for r in raw):
        raise RegistryOptionError("allowed-registries must be a registry name or a list of registry names")
    return [r.strip().lower() for r in raw if r.strip()]


def registry_allowed(domain: str, allowed) -> bool:
    domain = domain.lower()
    for entry in allowed:
        if entry in _DOCKER_HUB_NAMES and domain in _DOCKER_HUB_NAMES:
            return True
        if entry.startswith("*."):
            if domain.endswith(entry[1:]):
                return True
        elif entry == "*" or entry == domain:
            return True
    return False


def _external_images(ctx):
    """(instruction, word as written, expanded image, span) for every image pulled."""
    from analyzer.images import is_scratch, looks_dynamic
    from analyzer.checks.instructions import _base_images, value_of

    for stage, ins, image in _base_images(ctx):
        yield ins, stage.base, image, word_span(ins, stage.base, len(ins.keyword_as_written))
    for stage in ctx.df.stages:
        for ins in ctx.stage_instructions(stage, "COPY"):
            for raw in ins.flag_values("from"):
                if not raw or _stage_index_named(ctx, ins, raw) is not None:
                    continue
                value = value_of(ctx, ins, raw)
                if value is None or re.fullmatch(r"\d+", value) or looks_dynamic(value) or is_scratch(value):
                    continue
                if ctx.df.stage_by_name(value) is not None:
                    continue
                yield ins, raw, value, flag_span(ins, "from")


@check("AN3026")
def untrusted_registry(ctx):
    from analyzer.images import InvalidReference, parse_ref

    allowed = _allowed_registries(ctx)
    if not allowed:
        return
    for ins, raw, image, pos in _external_images(ctx):
        try:
            ref = parse_ref(image)
        except InvalidReference:
            continue
        if registry_allowed(ref.domain, allowed):
            continue
        shown = f"{raw} ({image})" if raw != image else raw
        yield Hit(
            pos,
            f"{shown} comes from {ref.domain}, which is not an allowed registry "
            f"({', '.join(allowed)})",
        )


# --- WORKDIR ---------------------------------------------------------------------------------


def _is_absolute(path: str) -> bool:
    return path.startswith(("/", "\\")) or bool(re.match(r"^[A-Za-z]:[\\/]", path))


@check("AN3045", keywords=("COPY", "ADD"))
def copy_relative_dest_without_workdir(ctx):
    from analyzer.checks.instructions import copy_sources_and_dest, value_of

    workdir_at_end: dict = {}
    for stage in ctx.df.stages:
        parent = _parent_stage(ctx, stage)
        has_workdir = workdir_at_end.get(parent, False) if parent is not None else False
        if parent is None and ctx.inherited_workdir(stage):
            has_workdir = True  # a base image in the chain sets WORKDIR (lineage)
        for ins in stage.instructions:
            if ins.trigger is not None:
                continue
            if ins.keyword == "WORKDIR":
                has_workdir = True
                continue
            if ins.keyword not in ("COPY", "ADD") or has_workdir:
                continue
            _sources, dest, _spans, dest_pos = copy_sources_and_dest(ins)
            if dest is None:
                continue
            value = value_of(ctx, ins, dest)
            if value is None or _is_absolute(value):
                continue
            yield Hit(
                dest_pos,
                f"{ins.keyword} to the relative path {dest} with no WORKDIR set in this stage: it lands "
                "wherever the base image's WORKDIR points; set WORKDIR or use an absolute path",
            )
        workdir_at_end[stage.index] = has_workdir


# --- archives ------------------------------------------------------------------------------

_TAR_SUFFIXES = (
    ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tbz2", ".tb2", ".tar.xz", ".txz",
    ".tar.zst", ".tzst",
)
_DECOMPRESSORS = {"gunzip", "bunzip2", "unxz", "unzstd", "zcat", "gzcat", "bzcat", "xzcat", "zstdcat"}
_DECOMPRESS_WITH_D = {"gzip", "bzip2", "xz", "zstd"}


def _basename(path: str) -> str:
    return re.split(r"[\\/]", path.rstrip("/\\"))[-1]


def _is_tar(name: str) -> bool:
    return name.lower().endswith(_TAR_SUFFIXES)


def _extracts(cmd) -> bool:
    name = command_name(cmd)
    args = list(cmd.argv[1:])
    if name == "tar":
        if args and not args[0].startswith("-") and re.fullmatch(r"[A-Za-z]+", args[0]) and "x" in args[0]:
            return True
        return any(a in ("--extract", "--get") or (a.startswith("-") and not a.startswith("--") and "x" in a) for a in args)
    if name in _DECOMPRESSORS:
        return True
    if name in _DECOMPRESS_WITH_D:
        return any(a == "--decompress" or (a.startswith("-") and not a.startswith("--") and "d" in a) for a in args)
    return False


def _mentions(cmd, archive: str) -> bool:
    for word in cmd.argv[1:]:
        if word.startswith("--") and "=" in word:
            word = word.split("=", 1)[1]
        if _basename(word) == archive:
            return True
    return False


@check("AN3010", keywords=("COPY",))
def copy_then_extract(ctx):
    from analyzer.checks.instructions import copy_sources_and_dest, value_of

    commands_by_run: dict = {}
    for run, cmd in ctx.commands:
        if _extracts(cmd):
            commands_by_run.setdefault(id(run.instruction), []).append(cmd)
    if not commands_by_run:
        return  # nothing extracts an archive: no COPY needs looking at
    for stage in ctx.df.stages:
        archives: dict = {}  # basename -> (COPY instruction, source as written, span)
        reported = set()
        for ins in ctx.stage_instructions(stage, "COPY", "RUN"):
            if ins.keyword == "COPY":
                if ins.flag("from") is not None:
                    continue
                sources, dest, spans, _ = copy_sources_and_dest(ins)
                dest_value = value_of(ctx, ins, dest) if dest is not None else None
                for src, pos in zip(sources, spans):
                    value = value_of(ctx, ins, src)
                    if value is None or src.startswith("<<") or not _is_tar(value):
                        continue
                    name = _basename(value)
                    if dest_value and not dest_value.endswith(("/", "\\")) and len(sources) == 1 and _is_tar(dest_value):
                        name = _basename(dest_value)
                    archives[name] = (ins, src, pos)
                continue
            for cmd in commands_by_run.get(id(ins), ()):
                for name, (copy_ins, src, pos) in archives.items():
                    if (copy_ins.index, name) in reported or not _mentions(cmd, name):
                        continue
                    reported.add((copy_ins.index, name))
                    yield Hit(
                        pos,
                        f"{src} is copied, then extracted by the RUN on line {cmd.position.line}: "
                        f"ADD {src} <dir> extracts a local tar archive in one step, without keeping it in a layer",
                    )


# --- RUN -----------------------------------------------------------------------------------


def _first(span: tuple) -> tuple:
    return span[0]


def _top_level_count(cmds) -> int:
    """Commands of a RUN, not counting those inside another command's arguments."""
    spans = sorted(
        (((a[0].line, a[0].column), (a[-1].end_line, a[-1].end_column), other) for other in cmds if (a := other.arg_positions)),
        key=_first,
    ) if len(cmds) > 1 else []
    firsts = [first for first, _, _ in spans]
    reach = list(accumulate((last for _, last, _ in spans), max))  # furthest end so far
    count = 0
    for cmd in cmds:
        if cmd.wrappers:
            continue
        here = (cmd.position.line, cmd.position.column)
        k = bisect_left(firsts, here)
        if k and reach[k - 1] > here:
            continue  # a span starting before ``here`` reaches past it
        # spans starting right at ``here``: the command's own (its name comes first) and
        # those of commands that wrap it
        if any(here < last and other is not cmd for _, last, other in spans[k : bisect_right(firsts, here, k)]):
            continue
        count += 1
    return count


@check("AN3059", keywords=("RUN",))
def consecutive_runs(ctx):
    commands_by_run: dict = {}
    for run, cmd in ctx.commands:
        commands_by_run.setdefault(id(run.instruction), []).append(cmd)
    single: dict = {}  # id of a RUN -> it runs at most one top-level command

    def is_single(ins) -> bool:
        found = single.get(id(ins))
        if found is None:
            cmds = commands_by_run.get(id(ins), [])
            # a count can only be above one with two commands or more
            found = single[id(ins)] = len(cmds) <= 1 or _top_level_count(cmds) <= 1
        return found

    for stage in ctx.df.stages:
        previous = None  # (flags, the RUN) just before
        for ins in stage.instructions:
            if ins.keyword != "RUN" or ins.trigger is not None:
                previous = None
                continue
            flags = tuple(sorted(ins.flags))
            if previous is not None and previous[0] == flags and is_single(previous[1]) and is_single(ins):
                yield Hit(
                    ins.position,
                    f"this RUN follows the RUN on line {previous[1].start_line} with the same flags: each RUN adds "
                    "a layer; join them with &&",
                )
            previous = (flags, ins)

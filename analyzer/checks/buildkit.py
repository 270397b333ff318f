"""The checks of ``docker build --check`` (BuildKit's linter), one rule each.

Each rule carries the BuildKit check name as an alias, so ``# check=skip=NAME`` and
``# check=error=true`` apply to it. BuildKit runs these while it converts the Dockerfile
for a build; here they run on the parsed file and the ARG/ENV resolution, with the same
triggers (documented per rule in ``rules/AN10xx.yaml``).
"""

from __future__ import annotations

import os
import posixpath
import re
from typing import Iterator, Optional

from ..lazyre import lazy
from ..model import AnalyzerError, Instruction, Position, Script
from . import Hit, check, word_span

# --- shared helpers ----------------------------------------------------------------------


_NON_BLANK = re.compile(r"\S+")


def words(ins: Instruction) -> list[tuple[str, int]]:
    """The whitespace-separated words after the keyword and flags, with their offsets in
    the logical line (quotes kept: these are positions, not values)."""
    from analyzer.scripts import command_offset

    start = command_offset(ins)
    return [(m.group(0), m.start()) for m in _NON_BLANK.finditer(ins.logical, start)]


def span_at(ins: Instruction, start: int, length: int) -> Position:
    return Script(ins.logical, ins.segments).span(start, start + max(1, length))


def flag_span(ins: Instruction, name: str) -> Position:
    m = re.search(r"--" + re.escape(name) + r"\b\S*", ins.logical, re.IGNORECASE)
    return span_at(ins, m.start(), len(m.group(0))) if m else ins.position


def var_span(ins: Instruction, name: str) -> Position:
    """Where ``$name`` or ``${name...`` first appears after the keyword."""
    pat = re.compile(r"\$(?:\{" + re.escape(name) + r"(?=[^A-Za-z0-9_])|" + re.escape(name) + r"(?![A-Za-z0-9_]))")
    m = pat.search(ins.logical, len(ins.keyword_as_written))
    if m is None:
        return ins.position
    end = m.end()
    if ins.logical.startswith("${", m.start()):
        close = ins.logical.find("}", m.start())
        end = close + 1 if close > 0 else end
    return span_at(ins, m.start(), end - m.start())


def suggest(name: str, options, case_sensitive: bool = True) -> Optional[str]:
    """The option closest to ``name`` (Levenshtein distance under 3), as BuildKit suggests."""
    key = (name, tuple(sorted(set(options))), case_sensitive)
    if key not in _SUGGESTED:
        if len(_SUGGESTED) >= 4096:
            _SUGGESTED.clear()
        _SUGGESTED[key] = _suggest(name, key[1], case_sensitive)
    return _SUGGESTED[key]


_SUGGESTED: dict = {}  # the same misspelling against the same names, file after file


def _suggest(name: str, options: tuple, case_sensitive: bool) -> Optional[str]:
    want = name if case_sensitive else name.lower()
    best, best_dist = None, 3
    for opt in options:
        cand = opt if case_sensitive else opt.lower()
        if cand == want:
            return opt if opt != name else None
        dist = _levenshtein(want, cand, best_dist)
        if dist < best_dist:
            best, best_dist = opt, dist
    return best


def _levenshtein(a: str, b: str, limit: int) -> int:
    if abs(len(a) - len(b)) >= limit:
        return limit
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        cur = [i]
        for j, cb in enumerate(b, start=1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) >= limit:
            return limit  # every later row is at least this far
        prev = cur
    return prev[-1]


def _from_words(stage) -> dict:
    """Offsets of the base, the AS keyword and the stage name in a FROM line."""
    ins = stage.from_instruction
    ws = words(ins)
    out = {}
    if ws:
        out["base"] = ws[0]
    if len(ws) >= 3 and ws[1][0].lower() == "as":
        out["as"] = ws[1]
        out["name"] = ws[2]
    return out


def _name_span(stage) -> Position:
    part = _from_words(stage).get("name")
    ins = stage.from_instruction
    return span_at(ins, part[1], len(part[0])) if part else ins.position


def _base_span(stage) -> Position:
    part = _from_words(stage).get("base")
    ins = stage.from_instruction
    return span_at(ins, part[1], len(part[0])) if part else ins.position


def _stage_body(ctx) -> Iterator[Instruction]:
    """Every instruction of every stage as written, FROM lines included (an ONBUILD as the
    ONBUILD, not as its trigger)."""
    for stage in ctx.df.stages:
        yield stage.from_instruction
        yield from stage.instructions


def _expand(ctx, ins: Instruction, word: str):
    try:
        return ctx.resolution.expand_in(ins, word)
    except AnalyzerError:
        return None


# --- stage names and keyword casing ------------------------------------------------------


@check("AN1001")
def stage_name_casing(ctx):
    for stage in ctx.df.stages:
        written = stage.name_as_written
        if written and written != written.lower():
            yield Hit(
                _name_span(stage),
                f"stage name '{written}' should be lowercase ('{written.lower()}'): stage names are "
                "compared without case, so the capitals only suggest a distinction that does not exist",
            )


@check("AN1002")
def from_as_casing(ctx):
    for stage in ctx.df.stages:
        ins = stage.from_instruction
        parts = _from_words(stage)
        if "as" not in parts:
            continue
        kw, as_word = ins.keyword_as_written, parts["as"][0]
        if kw == kw.lower():
            wanted = as_word.lower()
        elif kw == kw.upper():
            wanted = as_word.upper()
        else:
            continue  # a mixed-case keyword is ConsistentInstructionCasing's business
        if as_word != wanted:
            yield Hit(
                span_at(ins, parts["as"][1], len(as_word)),
                f"'{as_word}' and '{kw}' keywords' casing do not match: write '{kw} ... {wanted}'",
            )


@check("AN1004")
def consistent_instruction_casing(ctx):
    keywords = [ins for ins in _stage_body(ctx)]
    lower = upper = 0
    for ins in keywords:
        kw = ins.keyword_as_written
        if kw == kw.lower():
            lower += 1
        elif kw == kw.upper():
            upper += 1
    majority_lower = lower > upper
    for ins in keywords:
        kw = ins.keyword_as_written
        if majority_lower and kw != kw.lower():
            yield Hit(ins.position, f"'{kw}' should match the case of the other instructions (lowercase: {kw.lower()})")
        elif not majority_lower and kw != kw.upper():
            yield Hit(ins.position, f"'{kw}' should match the case of the other instructions (uppercase: {kw.upper()})")


RESERVED_STAGE_NAMES = ("context", "scratch")


@check("AN1005")
def reserved_stage_name(ctx):
    for stage in ctx.df.stages:
        if stage.name in RESERVED_STAGE_NAMES:
            yield Hit(
                _name_span(stage),
                f"'{stage.name}' is reserved and should not be used as a stage name"
                + (": FROM scratch always means the empty image" if stage.name == "scratch" else ": it names the build context"),
            )


# --- physical layout -----------------------------------------------------------------------


def _continues(line: str, escape: str) -> bool:
    stripped = line.rstrip(" \t")
    if not stripped.endswith(escape):
        return False
    body = stripped[:-1]
    return body == "" or body[-1] != escape


@check("AN1003")
def no_empty_continuation(ctx):
    df = ctx.df
    lines = df.lines
    escape = df.escape
    for ins in df.instructions:
        segments = ins.segments
        if len(segments) == 1 and not lines[segments[0][1] - 1].rstrip(" \t").endswith(escape):
            continue  # one line, not continued: nothing inside it or after it to look at
        seg_lines = [s[1] for s in segments]
        if not seg_lines:
            continue
        first, last = seg_lines[0], seg_lines[-1]
        used = set(seg_lines)
        candidates = [n for n in range(first + 1, last) if n not in used]
        if _continues(lines[last - 1], df.escape) and not ins.heredocs:
            candidates += list(range(last + 1, len(lines) + 1))  # a continuation that runs into EOF
        empty = [n for n in candidates if not lines[n - 1].strip(" \t") and n - 1 < len(lines)]
        if not empty:
            continue
        n = empty[0]
        where = f"line {n}" if len(empty) == 1 else f"lines {', '.join(str(e) for e in empty)}"
        yield Hit(
            Position(n, 1, n, len(lines[n - 1]) + 1),
            f"empty continuation line ({where}) inside {ins.keyword_as_written} from line {ins.start_line}: "
            "deprecated, and a future BuildKit refuses it; remove it or make it a comment",
        )


# --- variables in FROM ----------------------------------------------------------------------


@check("AN1006")
def undefined_arg_in_from(ctx):
    res = ctx.resolution
    options = set(res.global_scope.values) | set(res.global_scope.declared_args)
    for stage_index, name in res.undefined_in_from:
        stage = ctx.df.stages[stage_index]
        hint = suggest(name, options)
        yield Hit(
            var_span(stage.from_instruction, name),
            f"FROM argument '{name}' is not declared by an ARG before the first FROM"
            + (f" (did you mean {hint}?)" if hint else "")
            + ": it expands to an empty string",
        )


@check("AN1013")
def invalid_default_arg_in_from(ctx):
    from analyzer.expand import resolve
    from analyzer.images import InvalidReference, is_scratch, parse_ref

    try:
        res = resolve(ctx.df, {})
    except AnalyzerError:
        return
    names = {s.name for s in ctx.df.stages if s.name}
    for stage in ctx.df.stages:
        exp = res.stages[stage.index].base_expansion
        if exp is None:
            continue
        value = exp.value
        if value in names or is_scratch(value):
            continue
        try:
            parse_ref(value)
            continue
        except InvalidReference as exc:
            reason = exc.reason
        if "$" in stage.base:
            msg = (
                f"with the default values of its ARGs, FROM {stage.base} gives {value!r}, which is not a valid "
                f"image reference ({reason}): the build fails unless --build-arg supplies a value"
            )
        else:
            msg = f"FROM {stage.base} is not a valid image reference ({reason})"
        yield Hit(_base_span(stage), msg)


# --- platforms -------------------------------------------------------------------------------


@check("AN1011")
def redundant_target_platform(ctx):
    res = ctx.resolution
    target = res.global_scope.values.get("TARGETPLATFORM")
    for stage in ctx.df.stages:
        raw = stage.from_instruction.flag("platform")
        exp = res.stages[stage.index].platform_expansion
        if raw is None or exp is None or exp.undefined:
            continue
        if set(exp.used) == {"TARGETPLATFORM"} and exp.value == target:
            yield Hit(
                flag_span(stage.from_instruction, "platform"),
                f"--platform={raw} is redundant: a stage is built for $TARGETPLATFORM unless told otherwise",
            )


@check("AN1014")
def from_platform_flag_const(ctx):
    from analyzer.expand import parse_platform

    res = ctx.resolution
    for stage in ctx.df.stages:
        raw = stage.from_instruction.flag("platform")
        exp = res.stages[stage.index].platform_expansion
        if raw is None or exp is None or exp.used or exp.undefined:
            continue
        try:
            p = parse_platform(exp.value)
        except AnalyzerError:
            continue
        name = stage.name or ""
        if p.os in name or p.arch in name:
            continue  # a per-platform stage such as build_amd64, picked with $TARGETARCH
        yield Hit(
            flag_span(stage.from_instruction, "platform"),
            f"FROM --platform={exp.value} pins the stage to one platform, so this Dockerfile cannot build "
            "for any other; use $BUILDPLATFORM/$TARGETPLATFORM, or name the stage after its platform",
        )


# Docker Hub namespaces that hold single-architecture builds of the official images.
_ARCH_NAMESPACES = {
    "amd64": ("linux", "amd64"),
    "arm32v5": ("linux", "arm"),
    "arm32v6": ("linux", "arm"),
    "arm32v7": ("linux", "arm"),
    "arm64v8": ("linux", "arm64"),
    "i386": ("linux", "386"),
    "mips64le": ("linux", "mips64le"),
    "ppc64le": ("linux", "ppc64le"),
    "riscv64": ("linux", "riscv64"),
    "s390x": ("linux", "s390x"),
    "winamd64": ("windows", "amd64"),
}
_WINDOWS_TAG = lazy(r"nanoserver|windowsservercore|servercore|ltsc20\d\d", re.IGNORECASE)


def image_platform(image: str) -> Optional[tuple[str, Optional[str]]]:
    """(os, arch or None) an image reference can only be, when its name says so."""
    from analyzer.images import InvalidReference, parse_ref

    try:
        ref = parse_ref(image)
    except InvalidReference:
        return None
    if ref.domain == "docker.io":
        first = ref.path.split("/", 1)[0]
        if "/" in ref.path and first in _ARCH_NAMESPACES:
            return _ARCH_NAMESPACES[first]
    if ref.domain == "mcr.microsoft.com" and ref.path.startswith("windows"):
        return ("windows", None)
    if ref.tag and _WINDOWS_TAG.search(ref.tag):
        return ("windows", None)
    return None


@check("AN1010")
def invalid_base_image_platform(ctx):
    from analyzer.expand import parse_platform

    res = ctx.resolution
    configured = ctx.option("platform")
    for stage in ctx.df.stages:
        rs = res.stages[stage.index]
        if rs.base_stage is not None or rs.base_unresolved or not rs.base_image:
            continue
        actual = image_platform(rs.base_image)
        if actual is None:
            continue
        exp = rs.platform_expansion
        if stage.from_instruction.flag("platform") is not None:
            if exp is None or exp.undefined:
                continue
            if exp.used and any(n.startswith(("TARGET", "BUILD")) for n in exp.used) and not configured:
                continue  # depends on the platform of the build: unknown here
            wanted = exp.value if not (exp.used and configured) else configured
        elif configured:
            wanted = configured
        else:
            continue
        try:
            expected = parse_platform(wanted)
        except AnalyzerError:
            continue
        if actual[0] != expected.os or (actual[1] is not None and actual[1] != expected.arch):
            shown = f"{actual[0]}/{actual[1]}" if actual[1] else actual[0]
            yield Hit(
                _base_span(stage),
                f"base image {rs.base_image} is built for {shown} only, but the stage is built for {expected}: "
                "the image will not run there (exec format error)",
            )


# --- WORKDIR ---------------------------------------------------------------------------------

_ABSOLUTE = lazy(r"^(?:/|\\|[A-Za-z]:[\\/])")


@check("AN1007", keywords=("WORKDIR",))
def workdir_relative_path(ctx):
    set_in: dict[int, bool] = {}
    res = ctx.resolution
    for stage in ctx.df.stages:
        parent = res.stages[stage.index].base_stage
        workdir_set = set_in.get(parent, False) if parent is not None else False
        for ins in ctx.stage_instructions(stage, "WORKDIR"):
            if not ins.args:
                continue
            if not workdir_set:
                raw = ins.args[0]
                exp = _expand(ctx, ins, raw)
                value = exp.value if exp is not None else raw
                if exp is not None and not exp.missing and not _ABSOLUTE.match(value.strip("\"'")):
                    yield Hit(
                        word_span(ins, raw),
                        f"relative WORKDIR {value!r} with no absolute WORKDIR before it in this build: it lands "
                        "under whatever WORKDIR the base image sets, which can change upstream",
                    )
            workdir_set = True
        set_in[stage.index] = workdir_set


# --- UndefinedVar -----------------------------------------------------------------------------

_EXPANDED_FLAGS = {"COPY": ("chown", "chmod", "from"), "ADD": ("chown", "chmod")}


def _expanded_words(ins: Instruction) -> list[str]:
    """The words BuildKit expands for an instruction (ARG, ENV and FROM handled apart)."""
    kw = ins.keyword
    out: list[str] = []
    if kw in ("COPY", "ADD"):
        docs = {f"<<{d.name}" for d in ins.heredocs} | {f"<<-{d.name}" for d in ins.heredocs}
        out += [a for a in ins.args if a not in docs and not re.fullmatch(r"\d*<<-?['\"]?\w[\w.-]*['\"]?", a)]
        for name in _EXPANDED_FLAGS[kw]:
            out += [v for v in ins.flag_values(name) if v]
    elif kw == "LABEL":
        out += list(ins.args)
    elif kw in ("WORKDIR", "USER", "STOPSIGNAL", "VOLUME"):
        out += list(ins.args)
    return out


def base_env_names(ctx, stage) -> Optional[set]:
    """Names the ENV of a stage's external base image defines, or None when unknown.

    BuildKit's UndefinedVar sees the pulled base image's ENV. Here it is known for a chain
    that ends in scratch, or when the lineage resolved the base image down to its root."""
    from analyzer.images import is_scratch

    res = ctx.resolution
    root = stage
    seen = set()
    while res.stages[root.index].base_stage is not None and root.index not in seen:
        seen.add(root.index)
        root = ctx.df.stages[res.stages[root.index].base_stage]
    rs = res.stages[root.index]
    if rs.base_image is not None and is_scratch(rs.base_image):
        return set()
    lineage = getattr(ctx, "lineage", None)
    start = getattr(lineage, "start_states", {}).get(root.index) if lineage is not None else None
    chain = lineage.chains.get(root.index) if lineage is not None and hasattr(lineage, "chains") else None
    if start is None or not chain or getattr(start, "unknown_all", None) is not None:
        return None
    return set(getattr(start, "env", {}) or {})


@check("AN1008")
def undefined_var(ctx):
    res = ctx.resolution
    unknown = object()
    for stage in ctx.df.stages:
        base_env = unknown  # worked out when a stage has something to judge
        for ins in ctx.stage_instructions(stage):
            if ins.keyword in ("ARG", "ENV"):
                names = list(res.undefined.get(ins.index, ()))
            elif "$" not in ins.logical:
                continue  # no word of it names a variable
            else:
                names = []
                for word in _expanded_words(ins):
                    if "$" not in word:
                        continue
                    try:
                        found = res.undefined_vars(ins, word)
                    except AnalyzerError:
                        continue
                    names += [n for n in found if n not in names]
            if not names:
                continue
            if base_env is unknown:
                base_env = base_env_names(ctx, stage)
            options = set(res.env_before(ins).values) | (base_env or set())
            for name in names:
                if base_env is not None and name in base_env:
                    continue
                hint = suggest(name, options)
                if base_env is None and hint is None:
                    continue  # the base image's ENV may set it: only a likely misspelling is reported
                yield Hit(
                    var_span(ins, name),
                    f"usage of undefined variable '${name}'" + (f" (did you mean ${hint}?)" if hint else "")
                    + ": no ARG or ENV before this line sets it"
                    + (", nor the base image" if base_env is not None else "")
                    + ", so it expands to an empty string",
                )


# --- ENV / LABEL format -------------------------------------------------------------------------


@check("AN1009", keywords=("ENV", "LABEL"))
def legacy_key_value_format(ctx):
    for ins in ctx.instructions("ENV", "LABEL"):
        if not ins.legacy_form:
            continue
        ws = words(ins)
        pos = span_at(ins, ws[0][1], len(ws[0][0])) if ws else ins.position
        kw = ins.keyword_as_written
        yield Hit(pos, f'"{kw} key=value" should be used instead of the legacy "{kw} key value" format')


# --- secrets by name -------------------------------------------------------------------------------

_SECRET_NAME = lazy(
    r"(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)", re.IGNORECASE
)
_SECRET_NAME_ALLOW = lazy(r"(?:_|^)(?:public|file|version)(?:_|$)", re.IGNORECASE)


def secret_like_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name)) and not _SECRET_NAME_ALLOW.search(name)


def arg_env_keys(ins: Instruction) -> list[str]:
    if ins.keyword == "ARG":
        return [a.split("=", 1)[0] for a in ins.args]
    if ins.keyword == "ENV":
        return [ins.args[i] for i in range(0, len(ins.args), 2)]
    return []


def key_span(ins: Instruction, key: str) -> Position:
    for word, off in words(ins):
        if word == key or word.startswith(key + "="):
            return span_at(ins, off, len(key))
    return word_span(ins, key, len(ins.keyword_as_written))


@check("AN1012", keywords=("ARG", "ENV"))
def secrets_used_in_arg_or_env(ctx):
    for ins in ctx.instructions("ARG", "ENV"):
        for key in arg_env_keys(ins):
            if secret_like_name(key):
                yield Hit(
                    key_span(ins, key),
                    f"{ins.keyword} {key}: the name says it holds a secret, and ARG/ENV values are kept in the "
                    "image's metadata and build history; pass it with RUN --mount=type=secret instead",
                )


# --- EXPOSE ------------------------------------------------------------------------------------------


def _expose_ports(ctx, ins: Instruction) -> Iterator[tuple[str, str]]:
    """(port spec after expansion, word as written) for every port of an EXPOSE."""
    for raw in ins.args:
        exp = _expand(ctx, ins, raw) if "$" in raw and ins.trigger is None else None
        value = exp.value if exp is not None else raw
        for port in value.split():
            yield port, raw


@check("AN1016", keywords=("EXPOSE",))
def expose_proto_casing(ctx):
    for ins in ctx.instructions("EXPOSE"):
        for port, raw in _expose_ports(ctx, ins):
            _, sep, proto = port.partition("/")
            if sep and proto != proto.lower():
                yield Hit(
                    word_span(ins, raw, len(ins.keyword_as_written)),
                    f"protocol of '{port}' in EXPOSE should be lowercase ('{port.lower()}')",
                )


@check("AN1017", keywords=("EXPOSE",))
def expose_invalid_format(ctx):
    for ins in ctx.instructions("EXPOSE"):
        for port, raw in _expose_ports(ctx, ins):
            spec = port.partition("/")[0]
            if ":" in spec:
                yield Hit(
                    word_span(ins, raw, len(ins.keyword_as_written)),
                    f"EXPOSE should not define an IP address or host-port mapping, found '{port}': EXPOSE only "
                    "documents the container port; publish with docker run -p. A future BuildKit refuses it",
                )


# --- COPY of ignored files ---------------------------------------------------------------------------

_REMOTE = lazy(r"^(?:[a-z][a-z0-9+.-]*://|git@)", re.IGNORECASE)


def _ignore_matcher(ctx):
    from analyzer.dockerignore import DockerignoreError, for_dockerfile, parse

    patterns = ctx.option("patterns")
    if patterns is not None:
        text = "\n".join(str(p) for p in patterns) if not isinstance(patterns, str) else patterns
        return parse(text, "the configured patterns")
    path = ctx.df.path
    if not path or path in ("-", "<stdin>") or not os.path.isfile(path):
        return None
    try:
        return for_dockerfile(path, ctx.option("context"))
    except DockerignoreError:
        return None


@check("AN1015", keywords=("COPY", "ADD"))
def copy_ignored_file(ctx):
    copies = [
        ins for stage in ctx.df.stages for ins in ctx.stage_instructions(stage, "COPY", "ADD")
        if ins.flag("from") is None and len(ins.args) >= 2
    ]
    if not copies:
        return  # nothing to judge: no need to look for an ignore file
    matcher = _ignore_matcher(ctx)
    # with exceptions (!pattern) a file below an excluded directory may still be sent:
    # too uncertain to judge without the context itself
    if not matcher or matcher.has_exceptions:
        return
    root_ignored = any(p.text in ("*", "**", "**/*") for p in matcher.patterns)
    source_name = os.path.basename(matcher.source) if matcher.source else ".dockerignore"
    for ins in copies:
        heredocs = {d.name for d in ins.heredocs}
        for raw in ins.args[:-1]:
            m = re.fullmatch(r"\d*<<-?['\"]?([\w.-]+)['\"]?", raw)
            if m and m.group(1) in heredocs:
                continue
            exp = _expand(ctx, ins, raw)
            if exp is None or exp.missing:
                continue
            src = exp.value
            if _REMOTE.match(src):
                continue
            cleaned = posixpath.normpath(src).lstrip("/") or "."
            if cleaned == "." and not root_ignored:
                continue
            if cleaned == "." or matcher.excluded(cleaned):
                verb = "ADD" if ins.keyword == "ADD" else "COPY"
                yield Hit(
                    word_span(ins, raw, len(ins.keyword_as_written)),
                    f"{verb} source '{cleaned}' is excluded by {source_name}: it is not in the build "
                    f"context, so the {verb} fails",
                )


# --- descriptions ------------------------------------------------------------------------------------

_PRAGMA = lazy(r"^\s*(?:hadolint|analyze)\s", re.IGNORECASE)


def _description(ctx, ins: Instruction):
    """The comment BuildKit reads as the description of ``ins`` (the last comment line
    directly above it, after the last empty ``#``), or None."""
    directive_lines = {d.line for d in ctx.df.directives}
    comments = [c for c in ins.comments if c.line not in directive_lines]
    if not comments:
        return None
    for i in range(len(comments) - 1, -1, -1):
        if not comments[i].text.strip():
            comments = comments[i + 1 :]
            break
    return comments[-1] if comments else None


@check("AN1018")
def invalid_definition_description(ctx):
    for stage in ctx.df.stages:
        candidates = [(stage.from_instruction, [stage.name] if stage.name else [])]
        candidates += [(ins, arg_env_keys(ins)) for ins in ctx.stage_instructions(stage, "ARG")]
        if stage.index == 0:
            candidates = [(ins, arg_env_keys(ins)) for ins in ctx.df.global_args if ins.keyword == "ARG"] + candidates
        for ins, keys in candidates:
            if not keys:
                continue
            comment = _description(ctx, ins)
            if comment is None or _PRAGMA.match(comment.text):
                continue
            first = comment.text.strip().split(" ")[0]
            allowed = set(keys) | ({stage.name_as_written} if ins.keyword == "FROM" and stage.name_as_written else set())
            if first in allowed:
                continue
            example = keys[0] if len(keys) == 1 else "<arg_key>"
            what = "stage" if ins.keyword == "FROM" else "ARG"
            col = comment.column
            line_text = ctx.df.lines[comment.line - 1]
            yield Hit(
                Position(comment.line, col, comment.line, len(line_text) + 1),
                f"the comment above {ins.keyword_as_written} on line {ins.start_line} reads as the {what}'s "
                f"description, which should start with its name: '# {example} <description>'; if it is not "
                "meant as one, put an empty line between",
            )

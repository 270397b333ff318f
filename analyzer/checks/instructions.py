"""Rules on single instructions."""

from __future__ import annotations

import re

from ..model import AnalyzerError
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
    from ..images import is_scratch, looks_dynamic

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
    from ..images import InvalidReference, parse_ref

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
    from ..images import InvalidReference, parse_ref

    for stage, ins, image in _base_images(ctx):
        try:
            ref = parse_ref(image)
        except InvalidReference:
            continue
        if ref.explicit_tag and ref.tag == "latest" and not ref.digest:
            yield Hit(word_span(ins, stage.base), f"FROM {image} uses the 'latest' tag; pin a version tag")


@check("AN4000")
def maintainer(ctx):
    for ins in ctx.instructions("MAINTAINER"):
        yield Hit(ins.position, 'MAINTAINER is deprecated; use LABEL org.opencontainers.image.authors="..."')


_WINDOWS_ABS = re.compile(r"^([A-Za-z]:[\\/]|[\\/])")


@check("AN3000")
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
        yield Hit(word_span(ins, raw), f"WORKDIR {raw} is relative: its meaning depends on the WORKDIR before it; use an absolute path")


@check("AN3025")
def shell_form_cmd(ctx):
    for ins in ctx.instructions("CMD", "ENTRYPOINT"):
        if ins.json or not ins.args:
            continue
        yield Hit(
            ins.position,
            f"{ins.keyword} in shell form runs under /bin/sh -c, which does not pass signals on; "
            f'use JSON form: {ins.keyword} ["executable", "arg"]',
        )

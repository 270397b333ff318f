"""Rules on stages and the relations between them."""

from __future__ import annotations

import re

from . import Hit, check, word_span


@check("AN3024")
def duplicate_stage_name(ctx):
    seen = {}
    for stage in ctx.df.stages:
        if stage.name is None:
            continue
        if stage.name in seen:
            first = seen[stage.name]
            yield Hit(
                word_span(stage.from_instruction, stage.name_as_written or stage.name),
                f"stage name '{stage.name}' is already used by the stage on line {first}",
            )
        else:
            seen[stage.name] = stage.from_instruction.start_line


def _looks_like_image(value: str) -> bool:
    return any(ch in value for ch in "/:.@") or "$" in value


@check("AN3022")
def copy_from_undefined_stage(ctx):
    df = ctx.df
    for stage in df.stages:
        earlier = {s.name for s in df.stages[: stage.index] if s.name}
        for ins in ctx.stage_instructions(stage, "COPY"):
            for value in ins.flag_values("from"):
                if not value or _looks_like_image(value):
                    continue
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
                yield Hit(word_span(ins, f"--from={value}"), msg)


def _count_per_stage(ctx, keyword: str):
    for stage in ctx.df.stages:
        found = list(ctx.stage_instructions(stage, keyword))
        for ins in found[:-1]:
            yield Hit(
                ins.position,
                f"{keyword} on line {ins.start_line} is overridden by the {keyword} on line "
                f"{found[-1].start_line}: only the last {keyword} of a stage takes effect",
            )


@check("AN4003")
def multiple_cmd(ctx):
    yield from _count_per_stage(ctx, "CMD")


@check("AN4004")
def multiple_entrypoint(ctx):
    yield from _count_per_stage(ctx, "ENTRYPOINT")

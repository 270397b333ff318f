"""What ``analyze --plan`` / ``--record`` do for each input file (called by the CLI)."""

from __future__ import annotations

import os
from typing import Optional

from ..model import AnalyzerError
from .predict import Plan, PlanOptions, plan, record

ENV_DOCKER = "ANALYZE_DOCKER"  # docker CLI for daemon look-ups; "none" never asks a daemon


def plan_options(*, builder, context, build_args, target, no_cache, no_cache_filter, cache_dir, fetch=True, platform="linux/amd64") -> PlanOptions:
    """The PlanOptions of one command line (``--plan`` and ``--build`` alike)."""
    return PlanOptions(
        builder=builder,
        context=context,
        build_args=build_args,
        target=target,
        no_cache=no_cache,
        no_cache_filter=tuple(no_cache_filter),
        cache_dir=cache_dir,
        docker=docker_option(),
        fetch=fetch,
        platform=platform,
    )


def docker_option() -> Optional[str]:
    value = os.environ.get(ENV_DOCKER, "auto").strip()
    if value.lower() in ("", "none", "0", "off", "false"):
        return None
    return value


def attach_plans(
    results: list,
    inputs: list,
    *,
    want_plan: bool,
    want_record: bool,
    builder: str,
    context: Optional[str],
    build_args: dict,
    target: Optional[str],
    no_cache: bool,
    no_cache_filter: tuple,
    cache_dir: Optional[str],
    fetch: bool = True,
    platform: str = "linux/amd64",
) -> tuple[list, list, list]:
    """Plan (and record) every readable input; the plan list goes into
    ``result.extra["plan"]``. Returns ``(plans, notes, errors)``: ``plans`` as
    ``[(shown path, Plan)]``, ``errors`` one line each (the caller exits 2)."""
    from ..files import read_input
    from ..model import ParseError

    options = plan_options(
        builder=builder, context=context, build_args=build_args, target=target, no_cache=no_cache,
        no_cache_filter=no_cache_filter, cache_dir=cache_dir, fetch=fetch, platform=platform,
    )
    plans: list[tuple[str, Plan]] = []
    notes: list[str] = []
    errors: list[str] = []
    for item, result in zip(inputs, results):
        if result.error:
            continue
        shown = result.path
        if item == "-":
            errors.append(f"{shown}: --plan and --record need the Dockerfile as a file (stdin cannot be read twice)")
            continue
        try:
            df = read_input(item, shown)
        except ParseError:
            continue  # reported as a finding by the lint pass
        try:
            p = plan(df, options)
            if want_record:
                path = record(df, options, plan=p)
                if path is not None:  # None: the cache cannot be written (warned once)
                    notes.append(f"{shown}: recorded the current state as built ({options.builder}): {path}")
        except AnalyzerError as exc:
            errors.append(f"{shown}: {exc}")
            continue
        for note in p.notes:
            notes.append(f"{shown}: {note}")
        if want_plan:
            result.extra["plan"] = p.as_json()
            plans.append((shown, p))
    return plans, notes, errors

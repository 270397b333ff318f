"""The ``analyze`` command: options in, library calls, a reporter out. No analysis here."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List, Optional

import typer

from . import __version__
from .files import discover_inputs, read_input
from .model import SEVERITY_RANK, AnalyzerError

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


def _version(value: bool):
    if value:
        typer.echo(f"analyze {__version__}")
        raise typer.Exit(EXIT_OK)


def _fail(message: str) -> "typer.Exit":
    typer.echo(f"analyze: error: {message}", err=True)
    return typer.Exit(EXIT_ERROR)


@app.command(context_settings={"help_option_names": ["-h", "--help"]})
def analyze(
    paths: Optional[List[str]] = typer.Argument(
        None, help="Dockerfiles or directories to search (Dockerfile, Containerfile, *.Dockerfile, Dockerfile.*); - for stdin."
    ),
    format: str = typer.Option(
        "text", "--format", "-f", help="Output format: text, json, sarif, github, gitlab, checkstyle, or auto (github under GitHub Actions, else text)."
    ),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the report to FILE instead of stdout."),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="Configuration file (else discovered; see README)."),
    ignore: Optional[List[str]] = typer.Option(None, "--ignore", help="Rule id or alias to skip (repeatable, or comma-separated)."),
    failure_threshold: Optional[str] = typer.Option(
        None, "--failure-threshold", "-t", help="Lowest severity that makes the exit code 1: error, warning, info, style or none."
    ),
    exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit 0 even when there are findings (errors still exit 2)."),
    build_arg: Optional[List[str]] = typer.Option(None, "--build-arg", help="Build argument K=V, as docker build takes it (repeatable)."),
    target: Optional[str] = typer.Option(None, "--target", help="Stage to analyse as the build target."),
    plan: bool = typer.Option(False, "--plan", help="Predict the build cache step by step (hit or miss, and why)."),
    builder: str = typer.Option("buildkit", "--builder", help="Builder to predict for --plan/--build: buildkit or classic."),
    context: Optional[str] = typer.Option(None, "--context", help="Build context directory (default: the Dockerfile's directory)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Plan a build with --no-cache (every step runs)."),
    no_cache_filter: Optional[List[str]] = typer.Option(None, "--no-cache-filter", help="Plan a build that skips the cache for STAGE (BuildKit; repeatable)."),
    record_state: bool = typer.Option(False, "--record", help="Record the current state as built (for a build done elsewhere); --plan compares with it."),
    build: bool = typer.Option(False, "--build", help="Run the real docker build and show the plan beside what happened (records the build)."),
    tag: Optional[List[str]] = typer.Option(None, "--tag", help="With --build: name the built image (repeatable, as docker build -t)."),
    explain: Optional[str] = typer.Option(None, "--explain", help="Explain where COMMAND comes from in the final (or --target) stage."),
    catalog_files: Optional[List[Path]] = typer.Option(None, "--catalog", help="Image catalog YAML: where your images' Dockerfiles live (repeatable)."),
    offline: bool = typer.Option(False, "--offline", help="Make no network request: use the cache and built-in knowledge only."),
    layers: bool = typer.Option(False, "--layers", help="List the layers of base images read from a registry (downloads them; always done for localhost registries)."),
    no_lineage: bool = typer.Option(False, "--no-lineage", help="Do not resolve base images (lint this file alone)."),
    cache_dir: Optional[str] = typer.Option(None, "--cache-dir", help="Cache directory (default: the user cache dir; env ANALYZE_CACHE_DIR)."),
    platform: str = typer.Option("linux/amd64", "--platform", help="Target platform for base images: os/arch or os/arch/variant."),
    preset: Optional[str] = typer.Option(None, "--preset", help="Rule set: recommended (default), strict or all."),
    select: Optional[List[str]] = typer.Option(None, "--select", help="Run only this rule, by id or alias (repeatable, or comma-separated)."),
    list_rules: bool = typer.Option(False, "--list-rules", help="List every rule and exit."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="More detail on errors."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """Lint Dockerfiles and analyse their build plan."""
    from .config import PRESETS, THRESHOLDS
    from .report import FORMATS, render, resolve_format
    from .rules import load_catalog

    if format not in FORMATS:
        raise _fail(f"unknown format {format!r} (choose from {', '.join(FORMATS)})")
    format = resolve_format(format)
    if failure_threshold is not None and failure_threshold not in THRESHOLDS:
        raise _fail(f"unknown failure threshold {failure_threshold!r} (choose from {', '.join(THRESHOLDS)})")
    if preset is not None and preset not in PRESETS:
        raise _fail(f"unknown preset {preset!r} (choose from {', '.join(PRESETS)})")
    catalog = load_catalog()
    if list_rules:
        _print_rules(catalog, format, output)
        raise typer.Exit(EXIT_OK)

    args = []
    for item in build_arg or []:
        key, sep, value = item.partition("=")
        if not key:
            raise _fail(f"--build-arg {item!r}: expected KEY=VALUE")
        if not sep:
            value = os.environ.get(key, "")  # docker build takes a bare KEY from the environment
        args.append((key, value))
    extra_ignore = [t for item in (ignore or []) for t in item.split(",") if t.strip()]

    inputs = discover_inputs(paths or ["Dockerfile"])
    # the per-file work (config, read, lineage, lint) is analyzer.batch.FileAnalyzer: it runs
    # in worker processes when there are many files
    from .batch import RunSettings, lint_inputs

    settings = RunSettings(
        config=str(config) if config is not None else None,
        ignore=tuple(extra_ignore),
        select=tuple(t.strip() for item in (select or []) for t in item.split(",") if t.strip()),
        preset=preset,
        build_args=tuple(args),
        failure_threshold=failure_threshold,
        target=target,
        explain=explain,
        catalogs=tuple(str(c) for c in (catalog_files or [])),
        offline=offline,
        layers=layers,
        lineage=not no_lineage,
        cache_dir=cache_dir,
        platform=platform,
        verbose=verbose,
    )
    batch = lint_inputs(inputs, settings)
    results, had_error, lineage_notes, resolvers = batch.results, batch.had_error, batch.notes, batch.resolvers

    for note in lineage_notes:
        typer.echo(f"analyze: note: {note}", err=True)
    if verbose:
        for resolver in resolvers.values():
            for line in getattr(resolver.fetcher, "log", []):
                typer.echo(f"analyze: fetch: {line}", err=True)
    color = output is None and format == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    plans: list = []
    if (plan or record_state) and not build:
        from .cache.cli_plan import attach_plans

        plans, plan_notes, plan_errors = attach_plans(
            results, inputs, want_plan=plan, want_record=record_state, builder=builder, context=context,
            build_args=dict(args), target=target, no_cache=no_cache, no_cache_filter=tuple(no_cache_filter or ()),
            cache_dir=cache_dir, fetch=not offline, platform=platform,
        )
        for note in plan_notes:
            typer.echo(f"analyze: note: {note}", err=True)
        for line in plan_errors:
            typer.echo(f"analyze: error: {line}", err=True)
        had_error = had_error or bool(plan_errors)
    builds: list = []
    if build:
        from .build import attach_builds

        builds, build_notes, build_failed = attach_builds(
            results, inputs, builder=builder, context=context, build_args=dict(args), target=target,
            no_cache=no_cache, no_cache_filter=tuple(no_cache_filter or ()), cache_dir=cache_dir,
            tags=tuple(tag or ()), fetch=not offline, progress=sys.stdout.isatty() and output is None,
            platform=platform,
        )
        for note in build_notes:
            typer.echo(f"analyze: note: {note}", err=True)
    text = render(results, format, color=color, version=__version__)
    if format == "text" and builds:
        from .build import render as render_builds

        text = text + render_builds(builds, color=color)
    if format == "text" and plans:
        from .report.plan_text import render as render_plan

        text = text + render_plan(plans, color=color)
    if format == "text" and (explain or verbose):
        from .report.lineage_text import render as render_lineage

        text = render_lineage(results, verbose=verbose) + text
    _emit(text, output, color)
    if had_error:
        raise typer.Exit(EXIT_ERROR)
    if builds and build_failed:
        raise typer.Exit(EXIT_FINDINGS)  # a failed build is never "zero", whatever --exit-zero says
    failing = batch.failing
    raise typer.Exit(EXIT_FINDINGS if failing and not exit_zero else EXIT_OK)


from .model import ParseError as _ParseError  # noqa: E402
from .files import DecodeError  # noqa: E402,F401


def _emit(text: str, output: Optional[Path], color: bool) -> None:
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise _fail(f"cannot write {output}: {exc.strerror or exc}")
        return
    if color:
        from rich.console import Console

        Console(highlight=False, soft_wrap=True).print(text, end="")
    else:
        sys.stdout.write(text)


def _print_rules(catalog, fmt: str, output: Optional[Path]) -> None:
    if fmt == "json":
        import json

        data = [
            {
                "id": r.id,
                "name": r.name,
                "severity": r.severity,
                "aliases": list(r.aliases),
                "scope": r.scope,
                "summary": r.summary,
            }
            for r in catalog.values()
        ]
        _emit(json.dumps(data, indent=2) + "\n", output, False)
        return
    lines = []
    for r in catalog.values():
        aliases = ", ".join(r.aliases) if r.aliases else "-"
        lines.append(f"{r.id}  {r.severity:<7}  {r.name:<28}  {aliases:<36}  {r.summary}")
    _emit("\n".join(lines) + "\n", output, False)


def main() -> None:
    """Console entry point: every error is one line on stderr and exit code 2."""
    verbose = "--verbose" in sys.argv or "-v" in sys.argv
    try:
        rc = app(standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.stderr.write("analyze: interrupted\n")
        sys.exit(130)
    except AnalyzerError as exc:
        sys.stderr.write(f"analyze: error: {exc}\n")
        sys.exit(EXIT_ERROR)
    except Exception as exc:  # usage errors from the option parser, and anything unexpected
        if type(exc).__name__ == "Abort":
            sys.exit(130)
        message = getattr(exc, "format_message", None)
        if callable(message):  # click's (typer's) usage exceptions
            sys.stderr.write(f"analyze: error: {message()}\n")
            sys.exit(EXIT_ERROR)
        if verbose:
            import traceback

            traceback.print_exc()
        sys.stderr.write(f"analyze: internal error: {type(exc).__name__}: {exc}\n")
        sys.exit(EXIT_ERROR)
    sys.exit(rc if isinstance(rc, int) else EXIT_OK)

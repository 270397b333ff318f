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
    format: str = typer.Option("text", "--format", "-f", help="Output format: text or json."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the report to FILE instead of stdout."),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="Configuration file (else discovered; see README)."),
    ignore: Optional[List[str]] = typer.Option(None, "--ignore", help="Rule id or alias to skip (repeatable, or comma-separated)."),
    failure_threshold: Optional[str] = typer.Option(
        None, "--failure-threshold", "-t", help="Lowest severity that makes the exit code 1: error, warning, info, style or none."
    ),
    exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit 0 even when there are findings (errors still exit 2)."),
    build_arg: Optional[List[str]] = typer.Option(None, "--build-arg", help="Build argument K=V, as docker build takes it (repeatable)."),
    target: Optional[str] = typer.Option(None, "--target", help="Stage to analyse as the build target."),
    explain: Optional[str] = typer.Option(None, "--explain", help="Explain where COMMAND comes from in the final (or --target) stage."),
    catalog_files: Optional[List[Path]] = typer.Option(None, "--catalog", help="Image catalog YAML: where your images' Dockerfiles live (repeatable)."),
    offline: bool = typer.Option(False, "--offline", help="Make no network request: use the cache and built-in knowledge only."),
    no_lineage: bool = typer.Option(False, "--no-lineage", help="Do not resolve base images (lint this file alone)."),
    cache_dir: Optional[str] = typer.Option(None, "--cache-dir", help="Cache directory (default: the user cache dir; env ANALYZE_CACHE_DIR)."),
    platform: str = typer.Option("linux/amd64", "--platform", help="Target platform for base images (os/arch[/variant])."),
    list_rules: bool = typer.Option(False, "--list-rules", help="List every rule and exit."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="More detail on errors."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """Lint Dockerfiles and analyse their build plan."""
    from .config import THRESHOLDS, ConfigError, discover, lint_options, load
    from .report import FORMATS, FileResult, render
    from .rules import at_or_above, lint, load_catalog, parse_error_finding

    if format not in FORMATS:
        raise _fail(f"unknown format {format!r} (choose from {', '.join(FORMATS)})")
    if failure_threshold is not None and failure_threshold not in THRESHOLDS:
        raise _fail(f"unknown failure threshold {failure_threshold!r} (choose from {', '.join(THRESHOLDS)})")
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
    explicit_config = load(config) if config is not None else None
    resolvers: dict = {}
    lineage_notes: list = []
    loaded: dict = {}
    results = []
    had_error = False
    threshold_for_exit = failure_threshold
    for item in inputs:
        cfg = explicit_config
        if cfg is None:
            found = discover(item if item != "-" else None)
            if found is not None:
                key = str(found)
                if key not in loaded:
                    loaded[key] = load(found)
                cfg = loaded[key]
        if cfg is None:
            from .config import Config

            cfg = Config()
        options = lint_options(cfg, catalog, extra_ignore, args)
        threshold = failure_threshold or cfg.failure_threshold or "info"
        if threshold_for_exit is None or SEVERITY_RANK.get(threshold, 9) < SEVERITY_RANK.get(threshold_for_exit, 9):
            threshold_for_exit = threshold
        shown = "<stdin>" if item == "-" else item
        try:
            df = read_input(item, shown)
        except _ParseError as exc:
            results.append(FileResult(shown, (parse_error_finding(exc, shown),)))
            continue
        except AnalyzerError as exc:
            typer.echo(f"analyze: error: {shown}: {exc}", err=True)
            results.append(FileResult(shown, (), error=str(exc)))
            had_error = True
            continue
        lineage = None
        extra: dict = {}
        if not no_lineage and _lineage_available():  # TEMP-LINEAGE-GUARD
            from .lineage.session import analyze_file, make_resolver

            catalogs = tuple(str(c) for c in (catalog_files or [])) + ((cfg.catalog,) if cfg.catalog else ())
            if catalogs not in resolvers:
                resolvers[catalogs] = make_resolver(cache_dir=cache_dir, offline=offline, catalogs=catalogs, platform=platform)
            lineage = analyze_file(df, resolvers[catalogs], build_args=dict(args), target=target, platform=platform)
            extra["lineage"] = lineage.lineage_json()
            if explain:
                extra["explain"] = lineage.explain(explain)
            lineage_notes.extend(n for n in lineage.errors() if n not in lineage_notes)
        findings = lint(df, options, catalog, lineage)
        results.append(FileResult(shown, tuple(findings), extra=extra))

    for note in lineage_notes:
        typer.echo(f"analyze: note: {note}", err=True)
    if verbose:
        for resolver in resolvers.values():
            for line in getattr(resolver.fetcher, "log", []):
                typer.echo(f"analyze: fetch: {line}", err=True)
    color = output is None and format == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    text = render(results, format, color=color, version=__version__)
    if format == "text" and (explain or verbose):
        from .report.lineage_text import render as render_lineage

        text = render_lineage(results, verbose=verbose) + text
    _emit(text, output, color)
    if had_error:
        raise typer.Exit(EXIT_ERROR)
    failing = any(at_or_above(r.findings, threshold_for_exit or "info") for r in results)
    raise typer.Exit(EXIT_FINDINGS if failing and not exit_zero else EXIT_OK)


from .model import ParseError as _ParseError  # noqa: E402
from .files import DecodeError  # noqa: E402,F401


def _lineage_available() -> bool:  # TEMP-LINEAGE-GUARD
    import importlib.util

    return all(importlib.util.find_spec(m) for m in ("analyzer.effects", "analyzer.knowledge.roots", "analyzer.lineage.fetch"))


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

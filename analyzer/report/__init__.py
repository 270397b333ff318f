"""Output formats. Every formatter takes the same list of FileResult and returns text.

``text`` (default) and ``json`` (the contract) for people and scripts; ``sarif`` (SARIF
2.1.0, for code scanning), ``github`` (workflow commands that annotate a pull request),
``gitlab`` (Code Quality report), ``checkstyle`` (XML for CI dashboards); ``auto`` is
``github`` under GitHub Actions (``GITHUB_ACTIONS=true``) and ``text`` elsewhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping, Optional

from ..model import Finding

FORMATS = ("text", "json", "sarif", "github", "gitlab", "checkstyle", "auto")


@dataclass(frozen=True)
class FileResult:
    """One input's findings, error and extra sections, ready for a formatter."""

    path: str  # as given on the command line ("-" shown as "<stdin>")
    findings: tuple[Finding, ...] = ()
    error: Optional[str] = None  # a file that could not be read or decoded
    extra: dict = field(default_factory=dict, hash=False, compare=False)


def resolve_format(fmt: str, environ: Optional[Mapping[str, str]] = None) -> str:
    """The concrete format ``auto`` stands for in this environment."""
    if fmt != "auto":
        return fmt
    env = os.environ if environ is None else environ
    return "github" if env.get("GITHUB_ACTIONS", "").lower() == "true" else "text"


def render(
    results: list[FileResult],
    fmt: str,
    *,
    color: bool = False,
    version: str = "",
    catalog: Optional[dict] = None,
    root: Optional[str] = None,
) -> str:
    """Render ``results`` in ``fmt``. ``catalog`` (rule metadata for SARIF) defaults to the
    loaded rule catalog; ``root`` (what reported paths are relative to) to the git
    top-level above the current directory, or the current directory."""
    fmt = resolve_format(fmt)
    if fmt == "json":
        from analyzer.report.json_format import render_json

        return render_json(results, version)
    if fmt == "sarif":
        from analyzer.report.sarif import render_sarif

        if catalog is None:
            from analyzer.rules import load_catalog

            catalog = load_catalog()
        return render_sarif(results, version=version, catalog=catalog, root=root)
    if fmt == "github":
        from analyzer.report.github import render_github

        return render_github(results, root=root)
    if fmt == "gitlab":
        from analyzer.report.gitlab import render_gitlab

        return render_gitlab(results, root=root)
    if fmt == "checkstyle":
        from analyzer.report.checkstyle import render_checkstyle

        return render_checkstyle(results)
    from analyzer.report.text import render_text

    return render_text(results, color=color)

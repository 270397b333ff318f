"""Plain text, one finding a line (``path:line:column: severity RULE (aliases) message``);
colored with rich on a terminal unless NO_COLOR is set."""

from __future__ import annotations

from collections import Counter

from ..model import SEVERITIES
from .paths import clean

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan", "style": "magenta"}


def _line(f, color: bool) -> str:
    aliases = f" ({', '.join(f.aliases)})" if f.aliases else ""
    location = clean(f"{f.path}:{f.line}:{f.column}:")
    message = clean(f.message)
    if not color:
        return f"{location} {f.severity} {f.rule}{aliases} {message}"
    from rich.markup import escape

    style = _STYLE.get(f.severity, "")
    return (
        f"[bold]{escape(location)}[/bold] [{style}]{f.severity}[/{style}] "
        f"[dim]{f.rule}{escape(aliases)}[/dim] {escape(message)}"
    )


def render_text(results, *, color: bool = False) -> str:
    lines = []
    counts: Counter = Counter()
    for result in results:
        for f in result.findings:
            lines.append(_line(f, color))
            counts[f.severity] += 1
    n_files = len(results)
    total = sum(counts.values())
    if total:
        parts = ", ".join(f"{counts[s]} {s}" for s in SEVERITIES if counts[s])
        summary = f"{total} finding{'s' if total != 1 else ''} ({parts}) in {n_files} file{'s' if n_files != 1 else ''}"
    else:
        summary = f"no findings in {n_files} file{'s' if n_files != 1 else ''}"
    lines.append(f"[dim]{summary}[/dim]" if color else summary)
    return "\n".join(lines) + "\n"

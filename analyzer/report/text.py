"""Plain text, one finding a line (``path:line:column: severity RULE (aliases) message``);
colored with rich on a terminal unless NO_COLOR is set."""

from __future__ import annotations

import re
from collections import Counter

from ..model import SEVERITIES
from .paths import clean

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan", "style": "magenta"}
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")  # C0 and C1 (U+009B is CSI on some terminals)


def _printable(text: str) -> str:
    """One line, no terminal escapes: control characters (not tabs) as ``\\n``, ``\\xNN``."""
    return _CONTROL.sub(lambda m: {"\n": "\\n", "\r": "\\r"}.get(m.group(), f"\\x{ord(m.group()):02x}"), clean(text))


def _line(f, color: bool) -> str:
    aliases = f" ({', '.join(f.aliases)})" if f.aliases else ""
    location = _printable(f"{f.path}:{f.line}:{f.column}:")
    message = _printable(f.message)
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

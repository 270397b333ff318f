"""GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice`` line per
finding, which GitHub turns into an annotation on the file and line.

``::error file=F,line=L,col=C,endLine=EL,endColumn=EC,title=T::message``. In the message
``%``, CR and LF are percent-encoded; in the properties ``:`` and ``,`` too. ``endColumn``
is given for one-line spans only, as the column of the last character.
"""

from __future__ import annotations

import re
from typing import Optional

from .paths import clean, repo_root, report_path

COMMANDS = {"error": "error", "warning": "warning", "info": "notice", "style": "notice"}
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def escape_data(text: str) -> str:
    text = _CONTROL.sub("", clean(text))
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _command(kind: str, message: str, **props) -> str:
    fields = ",".join(f"{k}={escape_property(str(v))}" for k, v in props.items() if v is not None)
    return f"::{kind} {fields}::{escape_data(message)}" if fields else f"::{kind}::{escape_data(message)}"


def render_github(results, *, root: Optional[str] = None) -> str:
    root = root or repo_root()
    lines = []
    for result in results:
        path = report_path(result.path, root)
        if result.error:
            lines.append(_command("error", result.error, file=path, title="analyze: cannot read file"))
        for f in result.findings:
            line = max(1, f.line)
            end_line = max(line, f.end_line or line)
            end_column = None
            if end_line == line:
                end_column = max(f.column, (f.end_column or f.column + 1) - 1)
            title = f.rule + (f" ({', '.join(f.aliases)})" if f.aliases else "")
            lines.append(
                _command(
                    COMMANDS.get(f.severity, "warning"),
                    f.message,
                    file=path,
                    line=line,
                    col=max(1, f.column),
                    endLine=end_line,
                    endColumn=end_column,
                    title=title,
                )
            )
    return "".join(line + "\n" for line in lines)

"""Checkstyle XML (format version 4.3), read by Jenkins, Bamboo, reviewdog and others.

``<checkstyle version="4.3"><file name="PATH"><error line column severity message
source/></file></checkstyle>``: one ``file`` element per analysed file (also those with no
findings), ``source`` is the rule id. Severities: error, warning, info (our info and
style). Characters XML 1.0 cannot carry (most control characters) are removed, bytes of
an undecodable file name become U+FFFD; tabs and line breaks in attributes are written as character references so that
they survive attribute normalisation.
"""

from __future__ import annotations

import re

from .paths import clean

SEVERITIES = {"error": "error", "warning": "warning", "info": "info", "style": "info"}
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}
_TO_ESCAPE = re.compile("[&<>\"'\t\n\r]")


def attr(value) -> str:
    text = _NOT_XML.sub("", clean(str(value)))
    return _TO_ESCAPE.sub(lambda m: _ESCAPES[m.group()], text)


def render_checkstyle(results) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<checkstyle version="4.3">']
    for result in results:
        findings = list(result.findings)
        if not findings and not result.error:
            out.append(f'  <file name="{attr(result.path)}"/>')
            continue
        out.append(f'  <file name="{attr(result.path)}">')
        if result.error:
            out.append(f'    <error line="1" column="1" severity="error" message="{attr(result.error)}" source="analyze"/>')
        for f in findings:
            out.append(
                f'    <error line="{max(1, f.line)}" column="{max(1, f.column)}" '
                f'severity="{SEVERITIES.get(f.severity, "warning")}" message="{attr(f.message)}" source="{attr(f.rule)}"/>'
            )
        out.append("  </file>")
    out.append("</checkstyle>")
    return "\n".join(out) + "\n"

"""The JSON contract: one object, stable keys (keys may be added, never renamed).

A report can also be put together from pieces rendered one file at a time
(:func:`render_entry`, then :func:`assemble`), which lets the worker processes of a large
batch do the rendering; the text is the same byte for byte."""

from __future__ import annotations

from .jsonio import _dump, _string, dumps, finding_text
from .paths import clean


def entry(result, rendered: bool = False) -> dict:
    """One file's object in the ``files`` array (``rendered``: the findings as their JSON
    text at their place in the report, for :func:`render_entry`)."""
    findings = [finding_text(f, 4) if rendered and _plain(f) else f.as_json() for f in result.findings]
    out = {"path": result.path, "findings": findings}
    if result.error:
        out["error"] = result.error
    for key in ("lineage", "explain", "plan", "build"):
        if key in result.extra:
            out[key] = result.extra[key]
    return out


def _plain(finding) -> bool:
    """Fields of the types :func:`finding_text` lays out (those of every real finding)."""
    return (
        type(finding.line) is int and type(finding.column) is int and type(finding.end_line) is int
        and type(finding.end_column) is int and type(finding.rule) is str and type(finding.name) is str
        and type(finding.severity) is str and type(finding.message) is str
        and all(type(a) is str for a in finding.aliases)
    )


def render_json(results, version: str) -> str:
    return dumps({"version": version, "files": [entry(r, rendered=True) for r in results]})


def render_entry(result) -> str:
    """``entry(result)`` as it appears inside the report (indented for its place)."""
    out: list = []
    _dump(entry(result, rendered=True), 2, out)
    return clean("".join(out))


def assemble(pieces, version: str) -> str:
    """The report :func:`render_json` gives, from the files' rendered entries in order."""
    head = '{\n  "version": ' + clean(_string(version)) + ',\n  "files": '
    if not pieces:
        return head + "[]\n}\n"
    return head + "[\n    " + ",\n    ".join(pieces) + "\n  ]\n}\n"

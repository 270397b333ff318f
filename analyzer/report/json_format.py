"""The JSON contract: one object, stable keys (keys may be added, never renamed).

A report can also be put together from pieces rendered one file at a time
(:func:`render_entry`, then :func:`assemble`), which lets the worker processes of a large
batch do the rendering; the text is the same byte for byte."""

from __future__ import annotations

from .jsonio import _dump, _string, dumps
from .paths import clean


def entry(result) -> dict:
    """One file's object in the ``files`` array."""
    out = {"path": result.path, "findings": [f.as_json() for f in result.findings]}
    if result.error:
        out["error"] = result.error
    for key in ("lineage", "explain", "plan", "build"):
        if key in result.extra:
            out[key] = result.extra[key]
    return out


def render_json(results, version: str) -> str:
    return dumps({"version": version, "files": [entry(r) for r in results]})


def render_entry(result) -> str:
    """``entry(result)`` as it appears inside the report (indented for its place)."""
    out: list = []
    _dump(entry(result), 2, out)
    return clean("".join(out))


def assemble(pieces, version: str) -> str:
    """The report :func:`render_json` gives, from the files' rendered entries in order."""
    head = '{\n  "version": ' + clean(_string(version)) + ',\n  "files": '
    if not pieces:
        return head + "[]\n}\n"
    return head + "[\n    " + ",\n    ".join(pieces) + "\n  ]\n}\n"

"""The JSON contract: one object, stable keys (keys may be added, never renamed)."""

from __future__ import annotations

from .jsonio import dumps


def render_json(results, version: str) -> str:
    files = []
    for result in results:
        entry = {"path": result.path, "findings": [f.as_json() for f in result.findings]}
        if result.error:
            entry["error"] = result.error
        for key in ("lineage", "explain", "plan", "build"):
            if key in result.extra:
                entry[key] = result.extra[key]
        files.append(entry)
    return dumps({"version": version, "files": files})

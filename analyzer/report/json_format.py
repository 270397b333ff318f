"""The JSON contract: one object, stable keys (keys may be added, never renamed)."""

from __future__ import annotations

import json

from .paths import clean


def _cleaned(value):
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {_cleaned(k): _cleaned(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_cleaned(v) for v in value]
    return value


def render_json(results, version: str) -> str:
    files = []
    for result in results:
        entry = {"path": result.path, "findings": [f.as_json() for f in result.findings]}
        if result.error:
            entry["error"] = result.error
        for key in ("lineage", "explain", "plan"):
            if key in result.extra:
                entry[key] = result.extra[key]
        files.append(entry)
    return json.dumps(_cleaned({"version": version, "files": files}), indent=2, ensure_ascii=False) + "\n"

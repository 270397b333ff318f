"""Build records: what the last build of a Dockerfile fed into each step's cache key.

One JSON file per (Dockerfile, context, target, builder, build args) under
``<cache root>/builds/<builder>/<hex>.json``, written atomically (temp file + rename), with
a small companion ``<hex>.keys.json`` holding only the step keys (and classic image ids) so
that a plan can pool the keys of every build the same builder has seen -- Docker's cache is
shared by every build on the daemon, not kept per Dockerfile. Both carry a checksum
(analyzer.cachedir): a damaged or malformed file counts as no record. A record that cannot be
written is the cache warning, not an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Iterable, Mapping, Optional

RECORD_VERSION = 1
HISTORY_LIMIT = 20  # earlier builds whose keys a record remembers (Docker keeps their cache)
POOL_LIMIT = 200  # most recent records consulted for shared keys


def write_atomic(path: Path, text: str) -> None:
    from ..cachedir import write_atomic as write

    write(path, text)


def builds_dir(root: Path, builder: str) -> Path:
    return Path(root) / "builds" / builder


def identity(dockerfile: str, context: str, target: Optional[str], builder: str, build_args: Mapping[str, str]) -> dict:
    from ..report.redact import Redactor

    # a secret build arg is kept as its fingerprint: records never hold the value
    args = Redactor.for_build(build_args=build_args).inputs(dict(build_args), True)
    return {
        "dockerfile": dockerfile,
        "context": context,
        "target": target or "",
        "builder": builder,
        "build_args": {k: args[k] for k in sorted(args)},
    }


def record_name(ident: dict) -> str:
    blob = json.dumps(ident, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def load(path: Path) -> Optional[dict]:
    from ..cachedir import read_checked

    data = read_checked(path, legacy=True)  # records written before checksums still count
    if data is None or data.get("version") != RECORD_VERSION or not _well_formed(data):
        return None
    return data


def _well_formed(data: dict) -> bool:
    if not all(isinstance(data.get(k), str) for k in ("dockerfile", "context", "builder", "created")):
        return False
    steps, history, bases = data.get("steps"), data.get("history", []), data.get("bases", {})
    return (
        isinstance(steps, list) and all(isinstance(s, dict) and isinstance(s.get("inputs", {}), dict) for s in steps)
        and isinstance(history, list) and all(isinstance(h, dict) and isinstance(h.get("keys", {}), dict) for h in history)
        and isinstance(bases, dict)
    )


def _candidates(directory: Path, suffix: str) -> list[Path]:
    try:
        names = [n for n in os.listdir(directory) if n.endswith(suffix) and not n.startswith(".")]
    except OSError:
        return []
    paths = [directory / n for n in names]
    stamped = []
    for p in paths:
        try:
            stamped.append((p.stat().st_mtime_ns, p))
        except OSError:
            continue
    stamped.sort(reverse=True)
    return [p for _, p in stamped]


def find_reference(directory: Path, ident: dict) -> tuple[Optional[dict], Path]:
    """The record of exactly this build, else the most recent record of the same Dockerfile
    with the same builder (preferring the same context and target). Returns (record, path
    where this build's record lives)."""
    own = directory / (record_name(ident) + ".json")
    found = load(own)
    if found is not None and all(found.get(k) == v for k, v in ident.items()):
        return found, own
    best = None
    best_rank = -1
    for keys_path in _candidates(directory, ".keys.json")[:POOL_LIMIT]:
        summary = _load_keys(keys_path)
        if summary is None or summary.get("dockerfile") != ident["dockerfile"]:
            continue
        rank = (summary.get("context") == ident["context"]) * 2 + (summary.get("target", "") == ident["target"])
        if rank > best_rank:
            full = load(keys_path.with_name(keys_path.name[: -len(".keys.json")] + ".json"))
            if full is not None:
                best, best_rank = full, rank
        if best_rank == 3:
            break
    return best, own


def _load_keys(path: Path) -> Optional[dict]:
    from ..cachedir import read_checked

    data = read_checked(path, legacy=True)
    if data is None or data.get("version") != RECORD_VERSION:
        return None
    keys = data.get("keys")
    if not isinstance(keys, dict) or not all(isinstance(v, dict) for v in keys.values()):
        return None
    return data


def pooled_keys(directory: Path) -> dict[str, dict]:
    """Every step key some recorded build of this builder produced: key -> {"image_id",
    "dockerfile", "step"} (the most recent build wins)."""
    pool: dict[str, dict] = {}
    for keys_path in reversed(_candidates(directory, ".keys.json")[:POOL_LIMIT]):
        summary = _load_keys(keys_path)
        if summary is None:
            continue
        for key, info in summary.get("keys", {}).items():
            pool[key] = dict(info, dockerfile=summary.get("dockerfile", ""))
    return pool


def save(directory: Path, ident: dict, steps: list[dict], bases: Mapping[str, Optional[str]], previous: Optional[dict]) -> Optional[Path]:
    """Write this build's record (and its key summary); keys of earlier builds of the same
    record move to ``history``. None when the cache cannot be written (the cache warning
    was printed)."""
    path = directory / (record_name(ident) + ".json")
    history: list[dict] = []
    same = previous is not None and all(previous.get(k) == v for k, v in ident.items())
    if same:
        history = list(previous.get("history", []))
        history.insert(
            0,
            {
                "created": previous.get("created"),
                "keys": {s["key"]: s.get("image_id") for s in previous.get("steps", []) if s.get("key")},
            },
        )
        history = history[:HISTORY_LIMIT]
    record = dict(ident)
    record.update(
        {
            "version": RECORD_VERSION,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "bases": dict(bases),
            "steps": steps,
            "history": history,
        }
    )
    keys: dict[str, dict] = {}
    for old in reversed(history):
        for key, image_id in old.get("keys", {}).items():
            keys[key] = {"image_id": image_id, "step": None}
    for s in steps:
        if s.get("key"):
            keys[s["key"]] = {"image_id": s.get("image_id"), "step": s.get("step")}
    summary = dict(ident)
    summary.update({"version": RECORD_VERSION, "keys": keys})
    from ..cachedir import dumps_checked, not_writable, warn

    try:
        write_atomic(path, dumps_checked(record))
        write_atomic(path.with_name(path.name[: -len(".json")] + ".keys.json"), dumps_checked(summary))
    except OSError as exc:
        warn(not_writable(directory, exc))
        return None
    return path


def history_keys(record: Optional[dict]) -> Iterable[tuple[str, Optional[str]]]:
    if not record:
        return []
    out = [(s["key"], s.get("image_id")) for s in record.get("steps", []) if s.get("key")]
    for old in record.get("history", []):
        out.extend(old.get("keys", {}).items())
    return out

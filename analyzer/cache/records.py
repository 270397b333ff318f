"""Build records: what the last build of a Dockerfile fed into each step's cache key.

One JSON file per (Dockerfile, context, target, builder, build args) under
``<cache root>/builds/<builder>/<hex>.json``, written atomically (temp file + rename), with
a small companion ``<hex>.keys.json`` holding only the step keys (and classic image ids) so
that a plan can pool the keys of every build the same builder has seen -- Docker's cache is
shared by every build on the daemon, not kept per Dockerfile.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Iterable, Mapping, Optional

RECORD_VERSION = 1
HISTORY_LIMIT = 20  # earlier builds whose keys a record remembers (Docker keeps their cache)
POOL_LIMIT = 200  # most recent records consulted for shared keys


def write_atomic(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def builds_dir(root: Path, builder: str) -> Path:
    return Path(root) / "builds" / builder


def identity(dockerfile: str, context: str, target: Optional[str], builder: str, build_args: Mapping[str, str]) -> dict:
    return {
        "dockerfile": dockerfile,
        "context": context,
        "target": target or "",
        "builder": builder,
        "build_args": {k: build_args[k] for k in sorted(build_args)},
    }


def record_name(ident: dict) -> str:
    blob = json.dumps(ident, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def load(path: Path) -> Optional[dict]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != RECORD_VERSION:
        return None
    return data


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
    if found is not None:
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
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("version") == RECORD_VERSION else None


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


def save(directory: Path, ident: dict, steps: list[dict], bases: Mapping[str, Optional[str]], previous: Optional[dict]) -> Path:
    """Write this build's record (and its key summary); keys of earlier builds of the same
    record move to ``history``."""
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
    write_atomic(path, json.dumps(record, sort_keys=True, separators=(",", ":")))
    write_atomic(path.with_name(path.name[: -len(".json")] + ".keys.json"), json.dumps(summary, sort_keys=True, separators=(",", ":")))
    return path


def history_keys(record: Optional[dict]) -> Iterable[tuple[str, Optional[str]]]:
    if not record:
        return []
    out = [(s["key"], s.get("image_id")) for s in record.get("steps", []) if s.get("key")]
    for old in record.get("history", []):
        out.extend(old.get("keys", {}).items())
    return out

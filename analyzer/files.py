"""Finding and reading the files to analyse."""

from __future__ import annotations

import fnmatch
import os
import stat
import sys
from pathlib import Path

from .model import AnalyzerError, DecodeError, Dockerfile

__all__ = ["DecodeError", "InputError", "discover_inputs", "is_dockerfile_name", "read_input"]

SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache"}
MAX_INPUT_BYTES = 16 * 1024 * 1024


class InputError(AnalyzerError):
    pass


def is_dockerfile_name(name: str) -> bool:
    """Dockerfile, Containerfile, *.Dockerfile, Dockerfile.* (and Containerfile.*)."""
    if name in ("Dockerfile", "Containerfile"):
        return True
    if name.endswith(".Dockerfile") or name.endswith(".dockerfile"):
        return True
    return fnmatch.fnmatchcase(name, "Dockerfile.*") or fnmatch.fnmatchcase(name, "Containerfile.*")


def discover_inputs(paths: list[str]) -> list[str]:
    """Expand directories into the Dockerfiles they hold, sorted; keep files and ``-``."""
    out: list[str] = []
    for p in paths:
        if p == "-":
            out.append(p)
            continue
        if not os.path.lexists(p):
            raise InputError(f"{p}: no such file or directory")
        if os.path.isdir(p):
            found = []
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
                for name in sorted(files):
                    if is_dockerfile_name(name) and not name.endswith(".dockerignore"):
                        found.append(os.path.join(root, name))
            if not found:
                raise InputError(f"{p}: no Dockerfile found (looked for Dockerfile, Containerfile, *.Dockerfile, Dockerfile.*)")
            out.extend(found)
        else:
            out.append(p)
    return out


def read_bytes(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    try:
        st = os.stat(path)
    except OSError as exc:
        raise InputError(exc.strerror or str(exc)) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError("is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise InputError("not a regular file")
    try:
        with open(path, "rb") as fh:
            return fh.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise InputError(exc.strerror or str(exc)) from None


def read_input(path: str, shown: str) -> Dockerfile:
    """Read, decode and parse one input. DecodeError/InputError for unreadable input,
    ParseError for a file Docker would refuse."""
    from .parse import decode, parse

    data = read_bytes(path)
    return parse(decode(data, shown), shown)

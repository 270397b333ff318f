"""Finding and reading the files to analyse."""

from __future__ import annotations

import errno
import fnmatch
import os
import stat
import sys
from pathlib import Path

from .model import AnalyzerError, DecodeError, Dockerfile

__all__ = ["DecodeError", "InputError", "discover_inputs", "is_dockerfile_name", "is_file", "read_input", "read_regular"]

SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache"}


def is_file(path: str) -> bool:
    """``os.path.isfile(path)``, asking ``access()`` first: for a name that is not there
    (what a look for an optional file nearly always finds) no exception is made."""
    try:
        return os.access(path, os.F_OK) and os.path.isfile(path)
    except ValueError:  # a NUL in the name
        return False


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
            found: list[str] = []
            _find_dockerfiles(p, found)
            if not found:
                raise InputError(f"{p}: no Dockerfile found (looked for Dockerfile, Containerfile, *.Dockerfile, Dockerfile.*)")
            out.extend(found)
        else:
            out.append(p)
    return out


def _holds(test) -> bool:
    """``test()``, False when it cannot say (as os.walk takes it)."""
    try:
        return test()
    except OSError:
        return False


def _find_dockerfiles(root: str, found: list) -> None:
    """What ``os.walk(root)`` (top down, symbolic links to directories not followed,
    unreadable directories skipped) finds, each directory's Dockerfiles sorted before its
    subdirectories in sorted order; without a ``lstat`` per directory (the entry's own
    type says whether it is a link)."""
    try:
        with os.scandir(root) as it:
            entries = list(it)
    except OSError:
        return
    files = []
    subdirs = []
    for entry in entries:
        if not _holds(entry.is_dir):
            files.append(entry.name)
        elif entry.name not in SKIP_DIRS and not _holds(entry.is_symlink):
            subdirs.append(entry.name)
    prefix = root if root.endswith("/") else root + "/"
    for name in sorted(files):
        if is_dockerfile_name(name) and not name.endswith(".dockerignore"):
            found.append(prefix + name)
    for name in sorted(subdirs):
        _find_dockerfiles(prefix + name, found)


_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _not_regular(mode: int) -> InputError:
    kind = next((name for test, name in _KINDS if test(mode)), "")
    return InputError("not a regular file" + (f" ({kind})" if kind else ""))


def _too_large(size: str) -> InputError:
    return InputError(f"{size}; the limit is {MAX_INPUT_BYTES:,} bytes")


def read_bytes(path: str) -> bytes:
    """The bytes of ``path`` (``-``: standard input), at most MAX_INPUT_BYTES of them: a
    larger input, a directory, a FIFO or a device is refused without reading it (a FIFO is
    never opened, so nothing waits for a writer)."""
    if path == "-":
        data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        if len(data) > MAX_INPUT_BYTES:
            raise InputError(f"standard input is larger than the limit of {MAX_INPUT_BYTES:,} bytes")
        return data
    try:
        st = os.stat(path)
    except OSError as exc:
        if os.path.islink(path):
            try:
                target = os.readlink(path)
            except OSError:
                target = "?"
            if exc.errno == errno.ELOOP:
                raise InputError(f"symbolic link loop (through {target!r})") from None
            raise InputError(f"broken symbolic link to {target!r}: {exc.strerror or exc}") from None
        raise InputError(exc.strerror or str(exc)) from None
    if stat.S_ISREG(st.st_mode) and st.st_size > MAX_INPUT_BYTES:
        raise _too_large(f"file is {st.st_size:,} bytes")
    data = read_regular(path, MAX_INPUT_BYTES + 1, st)
    if len(data) > MAX_INPUT_BYTES:  # grew since it was looked at
        raise _too_large(f"file is more than {MAX_INPUT_BYTES:,} bytes")
    return data


def read_regular(path, max_bytes: int, st: "os.stat_result | None" = None) -> bytes:
    """At most ``max_bytes`` bytes of the regular file ``path`` (``st``: its stat, when the
    caller has it). InputError for anything else, without reading it: a directory, a
    device (never read forever), a FIFO or socket (never opened: nothing waits for a
    writer; and opened non-blocking, should the path change into one meanwhile)."""
    try:
        if st is None:
            st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise InputError("is a directory")
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(st.st_mode)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise InputError(exc.strerror or str(exc)) from None
    try:
        fst = os.fstat(fd)
        if not stat.S_ISREG(fst.st_mode):
            raise _not_regular(fst.st_mode)
        chunks = []
        left = max_bytes
        want = max(fst.st_size + 1, 8192)  # the whole file and its end in one read, usually
        while left > 0:  # plain reads: no file object to build for a small file
            chunk = os.read(fd, min(left, want))
            want = 1 << 20
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    except OSError as exc:
        raise InputError(exc.strerror or str(exc)) from None
    finally:
        if fd >= 0:
            os.close(fd)


def read_input(path: str, shown: str) -> Dockerfile:
    """Read, decode and parse one input. DecodeError/InputError for unreadable input,
    ParseError for a file Docker would refuse."""
    from analyzer.parse import decode, parse

    data = read_bytes(path)
    return parse(decode(data, shown), shown)

"""The build context as a builder sees it, and the fingerprints of what COPY/ADD select.

Both builders hash a copied file by its type, permission bits, size, content (or link
target) and its path below the copied root; mtime, uid and gid are not part of it (the
docker CLI sends context files as 0:0, BuildKit hashes a stat record without times).
Files matched by the ignore file are never sent, so they are not in the index at all.

Reading every file on each run would be slow, so content hashes are kept in a small
cache (``<cache root>/hashes/<context id>.json``) keyed by path and reused while the
file's size, mtime, ctime and inode are unchanged.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import stat
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..model import AnalyzerError

HASH_CACHE_VERSION = 1
_WILDCARD = re.compile(r"(?<!\\)[*?\[]")


class ContextError(AnalyzerError):
    """The build context cannot be used (missing, not a directory, unreadable ignore file)."""


@dataclass(frozen=True)
class Entry:
    """One entry of the build context, as the cache keys see it."""

    kind: str  # "f" file, "d" directory, "l" symlink, "o" other (device, fifo, socket)
    mode: int  # permission bits (stat.S_IMODE)
    size: int
    mtime_ns: int
    ctime_ns: int
    ino: int
    link: str = ""  # symlink target as stored


@dataclass
class Selection:
    """What one COPY/ADD source selects: ``files`` maps context paths to a fingerprint
    ``<kind><mode>:<hash>`` (hash of the content, or of the link target)."""

    source: str
    files: dict = field(default_factory=dict)
    missing: bool = False  # the source names nothing in the context (the build would fail)
    via: str = ""  # the context path a top-level symlink resolved to

    @property
    def digest(self) -> str:
        h = hashlib.sha256()
        h.update(self.source.encode())
        h.update(b"\0missing" if self.missing else b"\0")
        for path in sorted(self.files):
            h.update(b"\0" + path.encode() + b"\0" + self.files[path].encode())
        return h.hexdigest()


def has_wildcards(path: str) -> bool:
    return _WILDCARD.search(path) is not None


def clean(source: str) -> str:
    """A COPY/ADD source as a context-relative path: leading ``/`` dropped, ``..`` clamped
    at the context root (Docker resolves sources inside the context)."""
    parts: list[str] = []
    for part in source.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/".join(parts) or "."


def _glob_to_regex(pattern: str) -> "re.Pattern[str]":
    """Go's filepath.Match (what both builders use for COPY wildcards): ``*`` and ``?``
    never match ``/``, ``[...]`` classes (``[^...]`` negated), ``\\`` escapes."""
    out = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        elif ch == "[":
            j = i + 1
            if j < n and pattern[j] in "^!":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            if j >= n:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1 : j]
                negate = body[:1] in ("^", "!")
                if negate:
                    body = body[1:]
                body = body.replace("\\", "\\\\").replace("[", "\\[")
                out.append("[" + ("^/" if negate else "") + body + "]")
                i = j
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out))


def _valid_entry(v: object) -> bool:
    """[size, mtime_ns, ctime_ns, inode, content hash]"""
    return isinstance(v, list) and len(v) == 5 and all(type(x) is int for x in v[:4]) and isinstance(v[4], str)


class HashCache:
    """Content hashes keyed by context path, valid while (size, mtime, ctime, inode) hold."""

    def __init__(self, path: Optional[Path]):
        self.path = path
        self.entries: dict[str, list] = {}
        self.dirty = False
        self.hits = 0
        self.misses = 0
        if path is not None:
            from ..cachedir import read_checked

            data = read_checked(path)  # None when missing or damaged (checksum)
            files = data.get("files") if data is not None and data.get("version") == HASH_CACHE_VERSION else None
            if isinstance(files, dict):
                self.entries = {k: v for k, v in files.items() if _valid_entry(v)}

    def lookup(self, rel: str, e: Entry) -> Optional[str]:
        found = self.entries.get(rel)
        if found and found[0] == e.size and found[1] == e.mtime_ns and found[2] == e.ctime_ns and found[3] == e.ino:
            self.hits += 1
            return found[4]
        return None

    def store(self, rel: str, e: Entry, digest: str) -> None:
        self.misses += 1
        self.entries[rel] = [e.size, e.mtime_ns, e.ctime_ns, e.ino, digest]
        self.dirty = True

    def save(self, keep: Optional[dict] = None) -> None:
        if self.path is None or not self.dirty:
            return
        if keep is not None:
            self.entries = {k: v for k, v in self.entries.items() if k in keep}
        from ..cachedir import dumps_checked, not_writable, warn, write_atomic

        try:
            write_atomic(self.path, dumps_checked({"version": HASH_CACHE_VERSION, "files": self.entries}))
            self.dirty = False
        except OSError as exc:
            warn(not_writable(self.path.parent, exc))  # a cache that cannot be written only costs time


class BuildContext:
    """The context directory filtered by the ignore file, indexed on first use."""

    def __init__(self, root: Path, matcher=None, hash_cache: Optional[HashCache] = None):
        self.root = Path(root)
        self.matcher = matcher
        self.hash_cache = hash_cache or HashCache(None)
        self._index: Optional[dict[str, Entry]] = None
        self._sorted: list[str] = []
        self.unlistable: dict[str, str] = {}  # directory (context path) -> why it cannot be listed

    # ------------------------------------------------------------------ index

    @property
    def index(self) -> dict[str, Entry]:
        if self._index is None:
            self._index = self._walk()
            self._sorted = sorted(self._index)
        return self._index

    def _walk(self) -> dict[str, Entry]:
        index: dict[str, Entry] = {}
        matcher = self.matcher if self.matcher else None
        descend_excluded = bool(matcher is not None and matcher.has_exceptions)
        try:
            st = os.stat(self.root)
        except OSError as exc:
            raise ContextError(f"build context {self.root}: {exc.strerror or exc}") from None
        if not stat.S_ISDIR(st.st_mode):
            raise ContextError(f"build context {self.root}: not a directory")
        index["."] = _entry(st, "")
        stack = [("", str(self.root))]
        while stack:
            prefix, directory = stack.pop()
            try:
                it = os.scandir(directory)
            except OSError as exc:  # the build cannot send it either: the plan says so
                self.unlistable[prefix.rstrip("/") or "."] = exc.strerror or "error"
                continue
            with it:
                for de in it:
                    rel = prefix + de.name
                    try:
                        st = de.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    is_dir = stat.S_ISDIR(st.st_mode)
                    excluded = matcher is not None and matcher.excluded(rel)
                    if excluded:
                        if is_dir and descend_excluded:
                            stack.append((rel + "/", de.path))
                        continue
                    link = ""
                    if stat.S_ISLNK(st.st_mode):
                        try:
                            link = os.readlink(de.path)
                        except OSError:
                            link = ""
                    index[rel] = _entry(st, link)
                    if is_dir:
                        stack.append((rel + "/", de.path))
        if descend_excluded:
            # a re-included file brings its (excluded) parent directories along
            for rel in list(index):
                parent = posixpath.dirname(rel)
                while parent and parent not in index:
                    try:
                        index[parent] = _entry(os.lstat(self.root / parent), "")
                    except OSError:
                        break
                    parent = posixpath.dirname(parent)
        return index

    def _below(self, rel: str) -> list[str]:
        """Index paths strictly below directory ``rel``."""
        self.index
        if rel == ".":
            return [p for p in self._sorted if p != "."]
        start = bisect_left(self._sorted, rel + "/")
        end = bisect_left(self._sorted, rel + "0")  # "0" sorts right after "/"
        return self._sorted[start:end]

    # -------------------------------------------------------------- resolving

    def resolve(self, rel: str, follow_last: bool = True) -> Optional[str]:
        """Follow symlinks inside the context (absolute targets are relative to the
        context root, ``..`` stops at the root). None when the path is not in the context."""
        index = self.index
        parts = [p for p in rel.split("/") if p not in ("", ".")]
        done: list[str] = []
        hops = 0
        while parts:
            part = parts.pop(0)
            if part == "..":
                if done:
                    done.pop()
                continue
            cur = "/".join(done + [part])
            e = index.get(cur)
            if e is None:
                return None
            if e.kind == "l" and (parts or follow_last):
                hops += 1
                if hops > 40:
                    return None
                target = e.link
                if target.startswith("/"):
                    done = []
                parts = [p for p in target.split("/") if p not in ("", ".")] + parts
                continue
            done.append(part)
        return "/".join(done) or "."

    # ---------------------------------------------------------------- hashing

    def fingerprint(self, rel: str) -> str:
        e = self.index[rel]
        if e.kind == "f":
            digest = self.hash_cache.lookup(rel, e)
            if digest is None:
                digest = _hash_file(self.root / rel)
                self.hash_cache.store(rel, e, digest)
            return f"f{e.mode:04o}:{digest}"
        if e.kind == "l":
            return f"l{e.mode:04o}:{hashlib.sha256(e.link.encode()).hexdigest()[:16]}"
        if e.kind == "d":
            return f"d{e.mode:04o}"
        return f"o{e.mode:04o}:{e.size}"

    def select(self, source: str) -> Selection:
        """What ``COPY <source> ...`` takes from the context: the matched path(s), a
        top-level symlink followed, directories with everything below them."""
        rel = clean(source)
        sel = Selection(source=rel)
        if has_wildcards(rel):
            regex = _glob_to_regex(rel)
            depth = rel.count("/")
            matched = [p for p in self.index if p != "." and p.count("/") == depth and regex.fullmatch(p)]
            if not matched:
                sel.missing = True
            for p in sorted(matched):
                self._add(sel, p)
            return sel
        target = self.resolve(rel)
        if target is None:
            sel.missing = True
            return sel
        if target != rel:
            sel.via = target
        self._add(sel, target)
        return sel

    def _add(self, sel: Selection, rel: str) -> None:
        if rel != "." and self.index[rel].kind == "l":
            target = self.resolve(rel)
            if target is None:
                sel.files[rel] = self.fingerprint(rel)
                return
            rel = target
        sel.files[rel] = self.fingerprint(rel)
        if self.index[rel].kind == "d":
            for p in self._below(rel):
                sel.files[p] = self.fingerprint(p)

    def save_cache(self) -> None:
        if self._index is not None:
            self.hash_cache.save(keep=self._index)


def _entry(st: os.stat_result, link: str) -> Entry:
    mode = st.st_mode
    if stat.S_ISREG(mode):
        kind = "f"
    elif stat.S_ISDIR(mode):
        kind = "d"
    elif stat.S_ISLNK(mode):
        kind = "l"
    else:
        kind = "o"
    return Entry(kind, stat.S_IMODE(mode), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, link)


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while True:
                chunk = fh.read(1 << 20)
                if not chunk:
                    break
                h.update(chunk)
    except OSError as exc:
        return "unreadable:" + (exc.strerror or "error")
    return h.hexdigest()[:32]

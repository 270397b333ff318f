"""What the layers of an image add and remove, read from the layer tars without extracting.

``list_layer(stream)`` reads one layer (gzip, uncompressed, or zstd when the ``zstandard``
module is importable) member by member and returns a :class:`LayerListing`: the
executables it adds (regular files, hard links and symlinks with any exec bit, under any
directory) and what its whiteouts delete (``.wh.<name>`` deletes ``<name>`` with everything
under it, ``.wh..wh..opq`` empties its directory of what lower layers put there). Reading
stops at a member count, byte count or time cap; the listing then says it is incomplete.

``merge(listings)`` applies listings in order (lowest layer first) and returns the
executables of the resulting filesystem, each with the index of the layer that added it.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
import time
import zlib
from dataclasses import dataclass, field
from typing import Any, Optional

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
MAX_MEMBERS = 500_000
MAX_BYTES = 4 << 30  # compressed bytes read from the blob
MAX_SECONDS = 180.0
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


@dataclass
class LayerListing:
    added: dict = field(default_factory=dict)  # executable path -> "file" | "symlink" | "hardlink"
    deleted: list = field(default_factory=list)  # paths removed by ``.wh.<name>`` (with their subtrees)
    opaque: list = field(default_factory=list)  # directories emptied by ``.wh..wh..opq``
    members: int = 0
    complete: bool = True
    note: str = ""

    def as_json(self) -> dict:
        return {
            "added": dict(self.added), "deleted": list(self.deleted), "opaque": list(self.opaque),
            "members": self.members, "complete": self.complete, "note": self.note,
        }

    @classmethod
    def from_json(cls, data: dict) -> "LayerListing":
        return cls(
            added=dict(data.get("added") or {}), deleted=list(data.get("deleted") or []),
            opaque=list(data.get("opaque") or []), members=int(data.get("members") or 0),
            complete=bool(data.get("complete")), note=str(data.get("note") or ""),
        )


class _Counting(io.RawIOBase):
    """Counts the bytes read from the blob; stops the read past ``limit``."""

    def __init__(self, raw: Any, limit: int):
        super().__init__()
        self._raw = raw
        self.limit = limit
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.count > self.limit:
            raise _Capped(f"more than {self.limit} bytes")
        data = self._raw.read(len(buffer))
        if not data:
            return 0
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n


class _Capped(Exception):
    pass


def normalize(name: str) -> Optional[str]:
    """A member name as an absolute path (``./usr/bin/x`` -> ``/usr/bin/x``); None for the root."""
    while name.startswith("./"):
        name = name[2:]
    path = posixpath.normpath("/" + name.lstrip("/"))
    return None if path == "/" else path


def list_layer(stream: Any, *, max_members: int = MAX_MEMBERS, max_bytes: int = MAX_BYTES,
               max_seconds: float = MAX_SECONDS) -> LayerListing:
    """List one layer from a binary stream (read once, never seeked)."""
    out = LayerListing()
    counting = _Counting(stream, max_bytes)
    buffered = io.BufferedReader(counting, 1 << 16)
    head = buffered.peek(4)[:4]
    if head.startswith(_ZSTD_MAGIC):
        try:
            import zstandard
        except ImportError:
            out.complete = False
            out.note = "zstd layer not supported (the zstandard module is not installed)"
            return out
        source: Any = zstandard.ZstdDecompressor().stream_reader(buffered)
        mode = "r|"
    elif head.startswith(_GZIP_MAGIC):
        source, mode = buffered, "r|gz"
    else:
        source, mode = buffered, "r|"
    start = time.monotonic()
    try:
        with tarfile.open(fileobj=source, mode=mode) as tar:
            for member in tar:
                out.members += 1
                if out.members > max_members:
                    raise _Capped(f"more than {max_members} members")
                if out.members % 256 == 0 and time.monotonic() - start > max_seconds:
                    raise _Capped(f"listing took more than {max_seconds:g} s")
                _member(out, member)
    except _Capped as exc:
        out.complete = False
        out.note = f"layer listing stopped: {exc}"
    except (tarfile.TarError, EOFError, OSError, ValueError, zlib.error) as exc:
        out.complete = False
        out.note = f"layer is not a readable tar ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
    return out


def _member(out: LayerListing, member: tarfile.TarInfo) -> None:
    path = normalize(member.name)
    if path is None:
        return
    parent, base = posixpath.split(path)
    if base == OPAQUE:
        out.opaque.append(parent or "/")
        return
    if base.startswith(WHITEOUT):
        out.deleted.append(posixpath.join(parent, base[len(WHITEOUT):]))
        return
    if not (member.mode & 0o111):
        return
    if member.isreg():
        out.added[path] = "file"
    elif member.issym():
        out.added[path] = "symlink"
    elif member.islnk():
        out.added[path] = "hardlink"


def _under(path: str, directory: str) -> bool:
    directory = directory.rstrip("/") or "/"
    return directory == "/" or path == directory or path.startswith(directory + "/")


def apply_listing(files: dict, listing: LayerListing, index: int) -> list[str]:
    """Apply one layer on top of ``files`` (path -> layer index) in place; returns the
    paths of executables that the layer's whiteouts removed."""
    removed = []
    for directory in listing.opaque:
        for p in [p for p in files if p != directory and _under(p, directory)]:
            files.pop(p)
            removed.append(p)
    for target in listing.deleted:
        for p in [p for p in files if _under(p, target)]:
            files.pop(p)
            removed.append(p)
    for p in listing.added:
        files[p] = index
    return removed


def merge(listings: list) -> dict:
    """Executables of the filesystem the layers make (lowest first): path -> layer index."""
    files: dict = {}
    for i, listing in enumerate(listings):
        apply_listing(files, listing, i)
    return files


# -- an image read from a registry ---------------------------------------------------------------


@dataclass
class RegistryLayer:
    index: int
    digest: str
    created_by: str  # the history entry that made the layer ("" when the history does not say)
    listing: Optional[LayerListing] = None  # None when the layer was not listed


@dataclass
class RegistryImage:
    """What the resolver read from a registry for one image."""

    host: str
    repository: str
    digest: str
    config: dict  # the image config's ``config`` object (Env, User, WorkingDir, Shell ...)
    history: list  # [(created_by, empty_layer)]
    layers: list  # [RegistryLayer], lowest first
    note: str = ""

    @property
    def listed(self) -> bool:
        return all(layer.listing is not None and layer.listing.complete for layer in self.layers)


def layer_history(config: dict, count: int) -> list[str]:
    """The ``created_by`` of the history entries that made a layer, in order, one per layer
    (``""`` where the history has fewer non-empty entries than there are layers)."""
    history = config.get("history") if isinstance(config, dict) else None
    texts = []
    for entry in history if isinstance(history, list) else ():
        if isinstance(entry, dict) and not entry.get("empty_layer"):
            texts.append(str(entry.get("created_by") or ""))
    texts = texts[:count]
    return texts + [""] * (count - len(texts))


def short_history(text: str, limit: int = 200) -> str:
    """``/bin/sh -c #(nop) COPY file:ab.. in /x`` -> ``COPY file:ab.. in /x``; ``|1 A=b /bin/sh -c x`` -> ``RUN x``."""
    t = " ".join(text.split())
    if t.endswith(" # buildkit"):
        t = t[: -len(" # buildkit")]
    if t.startswith("|"):
        parts = t.split(" ", 1)
        count = parts[0][1:]
        rest = parts[1] if len(parts) > 1 else ""
        if count.isdigit():
            words = rest.split(" ")
            rest = " ".join(words[int(count):])
        t = rest
    for prefix in ("/bin/sh -c #(nop) ", "/bin/sh -c #(nop)"):
        if t.startswith(prefix):
            t = t[len(prefix):].strip()
            break
    else:
        if t.startswith("/bin/sh -c "):
            t = "RUN " + t[len("/bin/sh -c "):]
    return t if len(t) <= limit else t[: limit - 3] + "..."

"""What the layers of an image add and remove, read from the layer tars without extracting.

``list_layer(stream)`` reads one layer blob once, front to back, and returns a
:class:`LayerListing`. The compression is told by the first bytes, never by the media type
(a manifest may say gzip for a zstd blob): gzip (``1f 8b``; several members allowed), zstd
(``28 b5 2f fd``; several frames allowed) or a plain tar. The tar headers are parsed here
(ustar, GNU long names and old sparse files, PAX ``path``/``linkpath``/``size``); nothing is
extracted or written, file data is skipped as it is decompressed, and memory does not grow
with the size of the layer, only (up to the caps) with its number of entries.

What a listing holds, for one layer:

* ``added``: the executables the layer puts in place (path -> ``file``, ``hardlink`` or
  ``symlink``): regular files with an exec bit; hard links to such a file of the same layer
  (a hard link is the same inode, so its target decides); symlinks of any mode (a symlink's
  own mode means nothing) whose target is an executable of the same layer, or is not in the
  layer at all (it may be in a lower one: :class:`Overlay` settles those). A symlink to a
  directory of the same layer (``/bin -> usr/bin``) also adds that directory's executables
  under the link's path.
* ``deleted`` and ``opaque``: whiteouts. ``.wh.<name>`` deletes ``<name>`` of the lower layers
  with everything under it; ``.wh..wh..opq`` empties its directory of what lower layers put
  there. Whiteouts never touch the entries of their own layer.
* ``dirs`` and ``others``: 64-bit hashes of the layer's other paths, the directories (also
  those only implied by a deeper member) and the non-executable entries (files without an
  exec bit, devices, FIFOs, hard links to anything else, symlinks to non-executables). They
  hide what lower layers have at the same path, as overlayfs and Docker's layer unpacking do:
  any entry replaces a lower file at its path, and a non-directory replaces a lower directory
  with everything under it.
* ``links``: symlink path -> target (absolute, cleaned) for the symlinks in ``added`` and for
  the symlinks to directories.

Member names are cleaned as containerd does: ``./`` and leading ``/`` dropped, ``..`` resolved
and held at the root (``../../etc/passwd`` is ``/etc/passwd``).

When a cap (the ``MAX_*`` constants) is reached, or the blob is not a readable tar, the
listing stops, ``complete`` is False and ``note`` says why in one line; the resolver then
treats the image's contents as unknown.

``apply_listing(files, listing, index)`` applies one listing to a path -> layer index map
(whiteouts, replaced entries; it sees paths only). :class:`Overlay` applies listings one by
one and also follows symlinks across layers; ``merge(listings)`` is its result for a list of
listings (lowest first): the executables of the image, each with the index of its layer.
"""

from __future__ import annotations

import base64
import hashlib
import io
import struct
import time
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Iterable, Optional

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
MAX_MEMBERS = 500_000  # tar members (extension headers count apart, up to twice as many)
MAX_EXECUTABLES = 200_000  # entries of ``added``, directory-link aliases included
MAX_KEPT = 64 << 20  # bytes of path names kept (``added``, symlinks and their targets)
MAX_BYTES = 4 << 30  # compressed bytes read from the blob
MAX_UNPACKED = 32 << 30  # tar bytes once decompressed
MAX_RATIO = 200  # decompressed / compressed, checked once past RATIO_FLOOR decompressed bytes
RATIO_FLOOR = 256 << 20
MAX_SECONDS = 180.0
MAX_NAME = 4096  # bytes of a member name or link target (PATH_MAX)
MAX_EXTENDED = 1 << 20  # bytes of one PAX or GNU long-name header
MAX_ZSTD_WINDOW = 1 << 27  # zstd frames asking for a larger window are refused
MAX_HOPS = 40  # symlinks followed to resolve one path (the kernel's limit)
LISTING_VERSION = 2
_HASH_SIZE = 8

_READ = 1 << 20  # decompressed bytes asked for at a time
_RAW_READ = 1 << 16  # compressed bytes handed to zlib at a time
_BLOCK = 512
_ZERO_BLOCK = bytes(_BLOCK)
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_XZ_MAGIC = b"\xfd7zXZ\x00"
_BZIP2_MAGIC = b"BZh"
# typeflags
_REGULAR = frozenset(b"07\x00S")  # file, contiguous file, old-style file, GNU sparse file
_HARDLINK, _SYMLINK, _DIR, _DUMPDIR = ord("1"), ord("2"), ord("5"), ord("D")
_HEADER_ONLY = frozenset(b"123456")  # no data follows, whatever the size field says (as Go's reader)
_GNU_LONGNAME, _GNU_LONGLINK, _GNU_SPARSE = ord("L"), ord("K"), ord("S")
_PAX, _PAX_GLOBAL, _PAX_SOLARIS = ord("x"), ord("g"), ord("X")
_EXTENDED = frozenset((_GNU_LONGNAME, _GNU_LONGLINK, _PAX, _PAX_GLOBAL, _PAX_SOLARIS))
_PAX_KEYS = (b"path", b"linkpath", b"size", b"GNU.sparse.name")


@dataclass
class LayerListing:
    """What one layer adds, deletes and hides, as far as executables go."""

    added: dict = field(default_factory=dict)  # executable path -> "file" | "symlink" | "hardlink"
    deleted: list = field(default_factory=list)  # paths removed by ``.wh.<name>`` (with their subtrees)
    opaque: list = field(default_factory=list)  # directories emptied by ``.wh..wh..opq``
    members: int = 0
    complete: bool = True
    note: str = ""
    links: dict = field(default_factory=dict)  # symlink -> absolute target (see the module docstring)
    dirs: bytes = b""  # 8-byte path hashes, one after another, of the layer's directories
    others: bytes = b""  # and of its non-executable entries
    compression: str = ""  # "gzip" | "zstd" | "tar" | "" (not read)
    unpacked: int = 0  # tar bytes read (after decompression)
    _sets: Any = field(default=None, init=False, repr=False, compare=False)

    def as_json(self) -> dict:
        return {
            "version": LISTING_VERSION,
            "added": dict(self.added), "deleted": list(self.deleted), "opaque": list(self.opaque),
            "members": self.members, "complete": self.complete, "note": self.note,
            "links": dict(self.links), "dirs": _pack(self.dirs), "others": _pack(self.others),
            "compression": self.compression, "unpacked": self.unpacked,
        }

    @classmethod
    def from_json(cls, data: dict) -> "LayerListing":
        """Raises ValueError for a listing stored by another version (it is listed again)."""
        if not isinstance(data, dict) or data.get("version") != LISTING_VERSION:
            raise ValueError("layer listing of another format")
        return cls(
            added=dict(data.get("added") or {}), deleted=list(data.get("deleted") or []),
            opaque=list(data.get("opaque") or []), members=int(data.get("members") or 0),
            complete=bool(data.get("complete")), note=str(data.get("note") or ""),
            links=dict(data.get("links") or {}), dirs=_unpack(data.get("dirs") or ""),
            others=_unpack(data.get("others") or ""), compression=str(data.get("compression") or ""),
            unpacked=int(data.get("unpacked") or 0),
        )

    def hides(self, path: str) -> bool:
        """Does this layer hide ``path`` of a lower layer (whiteouts aside)? True when it has
        an entry at ``path`` (a directory or a non-executable), or a non-directory at one of
        its parents. An executable of this layer at ``path`` replaces it and is not counted."""
        if self._sets is None:
            self._sets = (_hash_set(self.dirs), _hash_set(self.others))
        dirs, others = self._sets
        h = _h(path)
        if h in dirs or h in others:
            return True
        parent = path.rpartition("/")[0]
        while parent:
            if parent in self.added or _h(parent) in others:
                return True
            parent = parent.rpartition("/")[0]
        return False


def _pack(hashes: bytes) -> str:
    return base64.b64encode(hashes).decode("ascii")


def _unpack(text: str) -> bytes:
    raw = base64.b64decode(text.encode("ascii"), validate=True)
    if len(raw) % _HASH_SIZE:
        raise ValueError("hash list of a wrong length")
    return raw


def _hash_set(hashes: bytes) -> frozenset:
    data = bytes(hashes)
    return frozenset(data[i:i + _HASH_SIZE] for i in range(0, len(data), _HASH_SIZE))


def _hash(path: str) -> bytes:
    return hashlib.blake2b(path.encode("utf-8", "surrogateescape"), digest_size=_HASH_SIZE).digest()


_h = lru_cache(maxsize=1 << 16)(_hash)


class _Capped(Exception):
    """A cap was reached: the listing stops and says so."""


class _Unreadable(Exception):
    """The blob is not a tar (or a truncated or corrupt one)."""


def normalize(name: str) -> Optional[str]:
    """A member name as an absolute path, ``..`` held at the root (``./usr/bin/x`` and
    ``../usr/bin/x`` -> ``/usr/bin/x``); None for the root itself."""
    plain = name[2:] if name.startswith("./") else name
    if plain and plain[0] not in "./" and "/." not in plain and "//" not in plain:
        return "/" + plain.rstrip("/")
    parts: list = []
    for part in name.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part and part != ".":
            parts.append(part)
    return "/" + "/".join(parts) if parts else None


def _link_target(parent: str, target: str) -> Optional[str]:
    """A symlink's target as an absolute path (relative targets start at the link's directory)."""
    if not target:
        return None
    return normalize(target if target.startswith("/") else parent + "/" + target) or "/"


def resolve_path(path: str, links: dict, max_hops: int = MAX_HOPS) -> Optional[str]:
    """``path`` with every symlink on the way followed (``links``: symlink -> absolute target),
    the last component too; None past ``max_hops`` symlinks (a loop)."""
    parts = [p for p in path.split("/") if p]
    done = ""
    hops = 0
    i = 0
    while i < len(parts):
        current = done + "/" + parts[i]
        target = links.get(current)
        if target is not None:
            hops += 1
            if hops > max_hops:
                return None
            parts = [p for p in target.split("/") if p] + parts[i + 1:]
            done, i = "", 0
            continue
        done = current
        i += 1
    return done or "/"


# -- reading the blob --------------------------------------------------------------------------


class _Counting(io.RawIOBase):
    """Counts the bytes read from the blob; stops the read past ``limit``. ``head(n)`` reads
    the first bytes ahead (to tell the compression) and hands them out again."""

    def __init__(self, raw: Any, limit: int):
        super().__init__()
        self._raw = raw
        self.limit = limit
        self.count = 0
        self._ahead = b""

    def readable(self) -> bool:
        return True

    def head(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            more = self._pull(n - len(data))
            if not more:
                break
            data += more
        self._ahead = data
        return data

    def _pull(self, n: int) -> bytes:
        if self.count > self.limit:
            raise _Capped(f"more than {self.limit} compressed bytes")
        data = self._raw.read(n)
        if data:
            self.count += len(data)
        return data or b""

    def readinto(self, buffer: Any) -> int:
        if self._ahead:
            n = min(len(buffer), len(self._ahead))
            buffer[:n] = self._ahead[:n]
            self._ahead = self._ahead[n:]
            return n
        data = self._pull(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n


class _Gunzip:
    """gzip members one after another (pigz and others write several), ``read(n)`` giving at
    most ``n`` bytes however well the input compresses; the CRC of each member is checked."""

    def __init__(self, raw: Any):
        self._raw = raw
        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._tail = b""

    def read(self, n: int) -> bytes:
        while True:
            if not self._tail:
                if self._inflate.eof:
                    rest = self._inflate.unused_data or self._raw.read(_RAW_READ)
                    if not rest:
                        return b""
                    self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    self._tail = rest
                else:
                    self._tail = self._raw.read(_RAW_READ)
                    if not self._tail:
                        raise _Unreadable("truncated: the gzip stream ends early")
            out = self._inflate.decompress(self._tail, n)
            self._tail = self._inflate.unconsumed_tail
            if out:
                return out


class _Tape:
    """The tar bytes, decompressed on demand and counted: 512-byte blocks, exact reads, skips."""

    def __init__(self, read: Callable[[int], bytes], counting: _Counting, *, max_unpacked: int,
                 max_ratio: float, ratio_floor: int, max_seconds: float, start: float):
        self._read = read
        self._counting = counting
        self._buf = b""
        self._pos = 0
        self.unpacked = 0
        self.max_unpacked = max_unpacked
        self.max_ratio = max_ratio
        self.ratio_floor = ratio_floor
        self.max_seconds = max_seconds
        self.start = start

    def check_time(self) -> None:
        if time.monotonic() - self.start > self.max_seconds:
            raise _Capped(f"listing took more than {self.max_seconds:g} s")

    def _fill(self) -> bytes:
        self.check_time()
        data = self._read(_READ)
        if data:
            self.unpacked += len(data)
            if self.unpacked > self.max_unpacked:
                raise _Capped(f"more than {self.max_unpacked} bytes once decompressed")
            if (self.max_ratio and self.unpacked > self.ratio_floor
                    and self.unpacked > self.max_ratio * max(self._counting.count, 1)):
                raise _Capped(
                    f"{self.unpacked} bytes decompressed from {self._counting.count}: more than "
                    f"{self.max_ratio:g} times larger (a decompression bomb?)"
                )
        return data

    def read(self, n: int, short: bool = False) -> Optional[bytes]:
        """Exactly ``n`` bytes; None when the data ends right here; when it ends inside, what
        there is if ``short``, else an error."""
        end = self._pos + n
        if end <= len(self._buf):
            data = self._buf[self._pos:end]
            self._pos = end
            return data
        parts = [self._buf[self._pos:]]
        have = len(parts[0])
        self._buf, self._pos = b"", 0
        while have < n:
            more = self._fill()
            if not more:
                if have == 0:
                    return None
                if short:
                    return b"".join(parts)
                raise _Unreadable("truncated: the data ends inside a tar header")
            need = n - have
            if len(more) > need:
                parts.append(more[:need])
                self._buf, self._pos = more, need
                have = n
            else:
                parts.append(more)
                have += len(more)
        return b"".join(parts)

    def skip(self, n: int) -> None:
        left = len(self._buf) - self._pos
        if n <= left:
            self._pos += n
            return
        n -= left
        self._buf, self._pos = b"", 0
        while n > 0:
            more = self._fill()
            if not more:
                raise _Unreadable("truncated: the data ends inside a member")
            if len(more) > n:
                self._buf, self._pos = more, n
                return
            n -= len(more)


def _open_tape(counting: _Counting, out: "LayerListing", tape_args: dict) -> Optional[_Tape]:
    head = counting.head(6)
    buffered = io.BufferedReader(counting, 1 << 20)
    # zstd: a frame, or a skippable frame (magic 0x184D2A50 to 0x184D2A5F, little-endian)
    if head.startswith(_ZSTD_MAGIC) or (len(head) >= 4 and head[0] & 0xF0 == 0x50 and head[1:4] == b"\x2a\x4d\x18"):
        out.compression = "zstd"
        try:
            import zstandard
        except ImportError:
            out.complete = False
            out.note = "zstd layer not supported (the zstandard module is not installed)"
            return None
        reader = zstandard.ZstdDecompressor(max_window_size=MAX_ZSTD_WINDOW).stream_reader(
            buffered, read_size=_RAW_READ, read_across_frames=True, closefd=False)
        return _Tape(reader.read, counting, **tape_args)
    if head.startswith(_GZIP_MAGIC):
        out.compression = "gzip"
        return _Tape(_Gunzip(buffered).read, counting, **tape_args)
    for magic, name in ((_XZ_MAGIC, "xz"), (_BZIP2_MAGIC, "bzip2")):
        if head.startswith(magic):
            out.compression = name
            out.complete = False
            out.note = f"layer is not a readable tar ({name}-compressed; layers are read as gzip, zstd or plain tar)"
            return None
    out.compression = "tar"
    return _Tape(buffered.read, counting, **tape_args | {"max_ratio": 0})


# -- tar headers ---------------------------------------------------------------------------------


# name, mode, uid, gid, size, mtime, checksum, typeflag, linkname, magic+version, uname, gname,
# devmajor, devminor, prefix (ustar; GNU keeps other things there), padding
_HEADER = struct.Struct("100s8s8s8s12s12s8sB100s8s32s32s8s8s155s12x")
_USTAR = b"ustar\x0000"
_ADLER_MOD = 65521


def _cstring(data: bytes) -> bytes:
    return data.split(b"\0", 1)[0]


def _number(data: bytes, what: str) -> int:
    try:  # the usual case: octal digits, NUL or space terminated
        value = int(data.rstrip(b"\0 ") or b"0", 8)
        if value >= 0:
            return value
    except ValueError:
        pass
    if data and data[0] & 0x80:  # base-256 (GNU, star): large sizes and ids
        if data[0] == 0xFF:
            raise _Unreadable(f"negative {what} in a tar header")
        return int.from_bytes(bytes([data[0] & 0x7F]) + data[1:], "big")
    text = data.split(b"\0", 1)[0].strip(b" ")
    if not text:
        return 0
    if not text.isdigit():
        raise _Unreadable(f"invalid {what} {text[:16]!r} in a tar header")
    try:
        return int(text, 8)
    except ValueError:
        raise _Unreadable(f"invalid {what} {text[:16]!r} in a tar header") from None


def _checksum_ok(block: bytes, field: bytes) -> bool:
    """The header checksum: the sum of the header's bytes, its own field read as spaces.
    The sum comes from adler32 (its low half is 1 + the byte sum modulo 65521: the same test,
    ten times cheaper than summing in Python); a mismatch is confirmed by summing, which also
    accepts the signed sums some old tars wrote."""
    try:
        stored = _number(field, "checksum")
    except _Unreadable:
        return False
    total = stored - 8 * 32 + sum(field)  # what the sum of the whole block must be
    if total >= 0 and ((zlib.adler32(block) & 0xFFFF) - 1 - total) % _ADLER_MOD == 0:
        return True
    unsigned = sum(block) - sum(field) + 8 * 32
    if stored == unsigned:
        return True
    high = sum(1 for b in block if b > 127) - sum(1 for b in field if b > 127)
    return stored == unsigned - 256 * high


def _pax_records(data: bytes) -> dict:
    """The records of a PAX header that matter here (``len key=value\\n`` each)."""
    out: dict = {}
    pos, n = 0, len(data)
    while pos < n:
        if data[pos] == 0:  # padding
            break
        space = data.find(b" ", pos, pos + 21)
        digits = data[pos:space] if space > pos else b""
        if not digits.isdigit():
            raise _Unreadable("malformed PAX record")
        end = pos + int(digits)
        if end > n or end <= space + 1 or data[end - 1] != 0x0A:
            raise _Unreadable("malformed PAX record (its length does not fit)")
        key, eq, value = data[space + 1:end - 1].partition(b"=")
        if not eq:
            raise _Unreadable("malformed PAX record (no '=')")
        if key in _PAX_KEYS:
            out[key] = value
        pos = end
    return out


def _padded(size: int) -> int:
    return (size + _BLOCK - 1) // _BLOCK * _BLOCK


# -- what the members mean ------------------------------------------------------------------------


class _Builder:
    """Collects one layer's listing from its members, in archive order."""

    def __init__(self, out: LayerListing, max_executables: int, max_kept: int):
        self.out = out
        self.added = out.added
        self.symlinks: dict = {}  # every symlink of the layer -> absolute target
        self.dirs: set = set()
        self.others = bytearray()
        self.max_executables = max_executables
        self.max_kept = max_kept
        self.kept = 0
        self._last_parent = ""

    def _keep(self, *texts: str) -> None:
        self.kept += sum(len(t) for t in texts)
        if self.kept > self.max_kept:
            raise _Capped(f"more than {self.max_kept} bytes of path names to keep")

    def _add(self, path: str, kind: str) -> None:
        if path not in self.added:
            if len(self.added) >= self.max_executables:
                raise _Capped(f"more than {self.max_executables} executables")
            self._keep(path)
        self.added[path] = kind

    def _parents(self, parent: str) -> None:
        """Directories implied by a member's path are directories of the layer."""
        if parent == self._last_parent:
            return
        self._last_parent = parent
        while parent:
            h = _hash(parent)
            if h in self.dirs:
                break
            self.dirs.add(h)
            parent = parent.rpartition("/")[0]

    def member(self, name: str, kind: int, mode: int, linkname: str) -> None:
        path = normalize(name)
        if path is None:
            return  # the root directory itself
        parent, _, base = path.rpartition("/")
        if WHITEOUT in path:
            if base == OPAQUE:
                self._parents(parent)
                self.out.opaque.append(parent or "/")
                return
            if any(part.startswith(".wh..wh.") for part in path.split("/")):
                return  # aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs), not content
            if base.startswith(WHITEOUT):
                if base != WHITEOUT:
                    self._parents(parent)
                    self.out.deleted.append(f"{parent}/{base[len(WHITEOUT):]}")
                return
        self._parents(parent)
        # a later entry for a path replaces an earlier one of the same layer
        self.added.pop(path, None)
        self.symlinks.pop(path, None)
        if kind == _DIR or kind == _DUMPDIR:
            self.dirs.add(_hash(path))
        elif kind in _REGULAR and mode & 0o111:
            self._add(path, "file")
        elif kind == _HARDLINK:
            target = normalize(linkname) if linkname else None
            if target is not None and self.added.get(target) in ("file", "hardlink"):
                self._add(path, "hardlink")
            elif target is not None and target in self.symlinks:
                self.symlinks[path] = self.symlinks[target]  # a hard link to a symlink is that symlink
                self._keep(path, self.symlinks[path])
            else:  # to a non-executable, or to something this layer does not have
                self.others.extend(_hash(path))
        elif kind == _SYMLINK:
            target = _link_target(parent, linkname)
            if target is None:
                self.others.extend(_hash(path))
            else:
                self.symlinks[path] = target
                self._keep(path, target)
        else:  # a non-executable file, a device, a FIFO, an unknown type
            self.others.extend(_hash(path))

    def finish(self) -> None:
        """Settle the symlinks against the whole layer; alias executables under directory links."""
        out = self.out
        pending: dict = {}  # target hash -> [(link, target)] still to tell apart
        dir_links: dict = {}  # directory -> [links to it]
        executables: list = []
        for link, target in self.symlinks.items():
            resolved = resolve_path(target, self.symlinks)
            if resolved is None:
                self.others.extend(_hash(link))  # a loop: ELOOP, never runs
            elif self.added.get(resolved) in ("file", "hardlink"):
                executables.append((link, resolved))
            elif resolved == "/" or _hash(resolved) in self.dirs:
                dir_links.setdefault(resolved, []).append(link)
                out.links[link] = resolved
                self.others.extend(_hash(link))
            else:
                pending.setdefault(_hash(resolved), []).append((link, resolved))
        found = {h for h in _hash_set(self.others) if h in pending} if pending else set()
        for h, entries in pending.items():
            for link, resolved in entries:
                if h in found:
                    self.others.extend(_hash(link))  # to a non-executable of this layer
                else:
                    executables.append((link, resolved))  # to nothing here: maybe a lower layer's
        for link, resolved in executables:
            self._add(link, "symlink")
            out.links[link] = resolved
        if dir_links:
            for path in list(self.added):
                parent = path.rpartition("/")[0]
                while parent:
                    for link in dir_links.get(parent, ()):
                        alias = link + path[len(parent):]
                        if alias not in self.added and not _under(link, parent):
                            self._add(alias, "symlink")
                            out.links[alias] = path
                    parent = parent.rpartition("/")[0]
        out.dirs = b"".join(sorted(self.dirs))
        out.others = bytes(self.others)


def list_layer(stream: Any, *, max_members: int = MAX_MEMBERS, max_bytes: int = MAX_BYTES,
               max_seconds: float = MAX_SECONDS, max_unpacked: int = MAX_UNPACKED,
               max_ratio: float = MAX_RATIO, ratio_floor: int = RATIO_FLOOR,
               max_executables: int = MAX_EXECUTABLES, max_kept: int = MAX_KEPT) -> LayerListing:
    """List one layer from a binary stream (read once, never seeked, never written anywhere).

    Errors of the stream itself (a registry's digest check, a broken connection) propagate;
    what is wrong with the data ends up in ``note``."""
    out = LayerListing()
    start = time.monotonic()
    counting = _Counting(stream, max_bytes)
    builder = _Builder(out, max_executables, max_kept)
    try:
        tape = _open_tape(counting, out, {
            "max_unpacked": max_unpacked, "max_ratio": max_ratio, "ratio_floor": ratio_floor,
            "max_seconds": max_seconds, "start": start,
        })
        if tape is None:
            return out
        try:
            _read_members(tape, builder, out, max_members, counting)
        finally:
            out.unpacked = tape.unpacked
        builder.finish()
    except _Capped as exc:
        out.complete = False
        out.note = f"layer listing stopped: {exc}"
    except _Unreadable as exc:
        out.complete = False
        out.note = f"layer is not a readable tar ({exc})"
    except (EOFError, OSError, ValueError, zlib.error) as exc:
        out.complete = False
        out.note = f"layer is not a readable tar ({_why(exc)})"
    except Exception as exc:
        if type(exc).__name__ != "ZstdError":
            raise
        out.complete = False
        out.note = f"layer is not a readable tar (zstd: {_why(exc)})"
    return out


def _why(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


def _read_members(tape: _Tape, builder: _Builder, out: LayerListing, max_members: int,
                  counting: _Counting) -> None:
    headers = 0
    long_name: Optional[bytes] = None
    long_link: Optional[bytes] = None
    pax: dict = {}
    unpack = _HEADER.unpack
    member = builder.member
    while True:
        block = tape.read(_BLOCK, short=headers == 0)
        if block is None:
            if headers == 0 and counting.count == 0:
                return  # an empty blob: an empty layer
            if headers == 0:
                raise _Unreadable("no tar data")
            raise _Unreadable("truncated: no end-of-archive blocks")
        if block == _ZERO_BLOCK:
            return
        if len(block) < _BLOCK:
            raise _Unreadable("no tar header at the start")
        headers += 1
        if headers > 2 * max_members:
            raise _Capped(f"more than {2 * max_members} tar headers")
        if headers & 1023 == 0:
            tape.check_time()
        (name, mode_field, _uid, _gid, size_field, _mtime, checksum, kind, linkname, magic,
         _uname, _gname, _major, _minor, prefix) = unpack(block)
        if not _checksum_ok(block, checksum):
            if headers == 1:
                raise _Unreadable("no tar header at the start")
            raise _Unreadable(f"corrupt tar header after member {out.members}")
        size = _number(size_field, "size")
        if kind in _EXTENDED:
            if size > MAX_EXTENDED:
                raise _Capped(f"an extended tar header of {size} bytes (more than {MAX_EXTENDED})")
            data = tape.read(size) if size else b""
            if data is None:
                raise _Unreadable("truncated: the data ends inside an extended header")
            tape.skip(_padded(size) - size)
            if kind == _GNU_LONGNAME:
                long_name = _cstring(data)
            elif kind == _GNU_LONGLINK:
                long_link = _cstring(data)
            elif kind != _PAX_GLOBAL:  # global headers are ignored, as Docker does
                pax = _pax_records(data)
            continue
        if kind == _GNU_SPARSE and block[482]:
            while True:  # old GNU sparse maps continued in extension blocks
                extension = tape.read(_BLOCK)
                if extension is None:
                    raise _Unreadable("truncated: the data ends inside a sparse map")
                headers += 1
                if not extension[504]:
                    break
        out.members += 1
        if out.members > max_members:
            raise _Capped(f"more than {max_members} members")
        if pax:
            raw_name = pax.get(b"GNU.sparse.name") or pax.get(b"path")
            raw_link = pax.get(b"linkpath")
            if b"size" in pax:
                value = pax[b"size"]
                if not value.isdigit() or len(value) > 20:
                    raise _Unreadable("invalid PAX size")
                size = int(value)
            pax = {}
        else:
            raw_name = raw_link = None
        if raw_name is None:
            if long_name is not None:
                raw_name = long_name
            else:
                raw_name = name.split(b"\0", 1)[0]
                if magic == _USTAR and prefix[0]:
                    raw_name = prefix.split(b"\0", 1)[0] + b"/" + raw_name
        if raw_link is None:
            raw_link = long_link if long_link is not None else linkname.split(b"\0", 1)[0]
        long_name = long_link = None
        if kind in _HEADER_ONLY:
            size = 0
        elif size > tape.max_unpacked:
            raise _Capped(f"a member of {size} bytes (more than {tape.max_unpacked} once decompressed)")
        if len(raw_name) > MAX_NAME or len(raw_link) > MAX_NAME:
            raise _Capped(f"a name of {max(len(raw_name), len(raw_link))} bytes (more than {MAX_NAME})")
        if b"\0" in raw_name or b"\0" in raw_link:
            raise _Unreadable("a name with a NUL byte")
        member(raw_name.decode("utf-8", "surrogateescape"), kind, _number(mode_field, "mode"),
               raw_link.decode("utf-8", "surrogateescape") if raw_link else "")
        if size:
            tape.skip(_padded(size))


# -- applying listings -----------------------------------------------------------------------------


def _under(path: str, directory: str) -> bool:
    directory = directory.rstrip("/") or "/"
    return directory == "/" or path == directory or path.startswith(directory + "/")


def _remove(paths: Iterable[str], listing: LayerListing) -> list:
    """Which of ``paths`` (a lower layers' view) ``listing`` removes: whiteouts, opaque
    directories, and entries of its own that replace them."""
    removed = []
    for p in paths:
        if p in listing.added:
            continue  # replaced by an executable of the layer: not removed
        if any(p != d and _under(p, d) for d in listing.opaque) or any(_under(p, t) for t in listing.deleted):
            removed.append(p)
        elif listing.hides(p):
            removed.append(p)
    return removed


def apply_listing(files: dict, listing: LayerListing, index: int) -> list[str]:
    """Apply one layer on top of ``files`` (path -> layer index) in place; returns the paths
    of executables the layer removed (by whiteouts, or by putting something else there)."""
    removed = _remove(list(files), listing)
    for p in removed:
        files.pop(p)
    for p in listing.added:
        files[p] = index
    return removed


class Overlay:
    """Listings applied one by one (lowest first), with their symlinks tracked across layers.

    :func:`apply_listing` sees paths only; this also knows which paths are symlinks, so
    ``executables()`` can drop a symlink whose target (followed through every symlink) is
    not an executable of the result, and make a directory's executables reachable under the
    path of a symlink to it (``/bin -> usr/bin``), whichever layers they came from."""

    def __init__(self, files: Optional[dict] = None):
        self.files: dict = dict(files or {})  # path -> layer index (None: from below the layers)
        self.links: dict = {}  # symlink -> (target, layer index): in ``files``, or to a directory

    def apply(self, listing: LayerListing, index: int) -> list[str]:
        """Apply one layer; returns the executables it removed."""
        for p in _remove(list(self.links), listing):
            self.links.pop(p)
        removed = apply_listing(self.files, listing, index)
        for p in removed:
            self.links.pop(p, None)
        for p in listing.added:
            if p not in listing.links:
                self.links.pop(p, None)
        for link, target in listing.links.items():
            self.links[link] = (target, index)
        return removed

    def executables(self) -> dict:
        """path -> index of the layer that made it reachable."""
        files = dict(self.files)
        targets = {link: target for link, (target, _) in self.links.items()}
        for link in [p for p in files if p in self.links]:
            resolved = resolve_path(self.links[link][0], targets)
            if resolved is None or resolved not in files or resolved in self.links:
                files.pop(link)
        by_directory: dict = {}
        for link, (target, i) in self.links.items():
            if link not in self.files:
                resolved = resolve_path(target, targets)
                if resolved is not None and resolved not in files:
                    by_directory.setdefault(resolved, []).append((link, i))
        for path, index in list(files.items()):
            parent = path.rpartition("/")[0]
            while parent:
                for link, i in by_directory.get(parent, ()):
                    if not _under(link, parent):  # /usr/bin/X11 -> . adds nothing new
                        files.setdefault(link + path[len(parent):], i if index is None else max(index, i))
                parent = parent.rpartition("/")[0]
        return files


def merge(listings: list) -> dict:
    """Executables of the filesystem the layers make (lowest first): path -> layer index."""
    overlay = Overlay()
    for i, listing in enumerate(listings):
        overlay.apply(listing, i)
    return overlay.executables()


# -- an image read from a registry ---------------------------------------------------------------


@dataclass
class RegistryLayer:
    """A layer of an image read from a registry or engine, with its listing when read."""

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

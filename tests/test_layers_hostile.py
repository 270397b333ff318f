"""Layer listings: zstd, overlay semantics, and hostile layer blobs.

The layers are built here: small ones with ``tarfile``, hostile and huge ones from raw
512-byte headers, generated while they are read (a 10 GiB gzip bomb or a million members
never exist whole in memory or on disk). The last tests serve hostile blobs from a registry
on 127.0.0.1 (pytest-httpserver), digests matching, and run ``analyze`` against it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import time
import tracemalloc
import zlib
from pathlib import Path

import pytest
import zstandard
from conftest import skip_unless_ci

from analyzer.inventory import State, Walker, lookup
from analyzer.lineage.layers import (
    MAX_MEMBERS,
    LayerListing,
    RegistryImage,
    RegistryLayer,
    apply_listing,
    list_layer,
    merge,
    resolve_path,
)
from analyzer.lineage.resolve import ImageDef

ROOT = Path(__file__).resolve().parent.parent
MiB = 1 << 20
GiB = 1 << 30


# ------------------------------------------------------------------------------ building layers


def tar_bytes(entries: list) -> bytes:
    """entries: (name, kind, mode[, target]); kind: file dir symlink link chr blk fifo."""
    buf = io.BytesIO()
    types = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "link": tarfile.LNKTYPE,
             "chr": tarfile.CHRTYPE, "blk": tarfile.BLKTYPE, "fifo": tarfile.FIFOTYPE}
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in entries:
            name, kind, mode = entry[:3]
            info = tarfile.TarInfo(name)
            info.mode = mode
            data = b"#!/bin/sh\n" if kind == "file" else b""
            info.size = len(data)
            if kind != "file":
                info.type = types[kind]
            if kind in ("symlink", "link"):
                info.linkname = entry[3]
            tar.addfile(info, io.BytesIO(data) if data else None)
    return buf.getvalue()


def listing(entries: list, compress=None) -> LayerListing:
    raw = tar_bytes(entries)
    if compress == "gzip":
        raw = gzip.compress(raw)
    elif compress == "zstd":
        raw = zstandard.ZstdCompressor().compress(raw)
    out = list_layer(io.BytesIO(raw))
    assert out.complete, out.note
    return out


def header(name: bytes, *, size: int = 0, kind: bytes = b"0", mode: int = 0o644, linkname: bytes = b"") -> bytes:
    """One ustar header, written by hand (``tarfile`` refuses to write the hostile ones)."""
    h = bytearray(512)
    h[0:len(name)] = name
    h[100:108] = b"%07o\0" % mode
    h[108:124] = b"0000000\0" * 2
    h[124:136] = b"%011o\0" % size if size < 8 ** 11 else bytes([0x80]) + size.to_bytes(11, "big")
    h[136:148] = b"00000000000\0"
    h[156:157] = kind
    h[157:157 + len(linkname)] = linkname
    h[257:265] = b"ustar\x0000"
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def padded(data: bytes) -> bytes:
    return data + bytes(-len(data) % 512)


def pax(records: dict) -> bytes:
    body = b""
    for key, value in records.items():
        record = b" " + key + b"=" + value + b"\n"
        n = len(record) + 1
        while len(str(n).encode()) + len(record) != n:
            n += 1
        body += str(n).encode() + record
    return header(b"././@PaxHeader", size=len(body), kind=b"x") + padded(body)


END = bytes(1024)


class Stream(io.RawIOBase):
    """A read-once blob fed by an iterator of chunks; counts what was read."""

    def __init__(self, chunks):
        super().__init__()
        self._chunks = iter(chunks)
        self._buf = memoryview(b"")
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not len(self._buf):
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._buf = memoryview(chunk)
        n = min(len(buffer), len(self._buf))
        buffer[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        self.count += n
        return n


def gzip_bomb(total: int = 10 * GiB):
    """A tar holding one file of zeros, ``total`` bytes of tar in all, as gzip members of
    1 MiB each (about 1 KiB compressed): about 10 MiB for 10 GiB."""
    zeros = gzip.compress(bytes(MiB), 9, mtime=0)
    yield gzip.compress(header(b"bomb", size=total - MiB) + bytes(MiB - 512), 9, mtime=0)
    for _ in range(total // MiB - 1):
        yield zeros


def zstd_bomb(total: int = 10 * GiB):
    cctx = zstandard.ZstdCompressor(level=19)
    zeros = cctx.compress(bytes(MiB))
    yield cctx.compress(header(b"bomb", size=total - MiB) + bytes(MiB - 512))
    for _ in range(total // MiB - 1):
        yield zeros


def many_members(count: int, mode: int = 0o644):
    """A gzip tar of ``count`` empty files in directories of a thousand, made as it is read."""
    comp = zlib.compressobj(1, zlib.DEFLATED, 31)
    template = bytearray(header(b"", mode=mode))
    template[148:156] = b" " * 8
    base, middle, tail = sum(template), bytes(template[100:148]), bytes(template[156:])
    batch = []
    for i in range(count):
        name = b"usr/share/m/%04d/f%07d" % (i // 1000, i)
        batch.append(name.ljust(100, b"\0") + middle + b"%06o\0 " % (base + sum(name)) + tail)
        if len(batch) == 2048:
            yield comp.compress(b"".join(batch))
            batch = []
    yield comp.compress(b"".join(batch) + END) + comp.flush()


def peak_of(fn):
    """(result, seconds, tracemalloc peak in bytes) of fn()."""
    tracemalloc.start()
    start = time.monotonic()
    try:
        result = fn()
        return result, time.monotonic() - start, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


BASE = [
    ("bin", "dir", 0o755),
    ("bin/busybox", "file", 0o755),
    ("bin/ls", "symlink", 0o777, "busybox"),
    ("usr/bin/tool", "file", 0o755),
    ("usr/bin/other", "file", 0o755),
    ("opt/app/bin/run", "file", 0o755),
    ("usr/local/bin/a", "file", 0o755),
    ("usr/local/bin/b", "file", 0o755),
    ("usr/local/lib/x", "file", 0o755),
]


# ------------------------------------------------------------------------------ compression


@pytest.mark.parametrize("compress", [None, "gzip", "zstd"])
def test_each_compression_lists_the_same(compress):
    out = listing(BASE, compress)
    assert out.compression == (compress or "tar")
    assert set(out.added) == {"/bin/busybox", "/bin/ls", "/usr/bin/tool", "/usr/bin/other",
                              "/opt/app/bin/run", "/usr/local/bin/a", "/usr/local/bin/b", "/usr/local/lib/x"}
    assert out.members == len(BASE)


def test_zstd_frames_and_gzip_members_are_read_across():
    raw = tar_bytes(BASE)
    half = len(raw) // 2
    frames = zstandard.ZstdCompressor().compress(raw[:half]) + zstandard.ZstdCompressor().compress(raw[half:])
    members = gzip.compress(raw[:half]) + gzip.compress(raw[half:])
    assert list_layer(io.BytesIO(frames)).added == listing(BASE).added
    assert list_layer(io.BytesIO(members)).added == listing(BASE).added


def test_zstd_is_streamed_with_bounded_memory():
    # 64 MiB of tar (one big random file), compressed; listing keeps well under that
    comp = zstandard.ZstdCompressor(level=1).compressobj()
    rnd = os.urandom(MiB)

    def chunks():
        yield comp.compress(header(b"usr/bin/big", size=64 * MiB, mode=0o755))
        for _ in range(64):
            yield comp.compress(rnd)
        yield comp.compress(header(b"usr/bin/after", mode=0o755) + END) + comp.flush()

    out, _, peak = peak_of(lambda: list_layer(Stream(chunks())))
    assert out.complete and set(out.added) == {"/usr/bin/big", "/usr/bin/after"}
    assert out.unpacked >= 64 * MiB + 1024
    assert peak < 8 * MiB, peak


def test_zstd_without_the_module_is_a_note(monkeypatch):
    monkeypatch.setitem(sys.modules, "zstandard", None)  # import fails as if not installed
    out = list_layer(io.BytesIO(zstandard.ZstdCompressor().compress(tar_bytes(BASE))))
    assert not out.complete and out.note == "zstd layer not supported (the zstandard module is not installed)"


def test_truncated_zstd_is_not_taken_for_an_empty_layer():
    raw = zstandard.ZstdCompressor().compress(os.urandom(200_000) + tar_bytes(BASE))
    for cut in (10, len(raw) // 2, len(raw) - 3):
        out = list_layer(io.BytesIO(raw[:cut]))
        assert not out.complete and out.note.startswith("layer is not a readable tar"), (cut, out.note)


def test_zstd_frame_asking_for_a_huge_window_is_refused():
    # a 1 GiB window would be 1 GiB of decoder memory: refused before anything is decoded
    params = zstandard.ZstdCompressionParameters.from_level(19, window_log=30, write_content_size=False)
    buf = io.BytesIO()
    with zstandard.ZstdCompressor(compression_params=params).stream_writer(buf, closefd=False) as writer:
        writer.write(tar_bytes(BASE))
    out, _, peak = peak_of(lambda: list_layer(io.BytesIO(buf.getvalue())))
    assert not out.complete and out.note.startswith("layer is not a readable tar (zstd: ") and "memory" in out.note
    assert peak < 8 * MiB


def test_corrupt_zstd_and_other_compressions_are_notes():
    raw = bytearray(zstandard.ZstdCompressor().compress(tar_bytes(BASE) * 3))
    raw[len(raw) // 2] ^= 0xFF
    out = list_layer(io.BytesIO(bytes(raw)))
    assert not out.complete and "not a readable tar" in out.note
    import bz2
    import lzma

    for data, word in ((lzma.compress(tar_bytes(BASE)), "xz"), (bz2.compress(tar_bytes(BASE)), "bzip2")):
        out = list_layer(io.BytesIO(data))
        assert not out.complete and word in out.note


# ------------------------------------------------------------------------------ overlay semantics


def test_a_non_executable_directory_or_device_replaces_a_lower_executable():
    lower = listing(BASE)
    upper = listing([
        ("usr/bin/tool", "file", 0o644),  # chmod -x
        ("usr/bin/other", "dir", 0o755),  # a directory now
        ("bin/busybox", "chr", 0o755),  # a device, whatever its mode
    ])
    merged = merge([lower, upper])
    assert "/usr/bin/tool" not in merged and "/usr/bin/other" not in merged and "/bin/busybox" not in merged
    files = {p: 0 for p in merge([lower])}
    removed = apply_listing(files, upper, 1)
    assert set(removed) == {"/usr/bin/tool", "/usr/bin/other", "/bin/busybox"}
    # /bin/ls pointed at busybox: apply_listing keeps it (it cannot see links), merge does not
    assert "/bin/ls" in files and "/bin/ls" not in merged


def test_a_file_or_symlink_in_place_of_a_directory_removes_its_subtree():
    lower = listing(BASE)
    as_file = listing([("opt/app", "file", 0o644)])
    as_link = listing([("opt/app", "symlink", 0o777, "/srv/app")])
    for upper in (as_file, as_link):
        merged = merge([lower, upper])
        assert "/opt/app/bin/run" not in merged and "/usr/bin/tool" in merged


def test_a_directory_implied_by_a_deeper_member_replaces_a_lower_file():
    lower = listing(BASE)
    raw = header(b"usr/bin/tool/x", mode=0o755) + END  # no entry for usr/bin/tool itself
    upper = list_layer(io.BytesIO(raw))
    assert upper.complete
    merged = merge([lower, upper])
    assert "/usr/bin/tool" not in merged and merged["/usr/bin/tool/x"] == 1


def test_whiteouts_and_opaque_directories():
    lower = listing(BASE)
    upper = listing([
        ("usr/bin/.wh.tool", "file", 0o644),
        ("usr/local/bin/.wh..wh..opq", "file", 0o644),
        ("usr/local/bin/c", "file", 0o755),
        (".wh.opt", "file", 0o644),
    ])
    merged = merge([lower, upper])
    assert "/usr/bin/tool" not in merged and "/opt/app/bin/run" not in merged
    assert "/usr/local/bin/a" not in merged and "/usr/local/bin/b" not in merged
    assert merged["/usr/local/bin/c"] == 1 and merged["/usr/local/lib/x"] == 0 and merged["/usr/bin/other"] == 0
    # whiteouts and aufs bookkeeping are not entries of their own
    assert not upper.added.keys() - {"/usr/local/bin/c"}
    aufs = listing([(".wh..wh.plnk/1.2", "file", 0o755), (".wh..wh.aufs", "file", 0o644)])
    assert aufs.added == {} and aufs.deleted == [] and aufs.opaque == []


def test_the_last_entry_for_a_path_in_one_layer_wins():
    out = listing([("usr/bin/t", "file", 0o755), ("usr/bin/t", "file", 0o644), ("usr/bin/u", "file", 0o644), ("usr/bin/u", "file", 0o755)])
    assert set(out.added) == {"/usr/bin/u"}
    lower = listing([("usr/bin/t", "file", 0o755), ("usr/bin/u", "file", 0o755)])
    assert merge([lower, out]) == {"/usr/bin/u": 1}


def test_symlinks_count_by_their_target_not_their_mode():
    out = listing([
        ("usr/bin/python3.12", "file", 0o755),
        ("usr/bin/python3", "symlink", 0o644, "python3.12"),  # mode means nothing for a symlink
        ("usr/bin/py", "symlink", 0o777, "/usr/bin/python3"),  # a chain
        ("usr/share/doc/readme", "file", 0o644),
        ("usr/bin/readme", "symlink", 0o777, "../share/doc/readme"),  # to a non-executable
        ("usr/bin/loop1", "symlink", 0o777, "loop2"),
        ("usr/bin/loop2", "symlink", 0o777, "loop1"),
        ("usr/bin/elsewhere", "symlink", 0o777, "/opt/base/bin/tool"),  # not in this layer
        ("usr/bin/dangling", "symlink", 0o777, "/nowhere/x"),
    ])
    assert out.added == {
        "/usr/bin/python3.12": "file", "/usr/bin/python3": "symlink", "/usr/bin/py": "symlink",
        "/usr/bin/elsewhere": "symlink", "/usr/bin/dangling": "symlink",
    }
    assert out.links["/usr/bin/py"] == "/usr/bin/python3.12"  # followed to the end
    lower = listing([("opt/base/bin/tool", "file", 0o755)])
    merged = merge([lower, out])
    # settled across layers: the link into the lower layer stays, the dangling one goes
    assert "/usr/bin/elsewhere" in merged and "/usr/bin/dangling" not in merged
    assert "/usr/bin/py" in merged and "/usr/bin/readme" not in merged
    # a later layer taking the target away takes the links with it
    gone = listing([("usr/bin/python3.12", "file", 0o644)])
    assert not {"/usr/bin/python3", "/usr/bin/py"} & set(merge([lower, out, gone]))


def test_hardlinks_count_by_their_target():
    out = listing([
        ("usr/bin/real", "file", 0o755),
        ("usr/bin/alias", "link", 0o644, "usr/bin/real"),  # same inode as an executable
        ("etc/conf", "file", 0o644),
        ("usr/bin/conf", "link", 0o755, "etc/conf"),  # same inode as a non-executable
        ("usr/bin/outside", "link", 0o755, "../../../../etc/shadow"),  # not in the layer
        ("usr/bin/l", "symlink", 0o777, "real"),
        ("usr/bin/l2", "link", 0o777, "usr/bin/l"),  # a hard link to a symlink
    ])
    assert out.added == {"/usr/bin/real": "file", "/usr/bin/alias": "hardlink", "/usr/bin/l": "symlink", "/usr/bin/l2": "symlink"}
    lower = listing([("usr/bin/outside", "file", 0o755), ("usr/bin/conf", "file", 0o755)])
    merged = merge([lower, out])
    assert "/usr/bin/outside" not in merged and "/usr/bin/conf" not in merged


def test_merged_usr_symlinks_reach_the_executables():
    rootfs = listing([
        ("bin", "symlink", 0o777, "usr/bin"),
        ("sbin", "symlink", 0o777, "usr/sbin"),
        ("usr/bin/dash", "file", 0o755),
        ("usr/bin/sh", "symlink", 0o777, "dash"),
        ("usr/sbin/useradd", "file", 0o755),
        ("usr/bin/X11", "symlink", 0o777, "."),  # Debian's, adds nothing
    ])
    assert {"/bin/sh", "/bin/dash", "/sbin/useradd"} <= set(rootfs.added)
    assert not any(p.startswith("/usr/bin/X11") for p in rootfs.added)
    assert "/bin" not in rootfs.added  # a link to a directory is not an executable
    assert resolve_path("/bin/sh", rootfs.links) == "/usr/bin/dash"
    # a later layer's executable shows up under the link too (merge; the walk needs the lead's hook)
    later = listing([("usr/bin/newtool", "file", 0o755)])
    merged = merge([rootfs, later])
    assert merged["/bin/newtool"] == 1 and merged["/bin/sh"] == 0


def _image(listings: list) -> ImageDef:
    layers = [RegistryLayer(i, "sha256:" + f"{i:x}" * 64, f"RUN step {i}", lst) for i, lst in enumerate(listings)]
    image = RegistryImage("reg.example:5000", "team/app", "sha256:" + "c" * 64,
                          {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"]}, [], layers)
    return ImageDef("reg.example:5000/team/app:1", "registry", "registry:reg.example:5000/team/app@sha256:" + "c" * 64, None, registry=image)


def test_the_walk_sees_replaced_executables_and_merged_usr():
    rootfs = listing([("usr/bin/bash", "file", 0o755), ("usr/bin/tool", "file", 0o755)])
    upper = listing([("usr/bin/tool", "file", 0o644)])
    st = Walker().apply_image(State(), _image([rootfs, upper]))
    assert st.unknown_all is None and lookup(st, "bash").status == "available"
    tool = lookup(st, "tool")
    assert tool.status == "missing" and tool.removed_by is not None and "layer 1" in tool.removed_by.via
    merged_usr = listing([("bin", "symlink", 0o777, "usr/bin"), ("usr/bin/bash", "file", 0o755)])
    st = Walker().apply_image(State(), _image([merged_usr]))
    assert lookup(st, "/bin/bash").status == "available"  # was a false "missing" before


def test_an_alias_through_a_directory_link_goes_with_its_target():
    rootfs = listing([("bin", "symlink", 0o777, "usr/bin"), ("usr/bin/tool", "file", 0o755), ("usr/bin/keep", "file", 0o755)])
    assert rootfs.added["/bin/tool"] == "symlink"
    upper = listing([("usr/bin/.wh.tool", "file", 0o644)])
    assert set(merge([rootfs, upper])) == {"/usr/bin/keep", "/bin/keep"}


def test_listing_cache_format_round_trip_and_old_format_refused():
    out = listing(BASE + [("usr/bin/t", "file", 0o644), ("bin/l", "symlink", 0o777, "/opt/x")])
    again = LayerListing.from_json(json.loads(json.dumps(out.as_json())))
    assert again == out and again.hides("/usr/bin/t") and not again.hides("/usr/bin/zzz")
    with pytest.raises(ValueError):
        LayerListing.from_json({"added": {}, "complete": True})  # stored by the previous version


# ------------------------------------------------------------------------------ hostile layers


def test_gzip_bomb_is_cut_by_the_ratio_cap_in_bounded_memory():
    blob = Stream(gzip_bomb())
    out, seconds, peak = peak_of(lambda: list_layer(blob))
    assert not out.complete
    assert out.note.startswith("layer listing stopped: ") and "decompression bomb" in out.note, out.note
    assert out.unpacked < 300 * MiB and blob.count < 2 * MiB  # stopped early: 1/40 of 10 GiB
    assert peak < 8 * MiB, peak
    assert seconds < 30


def test_zstd_bomb_is_cut_too():
    blob = Stream(zstd_bomb())
    out, _, peak = peak_of(lambda: list_layer(blob))
    assert not out.complete and "decompression bomb" in out.note, out.note
    assert peak < 8 * MiB, peak


def test_bomb_without_ratio_cap_meets_the_byte_cap_or_the_time_cap():
    # one member larger than the cap: refused from its header
    out = list_layer(Stream(gzip_bomb()), max_ratio=0, max_unpacked=64 * MiB)
    assert not out.complete and out.note == (
        f"layer listing stopped: a member of {10 * GiB - MiB} bytes (more than {64 * MiB} once decompressed)")
    assert out.unpacked <= MiB

    def members_of_zeros():  # many members, each under the cap, together over it
        zeros = gzip.compress(bytes(MiB - 512), 9, mtime=0)
        for i in range(1024):
            yield gzip.compress(header(b"z/%d" % i, size=MiB - 512), 9, mtime=0) + zeros

    out = list_layer(Stream(members_of_zeros()), max_ratio=0, max_unpacked=64 * MiB)
    assert not out.complete and out.note == f"layer listing stopped: more than {64 * MiB} bytes once decompressed"
    assert 60 <= out.members <= 66
    start = time.monotonic()
    out = list_layer(Stream(gzip_bomb()), max_ratio=0, max_seconds=0.5)
    assert not out.complete and out.note == "layer listing stopped: listing took more than 0.5 s"
    assert time.monotonic() - start < 5
    out = list_layer(Stream(gzip_bomb()), max_bytes=64 * 1024)
    assert not out.complete and "compressed bytes" in out.note


def test_path_traversal_names_are_cleaned_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    passwd = Path("/etc/passwd").stat()
    raw = b"".join([
        header(b"../../etc/passwd", mode=0o755, size=4) + padded(b"x\n\n\n"),
        header(b"/usr/bin/abs", mode=0o755),
        header(b"./usr/bin/../../x", mode=0o755),
        header(b"usr/bin/escape", kind=b"1", linkname=b"../../../../usr/bin/abs"),
        header(b"usr/bin/up", kind=b"2", linkname=b"../../../../../../usr/bin/abs"),
        header(b"../../../tmp/evil-dir", kind=b"5", mode=0o755),
    ]) + END
    out = list_layer(io.BytesIO(raw))
    assert out.complete, out.note
    assert out.added == {"/etc/passwd": "file", "/usr/bin/abs": "file", "/x": "file",
                         "/usr/bin/escape": "hardlink", "/usr/bin/up": "symlink"}
    assert out.links["/usr/bin/up"] == "/usr/bin/abs"
    assert list(tmp_path.iterdir()) == []
    assert Path("/etc/passwd").stat().st_mtime == passwd.st_mtime and not Path("/tmp/evil-dir").exists()


def test_devices_and_fifos_are_never_executables():
    raw = b"".join([
        header(b"usr/bin/chr", kind=b"3", mode=0o777),
        header(b"usr/bin/blk", kind=b"4", mode=0o777),
        header(b"usr/bin/fifo", kind=b"6", mode=0o777, size=10 * GiB),  # size ignored, as Go's reader does
        header(b"usr/bin/weird", kind=b"Z", mode=0o777),  # an unknown type
        header(b"usr/bin/ok", mode=0o755),
    ]) + END
    out = list_layer(io.BytesIO(raw))
    assert out.complete and out.added == {"/usr/bin/ok": "file"}
    lower = list_layer(io.BytesIO(b"".join(header(b"usr/bin/" + n, mode=0o755) for n in (b"chr", b"blk", b"fifo", b"weird")) + END))
    assert merge([lower, out]) == {"/usr/bin/ok": 1}


def test_a_million_members_stop_at_the_member_cap_in_bounded_memory_and_time():
    # in a child process, so that its peak RSS (VmHWM: this process image's own, unlike
    # ru_maxrss, which keeps the parent's across exec) is the listing's and the imports'
    code = (
        "import json, re, sys, time\n"
        "sys.path.insert(0, 'tests')\n"
        "from test_layers_hostile import Stream, many_members\n"
        "from analyzer.lineage.layers import list_layer\n"
        "def hwm():\n"
        "    return int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
        "before = hwm()\n"
        "start = time.monotonic()\n"
        "blob = Stream(many_members(1_000_000))\n"
        "out = list_layer(blob)\n"
        "print(json.dumps({'note': out.note, 'complete': out.complete, 'members': out.members,"
        " 'seconds': time.monotonic() - start, 'compressed': blob.count,"
        " 'hwm_before_kib': before, 'hwm_kib': hwm()}))\n"
    )
    if not Path("/proc/self/status").is_file():
        skip_unless_ci("needs /proc/self/status (Linux)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    print(f"million members: {result}")
    assert not result["complete"] and result["note"] == f"layer listing stopped: more than {MAX_MEMBERS} members"
    assert result["members"] == MAX_MEMBERS + 1
    # peak RSS of the whole child, interpreter and imports included; a listing that kept its
    # members (as tarfile does) would need hundreds of MiB more
    assert result["hwm_kib"] - result["hwm_before_kib"] < 32 * 1024, result
    assert result["hwm_kib"] < 128 * 1024, result
    assert result["seconds"] < 120, result


def test_many_executables_meet_their_cap():
    out = list_layer(Stream(many_members(5000, mode=0o755)), max_executables=1000)
    assert not out.complete and out.note == "layer listing stopped: more than 1000 executables"


def test_truncated_and_corrupt_layers_are_notes():
    good = tar_bytes(BASE + [("usr/share/big", "file", 0o644)])
    body = header(b"usr/bin/big", size=100_000, mode=0o755) + os.urandom(100_000)
    cases = {
        "inside a member": body[:50_000],
        "inside a header": tar_bytes(BASE)[:512 + 100],
        "no end blocks": header(b"usr/bin/a", mode=0o755),
        "gzip cut": gzip.compress(good)[:-20],
    }
    for what, raw in cases.items():
        out = list_layer(io.BytesIO(raw))
        assert not out.complete and out.note.startswith("layer is not a readable tar (truncated"), (what, out.note)
    flipped = bytearray(gzip.compress(good + os.urandom(50_000)))
    flipped[len(flipped) // 2] ^= 0x55
    out = list_layer(io.BytesIO(bytes(flipped)))
    assert not out.complete and "not a readable tar" in out.note
    bad_header = bytearray(tar_bytes(BASE))
    bad_header[512 + 0] ^= 0x01  # the second member's name: its checksum no longer matches
    out = list_layer(io.BytesIO(bytes(bad_header)))
    assert not out.complete and out.note == "layer is not a readable tar (corrupt tar header after member 1)"


def test_blobs_that_are_not_tars():
    for raw in (b'{"schemaVersion": 2}', b"<html><body>502 Bad Gateway</body></html>" * 20, os.urandom(4096),
                gzip.compress(b"just text\n" * 100), zstandard.ZstdCompressor().compress(b"just text\n" * 100)):
        out = list_layer(io.BytesIO(raw))
        assert not out.complete and out.note == "layer is not a readable tar (no tar header at the start)", raw[:20]
    assert list_layer(io.BytesIO(gzip.compress(b""))).note == "layer is not a readable tar (no tar data)"
    empty = list_layer(io.BytesIO(b""))
    assert empty.complete and empty.added == {}


def test_pax_and_gnu_headers_with_huge_values():
    ok = pax({b"path": b"usr/bin/" + b"n" * 300, b"size": b"3"}) + header(b"short", mode=0o755, size=0) + padded(b"abc")
    out = list_layer(io.BytesIO(ok + END))
    assert out.complete and list(out.added) == ["/usr/bin/" + "n" * 300]
    cases = {
        "a PAX header claiming 8 GiB": (header(b"././@PaxHeader", size=8 * GiB, kind=b"x"),
                                        f"layer listing stopped: an extended tar header of {8 * GiB} bytes"),
        "a GNU long name claiming 1 TiB": (header(b"././@LongLink", size=1 << 40, kind=b"L"),
                                           f"layer listing stopped: an extended tar header of {1 << 40} bytes"),
        "a 500 KiB PAX path": (pax({b"path": b"a/" * 256_000}) + header(b"x"),
                               "layer listing stopped: a name of 512000 bytes"),
        "a PAX size of 10^19": (pax({b"size": b"9" * 19}) + header(b"x"),
                                "layer listing stopped: a member of 9999999999999999999 bytes"),
        "a PAX size that is no number": (pax({b"size": b"-1"}) + header(b"x"), "layer is not a readable tar (invalid PAX size)"),
        "a PAX record longer than its header": (header(b"p", size=20, kind=b"x") + padded(b"99999 path=abc\n"),
                                                "layer is not a readable tar (malformed PAX record"),
        "a NUL in a PAX path": (pax({b"path": b"usr/bin/a\0b"}) + header(b"x"), "layer is not a readable tar (a name with a NUL byte)"),
    }
    for what, (raw, note) in cases.items():
        out, _, peak = peak_of(lambda: list_layer(Stream([raw, END])))
        assert not out.complete and out.note.startswith(note), (what, out.note)
        assert peak < 8 * MiB, (what, peak)


# ------------------------------------------------------------------------------ through the registry


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def hostile_registry():
    """A registry on 127.0.0.1 serving images whose layers are hostile (digests right)."""
    from pytest_httpserver import HTTPServer
    from werkzeug import Response

    httpserver = HTTPServer(host="127.0.0.1", port=0)
    httpserver.start()

    blobs: dict = {}  # digest -> (size, chunk factory)
    manifests: dict = {}
    tags: dict = {}

    def add_blob(factory) -> tuple:
        h, size = hashlib.sha256(), 0
        for chunk in factory():
            h.update(chunk)
            size += len(chunk)
        digest = "sha256:" + h.hexdigest()
        blobs[digest] = (size, factory)
        return digest, size

    def add_image(tag: str, layers: list, media_type: str = "application/vnd.oci.image.layer.v1.tar+gzip") -> None:
        config = json.dumps({"architecture": "amd64", "os": "linux",
                             "config": {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"]},
                             "history": [{"created_by": f"RUN layer {i}"} for i in range(len(layers))]}).encode()
        config_digest, _ = add_blob(lambda: [config])
        descriptors = []
        for factory in layers:
            digest, size = add_blob(factory)
            descriptors.append({"mediaType": media_type, "digest": digest, "size": size})
        body = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": len(config)},
                           "layers": descriptors}).encode()
        manifests[_sha(body)] = body
        tags[tag] = _sha(body)

    def handle(request):
        match = re.fullmatch(r"/v2/hostile/app/(manifests|blobs)/(.+)", request.path)
        if request.path == "/v2/":
            return Response("{}", content_type="application/json")
        if not match:
            return Response("", status=404)
        kind, ref = match.groups()
        if kind == "manifests":
            digest = tags.get(ref, ref)
            if digest not in manifests:
                return Response("", status=404)
            body = manifests[digest]
            headers = {"Docker-Content-Digest": digest, "Content-Type": "application/vnd.oci.image.manifest.v1+json"}
            if request.method == "HEAD":
                return Response(b"", headers={**headers, "Content-Length": str(len(body))})
            return Response(body, headers=headers)
        if ref not in blobs:
            return Response("", status=404)
        size, factory = blobs[ref]
        return Response(factory(), headers={"Content-Length": str(size)}, content_type="application/octet-stream", direct_passthrough=True)

    httpserver.expect_request(re.compile("/v2/.*")).respond_with_handler(handle)

    class Handle:
        host = f"127.0.0.1:{httpserver.port}"

    Handle.add_image = staticmethod(add_image)
    yield Handle
    httpserver.clear()
    httpserver.stop()


def analyze(*args):
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "GITHUB_ACTIONS", "ANALYZE_LAYERS")}
    proc = subprocess.run([sys.executable, "-m", "analyzer", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=180)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_hostile_layers_served_by_a_registry_leave_the_lineage_unknown(hostile_registry, tmp_path):
    good = tar_bytes([("usr/bin/tool", "file", 0o755)])
    packed = gzip.compress(good, mtime=0)
    hostile_registry.add_image("bomb", [lambda: [packed], gzip_bomb])
    hostile_registry.add_image("truncated", [lambda: [packed[:-30]]])
    hostile_registry.add_image("html", [lambda: [b"<html>not a layer</html>\n" * 40]])
    for tag, note in (("bomb", "decompression bomb"), ("truncated", "truncated"), ("html", "no tar header")):
        dockerfile = tmp_path / tag / "Dockerfile"
        dockerfile.parent.mkdir()
        dockerfile.write_text(f"FROM {hostile_registry.host}/hostile/app:{tag}\nRUN tool && no-such-tool\n")
        start = time.monotonic()
        proc = analyze("--format", "json", "--cache-dir", tmp_path / "cache", dockerfile)
        assert proc.returncode in (0, 1), proc.stderr
        assert time.monotonic() - start < 60
        out = json.loads(proc.stdout)["files"][0]
        lineage = out["lineage"][0]
        assert lineage["kind"] == "registry" and note in lineage["note"], (tag, lineage)
        # contents unknown: neither command is reported missing
        assert not [f for f in out["findings"] if f["rule"] == "AN6001"], (tag, out["findings"])
    # nothing incomplete was cached as a listing
    listings = tmp_path / "cache" / "registry" / "listings"
    cached = [json.loads(p.read_text()) for p in listings.glob("*.json")] if listings.is_dir() else []
    assert all(c["complete"] for c in cached)


def test_media_types_that_lie_do_not_matter(hostile_registry, tmp_path):
    zstd_layer = zstandard.ZstdCompressor().compress(tar_bytes([("usr/bin/tool", "file", 0o755)]))
    plain_layer = tar_bytes([("usr/bin/.wh.tool", "file", 0o644), ("usr/bin/other", "file", 0o755)])
    hostile_registry.add_image("lying", [lambda: [zstd_layer], lambda: [plain_layer]])  # all said to be gzip
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(f"FROM {hostile_registry.host}/hostile/app:lying\nRUN other && tool\n")
    proc = analyze("--format", "json", "--cache-dir", tmp_path / "cache", dockerfile)
    out = json.loads(proc.stdout)["files"][0]
    assert out["lineage"][0]["note"] == "image config and layers from the registry", out["lineage"]
    missing = [f["message"] for f in out["findings"] if f["rule"] == "AN6001"]
    assert len(missing) == 1 and missing[0].startswith("tool"), out["findings"]

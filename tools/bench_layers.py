#!/usr/bin/env python3
"""Benchmark: list a large layer blob (gzip, zstd, plain tar) and report throughput and memory.

Generates a layer of realistic shape in a temporary directory (thousands of executables under
usr/bin, libraries and Python sources under usr/lib, small documents under usr/share, a few
big files: one incompressible, one mostly zeros, one text), writes it as a plain tar, gzip
(level 6) and zstd (level 3), then lists each one from its file, each in a fresh process:

* throughput: compressed MB/s (blob bytes) and tar MB/s (decompressed), best of ``--repeat``;
* memory: peak RSS of that process (VmHWM, interpreter included, and its growth over the
  imports) and the ``tracemalloc`` peak of one listing (a separate, slower run).

``--tarfile`` also times the standard library's ``tarfile`` streaming over the same blobs,
as a reference point (no listing logic, just iterating members).

    python tools/bench_layers.py [--size-mb 100] [--repeat 3] [--tarfile] [--keep DIR]
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MB = 1_000_000
MiB = 1 << 20

WORDS = (
    "the of and to in is that for it with as was on be at by this from have or an are not but "
    "def return import self class if else elif for while try except raise yield lambda None True "
    "False int str dict list len range print open path file data value name error config layer "
    "image docker build run copy install package version library module function object index"
).split()


def _corpus(rng: random.Random, size: int) -> bytes:
    """Text that compresses like source code and documentation (about 3-4 times)."""
    lines = []
    total = 0
    while total < size:
        indent = " " * (4 * rng.randrange(4))
        line = indent + " ".join(rng.choices(WORDS, k=rng.randrange(3, 14))) + rng.choice(["", ":", "()", " = 0", ","]) + "\n"
        lines.append(line)
        total += len(line)
    return "".join(lines).encode()[:size]


def _binary(rng: random.Random, size: int, text: bytes) -> bytes:
    """Something like an ELF file: a header, code (random), strings (text), zero padding."""
    out = bytearray(b"\x7fELF\x02\x01\x01" + bytes(57))
    while len(out) < size:
        kind = rng.random()
        n = rng.randrange(512, 8192)
        if kind < 0.45:
            out += rng.randbytes(n)
        elif kind < 0.8:
            start = rng.randrange(0, len(text) - n)
            out += text[start:start + n]
        else:
            out += bytes(n)
    return bytes(out[:size])


def generate(directory: Path, size_mb: int, seed: int = 1) -> dict:
    """Write layer.tar, layer.tar.gz and layer.tar.zst; returns their sizes and member count."""
    import zstandard

    rng = random.Random(seed)
    text = _corpus(rng, 8 * MiB)
    scale = size_mb / 100
    tar_path = directory / "layer.tar"
    members = 0

    def add(tar: tarfile.TarFile, name: str, data: bytes = b"", mode: int = 0o644, kind: bytes = tarfile.REGTYPE, link: str = "") -> None:
        nonlocal members
        info = tarfile.TarInfo(name)
        info.mode, info.type, info.mtime = mode, kind, 1_700_000_000
        info.uname = info.gname = "root"
        if kind == tarfile.REGTYPE:
            info.size = len(data)
        else:
            info.linkname = link
        tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
        members += 1

    with tarfile.open(tar_path, "w", format=tarfile.PAX_FORMAT) as tar:
        for d in ("usr", "usr/bin", "usr/sbin", "usr/lib", "usr/share", "usr/share/doc", "opt", "var", "var/lib"):
            add(tar, d + "/", mode=0o755, kind=tarfile.DIRTYPE)
        for i in range(int(2500 * scale)):  # executables, a fifth of them symlinks
            if i % 5 == 4:
                add(tar, f"usr/bin/tool{i}", kind=tarfile.SYMTYPE, link=f"tool{i - 1}", mode=0o777)
            else:
                add(tar, f"usr/bin/tool{i}", _binary(rng, rng.randrange(4_000, 60_000), text), mode=0o755)
        for i in range(int(300 * scale)):
            add(tar, f"usr/sbin/admin{i}", _binary(rng, rng.randrange(4_000, 40_000), text), mode=0o755)
        for p in range(int(60 * scale)):  # packages of libraries and sources
            base = f"usr/lib/pkg{p}"
            add(tar, base + "/", mode=0o755, kind=tarfile.DIRTYPE)
            for i in range(60):
                if i % 6 == 0:
                    add(tar, f"{base}/lib{i}.so", _binary(rng, rng.randrange(10_000, 80_000), text), mode=0o755)
                else:
                    n = rng.randrange(500, 20_000)
                    start = rng.randrange(0, len(text) - n)
                    add(tar, f"{base}/mod{i}.py", text[start:start + n])
        for i in range(int(8000 * scale)):  # small documents
            if i % 200 == 0:
                add(tar, f"usr/share/doc/d{i // 200}/", mode=0o755, kind=tarfile.DIRTYPE)
            n = rng.randrange(200, 3_000)
            start = rng.randrange(0, len(text) - n)
            add(tar, f"usr/share/doc/d{i // 200}/f{i}.txt", text[start:start + n])
        add(tar, "opt/archive.bin", rng.randbytes(int(30 * MB * scale)))  # already compressed
        add(tar, "var/lib/db.img", bytes(int(20 * MB * scale)) + rng.randbytes(int(2 * MB * scale)))
        add(tar, "var/lib/log.txt", text * int(2 * scale + 1))
    raw_size = tar_path.stat().st_size
    with open(tar_path, "rb") as src, gzip.open(directory / "layer.tar.gz", "wb", compresslevel=6) as dst:
        shutil.copyfileobj(src, dst, MiB)
    with open(tar_path, "rb") as src, open(directory / "layer.tar.zst", "wb") as dst:
        zstandard.ZstdCompressor(level=3).copy_stream(src, dst)
    return {"members": members, "tar": raw_size,
            "gzip": (directory / "layer.tar.gz").stat().st_size,
            "zstd": (directory / "layer.tar.zst").stat().st_size}


# -- measuring, in a fresh process per blob --------------------------------------------------------


def _peak_rss_kib() -> int:
    """Peak RSS of this process image: VmHWM (ru_maxrss would keep the parent's across exec)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(path: str, repeat: int, reference: bool) -> dict:
    import tracemalloc

    from analyzer.lineage.layers import list_layer

    rss_before = _peak_rss_kib()
    best = None
    listing = None
    for _ in range(repeat):
        start = time.perf_counter()
        with open(path, "rb") as f:
            listing = list_layer(f)
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    rss_after = _peak_rss_kib()
    tracemalloc.start()
    with open(path, "rb") as f:
        list_layer(f)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    out = {
        "seconds": best, "complete": listing.complete, "note": listing.note, "members": listing.members,
        "executables": len(listing.added), "unpacked": listing.unpacked, "compression": listing.compression,
        "tracemalloc_peak": peak, "maxrss_kib": rss_after, "maxrss_growth_kib": rss_after - rss_before,
    }
    if reference:
        mode = {"gzip": "r|gz", "tar": "r|"}.get(listing.compression)
        if mode:
            start = time.perf_counter()
            with tarfile.open(path, mode) as tar:
                for _member in tar:
                    pass
            out["tarfile_seconds"] = time.perf_counter() - start
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-mb", type=int, default=100, help="rough size of the gzip blob (default 100)")
    ap.add_argument("--repeat", type=int, default=3, help="listings per blob, best time kept")
    ap.add_argument("--tarfile", action="store_true", help="also time tarfile's streaming reader")
    ap.add_argument("--keep", type=Path, help="generate into this directory and keep the blobs")
    ap.add_argument("--measure", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.repeat, args.tarfile)))
        return 0

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="bench-layers-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        start = time.perf_counter()
        sizes = generate(workdir, args.size_mb)
        print(f"generated in {time.perf_counter() - start:.1f} s: {sizes['members']} members, tar {sizes['tar'] / MB:.1f} MB, "
              f"gzip {sizes['gzip'] / MB:.1f} MB, zstd {sizes['zstd'] / MB:.1f} MB ({workdir})")
        header = f"{'blob':<6} {'MB':>7} {'tar MB':>7} {'s':>6} {'MB/s':>7} {'tar MB/s':>9} {'members/s':>10} {'tracemalloc':>12} {'maxrss':>8} {'growth':>7}"
        if args.tarfile:
            header += f" {'tarfile s':>9}"
        print(header)
        for name, file in (("tar", "layer.tar"), ("gzip", "layer.tar.gz"), ("zstd", "layer.tar.zst")):
            proc = subprocess.run(
                [sys.executable, __file__, "--measure", str(workdir / file), "--repeat", str(args.repeat)]
                + (["--tarfile"] if args.tarfile else []),
                capture_output=True, text=True, check=True,
            )
            r = json.loads(proc.stdout)
            assert r["complete"], r["note"]
            blob = sizes[name]
            line = (f"{name:<6} {blob / MB:7.1f} {r['unpacked'] / MB:7.1f} {r['seconds']:6.2f} {blob / MB / r['seconds']:7.1f} "
                    f"{r['unpacked'] / MB / r['seconds']:9.1f} {r['members'] / r['seconds']:10.0f} "
                    f"{r['tracemalloc_peak'] / MiB:9.1f} MiB {r['maxrss_kib'] / 1024:5.0f} MiB {r['maxrss_growth_kib'] / 1024:4.0f} MiB")
            if args.tarfile:
                line += f" {r['tarfile_seconds']:9.2f}" if "tarfile_seconds" in r else f" {'-':>9}"
            print(line)
        print(f"listing: {r['members']} members, {r['executables']} executables")
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

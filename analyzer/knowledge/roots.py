"""What the root images contain: debian, ubuntu, alpine, busybox, scratch.

A root image has no Dockerfile parent (debian and ubuntu import a root filesystem, alpine
is ``FROM scratch`` plus a minirootfs), so what it contains must come from knowledge. Each
:class:`Root` lists the executables on the default PATH by full path and says where the
list comes from, as of when, and whether it is complete: ``complete=False`` means a
command that is not listed may still exist (absence is then unknown, not missing);
``absent`` names commands known not to be there even so. ``release`` is the Debian release
whose package index answers apt lookups in the image (a
:class:`~analyzer.knowledge.debian_index.ReleaseChoice`: Ubuntu roots use the closest
Debian release and its note says so), None for a root without apt.

The Debian roots are read from ``data/root-debian-<release>.tsv``
(``tools/build-root-inventory``); the others from :mod:`.rootdata` tables.

:func:`root_for` accepts a familiar or normalised reference (``debian:bookworm-slim``,
``docker.io/library/ubuntu:24.04``, ``alpine:3.20.3``...) and answers None for anything
it does not know, including moving tags whose meaning it cannot pin down.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional
from ..lazyre import lazy

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

__all__ = ["DEFAULT_PATH", "Root", "root_for", "ROOT_NAMES", "scan_rootfs"]


@dataclass(frozen=True)
class Root:
    """A root image (no parent to read): its family, package manager and executables."""

    name: str  # e.g. "debian:bookworm"
    family: Optional[str]  # debian / ubuntu / alpine / busybox / None (scratch)
    package_manager: Optional[str]  # apt / apk / None
    paths: frozenset  # full paths of the executables on the default PATH
    env_path: str
    user: str
    workdir: str
    source: str
    as_of: str
    complete: bool
    absent: frozenset = field(default_factory=frozenset)  # command names known to be missing
    uncertain: frozenset = field(default_factory=frozenset)  # listed paths not confirmed
    merged_usr: bool = False  # /bin -> usr/bin and /sbin -> usr/sbin
    release: Optional[tuple] = None  # ReleaseChoice(Debian release of the apt index, note)

    def has(self, command: str) -> Optional[bool]:
        """True if ``command`` (a name or full path) is listed, False if it is known to be
        missing, None if unknown."""
        if "/" in command:
            if command in self.paths:
                return True
        else:
            dirs = [d for d in self.env_path.split(":") if d]
            if any(f"{d.rstrip('/')}/{command}" in self.paths for d in dirs):
                return True
        name = command.rsplit("/", 1)[-1]
        if self.complete or name in self.absent:
            return False
        return None

    def which(self, name: str) -> Optional[str]:
        """Full path ``name`` resolves to on the default PATH, if listed."""
        for d in self.env_path.split(":"):
            if d and f"{d.rstrip('/')}/{name}" in self.paths:
                return f"{d.rstrip('/')}/{name}"
        return None


def _expand(dirs: dict, merged: bool) -> frozenset:
    out = set()
    for d, names in dirs.items():
        for name in names.split():
            out.add(f"{d}/{name}")
            if merged and d in ("/usr/bin", "/usr/sbin"):
                out.add(f"{d[4:]}/{name}")
    return frozenset(out)


def _merge(*tables: dict) -> dict:
    out: dict = {}
    for table in tables:
        for d, names in table.items():
            out[d] = out.get(d, "") + " " + names
    return out


_DEBIAN_SOURCE = (
    "Debian {suite} minbase root ({command}; debootstrap {debootstrap}, Release of {release_date}, "
    "built {generated}; the variant debuerreotype builds the debian images from): every executable "
    "on the default PATH, plus the /usr/sbin/policy-rc.d the images add; -slim removes documentation only"
)
_UBUNTU_SOURCE = (
    "package set of the ubuntu:22.04 image (its ubuntu-jammy-oci-amd64.manifest); executables "
    "from the Debian bookworm file lists of the same packages, plus procps and sensible-utils"
)
_NOBLE_SOURCE = (
    _UBUNTU_SOURCE + "; the 24.04 image is taken to have the 22.04 package set (its "
    "procps, e2fsprogs, adduser and util-linux-extra commands are listed but not confirmed)"
)
_ALPINE_SOURCE = (
    "Alpine minirootfs package set (alpine-baselayout, apk-tools, busybox with its applet "
    "links, musl-utils, scanelf, ssl_client); busybox applets as Alpine configures them"
)
_BUSYBOX_SOURCE = (
    "docker-library/busybox: busybox built from defconfig, every applet installed into /bin "
    "(busybox --install /bin), /bin/getconf, /usr/bin/env; common applets only"
)

# name -> (family, package manager, builder, source, as_of, complete); the Debian roots'
# source and as_of come from their data files
_SPECS = {
    "debian:bookworm": ("debian", "apt", "bookworm", "", "", True),
    "debian:trixie": ("debian", "apt", "trixie", "", "", True),
    "ubuntu:22.04": ("ubuntu", "apt", "jammy", _UBUNTU_SOURCE, "2022-06", True),
    "ubuntu:24.04": ("ubuntu", "apt", "noble", _NOBLE_SOURCE, "2026-11", True),
    "alpine:3.19": ("alpine", "apk", "alpine", _ALPINE_SOURCE, "2026-11", True),
    "alpine:3.20": ("alpine", "apk", "alpine", _ALPINE_SOURCE, "2026-11", True),
    "alpine:3.21": ("alpine", "apk", "alpine", _ALPINE_SOURCE, "2026-11", True),
    "busybox": ("busybox", None, "busybox", _BUSYBOX_SOURCE, "2026-11", False),
    "scratch": (None, None, "scratch", "scratch is the empty image", "2026-11", True),
}
ROOT_NAMES = tuple(_SPECS)

_cache: dict = {}


def _debian_paths(release: str, *, image_additions: bool = True) -> tuple[frozenset, dict]:
    """Full paths of a shipped Debian root (its directory links expanded) and its header."""
    from . import rootdata as data

    header, rows = data.debian_root(release)
    links = header.get("links") or {}
    out = set()
    for path, owner, _note in rows:
        if owner == "-" and not image_additions:
            continue
        out.add(path)
        for link, target in links.items():
            if path.startswith(target.rstrip("/") + "/"):
                out.add(link.rstrip("/") + path[len(target.rstrip("/")):])
    return frozenset(out), header


def _build(name: str) -> Root:
    from . import rootdata as data
    from .debian_index import ReleaseChoice, release_for

    family, manager, kind, source, as_of, complete = _SPECS[name]
    absent: frozenset = frozenset()
    uncertain: frozenset = frozenset()
    release = None
    merged = kind in ("bookworm", "trixie", "jammy", "noble")
    if kind in ("bookworm", "trixie"):
        paths, header = _debian_paths(kind)
        merged = bool(header.get("merged_usr", True))
        source = _DEBIAN_SOURCE.format(suite=kind, **{k: header.get(k, "?") for k in
                                                      ("command", "debootstrap", "release_date", "generated")})
        as_of = header.get("generated", "")
        release = ReleaseChoice(kind, "")
    elif kind in ("jammy", "noble"):
        # the ubuntu images are not built by debuerreotype: no policy-rc.d
        debian, _header = _debian_paths("bookworm", image_additions=False)
        paths = debian | _expand(data.UBUNTU_EXTRA, True)
        if kind == "noble":
            names = set(data.UBUNTU_NOBLE_UNCERTAIN.split())
            uncertain = frozenset(p for p in paths if p.rsplit("/", 1)[-1] in names)
        release = release_for("ubuntu", name.split(":", 1)[1])
    elif kind == "alpine":
        paths = _expand(data.ALPINE, False)
    elif kind == "busybox":
        paths = _expand(data.BUSYBOX, False)
        absent = frozenset(data.BUSYBOX_ABSENT.split())
    else:
        paths = frozenset()
    return Root(
        name=name, family=family, package_manager=manager, paths=paths, env_path=DEFAULT_PATH,
        user="root", workdir="/", source=source, as_of=as_of, complete=complete, absent=absent,
        uncertain=uncertain, merged_usr=merged, release=release,
    )


def _get(name: str) -> Root:
    root = _cache.get(name)
    if root is None:
        root = _cache[name] = _build(name)
    return root


# Debian tags: codename, version or suite, optional point release / date / -slim; latest.
# Suites as of 2026-11: stable = trixie (13, released 2025-08), oldstable = bookworm. The
# official-image parents table still maps debian:latest to bookworm: its debian rows are
# from 2024-12, before trixie's release.
_DEBIAN_TAG = lazy(
    r"^(?P<rel>bookworm|trixie|12|13|oldstable|stable|latest)"
    r"(?:\.\d+)?(?:-\d{8})?(?:-slim)?$"
)
_DEBIAN_REL = {"bookworm": "bookworm", "12": "bookworm", "oldstable": "bookworm",
               "trixie": "trixie", "13": "trixie", "stable": "trixie", "latest": "trixie"}
_UBUNTU_TAG = lazy(r"^(?P<rel>22\.04|24\.04|jammy|noble)(?:\.\d+)?(?:-\d{8}(?:\.\d+)?)?$")
_UBUNTU_REL = {"22.04": "ubuntu:22.04", "jammy": "ubuntu:22.04", "24.04": "ubuntu:24.04", "noble": "ubuntu:24.04"}
_ALPINE_TAG = lazy(r"^3\.(?P<minor>19|20|21)(?:\.\d+)?$")


def _split(ref: str) -> Optional[tuple[str, Optional[str]]]:
    """(repository, tag) of an official docker.io image, or None."""
    from ..images import InvalidReference, is_scratch, parse_ref

    text = ref.strip()
    if is_scratch(text):
        return ("scratch", None)
    try:
        parsed = parse_ref(text)
    except InvalidReference:
        return None
    if parsed.domain != "docker.io" or not parsed.path.startswith("library/"):
        return None
    return (parsed.path[len("library/"):], parsed.tag)


def root_for(image_ref: str) -> Optional[Root]:
    """The known root for an image reference (familiar or normalised), or None."""
    split = _split(image_ref)
    if split is None:
        return None
    repo, tag = split
    if repo == "scratch":
        return _get("scratch")
    if tag is None:  # digest only: which release is not known
        return None
    if repo == "debian":
        m = _DEBIAN_TAG.match(tag)
        rel = _DEBIAN_REL.get(m.group("rel")) if m and (m.group("rel") != "latest" or tag == "latest") else None
        return _get(f"debian:{rel}") if rel else None
    if repo == "ubuntu":
        m = _UBUNTU_TAG.match(tag)
        return _get(_UBUNTU_REL[m.group("rel")]) if m else None
    if repo == "alpine":
        m = _ALPINE_TAG.match(tag)
        return _get(f"alpine:3.{m.group('minor')}") if m else None
    if repo == "busybox":
        return _get("busybox")
    return None


def scan_rootfs(root_dir: str, path_dirs: str = DEFAULT_PATH) -> dict:
    """Executables on ``path_dirs`` in an unpacked root filesystem: ``{dir: [names]}``.

    ``tools/build-root-inventory`` reads debootstrap roots the same way (and keeps a link
    directory such as ``/bin -> usr/bin`` as a link instead of listing it twice).
    Symlinks are resolved inside ``root_dir`` (absolute targets included); a directory that
    is a symlink (``/bin -> usr/bin``) is listed under its own name too.
    """
    import os
    import stat

    def inside(path: str, depth: int = 0) -> Optional[str]:
        if depth > 40:
            return None
        parts = [p for p in path.split("/") if p]
        current = ""
        for i, part in enumerate(parts):
            candidate = f"{current}/{part}"
            full = root_dir + candidate
            if os.path.islink(full):
                target = os.readlink(full)
                base = "" if target.startswith("/") else current
                rest = "/".join(parts[i + 1:])
                joined = os.path.normpath(f"{base}/{target}" + (f"/{rest}" if rest else ""))
                return inside(joined, depth + 1)
            current = candidate
        return current or "/"

    out: dict = {}
    for d in path_dirs.split(":"):
        real = inside(d)
        if not d or real is None or not os.path.isdir(root_dir + real):
            continue
        names = []
        for name in sorted(os.listdir(root_dir + real)):
            target = inside(f"{real}/{name}")
            if target is None:
                continue
            try:
                st = os.stat(root_dir + target)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode) and st.st_mode & 0o111:
                names.append(name)
        out[d] = names
    return out

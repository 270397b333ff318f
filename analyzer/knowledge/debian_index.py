"""Debian's own package -> commands index, generated from the archive's ``Contents``
files by ``tools/build-debian-index`` and shipped in ``data/debian-<release>-commands.tsv``
(bookworm and trixie), with the release's package names in ``data/debian-<release>-packages.txt.gz``.

A commands file holds every file directly in ``bin``, ``sbin``, ``usr/bin``, ``usr/sbin``,
``usr/local/bin`` and ``usr/games`` of every package of the release's ``main`` component
(amd64 and Architecture: all). Contents lists the files shipped in the .deb, so links made
at install time by update-alternatives (``editor``, ``nc``, ``cc``, ``convert``) are not in
it: the curated table of :mod:`.packages` knows those.

Each file is read once per process, on first use (a lookup that needs it), never at import.
:class:`DebianAptIndex` is the :class:`~analyzer.knowledge.packages.PackageIndex` the apt
lookups use: the curated table first for the packages it lists (it knows alternatives
links, metapackages such as ``build-essential`` and what a package pulls in), the Debian
index for every other package.

Which release answers: the one in effect (:func:`using_release`, set by the lineage walk
from the root image: ``debian:bookworm*``/``12*`` -> bookworm, ``trixie``/``13*``/
``latest``/``stable`` -> trixie, Ubuntu -> the closest Debian release, see
:func:`release_for`), else :data:`DEFAULT_RELEASE`.

Providers of a command, best first (:meth:`DebianAptIndex.providers`):

1. the curated table's choice (its preferred package, e.g. ``nc`` -> netcat-openbsd, the
   package Debian's alternatives make the default), then its other packages;
2. the index's packages of the release, ranked: the command in /usr/bin or /bin first, then
   the package named like the command, then a package of the command's family (``gcc-14``
   for ``gcc-14``), non-library packages, shorter names, alphabetical;
3. curated packages the release does not have (names from third-party repositories such as
   ``mysql-client`` or ``kubectl`` on bookworm) come after the release's own.
"""

from __future__ import annotations

import os
import re
import threading
from contextvars import ContextVar
from typing import Optional

__all__ = [
    "DEFAULT_RELEASE",
    "DebianAptIndex",
    "IndexUnavailable",
    "ReleaseChoice",
    "available_releases",
    "commands_of_package",
    "header",
    "load_seconds",
    "package_exists",
    "packages_providing",
    "release_for",
    "release_in_effect",
    "using_release",
]

DEFAULT_RELEASE = "bookworm"
_DATA = os.path.join(os.path.dirname(__file__), "data")
_FILE = "debian-{}-commands.tsv"  # plain: reading it takes 1 ms, inflating a gzip copy 8

# Debian version -> codename, and Ubuntu releases -> the Debian release their package set
# is closest to (Ubuntu imports from Debian unstable/testing before each freeze).
_DEBIAN = {
    "10": "buster", "11": "bullseye", "12": "bookworm", "13": "trixie", "14": "forky",
}
_DEBIAN_ALIASES = {
    "stable": "trixie", "latest": "trixie", "oldstable": "bookworm", "testing": "forky", "sid": "sid",
    "unstable": "sid",
}
# Ubuntu version -> (codename, closest Debian release). An Ubuntu release imports its
# packages from Debian unstable at its Debian Import Freeze, so its package names and
# versions are closest to the Debian release that was testing at that time: jammy (22.04,
# import freeze 2022-02) -> bookworm, noble (24.04, 2024-02) -> trixie, resolute (26.04)
# -> forky (no index shipped: trixie answers, and the note says so).
_UBUNTU = {
    "20.04": ("focal", "bullseye"), "22.04": ("jammy", "bookworm"), "22.10": ("kinetic", "bookworm"),
    "23.04": ("lunar", "bookworm"), "23.10": ("mantic", "trixie"), "24.04": ("noble", "trixie"),
    "24.10": ("oracular", "trixie"), "25.04": ("plucky", "trixie"), "25.10": ("questing", "trixie"),
    "26.04": ("resolute", "forky"),
}
_ORDER = ["buster", "bullseye", "bookworm", "trixie", "forky", "sid"]
_PACKAGES_FILE = "debian-{}-packages.txt.gz"
# after this many different reverse lookups, build the whole command -> packages map
_SCAN_LIMIT = 24
# after this many different package lookups, build the whole package -> commands map
_FORWARD_SCAN_LIMIT = 48


class IndexUnavailable(LookupError):
    """No index is shipped for the release asked for."""


class _Release:
    __slots__ = ("header", "commands", "text", "_reverse", "_scanned", "seconds", "_complete", "_found")

    def __init__(self, header: dict, commands: Optional[dict], text: str, seconds: float):
        self.header = header
        # package -> raw paths (a tuple once looked up); None: not built yet, the first
        # lookups find their line in the text (building the map costs 10 ms, a lookup
        # by scanning 0.2 ms: a small file needs a handful)
        self.commands = commands
        self.text = text  # the body, for lookups by scanning
        self._reverse: Optional[dict] = None
        self._scanned: dict = {}
        self._found: dict = {}  # package -> paths or None, while ``commands`` is not built
        self.seconds = seconds

    def _line(self, package: str) -> Optional[str]:
        if not package or "\t" in package or "\n" in package:
            return None
        text = self.text
        if text.startswith(package + "\t"):
            start = 0
        else:
            start = text.find("\n" + package + "\t") + 1
            if start == 0:
                return None
        end = text.find("\n", start)
        return text[start + len(package) + 1 : end if end >= 0 else len(text)]

    def _table(self) -> dict:
        if self.commands is None:
            self.commands = dict(line.split("\t", 1) for line in self.text.splitlines())
        return self.commands

    def has(self, package: str) -> bool:
        return self.paths(package) is not None

    def paths(self, package: str) -> Optional[tuple[str, ...]]:
        if self.commands is None:
            if package in self._found:
                return self._found[package]
            if len(self._found) < _FORWARD_SCAN_LIMIT:
                raw = self._line(package)
                out = self._found[package] = tuple("/" + p for p in raw.split("\t")) if raw is not None else None
                return out
            table = self._table()
            table.update((k, v) for k, v in self._found.items() if v is not None)
        value = self.commands.get(package)
        if value is None or isinstance(value, tuple):
            return value
        out = self.commands[package] = tuple("/" + p for p in value.split("\t"))
        return out

    def providers(self, name: str) -> list:
        """[(path without the leading /, package), ...] of the files named ``name``.

        The first lookups scan the text (a few ms each); after :data:`_SCAN_LIMIT`
        different names the whole reverse map is built once (about 0.1 s)."""
        if self._reverse is not None:
            return self._reverse.get(name, [])
        got = self._scanned.get(name)
        if got is not None:
            return got
        if len(self._scanned) >= _SCAN_LIMIT:
            return self._build_reverse().get(name, [])
        text = self.text
        out = []
        for m in re.finditer("/" + re.escape(name) + "(?=[\t\n])", text):
            start = text.rfind("\n", 0, m.start()) + 1
            tab = text.index("\t", start)
            if m.start() <= tab:
                continue  # inside the package name
            path_start = text.rfind("\t", 0, m.start()) + 1
            out.append((text[path_start:m.end()], text[start:tab]))
        self._scanned[name] = out
        return out

    def _build_reverse(self) -> dict:
        rev: dict = {}
        for line in self.text.splitlines():
            pkg, *paths = line.split("\t")
            for path in paths:
                rev.setdefault(path[path.rfind("/") + 1:], []).append((path, pkg))
        self._reverse = rev
        return rev


_LOADED: dict = {}
_PACKAGES: dict = {}
_LOCK = threading.Lock()
_IN_EFFECT: ContextVar = ContextVar("debian_release", default=None)


def available_releases() -> list[str]:
    """Releases with a shipped index, oldest first."""
    out = []
    for name in os.listdir(_DATA):
        m = re.fullmatch(r"debian-([a-z]+)-commands\.tsv", name)
        if m:
            out.append(m.group(1))
    return sorted(out, key=lambda r: (_ORDER.index(r) if r in _ORDER else len(_ORDER), r))


def _read(path: str) -> str:
    """A shipped file's text (``.gz`` files inflated)."""
    with open(path, "rb") as fh:
        data = fh.read()
    if path.endswith(".gz"):
        import gzip

        data = gzip.decompress(data)
    return data.decode("utf-8")


def _load(release: str) -> _Release:
    rel = _LOADED.get(release)
    if rel is not None:
        return rel
    with _LOCK:
        rel = _LOADED.get(release)
        if rel is not None:
            return rel
        import json
        import time

        path = os.path.join(_DATA, _FILE.format(release))
        if not re.fullmatch(r"[a-z]+", release) or not os.path.exists(path):
            raise IndexUnavailable(f"no Debian command index for {release!r} (shipped: {', '.join(available_releases()) or 'none'})")
        start = time.perf_counter()
        text = _read(path)
        first, _, body = text.partition("\n")
        head = json.loads(first[1:]) if first.startswith("#") else {}
        rel = _Release(head, None, body, time.perf_counter() - start)
        _LOADED[release] = rel
        return rel


def header(release: str) -> dict:
    """The shipped file's header: source, release, date, generated, rule, counts."""
    return dict(_load(release).header)


def load_seconds(release: str) -> float:
    """How long reading the release's index took in this process."""
    return _load(release).seconds


def commands_of_package(release: str, package: str) -> Optional[tuple[str, ...]]:
    """Full paths of the package's commands in ``release``; None when the package ships
    no file in those directories (a library, a metapackage) or is not in ``main``."""
    return _load(release).paths(package)


def _rank(command: str):
    def key(item):
        path, pkg = item
        directory = path[: path.rfind("/")]
        return (
            directory not in ("/usr/bin", "/bin"),
            pkg != command,
            # a package named after the command's family (python3 for python3.11, gcc-12 for gcc-12)
            not (command.startswith(pkg) or pkg.startswith(command)),
            pkg.startswith("lib") or pkg.endswith(("-dev", "-doc", "-tests", "-examples")),
            len(pkg),
            pkg,
        )

    return key


def packages_providing(release: str, command_basename: str) -> list[str]:
    """Packages of ``release`` that ship a command named ``command_basename``, best first:
    those installing it in /usr/bin or /bin, then the package named like the command, then
    names of the command's family, non-library packages, shorter names."""
    items = [("/" + p.lstrip("/"), pkg) for p, pkg in _load(release).providers(command_basename)]
    out: list[str] = []
    for _path, pkg in sorted(items, key=_rank(command_basename)):
        if pkg not in out:
            out.append(pkg)
    return out


def package_exists(release: str, package: str) -> Optional[bool]:
    """Whether ``release``'s main component (amd64 or all) has a package named ``package``
    (any package, with or without commands); None when no package list is shipped for it.
    A package with commands is answered by the commands index; only the others read the
    package list (once, on first need)."""
    try:
        if _load(release).has(package):
            return True
    except IndexUnavailable:
        pass
    text = _PACKAGES.get(release)
    if text is None:
        path = os.path.join(_DATA, _PACKAGES_FILE.format(release))
        if not re.fullmatch(r"[a-z]+", release) or not os.path.exists(path):
            return None
        with _LOCK:
            text = _PACKAGES.get(release)
            if text is None:
                text = _PACKAGES[release] = _read(path)
    return f"\n{package}\n" in text


class using_release:  # noqa: N801 (used as a function: ``with using_release(r):``)
    """Within the block, apt lookups through :class:`DebianAptIndex` answer from
    ``release`` (a codename or a :class:`ReleaseChoice`; None: :data:`DEFAULT_RELEASE`).
    Per thread and per asyncio task, like any context variable. (A class rather than a
    generator: the lineage walk enters it for every command.)"""

    __slots__ = ("_release", "_token")

    def __init__(self, release):
        if isinstance(release, tuple):
            release = release[0] if release else None
        self._release = release

    def __enter__(self) -> None:
        self._token = _IN_EFFECT.set(self._release)

    def __exit__(self, *exc) -> None:
        _IN_EFFECT.reset(self._token)


def release_in_effect() -> str:
    """The release :func:`using_release` set, else :data:`DEFAULT_RELEASE`."""
    return _IN_EFFECT.get() or DEFAULT_RELEASE


class ReleaseChoice(tuple):
    """(release, note): the Debian release whose index answers for an image."""

    __slots__ = ()

    def __new__(cls, release: str, note: str = ""):
        return super().__new__(cls, (release, note))

    @property
    def release(self) -> str:
        return self[0]

    @property
    def note(self) -> str:
        return self[1]


def release_for(family: Optional[str], version_or_codename: Optional[str]) -> ReleaseChoice:
    """The shipped Debian release to answer for an image of ``family`` (debian, ubuntu)
    at ``version_or_codename`` (``12``, ``bookworm``, ``bookworm-slim``, ``latest``,
    ``22.04``, ``jammy``). Ubuntu uses the closest Debian release (jammy/22.04 ->
    bookworm, noble/24.04 -> trixie) and says so in ``note`` ("ubuntu:24.04: using Debian
    trixie's index"); a release with no shipped index falls back to the nearest one shipped.
    ``note`` is "" when the answer is exact."""
    shipped = available_releases() or [DEFAULT_RELEASE]
    value = (version_or_codename or "").strip().lower()
    value = re.split(r"[-_:@]", value, 1)[0] if value else ""
    fam = (family or "debian").lower()
    notes = []
    wanted: Optional[str] = None
    if fam == "ubuntu":
        for version, (codename, debian) in _UBUNTU.items():
            if value in (version, codename) or (value and version.startswith(value) and "." in value):
                wanted = debian
                label = f"ubuntu:{version}"
                break
        else:
            wanted = shipped[-1]
            label = f"ubuntu:{version_or_codename or '(unknown version)'}"
        if wanted in shipped:
            notes.append(f"{label}: using Debian {wanted}'s index")
        else:
            nearest = _nearest(wanted, shipped)
            notes.append(f"{label}: using Debian {nearest}'s index (closest: {wanted}, not shipped)")
            wanted = nearest
        return ReleaseChoice(wanted, "; ".join(notes))
    if fam == "debian":
        if value in _ORDER:
            wanted = value
        elif value in _DEBIAN_ALIASES:
            wanted = _DEBIAN_ALIASES[value]
        elif value.split(".")[0] in _DEBIAN:
            wanted = _DEBIAN[value.split(".")[0]]
        else:
            wanted = DEFAULT_RELEASE if DEFAULT_RELEASE in shipped else shipped[-1]
            if value not in ("", "slim"):
                notes.append(f"debian:{version_or_codename} is not a known release: using Debian {wanted}'s index")
    else:
        wanted = DEFAULT_RELEASE if DEFAULT_RELEASE in shipped else shipped[-1]
        notes.append(f"{family} is not Debian-based: using Debian {wanted}'s index")
    if wanted not in shipped:
        nearest = _nearest(wanted, shipped)
        notes.append(f"no index shipped for Debian {wanted}: using Debian {nearest}'s index")
        wanted = nearest
    return ReleaseChoice(wanted, "; ".join(notes))


def _nearest(wanted: str, shipped: list[str]) -> str:
    pos = _ORDER.index(wanted) if wanted in _ORDER else len(_ORDER)

    def distance(r: str):
        i = _ORDER.index(r) if r in _ORDER else 0
        return (abs(i - pos), -i)  # a tie goes to the newer release

    return min(shipped, key=distance)


class DebianAptIndex:
    """The apt :class:`PackageIndex`: the curated table for the packages it lists, the
    Debian index of the release in effect (or ``release`` when given) for every other
    package, the library rule last."""

    def __init__(self, curated, release: Optional[str] = None):
        self._curated = curated
        self._release = release

    @property
    def release(self) -> str:
        return self._release or release_in_effect()

    def _debian(self, package: str) -> Optional[tuple[str, ...]]:
        try:
            return commands_of_package(self.release, package)
        except IndexUnavailable:
            return None

    def own_commands(self, package: str) -> Optional[tuple[str, ...]]:
        if self._curated.knows(package):
            return self._curated.own_commands(package)
        found = self._debian(package)
        if found is not None:
            return found
        return self._curated.own_commands(package)

    def depends(self, package: str) -> tuple[str, ...]:
        return self._curated.depends(package)

    def providers(self, command: str) -> list[str]:
        release = self.release
        curated = list(dict.fromkeys(self._curated.providers(command)))
        try:
            more = packages_providing(release, command)
        except IndexUnavailable:
            return curated
        if more:
            # a curated name the release does not have (a third-party repository's
            # package, another release's name) goes after the release's own packages
            absent = [p for p in curated if p not in more and package_exists(release, p) is False]
            curated = [p for p in curated if p not in absent]
        else:
            absent = []
        out = curated + [p for p in more if p not in curated]
        return out + [p for p in absent if p not in out]

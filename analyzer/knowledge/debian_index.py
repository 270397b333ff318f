"""Debian's own package -> commands index, generated from the archive's ``Contents``
files by ``tools/build-debian-index`` and shipped in ``data/debian-<release>-commands.tsv.gz``.

A shipped file holds every file directly in ``bin``, ``sbin``, ``usr/bin``, ``usr/sbin``,
``usr/local/bin`` and ``usr/games`` of every package of the release's ``main`` component
(amd64 and Architecture: all). Contents lists the files shipped in the .deb, so links made
at install time by update-alternatives (``editor``, ``nc``, ``cc``) are not in it.

Each release is read once per process, on first use. :class:`DebianAptIndex` is the
:class:`~analyzer.knowledge.packages.PackageIndex` the apt lookups use: the curated table
first for the packages it lists (it knows alternatives links, metapackages such as
``build-essential`` and what a package pulls in), the Debian index for every other package.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import threading
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
    "packages_providing",
    "release_for",
]

DEFAULT_RELEASE = "bookworm"
_DATA = os.path.join(os.path.dirname(__file__), "data")
_FILE = "debian-{}-commands.tsv.gz"

# Debian version -> codename, and Ubuntu releases -> the Debian release their package set
# is closest to (Ubuntu imports from Debian unstable/testing before each freeze).
_DEBIAN = {
    "10": "buster", "11": "bullseye", "12": "bookworm", "13": "trixie", "14": "forky",
}
_DEBIAN_ALIASES = {"stable": "trixie", "oldstable": "bookworm", "testing": "forky", "sid": "sid", "unstable": "sid"}
_UBUNTU = {
    "20.04": ("focal", "bullseye"), "22.04": ("jammy", "bookworm"), "22.10": ("kinetic", "bookworm"),
    "23.04": ("lunar", "bookworm"), "23.10": ("mantic", "trixie"), "24.04": ("noble", "trixie"),
    "24.10": ("oracular", "trixie"), "25.04": ("plucky", "trixie"), "25.10": ("questing", "trixie"),
}
_ORDER = ["buster", "bullseye", "bookworm", "trixie", "forky", "sid"]


class IndexUnavailable(LookupError):
    """No index is shipped for the release asked for."""


class _Release:
    __slots__ = ("header", "commands", "_reverse", "seconds")

    def __init__(self, header: dict, commands: dict, seconds: float):
        self.header = header
        self.commands = commands
        self._reverse: Optional[dict] = None
        self.seconds = seconds

    def paths(self, package: str) -> Optional[tuple[str, ...]]:
        value = self.commands.get(package)
        if value is None or isinstance(value, tuple):
            return value
        out = self.commands[package] = tuple("/" + p for p in value.split("\t"))
        return out

    def reverse(self) -> dict:
        """basename -> [(path, package), ...]"""
        if self._reverse is None:
            rev: dict = {}
            for pkg, value in self.commands.items():
                for path in (value.split("\t") if isinstance(value, str) else value):
                    name = path[path.rfind("/") + 1:]
                    got = rev.get(name)
                    if got is None:
                        rev[name] = [(path, pkg)]
                    else:
                        got.append((path, pkg))
            self._reverse = rev
        return self._reverse


_LOADED: dict = {}
_LOCK = threading.Lock()


def available_releases() -> list[str]:
    """Releases with a shipped index, oldest first."""
    out = []
    for name in os.listdir(_DATA):
        m = re.fullmatch(r"debian-([a-z]+)-commands\.tsv\.gz", name)
        if m:
            out.append(m.group(1))
    return sorted(out, key=lambda r: (_ORDER.index(r) if r in _ORDER else len(_ORDER), r))


def _load(release: str) -> _Release:
    rel = _LOADED.get(release)
    if rel is not None:
        return rel
    with _LOCK:
        rel = _LOADED.get(release)
        if rel is not None:
            return rel
        import time

        path = os.path.join(_DATA, _FILE.format(release))
        if not re.fullmatch(r"[a-z]+", release) or not os.path.exists(path):
            raise IndexUnavailable(f"no Debian command index for {release!r} (shipped: {', '.join(available_releases()) or 'none'})")
        start = time.perf_counter()
        with open(path, "rb") as fh:
            text = gzip.decompress(fh.read()).decode("utf-8")
        first, _, body = text.partition("\n")
        head = json.loads(first[1:]) if first.startswith("#") else {}
        # package -> its raw paths; split into a tuple on first lookup
        commands = dict(line.split("\t", 1) for line in body.splitlines())
        rel = _Release(head, commands, time.perf_counter() - start)
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
    items = [("/" + p.lstrip("/"), pkg) for p, pkg in _load(release).reverse().get(command_basename, ())]
    out: list[str] = []
    for _path, pkg in sorted(items, key=_rank(command_basename)):
        if pkg not in out:
            out.append(pkg)
    return out


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
    at ``version_or_codename`` (``12``, ``bookworm``, ``bookworm-slim``, ``22.04``,
    ``jammy``). Ubuntu uses the closest Debian release (jammy/22.04 -> bookworm,
    noble/24.04 -> trixie); a release with no shipped index falls back to the nearest one
    shipped. ``note`` says what was approximated ("" when the answer is exact)."""
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
                notes.append(f"Ubuntu {version} ({codename}) uses Debian {debian}'s index, the closest Debian release")
                break
        if wanted is None:
            wanted = shipped[-1]
            notes.append(f"Ubuntu {version_or_codename or '(unknown version)'} uses Debian {wanted}'s index")
    elif fam == "debian":
        if value in _ORDER:
            wanted = value
        elif value in _DEBIAN_ALIASES:
            wanted = _DEBIAN_ALIASES[value]
        elif value.split(".")[0] in _DEBIAN:
            wanted = _DEBIAN[value.split(".")[0]]
        else:
            wanted = DEFAULT_RELEASE if DEFAULT_RELEASE in shipped else shipped[-1]
            if value not in ("", "latest", "slim"):
                notes.append(f"Debian {version_or_codename} is not a known release; using {wanted}")
    else:
        wanted = DEFAULT_RELEASE if DEFAULT_RELEASE in shipped else shipped[-1]
        notes.append(f"{family} is not Debian-based; using Debian {wanted}'s index")
    if wanted not in shipped:
        pos = _ORDER.index(wanted) if wanted in _ORDER else len(_ORDER)
        nearest = min(shipped, key=lambda r: (abs((_ORDER.index(r) if r in _ORDER else 0) - pos), -_ORDER.index(r) if r in _ORDER else 0))
        notes.append(f"no index shipped for {wanted}; using {nearest}")
        wanted = nearest
    return ReleaseChoice(wanted, "; ".join(notes))


class DebianAptIndex:
    """The apt :class:`PackageIndex`: the curated table for the packages it lists, the
    Debian index of ``release`` for every other package, the library rule last."""

    def __init__(self, curated, release: str = DEFAULT_RELEASE):
        self._curated = curated
        self.release = release

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
        out = list(self._curated.providers(command))
        try:
            more = packages_providing(self.release, command)
        except IndexUnavailable:
            more = []
        out.extend(p for p in more if p not in out)
        return out

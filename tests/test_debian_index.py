"""The Debian package -> commands indexes shipped from the archive's Contents files
(bookworm and trixie), the release each base image uses, and AN6001's package hints.

Benchmark note (2-core shared machine, 2026-11-26): reading a commands index takes
20-50 ms once per process (bookworm 288 KB: 14,476 packages / 47,059 paths; trixie
297 KB: 15,229 packages / 48,502 paths); a reverse lookup (command -> packages) scans the
text in 2-6 ms, and after 24 different names the full reverse map is built once in
80-200 ms. The package-name lists (298 KB / 326 KB) are read only when a curated provider
has no commands in the index, in 10-40 ms. test_load_times asserts < 1 s each.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from analyzer.knowledge import debian_index as di
from analyzer.knowledge import packages
from conftest import findings_for

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "analyzer" / "knowledge" / "data"
RELEASES = ("bookworm", "trixie")


@pytest.mark.parametrize("release", RELEASES)
def test_shipped_file_header_and_layout(release):
    path = DATA / f"debian-{release}-commands.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()
    head = json.loads(lines[0][1:])
    assert head["release"] == release and head["format"] == "debian-commands/1"
    suite = head["suite"]
    assert head["source"] == [f"http://deb.debian.org/debian/dists/{suite}/main/Contents-{a}" for a in ("amd64", "all")]
    assert head["date"] and head["generated"]
    assert head["packages"] == len(lines) - 1 > 10000
    assert 40000 < head["paths"] < 60000
    body = lines[1:]
    assert body == sorted(body)
    dirs = {"bin", "sbin", "usr/bin", "usr/sbin", "usr/local/bin", "usr/games"}
    for line in body[:2000]:
        pkg, *paths = line.split("\t")
        assert pkg and paths
        assert all(p.rsplit("/", 1)[0] in dirs for p in paths), line
    assert di.header(release)["release"] == release
    assert release in di.available_releases()


@pytest.mark.parametrize("release", RELEASES)
def test_shipped_package_list(release):
    lines = gzip.decompress((DATA / f"debian-{release}-packages.txt.gz").read_bytes()).decode().splitlines()
    head = json.loads(lines[0][1:])
    assert head["format"] == "debian-packages/1" and head["release"] == release
    assert head["packages"] == len(lines) - 1 > 60000
    assert lines[1:] == sorted(lines[1:])
    # the commands index covers a subset of the list
    commands = (DATA / f"debian-{release}-commands.tsv").read_text(encoding="utf-8").splitlines()[1:]
    names = set(lines[1:])
    assert all(line.split("\t", 1)[0] in names for line in commands[::50])


@pytest.mark.parametrize(
    "release,package,path",
    [
        (r, pkg, path)
        for r in RELEASES
        for pkg, path in [
            ("wget", "/usr/bin/wget"),
            ("curl", "/usr/bin/curl"),
            ("git", "/usr/bin/git"),
            ("make", "/usr/bin/make"),
            ("gcc", "/usr/bin/gcc"),  # the gcc package ships the /usr/bin/gcc link to gcc-12 / gcc-14
            ("jq", "/usr/bin/jq"),
            ("adduser", "/usr/sbin/adduser"),  # Architecture: all, from Contents-all
            ("xsltproc", "/usr/bin/xsltproc"),
            ("libxml2-utils", "/usr/bin/xmllint"),
            ("gettext-base", "/usr/bin/envsubst"),
            ("xz-utils", "/usr/bin/xz"),
        ]
    ]
    + [
        ("bookworm", "gcc-12", "/usr/bin/gcc-12"),
        ("bookworm", "procps", "/bin/ps"),  # bookworm's procps still ships /bin/ps
        ("bookworm", "7zip", "/usr/bin/7zz"),
        ("trixie", "gcc-14", "/usr/bin/gcc-14"),
        ("trixie", "procps", "/usr/bin/ps"),  # trixie moved it to /usr/bin
        ("trixie", "7zip", "/usr/bin/7z"),
        ("trixie", "curl", "/usr/bin/wcurl"),
    ],
)
def test_package_commands(release, package, path):
    assert path in di.commands_of_package(release, package)


def test_releases_differ_where_debian_changed():
    assert di.commands_of_package("bookworm", "gcc-14") is None
    assert di.packages_providing("bookworm", "gcc-14") == []
    assert di.packages_providing("trixie", "gcc-14") == ["gcc-14"]
    assert di.packages_providing("bookworm", "gcc-12") == ["gcc-12"]
    assert "/usr/bin/7z" not in di.commands_of_package("bookworm", "7zip")
    assert di.commands_of_package("bookworm", "curl") == ("/usr/bin/curl",)
    assert di.commands_of_package("bookworm", "kubectl") is None
    assert di.commands_of_package("trixie", "kubectl") == ("/usr/bin/kubectl",)


def test_unknown_and_library_packages():
    for release in RELEASES:
        assert di.commands_of_package(release, "no-such-package-xyz") is None
        assert di.commands_of_package(release, "libc6") is None
        assert "/usr/bin/gcc-12" not in di.commands_of_package(release, "gcc")
        assert di.commands_of_package(release, "wget") == ("/usr/bin/wget",)


@pytest.mark.parametrize("release", RELEASES)
def test_reverse_lookups(release):
    assert di.packages_providing(release, "jq")[0] == "jq"
    assert di.packages_providing(release, "ps")[0] == "procps"
    assert di.packages_providing(release, "gcc")[0] == "gcc"
    assert di.packages_providing(release, "xmllint") == ["libxml2-utils"]
    assert di.packages_providing(release, "ping")[0] == "iputils-ping"
    assert di.packages_providing(release, "xmlstarlet") == ["xmlstarlet"]
    assert di.packages_providing(release, "surely-not-a-command") == []
    assert di.packages_providing(release, "wget.") == []  # a regex character is literal
    assert di.packages_providing(release, "[")[0] == "coreutils"


def test_scanning_and_the_full_reverse_map_agree():
    loaded = di._load("trixie")
    fresh = di._Release(loaded.header, None, loaded.text, 0.0)
    names = ["jq", "ps", "gcc", "[", "xz", "ip", "make", "git", "wget", "curl", "bash", "sh", "nc.openbsd", "python3",
             "perl", "sed", "awk", "mawk", "tar", "gzip", "envsubst", "xmllint", "ping", "ssh", "scp", "7z", "kubectl"]
    scanned = {n: sorted(fresh.providers(n)) for n in names[: di._SCAN_LIMIT]}
    assert fresh._reverse is None
    for n in names[di._SCAN_LIMIT:]:
        fresh.providers(n)
    assert fresh._reverse is not None  # past the limit: the map was built
    for n, found in scanned.items():
        assert sorted(fresh._reverse.get(n, [])) == found, n
    assert ("usr/bin/jq", "jq") in scanned["jq"]


def test_package_exists_reads_the_package_list():
    assert di.package_exists("bookworm", "postgresql-client") is True  # a metapackage: no commands of its own
    assert di.package_exists("bookworm", "kubectl") is False  # a third-party repository's name on bookworm
    assert di.package_exists("trixie", "kubectl") is True
    assert di.package_exists("trixie", "mysql-client") is False  # Oracle's repository, never Debian's
    assert di.package_exists("trixie", "wget") is True
    assert di.package_exists("potato", "wget") is None


def test_unshipped_release_is_a_clear_error():
    with pytest.raises(di.IndexUnavailable, match="no Debian command index for 'potato'"):
        di.commands_of_package("potato", "wget")


@pytest.mark.parametrize(
    "family,version,release,note",
    [
        ("debian", "bookworm", "bookworm", ""),
        ("debian", "bookworm-slim", "bookworm", ""),
        ("debian", "12.5", "bookworm", ""),
        ("debian", "12", "bookworm", ""),
        ("debian", "oldstable-slim", "bookworm", ""),
        ("debian", "trixie-20251103-slim", "trixie", ""),
        ("debian", "13", "trixie", ""),
        ("debian", "latest", "trixie", ""),
        ("debian", "stable", "trixie", ""),
        ("debian", "sid", "trixie", "no index shipped for Debian sid: using Debian trixie's index"),
        ("debian", "buster", "bookworm", "no index shipped for Debian buster: using Debian bookworm's index"),
        ("ubuntu", "jammy", "bookworm", "ubuntu:22.04: using Debian bookworm's index"),
        ("ubuntu", "22.04", "bookworm", "ubuntu:22.04: using Debian bookworm's index"),
        ("ubuntu", "noble-20260810", "trixie", "ubuntu:24.04: using Debian trixie's index"),
        ("ubuntu", "24.04", "trixie", "ubuntu:24.04: using Debian trixie's index"),
        ("ubuntu", "26.04", "trixie", "ubuntu:26.04: using Debian trixie's index (closest: forky, not shipped)"),
        ("fedora", "40", "bookworm", "fedora is not Debian-based: using Debian bookworm's index"),
    ],
)
def test_release_for(family, version, release, note):
    choice = di.release_for(family, version)
    assert choice.release == release
    assert choice.note == note


def test_using_release_scopes_the_apt_lookups():
    index = packages._index("apt")
    assert di.release_in_effect() == di.DEFAULT_RELEASE == "bookworm"
    with di.using_release("trixie"):
        assert index.release == "trixie"
        assert packages.commands_of_package("apt", "7zip") == ("/usr/bin/7z", "/usr/bin/7za", "/usr/bin/7zr", "/usr/bin/p7zip")
        with di.using_release(di.ReleaseChoice("bookworm", "")):
            assert packages.commands_of_package("apt", "7zip") == ("/usr/bin/7zz",)
        assert index.release == "trixie"
        seen = []
        worker = threading.Thread(target=lambda: seen.append(di.release_in_effect()))
        worker.start()
        worker.join()
        assert seen == ["bookworm"]  # another thread has its own context
    assert index.release == "bookworm"
    assert di.DebianAptIndex(None, release="trixie").release == "trixie"


@pytest.mark.parametrize(
    "release,command,first",
    [
        ("bookworm", "kubectl", "kubernetes-client"),  # curated kubectl is not a bookworm package
        ("trixie", "kubectl", "kubectl"),
        ("bookworm", "mysql", "mariadb-client"),  # mysql-client is in neither release
        ("trixie", "mysql", "mariadb-client"),
        ("bookworm", "psql", "postgresql-client"),  # a metapackage stays first: it exists
        ("trixie", "convert", "imagemagick"),  # curated: the alternatives link, not graphicsmagick's compat package
        ("bookworm", "nc", "netcat-openbsd"),
        ("trixie", "gcc-14", "gcc-14"),
    ],
)
def test_providers_prefer_what_the_release_has(release, command, first):
    with di.using_release(release):
        found = packages.packages_providing(command, "debian")
    assert found[0] == first
    assert len(found) == len(set(found))


def test_apt_lookups_use_the_index_after_the_curated_table():
    # not in the curated table: answered by the index
    assert packages.commands_of_package("apt", "xsltproc") == ("/usr/bin/xsltproc",)
    assert "/bin/zsh" in packages.commands_of_package("apt-get", "zsh")  # bookworm ships it in /bin
    # curated first: a metapackage pulls in its dependencies' commands
    assert "/usr/bin/make" in packages.commands_of_package("apt", "build-essential")
    # unknown stays unknown; a library still has no commands
    assert packages.commands_of_package("apt", "no-such-package-xyz") is None
    assert packages.commands_of_package("apt", "libssl3") == ()
    assert packages.packages_providing("xsltproc", "debian") == ["xsltproc"]
    assert packages.packages_providing("nc", "debian")[0] == "netcat-openbsd"  # curated preference


def _analyze(tmp_path, text):
    df = tmp_path / "Dockerfile"
    df.write_text(text)
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "GITHUB_ACTIONS")}
    proc = subprocess.run(
        [sys.executable, "-m", "analyzer", "--format", "json", "--offline", "--cache-dir", str(tmp_path / "c"), str(df)],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)["files"][0]["findings"]


def test_end_to_end_installed_command_is_fine_and_missing_names_package(tmp_path):
    ok = _analyze(tmp_path, "FROM debian:bookworm-slim\n"
                  "RUN apt-get update && apt-get install -y --no-install-recommends jq && jq --version\n")
    assert not [f for f in ok if f["rule"] == "AN6001"]
    bad = _analyze(tmp_path, "FROM debian:bookworm-slim\nRUN xmlstarlet sel -t -v / x.xml\n"
                   "RUN xsltproc a.xsl b.xml\n")
    missing = [f for f in bad if f["rule"] == "AN6001"]
    assert len(missing) == 2
    assert "apt-get install xmlstarlet" in missing[0]["message"]
    assert "/usr/bin/xmlstarlet" in missing[0]["message"]
    assert "apt-get install xsltproc" in missing[1]["message"]  # from the index alone
# -- AN6001 names a Debian package for every command one provides -------------------------

# command -> (package, path) on debian:bookworm-slim; curated answers and index-only ones
BOOKWORM_HINTS = {
    "wget": ("wget", "/usr/bin/wget"),
    "curl": ("curl", "/usr/bin/curl"),
    "git": ("git", "/usr/bin/git"),
    "jq": ("jq", "/usr/bin/jq"),
    "xmllint": ("libxml2-utils", "/usr/bin/xmllint"),
    "convert": ("imagemagick", "/usr/bin/convert"),
    "ps": ("procps", "/usr/bin/ps"),
    "ip": ("iproute2", "/usr/bin/ip"),
    "ping": ("iputils-ping", "/usr/bin/ping"),
    "make": ("make", "/usr/bin/make"),
    "gcc": ("gcc", "/usr/bin/gcc"),
    "unzip": ("unzip", "/usr/bin/unzip"),
    "xz": ("xz-utils", "/usr/bin/xz"),
    "envsubst": ("gettext-base", "/usr/bin/envsubst"),
    "xsltproc": ("xsltproc", "/usr/bin/xsltproc"),
    "file": ("file", "/usr/bin/file"),
    "rsync": ("rsync", "/usr/bin/rsync"),
    "ssh": ("openssh-client", "/usr/bin/ssh"),
    "dig": ("bind9-dnsutils", "/usr/bin/dig"),
    "netstat": ("net-tools", "/usr/bin/netstat"),
    "sqlite3": ("sqlite3", "/usr/bin/sqlite3"),
    "ldapsearch": ("ldap-utils", "/usr/bin/ldapsearch"),
    "nasm": ("nasm", "/usr/bin/nasm"),
    "whois": ("whois", "/usr/bin/whois"),
    "gfortran": ("gfortran", "/usr/bin/gfortran"),
    "ncdu": ("ncdu", "/usr/bin/ncdu"),
    "kubectl": ("kubernetes-client", "/usr/bin/kubectl"),
    "mysql": ("mariadb-client", "/usr/bin/mysql"),
    "7z": ("p7zip-full", "/usr/bin/7z"),
    "gcc-12": ("gcc-12", "/usr/bin/gcc-12"),
}


@pytest.mark.parametrize("command", sorted(BOOKWORM_HINTS))
def test_missing_command_names_the_debian_package(command):
    package, path = BOOKWORM_HINTS[command]
    found = findings_for(f"FROM debian:bookworm-slim\nRUN {command} --version\n", "AN6001")
    assert [f.message for f in found] == [
        f"{command}: not installed in debian:bookworm-slim at this point; "
        f"`apt-get install {package}` (Debian package {package}) provides {path}"
    ]


@pytest.mark.parametrize(
    "base,release,note",
    [
        ("debian:bookworm", "bookworm", ""),
        ("debian:12-slim", "bookworm", ""),
        ("debian:oldstable", "bookworm", ""),
        ("python:3.12-slim-bookworm", "bookworm", ""),
        ("debian:trixie-slim", "trixie", ""),
        ("debian:13", "trixie", ""),
        ("debian:latest", "trixie", ""),
        ("debian:stable-slim", "trixie", ""),
        ("python:3.12-slim", "trixie", ""),  # FROM debian:trixie-slim per the official-image parents
        ("ubuntu:22.04", "bookworm", "; ubuntu:22.04: using Debian bookworm's index"),
        ("ubuntu:noble", "trixie", "; ubuntu:24.04: using Debian trixie's index"),
    ],
)
def test_each_base_uses_its_release(base, release, note):
    text = f"FROM {base}\nRUN kubectl version\nRUN gcc-14 --version\n"
    kubectl, gcc14 = findings_for(text, "AN6001")
    expected = "kubernetes-client" if release == "bookworm" else "kubectl"
    assert kubectl.message.endswith(f"`apt-get install {expected}` (Debian package {expected}) provides /usr/bin/kubectl{note}")
    if release == "bookworm":  # no bookworm package ships gcc-14
        assert gcc14.message == f"gcc-14: not installed in {base} at this point"
    else:
        assert gcc14.message.endswith(f"`apt-get install gcc-14` (Debian package gcc-14) provides /usr/bin/gcc-14{note}")


def test_installs_follow_the_release_of_the_base():
    # 7zip ships 7z in trixie, only 7zz in bookworm
    run = "RUN apt-get update && apt-get install -y --no-install-recommends 7zip && 7z x a.7z && 7zz x a.7z\n"
    bookworm = findings_for("FROM debian:bookworm-slim\n" + run, "AN6001")
    assert [f.message.split(";")[0] for f in bookworm] == ["7z: not installed in debian:bookworm-slim at this point"]
    trixie = findings_for("FROM debian:trixie-slim\n" + run, "AN6001")
    assert [f.message.split(";")[0] for f in trixie] == ["7zz: not installed in debian:trixie-slim at this point"]


def test_load_times_and_laziness():
    code = (
        "import time, json;"
        "from analyzer.rules import lint_text;"
        "from analyzer.knowledge import debian_index as di;"
        "lint_text('FROM alpine:3.20\\nRUN curl -V\\n');"
        "lint_text('FROM debian:bookworm-slim\\nRUN apt-get install -y wget && wget -q x && ls\\n');"
        "lazy = sorted(di._LOADED) + sorted(di._PACKAGES);"
        "lint_text('FROM debian:trixie-slim\\nRUN apt-get install -y xsltproc && xsltproc a b\\n');"
        "lazy.append(sorted(di._LOADED));"
        "out = {};"
        "exec(\"for r in ('bookworm', 'trixie'):\\n"
        " t = time.perf_counter(); di.commands_of_package(r, 'wget'); a = time.perf_counter() - t\\n"
        " t = time.perf_counter(); di.packages_providing(r, 'jq'); b = time.perf_counter() - t\\n"
        " t = time.perf_counter(); di.package_exists(r, 'postgresql-client'); c = time.perf_counter() - t\\n"
        " out[r] = [a, b, c]\");"
        "print(json.dumps({'lazy': lazy, 'times': out}))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    # an alpine file, and a Debian one whose packages the curated table knows, read no Debian
    # data; a package only the index knows reads the base's release only
    assert got["lazy"] == [["trixie"]]
    for release, (load, reverse, package_list) in got["times"].items():
        assert load < 1.0 and reverse < 1.0 and package_list < 1.0, (release, got["times"])




@pytest.mark.parametrize("release", ["bookworm", "trixie"])
def test_package_lookups_by_scanning_and_by_the_full_map_agree(release):
    import random

    loaded = di._load(release)
    lines = loaded.text.splitlines()
    table = dict(line.split("\t", 1) for line in lines)
    assert len(table) == len(lines)  # one line per package: the first match is the only one
    names = sorted(table)
    rng = random.Random(3)
    asked = [names[0], names[-1], *rng.sample(names, 300), "no-such-package", "", "curl\tx", "a\ncurl", "lib", "git-", "7zip"]
    scanning = di._Release(loaded.header, None, loaded.text, 0.0)
    mapped = di._Release(loaded.header, dict(table), loaded.text, 0.0)
    for name in asked:
        assert scanning.paths(name) == mapped.paths(name), name
        assert scanning.has(name) == (name in table), name
    assert scanning.commands is not None  # past the limit the map was built, with what was found kept
    for name in rng.sample(names, 200) + ["no-such-package"]:
        assert scanning.paths(name) == mapped.paths(name), name
    few = di._Release(loaded.header, None, loaded.text, 0.0)
    assert few.paths("curl") == mapped.paths("curl") and "/usr/bin/curl" in few.paths("curl")
    assert few.commands is None  # a few lookups build nothing

"""The Debian package -> commands index shipped from the archive's Contents files.

Benchmark note (2-core shared machine, bookworm, 14,476 packages / 47,059 paths, 288 KB):
reading the index takes 20-30 ms once per process; the reverse (command -> packages) map
is built on the first reverse lookup in 50-100 ms. No test here times it.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from analyzer.knowledge import debian_index as di
from analyzer.knowledge import packages

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "analyzer" / "knowledge" / "data"


def test_shipped_file_header_and_layout():
    path = DATA / "debian-bookworm-commands.tsv.gz"
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    head = json.loads(lines[0][1:])
    assert head["release"] == "bookworm" and head["format"] == "debian-commands/1"
    assert any(s.endswith("/dists/bookworm/main/Contents-amd64") for s in head["source"])
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
    assert di.header("bookworm")["release"] == "bookworm"


@pytest.mark.parametrize(
    "package,path",
    [
        ("wget", "/usr/bin/wget"),
        ("curl", "/usr/bin/curl"),
        ("git", "/usr/bin/git"),
        ("make", "/usr/bin/make"),
        ("gcc", "/usr/bin/gcc"),  # the gcc package ships the /usr/bin/gcc link to gcc-12
        ("gcc-12", "/usr/bin/gcc-12"),
        ("jq", "/usr/bin/jq"),
        ("procps", "/bin/ps"),
        ("adduser", "/usr/sbin/adduser"),  # Architecture: all, from Contents-all
        ("xsltproc", "/usr/bin/xsltproc"),
    ],
)
def test_package_commands(package, path):
    assert path in di.commands_of_package("bookworm", package)


def test_unknown_and_library_packages():
    assert di.commands_of_package("bookworm", "no-such-package-xyz") is None
    assert di.commands_of_package("bookworm", "libc6") is None
    assert "/usr/bin/gcc-12" not in di.commands_of_package("bookworm", "gcc")
    assert di.commands_of_package("bookworm", "wget") == ("/usr/bin/wget",)


def test_reverse_lookups():
    assert di.packages_providing("bookworm", "jq")[0] == "jq"
    assert di.packages_providing("bookworm", "ps")[0] == "procps"
    assert di.packages_providing("bookworm", "gcc")[0] == "gcc"
    assert di.packages_providing("bookworm", "xmlstarlet") == ["xmlstarlet"]
    assert di.packages_providing("bookworm", "surely-not-a-command") == []


def test_unshipped_release_is_a_clear_error():
    with pytest.raises(di.IndexUnavailable, match="no Debian command index for 'potato'"):
        di.commands_of_package("potato", "wget")


@pytest.mark.parametrize(
    "family,version,release,note",
    [
        ("debian", "bookworm", "bookworm", ""),
        ("debian", "bookworm-slim", "bookworm", ""),
        ("debian", "12.5", "bookworm", ""),
        ("ubuntu", "jammy", "bookworm", "closest Debian release"),
        ("ubuntu", "22.04", "bookworm", "Ubuntu 22.04 (jammy)"),
    ],
)
def test_release_for(family, version, release, note):
    choice = di.release_for(family, version)
    assert choice.release == release
    assert note in choice.note
    if not note:
        assert choice.note == ""


def test_release_for_noble_asks_for_trixie():
    choice = di.release_for("ubuntu", "noble")
    assert "trixie" in choice.note and "24.04" in choice.note
    assert choice.release == ("trixie" if "trixie" in di.available_releases() else "bookworm")
    assert di.release_for("ubuntu", "24.04") == choice


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

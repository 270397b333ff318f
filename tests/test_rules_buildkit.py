"""The BuildKit check equivalents (AN1001-AN1018): triggers, quiet cases, positions."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from analyzer.files import read_input
from analyzer.rules import LintOptions, lint, lint_text, load_catalog

from conftest import assert_finds, assert_not_finds, findings_for

ROOT = Path(__file__).resolve().parent.parent

BUILDKIT_CHECKS = {
    "StageNameCasing": "AN1001",
    "FromAsCasing": "AN1002",
    "NoEmptyContinuation": "AN1003",
    "ConsistentInstructionCasing": "AN1004",
    "DuplicateStageName": "AN3024",
    "ReservedStageName": "AN1005",
    "JSONArgsRecommended": "AN3025",
    "MaintainerDeprecated": "AN4000",
    "UndefinedArgInFrom": "AN1006",
    "WorkdirRelativePath": "AN1007",
    "UndefinedVar": "AN1008",
    "MultipleInstructionsDisallowed": "AN4003",
    "LegacyKeyValueFormat": "AN1009",
    "InvalidBaseImagePlatform": "AN1010",
    "RedundantTargetPlatform": "AN1011",
    "SecretsUsedInArgOrEnv": "AN1012",
    "InvalidDefaultArgInFrom": "AN1013",
    "FromPlatformFlagConstDisallowed": "AN1014",
    "CopyIgnoredFile": "AN1015",
    "ExposeProtoCasing": "AN1016",
    "ExposeInvalidFormat": "AN1017",
    "InvalidDefinitionDescription": "AN1018",
}


def test_every_buildkit_check_has_a_rule():
    catalog = load_catalog()
    for name, rid in BUILDKIT_CHECKS.items():
        assert rid in catalog, name
        assert name in catalog[rid].aliases, (name, rid)


def test_buildkit_rules_default_to_warning_with_stated_exceptions():
    catalog = load_catalog()
    errors = {rid for rid in ("AN1010", "AN1013", "AN1015")}
    for rid in (r for r in BUILDKIT_CHECKS.values() if r.startswith("AN1")):
        expected = "error" if rid in errors else ("info" if rid == "AN1018" else "warning")
        assert catalog[rid].severity == expected, rid


# -- the # check= directive -----------------------------------------------------------------


def test_check_skip_directive_silences_a_check_by_its_buildkit_name():
    text = "# check=skip=StageNameCasing\nFROM alpine:3.20 AS Builder\n"
    assert_not_finds("AN1001", text)
    assert_finds("AN1001", "FROM alpine:3.20 AS Builder\n", 1, 21)


def test_check_skip_all_silences_buildkit_checks():
    assert_not_finds("AN1016", "# check=skip=all\nFROM alpine:3.20\nEXPOSE 80/TCP\n")


def test_check_error_true_makes_buildkit_warnings_errors():
    text = "# check=error=true\nFROM alpine:3.20\nEXPOSE 80/TCP\n"
    (finding,) = findings_for(text, "AN1016")
    assert finding.severity == "error"
    (plain,) = findings_for("FROM alpine:3.20\nEXPOSE 80/TCP\n", "AN1016")
    assert plain.severity == "warning"


def test_check_error_true_leaves_our_own_rules_alone():
    text = "# check=error=true\nFROM node:20 AS unused\nFROM node:20-slim\n"
    (finding,) = findings_for(text, "AN5005")
    assert finding.severity == "info"


# -- stage names and keyword casing -------------------------------------------------------------


def test_stage_name_casing_points_at_the_name():
    (f,) = assert_finds("AN1001", "FROM --platform=$BUILDPLATFORM golang:1.22 AS GoBuild\n", 1, 47)
    assert (f.end_line, f.end_column) == (1, 54)
    assert "'gobuild'" in f.message


def test_stage_name_casing_quiet_on_lowercase_and_unnamed():
    assert_not_finds("AN1001", "FROM alpine:3.20 AS go-build_2.x\nFROM alpine:3.20\n")


@pytest.mark.parametrize(
    "line,fires",
    [
        ("FROM debian:12 as build", True),
        ("from debian:12 AS build", True),
        ("FROM debian:12 As build", True),
        ("FROM debian:12 AS build", False),
        ("from debian:12 as build", False),
        ("From debian:12 as build", False),  # mixed-case FROM: ConsistentInstructionCasing's business
        ("FROM debian:12", False),
    ],
)
def test_from_as_casing(line, fires):
    found = findings_for(line + "\n", "AN1002")
    assert bool(found) is fires


def test_consistent_casing_majority_and_ties():
    # two lower, one upper: upper is the odd one
    (f,) = findings_for("from alpine:3.20\nrun echo a\nCMD [\"a\"]\n", "AN1004")
    assert (f.line, f.column) == (3, 1) and "lowercase" in f.message
    # a tie counts as uppercase
    (f,) = findings_for("FROM alpine:3.20\nrun echo a\n", "AN1004")
    assert f.line == 2 and "uppercase" in f.message
    # mixed case is always wrong, and does not count towards a majority
    found = findings_for("FROM alpine:3.20\nRun echo a\nCmd [\"a\"]\n", "AN1004")
    assert [f.line for f in found] == [2, 3]


def test_consistent_casing_ignores_global_args_and_checks_onbuild_keyword():
    assert_not_finds("AN1004", "arg V=1\nFROM alpine:3.20\nRUN echo $V\n")
    assert_finds("AN1004", "FROM alpine:3.20\nONBUILD RUN a\nonbuild RUN b\n", 3, 1)


@pytest.mark.parametrize("name", ["scratch", "context", "SCRATCH"])
def test_reserved_stage_names(name):
    assert_finds("AN1005", f"FROM alpine:3.20 AS {name}\n", 1, 21)


def test_reserved_name_is_fine_as_a_base():
    assert_not_finds("AN1005", "FROM scratch AS rootfs\n")


# -- empty continuation lines -------------------------------------------------------------------


def test_empty_continuation_reported_once_per_instruction_at_first_empty_line():
    text = "FROM alpine:3.20\nRUN apk add \\\n\n    curl \\\n   \n    git\n"
    (f,) = findings_for(text, "AN1003")
    assert (f.line, f.column) == (3, 1)
    assert "lines 3, 5" in f.message


def test_comment_lines_and_heredoc_bodies_are_not_empty_continuations():
    assert_not_finds("AN1003", "FROM alpine:3.20\nRUN apk add \\\n# curl\n    git\n")
    assert_not_finds("AN1003", "FROM alpine:3.20\nRUN <<EOF\necho a\n\necho b\nEOF\n")
    assert_not_finds("AN1003", "FROM alpine:3.20\nRUN echo a\n\nRUN echo b\n")


def test_empty_continuation_with_backtick_escape():
    text = "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir `\n\n  C:\\\n"
    assert_finds("AN1003", text, 4, 1)


# -- ARGs in FROM ----------------------------------------------------------------------------------


def test_undefined_arg_in_from_suggests_a_close_global_arg():
    (f,) = assert_finds("AN1006", "ARG VERSION=3.20\nFROM alpine:${VERSON}\n", 2, 13)
    assert "did you mean VERSION?" in f.message
    assert (f.end_line, f.end_column) == (2, 22)


def test_undefined_arg_in_from_checks_the_platform_flag_too():
    assert_finds("AN1006", "FROM --platform=$PLATFORM alpine:3.20\n", 1, 17)


def test_arg_declared_inside_a_stage_does_not_count_for_from():
    text = "FROM alpine:3.20\nARG TAG=3.20\nFROM alpine:$TAG\n"
    assert_finds("AN1006", text, 3, 13)


def test_predefined_platform_args_and_declared_args_without_value_are_defined():
    assert_not_finds("AN1006", "FROM --platform=$BUILDPLATFORM golang:1.22\nFROM alpine:3.20-$TARGETARCH\n")
    assert_not_finds("AN1006", "ARG VARIANT\nFROM busybox:stable${VARIANT}\n")


def test_invalid_default_arg_ignores_build_args():
    text = "ARG TAG\nFROM busybox:${TAG}\n"
    assert findings_for(text, "AN1013", build_args=(("TAG", "1.36"),))
    (f,) = findings_for(text, "AN1013")
    assert "busybox:" in f.message and f.severity == "error"


def test_invalid_default_arg_accepts_stage_names_and_scratch():
    assert_not_finds("AN1013", "ARG BASE=builder\nFROM alpine:3.20 AS builder\nFROM $BASE\n")
    assert_not_finds("AN1013", "ARG BASE=scratch\nFROM $BASE\n")


def test_invalid_default_arg_reports_uppercase_repository():
    assert_finds("AN1013", "ARG IMAGE=myorg/App:1\nFROM ${IMAGE}\n", 2, 6)
    # an uppercase first component is a registry host to Docker, so this one is valid
    assert_not_finds("AN1013", "ARG IMAGE=MyOrg/app:1\nFROM ${IMAGE}\n")


# -- platforms ----------------------------------------------------------------------------------------


def test_redundant_target_platform_only_for_exactly_targetplatform():
    assert_finds("AN1011", "FROM --platform=$TARGETPLATFORM alpine:3.20\n", 1, 6)
    assert_not_finds("AN1011", "FROM --platform=$BUILDPLATFORM alpine:3.20\n")
    assert_not_finds("AN1011", "FROM --platform=${TARGETOS}/${TARGETARCH} alpine:3.20\n")


def test_constant_platform_allowed_when_the_stage_is_named_after_it():
    assert_not_finds("AN1014", "FROM --platform=linux/arm64 alpine:3.20 AS build-arm64\n")
    assert_not_finds("AN1014", "FROM --platform=windows/amd64 mcr.microsoft.com/windows/nanoserver:ltsc2022 AS windows-base\n")
    assert_finds("AN1014", "FROM --platform=windows/amd64 mcr.microsoft.com/windows/nanoserver:ltsc2022 AS win\n", 1, 6)
    assert_finds("AN1014", "FROM --platform=linux/x86_64 alpine:3.20 AS build\n", 1, 6)


def test_constant_platform_from_global_arg_is_not_constant():
    assert_not_finds("AN1014", "ARG P=linux/amd64\nFROM --platform=$P alpine:3.20\n")


def test_base_image_platform_from_arch_namespace():
    (f,) = assert_finds("AN1010", "FROM --platform=linux/amd64 arm64v8/alpine:3.20\n", 1, 29)
    assert "linux/arm64" in f.message
    assert_not_finds("AN1010", "FROM --platform=linux/arm/v6 arm32v7/alpine:3.20\n")  # variants are not compared


def test_base_image_platform_uses_the_platform_option_for_stages_without_flag():
    text = "FROM arm64v8/alpine:3.20\n"
    assert_not_finds("AN1010", text)
    found = lint_text(text, LintOptions(rule_options=(("AN1010", {"platform": "linux/amd64"}),)))
    assert [f.rule for f in found if f.rule == "AN1010"] == ["AN1010"]


# -- WORKDIR ------------------------------------------------------------------------------------------------


def test_only_the_first_workdir_of_a_stage_chain_is_judged():
    assert_not_finds("AN1007", "FROM debian:12\nWORKDIR /app\nWORKDIR src\n")
    assert_finds("AN1007", "FROM debian:12\nWORKDIR src\nWORKDIR /app\nWORKDIR lib\n", 2, 9)
    assert len(findings_for("FROM debian:12\nWORKDIR src\nWORKDIR lib\n", "AN1007")) == 1


def test_workdir_set_in_the_parent_stage_carries_over():
    assert_not_finds("AN1007", "FROM debian:12 AS base\nWORKDIR /srv\nFROM base\nWORKDIR app\n")
    assert_finds("AN1007", "FROM debian:12 AS base\nWORKDIR /srv\nFROM debian:12\nWORKDIR app\n", 4, 9)


def test_workdir_judged_after_expansion():
    assert_not_finds("AN1007", "FROM debian:12\nARG DIR=/opt/app\nWORKDIR $DIR\n")
    assert_not_finds("AN1007", "FROM debian:12\nWORKDIR $UNKNOWN/app\n")  # value unknown: not judged
    assert_not_finds("AN1007", "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nWORKDIR C:\\\\app\n")


# -- UndefinedVar ---------------------------------------------------------------------------------------------


def test_undefined_var_in_each_expanding_instruction():
    text = (
        "FROM scratch\n"
        "COPY --chown=$OWNER src /dst\n"
        "LABEL version=$VER\n"
        "USER $APP_USER\n"
        "VOLUME $DATA_DIR\n"
        "STOPSIGNAL $SIG\n"
        "ENV A=$MISSING\n"
        "ARG B=$ALSO_MISSING\n"
    )
    found = findings_for(text, "AN1008")
    assert [(f.line, f.column) for f in found] == [(2, 14), (3, 15), (4, 6), (5, 8), (6, 12), (7, 7), (8, 7)]


def test_undefined_var_not_reported_for_run_cmd_or_declared_args():
    text = "FROM scratch\nARG NAME\nCOPY $NAME /x\nRUN echo $NOPE\nCMD echo $NOPE\n"
    assert_not_finds("AN1008", text)


def test_undefined_var_suggestion_and_message():
    (f,) = findings_for("FROM scratch\nENV APP_HOME=/app\nCOPY . ${APP_HOEM}/\n", "AN1008")
    assert "'$APP_HOEM'" in f.message and "did you mean $APP_HOME?" in f.message
    assert (f.line, f.column) == (3, 8)


def test_undefined_var_unknown_base_env_reports_only_misspellings():
    # the base image's ENV is unknown: NB_UID may come from it
    assert_not_finds("AN1008", "FROM example.com/team/notebook:1\nUSER ${NB_UID}\n")
    assert_finds("AN1008", "FROM example.com/team/notebook:1\nENV PATH=$PTAH:/opt/bin\n", 2, 10)


def test_undefined_var_child_stage_inherits_parent_variables():
    assert_not_finds("AN1008", "FROM scratch AS base\nENV ROOT=/srv\nFROM base\nCOPY a $ROOT/a\n")
    assert_finds("AN1008", "FROM scratch AS base\nENV ROOT=/srv\nFROM scratch\nCOPY a $ROOT/a\n", 4, 8)


# -- key=value ------------------------------------------------------------------------------------------------


def test_legacy_format_env_label_and_onbuild():
    assert_finds("AN1009", "FROM alpine:3.20\nENV  GOPATH /go\n", 2, 6)
    assert_finds("AN1009", "FROM alpine:3.20\nONBUILD ENV A b\n", 2, 13)
    assert_not_finds("AN1009", 'FROM alpine:3.20\nENV A=1 B="two words"\nLABEL "com.example.x"="y"\n')


def test_arg_has_no_legacy_form():
    assert_not_finds("AN1009", "FROM alpine:3.20\nARG A B\n")


# -- secrets by name ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,fires",
    [
        ("API_KEY", True),
        ("apikey", True),
        ("GITHUB_TOKEN", True),
        ("DB_PASSWORD", True),
        ("AUTH", True),
        ("SECRET_MESSAGE", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("CREDENTIALS", True),
        ("PUBLIC_KEY", False),
        ("SSH_KEY_FILE", False),
        ("TOKEN_VERSION", False),
        ("KEYBOARD", False),
        ("MONKEY", False),
        ("AUTHOR", False),
        ("PASSWORDLESS", False),
    ],
)
def test_secret_names(name, fires):
    found = findings_for(f"FROM alpine:3.20\nARG {name}\n", "AN1012")
    assert bool(found) is fires


def test_secret_name_in_global_arg_and_env_pairs_is_located():
    assert_finds("AN1012", "ARG NPM_TOKEN\nFROM node:20\n", 1, 5)
    assert_finds("AN1012", "FROM node:20\nENV A=1 \\\n    API_KEY=x\n", 3, 5)


# -- EXPOSE ------------------------------------------------------------------------------------------------------


def test_expose_checked_after_expansion():
    text = "FROM alpine:3.20\nARG PORT=8080:80\nEXPOSE $PORT\n"
    (f,) = findings_for(text, "AN1017")
    assert (f.line, f.column) == (3, 8) and "8080:80" in f.message
    assert_finds("AN1016", "FROM alpine:3.20\nARG PROTO=UDP\nEXPOSE 53/$PROTO\n", 3, 8)


def test_expose_ipv6_mapping_and_ranges():
    assert_finds("AN1017", "FROM alpine:3.20\nEXPOSE [::1]:80:80\n", 2, 8)
    assert_not_finds("AN1017", "FROM alpine:3.20\nEXPOSE 8000-8100/udp\n")
    assert_not_finds("AN1016", "FROM alpine:3.20\nEXPOSE 80/sctp 81\n")


# -- CopyIgnoredFile with real files -----------------------------------------------------------------------------------


def _lint_file(path: Path, **options):
    return [f for f in lint(read_input(str(path), str(path)), LintOptions(**options))]


def test_copy_ignored_file_reads_dockerignore_next_to_the_dockerfile(tmp_path):
    (tmp_path / ".dockerignore").write_text("*.log\nsecrets/\n")
    df = tmp_path / "Dockerfile"
    df.write_text("FROM alpine:3.20\nCOPY app.log secrets/key.pem src/ /app/\nCOPY --from=build secrets/x /x\n")
    found = [f for f in _lint_file(df) if f.rule == "AN1015"]
    assert [(f.line, f.column) for f in found] == [(2, 6), (2, 14)]
    assert "excluded by .dockerignore" in found[0].message


def test_copy_ignored_file_prefers_the_dockerfile_specific_ignore_file(tmp_path):
    (tmp_path / ".dockerignore").write_text("docs\n")
    (tmp_path / "web.Dockerfile.dockerignore").write_text("assets\n")
    df = tmp_path / "web.Dockerfile"
    df.write_text("FROM nginx:1.27\nCOPY docs /d\nCOPY assets /a\n")
    found = [f for f in _lint_file(df) if f.rule == "AN1015"]
    assert [f.line for f in found] == [3]
    assert "web.Dockerfile.dockerignore" in found[0].message


def test_copy_ignored_file_quiet_with_exceptions_urls_heredocs_and_root(tmp_path):
    (tmp_path / ".dockerignore").write_text("tmp\n")
    df = tmp_path / "Dockerfile"
    df.write_text(
        "FROM alpine:3.20\nADD https://example.com/tmp /tmp\nCOPY <<tmp /x\nhi\ntmp\nCOPY . /src\n"
    )
    assert not [f for f in _lint_file(df) if f.rule == "AN1015"]
    (tmp_path / ".dockerignore").write_text("tmp\n!tmp/keep\n")
    df.write_text("FROM alpine:3.20\nCOPY tmp/other /x\n")
    assert not [f for f in _lint_file(df) if f.rule == "AN1015"]


def test_copy_of_the_whole_context_when_everything_is_ignored(tmp_path):
    (tmp_path / ".dockerignore").write_text("*\n")
    df = tmp_path / "Dockerfile"
    df.write_text("FROM alpine:3.20\nCOPY . /src\n")
    assert [f.line for f in _lint_file(df) if f.rule == "AN1015"] == [2]


def test_copy_ignored_file_expands_variables(tmp_path):
    (tmp_path / ".dockerignore").write_text("dist\n")
    df = tmp_path / "Dockerfile"
    df.write_text("FROM alpine:3.20\nARG OUT=dist\nCOPY ${OUT}/app /app\n")
    assert [f.line for f in _lint_file(df) if f.rule == "AN1015"] == [3]


def test_unreadable_dockerignore_is_skipped_not_fatal(tmp_path):
    (tmp_path / ".dockerignore").write_text("[broken\n")
    df = tmp_path / "Dockerfile"
    df.write_text("FROM alpine:3.20\nCOPY a /a\n")
    assert not [f for f in _lint_file(df) if f.rule == "AN1015"]


def test_stdin_has_no_dockerignore_but_patterns_option_works():
    text = "FROM alpine:3.20\nCOPY build/app /app\n"
    assert not [f for f in lint_text(text, path="<stdin>") if f.rule == "AN1015"]
    opts = LintOptions(rule_options=(("AN1015", {"patterns": ["build"]}),))
    assert [f.line for f in lint_text(text, opts, path="<stdin>") if f.rule == "AN1015"] == [2]


def test_copy_ignored_file_through_the_command_line(tmp_path):
    (tmp_path / ".dockerignore").write_text("node_modules\n")
    df = tmp_path / "Dockerfile"
    df.write_text("FROM node:20-slim\nCOPY node_modules /app/node_modules\n")
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "GITHUB_ACTIONS")}
    proc = subprocess.run(
        [sys.executable, "-m", "analyzer", "--format", "json", str(df)],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=60,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    data = json.loads(proc.stdout)
    hits = [f for f in data["files"][0]["findings"] if f["rule"] == "AN1015"]
    assert [(h["line"], h["column"], h["severity"]) for h in hits] == [(2, 6, "error")]
    assert "CopyIgnoredFile" in hits[0]["aliases"]
    assert proc.returncode == 1


# -- descriptions -------------------------------------------------------------------------------------------------------


def test_description_comment_rules():
    assert_not_finds("AN1018", "# VERSION picks the release\nARG VERSION=1\nFROM alpine:3.20\n")
    assert_finds("AN1018", "# picks the release\nARG VERSION=1\nFROM alpine:3.20\n", 1, 1)
    # only the last comment line directly above counts; an empty # resets the block
    assert_not_finds("AN1018", "# unrelated\n#\nFROM alpine:3.20\n")
    assert_not_finds("AN1018", "# unrelated\n# VERSION the release\nARG VERSION=1\nFROM alpine:3.20\n")
    # an unnamed stage has nothing to describe
    assert_not_finds("AN1018", "# the runtime image\nFROM alpine:3.20\n")


def test_description_ignores_parser_directives_and_pragmas():
    assert_not_finds("AN1018", "# syntax=docker/dockerfile:1\nARG VERSION=1\nFROM alpine:3.20\n")
    assert_not_finds("AN1018", "FROM alpine:3.20\n# hadolint ignore=DL3018\nARG PKGS=curl\n")


def test_description_with_several_args_names_a_placeholder():
    (f,) = findings_for("FROM alpine:3.20\n# versions\nARG A=1 B=2\n", "AN1018")
    assert "<arg_key>" in f.message


def test_context_option_points_at_another_context_directory(tmp_path):
    ctx_dir = tmp_path / "ctx"
    ctx_dir.mkdir()
    (ctx_dir / ".dockerignore").write_text("vendor\n")
    df = tmp_path / "docker" / "Dockerfile"
    df.parent.mkdir()
    df.write_text("FROM alpine:3.20\nCOPY vendor /vendor\n")
    assert not [f for f in _lint_file(df) if f.rule == "AN1015"]
    found = _lint_file(df, rule_options=(("AN1015", {"context": str(ctx_dir)}),))
    assert [f.line for f in found if f.rule == "AN1015"] == [2]


def test_ignore_patterns_from_a_config_file_for_stdin(tmp_path):
    config = tmp_path / "analyze.yaml"
    config.write_text("rules:\n  CopyIgnoredFile:\n    options:\n      patterns: [build, '*.log']\n")
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "GITHUB_ACTIONS")}
    proc = subprocess.run(
        [sys.executable, "-m", "analyzer", "--format", "json", "--config", str(config), "-"],
        input="FROM alpine:3.20\nCOPY build/app x.log src /app/\n",
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    hits = [f for f in json.loads(proc.stdout)["files"][0]["findings"] if f["rule"] == "AN1015"]
    assert [h["column"] for h in hits] == [6, 16]

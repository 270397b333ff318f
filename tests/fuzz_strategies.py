"""Grammar-shaped input generators and the properties they are checked against.

Shared by ``tests/test_fuzz.py`` (a short run in CI) and ``tools/fuzz.py`` (a long run on
demand). Each entry of :data:`TARGETS` pairs a hypothesis strategy with a check function;
a check returns normally for a good outcome (a result, or one of the project's own
``AnalyzerError`` subclasses) and raises ``AssertionError`` (or lets any other exception
out) for a bug.

The generators build Dockerfiles from the grammar (keywords, flags, JSON and shell forms,
heredocs, continuations with either escape character, parser directives, suppression
pragmas, ``${a:-${b}}`` expansions, shell scripts with nesting), then sometimes mutate
them, so that the checks reach the deep code rather than stopping at the first parse
error.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import re
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Optional
from urllib.parse import unquote_to_bytes

from hypothesis import strategies as st

from analyzer.model import AnalyzerError, DecodeError, Finding, ParseError, Script

DATA = Path(__file__).resolve().parent / "data"

# --------------------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------------------

VAR_NAMES = ["A", "B", "TAG", "VERSION", "HOME", "PATH", "x", "y_1", "BUILDPLATFORM", "TARGETARCH", "é", "1", "@", "#"]
PLAIN_WORDS = [
    "a", "b", "app", "/app", "./src", "/usr/local/bin", ".", "..", "*.txt", "[ab]", "~", "-", "--",
    "https://example.com/x.tar.gz", "git@github.com:o/r.git", "1000", "0", "80/tcp", "8080-8090",
    "root", "1000:1000", "key=value", "k=\"v w\"", "=", "日本", "\U0001F600", "\t", "a b",
    "C:\\\\path", "%", "::", "]]>", "<x>", "&amp;", "\x1b[31m", "\u2028", "'", '"', ";", "&&",
]
MODIFIERS = [":-", "-", ":+", "+", ":?", "?", "#", "##", "%", "%%", "/", "//", ":", ""]


def _var_ref(inner: st.SearchStrategy) -> st.SearchStrategy:
    name = st.sampled_from(VAR_NAMES)
    braced = st.tuples(name, st.sampled_from(MODIFIERS), inner).map(
        lambda t: "${" + t[0] + (t[1] + t[2] if t[1] else "") + "}"
    )
    replace = st.tuples(name, st.sampled_from(["/", "//"]), inner, inner).map(
        lambda t: "${" + t[0] + t[1] + t[2] + "/" + t[3] + "}"
    )
    broken = st.sampled_from(["$", "${", "${}", "${:-x}", "${A", "${A:", "${A:-", "${A:1:2}", "${A^^}", "$(", "$((1))", "${A/", "\\$A", "$$"])
    return st.one_of(name.map(lambda n: "$" + n), braced, replace, broken)


@lru_cache(maxsize=None)
def words(escape: str = "\\") -> st.SearchStrategy:
    """One word of an instruction: plain text, variables (nested), quotes, escapes."""
    base = st.one_of(
        st.sampled_from(PLAIN_WORDS),
        st.from_regex(r"[a-z0-9._/-]{1,12}", fullmatch=True),
    )

    def extend(inner):
        return st.one_of(
            _var_ref(inner),
            st.lists(inner, min_size=2, max_size=3).map("".join),
            inner.map(lambda w: '"' + w.replace('"', "") + '"'),
            inner.map(lambda w: "'" + w.replace("'", "") + "'"),
            inner.map(lambda w: escape + w),
        )

    return st.recursive(base, extend, max_leaves=6).filter(lambda w: "\n" not in w and "\r" not in w)


# --------------------------------------------------------------------------------------
# Shell scripts
# --------------------------------------------------------------------------------------

COMMAND_NAMES = [
    "apt-get", "apt", "apk", "yum", "dnf", "microdnf", "zypper", "pip", "pip3", "npm", "yarn", "pnpm", "gem",
    "go", "cargo", "curl", "wget", "git", "cd", "ln", "chmod", "chown", "useradd", "adduser", "mkdir", "rm",
    "echo", "cat", "tar", "unzip", "make", "su", "sudo", "source", ".", "export", "set", "apt-key", "gpg",
    "/bin/sh", "/usr/bin/env", "env", "ssh", "mv", "cp", "sed", "tee", "install", "rpm", "dpkg", "pacman",
    "conda", "poetry", "uv", "python", "python3", "bash", "sh", "xargs", "find", "time", "nohup", "exec",
    "command", "eval", "true", "false", "test", "[", "[[", "update-alternatives", "ldconfig", "groupadd",
    "usermod", "ADD", "${CMD}", "$(which pip)", "\"$X\"", "'quoted name'",
]
ARGS = [
    "-y", "--no-install-recommends", "install", "update", "upgrade", "add", "--no-cache", "--virtual",
    ".build-deps", "curl", "curl=7.88.1-10", "python3>=3", "nginx@1", "-rf", "/var/lib/apt/lists/*",
    "--user", "-e", ".", "-qq", "--allow-unauthenticated", "clean", "all", "-q", "-O-", "-fsSL",
    "http://example.com/install.sh", "-o", "/tmp/x", "-r", "requirements.txt", "--no-cache-dir",
    "-g", "--prefix", "/usr/local", "-m", "pip", "-c", "-u", "1000", "-s", "/bin/bash", "-S", "app",
    "755", "+x", "root:root", "$HOME", "${A:-x}", "\"$@\"", "'single'", "{}", "\\;", "--", "-",
    "*.deb", "~/.cache", "a=b", "--mount=type=cache,target=/x", "2>&1", ">/dev/null", "<", "*",
]


@lru_cache(maxsize=None)
def _simple_command() -> st.SearchStrategy:
    return st.tuples(
        st.lists(st.sampled_from(["X=1", "DEBIAN_FRONTEND=noninteractive", "sudo", "env A=1", "time", "!"]), max_size=2),
        st.sampled_from(COMMAND_NAMES),
        st.lists(st.sampled_from(ARGS), max_size=5),
        st.lists(st.sampled_from([">/dev/null", "2>&1", ">> /tmp/log", "< /etc/passwd", "<<< \"$x\"", "&>/dev/null", "|| true"]), max_size=1),
    ).map(lambda t: " ".join([*t[0], t[1], *t[2], *t[3]]))


@lru_cache(maxsize=None)
def shell_scripts(max_leaves: int = 8) -> st.SearchStrategy:
    """Shell text: commands joined by operators, with subshells, substitutions, control
    flow, functions, ``sh -c`` nesting and heredocs."""

    def extend(inner):
        pair = st.tuples(inner, inner)
        return st.one_of(
            pair.map(lambda p: f"{p[0]} && {p[1]}"),
            pair.map(lambda p: f"{p[0]} || {p[1]}"),
            pair.map(lambda p: f"{p[0]}; {p[1]}"),
            pair.map(lambda p: f"{p[0]} | {p[1]}"),
            pair.map(lambda p: f"{p[0]}\n{p[1]}"),
            inner.map(lambda s: f"( {s} )"),
            inner.map(lambda s: "{ " + s + "; }"),
            inner.map(lambda s: f"echo $({s})"),
            inner.map(lambda s: f"echo `{s}`"),
            pair.map(lambda p: f"if {p[0]}; then {p[1]}; fi"),
            pair.map(lambda p: f"if {p[0]}; then {p[1]}; else true; fi"),
            inner.map(lambda s: f"for x in 1 2 $A; do {s}; done"),
            pair.map(lambda p: f"while {p[0]}; do {p[1]}; done"),
            inner.map(lambda s: f"case $x in a) {s};; *) true;; esac"),
            inner.map(lambda s: "f() { " + s + "; }; f"),
            inner.map(lambda s: "sh -c '" + s.replace("'", "") + "'"),
            inner.map(lambda s: 'bash -c "' + s.replace('"', "") + '"'),
            inner.map(lambda s: f"{s} &"),
            inner.map(lambda s: f"cat <<EOF\n{s}\nEOF"),
            inner.map(lambda s: f"bash <<'X'\n{s}\nX"),
            inner.map(lambda s: f"set -eux; {s}"),
        )

    base = st.one_of(_simple_command(), st.sampled_from(["", "true", ":", "#comment", "exit 1", "a=1", "${", "'", "\"", "(", ")", "done", "fi", "<<", "$'\\x41'"]))
    return st.recursive(base, extend, max_leaves=max_leaves)


# --------------------------------------------------------------------------------------
# Dockerfiles
# --------------------------------------------------------------------------------------

KEYWORDS = [
    "FROM", "RUN", "CMD", "ENTRYPOINT", "COPY", "ADD", "ENV", "ARG", "LABEL", "EXPOSE", "USER", "WORKDIR",
    "VOLUME", "STOPSIGNAL", "HEALTHCHECK", "SHELL", "ONBUILD", "MAINTAINER",
]
IMAGES = [
    "alpine", "alpine:3.19", "ubuntu:22.04", "debian:bookworm-slim", "python:3.12-slim", "node:20",
    "busybox", "scratch", "golang:1.22 ", "ubuntu@sha256:" + "a" * 64, "localhost:5000/x/y:z",
    "ghcr.io/o/r:1", "mcr.microsoft.com/windows/servercore:ltsc2022", "${BASE}", "$IMG:${TAG:-latest}",
    "${IMG:-alpine}:${TAG}", "Invalid/UPPER", "build", "base", "a:b:c", "docker.io/library/nginx:latest",
    "nginx:latest", "centos:7", "fedora", "registry.example.com:443/team/app@sha256:" + "b" * 64, "--", "",
]
FLAGS = {
    "FROM": ["--platform=linux/amd64", "--platform=$BUILDPLATFORM", "--platform=${TARGETPLATFORM}", "--platform=", "--bogus"],
    "RUN": ["--mount=type=cache,target=/var/cache/apt", "--mount=type=secret,id=x", "--mount=type=bind,from=build,source=/a,target=/b",
            "--mount=type=ssh", "--network=none", "--network=host", "--security=insecure", "--mount", "--bogus=1"],
    "COPY": ["--from=build", "--from=0", "--from=alpine:3", "--chown=1000:1000", "--chown=app", "--chmod=755", "--link",
             "--parents", "--exclude=*.md", "--from=${STAGE}", "--chmod=u+x", "--bogus"],
    "ADD": ["--chown=app:app", "--chmod=0644", "--link", "--keep-git-dir=true", "--checksum=sha256:" + "c" * 64,
            "--checksum=bad", "--exclude=x"],
    "HEALTHCHECK": ["--interval=30s", "--timeout=3s", "--start-period=1m", "--start-interval=1s", "--retries=3",
                    "--retries=x", "--interval=0"],
}


@lru_cache(maxsize=None)
def json_arrays() -> st.SearchStrategy:
    good = st.lists(st.one_of(st.sampled_from(COMMAND_NAMES + ARGS), st.text(max_size=6)), max_size=4).map(
        lambda xs: json.dumps(xs, ensure_ascii=bool(len(xs) % 2))
    )
    bad = st.sampled_from(['["a", 1]', "[a]", '["a\\"b"]', "[]", '["unterminated', '["a",]', "[\"a\" \"b\"]", '[ "sh", "-c", "echo $A" ]'])
    return st.one_of(good, bad)


@dataclass(frozen=True)
class Rendered:
    """One instruction's lines, and what the directive/pragma checks need to know."""

    lines: tuple[str, ...]
    keyword: str
    clean: bool = True  # ends where it seems to: no dangling continuation, heredocs terminated


@st.composite
def _instruction(draw, escape: str, depth: int = 0) -> Rendered:
    kw = draw(st.sampled_from(KEYWORDS + ["RUN", "RUN", "COPY", "ENV", "ARG", "FROM", "BOGUS", "run", "From", "copy"]))
    upper = kw.upper()
    if upper == "ONBUILD" and depth > 0:
        upper = kw = "RUN"
    word = words(escape)
    flags = [draw(st.sampled_from(FLAGS[upper])) for _ in range(draw(st.integers(0, 2)))] if upper in FLAGS else []
    heredoc_lines: list[str] = []
    terminated = True
    if upper == "FROM":
        parts = [draw(st.sampled_from(IMAGES))]
        if draw(st.booleans()):
            parts += [draw(st.sampled_from(["AS", "as", "As"])), draw(st.sampled_from(["build", "base", "Final", "x-1", "scratch", "$X", "a b", "1"]))]
    elif upper in ("RUN", "CMD", "ENTRYPOINT"):
        form = draw(st.sampled_from(["shell", "shell", "json", "heredoc"] if upper == "RUN" else ["shell", "json"]))
        if form == "json":
            parts = [draw(json_arrays())]
        elif form == "heredoc":
            name = draw(st.sampled_from(["EOF", "'EOF'", '"EOF"', "-EOF", "X.Y", "3<<EOF"]))
            marker = name if name.startswith("3") else "<<" + name
            bare = re.sub(r"^(3<<|-)|['\"]", "", name)
            body = draw(shell_scripts(4)).split("\n")
            if draw(st.booleans()):
                body = ["#!/bin/bash"] + body
            prefix = draw(st.sampled_from(["", "bash ", "python3 ", "cat > /x "]))
            parts = [prefix + marker]
            if draw(st.integers(0, 4)) == 0:
                parts.append("<<B")
                body = body + [bare, "second body"]
                bare = "B"
            heredoc_lines = [("\t" + b if name.startswith("-") and draw(st.booleans()) else b) for b in body]
            terminated = bool(draw(st.integers(0, 9)))
            if terminated:
                heredoc_lines.append(("\t" if name.startswith("-") else "") + bare)
        else:
            parts = [draw(shell_scripts(6)).replace("\n", " ; ")]
    elif upper in ("COPY", "ADD"):
        if draw(st.integers(0, 5)) == 0:
            parts = ["<<EOF", draw(st.sampled_from(["/dst", "/app/", "."]))]
            heredoc_lines = draw(st.lists(st.sampled_from(["line", "$A", "${B:-x}", ""]), max_size=3)) + ["EOF"]
        elif draw(st.integers(0, 4)) == 0:
            parts = [draw(json_arrays())]
        else:
            parts = [draw(word) for _ in range(draw(st.integers(0, 4)))]
    elif upper in ("ENV", "LABEL", "ARG"):
        pairs = []
        for _ in range(draw(st.integers(0 if upper != "ARG" else 1, 3))):
            key = draw(st.sampled_from(VAR_NAMES + ["org.opencontainers.image.source", "maintainer", "PASSWORD", "API_KEY", "a b", ""]))
            style = draw(st.sampled_from(["=", "= ", " ", "none"]))
            if style == "none":
                pairs.append(key)
            elif style == " ":
                pairs.append(f"{key} {draw(word)}")
            else:
                pairs.append(f"{key}{style}{draw(word)}")
        parts = pairs
    elif upper == "EXPOSE":
        parts = draw(st.lists(st.sampled_from(["80", "443/tcp", "53/UDP", "8000-8010", "${PORT}", "$P/tcp", "x", "70000", "80/sctp", "0"]), max_size=3))
    elif upper == "SHELL":
        parts = [draw(st.sampled_from(['["/bin/bash", "-o", "pipefail", "-c"]', '["powershell", "-Command"]', '["cmd", "/S", "/C"]', '["zsh", "-c"]', "/bin/bash -c", "[]"]))]
    elif upper == "HEALTHCHECK":
        parts = [draw(st.sampled_from(["NONE", "CMD curl -f http://localhost/ || exit 1", 'CMD ["true"]', "CMD", "bogus"]))]
    elif upper == "ONBUILD":
        inner = draw(_instruction(escape, depth + 1))
        first, *rest = inner.lines
        return Rendered((f"{kw} {first}", *rest), upper, inner.clean)
    else:
        parts = [draw(word) for _ in range(draw(st.integers(0, 3)))]
    tokens = [kw, *flags, *[p for p in parts if p != ""]]
    lines, dangling = _join_with_continuations(draw, tokens, escape)
    return Rendered(tuple(lines) + tuple(heredoc_lines), upper, terminated and not dangling)


def _join_with_continuations(draw, tokens: list[str], escape: str) -> tuple[list[str], bool]:
    lines = [tokens[0]]
    for token in tokens[1:]:
        if draw(st.integers(0, 5)) == 0:
            lines[-1] += draw(st.sampled_from([" " + escape, escape, " " + escape + "  ", " " + escape + "\t"]))
            lines.extend(draw(st.lists(st.sampled_from(["", "  ", "# comment inside", "  # indented comment"]), max_size=1)))
            lines.append(draw(st.sampled_from(["", "  ", "\t"])) + token)
        else:
            lines[-1] += " " + token
    dangling = draw(st.integers(0, 15)) == 0
    if dangling:  # a continuation at the end of the instruction: it swallows what follows
        lines[-1] += " " + escape
    return lines, dangling


DIRECTIVE_FORMS = [
    # (rendered line, name, value) -- name None when the line is not a known directive
    ("# syntax=docker/dockerfile:1", "syntax", "docker/dockerfile:1"),
    ("#syntax = docker/dockerfile:1.7-labs", "syntax", "docker/dockerfile:1.7-labs"),
    ("# escape=\\", "escape", "\\"),
    ("# escape=`", "escape", "`"),
    ("#  ESCAPE = `  ", "escape", "`"),
    ("# escape=x", "escape", "x"),
    ("# check=skip=all", "check", "skip=all"),
    ("# check=skip=JSONArgsRecommended,StageNameCasing;error=true", "check", "skip=JSONArgsRecommended,StageNameCasing;error=true"),
    ("# check=error=true", "check", "error=true"),
    ("# check=skip=DL3006", "check", "skip=DL3006"),
    ("# unknown=1", None, None),
    ("# just a comment", None, None),
    ("", None, None),
]
PRAGMAS = [
    "# hadolint ignore=DL3008,DL3015",
    "# hadolint ignore=DL3006",
    "# analyze ignore=AN3006",
    "# analyze ignore=AN3057, AN3025",
    "#hadolint ignore = SC2086 , DL3059",
    "# hadolint global ignore=DL3006",
    "# analyze global ignore=AN3057",
    "# analyze stage ignore=AN3008",
    "# hadolint shell=bash",
    "# analyze shell=powershell",
    "# hadolint ignore=",
    "# ANALYZE IGNORE=an3025",
    "# analyze ignore=JSONArgsRecommended",
]


@dataclass(frozen=True)
class GeneratedFile:
    """A generated Dockerfile and what its generator knows about it."""

    text: str
    escape: str  # the escape character the body was written with
    header: tuple  # DIRECTIVE_FORMS entries, in order, at the top of the file
    pragmas_before: tuple  # per body instruction: the pragma lines directly above it
    global_pragmas: tuple  # pragma lines that stand alone between instructions
    clean: bool = True  # every instruction ends where it seems to


def _endings(draw, lines: list[str]) -> str:
    style = draw(st.sampled_from(["lf", "lf", "crlf", "mixed"]))
    if style == "lf":
        text = "\n".join(lines)
    elif style == "crlf":
        text = "\r\n".join(lines)
    else:
        text = "".join(line + draw(st.sampled_from(["\n", "\r\n"])) for line in lines)
        text = text[:-1] if text.endswith("\n") and draw(st.booleans()) else text
    if draw(st.booleans()):
        text += "\n"
    if draw(st.integers(0, 10)) == 0:
        text = "\ufeff" + text
    return text


@st.composite
def dockerfiles(draw, max_instructions: int = 8, with_pragmas: bool = True) -> GeneratedFile:
    escape = draw(st.sampled_from(["\\", "\\", "`"]))
    header = list(draw(st.lists(st.sampled_from(DIRECTIVE_FORMS), max_size=3)))
    if escape == "`" and not any(h[1] == "escape" for h in header):
        header.insert(0, DIRECTIVE_FORMS[3])
    lines = [h[0] for h in header]
    pragmas_before = []
    global_pragmas = []
    clean = True
    count = draw(st.integers(1, max_instructions))
    for i in range(count):
        if i == 0 and draw(st.integers(0, 3)):
            ins = Rendered((f"FROM {draw(st.sampled_from(IMAGES[:12]))}",), "FROM")
        else:
            ins = draw(_instruction(escape))
        if with_pragmas and draw(st.integers(0, 3)) == 0:
            lone = draw(st.sampled_from(PRAGMAS))
            lines += [lone, ""]
            global_pragmas.append(lone)
        above = draw(st.lists(st.sampled_from(PRAGMAS), max_size=2)) if with_pragmas else []
        lines += above
        pragmas_before.append(tuple(above))
        lines += list(ins.lines)
        clean = clean and ins.clean
        if draw(st.integers(0, 4)) == 0:
            lines.append(draw(st.sampled_from(["", "   ", "# trailing comment"])))
    # a body written with one escape character and read with the other has other boundaries
    clean = clean and header_model(header)[1].get("escape", "\\") == escape
    return GeneratedFile(_endings(draw, lines), escape, tuple(header), tuple(pragmas_before), tuple(global_pragmas), clean)


@st.composite
def mutated(draw, base: st.SearchStrategy) -> str:
    """``base`` text with a few random edits: inserted, deleted or duplicated pieces."""
    text = draw(base)
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "insert", "delete", "duplicate", "swap"]))
        if op == "insert":
            piece = draw(st.one_of(
                st.sampled_from(["\n", "\r", "\\", "`", "\\\n", "<<EOF\n", "\nEOF\n", "${", "}", "\"", "'", "[", "]", "#", "# escape=`\n", "\x00", "\ufeff", "\u2028", "\x85", "\t", "ONBUILD ", "FROM ", "--", "=", "$"]),
                st.text(max_size=4),
            ))
            text = text[:pos] + piece + text[pos:]
        elif op == "delete":
            end = min(len(text), pos + draw(st.integers(1, 10)))
            text = text[:pos] + text[end:]
        elif op == "duplicate":
            end = min(len(text), pos + draw(st.integers(1, 40)))
            text = text[:end] + text[pos:end] + text[end:]
        else:
            lines = text.split("\n")
            if len(lines) > 1:
                i = draw(st.integers(0, len(lines) - 2))
                lines[i], lines[i + 1] = lines[i + 1], lines[i]
                text = "\n".join(lines)
    return text


@lru_cache(maxsize=None)
def dockerfile_texts() -> st.SearchStrategy:
    gen = dockerfiles().map(lambda g: g.text)
    return st.one_of(gen, gen, mutated(gen), st.text(max_size=200), st.text(alphabet="FROMRUN \n\\`#=<EOF\"'[]${}:-", max_size=200))


@lru_cache(maxsize=None)
def dockerfile_bytes() -> st.SearchStrategy:
    gen = dockerfiles().map(lambda g: g.text.encode("utf-8"))

    def corrupt(data_and_noise):
        data, noise, pos = data_and_noise
        pos %= len(data) + 1
        return data[:pos] + noise + data[pos:]

    return st.one_of(
        gen,
        st.tuples(gen, st.binary(min_size=1, max_size=4), st.integers(0, 10_000)).map(corrupt),
        st.binary(max_size=300),
        dockerfile_texts().map(lambda t: t.encode("utf-8", "surrogatepass")),
        gen.map(lambda b: b.decode("utf-8").encode("utf-16")),
        gen.map(lambda b: b"\xef\xbb\xbf" + b),
        gen.map(lambda b: b.replace(b"a", b"\xc3\xa9")),
        gen.map(lambda b: b.replace(b"a", b"\xe9")),  # latin-1 bytes
    )


def blowups() -> st.SearchStrategy:
    """One long line or construct of a repeated unit: for inputs whose time grows faster
    than their size (regex backtracking, quadratic scans)."""
    unit = st.sampled_from([" ", "a", "a ", "\\", "$", "${", "${A:-", "}", "'", '"', "\t", "=", "a=b ", ",", "*", "#", "(", "$(",
                            "<<EOF ", "-", "--x ", "/", "a/", "&& a ", "[", '"a",', "\\\n", "\\\n#\n", "ONBUILD "])
    head = st.sampled_from(["", "FROM a:1\nRUN ", "FROM a:1\nENV ", "FROM a:1\nARG ", "FROM a:1\nCOPY ", "FROM ", "# syntax=x",
                            "# ", "#", "FROM a:1\n# hadolint ignore=a", "FROM a:1\n# analyze ignore=", "FROM a:1\nLABEL a=",
                            "FROM a:1\nEXPOSE ", "FROM a:1\nRUN echo ", "FROM a:1\nCMD [", "FROM a:1\nHEALTHCHECK --interval=",
                            "FROM a:1\nRUN apt-get install ", "FROM a:1\nRUN <<EOF\n", "FROM a:1\nSHELL [", "# check=skip="])
    tail = st.sampled_from(["", "x", "\n", "x\nFROM a:1\n", "\nRUN true\n", "}", "'", "\nEOF\n"])
    return st.tuples(head, unit, st.integers(100, 20_000), tail).map(lambda t: t[0] + t[1] * t[2] + t[3])


# --------------------------------------------------------------------------------------
# Checks: parsing
# --------------------------------------------------------------------------------------


def check_dockerfile(df, text: Optional[str] = None) -> None:
    """What any parsed Dockerfile must satisfy."""
    nlines = len(df.lines)
    assert df.escape in ("\\", "`")
    indices = [ins.index for ins in df.instructions]
    assert indices == sorted(indices) and len(set(indices)) == len(indices)
    for stage in df.stages:
        assert stage.from_instruction.keyword == "FROM"
        for ins in stage.instructions:
            assert ins.stage == stage.index
    for ins in df.instructions:
        _check_instruction(df, ins, nlines)
        if ins.trigger is not None:
            assert ins.keyword == "ONBUILD"
            _check_instruction(df, ins.trigger, nlines)
    for c in df.comments:
        assert 1 <= c.line <= nlines and df.lines[c.line - 1][c.column - 1] == "#"


def _check_instruction(df, ins, nlines: int) -> None:
    assert 1 <= ins.start_line <= ins.end_line <= nlines, (ins.start_line, ins.end_line, nlines)
    assert ins.column >= 1
    kw = ins.keyword_as_written
    assert ins.logical.startswith(kw), (ins.logical, kw)  # (a keyword may span a continuation)
    assert ins.locate(0) == (ins.start_line, ins.column), (ins.locate(0), ins.start_line, ins.column)
    assert ins.keyword == kw.upper(), (ins.keyword, kw)
    # the position map is character-exact: every character of the logical line sits where it says
    for offset, ch in enumerate(ins.logical):
        ln, col = ins.locate(offset)
        assert 1 <= ln <= nlines, (offset, ln)
        assert df.lines[ln - 1][col - 1 : col] == ch, (ins.logical, offset, ln, col)
    for doc in ins.heredocs:
        assert 1 <= doc.start_line <= doc.end_line <= nlines, (doc, nlines)


def _parse(text: str):
    from analyzer import parse

    return parse(text, "Dockerfile")


def _same_structure(a, b) -> None:
    def shape(df):
        return (
            df.escape,
            df.directives,
            df.comments,
            [(i.keyword, i.args, i.flags, i.json, i.original, i.start_line, i.end_line, i.column, i.heredocs, i.logical) for i in df.instructions],
            [(s.name, s.base, s.platform) for s in df.stages],
        )

    assert shape(a) == shape(b)


def check_parse_text(text: str) -> str:
    try:
        df = _parse(text)
    except AnalyzerError:
        return "error"
    check_dockerfile(df, text)
    if "\r" not in text and "\n" in text:  # a CRLF file parses as its LF twin
        try:
            crlf = _parse(text.replace("\n", "\r\n"))
        except ParseError as exc:
            assert "bytes; BuildKit's limit" in exc.message, exc  # only the line length may differ
        else:
            _same_structure(df, crlf)
    if not text.startswith("\ufeff"):  # so does the same file with a byte order mark
        _same_structure(df, _parse("\ufeff" + text))
    return "ok"


def check_parse_bytes(data: bytes) -> str:
    from analyzer.parse import decode, parse

    try:
        text = decode(data, "Dockerfile")
    except DecodeError:
        try:
            data.decode("utf-8")
            assert b"\x00" in data[:8192] or len(data) > 16 * 1024 * 1024, "valid UTF-8 refused"
        except UnicodeDecodeError:
            pass
        return "decode-error"
    assert text == data.decode("utf-8")
    try:
        df = parse(text, "Dockerfile")
    except AnalyzerError:
        return "error"
    check_dockerfile(df, text)
    return "ok"


def header_model(header) -> tuple:
    """What the directive block holds, by BuildKit's rules (known directives at the very
    top): (the error a refused block gives, or None; {directive: value})."""
    active: dict = {}
    for _line, name, value in header:
        if name is None:
            break
        if name in active:
            return f"only one {name} parser directive can be used", active
        if name == "escape" and value not in ("\\", "`"):
            return "invalid escape token", active
        active[name] = value
    return None, active


def check_directives(gen: GeneratedFile) -> str:
    """Directives and pragmas do what they say: the escape character, duplicate directives,
    suppressions (per instruction, global, ``# check=skip``) and ``# check=error=true``."""
    from analyzer.rules import lint, load_catalog

    expect_error, active = header_model(gen.header)
    try:
        df = _parse(gen.text)
    except ParseError as exc:
        if expect_error is not None:
            assert expect_error in exc.message, (expect_error, exc.message)
        return "parse-error"
    assert expect_error is None, f"accepted a file BuildKit refuses: {expect_error}"
    check_dockerfile(df)
    assert df.escape == active.get("escape", "\\"), (df.escape, active)
    assert {d.name: d.value for d in df.directives} == active
    catalog = load_catalog()
    with strict_shell():
        findings = lint(df, catalog=catalog)
    tokens_of = {f: {f.rule.lower(), *(a.lower() for a in f.aliases)} for f in findings}
    skip = set()
    for part in active.get("check", "").split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() == "skip":
            skip |= {t.strip().lower() for t in value.split(",") if t.strip()}
    comment_texts = {"#" + c.text for c in df.comments}
    for pragma in gen.global_pragmas:
        m = re.match(r"#\s*(?:hadolint|analyze)\s+global\s+ignore\s*=\s*(.+)$", pragma, re.I)
        if m and pragma in comment_texts:  # (not when a heredoc swallowed the line)
            skip |= {t.strip().lower() for t in re.split(r"[,\s]+", m.group(1)) if t.strip()}
    for f, tokens in tokens_of.items():
        assert not (tokens & (skip - {"all"})), f"{f.rule} reported though skipped: {f}"
        if "all" in skip:
            assert not any(a[:1].isupper() and not a.startswith("DL") for a in f.aliases), f
    if "error=true" in active.get("check", "").replace(" ", "").lower():
        for f in findings:
            if any(a[:1].isupper() and not re.match(r"^(DL|SC)\d", a) for a in f.aliases):
                assert f.severity == "error", f
    # per-instruction pragmas: the comment block directly above the instruction
    if gen.clean and len(df.instructions) == len(gen.pragmas_before):
        for ins, above in zip(df.instructions, gen.pragmas_before):
            attached = ["#" + c.text for c in ins.comments]
            assert list(above) == attached[len(attached) - len(above):], (above, attached)
            ids = set()
            for pragma in above:
                m = re.match(r"#\s*(?:hadolint|analyze)\s+ignore\s*=\s*([A-Za-z0-9_,\s-]+?)\s*$", pragma, re.I)
                if m:
                    ids |= {t.strip().lower() for t in re.split(r"[,\s]+", m.group(1)) if t.strip()}
            for f, tokens in tokens_of.items():
                if ins.start_line <= f.line <= ins.end_line:
                    assert not (tokens & ids), f"{f.rule} reported on line {f.line} under {above}"
    return "ok"


# --------------------------------------------------------------------------------------
# Checks: expansion
# --------------------------------------------------------------------------------------

_SAFE_LITERAL = "abc/.:@-0 "


@dataclass(frozen=True)
class Expr:
    """A word built from parts whose BuildKit value is known: ("lit", text),
    ("var", name), ("op", name, op, [parts]), ("dq", [parts]), ("sq", text), ("esc", ch)."""

    parts: tuple


def _expr_parts(depth: int = 0) -> st.SearchStrategy:
    names = st.sampled_from(["A", "B", "C", "EMPTY"])
    leaves = [
        st.text(alphabet=_SAFE_LITERAL, min_size=1, max_size=4).map(lambda t: ("lit", t)),
        names.map(lambda n: ("var", n)),
        st.text(alphabet=_SAFE_LITERAL + "$\"\\}", max_size=4).map(lambda t: ("sq", t)),
        st.sampled_from(["$", "'", '"', "\\", "a"]).map(lambda c: ("esc", c)),
    ]
    if depth < 3:
        inner = st.lists(st.deferred(lambda: _expr_parts(depth + 1)), max_size=3).map(tuple)
        leaves.append(st.tuples(st.just("op"), names, st.sampled_from([":-", "-", ":+", "+"]), inner))
        leaves.append(inner.map(lambda ps: ("dq", tuple(p for p in ps if p[0] not in ("sq", "esc")))))
    return st.one_of(*leaves)


@lru_cache(maxsize=None)
def expressions() -> st.SearchStrategy:
    return st.lists(_expr_parts(), max_size=5).map(lambda ps: Expr(tuple(ps)))


def render_expr(parts, in_braces: bool = False) -> str:
    out = []
    for i, p in enumerate(parts):
        kind = p[0]
        if kind == "lit":
            text = p[1].replace("}", "") if in_braces else p[1]
            out.append(text)
        elif kind == "var":
            nxt = parts[i + 1] if i + 1 < len(parts) else None
            joins = nxt is not None and nxt[0] == "lit" and re.match(r"[A-Za-z0-9_]", nxt[1])
            out.append("${" + p[1] + "}" if joins or i % 2 else "$" + p[1])
        elif kind == "op":
            out.append("${" + p[1] + p[2] + render_expr(p[3], True) + "}")
        elif kind == "dq":
            out.append('"' + render_expr(p[1], in_braces) + '"')
        elif kind == "sq":
            out.append("'" + p[1].replace("'", "") + "'")
        elif kind == "esc":
            out.append("\\" + p[1])
    return "".join(out)


def eval_expr(parts, env, in_braces: bool = False, lookups=None) -> str:
    """BuildKit's value of the rendered word, computed from the parts."""
    out = []
    for p in parts:
        kind = p[0]
        if kind == "lit":
            out.append(p[1].replace("}", "") if in_braces else p[1])
        elif kind == "var":
            lookups.append(p[1]) if lookups is not None else None
            out.append(env.get(p[1], ""))
        elif kind == "op":
            name, op, inner = p[1], p[2], p[3]
            lookups.append(name) if lookups is not None else None
            word = eval_expr(inner, env, True, lookups)
            is_set = name in env
            empty = not is_set or (op.startswith(":") and env[name] == "")
            if op.endswith("-"):
                out.append(word if empty else env[name])
            else:
                out.append("" if empty else word)
        elif kind == "dq":
            out.append(eval_expr(p[1], env, in_braces, lookups))
        elif kind == "sq":
            out.append(p[1].replace("'", ""))
        elif kind == "esc":
            out.append(p[1])
    return "".join(out)


ENVS = st.dictionaries(st.sampled_from(["A", "B", "EMPTY", "D"]), st.text(max_size=5), max_size=4)


def check_expand_model(expr: Expr, env: dict) -> str:
    from analyzer.expand import expand

    word = render_expr(expr.parts)
    lookups: list = []
    expected = eval_expr(expr.parts, env, False, lookups)
    got = expand(word, env)
    assert got.value == expected, (word, env, got.value, expected)
    order = list(dict.fromkeys(lookups))
    assert list(got.undefined) == [n for n in order if n not in env], (word, got.undefined)
    assert list(got.used) == [n for n in order if n in env], (word, got.used)
    return "ok"


def check_expand_any(word: str, env: dict, escape: str) -> str:
    from analyzer.expand import Expansion, expand

    try:
        got = expand(word, env, escape)
    except AnalyzerError:
        return "error"
    assert isinstance(got, Expansion) and isinstance(got.value, str)
    assert set(got.used) <= set(env) and not (set(got.undefined) & set(env))
    assert set(got.missing) <= set(got.undefined)
    if not re.search(r"[$'\"]", word) and escape not in word:
        assert got.value == word
    return "ok"


@st.composite
def arg_env_files(draw):
    """A one-stage file of ARG/ENV with literal values, and the values the last
    instruction must see: (text, build_args, expected env)."""
    names = ["A", "B", "C", "D", "E"]
    value = st.text(alphabet="abc123/._-", max_size=5)
    global_args = {}
    lines = []
    for name in draw(st.lists(st.sampled_from(names), unique=True, max_size=3)):
        v = draw(value)
        global_args[name] = v
        lines.append(f"ARG {name}={v}")
    lines.append("FROM " + draw(st.sampled_from(["alpine:3.19", "${A:-alpine}", "scratch"])) + " AS one")
    build_args = draw(st.dictionaries(st.sampled_from(names), value, max_size=3))
    expected = {}
    for name in draw(st.lists(st.sampled_from(names), unique=True, max_size=5)):
        kind = draw(st.sampled_from(["ENV", "ARG", "ARG-redeclare", "ARG-ref"]))
        v = draw(value)
        if kind == "ENV":
            lines.append(f"ENV {name}={v}")
            expected[name] = v
        elif kind == "ARG":
            lines.append(f"ARG {name}={v}")
            expected[name] = build_args.get(name, v)
        elif kind == "ARG-redeclare":
            lines.append(f"ARG {name}")
            if name in build_args:
                expected[name] = build_args[name]
            elif name in global_args:
                expected[name] = global_args[name]
        else:  # ENV built from earlier values
            src = draw(st.sampled_from(names))
            lines.append(f"ENV {name}=${{{src}:-dflt}}x")
            expected[name] = (expected.get(src) or "dflt") + "x"
    lines.append("RUN true")
    return "\n".join(lines) + "\n", build_args, expected


def check_resolve_model(case) -> str:
    from analyzer.expand import resolve

    text, build_args, expected = case
    df = _parse(text)
    res = resolve(df, build_args)
    env = res.env_before(df.instructions[-1])
    got = {k: env[k] for k in expected if k in env}
    assert got == expected, (text, build_args, dict(env), expected)
    return "ok"


def check_resolve_any(gen: GeneratedFile, build_args: dict, platform: str) -> str:
    from analyzer.expand import Resolution, resolve

    try:
        df = _parse(gen.text)
    except AnalyzerError:
        return "parse-error"
    try:
        res = resolve(df, build_args, platform)
    except AnalyzerError:
        return "error"
    assert isinstance(res, Resolution)
    for ins in df.instructions:
        env = res.env_before(ins)
        for k in env:
            assert isinstance(env[k], str)
        for word in ins.args[:3]:
            try:
                res.expand_in(ins, word)
            except AnalyzerError:
                pass
    for i, _ in enumerate(df.stages):
        st_ = res.stage(i)
        assert st_.base_stage is None or 0 <= st_.base_stage < i, st_
    return "ok"


# --------------------------------------------------------------------------------------
# Checks: image references
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def image_refs() -> st.SearchStrategy:
    comp = st.from_regex(r"[a-z0-9]+(?:[._-][a-z0-9]+)?", fullmatch=True)
    domain = st.sampled_from(["", "localhost/", "localhost:5000/", "ghcr.io/", "docker.io/", "index.docker.io/", "[::1]:5000/", "Reg.IO/", "a-b.c:0/"])
    tag = st.one_of(st.just(""), st.from_regex(r":[A-Za-z0-9_][A-Za-z0-9_.-]{0,10}", fullmatch=True))
    digest = st.sampled_from(["", "@sha256:" + "a" * 64, "@sha512:" + "0" * 128, "@sha256:" + "A" * 64, "@md5:00", "@sha256:abc"])
    ref = st.tuples(domain, st.lists(comp, min_size=1, max_size=3).map("/".join), tag, digest).map("".join)
    noise = st.text(alphabet="abcAZ019:/@._-[] $\t\x00é", max_size=40)
    return st.one_of(ref, ref, noise, st.text(max_size=30), mutated(ref))


def check_image_ref(text: str) -> str:
    from analyzer.images import ImageRef, InvalidReference, parse_ref

    try:
        ref = parse_ref(text)
    except InvalidReference:
        return "invalid"
    assert isinstance(ref, ImageRef)
    again = parse_ref(ref.normalized)
    assert again.normalized == ref.normalized and again.name == ref.name
    familiar = parse_ref(ref.familiar)
    assert familiar.normalized == ref.normalized, (text, ref.familiar, familiar.normalized, ref.normalized)
    assert ref.pinned == (ref.digest is not None)
    return "ok"


# --------------------------------------------------------------------------------------
# Checks: shell layer
# --------------------------------------------------------------------------------------


@contextlib.contextmanager
def strict_shell():
    """Let the shell layer's internal errors out instead of swallowing them."""
    from analyzer import shell

    old = shell._STRICT
    shell._STRICT = True
    try:
        yield
    finally:
        shell._STRICT = old


def shell_names() -> st.SearchStrategy:
    from analyzer.shell import SHELLS

    return st.sampled_from(sorted(SHELLS) + ["powershell", "cmd", "/bin/bash", "busybox"])


@lru_cache(maxsize=None)
def script_texts() -> st.SearchStrategy:
    return st.one_of(
        shell_scripts(10),
        mutated(shell_scripts(6)),
        st.text(max_size=120),
        st.binary(max_size=120).map(lambda b: b.decode("utf-8", "surrogateescape")),
    )


def check_shell(text: str, shell_name: str) -> str:
    from analyzer.model import ShellCommand
    from analyzer.shell import commands

    lines = text.split("\n")
    segments, offset = [], 0
    for i, line in enumerate(lines):
        segments.append((offset, i + 2, 5))  # as if indented on line 2 onwards
        offset += len(line) + 1
    script = Script(text, tuple(segments))
    with strict_shell():
        cmds = commands(script, shell_name)
    assert isinstance(cmds, list)
    for c in cmds:
        assert isinstance(c, ShellCommand)
        assert len(c.arg_positions) in (0, len(c.argv)), c
        for pos in (c.position, *c.arg_positions):
            assert 2 <= pos.line <= len(lines) + 1, (c, pos)
            assert pos.column >= 5 and (pos.end_line, pos.end_column) >= (pos.line, pos.column), (c, pos)
    return "ok"


# --------------------------------------------------------------------------------------
# Checks: .dockerignore
# --------------------------------------------------------------------------------------

_IGNORE_ALPHABET = "ab*?/."


def ignore_files() -> st.SearchStrategy:
    pattern = st.text(alphabet=_IGNORE_ALPHABET, min_size=1, max_size=10)
    line = st.tuples(st.sampled_from(["", "", "!", "/", "./", "! "]), pattern).map("".join)
    return st.lists(line, min_size=1, max_size=5)


def ignore_paths() -> st.SearchStrategy:
    seg = st.text(alphabet="ab.*\n", min_size=1, max_size=4).filter(lambda s: s not in (".", ".."))
    return st.lists(seg, min_size=1, max_size=4).map("/".join)


def _glob_model(pattern: str, path: str) -> bool:
    """Docker's pattern semantics, written independently: ``*`` and ``?`` stay inside one
    path component, ``**`` spans components (a trailing one matches everything) but, being
    Go's ``.*``, never a newline."""

    @lru_cache(maxsize=None)
    def m(i: int, j: int) -> bool:
        if i == len(pattern):
            return j == len(path)
        ch = pattern[i]
        if pattern.startswith("**", i):
            k = i + 2
            if k < len(pattern) and pattern[k] == "/":
                k += 1
            if k == len(pattern):
                return "\n" not in path[j:]
            return m(k, j) or any(m(k, x + 1) for x in range(j, len(path)) if path[x] == "/" and "\n" not in path[j:x])
        if ch == "*":
            return any(m(i + 1, x) for x in range(j, len(path) + 1) if "/" not in path[j:x])
        if j >= len(path):
            return False
        if ch == "?":
            return path[j] != "/" and m(i + 1, j + 1)
        return path[j] == ch and m(i + 1, j + 1)

    return m(0, 0)


def check_dockerignore_model(lines: list, paths: list) -> str:
    from analyzer.dockerignore import parse

    matcher = parse("\n".join(lines) + "\n")
    patterns = []
    for raw in lines:
        line = raw.strip()
        excl = line.startswith("!")
        line = line[1:].strip() if excl else line
        cleaned = posixpath.normpath(line)
        if len(cleaned) > 1 and cleaned.startswith("/"):
            cleaned = cleaned.lstrip("/") or "/"
        patterns.append((cleaned, excl))
    for path in paths:
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        expected = False
        for pat, excl in patterns:
            if any(_glob_model(pat, p) for p in prefixes):
                expected = not excl
        started = time.perf_counter()
        got = matcher.excluded(path)
        assert time.perf_counter() - started < 2.0, f"excluded({path!r}) took too long"
        assert got == expected, (lines, path, got, expected)
    return "ok"


def check_dockerignore_any(text: str, paths: list) -> str:
    import warnings

    from analyzer.dockerignore import Matcher, parse

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a warning would be printed on the user's terminal
            matcher = parse(text)
    except AnalyzerError:
        return "error"
    assert isinstance(matcher, Matcher)
    for path in paths:
        started = time.perf_counter()
        assert matcher.excluded(path) in (True, False)
        assert time.perf_counter() - started < 2.0, f"excluded({path!r}) took too long"
    # the linear-time matcher agrees with the pattern's regex (on paths short enough for it)
    from analyzer import dockerignore

    for pattern in matcher.patterns:
        tokens = dockerignore._tokens(pattern.text)
        for path in paths:
            assert dockerignore._nfa_match(tokens, path) == (pattern.regex.fullmatch(path) is not None), (pattern.text, path)
    return "ok"


def ignore_texts() -> st.SearchStrategy:
    line = st.one_of(
        st.text(alphabet="ab*?/.[]^-\\!# \t&|~", max_size=12),
        st.sampled_from(["[", "[]", "[^]", "[a-]", "[]a]", "\\", "**", "!", "# c", "/", "..", "[[:alpha:]]", "a\\", "[z-a]", "{a,b}", "$x"]),
        st.text(max_size=8),
    )
    return st.lists(line, max_size=6).map("\n".join)


# --------------------------------------------------------------------------------------
# Checks: linting
# --------------------------------------------------------------------------------------

LINT_ARGS = st.dictionaries(st.sampled_from(["A", "B", "TAG", "BASE", "IMG", "VERSION", "HTTP_PROXY"]), st.sampled_from(["", "1", "alpine", "3.19", "${A}", "a b", "latest"]), max_size=3)


def check_findings(findings, df_lines: int, path: str) -> None:
    from analyzer.model import SEVERITIES
    from analyzer.rules import load_catalog

    catalog = load_catalog()
    keys = [(f.line, f.column, f.rule) for f in findings]
    assert keys == sorted(keys), "findings not sorted by position"
    for f in findings:
        assert isinstance(f, Finding)
        assert f.rule in catalog, f.rule
        assert f.severity in SEVERITIES, f
        assert f.path == path
        assert isinstance(f.message, str) and f.message, f
        assert 1 <= f.line <= max(1, df_lines) + 1, (f, df_lines)
        assert f.column >= 1, f
        assert (f.end_line, f.end_column) >= (f.line, f.column), f


def check_lint(text: str, build_args: dict) -> str:
    from analyzer.rules import LintOptions, lint_text
    from analyzer.parse import split_lines

    options = LintOptions(build_args=tuple(sorted(build_args.items())))
    with strict_shell():
        findings = lint_text(text, options, path="dir/Dockerfile")
    check_findings(findings, len(split_lines(text)), "dir/Dockerfile")
    again = lint_text(text, options, path="dir/Dockerfile")
    assert again == findings, "linting the same text twice gave different findings"
    return "parse-error" if any(f.rule == "AN0001" for f in findings) else "ok"


# --------------------------------------------------------------------------------------
# Checks: every output format
# --------------------------------------------------------------------------------------

HOSTILE_PIECES = ["]]>", "%", "%25", "::", ",", "\n", "\r", "\r\n", '"', "'", "<", ">", "&", "\x1b[31m", "\x00", "\u2028", "\x85",
                  "\x9b", "\t", " ", "..", "/", "#", "?", "\\", "\ud800", "\udcff", "\udce9", "\ufffe", "\uffff", "\U0001F600", "é", "%0A", "::error::x"]
_any_char = st.characters(codec=None, exclude_categories=())


@lru_cache(maxsize=None)
def hostile_texts(max_size: int = 30) -> st.SearchStrategy:
    return st.one_of(
        st.lists(st.one_of(st.sampled_from(HOSTILE_PIECES), st.text(_any_char, max_size=3)), max_size=8).map("".join),
        st.text(_any_char, max_size=max_size),
        st.binary(max_size=max_size).map(lambda b: b.decode("utf-8", "surrogateescape")),
    )


@lru_cache(maxsize=None)
def file_names() -> st.SearchStrategy:
    name = hostile_texts(12).map(lambda s: s.replace("/", "_").replace("\x00", "") or "x")
    return st.one_of(
        name.map(lambda n: f"dir/{n}/Dockerfile"),
        name.map(lambda n: f"/elsewhere/{n}"),
        name,
        st.just("<stdin>"),
        st.binary(min_size=1, max_size=12).map(lambda b: "d/" + b.replace(b"/", b"_").replace(b"\x00", b"_").decode("utf-8", "surrogateescape")),
    )


@st.composite
def report_results(draw):
    from analyzer.report import FileResult
    from analyzer.rules import load_catalog

    rules = sorted(load_catalog())
    results = []
    for _ in range(draw(st.integers(1, 3))):
        path = draw(file_names())
        findings = []
        for _ in range(draw(st.integers(0, 3))):
            rule = draw(st.sampled_from(rules + ["AN9999", "AN0001"]))
            line = draw(st.integers(-1, 500))
            col = draw(st.integers(-1, 200))
            findings.append(Finding(
                rule=rule,
                severity=draw(st.sampled_from(["error", "warning", "info", "style"])),
                message=draw(hostile_texts()),
                line=line,
                column=col,
                end_line=line + draw(st.integers(-2, 3)),
                end_column=col + draw(st.integers(-2, 30)),
                path=path,
                aliases=tuple(draw(st.lists(st.sampled_from(["DL3006", "JSONArgsRecommended", "a,b", "x::y", "%"]), max_size=2))),
                name=draw(st.sampled_from(["untagged-base-image", "", "we,ird"])),
            ))
        error = draw(st.one_of(st.none(), hostile_texts()))
        results.append(FileResult(path, tuple(findings), error=error or None))
    root = draw(st.sampled_from([os.getcwd(), "/nonexistent/root", "/"]))
    return results, root


@lru_cache(maxsize=1)
def _sarif_validator():
    import jsonschema

    schema = json.loads((DATA / "sarif-2.1.0-schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


_XML_CHARS = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_URI_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*$")
_TERMINAL_CONTROLS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def _github_unescape(text: str) -> str:
    return re.sub("%(25|0D|0A|3A|2C)", lambda m: {"25": "%", "0D": "\r", "0A": "\n", "3A": ":", "2C": ","}[m.group(1)], text)


def check_reports(results, root: str) -> str:
    from analyzer.report import render
    from analyzer.report.paths import clean, report_path, to_bytes, relative_path

    n_findings = sum(len(r.findings) for r in results)
    rendered = {fmt: render(results, fmt, version="1.0", root=root) for fmt in ("text", "json", "sarif", "github", "gitlab", "checkstyle")}
    for fmt, out in rendered.items():
        assert isinstance(out, str)
        out.encode("utf-8")  # every format encodes (no lone surrogates)

    # text: one line per finding plus the summary, no terminal control characters
    text_lines = rendered["text"].split("\n")
    assert text_lines[-1] == "" and len(text_lines) == n_findings + 2, rendered["text"]
    for line in text_lines:
        assert not _TERMINAL_CONTROLS.search(line), repr(line)

    # json: parses, and carries every message and path (surrogates as U+FFFD)
    doc = json.loads(rendered["json"])
    assert [f["path"] for f in doc["files"]] == [clean(r.path) for r in results]
    for entry, result in zip(doc["files"], results):
        assert [f["message"] for f in entry["findings"]] == [clean(f.message) for f in result.findings]
        assert entry.get("error") == (clean(result.error) if result.error else None)

    # sarif: schema-valid, messages kept, URIs well formed and decoding to the file name
    log = json.loads(rendered["sarif"])
    _sarif_validator().validate(log)
    sarif_results = log["runs"][0]["results"]
    assert len(sarif_results) == n_findings
    flat = [(r, f) for r in results for f in r.findings]
    prints: dict = {}
    for n, (entry, (result, f)) in enumerate(zip(sarif_results, flat)):
        assert entry["message"]["text"] == (clean(f.message) or f.rule)
        uri = entry["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert _URI_CHARS.match(uri), uri
        rel = relative_path(result.path, root)
        if result.path != "<stdin>":
            if rel is not None:
                assert unquote_to_bytes(uri) == to_bytes(rel), (uri, rel)
            else:
                assert uri.startswith("file:///") or uri.startswith("file://"), uri
        region = entry["locations"][0]["physicalLocation"]["region"]
        assert (region["endLine"], region["endColumn"]) >= (region["startLine"], region["startColumn"])
        fp = tuple(entry["partialFingerprints"].items())
        if fp in prints:  # only the same file given twice may repeat a fingerprint
            other_uri, other_result = prints[fp]
            assert other_uri == uri and other_result is not result, ("two SARIF results share a fingerprint", entry)
        prints[fp] = (uri, result)

    # github: one workflow command a line, properties and message survive the escaping
    gh_lines = rendered["github"].split("\n")
    assert gh_lines[-1] == ""
    gh_lines = gh_lines[:-1]
    assert len(gh_lines) == n_findings + sum(1 for r in results if r.error)
    expected = []
    for r in results:
        if r.error:
            expected.append((r.path, r.error))
        expected.extend((r.path, f.message) for f in r.findings)
    for line, (path, message) in zip(gh_lines, expected):
        assert "\r" not in line
        m = re.fullmatch(r"::(error|warning|notice) ([^:]*)::(.*)", line, re.S)
        assert m, repr(line)
        props = dict(p.split("=", 1) for p in m.group(2).split(","))
        strip = lambda s: re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", "", clean(s))
        assert _github_unescape(props["file"]) == strip(report_path(path, root)), (props["file"], path)
        assert _github_unescape(m.group(3)) == strip(message), (m.group(3), message)

    # gitlab: a JSON array of issues with unique fingerprints
    issues = json.loads(rendered["gitlab"])
    assert isinstance(issues, list) and len(issues) == n_findings + sum(1 for r in results if r.error)
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    for issue in issues:
        assert issue["location"]["lines"]["begin"] >= 1 and isinstance(issue["location"]["path"], str)

    # checkstyle: well-formed XML that keeps every name and message XML can carry
    tree = ET.fromstring(rendered["checkstyle"].encode("utf-8"))
    files = tree.findall("file")
    assert [f.get("name") for f in files] == [_XML_CHARS.sub("", clean(r.path)) for r in results]
    for element, result in zip(files, results):
        messages = [e.get("message") for e in element.findall("error")]
        want = ([_XML_CHARS.sub("", clean(result.error))] if result.error else []) + [_XML_CHARS.sub("", clean(f.message)) for f in result.findings]
        assert messages == want, (messages, want)
    return "ok"


def check_blowup(text: str) -> str:
    """Lint a long repetitive input (the long run reports one that is slow)."""
    return check_lint(text, {})


@st.composite
def linted_results(draw):
    """Real findings: a generated Dockerfile linted under a hostile file name."""
    from analyzer.report import FileResult
    from analyzer.rules import lint_text

    path = draw(file_names())
    text = draw(dockerfiles(max_instructions=5)).text
    return [FileResult(path, tuple(lint_text(text, path=path)))], draw(st.sampled_from([os.getcwd(), "/nonexistent/root"]))


# --------------------------------------------------------------------------------------
# Checks: the command's own per-file path, from bytes on disk to every report
# --------------------------------------------------------------------------------------

_CLI_DIR: Optional[str] = None
_CLI_ANALYZER = None


def check_cli(data: bytes) -> str:
    from analyzer.batch import FileAnalyzer, RunSettings
    from analyzer.report import render

    global _CLI_DIR, _CLI_ANALYZER
    if _CLI_DIR is None:
        import atexit
        import shutil

        _CLI_DIR = tempfile.mkdtemp(prefix="analyze-fuzz-")
        atexit.register(shutil.rmtree, _CLI_DIR, True)
        _CLI_ANALYZER = FileAnalyzer(RunSettings(offline=True, cache_dir=os.path.join(_CLI_DIR, "cache")))
    path = os.path.join(_CLI_DIR, "Dockerfile")
    with open(path, "wb") as fh:
        fh.write(data)
    with strict_shell():
        outcome = _CLI_ANALYZER(path)
    assert outcome.fatal is None, outcome.fatal
    result = outcome.result
    if outcome.error is not None:
        assert result.error and not result.findings
    for fmt in ("text", "json", "sarif", "github", "gitlab", "checkstyle"):
        render([result], fmt, version="1", root=_CLI_DIR)
    check_reports([result], _CLI_DIR)
    return "error" if result.error else "ok"


# --------------------------------------------------------------------------------------
# Targets
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    name: str
    strategy: Callable[[], st.SearchStrategy]  # builds the strategy of the check's arguments (a tuple)
    check: Callable[..., str]
    examples: int  # how many examples the CI run tries
    summary: str


TARGETS: dict[str, Target] = {}


def _target(name, strategy, check, examples, summary):
    TARGETS[name] = Target(name, strategy, check, examples, summary)


_target("parse-text", lambda: st.tuples(dockerfile_texts()), check_parse_text, 250,
        "parse() on generated, mutated and random text: positions exact, CRLF and BOM twins alike")
_target("parse-bytes", lambda: st.tuples(dockerfile_bytes()), check_parse_bytes, 200,
        "decode() + parse() on bytes (invalid UTF-8, NUL, UTF-16, BOMs): DecodeError only for what is not UTF-8 text")
_target("directives", lambda: st.tuples(dockerfiles()), check_directives, 120,
        "# syntax/escape/check directives and hadolint/analyze pragmas: escape, duplicates, suppressions, error=true")
_target("expand-model", lambda: st.tuples(expressions(), ENVS), check_expand_model, 300,
        "expand() of ${a:-${b}} forms, quotes and escapes against an independent model (value, undefined, used)")
_target("expand-any", lambda: st.tuples(words("\\") | st.text(max_size=20), ENVS, st.sampled_from(["\\", "`"])), check_expand_any, 300,
        "expand() of any word: an Expansion or ExpansionError")
_target("resolve-model", lambda: st.tuples(arg_env_files()), check_resolve_model, 150,
        "resolve(): global ARGs, build args, ARG/ENV in a stage give the values a model expects")
_target("resolve-any", lambda: st.tuples(dockerfiles(), LINT_ARGS, st.sampled_from(["linux/amd64", "linux/arm64/v8", "windows/amd64", "arm"])), check_resolve_any, 120,
        "resolve() of generated files, env_before/expand_in of every instruction")
_target("image-ref", lambda: st.tuples(image_refs()), check_image_ref, 300,
        "parse_ref(): ImageRef or InvalidReference; normalized and familiar forms round-trip")
_target("shell", lambda: st.tuples(script_texts(), shell_names()), check_shell, 200,
        "shell.commands() for every shell (errors raised, not swallowed): positions inside the script")
_target("dockerignore-model", lambda: st.tuples(ignore_files(), st.lists(ignore_paths(), min_size=1, max_size=4)), check_dockerignore_model, 300,
        ".dockerignore matching against an independent glob model, within a time bound")
_target("dockerignore-any", lambda: st.tuples(ignore_texts(), st.lists(ignore_paths() | st.text(max_size=10), max_size=4)), check_dockerignore_any, 200,
        ".dockerignore of any text: Matcher or DockerignoreError; linear matcher agrees with the regex")
_target("lint", lambda: st.tuples(dockerfile_texts(), LINT_ARGS), check_lint, 150,
        "lint_text() with build args: findings valid, sorted, in the file, the same twice")
_target("reports", lambda: report_results(), check_reports, 150,
        "every format with hostile messages and file names: JSON, SARIF schema, XML, one github line each")
_target("reports-linted", lambda: linted_results(), check_reports, 40,
        "every format on real findings of generated files under hostile names")
_target("cli", lambda: st.tuples(dockerfile_bytes()), check_cli, 60,
        "the command's per-file path (file on disk, config, offline lineage, lint) and every format")
_target("blowup", lambda: st.tuples(blowups()), check_blowup, 0,
        "lint of long repetitive lines: time grows no faster than the size (long run only)")

SLOW_SECONDS = 5.0  # one example taking longer than this is reported by the long run

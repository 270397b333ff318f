"""Property-based fuzzing of every layer that reads untrusted text, and regression tests
for what the fuzzing found.

The properties and their grammar-shaped generators live in ``tests/fuzz_strategies.py``
(shared with ``tools/fuzz.py``, the long run). Each property holds for any input: the
layer returns a result that satisfies its invariants, or raises the project's own
``AnalyzerError`` (one clear line, exit code 2), never anything else.

``FUZZ_PROFILE=long pytest tests/test_fuzz.py`` runs twenty times as many examples;
``FUZZ_PROFILE=quick`` a fifth.
"""

from __future__ import annotations

import os
import time

import pytest
from hypothesis import HealthCheck, given, settings

from fuzz_strategies import (
    TARGETS,
    check_cli,
    check_dockerfile,
    check_dockerignore_any,
    check_dockerignore_model,
    check_lint,
    check_parse_bytes,
    check_parse_text,
    check_reports,
)

from analyzer import parse
from analyzer.model import Finding, ParseError
from analyzer.report import FileResult, render

_SCALE = {"quick": 0.2, "ci": 1.0, "long": 20.0}[os.environ.get("FUZZ_PROFILE", "ci")]


def _run(name: str) -> None:
    target = TARGETS[name]

    def prop(args):
        target.check(*(args if isinstance(args, tuple) else (args,)))

    prop._hypothesis_internal_add_digest = name.encode()  # one example database entry per target
    settings(
        max_examples=max(1, int(target.examples * _SCALE)),
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )(given(target.strategy())(prop))()


@pytest.mark.parametrize("name", [n for n, t in TARGETS.items() if t.examples])
def test_property_holds(name):
    _run(name)


def test_every_target_is_run_here_or_has_a_regression_test():
    assert set(TARGETS) == {
        "parse-text", "parse-bytes", "directives", "expand-model", "expand-any", "resolve-model",
        "resolve-any", "image-ref", "shell", "dockerignore-model", "dockerignore-any", "lint", "reports",
        "reports-linted", "cli", "blowup",
    }
    assert TARGETS["blowup"].examples == 0  # timing only: tools/fuzz.py; the cases found are below


# --- regressions: exact inputs the fuzzing found -------------------------------------------


def _timed(fn, *args):
    started = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - started


def test_keyword_is_split_on_buildkit_whitespace_only():
    # BuildKit splits the keyword on [\t\v\f\r ]: "\x1c" is part of it (an unknown instruction)
    df = parse("FROM a\nRUN\x1cecho hi\n")
    ins = df.instructions[1]
    assert ins.keyword == "RUN\x1cECHO" and ins.keyword_as_written == "RUN\x1cecho"
    check_parse_text("\u00c2\x9d\u00c69\u00a7\x97\U000a6d72v\U0008c354\x91\x19\x1c;\U0008ea4c\x94A\n")


@pytest.mark.parametrize("space", ["\u00a0", "\x85", "\u2028", "\u3000", "\x0b"])
def test_unicode_blanks_start_a_line_as_buildkit_trims_them(space):
    df = parse(f"FROM a\n{space}RUN x\n{space}# analyze ignore=AN3057\nUSER a \\\n{space}\nb\n")
    run, user = df.instructions[1], df.instructions[2]
    assert (run.keyword, run.start_line, run.column) == ("RUN", 2, 2)
    assert [c.line for c in df.comments] == [3] and user.comments[0].text == " analyze ignore=AN3057"
    assert user.logical == "USER a b" and user.args == ("a b",)  # the blank line is skipped
    check_dockerfile(df)


def test_a_second_byte_order_mark_is_part_of_the_keyword():
    assert check_parse_bytes(b"\xef\xbb\xbf\xef\xbb\xbfFROM a\n") == "ok"
    df = parse("\ufeff\ufeffFROM a\n")
    assert df.instructions[0].keyword == "\ufeffFROM" and not df.stages  # BuildKit: unknown instruction


def test_a_line_holding_only_the_escape_does_not_hide_the_keyword():
    # was an IndexError (a crash, not an error line) for the ONBUILD trigger
    df = parse("FROM a\nONBUILD \\\n\\\n RUN x\n")
    trigger = df.instructions[1].trigger
    assert (trigger.keyword, trigger.logical, trigger.start_line, trigger.column) == ("RUN", "RUN x", 4, 2)
    # was keyword_as_written "" at line 1 column 1
    ins = parse("\\\n   FROM a\n").instructions[0]
    assert (ins.keyword_as_written, ins.start_line, ins.column, ins.logical) == ("FROM", 2, 4, "FROM a")
    assert check_parse_bytes(b"\\\n\xef\xbb\xbf# check=skip=DL3006\nFROM alpine:3.19\n") == "ok"
    for text in ("FROM a\nONBUILD \\\n\\\n RUN x\n", "\\\n\\\nFROM a\n", "FROM a\nRUN a \\\n\\\nb\n"):
        assert check_parse_text(text) == "ok"


@pytest.mark.parametrize("text", ["\\", "FROM a\n\\\n", "# escape=`\nFROM a\n`\n# c\n"])
def test_a_file_ending_in_an_empty_continuation_is_a_parse_error(text):
    # was an AttributeError: BuildKit's node has no keyword (a build fails: unknown instruction)
    with pytest.raises(ParseError, match="line continuation with nothing after it"):
        parse(text)
    assert check_parse_text(text) == "error"
    assert check_lint(text, {}) == "parse-error"


def test_nul_after_the_first_8_kib_is_refused_not_truncated():
    data = b"FROM a\n" + b"#" * 9000 + b"\nRUN a\x00b\nUSER root\n"
    assert check_parse_bytes(data) == "error"
    with pytest.raises(ParseError) as err:
        parse(data.decode())
    assert (err.value.line, err.value.column) == (3, 6) and "NUL" in err.value.message
    assert check_cli(data) == "ok"  # an AN0001 finding, not a file cut short


def test_long_blank_runs_in_pragmas_and_directives_take_linear_time():
    pragma = "FROM a:1\n# hadolint ignore=a" + " " * 65000 + "x\nRUN true\n"
    directive = "# syntax=x" + " " * 65000 + "y\nFROM a:1\n"
    for text in (pragma, directive, "FROM a:1\n# analyze ignore=" + " " * 65000 + "x\n"):
        _, seconds = _timed(check_lint, text, {})
        assert seconds < 5, seconds  # was 55 s (pragma) and 36 s (directive)


def test_directive_value_is_what_buildkit_captures():
    assert parse("# syntax = docker/dockerfile:1  \nFROM a\n").directive("syntax").value == "docker/dockerfile:1"
    with pytest.raises(ParseError, match="invalid escape token ' '"):
        parse("# escape=   \nFROM a\n")
    assert parse("# escape=\nFROM a\n").directives == ()  # no value: a comment


def test_suppression_pragmas_still_apply():
    from analyzer.rules import lint_text

    text = "FROM a\n# hadolint ignore=DL3006  \nFROM b\n# analyze ignore = AN3057 , DL3006\nFROM c\n"
    found = [(f.rule, f.line) for f in lint_text(text) if f.rule in ("AN3006", "AN3057")]
    assert ("AN3006", 1) in found and ("AN3006", 3) not in found and ("AN3006", 5) not in found


def test_dockerignore_with_many_wildcards_matches_in_linear_time():
    from analyzer.dockerignore import parse as parse_ignore

    matcher = parse_ignore("*a" * 30 + "c\n")
    result, seconds = _timed(matcher.excluded, "a" * 3000)
    assert result is False and seconds < 2  # was exponential: 1.3 s for 10 wildcards on 30 characters
    assert parse_ignore("*a*b*\n").excluded("xaybz") and not parse_ignore("*a*b*\n").excluded("xa/ybz")
    assert check_dockerignore_model(["*a" * 12 + "c", "!**/x*y*"], ["a" * 40, "d/xay", "a/b/" + "a" * 20 + "c"]) == "ok"
    assert check_dockerignore_any("[a-]*\\**b*\n**/[^x]*?*", ["a-*b", "q/yzz", "-\\*b"]) == "ok"
    # "**" is Go's ".*", which never matches a newline; "*" and "?" ("[^/]") do
    assert check_dockerignore_any("**", ["\n"]) == "ok"
    assert not parse_ignore("a/**\n").excluded("a/x\ny") and parse_ignore("a/*\n").excluded("a/x\ny")
    assert not parse_ignore("**/b*c*\n").excluded("x\ny/bcc") and parse_ignore("**/b*c*\n").excluded("xy/b\ncc")


def test_four_byte_characters_do_not_crash_the_shell_parser():
    # tree-sitter-bash read out of bounds on "{" + a large code point: a segmentation fault,
    # so the check runs in a process of its own
    import subprocess
    import sys

    code = (
        "from analyzer.model import Script\n"
        "from analyzer.shell import commands\n"
        "for _ in range(500):\n"
        "    for text in ('\\\\D\\U000b3dac{\\U0010776b\\x1e\\U000c727a1\\x1e7', '{\\U000c727a', '{\\U0010ffff a{\\U000e0000}'):\n"
        "        commands(Script(text, ((0, 1, 1),)), 'bash')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    from analyzer.model import Script
    from analyzer.shell import commands

    cmds = commands(Script("echo \U0010ffff{\U0001F600} && ls -l", ((0, 3, 5),)), "bash")
    assert [(c.name, c.position.line, c.position.column) for c in cmds] == [("echo", 3, 5), ("ls", 3, 18)]
    assert cmds[0].argv == ("echo", "\U0010ffff{\U0001F600}")


def test_dockerignore_classes_are_go_classes_and_never_warn():
    import warnings

    from analyzer.dockerignore import parse as parse_ignore

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # was a FutureWarning ("Possible set intersection") on stderr
        matcher = parse_ignore("[a&&b]\n[x||y]z\n[p~~q]\n")
        assert [c for c in "ab&xyz|pq~" if matcher.excluded(c)] == ["a", "b", "&", "p", "q", "~"]
        assert matcher.excluded("|z") and not matcher.excluded("|")
        assert check_dockerignore_any("[a--b]", ["a"]) == "error"  # Go refuses the range a..- too


def test_text_report_escapes_c1_control_characters():
    f = Finding("AN0002", "error", "unknown instruction: \x9a#\x9b31m", 1, 1, 1, 2, "/x/\x9bDockerfile")
    out = render([FileResult("/x/\x9bDockerfile", (f,))], "text")
    assert "\x9b" not in out and "\x9a" not in out and "\\x9b31m" in out and "\\x9a" in out
    assert check_reports([FileResult("<stdin>", (f,))], "/") == "ok"

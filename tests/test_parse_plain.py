"""Plain files read without the Go parser: exactly what BuildKit's parser reads, or a
refusal that sends the file to it."""

from __future__ import annotations

import importlib
from pathlib import Path

import dockerfile as bk
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import bench_corpus

from analyzer.model import ParseError
from analyzer.parse import _text_for_go, logical_line, parse, scan_directives, split_lines
from analyzer.parse_plain import plain_commands

parse_module = importlib.import_module("analyzer.parse")  # the module (the package exports the function)

ROOT = Path(__file__).resolve().parent.parent


def _go(lines: list[str]):
    try:
        return [tuple(c) for c in bk.parse_string("\n".join(lines) + "\n")]
    except bk.GoParseError as exc:
        return ("error", str(exc))


def _both_ways(monkeypatch, text: str):
    out = []
    for plain in (False, True):
        monkeypatch.setattr(parse_module, "PLAIN_PATH", plain)
        try:
            out.append(parse(text))
        except ParseError as exc:
            out.append(("error", exc.message, exc.line, exc.column))
    return out


def _corpus(count: int) -> list[str]:
    return bench_corpus(count, seed=11)


def _files() -> list[str]:
    texts = []
    for base in (ROOT / "tests" / "data", ROOT / "sample_dockerfiles", ROOT / "tests" / "scenarios"):
        for path in sorted(base.rglob("*")):
            if path.is_file() and path.stat().st_size < 200_000:
                try:
                    texts.append(path.read_text(encoding="utf-8"))
                except (UnicodeDecodeError, OSError):
                    continue
    return texts


def test_plain_reading_equals_buildkit_on_every_file_at_hand(monkeypatch):
    texts = _files() + _corpus(400)
    taken = 0
    escaped = 0
    for text in texts:
        lines = split_lines(text)
        try:
            directives, escape = scan_directives(lines)
        except ParseError:
            continue
        fast = plain_commands(lines, escape)
        if fast is not None:
            taken += 1
            escaped += escape != "\\"
            # what parse() hands to BuildKit's parser (the escape directive moved to the top)
            go_lines = _text_for_go(text, lines, directives)[:-1].split("\n")
            assert [tuple(c) for c in fast] == _go(go_lines), text
        slow, quick = _both_ways(monkeypatch, text)
        assert quick == slow, text
    assert taken >= 300 and escaped >= 20  # the plain reading is the common case


@pytest.mark.parametrize(
    "text",
    [
        "FROM a\nRUN x \\\n\n  y\n",  # a blank line inside a continuation
        "FROM a\nRUN x \\\n# note\n  y\n",  # a comment inside a continuation
        "FROM a\nRUN x \\\n",  # a continuation at the end
        "FROM a\nRUN <<EOF\necho\nEOF\n",
        "FROM a\nCMD [\"a\"] trailing\n",
        "FROM a\nCMD [\"a\tb\"]\n",  # a tab inside a JSON string: not JSON to Go
        "FROM a\nCMD [\"\\u00e9\"]\n",  # \\u escapes are left to Go
        "FROM a\nENV A\n",
        "FROM a\nENV A=\"unterminated\n",
        "FROM a\nLABEL a=x\\ y\n",
        "FROM a\nRUN -- x\n",
        "# escape=`\nFROM a\nCOPY --chown=a\\b x y\n",  # BuildKit unescapes a flag with a backslash anyway
        "FROM a\nRUN echo \u00e9\n",
        "FROM a\nRUN echo a\x0bb\n",
        "FROM a\nFOO bar\n",
        "FROM a\nONBUILD ONBUILD RUN x\n",
        "FROM a\nONBUILD --x RUN y\n",
        "FROM a\nHEALTHCHECK NONE x\n",
        "FROM a\nHEALTHCHECK CMD [\"a\"] x\n",
        "FROM a\nRUN a\\\\\nRUN b\n",
        "\ufeff\ufeffFROM a\n",  # a second byte order mark reaches the parser
    ],
)
def test_what_is_not_plain_goes_to_buildkit(monkeypatch, text):
    assert plain_commands(split_lines(text)) is None
    slow, quick = _both_ways(monkeypatch, text)
    assert quick == slow


@pytest.mark.parametrize(
    "text",
    [
        "FROM  python:3.12-slim   AS   build  \n  run apt-get update && \\\n    apt-get install -y   curl \\  \n    git\n",
        "FROM a\nCOPY --from=build --chown=1:2   /a /b   /c/\nCOPY [\"a\", \"b\"]\nVOLUME [ ]\n",
        "FROM a\nCMD [\"python\",  \"app.py\"]\nCMD python   app.py  \nENTRYPOINT [ \"x\" ]\nSHELL [\"/bin/bash\", \"-c\"]\n",
        "FROM a\nCMD [\"a\\\"b\", \"C:\\\\app\", \"a\\/b\\n\"]\nHEALTHCHECK CMD [\"x\\ty\"]\n",
        "# escape=`\nFROM a\nRUN dir C:\\ ; `\n  echo \\x `\n  done\nENV A=C:\\x B=\"q r\"\nARG P=C:\\p\nCOPY --chown=a:b x y\n",
        "FROM a\nENV A=1 B=2\nENV C 3  4\nENV D=\nENV E==f\nARG X=1 Y\nARG\n",
        "FROM a\nLABEL a='x y'  b=\"p q\"r c=d\nENV A \"x y\"\nLABEL \"a b\"=c\n",
        "FROM a\nHEALTHCHECK --interval=30s CMD curl -f http://localhost/ || exit 1\nHEALTHCHECK NONE\nHEALTHCHECK CMD [\"a\", \"b\"]\n",
        "FROM a\nhealthcheck --x=1 --y=2   cmd   a  \nHEALTHCHECK\nHEALTHCHECK CMD\n",
        "FROM a\nONBUILD ARG NODE_ENV=production\nONBUILD RUN  echo hi  \nonbuild copy --from=x a b\nONBUILD CMD [\"a\"]\n",
        "FROM a\nRUN ---x --=y --mount=type=cache,target=/root/.cache pip install x\nRUN\nEXPOSE\nWORKDIR\n",
        "# syntax=docker/dockerfile:1\n# check=skip=all\nFROM a\n\n   # a comment\nUSER  app:app\nSTOPSIGNAL SIGTERM\nMAINTAINER Jane Doe <j@x>\n",
    ],
)
def test_plain_shapes_read_as_buildkit_reads_them(monkeypatch, text):
    lines = split_lines(text)
    fast = plain_commands(lines, scan_directives(lines)[1])
    assert fast is not None
    assert [tuple(c) for c in fast] == _go(lines)
    slow, quick = _both_ways(monkeypatch, text)
    assert quick == slow


_KEYWORDS = ["FROM", "from", "Run", "RUN", "CMD", "ENTRYPOINT", "COPY", "ADD", "WORKDIR", "USER", "EXPOSE", "ENV", "ARG",
             "LABEL", "VOLUME", "STOPSIGNAL", "MAINTAINER", "SHELL", "HEALTHCHECK", "ONBUILD", "NOPE", "CMD"]
_BLANKS = st.sampled_from(["", " ", "  ", "\t", " \t "])
_TOKEN = st.sampled_from(["a", "b=c", "x=", "=y", "--x", "--from=b", "--", "\"q r\"", "'s'", "\"open", "[", "]", "\"j\"", ",",
                          "[\"a\",", "\"b\"]", "\\", "<<EOF", "#", "$V", "${V:-x}", "&&", "CMD", "NONE", "RUN", "\u00e9", "\x0b", "é=1",
                          "`", "[\"a\tb\"]", "[\"C:\\\\x\"]", "[\"q\\\"r\"]", "[\"\\u00e9\"]", "[\"x\",", "\"y\\n\"]", "\"\\/\"]"])


@st.composite
def _line(draw):
    kw = draw(st.sampled_from(_KEYWORDS + ["#", ""]))
    words = draw(st.lists(_TOKEN, max_size=6))
    parts = [draw(_BLANKS), kw]
    for w in words:
        parts += [draw(st.sampled_from([" ", "  ", "\t"])), w]
    parts.append(draw(_BLANKS))
    if draw(st.integers(0, 4)) == 0:
        parts.append("\\" + draw(_BLANKS))
    return "".join(parts)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_line(), min_size=1, max_size=8), st.sampled_from(["\\", "`"]))
def test_generated_lines_are_read_as_buildkit_reads_them_or_left_to_it(lines, escape):
    lines = ["FROM a", *lines]
    if escape == "`":
        lines = ["# escape=`", *[line.replace("\\", "`") if i % 2 else line for i, line in enumerate(lines)]]
    fast = plain_commands(lines, escape)
    if fast is not None:
        assert [tuple(c) for c in fast] == _go(lines), lines
        for c in fast:  # the position map the reader hands on is parse's own
            text, segments, _last = logical_line(lines, c.start_line, escape)
            assert (c.original, list(c.segments)) == (text, segments), lines


_WORD_CHARS = st.sampled_from(["a", "b", "=", " ", "  ", "\t", '"', "'", "\\", "`", "$", "{", "}", "\u00a0", "\u2003", "x y", "\n", "é"])


@settings(max_examples=3000, deadline=None)
@given(st.lists(_WORD_CHARS, max_size=14).map("".join), st.sampled_from(["\\", "`"]), st.integers(0, 3))
def test_word_splitting_by_pattern_equals_the_character_scan(text, escape, limit):
    from analyzer.parse_plain import _scan_words, parse_words

    assert parse_words(text, escape, limit) == _scan_words(text, escape, limit)

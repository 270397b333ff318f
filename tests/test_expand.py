from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import analyzer
from analyzer.expand import (
    BUILDKIT_DEFAULT_PATH,
    MAX_EXPANSION,
    Expansion,
    ExpansionError,
    ExpansionTooLarge,
    Scope,
    expand,
    expand_words,
    parse_platform,
    resolve,
)
from analyzer.model import AnalyzerError

ENV = {
    "x": "hello/world/file.tar.gz",
    "empty": "",
    "n": "1",
    "name": "app",
    "dots": "a.b.c",
    "br": "a[b]c",
}


def value(word: str, env=ENV, escape: str = "\\") -> str:
    return expand(word, env, escape).value


# --------------------------------------------------------------------------- #
# Word expansion: plain forms
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "word, expected",
    [
        ("$name", "app"),
        ("${name}", "app"),
        ("pre-$name-post", "pre-app-post"),
        ("${name}s", "apps"),
        ("$names", ""),  # the name is "names"
        ("$", "$"),
        ("a$", "a$"),
        ("$-", ""),  # special parameter, unset
        ("$1x", "x"),  # positional parameter, then literal
        ("$/x", "$/x"),
        ("${unset}", ""),
        ("$unset", ""),
        ("ü$name", "üapp"),
    ],
)
def test_plain_forms(word, expected):
    assert value(word) == expected


@pytest.mark.parametrize(
    "word, expected",
    [
        ("${unset:-dflt}", "dflt"),
        ("${empty:-dflt}", "dflt"),
        ("${name:-dflt}", "app"),
        ("${unset-dflt}", "dflt"),
        ("${empty-dflt}", ""),
        ("${name-dflt}", "app"),
        ("${unset:+alt}", ""),
        ("${empty:+alt}", ""),
        ("${name:+alt}", "alt"),
        ("${unset+alt}", ""),
        ("${empty+alt}", "alt"),
        ("${name+alt}", "alt"),
        ("${name:?boom}", "app"),
        ("${empty?boom}", ""),
        ("${unset:-}", ""),
        ("${unset:-a b}", "a b"),
        ("${unset:-$name}", "app"),
        ("${unset:-${name}}", "app"),
        ("${unset:-${other:-deep}}", "deep"),
        ("${unset:-${empty:-${name:+x${n}y}}}", "x1y"),
        ("${name:+${unset:-in}}", "in"),
        ("${unset:-\"quoted }\"}", "quoted }"),
        ("${unset:-a\\}b}", "a}b"),
    ],
)
def test_default_and_alternative_forms(word, expected):
    assert value(word) == expected


@pytest.mark.parametrize(
    "word, message",
    [
        ("${unset:?must be set}", "unset: must be set"),
        ("${unset?must be set}", "unset: must be set"),
        ("${unset?}", "unset: is not allowed to be unset"),
        ("${empty:?}", "empty: is not allowed to be empty"),
        ("${empty:?no $name}", "empty: no app"),
        ("${unset:?}", "unset: is not allowed to be unset"),
    ],
)
def test_required_forms_raise(word, message):
    with pytest.raises(ExpansionError) as info:
        expand(word, ENV)
    assert str(info.value) == message
    assert isinstance(info.value, AnalyzerError)


@pytest.mark.parametrize(
    "word, message",
    [
        ("${", "syntax error: missing '}'"),
        ("${x", "syntax error: missing '}'"),
        ("${x:-abc", "syntax error: missing '}'"),
        ("${unset:-${name}", "syntax error: missing '}'"),
        ("${}", "syntax error: bad substitution"),
        ("${:x}", "syntax error: bad substitution"),
        ("${{x}}", "syntax error: bad substitution"),
        ("${x=1}", "unsupported modifier (=) in substitution"),
        ("${x:=1}", "unsupported modifier (:=) in substitution"),
        ("${#x}", "unsupported modifier (x) in substitution"),
        ("${x/a}", "syntax error: missing '/' in ${}"),
        ("${x/a/b", "syntax error: missing '}'"),
        ("'open", "unexpected end of statement while looking for matching single-quote"),
        ('"open', "unexpected end of statement while looking for matching double-quote"),
        ("${x#\\a}", "invalid pattern (\\a) in substitution: invalid escape '\\a'"),
    ],
)
def test_syntax_errors(word, message):
    with pytest.raises(ExpansionError) as info:
        expand(word, ENV)
    assert str(info.value) == message
    assert info.value.word == word


# --------------------------------------------------------------------------- #
# Patterns
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "word, expected",
    [
        ("${x#*/}", "world/file.tar.gz"),
        ("${x##*/}", "file.tar.gz"),
        ("${x%/*}", "hello/world"),
        ("${x%%/*}", "hello"),
        ("${x%.*}", "hello/world/file.tar"),
        ("${x%%.*}", "hello/world/file"),
        ("${x#hello}", "/world/file.tar.gz"),
        ("${x#nope}", "hello/world/file.tar.gz"),
        ("${x%.gz}", "hello/world/file.tar"),
        ("${x#?}", "ello/world/file.tar.gz"),
        ("${x#h?l}", "lo/world/file.tar.gz"),
        ("${x%?z}", "hello/world/file.tar."),
        ("${x#*o*o}", "rld/file.tar.gz"),
        ("${x##*o*o}", "rld/file.tar.gz"),
        ("${x#*}", "hello/world/file.tar.gz"),
        ("${x##*}", ""),
        ("${x%%*}", ""),
        ("${x#}", "hello/world/file.tar.gz"),
        ("${dots#*.}", "b.c"),
        ("${dots##*.}", "c"),
        ("${dots%.*}", "a.b"),
        ("${dots%%.*}", "a"),
        ("${unset##*/}", ""),
        ("${x:#*/}", "world/file.tar.gz"),  # BuildKit accepts ':' before '#' and '%'
    ],
)
def test_trim_patterns(word, expected):
    assert value(word) == expected


@pytest.mark.parametrize(
    "word, expected",
    [
        # BuildKit has no bracket expressions: '[' and ']' are literal characters.
        ("${br#a[b]}", "c"),
        ("${br#[ab]}", "a[b]c"),
        ("${br%[b]c}", "a"),
        # A backslash makes a wildcard literal; quotes do not (they are removed first).
        ("${dots#a\\*}", "a.b.c"),
        ('${dots#"*."}', "b.c"),
        ("${dots#'*'.}", "b.c"),
        ("${x#$name}", "hello/world/file.tar.gz"),
        ("${x#${x%%/*}}", "/world/file.tar.gz"),
    ],
)
def test_pattern_literals_and_escapes(word, expected):
    assert value(word) == expected


def test_star_literal_escape():
    assert value("${v#a\\*}", {"v": "a*b"}) == "b"
    assert value("${v%\\?}", {"v": "what?"}) == "what"


@pytest.mark.parametrize(
    "word, expected",
    [
        ("${x/o/0}", "hell0/world/file.tar.gz"),
        ("${x//o/0}", "hell0/w0rld/file.tar.gz"),
        ("${x//o/}", "hell/wrld/file.tar.gz"),
        ("${x/nope/0}", "hello/world/file.tar.gz"),
        ("${x//\\//_}", "hello_world_file.tar.gz"),
        ("${x/\\//_}", "hello_world/file.tar.gz"),
        ("${x/*\\//}", "file.tar.gz"),  # '*' is greedy in replacements
        ("${x/w*d/X}", "hello/X/file.tar.gz"),
        ("${x//?/.}", "......................."),
        ("${dots//./$name}", "aappbappc"),
        ("${dots/#a/z}", "a.b.c"),  # no anchors: '#' is a literal character here
        ("${unset/a/b}", ""),
        ("${name//}", None),
        ("${name/a/\\}}", "\\}pp"),  # the escape character stays in the replacement
    ],
)
def test_replacement(word, expected):
    if expected is None:
        with pytest.raises(ExpansionError):
            expand(word, ENV)
    else:
        assert value(word) == expected


def test_replace_all_with_empty_pattern_follows_go():
    # Go's ReplaceAllString inserts the replacement around every character.
    assert value("${name///-}") == "-a-p-p-"
    assert value("${name//*/-}") == "-"


def test_newline_is_not_matched_by_wildcards():
    env = {"v": "a\nb"}
    assert value("${v#*}", env) == "a\nb"
    assert value("${v##*}", env) == "\nb"
    assert value("${v//?/x}", env) == "x\nx"


# --------------------------------------------------------------------------- #
# Quotes and escapes
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "word, expected",
    [
        ("'$name'", "$name"),
        ('"$name"', "app"),
        ('"a b"', "a b"),
        ("'a'\"b\"c", "abc"),
        ('"it\'s"', "it's"),
        ("'say \"hi\"'", 'say "hi"'),
        ("\\$name", "$name"),
        ("\\${name}", "${name}"),
        ("a\\ b", "a b"),
        ("\\\\", "\\"),
        ("\\'x\\'", "'x'"),
        ("trailing\\", "trailing"),
        ('"\\$name"', "$name"),
        ('"\\"q\\""', '"q"'),
        ('"\\a"', "\\a"),  # inside double quotes only $ " and the escape char are escaped
        ('"\\\\"', "\\"),
        ('"${name:-x}"', "app"),
        ('"${unset:-a "b" c}"', "a b c"),
        ("'${name}'\"$name\"", "${name}app"),
        ("C:\\\\path", "C:\\path"),
    ],
)
def test_quotes_and_backslash_escape(word, expected):
    assert value(word) == expected


@pytest.mark.parametrize(
    "word, expected",
    [
        ("`$name", "$name"),
        ("C:\\path\\$name", "C:\\path\\app"),
        ('"`"quoted`""', '"quoted"'),
        ('"`$name"', "$name"),
        ('"`x"', "`x"),
        ("``", "`"),
        ("${unset:-a`}b}", "a}b"),
        ("'`$name'", "`$name"),
    ],
)
def test_backtick_escape(word, expected):
    assert value(word, escape="`") == expected


def test_escape_must_be_one_character():
    with pytest.raises(ValueError):
        expand("x", {}, escape="")


# --------------------------------------------------------------------------- #
# Undefined / used collection
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "word, undefined, used, missing",
    [
        ("$name", (), ("name",), ()),
        ("$a$b$a", ("a", "b"), (), ("a", "b")),
        ("${a:-x}", ("a",), (), ()),
        ("${a-x}${b+y}", ("a", "b"), (), ()),
        ("${name:-$other}", ("other",), ("name",), ("other",)),  # BuildKit reports the unused default too
        ("${a##*/}", ("a",), (), ("a",)),
        ("${a/x/y}", ("a",), (), ("a",)),
        ("'$a' \\$b", (), (), ()),
        ('"$a"', ("a",), (), ("a",)),
        ("${a:-${b:-${name}}}", ("a", "b"), ("name",), ()),
        ("$empty", (), ("empty",), ()),
    ],
)
def test_undefined_and_used(word, undefined, used, missing):
    exp = expand(word, ENV)
    assert (exp.undefined, exp.used, exp.missing) == (undefined, used, missing)


def test_expansion_is_frozen():
    exp = expand("$name", ENV)
    assert exp == Expansion("app", (), ("name",), ())
    with pytest.raises(Exception):
        exp.value = "other"  # type: ignore[misc]


def test_expand_words():
    out = expand_words(["$name", "${n}x", "'$n'"], ENV)
    assert [e.value for e in out] == ["app", "1x", "$n"]


# --------------------------------------------------------------------------- #
# Size bound
# --------------------------------------------------------------------------- #


def test_expansion_too_large_raises():
    env = {"A": "x" * 4096}
    with pytest.raises(ExpansionTooLarge) as info:
        expand("$A" * 300, env)
    assert str(info.value) == "variable expansion too large"
    assert isinstance(info.value, ExpansionError)


def test_expansion_just_under_the_bound_is_fine():
    env = {"A": "x" * (MAX_EXPANSION // 4)}
    assert len(expand("$A$A$A$A", env).value) == MAX_EXPANSION


@pytest.mark.parametrize(
    "word, text",
    [
        ("${A//x/yyyyyyyyyyyyyyyy}", "x" * 200_000),
        ("${A//?/yyyyyyyyyyyyyyyy}", "x" * 200_000),
        ("${A//x*/yyyyyyyyyyyyyyyyyyyy}", "x\n" * 100_000),
        ("${A/x/" + "y" * 900_000 + "}", "x" * 200_000),
        ("${B:-$A$A$A$A$A$A$A$A$A}", "x" * 200_000),
    ],
)
def test_replacement_and_defaults_are_bounded(word, text):
    with pytest.raises(ExpansionTooLarge):
        expand(word, {"A": text})


def test_arg_doubling_chain_is_bounded():
    lines = ["ARG A0=xxxxxxxx"]
    lines += [f"ARG A{i}=" + f"$A{i - 1}" * 8 for i in range(1, 30)]
    lines += ["FROM alpine"]
    lines += ["ARG A0=xxxxxxxx"]
    lines += [f"ARG A{i}=" + f"${{A{i - 1}}}" * 8 for i in range(1, 30)]
    df = analyzer.parse("\n".join(lines) + "\n")
    res = resolve(df)
    assert all(len(v) <= MAX_EXPANSION for v in res.global_scope.values.values())
    assert all(len(v) <= MAX_EXPANSION for v in res.env_after(0).values.values())
    assert any(e.message == "variable expansion too large" for e in res.errors)


def test_pathological_patterns_stay_fast():
    env = {"v": "a" * 200_000}
    start = time.monotonic()
    assert len(expand("${v##*b}", env).value) == 200_000
    assert len(expand("${v%%a*a*a*a*b}", env).value) == 200_000
    assert len(expand("${v//*b*a/x}", env).value) == 200_000
    assert expand("${v//*a/x}", env).value == "x"
    assert expand("${v##*a*a}", env).value == ""
    assert time.monotonic() - start < 20


# --------------------------------------------------------------------------- #
# Pattern semantics against a regular-expression model of BuildKit
# --------------------------------------------------------------------------- #


def _go_like_regex(pattern: str, greedy: bool, anchored: bool) -> re.Pattern:
    out = "^" if anchored else ""
    for ch in pattern:
        if ch == "*":
            out += ".*" if greedy else ".*?"
        elif ch == "?":
            out += "."
        else:
            out += re.escape(ch)
    return re.compile(out)


def _model_trim_prefix(v: str, p: str, greedy: bool) -> str:
    m = _go_like_regex(p, greedy, True).search(v)
    return v[m.end():] if m else v


def _model_trim_suffix(v: str, p: str, greedy: bool) -> str:
    m = _go_like_regex(p[::-1], greedy, True).search(v[::-1])
    return v[: len(v) - m.end()] if m else v


def _model_replace(v: str, p: str, r: str, replace_all: bool) -> str:
    rx = _go_like_regex(p, True, False)
    if not replace_all:
        m = rx.search(v)
        return v if m is None else v[: m.start()] + r + v[m.end():]
    out, last, pos = [], 0, 0
    while pos <= len(v):
        m = rx.search(v, pos)
        if m is None:
            break
        a, b = m.span()
        out.append(v[last:a])
        if b > last or a == 0:
            out.append(r)
        last = b
        pos = pos + 1 if pos + 1 > b else b
    out.append(v[last:])
    return "".join(out)


_texts = st.text(alphabet="ab\n", max_size=12)
_patterns = st.text(alphabet="ab*?", max_size=6)


@settings(max_examples=400, deadline=None)
@given(v=_texts, p=_patterns, greedy=st.booleans())
def test_trim_matches_regex_model(v, p, greedy):
    env = {"v": v}
    op = "##" if greedy else "#"
    assert expand("${v" + op + p + "}", env).value == _model_trim_prefix(v, p, greedy)
    op = "%%" if greedy else "%"
    assert expand("${v" + op + p + "}", env).value == _model_trim_suffix(v, p, greedy)


@settings(max_examples=400, deadline=None)
@given(v=_texts, p=_patterns, r=st.text(alphabet="xy", max_size=2), replace_all=st.booleans())
def test_replace_matches_regex_model(v, p, r, replace_all):
    op = "//" if replace_all else "/"
    if not p and not replace_all:
        return  # "${v//r}" would be a replace-all of "r"
    assert expand("${v" + op + p + "/" + r + "}", {"v": v}).value == _model_replace(v, p, r, replace_all)


# --------------------------------------------------------------------------- #
# Platforms
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "text, expected",
    [
        ("linux/amd64", ("linux", "amd64", "")),
        ("linux/arm64", ("linux", "arm64", "")),
        ("linux/arm64/v8", ("linux", "arm64", "")),
        ("linux/arm/v7", ("linux", "arm", "v7")),
        ("linux/arm", ("linux", "arm", "v7")),
        ("linux/arm/v6", ("linux", "arm", "v6")),
        ("Linux/x86_64", ("linux", "amd64", "")),
        ("arm64", ("linux", "arm64", "")),
        ("windows/amd64", ("windows", "amd64", "")),
    ],
)
def test_parse_platform(text, expected):
    p = parse_platform(text)
    assert (p.os, p.arch, p.variant) == expected


@pytest.mark.parametrize("text", ["", "linux//", "a/b/c/d"])
def test_parse_platform_rejects_garbage(text):
    with pytest.raises(AnalyzerError):
        parse_platform(text)


# --------------------------------------------------------------------------- #
# Scoping
# --------------------------------------------------------------------------- #


def _resolve(text: str, **kwargs):
    df = analyzer.parse(text)
    return df, resolve(df, **kwargs)


def _ins(df, keyword: str, nth: int = 0):
    return [i for i in df.instructions if i.keyword == keyword][nth]


def test_global_arg_not_visible_in_stage_without_redeclare():
    df, res = _resolve("ARG V=1\nFROM alpine\nRUN echo $V\n")
    run = _ins(df, "RUN")
    assert "V" not in res.env_before(run)
    assert res.expand_in(run, "$V") == Expansion("", ("V",), (), ("V",))
    assert res.global_scope["V"] == "1"


def test_redeclared_global_arg_takes_the_global_value():
    df, res = _resolve("ARG V=1\nFROM alpine\nARG V\nRUN echo $V\n")
    assert res.env_before(_ins(df, "RUN")).arg_vars == {"V": "1"}


def test_redeclared_global_arg_takes_the_build_arg():
    df, res = _resolve("ARG V=1\nFROM alpine\nARG V\nRUN echo $V\n", build_args={"V": "2"})
    assert res.env_before(_ins(df, "RUN"))["V"] == "2"


def test_global_arg_default_is_expanded_with_earlier_globals():
    _, res = _resolve("ARG A=1\nARG B=${A}0 C=$B$B\nFROM alpine\n")
    assert (res.global_scope["B"], res.global_scope["C"]) == ("10", "1010")


def test_global_arg_build_arg_value_is_not_expanded():
    _, res = _resolve("ARG A=1\nARG B=x\nFROM alpine\n", build_args={"B": "$A"})
    assert res.global_scope["B"] == "$A"


def test_build_arg_overrides_stage_default():
    df, res = _resolve("FROM alpine\nARG V=default\nRUN x\n", build_args={"V": "cli"})
    assert res.env_before(_ins(df, "RUN"))["V"] == "cli"


def test_global_value_does_not_override_stage_default():
    df, res = _resolve("ARG V=global\nFROM alpine\nARG V=stage\nRUN x\n")
    assert res.env_before(_ins(df, "RUN"))["V"] == "stage"


def test_stage_arg_without_value_is_declared_but_unset():
    df, res = _resolve("FROM alpine\nARG V\nRUN x\n")
    scope = res.env_before(_ins(df, "RUN"))
    assert "V" not in scope and "V" in scope.declared_args


def test_undeclared_build_arg_is_unused():
    _, res = _resolve(
        "ARG G\nFROM alpine\nARG S\n",
        build_args={"G": "1", "S": "2", "NOPE": "3", "ALSO_NOPE": "4"},
    )
    assert res.unused_build_args == ("ALSO_NOPE", "NOPE")


def test_predefined_build_args_are_never_unused():
    _, res = _resolve(
        "FROM alpine\n",
        build_args={
            "HTTP_PROXY": "p",
            "no_proxy": "n",
            "TARGETARCH": "x",
            "BUILDKIT_INLINE_CACHE": "1",
            "SOURCE_DATE_EPOCH": "0",
        },
    )
    assert res.unused_build_args == ()


def test_env_after_arg_wins():
    df, res = _resolve("FROM alpine\nARG V=arg\nENV V=env\nRUN x\n", build_args={"V": "cli"})
    scope = res.env_before(_ins(df, "RUN"))
    assert (scope["V"], scope.origin["V"], scope.env_vars["V"]) == ("env", "env", "env")


def test_arg_with_value_after_env_wins_in_the_build_environment():
    # BuildKit's dispatchArg writes ARG values into the same build environment as
    # ENV, so the later ARG is what RUN and later expansions see; the image's ENV
    # (env_vars) keeps the ENV value.
    df, res = _resolve("FROM alpine\nENV V=env\nARG V=arg\nRUN x\n")
    scope = res.env_before(_ins(df, "RUN"))
    got = (scope["V"], scope.origin["V"], scope.env_vars["V"], scope.arg_vars["V"])
    assert got == ("arg", "arg", "env", "arg")


def test_arg_without_value_after_env_keeps_env():
    df, res = _resolve("FROM alpine\nENV V=env\nARG V\nRUN x\n")
    scope = res.env_before(_ins(df, "RUN"))
    assert (scope["V"], scope.origin["V"]) == ("env", "env")


def test_env_pairs_are_expanded_with_the_env_before_the_instruction():
    df, res = _resolve("FROM alpine\nENV A=0\nENV A=1 B=$A C=${A}x\nRUN x\n")
    scope = res.env_before(_ins(df, "RUN"))
    assert (scope["A"], scope["B"], scope["C"]) == ("1", "0", "0x")


def test_env_pairs_referring_to_a_new_name_see_nothing():
    df, res = _resolve("FROM alpine\nENV A=1 B=$A\nRUN x\n")
    assert res.env_before(_ins(df, "RUN"))["B"] == ""
    assert res.undefined[_ins(df, "ENV").index] == ("A",)


def test_arg_pairs_are_processed_in_order():
    df, res = _resolve("FROM alpine\nARG A=1 B=$A\nRUN x\n")
    assert res.env_before(_ins(df, "RUN"))["B"] == "1"


def test_env_keys_are_expanded_and_legacy_form_handled():
    df, res = _resolve("FROM alpine\nARG K=KEY\nENV $K=v\nENV L a b\nRUN x\n")
    scope = res.env_before(_ins(df, "RUN"))
    assert (scope["KEY"], scope["L"]) == ("v", "a b")


def test_env_quotes_are_removed():
    df, res = _resolve('FROM alpine\nENV A="a b" B=\'$A\' C="$A"\nENV D=x\nRUN x\n')
    scope = res.env_before(_ins(df, "RUN"))
    assert (scope["A"], scope["B"], scope["C"]) == ("a b", "$A", "")


def test_env_is_inherited_by_a_stage_built_from_a_stage():
    text = "FROM alpine AS base\nENV A=1\nFROM base AS child\nRUN echo $A\n"
    df, res = _resolve(text)
    child = res.stages[1]
    assert (child.base_stage, child.base_image, child.inherited_env["A"]) == (0, None, "1")
    assert res.env_before(_ins(df, "RUN"))["A"] == "1"


def test_arg_is_not_visible_in_a_sibling_stage():
    text = "FROM alpine AS one\nARG A=1\nFROM alpine AS two\nRUN echo $A\n"
    df, res = _resolve(text)
    assert "A" not in res.env_before(_ins(df, "RUN"))


def test_arg_is_inherited_by_a_child_stage():
    # BuildKit behaviour (documented since BuildKit 0.17): ARGs of the parent stage
    # stay in effect in stages built FROM it.
    text = "FROM alpine AS base\nARG A=1\nARG B\nFROM base\nRUN echo $A\n"
    df, res = _resolve(text)
    scope = res.env_before(_ins(df, "RUN"))
    assert (scope["A"], scope.origin["A"], "B" in scope.declared_args) == ("1", "arg", True)
    assert res.stages[1].inherited_args == {"A": "1"}


def test_parent_env_is_reapplied_over_parent_arg_in_child():
    text = "FROM alpine AS base\nENV V=env\nARG V=arg\nFROM base\nRUN x\n"
    df, res = _resolve(text)
    assert res.env_before(_ins(df, "RUN"))["V"] == "env"


def test_predefined_platform_args_in_from():
    text = "FROM --platform=$BUILDPLATFORM golang:1-$TARGETARCH$TARGETVARIANT AS build\n"
    _, res = _resolve(text, platform="linux/arm/v7", build_platform="linux/amd64")
    stage = res.stages[0]
    got = (stage.base_image, stage.platform, stage.base_unresolved)
    assert got == ("golang:1-armv7", "linux/amd64", False)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("TARGETPLATFORM", "linux/arm64"),
        ("TARGETOS", "linux"),
        ("TARGETARCH", "arm64"),
        ("TARGETVARIANT", ""),
        ("BUILDPLATFORM", "linux/amd64"),
        ("BUILDOS", "linux"),
        ("BUILDARCH", "amd64"),
        ("BUILDVARIANT", ""),
        ("TARGETSTAGE", "last"),
    ],
)
def test_predefined_platform_arg_values(name, expected):
    _, res = _resolve("FROM alpine AS last\n", platform="linux/arm64", build_platform="linux/amd64")
    assert res.global_scope[name] == expected


def test_platform_args_in_stage_only_after_declaration():
    text = "FROM alpine\nRUN echo $TARGETARCH\nARG TARGETARCH\nRUN echo $TARGETARCH\n"
    df, res = _resolve(text, platform="linux/arm64")
    before, after = _ins(df, "RUN", 0), _ins(df, "RUN", 1)
    assert "TARGETARCH" not in res.env_before(before)
    assert res.env_before(after)["TARGETARCH"] == "arm64"


def test_build_arg_overrides_a_platform_arg():
    _, res = _resolve("FROM alpine:$TARGETOS\n", build_args={"TARGETOS": "custom"})
    assert res.stages[0].base_image == "alpine:custom"


def test_from_resolves_through_arg_to_an_earlier_stage():
    text = "ARG ROOT=base\nFROM ubuntu:24.04 AS base\nENV E=1\nFROM $ROOT\n"
    _, res = _resolve(text)
    stage = res.stages[1]
    assert (stage.base_stage, stage.base_image, stage.inherited_env["E"]) == (0, None, "1")


def test_from_a_later_stage_name_is_an_image():
    _, res = _resolve("FROM later AS first\nFROM alpine AS later\n")
    assert (res.stages[0].base_stage, res.stages[0].base_image) == (None, "later")


def test_from_by_index_is_an_image_reference():
    _, res = _resolve("FROM alpine AS a\nFROM 0\n")
    assert (res.stages[1].base_stage, res.stages[1].base_image) == (None, "0")


def test_from_with_undeclared_variable_keeps_the_raw_text():
    _, res = _resolve("FROM alpine:$TAG\n")
    stage = res.stages[0]
    assert (stage.base_image, stage.base_unresolved, stage.undefined_in_from) == ("alpine:$TAG", True, ("TAG",))


def test_from_with_declared_valueless_arg_expands_to_empty():
    # BuildKit expands a declared global ARG without value (and no build arg) to "".
    _, res = _resolve("ARG TAG\nFROM debian$TAG\n")
    stage = res.stages[0]
    assert (stage.base_image, stage.base_unresolved, stage.undefined_in_from) == ("debian", False, ())


def test_from_that_fails_to_expand_is_unresolved():
    _, res = _resolve("FROM alpine:${TAG:?}\n")
    stage = res.stages[0]
    assert (stage.base_image, stage.base_unresolved) == ("alpine:${TAG:?}", True)
    assert [e.message for e in res.errors] == ["TAG: is not allowed to be unset"]


def test_from_with_default_is_resolved():
    _, res = _resolve("ARG TAG\nFROM alpine:${TAG:-3.20}\n")
    assert (res.stages[0].base_image, res.stages[0].base_unresolved) == ("alpine:3.20", False)


def test_from_with_build_arg():
    _, res = _resolve("ARG TAG=1\nFROM alpine:$TAG\n", build_args={"TAG": "2"})
    assert res.stages[0].base_image == "alpine:2"


def test_undefined_in_from_lists_undeclared_names():
    text = "ARG DECLARED\nFROM --platform=$PLAT img:$DECLARED$NOPE$TARGETOS AS a\nFROM b:$OTHER\n"
    _, res = _resolve(text)
    assert res.undefined_in_from == ((0, "NOPE"), (0, "PLAT"), (1, "OTHER"))
    assert res.stages[0].undefined_in_from == ("NOPE", "PLAT")


def test_from_scope_is_the_global_scope():
    df, res = _resolve("ARG A=1\nFROM alpine\nARG B=2\nFROM alpine\n")
    second_from = _ins(df, "FROM", 1)
    assert res.env_before(second_from)["A"] == "1"
    assert "B" not in res.env_before(second_from)
    assert res.env_before(second_from).is_global


def test_proxy_build_args_reach_run_without_declaration():
    df, res = _resolve("FROM alpine:$HTTP_PROXY\nRUN curl x\n", build_args={"HTTP_PROXY": "http://p"})
    scope = res.env_before(_ins(df, "RUN"))
    assert scope["HTTP_PROXY"] == "http://p"
    assert "HTTP_PROXY" not in scope.values  # not visible to word expansion
    assert res.stages[0].base_unresolved  # nor to FROM


def test_proxy_args_absent_unless_passed():
    df, res = _resolve("FROM alpine\nRUN curl x\n")
    assert "HTTP_PROXY" not in res.env_before(_ins(df, "RUN"))


def test_declared_proxy_arg_enters_the_build_environment():
    df, res = _resolve("FROM alpine\nARG http_proxy\nRUN x\n", build_args={"http_proxy": "p"})
    assert res.env_before(_ins(df, "RUN")).values["http_proxy"] == "p"


def test_path_is_always_set_for_linux_stages():
    df, res = _resolve("FROM alpine\nENV PATH=/opt/bin:$PATH\nRUN x\n")
    assert res.env_before(_ins(df, "RUN"))["PATH"] == "/opt/bin:" + BUILDKIT_DEFAULT_PATH
    assert res.undefined[_ins(df, "ENV").index] == ()


def test_no_default_path_for_windows_stages():
    _, res = _resolve("FROM --platform=windows/amd64 servercore\nRUN x\n")
    assert "PATH" not in res.env_after(0)


def test_image_env_supplies_the_base_image_environment():
    seen = []

    def image_env(ref, platform):
        seen.append((ref, platform))
        return {"JAVA_HOME": "/jdk", "PATH": "/jdk/bin"}

    df, res = _resolve("FROM eclipse-temurin:21\nENV X=$JAVA_HOME\nRUN x\n", image_env=image_env)
    scope = res.env_before(_ins(df, "RUN"))
    assert (scope["X"], scope["PATH"], seen) == ("/jdk", "/jdk/bin", [("eclipse-temurin:21", None)])


def test_image_env_as_mapping():
    df, res = _resolve("FROM img\nRUN x\n", image_env={"img": {"A": "1"}})
    assert res.env_before(_ins(df, "RUN")).env_vars["A"] == "1"


def test_expansion_errors_are_recorded_and_resolution_continues():
    df, res = _resolve("FROM alpine\nARG A=${NOPE:?need}\nENV B=${x\nENV C=ok\nRUN x\n")
    assert [e.message for e in res.errors] == ["NOPE: need", "syntax error: missing '}'"]
    scope = res.env_before(_ins(df, "RUN"))
    assert (scope["C"], "A" in scope, "A" in scope.declared_args) == ("ok", False, True)


def test_undefined_vars_per_arg_and_env_instruction():
    text = "FROM alpine\nARG DECL\nARG A=$DECL$NOPE\nENV B=$A$DECL$MISSING C=${OPT:-x}\n"
    df, res = _resolve(text)
    assert res.undefined[_ins(df, "ARG", 1).index] == ("NOPE",)
    assert res.undefined[_ins(df, "ENV").index] == ("MISSING", "OPT")


def test_undefined_vars_helper_ignores_declared_args():
    df, res = _resolve("FROM alpine\nARG DECL\nCOPY $DECL$NOPE /x\n")
    assert res.undefined_vars(_ins(df, "COPY"), "$DECL$NOPE") == ("NOPE",)


def test_backtick_escape_directive_is_used():
    df, res = _resolve("# escape=`\nFROM alpine\nENV A=1 B=`$A\nRUN x\n")
    assert res.env_before(_ins(df, "RUN"))["B"] == "$A"
    assert res.expand_in(_ins(df, "RUN"), "C:\\dir\\$A").value == "C:\\dir\\1"


def test_env_before_accepts_an_index_and_scope_is_a_mapping():
    df, res = _resolve("FROM alpine\nENV A=1\nRUN x\n")
    run = _ins(df, "RUN")
    scope = res.env_before(run.index)
    assert isinstance(scope, Scope)
    assert dict(scope) == {"PATH": BUILDKIT_DEFAULT_PATH, "A": "1"}
    assert scope == res.env_before(run)


def test_onbuild_trigger_shares_the_scope_of_its_onbuild():
    df, res = _resolve("FROM alpine\nENV A=1\nONBUILD RUN echo $A\n")
    onbuild = _ins(df, "ONBUILD")
    assert res.env_before(onbuild.trigger)["A"] == "1"


def test_stage_platform_flag_is_expanded_and_inherited():
    text = "ARG P=linux/arm64\nFROM --platform=$P alpine AS a\nFROM a\n"
    _, res = _resolve(text)
    assert (res.stages[0].platform, res.stages[1].platform) == ("linux/arm64", "linux/arm64")


def test_expansions_are_recorded_for_from_arg_and_env():
    df, res = _resolve("ARG T=1\nFROM alpine:$T\nENV A=$T\n")
    assert [e.value for e in res.expansions[_ins(df, "FROM").index]] == ["alpine:1"]
    assert [e.value for e in res.expansions[_ins(df, "ENV").index]] == ["A", ""]

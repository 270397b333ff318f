"""Conformance tests for analyzer.parse against BuildKit's Dockerfile parser."""

from __future__ import annotations

import dockerfile as bk
import pytest

from analyzer.model import Comment, DecodeError, Directive, Heredoc, ParseError
from analyzer.parse import decode, parse


def df(*lines: str) -> str:
    """Dockerfile text from physical lines (line N of the file is ``lines[N - 1]``)."""
    return "\n".join(lines) + "\n"


def only(text: str, keyword: str):
    """The single instruction with ``keyword`` in ``text``."""
    found = [i for i in parse(text).instructions if i.keyword == keyword]
    assert len(found) == 1, found
    return found[0]


# --- heredocs ----------------------------------------------------------------------


def test_several_heredocs_on_one_line_are_read_in_order():
    text = df(
        "FROM alpine",
        "RUN <<FIRST <<SECOND sh",
        "echo one",
        "FIRST",
        "echo two",
        "echo three",
        "SECOND",
        "USER nobody",
    )
    run = only(text, "RUN")
    assert run.args == ("<<FIRST <<SECOND sh",)
    assert (run.start_line, run.end_line) == (2, 7)
    assert run.heredocs == (
        Heredoc("FIRST", "echo one\n", expand=True, chomp=False, fd=0, start_line=3, end_line=4),
        Heredoc("SECOND", "echo two\necho three\n", expand=True, chomp=False, fd=0, start_line=5, end_line=7),
    )
    user = only(text, "USER")
    assert (user.start_line, user.end_line) == (8, 8)


def test_quoted_chomped_and_fd_heredocs():
    text = df(
        "FROM alpine",
        "RUN <<A <<-\"B\" cat - /dev/fd/3 3<<'C'",
        "line a",
        "A",
        "\t\tline b $X",
        "\tB",
        "$HOME",
        "C",
    )
    run = only(text, "RUN")
    assert run.args == ("<<A <<-\"B\" cat - /dev/fd/3 3<<'C'",)
    assert (run.start_line, run.end_line) == (2, 8)
    assert run.heredocs == (
        Heredoc("A", "line a\n", expand=True, chomp=False, fd=0, start_line=3, end_line=4),
        Heredoc("B", "\t\tline b $X\n", expand=False, chomp=True, fd=0, start_line=5, end_line=6),
        Heredoc("C", "$HOME\n", expand=False, chomp=False, fd=3, start_line=7, end_line=8),
    )


def test_fd_prefix_on_second_heredoc():
    run = only(df("FROM a", "RUN 2<<E1 cat <<E2", "one", "E1", "two", "E2"), "RUN")
    assert [(h.name, h.fd, h.body, h.start_line, h.end_line) for h in run.heredocs] == [
        ("E1", 2, "one\n", 3, 4),
        ("E2", 0, "two\n", 5, 6),
    ]


def test_copy_heredoc_single_quoted_and_empty_body():
    text = df("FROM a", "COPY <<'EOF' /etc/x", "$HOME", "EOF", "RUN <<EOF", "EOF")
    copy = only(text, "COPY")
    assert copy.args == ("<<'EOF'", "/etc/x")
    assert copy.heredocs == (Heredoc("EOF", "$HOME\n", False, False, 0, 3, 4),)
    run = only(text, "RUN")
    assert (run.start_line, run.end_line) == (5, 6)
    assert run.heredocs == (Heredoc("EOF", "", True, False, 0, 6, 6),)


def test_chomped_terminator_may_be_indented_with_tabs():
    copy = only(df("FROM a", "COPY <<-EOF /x", "\tfoo", "\t\tEOF", "USER u"), "COPY")
    assert copy.heredocs == (Heredoc("EOF", "\tfoo\n", True, True, 0, 3, 4),)
    assert copy.end_line == 4


def test_heredoc_after_continuation_starts_after_the_logical_line():
    run = only(df("FROM a", "RUN \\", "  <<EOF cat", "x", "EOF"), "RUN")
    assert (run.start_line, run.end_line) == (2, 5)
    assert run.heredocs == (Heredoc("EOF", "x\n", True, False, 0, 4, 5),)


def test_heredoc_marker_glued_to_a_word_or_quoted_is_not_a_heredoc():
    d = parse(df("FROM a", 'RUN echo "<<EOF"', "RUN cat<<EOF"))
    assert [i.heredocs for i in d.instructions] == [(), (), ()]
    assert [i.args for i in d.instructions[1:]] == [('echo "<<EOF"',), ("cat<<EOF",)]


def test_comments_inside_heredoc_bodies_are_not_comments():
    text = df(
        "# real comment",
        "FROM debian",
        "RUN <<EOF bash",
        "# not a comment",
        "  # nor this",
        "echo hi",
        "EOF",
        "COPY <<-EOF /x",
        "\t# body of copy",
        "\tEOF",
        "ONBUILD RUN <<EOF",
        "# body of trigger",
        "EOF",
        "# last",
        "USER u",
    )
    d = parse(text)
    assert d.comments == (Comment(1, 1, " real comment"), Comment(14, 1, " last"))
    assert only(text, "USER").comments == (Comment(14, 1, " last"),)
    assert only(text, "COPY").comments == ()
    assert only(text, "ONBUILD").comments == ()


def test_unterminated_heredoc_is_an_error_at_the_run_line():
    with pytest.raises(ParseError) as err:
        parse(df("FROM a", "RUN echo hi", "RUN <<EOF cat", "foo", "", "RUN echo b"))
    assert err.value.message == "unterminated heredoc"
    assert (err.value.line, err.value.column) == (3, 1)


def test_unterminated_second_heredoc_is_an_error():
    with pytest.raises(ParseError) as err:
        parse(df("FROM a", "  COPY <<A <<B /x", "a", "A", "b"))
    assert err.value.message == "unterminated heredoc"
    assert (err.value.line, err.value.column) == (2, 3)


# --- directives and the escape character ------------------------------------------


def test_directive_list_and_default_escape():
    d = parse(df("# syntax=docker/dockerfile:1.7", "# Check=skip=all", "FROM a"))
    assert d.directives == (
        Directive("syntax", "docker/dockerfile:1.7", 1),
        Directive("check", "skip=all", 2),
    )
    assert d.escape == "\\"
    assert d.directive("SYNTAX") == Directive("syntax", "docker/dockerfile:1.7", 1)
    assert d.directive("escape") is None


def test_directive_spacing_and_leading_blanks():
    d = parse(df("  #  escape =  `  ", "FROM a", "RUN a `", " b"))
    assert d.directives == (Directive("escape", "`", 1),)
    assert d.escape == "`"
    run = d.instructions[1]
    assert run.args == ("a  b",)
    assert (run.start_line, run.end_line) == (3, 4)


@pytest.mark.parametrize(
    "first",
    ["", "# a comment", "# unknown=value", "FROM x", "# escape="],
)
def test_directive_block_ends_at_first_other_line(first):
    text = df(first, "# escape=`", "FROM a", "RUN a `", "b")
    d = parse(text)
    assert d.directives == ()
    assert d.escape == "\\"
    run = [i for i in d.instructions if i.keyword == "RUN"][0]
    assert run.args == ("a `",)
    assert (run.start_line, run.end_line) == (4, 4)


def test_backtick_escape_directive():
    text = df(
        "# escape=`",
        "FROM mcr.microsoft.com/windows/servercore:ltsc2022",
        "COPY C:\\src\\app\\ C:\\app\\",
        "RUN dir C:\\ `",
        "    && echo done",
        "WORKDIR C:\\",
    )
    d = parse(text)
    assert d.escape == "`"
    assert d.directives == (Directive("escape", "`", 1),)
    copy, run, workdir = d.instructions[1:]
    assert copy.args == ("C:\\src\\app\\", "C:\\app\\")
    assert (copy.start_line, copy.end_line) == (3, 3)
    assert run.args == ("dir C:\\     && echo done",)
    assert (run.start_line, run.end_line) == (4, 5)
    assert run.logical == "RUN dir C:\\     && echo done"
    assert workdir.args == ("C:\\",)
    assert (workdir.start_line, workdir.end_line) == (6, 6)


def test_check_before_escape_still_sets_escape():
    text = df(
        "# syntax=docker/dockerfile:1",
        "# check=skip=all",
        "# escape=`",
        "FROM scratch",
        "RUN a `",
        "  b",
        "COPY C:\\x\\ C:\\y\\",
    )
    d = parse(text)
    assert d.directives == (
        Directive("syntax", "docker/dockerfile:1", 1),
        Directive("check", "skip=all", 2),
        Directive("escape", "`", 3),
    )
    assert d.escape == "`"
    frm, run, copy = d.instructions
    assert (frm.keyword, frm.args, frm.start_line) == ("FROM", ("scratch",), 4)
    assert run.args == ("a   b",)
    assert (run.start_line, run.end_line) == (5, 6)
    assert run.logical == "RUN a   b"
    assert copy.args == ("C:\\x\\", "C:\\y\\")
    assert (copy.start_line, copy.end_line) == (7, 7)


@pytest.mark.parametrize("name", ["escape", "syntax", "check"])
def test_repeated_directive_is_an_error(name):
    value = "`" if name == "escape" else "x"
    with pytest.raises(ParseError) as err:
        parse(df(f"# {name}={value}", f"# {name.upper()}={value}", "FROM a"))
    assert err.value.message == f"only one {name} parser directive can be used"
    assert err.value.line == 2


def test_invalid_escape_is_an_error():
    with pytest.raises(ParseError) as err:
        parse(df("# escape=/", "FROM a"))
    assert err.value.message == "invalid escape token '/' does not match ` or \\"
    assert err.value.line == 1


# --- continuations -----------------------------------------------------------------


def test_continuation_skips_comment_and_blank_lines():
    text = df(
        "FROM a",
        "RUN apt-get update \\",
        "# a comment",
        "",
        "    && apt-get install -y \\",
        "  \t ",
        "    curl",
        "USER u",
    )
    d = parse(text)
    run = d.instructions[1]
    assert run.args == ("apt-get update     && apt-get install -y     curl",)
    assert run.logical == "RUN apt-get update     && apt-get install -y     curl"
    assert (run.start_line, run.end_line) == (2, 7)
    assert run.segments == ((0, 2, 1), (19, 5, 1), (45, 7, 1))
    assert d.comments == (Comment(3, 1, " a comment"),)
    assert d.instructions[2].comments == ()


def test_continuation_lines_are_not_left_trimmed():
    run = only(df("FROM a", "RUN echo a\\", "   b"), "RUN")
    assert run.args == ("echo a   b",)


def test_trailing_blanks_after_escape_still_continue():
    run = only(df("FROM a", "RUN echo a \\  \t", "b"), "RUN")
    assert run.args == ("echo a b",)
    assert (run.start_line, run.end_line) == (2, 3)


def test_escaped_escape_at_end_of_line_is_not_a_continuation():
    d = parse(df("FROM a", "RUN echo foo \\\\", "RUN echo bar"))
    first, second = d.instructions[1:]
    assert first.args == ("echo foo \\\\",)
    assert (first.start_line, first.end_line) == (2, 2)
    assert second.args == ("echo bar",)
    assert (second.start_line, second.end_line) == (3, 3)


def test_escaped_escape_then_escape_continues():
    run = only(df("FROM a", "RUN echo \\\\ \\", " bar"), "RUN")
    assert run.args == ("echo \\\\  bar",)
    assert (run.start_line, run.end_line) == (2, 3)


@pytest.mark.parametrize("ending", ["", "\n", "\n# trailing comment\n", "\n\n"])
def test_continuation_may_run_into_eof(ending):
    d = parse("FROM a\nRUN echo last \\" + ending)
    run = d.instructions[-1]
    assert run.keyword == "RUN"
    assert run.args == ("echo last",)
    assert run.logical == "RUN echo last "
    assert run.start_line == 2


# --- line endings and BOM ----------------------------------------------------------


LF_TWIN = df(
    "# syntax=docker/dockerfile:1",
    "# top comment",
    "FROM alpine AS Build",
    "RUN echo a \\",
    "  # inside",
    "  b",
    "RUN <<EOF sh",
    "echo x",
    "EOF",
    "ENV A=1",
    "ONBUILD RUN echo \\",
    "  hi",
)


def test_crlf_file_equals_its_lf_twin():
    lf = parse(LF_TWIN)
    crlf = parse(LF_TWIN.replace("\n", "\r\n"))
    assert crlf.lines == lf.lines
    assert crlf.directives == lf.directives
    assert crlf.comments == lf.comments
    assert crlf.instructions == lf.instructions
    assert crlf.stages == lf.stages
    assert crlf.instructions[2].heredocs == (Heredoc("EOF", "echo x\n", True, False, 0, 8, 9),)
    assert crlf.instructions[1].span_of("b") == lf.instructions[1].span_of("b")


def test_bom_is_dropped_from_the_first_line():
    plain = parse(LF_TWIN)
    bom = parse("\ufeff" + LF_TWIN)
    assert bom.lines == plain.lines
    assert bom.directives == plain.directives
    assert bom.instructions == plain.instructions
    first = parse("\ufeffFROM a\n").instructions[0]
    assert (first.keyword_as_written, first.column, first.args) == ("FROM", 1, ("a",))


def test_bom_on_a_later_line_is_kept():
    ins = parse("FROM a\n\ufeffRUN x\n").instructions[1]
    assert ins.keyword_as_written == "\ufeffRUN"
    assert ins.keyword == "\ufeffRUN"


# --- JSON form ---------------------------------------------------------------------


def test_json_forms():
    d = parse(
        df(
            "FROM a",
            'CMD ["echo", "hi"]',
            'SHELL ["/bin/bash", "-c"]',
            'VOLUME ["/data"]',
            'HEALTHCHECK --interval=5s CMD ["curl", "-f", "x"]',
            'COPY ["a b", "/c/"]',
            'ENTRYPOINT [ "tini", "--" ]',
        )
    )
    got = [(i.keyword, i.args, i.flags, i.json) for i in d.instructions[1:]]
    assert got == [
        ("CMD", ("echo", "hi"), (), True),
        ("SHELL", ("/bin/bash", "-c"), (), True),
        ("VOLUME", ("/data",), (), True),
        ("HEALTHCHECK", ("CMD", "curl", "-f", "x"), ("--interval=5s",), True),
        ("COPY", ("a b", "/c/"), (), True),
        ("ENTRYPOINT", ("tini", "--"), (), True),
    ]


@pytest.mark.parametrize(
    "line, args",
    [
        ('CMD ["echo", "hi"', ('["echo", "hi"',)),
        ("ENTRYPOINT ['a']", ("['a']",)),
        ('RUN ["a", "b",]', ('["a", "b",]',)),
        ("CMD [echo]", ("[echo]",)),
        ("VOLUME [\"/a\" \"/b\"]", ('["/a"', '"/b"]')),
    ],
)
def test_malformed_json_falls_back_to_shell_form(line, args):
    ins = parse(df("FROM a", line)).instructions[1]
    assert ins.args == args
    assert ins.json is False


@pytest.mark.parametrize("array", ['["echo", 1]', '["echo", ["x"]]', '[true]', '["a", null]'])
def test_json_array_with_non_string_is_an_error(array):
    with pytest.raises(ParseError) as err:
        parse(df("FROM a", "RUN echo", f"CMD {array}"))
    assert err.value.message == "when using JSON array syntax, arrays must be comprised of strings only"
    assert err.value.line == 3


# --- flags, ENV/LABEL, unknown keywords, stages ------------------------------------


def test_double_dash_ends_flags():
    d = parse(df("FROM a", "COPY --chmod=755 -- --from=x /dst", "RUN -- echo --flag", "RUN echo --notflag"))
    copy, run, run2 = d.instructions[1:]
    assert (copy.flags, copy.args) == (("--chmod=755",), ("--from=x", "/dst"))
    assert copy.flag("from") is None
    assert copy.flag("chmod") == "755"
    assert (run.flags, run.args) == ((), ("echo --flag",))
    assert (run2.flags, run2.args) == ((), ("echo --notflag",))


def test_flags_only_leading():
    copy = only(df("FROM a", "COPY --from=builder --link /a --chown=x /b"), "COPY")
    assert copy.flags == ("--from=builder", "--link")
    assert copy.args == ("/a", "--chown=x", "/b")
    assert copy.flag("link") == ""
    assert copy.flag_values("FROM") == ["builder"]


def test_env_and_label_forms():
    d = parse(
        df(
            "FROM a",
            "ENV PATH /usr/local/bin:$PATH",
            'ENV A=1 B="two words"',
            'LABEL maintainer "me"',
            'LABEL "a b"=c',
            "LABEL x\\ y=z",
            "ENV \\",
            "  C=3",
        )
    )
    got = [(i.keyword, i.args, i.legacy_form) for i in d.instructions[1:]]
    assert got == [
        ("ENV", ("PATH", "/usr/local/bin:$PATH"), True),
        ("ENV", ("A", "1", "B", '"two words"'), False),
        ("LABEL", ("maintainer", '"me"'), True),
        ("LABEL", ('"a b"', "c"), False),
        ("LABEL", ("x\\ y", "z"), False),
        ("ENV", ("C", "3"), False),
    ]


def test_unknown_instruction_and_keyword_case():
    d = parse(df("from alpine", "FooBar baz qux", "  run echo hi"))
    frm, unknown, run = d.instructions
    assert (frm.keyword, frm.keyword_as_written) == ("FROM", "from")
    assert (unknown.keyword, unknown.keyword_as_written, unknown.args) == ("FOOBAR", "FooBar", ("",))
    assert unknown.original == "FooBar baz qux"
    assert (unknown.start_line, unknown.column, unknown.stage) == (2, 1, 0)
    assert (run.keyword, run.keyword_as_written, run.args, run.column) == ("RUN", "run", ("echo hi",), 3)


def test_stages_names_bases_and_indices():
    text = df(
        "ARG BASE=alpine",
        "FROM --platform=$BUILDPLATFORM ${BASE} AS Builder",
        "RUN make",
        "from builder as final",
        "COPY --from=Builder /out /out",
        "FROM scratch",
    )
    d = parse(text)
    assert [i.keyword for i in d.global_args] == ["ARG"]
    assert d.global_args[0].stage == -1
    assert [(s.index, s.name, s.name_as_written, s.base, s.platform) for s in d.stages] == [
        (0, "builder", "Builder", "${BASE}", "$BUILDPLATFORM"),
        (1, "final", "final", "builder", None),
        (2, None, None, "scratch", None),
    ]
    assert [[i.index for i in s.instructions] for s in d.stages] == [[2], [4], []]
    assert [s.from_instruction.index for s in d.stages] == [1, 3, 5]
    assert [(i.index, i.stage) for i in d.instructions] == [(0, -1), (1, 0), (2, 0), (3, 1), (4, 1), (5, 2)]
    assert d.stage_by_name("BUILDER") is d.stages[0]
    assert d.stage_by_name("nope") is None


# --- comments ----------------------------------------------------------------------


def test_comments_and_attached_comments():
    text = df(
        "# syntax=docker/dockerfile:1",
        "",
        "# about the base",
        "  #   indented",
        "FROM a",
        "# detached",
        "",
        "RUN x",
        "#no space",
        "USER u",
    )
    d = parse(text)
    assert d.comments == (
        Comment(1, 1, " syntax=docker/dockerfile:1"),
        Comment(3, 1, " about the base"),
        Comment(4, 3, "   indented"),
        Comment(6, 1, " detached"),
        Comment(9, 1, "no space"),
    )
    frm, run, user = d.instructions
    assert frm.comments == (Comment(3, 1, " about the base"), Comment(4, 3, "   indented"))
    assert run.comments == ()
    assert user.comments == (Comment(9, 1, "no space"),)


# --- ONBUILD -----------------------------------------------------------------------


def test_onbuild_trigger():
    text = df(
        "FROM a",
        "  onbuild  RUN --mount=type=cache,target=/c echo \\",
        "    hi && \\",
        "# c",
        "    make build",
    )
    ob = parse(text).instructions[1]
    assert (ob.keyword, ob.keyword_as_written, ob.column, ob.start_line, ob.end_line) == ("ONBUILD", "onbuild", 3, 2, 5)
    assert ob.args == ("echo     hi &&     make build",)
    t = ob.trigger
    assert t is not None and ob.effective is t
    assert (t.keyword, t.keyword_as_written) == ("RUN", "RUN")
    assert t.flags == ("--mount=type=cache,target=/c",)
    assert t.args == ("echo     hi &&     make build",)
    assert t.json is False
    assert (t.start_line, t.end_line, t.column, t.index, t.stage) == (2, 5, 12, 1, 0)
    assert t.logical == "RUN --mount=type=cache,target=/c echo     hi &&     make build"
    assert t.segments == ((0, 2, 12), (38, 3, 1), (48, 5, 1))
    assert t.position.line == 2 and t.position.column == 12 and t.position.end_column == 15


def test_onbuild_trigger_locate():
    text = df(
        "FROM a",
        "\tONBUILD RUN apt-get update && \\",
        "  # comment",
        "      apt-get install -y curl",
    )
    t = parse(text).instructions[1].trigger
    assert t.logical == "RUN apt-get update &&       apt-get install -y curl"
    assert t.locate(0) == (2, 10)
    assert t.locate(t.logical.index("update")) == (2, 22)
    assert t.locate(t.logical.index("curl")) == (4, 26)
    assert t.span_of("install") == t.span_of("install", 0)
    pos = t.span_of("install")
    assert (pos.line, pos.column, pos.end_line, pos.end_column) == (4, 15, 4, 22)


def test_onbuild_heredoc_trigger():
    text = df(
        "FROM a",
        "ONBUILD COPY <<EOF /app/x",
        "# not a comment",
        "EOF",
        "ONBUILD RUN <<-'E' bash",
        "\techo $A",
        "\tE",
    )
    d = parse(text)
    copy_ob, run_ob = d.instructions[1:]
    assert d.comments == ()
    assert (copy_ob.start_line, copy_ob.end_line) == (2, 4)
    t = copy_ob.trigger
    assert (t.keyword, t.args, t.column, t.start_line, t.end_line) == ("COPY", ("<<EOF", "/app/x"), 9, 2, 4)
    assert t.heredocs == (Heredoc("EOF", "# not a comment\n", True, False, 0, 3, 4),)
    r = run_ob.trigger
    assert (r.keyword, r.args, r.column, r.start_line, r.end_line) == ("RUN", ("<<-'E' bash",), 9, 5, 7)
    assert r.heredocs == (Heredoc("E", "\techo $A\n", False, True, 0, 6, 7),)


def test_onbuild_env_trigger_forms():
    d = parse(df("FROM a", "ONBUILD ENV A=1", "ONBUILD LABEL a b"))
    env, label = (i.trigger for i in d.instructions[1:])
    assert (env.keyword, env.args, env.legacy_form) == ("ENV", ("A", "1"), False)
    assert (label.keyword, label.args, label.legacy_form) == ("LABEL", ("a", "b"), True)


def test_onbuild_trigger_with_backtick_escape():
    text = df("# escape=`", "FROM a", "ONBUILD RUN dir C:\\ `", "  && echo ok")
    t = parse(text).instructions[1].trigger
    assert t.args == ("dir C:\\   && echo ok",)
    assert (t.start_line, t.end_line, t.column) == (3, 4, 9)
    assert t.locate(t.logical.index("echo")) == (4, 6)


# --- keyword columns and the position map ------------------------------------------


def test_keyword_columns_with_indentation():
    d = parse(df("FROM a", "    RUN echo", "\t\tUSER u", " \t EXPOSE 80"))
    assert [(i.keyword_as_written, i.column) for i in d.instructions] == [
        ("FROM", 1),
        ("RUN", 5),
        ("USER", 3),
        ("EXPOSE", 4),
    ]
    pos = d.instructions[1].position
    assert (pos.line, pos.column, pos.end_line, pos.end_column) == (2, 5, 2, 8)


def test_position_map_of_a_six_line_run():
    text = df(
        "FROM debian",
        "  RUN set -eux; \\",
        "      apt-get update; \\",
        "      # install the tools",
        "      apt-get install -y --no-install-recommends curl; \\",
        "      rm -rf /var/lib/apt/lists/*; \\",
        "      echo done",
    )
    run = parse(text).instructions[1]
    assert (run.start_line, run.end_line, run.column) == (2, 7, 3)
    assert run.logical == (
        "RUN set -eux;       apt-get update;       apt-get install -y --no-install-recommends curl;"
        "       rm -rf /var/lib/apt/lists/*;       echo done"
    )
    assert run.segments == ((0, 2, 3), (14, 3, 1), (36, 5, 1), (91, 6, 1), (126, 7, 1))
    # "curl" is on the 4th physical line of the RUN (file line 5)
    assert run.locate(run.logical.index("curl")) == (5, 50)
    pos = run.span_of("curl")
    assert (pos.line, pos.column, pos.end_line, pos.end_column) == (5, 50, 5, 54)
    assert run.locate(0) == (2, 3)
    assert run.locate(run.logical.index("rm -rf")) == (6, 7)
    assert run.locate(run.logical.index("done")) == (7, 12)
    assert run.span_of("tools") is None


def test_position_map_span_across_lines():
    run = parse(df("FROM a", "RUN echo a\\", "bc")).instructions[1]
    assert run.logical == "RUN echo abc"
    pos = run.span_of("abc")
    assert (pos.line, pos.column, pos.end_line, pos.end_column) == (2, 10, 3, 3)


# --- refusals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", "\n\n", "   \t\n", "# just a comment\n# another\n", "# syntax=docker/dockerfile:1\n", "# escape=`\n\n"],
)
def test_file_with_no_instructions_is_an_error(text):
    with pytest.raises(ParseError) as err:
        parse(text)
    assert err.value.message == "file with no instructions"
    assert (err.value.line, err.value.column) == (1, 1)


def test_seventy_kilobyte_line_is_an_error_naming_the_line():
    with pytest.raises(ParseError) as err:
        parse(df("FROM a", "RUN x", "RUN " + "a" * 70_000, "RUN b"))
    assert err.value.line == 3
    assert "70,004 bytes" in err.value.message
    assert str(err.value).startswith("line 3:1: ")


@pytest.mark.parametrize("size, ok", [(65535, True), (65536, False)])
def test_line_limit_is_64_kib(size, ok):
    text = df("FROM a", "RUN " + "a" * (size - 4))
    go_ok = True
    try:
        bk.parse_string(text)
    except bk.GoParseError:
        go_ok = False
    assert go_ok is ok
    if ok:
        assert parse(text).instructions[1].args == ("a" * (size - 4),)
    else:
        with pytest.raises(ParseError) as err:
            parse(text)
        assert err.value.line == 2


def test_heredoc_body_line_counts_towards_the_limit():
    with pytest.raises(ParseError) as err:
        parse(df("FROM a", "RUN <<EOF", "x" * 70_000, "EOF"))
    assert err.value.line == 3


# --- decode ------------------------------------------------------------------------


def test_decode_plain_text():
    assert decode(b"FROM a\r\nRUN x\r\n") == "FROM a\r\nRUN x\r\n"
    assert decode("FROM \u00e9\n".encode()) == "FROM \u00e9\n"


def test_decode_binary_data():
    with pytest.raises(DecodeError) as err:
        decode(b"FROM a\nRUN \x00x\n")
    assert str(err.value) == "binary file, not a Dockerfile (NUL byte at offset 11, line 2, column 5)"


def test_decode_invalid_utf8():
    data = b"FROM a\nRUN echo h\xc3\xa9 \xff\n"
    with pytest.raises(DecodeError) as err:
        decode(data)
    assert str(err.value) == "invalid UTF-8 at byte offset 20 (line 2, column 13)"


def test_decode_truncated_sequence():
    with pytest.raises(DecodeError) as err:
        decode(b"FROM a\nRUN \xe2\x82\n")
    assert str(err.value) == "invalid UTF-8 at byte offset 11 (line 2, column 5)"


# --- agreement with the Go parser --------------------------------------------------


GO_SAMPLES = [
    LF_TWIN,
    df("FROM a", "RUN <<A <<-B cat", "a", "A", "\tb", "\tB", "COPY --chown=1:1 x y"),
    df("# escape=`", "FROM a", "RUN a `", "", "# c", "  b", "ADD [\"a\", \"b\"]"),
    df("FROM a", "ENV A=1 \\", "  B=2", "HEALTHCHECK NONE", "STOPSIGNAL SIGTERM", "ONBUILD ADD . /x"),
    df("FROM a AS b", "run echo \\\\", "Cmd echo \\", "  x"),
]


@pytest.mark.parametrize("text", GO_SAMPLES)
def test_instructions_match_the_go_parser(text):
    go = bk.parse_string(text)
    ours = parse(text).instructions
    assert len(ours) == len(go)
    for mine, theirs in zip(ours, go):
        assert mine.keyword == theirs.cmd.upper()
        assert mine.args == theirs.value
        assert mine.flags == theirs.flags
        assert mine.json == theirs.json
        assert mine.original == theirs.original
        assert (mine.start_line, mine.end_line) == (theirs.start_line, theirs.end_line)
        assert [(h.name, h.fd) for h in mine.heredocs] == [(h.name, h.file_descriptor) for h in theirs.heredocs]


def test_onbuild_onbuild_does_not_recurse():
    from analyzer import parse as parse_text

    df = parse_text("FROM debian:12\nONBUILD ONBUILD RUN x\n")
    outer = df.instructions[1]
    assert outer.trigger is not None and outer.trigger.keyword == "ONBUILD"
    assert outer.trigger.trigger is None


@pytest.mark.parametrize("text,line,column", [("FROM a\nRUN x\udce9\n", 2, 6), ("\ud800FROM a\n", 1, 1), ("FROM a\n# \udfff\n", 2, 3)])
def test_lone_surrogate_is_a_parse_error_not_a_crash(text, line, column):
    """Text from ``parse(text)`` (not from a file, whose bytes are decoded strictly) may hold
    a lone surrogate; the Go parser must never see it."""
    with pytest.raises(ParseError) as info:
        parse(text)
    assert (info.value.line, info.value.column) == (line, column)
    assert "surrogate" in info.value.message

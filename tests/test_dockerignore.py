""".dockerignore matching with Docker's rules."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.dockerignore import DockerignoreError, Matcher, for_dockerfile, load, normalize, parse


def excluded(patterns: str, path: str) -> bool:
    return parse(patterns).excluded(path)


# -- reading the file -------------------------------------------------------------------


def test_comments_blank_lines_and_whitespace():
    m = parse("# a comment\n\n   node_modules   \n\t*.log\n")
    assert [p.text for p in m.patterns] == ["node_modules", "*.log"]
    assert m.excluded("node_modules/x/index.js")
    assert m.excluded("debug.log")
    assert not m.excluded("# a comment")


def test_hash_only_starts_a_comment_in_the_first_column():
    m = parse(" #notacomment\n")
    assert m.excluded("#notacomment")


def test_bom_and_crlf_are_ignored():
    m = parse("\ufeffbuild\r\ndist\r\n")
    assert [p.text for p in m.patterns] == ["build", "dist"]
    assert m.excluded("build/app")


def test_patterns_are_cleaned_and_rooted():
    m = parse("/build/\n./dist\nsrc/../tmp\nsub//dir\n")
    assert [p.text for p in m.patterns] == ["build", "dist", "tmp", "sub/dir"]
    for path in ("build/x", "dist", "tmp/a", "sub/dir/b"):
        assert m.excluded(path), path
    assert not m.excluded("src/tmp")


def test_paths_are_normalised_before_matching():
    m = parse("build\n")
    assert m.excluded("./build/out")
    assert m.excluded("/build")
    assert m.excluded("x/../build")
    assert normalize("./a//b/") == "a/b"
    assert normalize("") == "."


# -- wildcards -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern,path,expected",
    [
        ("*.md", "README.md", True),
        ("*.md", "docs/guide.md", False),  # * does not cross /
        ("*/*.md", "docs/guide.md", True),
        ("**/*.md", "README.md", True),  # ** matches zero directories
        ("**/*.md", "a/b/c/guide.md", True),
        ("docs/**", "docs/a/b", True),
        ("docs/**", "docs", False),
        ("**", "anything/at/all", True),
        ("a/**/b", "a/b", True),
        ("a/**/b", "a/x/y/b", True),
        ("a/**/b", "a/x/y/c", False),
        ("file?.txt", "file1.txt", True),
        ("file?.txt", "file12.txt", False),
        ("file?.txt", "file/.txt", False),  # ? does not match /
        ("[a-c]x", "bx", True),
        ("[a-c]x", "dx", False),
        ("[^a-c]x", "dx", True),
        ("[^a-c]x", "ax", False),
        ("\\*.txt", "*.txt", True),
        ("\\*.txt", "a.txt", False),
        ("a.b", "axb", False),  # a dot is literal
        ("a+b(c)", "a+b(c)", True),
        ("tmp*/cache", "tmp1/cache/x", True),
    ],
)
def test_wildcards(pattern, path, expected):
    assert excluded(pattern, path) is expected


def test_a_pattern_matching_a_directory_excludes_everything_below():
    m = parse("vendor\n")
    assert m.excluded("vendor")
    assert m.excluded("vendor/lib/x.go")
    assert not m.excluded("vendored/x")
    assert not m.excluded("src/vendor")


# -- exceptions and order -----------------------------------------------------------------


def test_exception_reincludes_and_later_rules_win():
    m = parse("*.md\n!README.md\n")
    assert m.excluded("CHANGES.md")
    assert not m.excluded("README.md")
    m = parse("!README.md\n*.md\n")  # the exclusion comes last: it wins
    assert m.excluded("README.md")


def test_exception_for_a_file_inside_an_excluded_directory():
    m = parse("docs\n!docs/keep.txt\n")
    assert m.excluded("docs/other.txt")
    assert not m.excluded("docs/keep.txt")
    assert m.has_exceptions
    assert not parse("docs\n").has_exceptions


def test_exception_reincluding_a_directory_covers_its_files():
    m = parse("*\n!src\n")
    assert not m.excluded("src/main.py")
    assert m.excluded("README.md")


def test_empty_matcher_excludes_nothing():
    m = Matcher()
    assert not m
    assert not m.excluded("anything")
    assert not parse("build").excluded(".")  # the context root itself is never excluded


@settings(max_examples=60, deadline=None)
@given(st.lists(st.from_regex(r"[a-z0-9_]{1,8}", fullmatch=True), min_size=1, max_size=4))
def test_a_literal_path_pattern_excludes_that_path_and_below(parts):
    path = "/".join(parts)
    m = parse(path + "\n")
    assert m.excluded(path)
    assert m.excluded(path + "/child")
    assert not parse("!" + path + "\n").excluded(path)


# -- errors ---------------------------------------------------------------------------------


def test_unterminated_character_class_is_one_clear_error():
    with pytest.raises(DockerignoreError, match=r"line 2: invalid .dockerignore pattern '\[abc'"):
        parse("ok\n[abc\n")


def test_lone_exclamation_mark_is_an_error():
    with pytest.raises(DockerignoreError, match="illegal exclusion pattern"):
        parse("build\n!\n")


# -- files ------------------------------------------------------------------------------------


def test_load_from_a_context_directory(tmp_path):
    (tmp_path / ".dockerignore").write_text("*.log\n")
    m = load(tmp_path)
    assert m.excluded("app.log")
    assert m.source == str(tmp_path / ".dockerignore")


def test_load_directory_without_dockerignore_excludes_nothing(tmp_path):
    m = load(tmp_path)
    assert not m and not m.excluded("x")


def test_load_a_file_by_path(tmp_path):
    f = tmp_path / "custom.ignore"
    f.write_text("secret\n")
    assert load(f).excluded("secret/key")
    assert load(str(f)).excluded("secret")


def test_load_missing_file_is_an_error(tmp_path):
    with pytest.raises(DockerignoreError, match="no such file"):
        load(tmp_path / "nope.dockerignore")


@pytest.mark.parametrize("data,message", [(b"ok\n\x00\x01", "binary"), (b"ok\n\xff\xfe\n", "invalid UTF-8")])
def test_unreadable_content_is_an_error(tmp_path, data, message):
    f = tmp_path / ".dockerignore"
    f.write_bytes(data)
    with pytest.raises(DockerignoreError, match=message):
        load(tmp_path)


def test_dockerfile_specific_ignore_file_wins(tmp_path):
    (tmp_path / ".dockerignore").write_text("general\n")
    df = tmp_path / "app.Dockerfile"
    df.write_text("FROM scratch\n")
    m = for_dockerfile(df)
    assert m.excluded("general") and not m.excluded("specific")
    (tmp_path / "app.Dockerfile.dockerignore").write_text("specific\n")
    m = for_dockerfile(df)
    assert m.excluded("specific") and not m.excluded("general")


def test_dockerfile_without_any_ignore_file(tmp_path):
    df = tmp_path / "Dockerfile"
    df.write_text("FROM scratch\n")
    assert for_dockerfile(df) is None


def test_context_directory_given_apart_from_the_dockerfile(tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / ".dockerignore").write_text("node_modules\n")
    df = tmp_path / "docker" / "Dockerfile"
    df.parent.mkdir()
    df.write_text("FROM scratch\n")
    assert for_dockerfile(df) is None
    assert for_dockerfile(df, context=ctx).excluded("node_modules/x")

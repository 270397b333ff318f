"""One test per cache rule of domain.md section 6, for both builders: record a build,
change one thing in a real temp directory, and check the prediction and its reason."""

from __future__ import annotations

import os
import time

import pytest

from analyzer.cache import PlanError
from analyzer.cache.predict import FIRST_BUILD
from test_cache_support import Project, by_instruction

BUILDERS = ("buildkit", "classic")

APP = """\
FROM busybox
WORKDIR /app
COPY requirements.txt /app/
RUN pip install -r requirements.txt
COPY . /app
RUN echo built
"""


def app(tmp_path, builder, dockerfile=APP, **files):
    files = files or {"requirements.txt": "flask\n", "main.py": "print(1)\n", "notes.md": "x\n"}
    return Project(tmp_path, dockerfile, files, builder=builder)


def predictions(p):
    return [s.prediction for s in p.steps]


@pytest.mark.parametrize("builder", BUILDERS)
def test_first_build_every_step_misses(tmp_path, builder):
    proj = app(tmp_path, builder)
    result = proj.plan()
    assert result.steps and not result.record_found
    assert {s.prediction for s in result.steps} == {"miss"}
    assert {s.reason for s in result.steps} == {FIRST_BUILD}


@pytest.mark.parametrize("builder", BUILDERS)
def test_unchanged_rebuild_hits_everywhere(tmp_path, builder):
    proj = app(tmp_path, builder)
    proj.record()
    result = proj.plan()
    assert result.record_found
    assert predictions(result) == ["hit"] * len(result.steps)


def test_steps_per_builder(tmp_path):
    text = "ARG V=1\nFROM busybox\nENV A=1\nLABEL a=b\nRUN echo\nCMD [\"sh\"]\n"
    classic = Project(tmp_path / "c", text, builder="classic").plan()
    assert [s.instruction for s in classic.steps] == [
        "ARG V=1", "FROM busybox", "ENV A=1", "LABEL a=b", "RUN echo", 'CMD ["sh"]',
    ]
    assert classic.steps[2].log_name == "Step 3/6 : ENV A=1"
    bk = Project(tmp_path / "b", text).plan()
    assert [s.keyword for s in bk.steps] == ["FROM", "RUN"]
    assert [s.log_name for s in bk.steps] == ["[1/2] FROM docker.io/library/busybox:latest", "[2/2] RUN echo"]


@pytest.mark.parametrize("builder", BUILDERS)
def test_edit_copied_file(tmp_path, builder):
    proj = app(tmp_path, builder)
    proj.record()
    proj.write("requirements.txt", "flask\nrequests\n")
    result = proj.plan()
    copy = by_instruction(result, "COPY requirements.txt /app/")
    assert (copy.prediction, copy.reason) == ("miss", "COPY requirements.txt: content changed")
    assert by_instruction(result, "WORKDIR /app").prediction == "hit"
    assert by_instruction(result, "FROM busybox").prediction == "hit"
    later = by_instruction(result, "RUN pip install -r requirements.txt")
    assert (later.prediction, later.reason) == ("miss", f"an earlier step missed: step {copy.step}")
    assert by_instruction(result, "RUN echo built").reason == f"an earlier step missed: step {copy.step}"


@pytest.mark.parametrize("builder", BUILDERS)
def test_edit_file_no_copy_selects(tmp_path, builder):
    text = "FROM busybox\nCOPY requirements.txt /app/\nRUN echo\n"
    proj = Project(tmp_path, text, {"requirements.txt": "a\n", "other.txt": "b\n"}, builder=builder)
    proj.record()
    proj.write("other.txt", "changed\n")
    assert predictions(proj.plan()) == ["hit"] * (3 if builder == "classic" else 3)


@pytest.mark.parametrize("builder", BUILDERS)
def test_dockerignored_file_changes_nothing(tmp_path, builder):
    proj = app(tmp_path, builder)
    proj.write(".dockerignore", "notes.md\n")
    proj.record()
    proj.write("notes.md", "edited\n")
    assert set(predictions(proj.plan())) == {"hit"}
    # the same edit to a file that is sent does count
    proj.write("main.py", "print(2)\n")
    step = by_instruction(proj.plan(), "COPY . /app")
    assert (step.prediction, step.reason) == ("miss", "COPY .: main.py: content changed")


def test_dockerfile_specific_ignore_file_wins_under_buildkit(tmp_path):
    proj = app(tmp_path, "buildkit")
    proj.write(".dockerignore", "main.py\n")
    proj.write("Dockerfile.dockerignore", "notes.md\n")
    proj.record()
    proj.write("notes.md", "edited\n")
    assert set(predictions(proj.plan())) == {"hit"}
    proj.write("main.py", "print(2)\n")
    assert by_instruction(proj.plan(), "COPY . /app").prediction == "miss"


@pytest.mark.parametrize("builder", BUILDERS)
def test_mtime_only_is_a_hit(tmp_path, builder):
    proj = app(tmp_path, builder)
    proj.record()
    later = time.time() + 3600
    for name in ("requirements.txt", "main.py"):
        os.utime(proj.root / name, (later, later))
    assert set(predictions(proj.plan())) == {"hit"}


@pytest.mark.parametrize("builder", BUILDERS)
def test_exec_bit_is_a_miss(tmp_path, builder):
    text = "FROM busybox\nCOPY entrypoint.sh /\nRUN echo\n"
    proj = Project(tmp_path, text, {"entrypoint.sh": "#!/bin/sh\n"}, builder=builder)
    os.chmod(proj.root / "entrypoint.sh", 0o644)
    proj.record()
    os.chmod(proj.root / "entrypoint.sh", 0o755)
    step = by_instruction(proj.plan(), "COPY entrypoint.sh /")
    assert (step.prediction, step.reason) == ("miss", "mode of entrypoint.sh changed")


ENV_FILE = "FROM busybox\nENV A=1\nCOPY requirements.txt /\nRUN echo $A\n"


def test_env_change_classic_misses_from_the_env_step(tmp_path):
    proj = Project(tmp_path, ENV_FILE, {"requirements.txt": "x\n"}, builder="classic")
    proj.record()
    proj.dockerfile(ENV_FILE.replace("A=1", "A=2"))
    result = proj.plan()
    env = by_instruction(result, "ENV A=2")
    assert (env.prediction, env.reason) == ("miss", "ENV changed")
    assert by_instruction(result, "COPY requirements.txt /").reason == f"an earlier step missed: step {env.step}"
    assert by_instruction(result, "RUN echo $A").prediction == "miss"


def test_env_change_buildkit_misses_from_the_next_run(tmp_path):
    proj = Project(tmp_path, ENV_FILE, {"requirements.txt": "x\n"})
    proj.record()
    proj.dockerfile(ENV_FILE.replace("A=1", "A=2"))
    result = proj.plan()
    assert by_instruction(result, "COPY requirements.txt /").prediction == "hit"
    run = by_instruction(result, "RUN echo $A")
    assert (run.prediction, run.reason) == ("miss", "ENV changed above (A)")
    assert run.log_name == "[3/3] RUN echo 2"  # BuildKit shows the value in the vertex name


@pytest.mark.parametrize("keyword,old,new", [("LABEL", "LABEL v=1", "LABEL v=2"), ("CMD", 'CMD ["a"]', 'CMD ["b"]'), ("EXPOSE", "EXPOSE 80", "EXPOSE 81")])
def test_config_only_instructions(tmp_path, keyword, old, new):
    text = f"FROM busybox\n{old}\nRUN echo\n"
    classic = Project(tmp_path / "c", text, builder="classic")
    classic.record()
    classic.dockerfile(text.replace(old, new))
    result = classic.plan()
    step = by_instruction(result, new)
    assert (step.prediction, step.reason) == ("miss", f"{keyword} changed")
    assert by_instruction(result, "RUN echo").reason == f"an earlier step missed: step {step.step}"

    bk = Project(tmp_path / "b", text)
    bk.record()
    bk.dockerfile(text.replace(old, new))
    result = bk.plan()
    assert [s.keyword for s in result.steps] == ["FROM", "RUN"]
    assert predictions(result) == ["hit", "hit"]


ARG_FILE = "FROM busybox\nARG PYTHON_VERSION=3.11\nCOPY requirements.txt /\nRUN echo $PYTHON_VERSION\n"


@pytest.mark.parametrize("builder", BUILDERS)
def test_declared_build_arg_changes_later_runs(tmp_path, builder):
    proj = Project(tmp_path, ARG_FILE, {"requirements.txt": "x\n"}, builder=builder)
    proj.record(build_args={"PYTHON_VERSION": "3.11"})
    result = proj.plan(build_args={"PYTHON_VERSION": "3.12"})
    assert result.record_found
    assert by_instruction(result, "COPY requirements.txt /").prediction == "hit"
    if builder == "classic":
        assert by_instruction(result, "ARG PYTHON_VERSION=3.11").prediction == "hit"
    run = by_instruction(result, "RUN echo $PYTHON_VERSION")
    assert (run.prediction, run.reason) == ("miss", "build arg PYTHON_VERSION changed")
    # the default value is what a build without --build-arg used: same key
    assert by_instruction(proj.plan(), "RUN echo $PYTHON_VERSION").prediction == "hit"


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("arg", ["UNDECLARED=1", "HTTP_PROXY=http://proxy:3128", "no_proxy=example.com"])
def test_undeclared_and_proxy_build_args_change_nothing(tmp_path, builder, arg):
    proj = Project(tmp_path, ARG_FILE, {"requirements.txt": "x\n"}, builder=builder)
    proj.record()
    key, value = arg.split("=", 1)
    assert set(predictions(proj.plan(build_args={key: value}))) == {"hit"}


def test_proxy_build_arg_alone_prefixes_classic_runs(tmp_path):
    # measured on Docker 20.10: with no declared arg in effect, a proxy arg turns the
    # classic builder's stored command from "CMD" into "|0 CMD"; its value is in no key
    text = "FROM busybox\nRUN echo\nCMD [\"sh\"]\n"
    classic = Project(tmp_path / "c", text, builder="classic")
    classic.record()
    result = classic.plan(build_args={"HTTP_PROXY": "http://proxy:3128"})
    run = by_instruction(result, "RUN echo")
    assert (run.prediction, run.reason) == (
        "miss", "build arg HTTP_PROXY passed: the classic builder then keys the RUN as '|0 <command>'",
    )
    assert by_instruction(result, 'CMD ["sh"]').prediction == "miss"
    classic.record(build_args={"HTTP_PROXY": "http://one:3128"})
    assert set(predictions(classic.plan(build_args={"HTTP_PROXY": "http://two:3128"}))) == {"hit"}
    bk = Project(tmp_path / "b", text)
    bk.record()
    assert set(predictions(bk.plan(build_args={"HTTP_PROXY": "http://proxy:3128"}))) == {"hit"}


@pytest.mark.parametrize("builder", BUILDERS)
def test_build_arg_flip_back_hits_the_older_cache(tmp_path, builder):
    proj = Project(tmp_path, ARG_FILE, {"requirements.txt": "x\n"}, builder=builder)
    proj.record(build_args={"PYTHON_VERSION": "1"})
    proj.record(build_args={"PYTHON_VERSION": "2"})
    run = by_instruction(proj.plan(build_args={"PYTHON_VERSION": "1"}), "RUN echo $PYTHON_VERSION")
    assert run.prediction == "hit"


@pytest.mark.parametrize("builder", BUILDERS)
def test_reordered_steps(tmp_path, builder):
    text = "FROM busybox\nRUN echo a\nRUN echo b\nRUN echo c\n"
    proj = Project(tmp_path, text, builder=builder)
    proj.record()
    proj.dockerfile("FROM busybox\nRUN echo b\nRUN echo a\nRUN echo c\n")
    result = proj.plan()
    first = by_instruction(result, "RUN echo b")
    assert first.prediction == "miss"
    assert first.reason == "RUN command changed"
    assert by_instruction(result, "RUN echo a").reason == f"an earlier step missed: step {first.step}"
    assert by_instruction(result, "RUN echo c").prediction == "miss"


@pytest.mark.parametrize("builder", BUILDERS)
def test_moving_an_instruction_to_another_line_is_a_hit(tmp_path, builder):
    proj = Project(tmp_path, "FROM busybox\nRUN echo a\n", builder=builder)
    proj.record()
    proj.dockerfile("# comment\n\nFROM busybox\n\n\nRUN echo a\n")
    assert set(predictions(proj.plan())) == {"hit"}


@pytest.mark.parametrize("builder", BUILDERS)
def test_added_step(tmp_path, builder):
    proj = Project(tmp_path, "FROM busybox\nRUN echo a\n", builder=builder)
    proj.record()
    proj.dockerfile("FROM busybox\nRUN echo a\nRUN echo new\n")
    result = proj.plan()
    assert predictions(result) == ["hit", "hit", "miss"]
    assert result.steps[-1].reason == "new step: not in the previous build"


@pytest.mark.parametrize("builder", BUILDERS)
def test_base_image_changed(tmp_path, builder):
    proj = Project(tmp_path, "FROM busybox:1.35\nRUN echo a\n", builder=builder)
    proj.record()
    proj.dockerfile("FROM busybox:1.36\nRUN echo a\n")
    result = proj.plan()
    assert result.steps[0].prediction == "miss"
    assert result.steps[0].reason == "base image changed (was docker.io/library/busybox:1.35)"
    assert result.steps[1].reason == "an earlier step missed: step 1"


MULTI = """\
FROM busybox AS build
RUN echo build
FROM busybox AS unused
RUN echo unused
FROM busybox AS final
COPY --from=build /out /out
RUN echo final
"""


def test_target_buildkit_builds_only_needed_stages(tmp_path):
    proj = Project(tmp_path, MULTI)
    full = proj.plan()
    assert {s.stage for s in full.steps} == {"build", "final"}
    assert [s.log_name for s in full.steps][:2] == ["[build 1/2] FROM docker.io/library/busybox:latest", "[build 2/2] RUN echo build"]
    only = proj.plan(target="build")
    assert [s.instruction for s in only.steps] == ["FROM busybox AS build", "RUN echo build"]


def test_target_classic_builds_every_earlier_stage(tmp_path):
    proj = Project(tmp_path, MULTI, builder="classic")
    result = proj.plan(target="unused")
    assert [s.instruction for s in result.steps] == [
        "FROM busybox AS build", "RUN echo build", "FROM busybox AS unused", "RUN echo unused",
    ]
    assert result.steps[-1].log_name == "Step 4/4 : RUN echo unused"
    full = proj.plan()
    assert len(full.steps) == 7 and full.steps[-1].log_name == "Step 7/7 : RUN echo final"


@pytest.mark.parametrize("builder", BUILDERS)
def test_unknown_target_is_an_error(tmp_path, builder):
    with pytest.raises(PlanError, match="target stage 'nope' could not be found"):
        Project(tmp_path, MULTI, builder=builder).plan(target="nope")


@pytest.mark.parametrize("builder", BUILDERS)
def test_rebuilt_source_stage(tmp_path, builder):
    proj = Project(tmp_path, MULTI, builder=builder)
    proj.record()
    proj.dockerfile(MULTI.replace("RUN echo build", "RUN echo build2"))
    result = proj.plan()
    run = by_instruction(result, "RUN echo build2")
    copy = by_instruction(result, "COPY --from=build /out /out")
    # what the rebuilt RUN writes cannot be known: the copy hits only if it comes out identical
    assert run.prediction == "miss" and copy.prediction == "unknown"
    assert f"step {run.step}" in copy.reason and "identical" in copy.reason
    if builder == "buildkit":
        assert copy.reason.startswith("unknown: stage build is rebuilt")


@pytest.mark.parametrize("builder", BUILDERS)
def test_wildcard_selects_a_new_file(tmp_path, builder):
    text = "FROM busybox\nCOPY *.txt /data/\nRUN echo\n"
    proj = Project(tmp_path, text, {"a.txt": "a", "b.txt": "b", "c.md": "c"}, builder=builder)
    proj.record()
    proj.write("d.md", "not selected")
    assert set(predictions(proj.plan())) == {"hit"}
    proj.write("new.txt", "selected")
    step = by_instruction(proj.plan(), "COPY *.txt /data/")
    assert (step.prediction, step.reason) == ("miss", "COPY *.txt: new file new.txt")


@pytest.mark.parametrize("builder", BUILDERS)
def test_symlinks(tmp_path, builder):
    text = "FROM busybox\nCOPY link.txt /x\nCOPY dir /dir\n"
    proj = Project(tmp_path, text, {"real.txt": "1", "other.txt": "2", "dir/f": "f"}, builder=builder)
    os.symlink("real.txt", proj.root / "link.txt")
    os.symlink("../real.txt", proj.root / "dir" / "l")
    proj.record()
    assert set(predictions(proj.plan())) == {"hit"}
    # a top-level symlink is followed: the target's content counts
    proj.write("real.txt", "changed")
    assert by_instruction(proj.plan(), "COPY link.txt /x").reason == "COPY link.txt: real.txt: content changed"
    proj.record()
    # a symlink inside a copied directory is copied as a link: its target counts
    os.remove(proj.root / "dir" / "l")
    os.symlink("../other.txt", proj.root / "dir" / "l")
    result = proj.plan()
    assert by_instruction(result, "COPY link.txt /x").prediction == "hit"
    assert by_instruction(result, "COPY dir /dir").reason == "symlink target of dir/l changed"


@pytest.mark.parametrize("builder", BUILDERS)
def test_run_whitespace_counts(tmp_path, builder):
    proj = Project(tmp_path, "FROM busybox\nRUN echo a && echo b\n", builder=builder)
    proj.record()
    proj.dockerfile("FROM busybox\nRUN echo a &&  echo b\n")
    step = proj.plan().steps[-1]
    assert (step.prediction, step.reason) == ("miss", "RUN command changed (whitespace only, which still counts)")


def test_no_cache_classic(tmp_path):
    proj = app(tmp_path, "classic")
    proj.record()
    result = proj.plan(no_cache=True)
    assert {(s.prediction, s.reason) for s in result.steps} == {("miss", "--no-cache")}


def test_no_cache_buildkit_keeps_from_and_workdir(tmp_path):
    # measured on Docker 20.10: BuildKit 0.8 marks only RUN, COPY and ADD as uncacheable
    proj = app(tmp_path, "buildkit")
    proj.record()
    result = proj.plan(no_cache=True)
    assert [(s.keyword, s.prediction) for s in result.steps] == [
        ("FROM", "hit"), ("WORKDIR", "hit"), ("COPY", "miss"), ("RUN", "miss"), ("COPY", "miss"), ("RUN", "miss"),
    ]
    assert result.steps[1].reason.endswith("BuildKit 0.8 takes FROM and WORKDIR from the cache even with --no-cache")
    assert {s.reason for s in result.steps if s.prediction == "miss"} == {"--no-cache"}


def test_no_cache_filter_buildkit(tmp_path):
    proj = Project(tmp_path, MULTI)
    proj.record()
    result = proj.plan(no_cache_filter=("build",))
    build_steps = [s for s in result.steps if s.stage == "build"]
    assert [(s.keyword, s.prediction) for s in build_steps] == [("FROM", "hit"), ("RUN", "miss")]
    assert build_steps[1].reason == "--no-cache-filter build"
    assert by_instruction(result, "FROM busybox AS final").prediction == "hit"
    copy = by_instruction(result, "COPY --from=build /out /out")
    assert copy.prediction == "unknown" and "rebuilt" in copy.reason


def test_no_cache_filter_is_buildkit_only(tmp_path):
    with pytest.raises(PlanError, match="needs BuildKit"):
        Project(tmp_path, MULTI, builder="classic").plan(no_cache_filter=("build",))


def test_copy_link_survives_an_earlier_miss(tmp_path):
    text = "FROM busybox\nRUN echo one\nCOPY --link app.py /app/\nRUN echo two\n"
    proj = Project(tmp_path, text, {"app.py": "x"})
    proj.record()
    proj.dockerfile(text.replace("echo one", "echo ONE"))
    result = proj.plan()
    run = by_instruction(result, "RUN echo ONE")
    assert run.prediction == "miss"
    link = by_instruction(result, "COPY --link app.py /app/")
    assert link.prediction == "hit" and "does not depend on the steps above" in link.reason
    assert by_instruction(result, "RUN echo two").reason == f"an earlier step missed: step {run.step}"
    # without --link the copy misses through its parent
    plain = Project(tmp_path / "plain", text.replace("--link ", ""), {"app.py": "x"})
    plain.record()
    plain.dockerfile(plain.parsed().text.replace("echo one", "echo ONE"))
    assert by_instruction(plain.plan(), "COPY app.py /app/").prediction == "miss"


def test_run_mount_cache_contents_are_not_in_the_key(tmp_path):
    text = "FROM busybox\nRUN --mount=type=cache,target=/root/.cache pip install x\n"
    proj = Project(tmp_path, text)
    proj.record()
    assert predictions(proj.plan()) == ["hit", "hit"]
    proj.dockerfile(text.replace("/root/.cache", "/cache"))
    step = proj.plan().steps[-1]
    assert (step.prediction, step.reason) == ("miss", "RUN --mount options changed")


def test_run_mount_secret_is_keyed_by_id_only(tmp_path):
    text = "FROM busybox\nRUN --mount=type=secret,id=token cat /run/secrets/token\n"
    proj = Project(tmp_path, text, {"token": "s3cret"})
    proj.record()
    proj.write("token", "another secret")
    assert predictions(proj.plan()) == ["hit", "hit"]


def test_run_mount_bind_from_context_is_keyed_by_content(tmp_path):
    text = "FROM busybox\nRUN --mount=type=bind,source=req.txt,target=/req.txt pip install -r /req.txt\n"
    proj = Project(tmp_path, text, {"req.txt": "a", "other": "b"})
    proj.record()
    proj.write("other", "changed")
    assert predictions(proj.plan()) == ["hit", "hit"]
    proj.write("req.txt", "changed")
    step = proj.plan().steps[-1]
    assert (step.prediction, step.reason) == ("miss", "bind mount req.txt: content changed")


def test_classic_notes_that_run_mount_needs_buildkit(tmp_path):
    text = "FROM busybox\nRUN --mount=type=cache,target=/c echo\n"
    result = Project(tmp_path, text, builder="classic").plan()
    assert any("need BuildKit" in n for n in result.notes)


@pytest.mark.parametrize("builder", BUILDERS)
def test_add_url_without_fetching_is_unknown(tmp_path, builder):
    text = "FROM busybox\nADD https://example.invalid/tool.tgz /opt/\nRUN echo\n"
    proj = Project(tmp_path, text, builder=builder)
    proj.record()
    result = proj.plan()
    add = by_instruction(result, "ADD https://example.invalid/tool.tgz /opt/")
    assert add.prediction == "unknown"
    assert add.reason.startswith("unknown: remote content")
    assert result.steps[-1].prediction == "unknown"
    assert result.steps[-1].reason == f"unknown: depends on step {add.step} (remote content)"


@pytest.mark.parametrize("builder", BUILDERS)
def test_add_url_with_checksum_needs_no_network(tmp_path, builder):
    text = "FROM busybox\nADD --checksum=sha256:" + "a" * 64 + " https://example.invalid/t.tgz /opt/\n"
    proj = Project(tmp_path, text, builder=builder)
    proj.record()
    assert set(predictions(proj.plan())) == {"hit"}
    proj.dockerfile(text.replace("a" * 64, "b" * 64))
    assert proj.plan().steps[-1].reason == "ADD --checksum changed"


@pytest.mark.parametrize("builder", BUILDERS)
def test_missing_source_is_noted(tmp_path, builder):
    result = Project(tmp_path, "FROM busybox\nCOPY nothere.txt /\n", builder=builder).plan()
    assert any("nothere.txt: not found in the build context" in n for n in result.notes)


def test_heredoc_copy_is_keyed_by_its_body(tmp_path):
    text = "FROM busybox\nCOPY <<EOF /etc/motd\nhello\nEOF\n"
    proj = Project(tmp_path, text)
    proj.record()
    assert predictions(proj.plan()) == ["hit", "hit"]
    proj.dockerfile(text.replace("hello", "bye"))
    assert proj.plan().steps[-1].prediction == "miss"


def test_user_and_workdir_feed_buildkit_runs(tmp_path):
    text = "FROM busybox\nUSER app\nRUN id\n"
    proj = Project(tmp_path, text)
    proj.record()
    proj.dockerfile(text.replace("USER app", "USER root"))
    assert proj.plan().steps[-1].reason == "USER changed above"


def test_stage_inherits_from_stage_in_buildkit(tmp_path):
    text = "FROM busybox AS base\nRUN echo base\nFROM base\nRUN echo child\n"
    proj = Project(tmp_path, text)
    result = proj.plan()
    # FROM <stage> is no step of its own under BuildKit
    assert [s.log_name for s in result.steps] == ["[base 1/2] FROM docker.io/library/busybox:latest", "[base 2/2] RUN echo base", "[stage-1 1/1] RUN echo child"]
    proj.record()
    proj.dockerfile(text.replace("echo base", "echo BASE"))
    assert proj.plan().steps[-1].reason == "an earlier step missed: step 2"


def test_classic_env_expands_build_args(tmp_path):
    text = "FROM busybox\nARG V=1\nENV VERSION=$V\nRUN echo\n"
    proj = Project(tmp_path, text, builder="classic")
    proj.record()
    result = proj.plan(build_args={"V": "2"})
    assert by_instruction(result, "ARG V=1").prediction == "hit"
    env = by_instruction(result, "ENV VERSION=$V")
    assert (env.prediction, env.reason) == ("miss", "ENV changed")


@pytest.mark.parametrize("builder", BUILDERS)
def test_arg_default_change(tmp_path, builder):
    text = "FROM busybox\nARG V=1\nRUN echo\n"
    proj = Project(tmp_path, text, builder=builder)
    proj.record()
    proj.dockerfile(text.replace("V=1", "V=2"))
    result = proj.plan()
    if builder == "classic":
        assert by_instruction(result, "ARG V=2").reason == "ARG changed"
        assert result.steps[-1].reason == "an earlier step missed: step 2"
    else:
        assert result.steps[-1].reason == "build arg V changed"


def test_classic_env_hides_a_build_arg_of_the_same_name(tmp_path):
    text = "FROM busybox\nARG V\nENV V=fixed\nRUN echo $V\n"
    proj = Project(tmp_path, text, builder="classic")
    proj.record(build_args={"V": "1"})
    assert set(predictions(proj.plan(build_args={"V": "2"}))) == {"hit"}


def test_relative_workdir_feeds_later_copies(tmp_path):
    text = "FROM busybox\nWORKDIR /app\nWORKDIR src\nCOPY a .\n"
    proj = Project(tmp_path, text, {"a": "1"})
    proj.record()
    proj.dockerfile(text.replace("WORKDIR /app", "WORKDIR /srv"))
    result = proj.plan()
    assert by_instruction(result, "WORKDIR /srv").reason == "WORKDIR changed"
    assert by_instruction(result, "WORKDIR src").reason == "an earlier step missed: step 2"


@pytest.mark.parametrize("builder", BUILDERS)
def test_step_after_an_unpredictable_copy_is_unknown(tmp_path, builder):
    text = "FROM busybox AS gen\nRUN echo data > /data\nFROM busybox\nCOPY --from=gen /data /data\nRUN cat /data > /out\n"
    proj = Project(tmp_path, text, builder=builder)
    proj.record()
    proj.dockerfile(text.replace("RUN echo data > /data", "RUN echo data  > /data"))
    result = proj.plan()
    copy = by_instruction(result, "COPY --from=gen /data /data")
    after = by_instruction(result, "RUN cat /data > /out")
    assert copy.prediction == "unknown"
    assert (after.prediction, after.reason) == ("unknown", f"unknown: depends on step {copy.step}")
    # an edit of the step itself is a miss whatever came before
    proj.dockerfile(text.replace("RUN echo data > /data", "RUN echo data  > /data").replace("cat /data", "cat  /data"))
    assert by_instruction(proj.plan(), "RUN cat  /data > /out").prediction == "miss"

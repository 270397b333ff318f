"""Build log parsing, on real logs captured from Docker 20.10 on this project's machines.

Each directory under tests/scenarios/logs holds a Dockerfile and the logs of building it
(``<run>.classic.log`` with DOCKER_BUILDKIT=0, ``<run>.buildkit.log`` with DOCKER_BUILDKIT=1
and --progress=plain). ``multi``: first build, unchanged rebuild, then a.txt edited
(copy-changed), then ``--target base`` and ``--build-arg V=2``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.build import (
    BuildKitLogParser,
    ClassicLogParser,
    missing_command,
    parse_log,
)

LOGS = Path(__file__).parent / "scenarios" / "logs"


def log(case: str, run: str, builder: str):
    return parse_log((LOGS / case / f"{run}.{builder}.log").read_text(encoding="utf-8"), builder)


def statuses(parsed):
    return [(s.label, s.status) for s in parsed.steps]


# --- classic builder ------------------------------------------------------------------------


def test_classic_first_build_every_step_runs_but_from():
    parsed = log("multi", "first", "classic")
    assert parsed.succeeded and parsed.error is None
    assert [s.number for s in parsed.steps] == list(range(1, 13))
    assert all(s.total == 12 for s in parsed.steps)
    by_name = {s.name: s.status for s in parsed.steps}
    # FROM only names the image (or the earlier stage): no cache lookup
    assert by_name["FROM analyze-test/busybox:1 AS base"] == "n/a"
    assert by_name["FROM base AS final"] == "n/a"
    assert [s.status for s in parsed.steps if not s.name.startswith("FROM")] == ["miss"] * 10


def test_classic_continuation_is_joined_as_docker_prints_it():
    parsed = log("multi", "first", "classic")
    assert parsed.steps[5].name == "RUN echo hello     && cat a.txt"
    assert parsed.steps[5].output == ("hello", "a")


def test_classic_rebuild_uses_cache_everywhere():
    parsed = log("multi", "rebuild", "classic")
    assert parsed.succeeded
    assert {s.status for s in parsed.steps if s.keyword != "FROM"} == {"hit"}
    assert parsed.steps[1].image_id == "4495b139ae0d"
    assert parsed.image_id == parsed.steps[-1].image_id


def test_classic_copy_miss_shows_only_the_new_id():
    parsed = log("multi", "copy-changed", "classic")
    got = [s.status for s in parsed.steps]
    # FROM, ENV, LABEL, WORKDIR hit; COPY misses (no "Running in"), then everything after it
    # in the stage; the next stage's FROM names the rebuilt stage; its steps miss too
    assert got == ["n/a", "hit", "hit", "hit", "miss", "miss", "miss", "miss", "miss", "n/a", "miss", "miss"]
    copy = parsed.steps[4]
    assert copy.name == "COPY a.txt ./" and copy.image_id is not None


def test_classic_build_arg_misses_from_the_first_run_using_it():
    parsed = log("multi", "build-arg", "classic")
    assert [s.status for s in parsed.steps[:8]] == ["n/a"] + ["hit"] * 6 + ["miss"]
    assert parsed.steps[6].name == "ARG V=1"  # the ARG step itself is found in the cache
    assert parsed.steps[7].name == "RUN echo $V > /v"  # classic prints the text unexpanded


def test_classic_target_counts_steps_up_to_the_target():
    parsed = log("multi", "target-base", "classic")
    assert len(parsed.steps) == 9 and parsed.steps[-1].label == "Step 9/9"


def test_classic_failure_exit_127_with_ansi_colours_stripped():
    text = (LOGS / "fail127" / "first.classic.log").read_text()
    assert "\x1b[" in text
    parsed = parse_log(text, "classic")
    assert not parsed.succeeded
    assert statuses(parsed) == [("Step 1/5", "n/a"), ("Step 2/5", "n/a"), ("Step 3/5", "miss"), ("Step 4/5", "error")]
    failed = parsed.failed_step()
    assert failed.exit_code == 127
    assert failed.output == ("start", "/bin/sh: nosuchcmd: not found")
    assert missing_command(failed) == "nosuchcmd"
    assert parsed.error == "The command '/bin/sh -c echo start && nosuchcmd --version' returned a non-zero code: 127"


def test_classic_arg_before_from_is_a_step_that_builds_nothing():
    parsed = log("fail127", "first", "classic")
    assert parsed.steps[0].name == "ARG BASE=analyze-test/busybox:1"
    assert parsed.steps[0].status == "n/a" and parsed.steps[0].image_id is None


def test_classic_exec_form_missing_executable():
    parsed = log("exec-missing", "first", "classic")
    failed = parsed.failed_step()
    assert failed.name == 'RUN ["kaggle", "--version"]'
    assert failed.exit_code is None  # the daemon reports no exit code here
    assert missing_command(failed) == "kaggle"
    assert "executable file not found" in parsed.error


def test_classic_copy_of_missing_file_is_not_a_missing_command():
    parsed = log("copy-missing", "first", "classic")
    failed = parsed.failed_step()
    assert failed.name == "COPY missing.txt /"
    assert parsed.error.startswith("COPY failed: file not found in build context")
    assert missing_command(failed) is None


def test_classic_other_exit_code():
    failed = log("exit3", "first", "classic").failed_step()
    assert failed.exit_code == 3 and failed.output == ("one",)
    assert missing_command(failed) is None


def test_classic_pull_makes_from_a_miss():
    parsed = log("pull", "first", "classic")
    assert parsed.steps[0].pulled and parsed.steps[0].status == "miss"
    assert parsed.steps[1].status == "miss"


def test_classic_unnamed_stages():
    first, again = log("unnamed", "first", "classic"), log("unnamed", "rebuild", "classic")
    assert [s.status for s in first.steps] == ["n/a", "miss", "n/a", "miss", "miss"]
    assert [s.status for s in again.steps] == ["n/a", "hit", "n/a", "hit", "hit"]


# --- BuildKit ----------------------------------------------------------------------------------


def test_buildkit_first_build_labels_and_statuses():
    parsed = log("multi", "first", "buildkit")
    assert parsed.succeeded and parsed.image_id.startswith("sha256:")
    assert statuses(parsed) == [
        ("base 1/5", "n/a"),  # FROM: nothing pulled
        ("base 2/5", "miss"),
        ("base 3/5", "miss"),
        ("base 4/5", "miss"),
        ("base 5/5", "miss"),
        ("final 1/2", "miss"),
        ("final 2/2", "miss"),
    ]
    # only FROM, WORKDIR, COPY, RUN are vertices; ENV, LABEL, ARG, CMD are not
    assert [s.keyword for s in parsed.steps] == ["FROM", "WORKDIR", "COPY", "RUN", "RUN", "COPY", "RUN"]
    assert parsed.steps[0].stage == "base" and parsed.steps[0].stage_step == 1 and parsed.steps[0].total == 5
    assert parsed.steps[3].output == ("hello", "a")
    assert parsed.steps[3].duration is not None


def test_buildkit_rebuild_vertices_arrive_out_of_order_all_cached():
    parsed = log("multi", "rebuild", "buildkit")
    labels = [s.label for s in parsed.steps]
    assert labels != sorted(labels)  # printed in completion order, not file order
    assert sorted(labels) == ["base 1/5", "base 2/5", "base 3/5", "base 4/5", "base 5/5", "final 1/2", "final 2/2"]
    assert [s.status for s in sorted(parsed.steps, key=lambda s: s.label)] == ["n/a"] + ["hit"] * 6


def test_buildkit_vertex_numbers_change_between_runs():
    first = {s.label: s.number for s in log("multi", "first", "buildkit").steps}
    changed = {s.label: s.number for s in log("unnamed", "first", "buildkit").steps}
    assert first["base 2/5"] == 5 and first["base 3/5"] == 7  # #6 is the context upload
    assert changed["stage-0 2/2"] == 5


def test_buildkit_copy_changed():
    parsed = log("multi", "copy-changed", "buildkit")
    assert [s.status for s in parsed.steps] == ["n/a", "hit", "miss", "miss", "miss", "miss", "miss"]


def test_buildkit_names_show_build_args_expanded():
    parsed = log("multi", "build-arg", "buildkit")
    names = {s.label: s.name for s in parsed.steps}
    assert names["base 5/5"] == "RUN echo 2 > /v"
    assert [s.status for s in parsed.steps] == ["n/a", "hit", "hit", "hit", "miss", "miss", "miss"]


def test_buildkit_target_builds_only_the_needed_stage():
    parsed = log("multi", "target-base", "buildkit")
    assert [s.stage for s in parsed.steps] == ["base"] * 5


def test_buildkit_unnamed_stages_share_the_from_vertex():
    parsed = log("unnamed", "first", "buildkit")
    assert [s.label for s in parsed.steps] == ["stage-0 1/2", "stage-0 2/2", "stage-1 2/3", "stage-1 3/3"]
    # stage-1's FROM is the same image as stage-0's: one vertex, printed once
    again = log("unnamed", "rebuild", "buildkit")
    assert [s.status for s in again.steps] == ["n/a", "hit", "hit", "hit"]


def test_buildkit_failure_exit_127():
    parsed = log("fail127", "first", "buildkit")
    assert not parsed.succeeded
    failed = parsed.failed_step()
    assert failed.label == "3/4" and failed.stage == ""
    assert failed.exit_code == 127
    assert failed.output == ("start", "/bin/sh: nosuchcmd: not found")
    assert missing_command(failed) == "nosuchcmd"
    assert parsed.error == "executor failed running [/bin/sh -c echo start && nosuchcmd --version]: exit code: 127"
    assert [s.label for s in parsed.steps] == ["1/4", "2/4", "3/4"]  # 4/4 never started


def test_buildkit_exec_form_missing_executable():
    failed = log("exec-missing", "first", "buildkit").failed_step()
    assert failed.exit_code == 1
    assert missing_command(failed) == "kaggle"


def test_buildkit_copy_missing_file():
    parsed = log("copy-missing", "first", "buildkit")
    failed = parsed.failed_step()
    assert failed.keyword == "COPY" and failed.error == '"/missing.txt" not found: not found'
    assert parsed.error == 'failed to compute cache key: "/missing.txt" not found: not found'


def test_buildkit_other_exit_code():
    failed = log("exit3", "first", "buildkit").failed_step()
    assert failed.exit_code == 3 and missing_command(failed) is None


def test_buildkit_resolving_a_registry_image_already_local_is_not_a_pull():
    parsed = log("pull", "first", "buildkit")
    assert parsed.steps[0].keyword == "FROM" and not parsed.steps[0].pulled
    assert parsed.steps[0].status == "n/a"


# --- incremental parsing ----------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(LOGS.glob("*/*.log")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_feeding_line_by_line_equals_parsing_the_whole_log(path):
    builder = path.name.split(".")[1]
    text = path.read_text()
    parser = ClassicLogParser() if builder == "classic" else BuildKitLogParser()
    seen = []
    for line in text.splitlines(keepends=True):
        parser.feed(line)
        seen.append(len(parser.result().steps))
    assert parser.result() == parse_log(text, builder)
    assert seen == sorted(seen)  # steps only ever get added
    assert parser.result().steps, "every captured log has steps"


@pytest.mark.parametrize(
    "line, name",
    [
        ("/bin/sh: nosuchcmd: not found", "nosuchcmd"),  # busybox ash
        ("/bin/sh: 1: conda: not found", "conda"),  # dash
        ("/bin/bash: line 1: kaggle: command not found", "kaggle"),  # bash -c
        ("bash: wget: command not found", "wget"),
        ('exec: "jupyter": executable file not found in $PATH', "jupyter"),
        ("curl: (6) Could not resolve host: example.com", None),
        ("E: Package 'foo' has no installation candidate", None),
    ],
)
def test_missing_command_messages(line, name):
    from analyzer.build import LogStep

    step = LogStep(name="RUN x", label="1/1", number=1, total=1, stage="", stage_step=1, status="error", output=(line,))
    assert missing_command(step) == name


def test_buildkit_pads_the_step_number_to_the_width_of_the_total():
    text = (LOGS / "padded" / "last-changed.buildkit.log").read_text()
    assert "#4 [ 1/11] FROM docker.io/analyze-test/busybox:1" in text
    parsed = parse_log(text, "buildkit")
    steps = sorted(parsed.steps, key=lambda s: s.stage_step)
    assert [s.label for s in steps] == [f"{i}/11" for i in range(1, 12)]
    assert [s.status for s in steps] == ["n/a"] + ["hit"] * 9 + ["miss"]
    assert steps[-1].name == "RUN echo ten"


# --- the plan beside the log -------------------------------------------------------------------


def plan_for(case: str, builder: str, tmp_path, **options):
    """The real plan (analyzer.cache) of a captured case's Dockerfile, in a fresh cache."""
    import shutil

    from analyzer.cache import PlanOptions, plan
    from analyzer.parse import parse

    ctx = tmp_path / case
    ctx.mkdir()
    shutil.copy(LOGS / case / "Dockerfile", ctx / "Dockerfile")
    (ctx / "a.txt").write_text("a\n")
    df = parse((ctx / "Dockerfile").read_text(), str(ctx / "Dockerfile"))
    opts = PlanOptions(builder=builder, cache_dir=str(tmp_path / "cache"), docker=None, fetch=False, **options)
    return plan(df, opts)


@pytest.mark.parametrize("builder", ["classic", "buildkit"])
def test_every_planned_step_is_found_in_the_log_by_its_name(builder, tmp_path):
    from analyzer.build import log_step_for, unplanned_steps

    p = plan_for("multi", builder, tmp_path, build_args={"V": "2"})
    parsed = log("multi", "build-arg", builder)
    for step in p.steps:
        found = log_step_for(step, parsed)
        assert found is not None, step
        if builder == "classic":
            assert found.log_name == step.log_name
        else:
            label, _, name = step.log_name[1:].partition("] ")
            assert (found.label, found.name) == (" ".join(label.split()), name)
    assert unplanned_steps(p.steps, parsed) == []


def test_buildkit_padded_labels_match(tmp_path):
    from analyzer.build import actual_outcomes

    p = plan_for("padded", "buildkit", tmp_path)
    assert p.steps[0].log_name.startswith("[ 1/11]")
    got = actual_outcomes(p, log("padded", "last-changed", "buildkit"))
    assert got == {1: None, **{n: "hit" for n in range(2, 11)}, 11: "miss"}


@pytest.mark.parametrize("builder", ["classic", "buildkit"])
def test_actual_outcomes_and_agreement_on_a_first_build(builder, tmp_path):
    from analyzer.build import actual_outcomes, agreement

    p = plan_for("multi", builder, tmp_path)
    assert {s.prediction for s in p.steps} == {"miss"}  # nothing recorded: a first build
    filled = p.with_actual({k: v for k, v in actual_outcomes(p, log("multi", "first", builder)).items() if v})
    froms = [s for s in filled.steps if s.keyword == "FROM"]
    assert all(s.actual is None for s in froms)  # no cache lookup: not compared
    a = agreement(filled, log("multi", "first", builder))
    assert a.compared == len(p.steps) - len(froms)
    # a first build on a fresh cache: every step really ran
    assert a.agreed == a.compared and a.ratio == 1.0 and a.unplanned == ()
    # the same plan against the rebuild's log: every prediction wrong
    again = p.with_actual({k: v for k, v in actual_outcomes(p, log("multi", "rebuild", builder)).items() if v})
    b = agreement(again)
    assert b.agreed == 0 and [s.step for s in b.disagreements] == [s.step for s in again.steps if s.keyword != "FROM"]
    assert b.summary() == f"0/{b.compared} steps as predicted (0%)"


@pytest.mark.parametrize("builder", ["classic", "buildkit"])
def test_steps_after_a_failure_have_no_actual(builder, tmp_path):
    from analyzer.build import actual_outcomes

    p = plan_for("fail127", builder, tmp_path)
    got = actual_outcomes(p, log("fail127", "first", builder))
    by_line = {p.step(n).line: v for n, v in got.items()}
    assert by_line[3] == "miss"  # COPY
    assert by_line[4] == "miss"  # the failing RUN ran: not from the cache
    assert by_line[5] is None  # never reached


def _finding(rule, line, column, message):
    from analyzer.model import Finding

    return Finding(rule=rule, severity="error", message=message, line=line, column=column, end_line=line,
                   end_column=column + 9, path="Dockerfile")


@pytest.mark.parametrize("builder", ["classic", "buildkit"])
def test_a_missing_command_failure_is_tied_to_the_lineage_finding(builder, tmp_path):
    from analyzer.build import explain_failure

    p = plan_for("fail127", builder, tmp_path)
    parsed = log("fail127", "first", builder)
    predicted = _finding("AN6001", 4, 17, "nosuchcmd: not installed in analyze-test/busybox:1 at this point")
    unrelated = _finding("AN3006", 2, 6, "FROM has no tag")
    failure = explain_failure(p, parsed, [unrelated, predicted])
    assert (failure.line, failure.exit_code, failure.missing_command) == (4, 127, "nosuchcmd")
    assert failure.verdict == "predicted" and failure.finding is predicted
    assert "predicted by AN6001 at 4:17" in failure.describe()
    assert failure.as_json()["finding"]["rule"] == "AN6001"


@pytest.mark.parametrize("builder", ["classic", "buildkit"])
def test_a_missing_command_nobody_predicted_is_a_miss_of_ours(builder, tmp_path):
    from analyzer.build import explain_failure

    p = plan_for("fail127", builder, tmp_path)
    parsed = log("fail127", "first", builder)
    # a lineage finding on the line, but about another command, does not count
    other = _finding("AN6001", 4, 1, "wget: not installed in analyze-test/busybox:1 at this point")
    failure = explain_failure(p, parsed, [other])
    assert failure.verdict == "missed" and failure.finding is None
    assert failure.describe() == (
        "line 4: RUN echo start && nosuchcmd --version failed (exit code 127): nosuchcmd: not found"
        " -- a miss of ours: no finding predicted that nosuchcmd is missing here"
    )


@pytest.mark.parametrize("builder", ["classic", "buildkit"])
def test_other_failures_are_not_blamed_on_a_missing_command(builder, tmp_path):
    from analyzer.build import explain_failure

    p = plan_for("copy-missing", builder, tmp_path)
    failure = explain_failure(p, log("copy-missing", "first", builder), [])
    assert failure.line == 2 and failure.missing_command is None and failure.verdict == ""
    assert "missing.txt" in failure.describe()

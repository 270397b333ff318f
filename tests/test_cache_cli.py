"""``analyze --plan`` / ``--record`` end to end, as a real process."""

from __future__ import annotations

import json
import os

from test_cli import run

DOCKERFILE = """\
FROM busybox:1.36
ARG PYTHON_VERSION=3.11
COPY requirements.txt /app/
RUN echo $PYTHON_VERSION
LABEL stage=final
"""


def project(tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    (ctx / "requirements.txt").write_text("flask\n")
    return ctx


def analyze(tmp_path, *args):
    env = {"ANALYZE_DOCKER": "none", "ANALYZE_CACHE_DIR": str(tmp_path / "cache")}
    return run("--exit-zero", *args, env=env)


def test_text_plan_buildkit_first_build_then_record_then_edit(tmp_path):
    ctx = project(tmp_path)
    proc = analyze(tmp_path, "--plan", ctx / "Dockerfile")
    assert proc.returncode == 0, proc.stderr
    assert "#3 [3/3] RUN echo 3.11\n#3 will run: first build: no previous build known\n" in proc.stdout
    assert "3 steps: 0 cached, 3 to run (no previous build recorded)" in proc.stdout

    proc = analyze(tmp_path, "--record", ctx / "Dockerfile")
    assert proc.returncode == 0, proc.stderr
    assert "recorded the current state as built (buildkit)" in proc.stderr
    assert "plan for" not in proc.stdout  # --record alone prints no plan

    (ctx / "requirements.txt").write_text("flask\nrequests\n")
    proc = analyze(tmp_path, "--plan", ctx / "Dockerfile")
    assert "#1 [1/3] FROM docker.io/library/busybox:1.36\n#1 CACHED (predicted)\n" in proc.stdout
    assert "#2 will run: COPY requirements.txt: content changed\n" in proc.stdout
    assert "#3 will run: an earlier step missed: step 2\n" in proc.stdout


def test_text_plan_classic(tmp_path):
    ctx = project(tmp_path)
    analyze(tmp_path, "--record", "--builder", "classic", ctx / "Dockerfile")
    proc = analyze(tmp_path, "--plan", "--builder", "classic", "--build-arg", "PYTHON_VERSION=3.12", ctx / "Dockerfile")
    assert proc.returncode == 0, proc.stderr
    assert "Step 1/5 : FROM busybox:1.36\n ---> will use cache\n" in proc.stdout
    assert "Step 4/5 : RUN echo $PYTHON_VERSION\n ---> will run: build arg PYTHON_VERSION changed\n" in proc.stdout
    assert "Step 5/5 : LABEL stage=final\n ---> will run: an earlier step missed: step 4\n" in proc.stdout


def test_json_plan_matches_the_contract(tmp_path):
    ctx = project(tmp_path)
    analyze(tmp_path, "--record", ctx / "Dockerfile")
    proc = analyze(tmp_path, "--plan", "--format", "json", "--no-cache", ctx / "Dockerfile")
    assert proc.returncode == 0, proc.stderr
    [entry] = json.loads(proc.stdout)["files"]
    plan = entry["plan"]
    assert [s["step"] for s in plan] == [1, 2, 3]
    first = plan[1]
    assert {k: first[k] for k in ("step", "stage", "line", "instruction", "prediction", "reason", "actual")} == {
        "step": 2, "stage": "stage-0", "line": 3, "instruction": "COPY requirements.txt /app/",
        "prediction": "miss", "reason": "--no-cache", "actual": None,
    }


def test_context_option_and_target(tmp_path):
    ctx = project(tmp_path)
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    (elsewhere / "requirements.txt").write_text("x\n")
    analyze(tmp_path, "--record", "--context", elsewhere, ctx / "Dockerfile")
    (ctx / "requirements.txt").write_text("changed, but not the context in use\n")
    proc = analyze(tmp_path, "--plan", "--format", "json", "--context", elsewhere, ctx / "Dockerfile")
    plan = json.loads(proc.stdout)["files"][0]["plan"]
    assert {s["prediction"] for s in plan} == {"hit"}


def test_bad_plan_options_give_one_error_line(tmp_path):
    ctx = project(tmp_path)
    for args, message in [
        (("--builder", "kaniko"), "unknown builder 'kaniko'"),
        (("--builder", "classic", "--no-cache-filter", "x"), "--no-cache-filter needs BuildKit"),
        (("--context", tmp_path / "nowhere"), "no such directory"),
        (("--target", "nope"), "target stage 'nope' could not be found"),
    ]:
        proc = analyze(tmp_path, "--plan", *args, ctx / "Dockerfile")
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("analyze: error:")]
        assert len(errors) == 1 and message in errors[0], proc.stderr


def test_cache_dir_option_wins_over_the_environment(tmp_path):
    ctx = project(tmp_path)
    chosen = tmp_path / "chosen"
    proc = analyze(tmp_path, "--record", "--cache-dir", chosen, ctx / "Dockerfile")
    assert proc.returncode == 0, proc.stderr
    assert list((chosen / "builds" / "buildkit").glob("*.keys.json"))
    assert not os.path.exists(tmp_path / "cache" / "builds")

"""Build records on disk, the local Docker engine's answers (real daemon when one is
reachable), and ADD <url> against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
import uuid

import pytest

from analyzer.cache import PlanOptions, plan, record
from analyzer.cache.daemon import Daemon, find_docker
from analyzer.cache.predict import FIRST_BUILD
from test_cache_support import Project, by_instruction


def test_record_is_written_under_builds_per_builder(tmp_path):
    proj = Project(tmp_path, "FROM busybox\nRUN echo\n")
    path = proj.record()
    assert path.parent == proj.cache / "builds" / "buildkit"
    data = json.loads(path.read_text())
    assert data["dockerfile"] == str((proj.root / "Dockerfile").resolve())
    assert data["context"] == str(proj.root.resolve())
    assert data["builder"] == "buildkit"
    assert [s["keyword"] for s in data["steps"]] == ["FROM", "RUN"]
    assert data["steps"][1]["inputs"]["cmd"] == ["echo"]
    keys = json.loads(path.with_name(path.name.replace(".json", ".keys.json")).read_text())
    assert set(keys["keys"]) == {s["key"] for s in data["steps"]}
    # atomic writes leave no temp files behind
    assert sorted(p.name for p in path.parent.iterdir()) == sorted([path.name, path.name.replace(".json", ".keys.json")])


def test_record_identity_includes_args_target_and_builder(tmp_path):
    proj = Project(tmp_path, "FROM busybox AS a\nRUN echo\nFROM busybox AS b\n")
    paths = {
        proj.record(),
        proj.record(build_args={"X": "1"}),
        proj.record(target="a"),
        proj.record(builder="classic"),
    }
    assert len(paths) == 4
    assert proj.record() in paths  # the same build again rewrites its own record


def test_plan_never_writes_a_record(tmp_path):
    proj = Project(tmp_path, "FROM busybox\nRUN echo\n")
    result = proj.plan()
    assert not result.record_path.exists()
    assert not (proj.cache / "builds").exists()


def test_history_keeps_earlier_builds_cache(tmp_path):
    proj = Project(tmp_path, "FROM busybox\nCOPY a /\n", {"a": "one"})
    proj.record()
    proj.write("a", "two")
    proj.record()
    proj.write("a", "one")  # back to the first content: Docker still has that layer
    step = proj.plan().steps[-1]
    assert step.prediction == "hit"
    assert "cached by an earlier build" in step.reason


def test_another_dockerfile_shares_the_cache(tmp_path):
    first = Project(tmp_path / "one", "FROM busybox\nRUN echo shared\n")
    second = Project(tmp_path / "two", "FROM busybox\nRUN echo shared\nRUN echo own\n")
    second.cache = first.cache
    first.record()
    result = second.plan()
    assert not result.record_found
    assert [s.prediction for s in result.steps] == ["hit", "hit", "miss"]
    assert result.steps[1].reason == "unchanged; cached by another build"
    assert result.steps[2].reason == FIRST_BUILD


def test_plan_with_actual(tmp_path):
    result = Project(tmp_path, "FROM busybox\nRUN echo\n").plan()
    filled = result.with_actual({2: "miss"})
    assert [s.actual for s in filled.steps] == [None, "miss"]
    assert filled.as_json()[1]["actual"] == "miss"
    assert set(filled.as_json()[0]) >= {"step", "stage", "line", "instruction", "prediction", "reason", "actual"}


def test_corrupt_record_counts_as_no_record(tmp_path):
    proj = Project(tmp_path, "FROM busybox\nRUN echo\n")
    path = proj.record()
    path.write_text("{not json")
    assert proj.plan().steps[1].prediction == "hit"  # the key summary still knows the step
    path.with_name(path.name.replace(".json", ".keys.json")).write_text("[]")
    assert proj.plan().steps[1].reason == FIRST_BUILD


def test_missing_context_is_a_plan_error(tmp_path):
    from analyzer.cache import PlanError

    proj = Project(tmp_path, "FROM busybox\nCOPY a /\n")
    with pytest.raises(PlanError, match="no such directory"):
        proj.plan(context=str(tmp_path / "nowhere"))


def test_context_option_points_elsewhere(tmp_path):
    proj = Project(tmp_path, "FROM busybox\nCOPY a /\n")
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "a").write_text("1")
    proj.record(context=str(other))
    assert proj.plan(context=str(other)).steps[-1].prediction == "hit"
    (other / "a").write_text("2")
    assert proj.plan(context=str(other)).steps[-1].reason == "COPY a: content changed"


# --------------------------------------------------------------------------- daemon


def _docker():
    docker = find_docker("auto")
    if docker is None:
        return None
    d = Daemon(docker)
    d.image_ids(["analyze-cache-test/none:0"])
    return docker if d.reachable else None


DOCKER = _docker()
needs_daemon = pytest.mark.skipif(DOCKER is None, reason="no reachable Docker daemon")


@pytest.fixture
def images(tmp_path):
    """Make tiny local images with ``docker import`` (no registry, no build); removed after."""
    made = []

    def make(tag: str, content: str, *changes: str) -> str:
        tar = tmp_path / f"layer-{content}.tar"
        if not tar.exists():  # the same content gives the same layer
            src = tmp_path / f"layer-{content}"
            src.mkdir()
            (src / "f").write_text(content)
            os.utime(src / "f", (1, 1))
            with tarfile.open(tar, "w") as tf:
                tf.add(src / "f", arcname="f")
        argv = [DOCKER, "import"]
        for change in changes:
            argv += ["--change", change]
        out = subprocess.run([*argv, str(tar), tag], capture_output=True, text=True, timeout=60, check=True)
        made.append(tag)
        return out.stdout.strip()

    yield make
    for tag in made:
        subprocess.run([DOCKER, "rmi", "-f", tag], capture_output=True, timeout=60)


def test_unreachable_docker_is_unknown_not_an_error(tmp_path):
    fake = tmp_path / "docker"
    fake.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon at unix:///nowhere.sock. Is the docker daemon running?' >&2\nexit 1\n")
    fake.chmod(0o755)
    d = Daemon(str(fake))
    assert d.image_ids(["busybox"]) == {"busybox": None}
    assert d.reachable is False and "Cannot connect" in d.problem
    proj = Project(tmp_path / "p", "FROM busybox\nRUN echo\n")
    proj.record(docker=str(fake))
    step = proj.plan(docker=str(fake)).steps[0]
    assert step.prediction == "hit"
    assert "base image id unknown (Cannot connect to the Docker daemon" in step.reason
    assert "assumed unchanged" in step.reason


def test_no_docker_cli_at_all(tmp_path):
    assert find_docker(str(tmp_path / "no-such-docker")) is None
    proj = Project(tmp_path, "FROM busybox\nRUN echo\n")
    proj.record(docker=str(tmp_path / "no-such-docker"))
    assert proj.plan(docker=str(tmp_path / "no-such-docker")).steps[0].prediction == "hit"


@needs_daemon
@pytest.mark.parametrize("builder", ["buildkit", "classic"])
def test_base_image_digest_change_seen_through_the_daemon(tmp_path, images, builder):
    tag = f"analyze-cache-test/base-{uuid.uuid4().hex[:8]}:1"
    first = images(tag, "one")
    proj = Project(tmp_path, f"FROM {tag}\nRUN echo\n", builder=builder)
    path = proj.record(docker=DOCKER)
    assert json.loads(path.read_text())["bases"][f"docker.io/{tag}"]["id"] == first
    assert [s.prediction for s in proj.plan(docker=DOCKER).steps] == ["hit", "hit"]
    second = images(tag, "two")  # the same tag now names another image
    assert second != first
    result = proj.plan(docker=DOCKER)
    assert (result.steps[0].prediction, result.steps[0].reason) == ("miss", "base image digest changed")
    assert result.steps[1].reason == "an earlier step missed: step 1"


@needs_daemon
def test_new_image_id_over_the_same_layers(tmp_path, images):
    # measured on Docker 20.10: BuildKit keys FROM on the layers, the classic builder on the id
    tag = f"analyze-cache-test/relabel-{uuid.uuid4().hex[:8]}:1"
    first = images(tag, "same", "LABEL v=1")
    text = f"FROM {tag}\nCOPY a /a\nRUN echo\n"
    bk = Project(tmp_path / "b", text, {"a": "x"})
    classic = Project(tmp_path / "c", text, {"a": "x"}, builder="classic")
    bk.record(docker=DOCKER)
    classic.record(docker=DOCKER)
    assert images(tag, "same", "LABEL v=2") != first
    assert [s.prediction for s in bk.plan(docker=DOCKER).steps] == ["hit", "hit", "hit"]
    result = classic.plan(docker=DOCKER)
    assert [s.prediction for s in result.steps] == ["miss", "miss", "miss"]
    assert result.steps[0].reason == "base image digest changed"
    # another name for the same layers: still the same base for BuildKit
    other = tag.replace(":1", ":other")
    images(other, "same", "LABEL v=3")
    bk.dockerfile(text.replace(tag, other))
    assert [s.prediction for s in bk.plan(docker=DOCKER).steps] == ["hit", "hit", "hit"]
    bk.dockerfile(text)
    # a different ENV in the base image reaches BuildKit's RUNs, not its COPYs
    images(tag, "same", "ENV MODE=other")
    result = bk.plan(docker=DOCKER)
    assert [s.prediction for s in result.steps] == ["hit", "hit", "miss"]
    assert result.steps[2].reason == "ENV of the base image changed"


@needs_daemon
def test_classic_pruned_image_is_a_miss(tmp_path, images):
    tag = f"analyze-cache-test/step-{uuid.uuid4().hex[:8]}:1"
    step_image = images(tag, "layer")
    proj = Project(tmp_path, "FROM busybox\nRUN echo\n", builder="classic")
    p = plan(proj.parsed(), proj.options(docker=DOCKER))
    record(proj.parsed(), proj.options(docker=DOCKER), plan=p, image_ids={2: step_image})
    assert proj.plan(docker=DOCKER).steps[1].prediction == "hit"
    subprocess.run([DOCKER, "rmi", "-f", tag], capture_output=True, timeout=60, check=True)
    step = proj.plan(docker=DOCKER).steps[1]
    assert step.prediction == "miss"
    assert step.reason == f"the cached image {step_image[:19]} was removed (pruned)"


# --------------------------------------------------------------------------- ADD <url>


@pytest.mark.parametrize("builder", ["buildkit", "classic"])
def test_add_url_is_keyed_on_the_downloaded_content(tmp_path, httpserver, builder):
    body = {"data": b"version 1"}
    httpserver.expect_request("/tool.tgz").respond_with_handler(lambda req: __import__("werkzeug").Response(body["data"]))
    url = httpserver.url_for("/tool.tgz")
    text = f"FROM busybox\nADD {url} /opt/\nRUN echo\n"
    proj = Project(tmp_path, text, builder=builder)
    from analyzer.cache.predict import _Remote

    _Remote._cache.clear()
    proj.record(fetch=True)
    _Remote._cache.clear()
    assert [s.prediction for s in proj.plan(fetch=True).steps] == ["hit", "hit", "hit"]
    body["data"] = b"version 2"
    _Remote._cache.clear()
    result = proj.plan(fetch=True)
    add = by_instruction(result, f"ADD {url} /opt/")
    assert (add.prediction, add.reason) == ("miss", f"ADD {url}: remote content changed")


def test_add_url_server_error_is_unknown(tmp_path, httpserver):
    httpserver.expect_request("/gone").respond_with_data("no", status=404)
    url = httpserver.url_for("/gone")
    proj = Project(tmp_path, f"FROM busybox\nADD {url} /opt/\n")
    from analyzer.cache.predict import _Remote

    _Remote._cache.clear()
    proj.record(fetch=True)
    step = proj.plan(fetch=True).steps[-1]
    assert step.prediction == "unknown"
    assert step.reason == f"unknown: remote content ({url}: HTTP 404)"


def test_options_default_to_the_documented_contract():
    o = PlanOptions()
    assert (o.builder, o.context, o.target, o.no_cache, o.no_cache_filter, o.docker, o.fetch) == (
        "buildkit", None, None, False, (), "auto", True,
    )

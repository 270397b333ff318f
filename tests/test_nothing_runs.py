"""Nothing in a Dockerfile runs unless the user asks for a build.

An upstream Dockerfile, served over HTTP on 127.0.0.1 and found through a catalog, and the
user's own Dockerfile built FROM it are full of instructions that would leave a marker
file behind if anything executed them: RUN in shell, exec and heredoc form, a script
written by COPY and then called, a command substitution, ONBUILD, HEALTHCHECK, CMD,
ENTRYPOINT, a ``# syntax=`` frontend, and a payload fetched by ADD. The command runs over
them in every mode that reads them (lineage, --explain, --plan, --record, JSON, stdin).

Three probes watch, each able to see what the others miss:

* the marker directory stays empty (nothing ran the instructions, by any route);
* a Python audit hook in the analyzer's process records every process it starts
  (subprocess, os.system, exec, spawn, fork), wherever the program lives;
* fake ``docker``, ``sh``, ``bash``, ``buildctl``, ... first on PATH record every call
  (``ANALYZE_DOCKER`` points the daemon look-ups at the fake docker too).

The one thing allowed is the read-only ``docker image inspect`` of --plan. The last test
runs ``--build`` to show the probes do see a build when there is one.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FAKES = ("docker", "sh", "bash", "dash", "ash", "zsh", "busybox", "buildctl", "buildkitd", "docker-buildx",
         "buildah", "podman", "nerdctl", "runc", "ctr", "touch", "chmod")

RUNNER = textwrap.dedent(
    """
    import json, os, sys

    LOG = os.environ["NOTHING_RUNS_AUDIT"]
    WATCHED = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "pty.spawn")

    def hook(event, args):
        if event in WATCHED:
            with open(LOG, "a") as fh:
                fh.write(json.dumps([event, [a if isinstance(a, (str, int, type(None))) else
                                              [str(x) for x in a] if isinstance(a, (list, tuple)) else str(a)
                                              for a in args[:2]]]) + "\\n")

    sys.addaudithook(hook)
    sys.argv = ["analyze", *sys.argv[1:]]
    from analyzer.batch import main
    main()
    """
)

FAKE = textwrap.dedent(
    """\
    #!{python}
    import json, os, sys
    name = os.path.basename(sys.argv[0])
    with open({log!r}, "a") as fh:
        fh.write(json.dumps([name, *sys.argv[1:]]) + "\\n")
    args = sys.argv[1:]
    if name != "docker":
        open(os.path.join({markers!r}, "fake-" + name + "-ran"), "w").close()
        sys.exit(0)
    if args[:1] == ["version"]:
        print("24.0.7|24.0.7")
    elif args[:2] == ["buildx", "version"]:
        print("github.com/docker/buildx v0.12.1")
    elif args[:2] == ["image", "inspect"]:
        sys.stderr.write("Error: No such image: " + args[-1] + "\\n")
        sys.exit(1)
    elif args[:1] == ["build"]:
        open(os.path.join({markers!r}, "fake-docker-build-ran"), "w").close()
        print("#1 [internal] load build definition from Dockerfile")
        print("#1 DONE 0.0s")
    else:
        sys.exit(1)
    """
)


def upstream_dockerfile(m: Path, base: str) -> str:
    return textwrap.dedent(
        f"""\
        # syntax={base.split("://", 1)[1]}/evil/frontend:1
        FROM debian:12
        ARG M={m}
        RUN touch {m}/upstream-run-shell
        RUN ["/bin/sh", "-c", "touch {m}/upstream-run-exec"]
        RUN touch $M/upstream-run-arg
        RUN <<EOF
        touch {m}/upstream-run-heredoc
        EOF
        RUN bash <<'EOF'
        echo x > {m}/upstream-run-heredoc-bash
        EOF
        RUN --mount=type=cache,target=/root/.cache sh -c 'echo x > {m}/upstream-run-mount'
        COPY --chmod=755 <<EOF /usr/local/bin/evil-helper
        #!/bin/sh
        touch {m}/upstream-helper
        EOF
        RUN evil-helper && $(echo touch) {m}/upstream-subst && `echo touch` {m}/upstream-backtick
        SHELL ["/bin/bash", "-o", "pipefail", "-c"]
        RUN touch {m}/upstream-after-shell | cat
        ONBUILD RUN touch {m}/upstream-onbuild
        HEALTHCHECK CMD touch {m}/upstream-healthcheck
        ENTRYPOINT ["/bin/sh", "-c", "touch {m}/upstream-entrypoint"]
        CMD touch {m}/upstream-cmd
        """
    )


def user_dockerfile(m: Path, base: str) -> str:
    return textwrap.dedent(
        f"""\
        FROM evil.test/app:1
        RUN touch {m}/user-run && evil-helper
        RUN <<EOF
        echo x > {m}/user-run-heredoc
        EOF
        ADD {base}/payload.sh /payload.sh
        RUN sh /payload.sh
        ONBUILD RUN touch {m}/user-onbuild
        HEALTHCHECK CMD ["touch", "{m}/user-healthcheck"]
        ENTRYPOINT touch {m}/user-entrypoint
        CMD ["touch", "{m}/user-cmd"]
        """
    )


@pytest.fixture
def setup(httpserver, tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    fake_log = tmp_path / "fake-calls.jsonl"
    for name in FAKES:
        p = fake_bin / name
        p.write_text(FAKE.format(python=sys.executable, log=str(fake_log), markers=str(markers)))
        p.chmod(p.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    base = httpserver.url_for("").rstrip("/")
    httpserver.expect_request("/images/app/Dockerfile").respond_with_data(
        upstream_dockerfile(markers, base), content_type="text/plain")
    httpserver.expect_request("/payload.sh").respond_with_data(f"#!/bin/sh\ntouch {markers}/payload\n", content_type="text/plain")
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(f'images:\n  - image: "evil.test/*"\n    dockerfile: {base}/images/{{name}}/Dockerfile\n')
    project = tmp_path / "project"
    project.mkdir()
    (project / "Dockerfile").write_text(user_dockerfile(markers, base))
    own = tmp_path / "own"  # the upstream's text as the user's own Dockerfile
    own.mkdir()
    (own / "Dockerfile").write_text(upstream_dockerfile(markers, base))
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER)
    return {
        "markers": markers, "bin": fake_bin, "fake_log": fake_log, "audit": tmp_path / "audit.jsonl",
        "catalog": catalog, "user": project / "Dockerfile", "own": own / "Dockerfile", "runner": runner,
        "cache": tmp_path / "cache", "server": httpserver,
    }


def child_env(s, docker="fake") -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "GITHUB_ACTIONS", "ANALYZE_JOBS", "ANALYZE_DOCKER")}
    env["PATH"] = f"{s['bin']}{os.pathsep}{env.get('PATH', '')}"
    env["NOTHING_RUNS_AUDIT"] = str(s["audit"])
    env["PYTHONPATH"] = str(ROOT)
    if docker == "fake":
        env["ANALYZE_DOCKER"] = str(s["bin"] / "docker")
    # nothing leaves the machine: any request not for 127.0.0.1 meets a closed port
    for k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        env[k] = "http://127.0.0.1:9"
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def run(s, *args, stdin=None, docker="fake"):
    env = child_env(s, docker)
    proc = subprocess.run(
        [sys.executable, str(s["runner"]), "--cache-dir", str(s["cache"]), "--catalog", str(s["catalog"]), *map(str, args)],
        input=stdin, capture_output=True, text=True, env=env, cwd=s["user"].parent, timeout=180,
    )
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    return proc


def calls(path: Path) -> list:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


BUILD_WORDS = {"build", "buildx", "builder", "bake", "run", "exec", "create", "start", "compose", "container"}


def assert_only_read_only_docker(s) -> None:
    """Every process started was ``docker image inspect`` (the daemon look-up of --plan)."""
    for event, args in calls(s["audit"]):
        assert event == "subprocess.Popen", (event, args)
        argv = args[1]
        program = args[0] or argv[0]  # Popen's executable, else its argv[0]
        assert os.path.basename(str(program)) == "docker", args
        assert argv[1:3] == ["image", "inspect"], args
        assert not BUILD_WORDS & set(argv[1:]), args
    for call in calls(s["fake_log"]):
        assert call[0] == "docker" and call[1:3] == ["image", "inspect"], call
        assert not BUILD_WORDS & set(call[1:]), call


def test_lineage_explain_plan_and_json_run_nothing(setup):
    s = setup
    user, own = s["user"], s["own"]
    invocations = [
        (user,),
        ("--format", "json", user),
        ("--explain", "evil-helper", "--format", "json", user),
        ("--explain", "touch", "--verbose", user),
        ("--plan", user),
        ("--plan", "--builder", "classic", "--format", "json", user),
        ("--record", user),
        ("--plan", "--no-lineage", user),
        ("--plan", "--explain", "evil-helper", own),
        ("--format", "sarif", own),
        ("-",),
    ]
    outputs = {}
    for args in invocations:
        stdin = user.read_text() if args == ("-",) else None
        proc = run(s, *args, stdin=stdin)
        assert proc.returncode in (0, 1), (args, proc.stderr)
        outputs[args] = proc
    assert sorted(p.name for p in s["markers"].iterdir()) == []
    assert_only_read_only_docker(s)
    # the --plan runs did ask the (fake) daemon about the base image: both probes are wired
    assert any(c[1:3] == ["image", "inspect"] for c in calls(s["fake_log"]))
    assert any(event == "subprocess.Popen" for event, _args in calls(s["audit"]))
    # no frontend from the syntax directive and no registry were contacted: only the
    # upstream Dockerfile and the ADD payload (hashed for the plan) were fetched
    paths = {req.path for req, _resp in s["server"].log}
    assert paths == {"/images/app/Dockerfile", "/payload.sh"}, paths

    # and the analysis did read the instructions it did not run
    entry = json.loads(outputs[("--explain", "evil-helper", "--format", "json", user)].stdout)["files"][0]
    assert [e["image"] for e in entry["lineage"]][:2] == ["evil.test/app:1", "debian:12"]
    assert entry["explain"]["status"] == "available"
    assert entry["explain"]["path"] == "/usr/local/bin/evil-helper"
    assert entry["explain"]["provided_by"]["line"] == 14  # the COPY <<EOF of the upstream
    plan = json.loads(outputs[("--plan", "--builder", "classic", "--format", "json", user)].stdout)["files"][0]["plan"]
    base = s["server"].url_for("").rstrip("/")
    assert f"ADD {base}/payload.sh /payload.sh" in [step["instruction"] for step in plan]  # fetched, hashed, not run


def test_the_default_docker_lookup_starts_no_build_either(setup):
    """Without ANALYZE_DOCKER the plan asks whichever docker it finds (maybe the real one
    at /usr/bin/docker, beyond the PATH fakes): the audit hook still sees every call."""
    s = setup
    for args in (("--plan", s["user"]), ("--plan", "--format", "json", s["own"])):
        proc = run(s, *args, docker="auto")
        assert proc.returncode in (0, 1), proc.stderr
    assert sorted(p.name for p in s["markers"].iterdir()) == []
    assert_only_read_only_docker(s)


def test_build_is_seen_by_the_probes(setup):
    """With --build the fake docker is called with ``build``: the probes above would have
    seen one. The instructions still run nowhere but inside docker."""
    s = setup
    proc = run(s, "--build", s["user"])
    assert proc.returncode in (0, 1), proc.stderr
    builds = [c for c in calls(s["fake_log"]) if c[1:2] == ["build"]]
    assert len(builds) == 1
    assert builds[0][-1] == str(s["user"].parent)  # the context, as docker build takes it
    started = [args[1] for event, args in calls(s["audit"]) if event == "subprocess.Popen"]
    assert [str(s["bin"] / "docker"), *builds[0][1:]] in started
    assert sorted(p.name for p in s["markers"].iterdir()) == ["fake-docker-build-ran"]


def test_the_fakes_are_the_programs_a_child_would_find(setup):
    """A shell or builder started by name from the analyzer's environment is a fake, and
    leaves its marker: the empty marker directory above means none was started."""
    s = setup
    env = child_env(s)
    for name in ("sh", "bash", "buildctl", "touch"):
        subprocess.run([name, "-c", "true"], env=env, check=True, timeout=30)
    assert sorted(p.name for p in s["markers"].iterdir()) == [
        "fake-bash-ran", "fake-buildctl-ran", "fake-sh-ran", "fake-touch-ran"]
    assert [c[0] for c in calls(s["fake_log"])] == ["sh", "bash", "buildctl", "touch"]

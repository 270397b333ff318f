"""Prediction against reality: real builds on a real Docker daemon, both builders.

Every scenario runs with the classic builder (DOCKER_BUILDKIT=0) and BuildKit
(DOCKER_BUILDKIT=1, Debian's Docker 20.10 client at /usr/bin/docker). Each one:

1. writes a build context and a Dockerfile on a base image of its own (built from the local
   busybox base with a unique label, so no other scenario's cache can answer for it);
2. optionally builds it once with ``analyze --build`` (which records the build);
3. changes something (a file, its mode, the Dockerfile, the build options);
4. runs ``analyze --plan --format json`` (the prediction), then
   ``analyze --build --format json`` (the real build, its log parsed into ``actual``);
5. asserts that both runs predicted the same, that the build log shows exactly the planned
   steps, that the steps Docker really rebuilt are the ones domain.md says, and that every
   prediction equals what happened.

FROM steps are no cache lookup (their ``actual`` is null unless the image was pulled) and are
not compared. Docker 20.10's BuildKit (v0.8) cannot run heredocs, ``RUN --mount`` or
``COPY --link`` (they need a newer Dockerfile frontend, which needs a registry to fetch it):
those cache semantics are covered by the unit tests of ``analyzer.cache``.

Without a usable daemon these tests skip (run ``tools/docker-up``), except under CI
(``CI`` set), where they fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Optional

import pytest

from analyzer.build import parse_log, unplanned_steps

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parent.parent
DOCKER = "/usr/bin/docker"
BUSYBOX = os.environ.get("BUSYBOX_IMAGE", "analyze-test/busybox:1")
REGISTRY = "127.0.0.1:5000"
BUILDERS = ("classic", "buildkit")
ALL = "all"  # every step that is a cache lookup misses


# ------------------------------------------------------------------------------------ daemon


def docker(*args: str, input: Optional[str] = None, check: bool = True, timeout: float = 120, buildkit: str = "0"):
    env = dict(os.environ, DOCKER_BUILDKIT=buildkit, DOCKER_CLI_HINTS="false")
    proc = subprocess.run(
        [DOCKER, *args], input=input, capture_output=True, text=True, timeout=timeout, env=env,
        stdin=None if input is not None else subprocess.DEVNULL,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def docker_problem() -> Optional[str]:
    if not os.access(DOCKER, os.X_OK):
        return f"{DOCKER} missing (Debian's docker.io)"
    try:
        proc = docker("version", "--format", "{{.Server.Version}}", check=False, timeout=20)
    except subprocess.TimeoutExpired:
        return "the Docker daemon does not answer"
    if proc.returncode != 0:
        return (proc.stderr.strip().splitlines() or ["the Docker daemon does not answer"])[0]
    if docker("image", "inspect", BUSYBOX, check=False).returncode != 0:
        return f"base image {BUSYBOX} missing"
    return None


def _unusable(what: str):
    if os.environ.get("CI"):
        pytest.fail(f"CI: {what}; .ci/run starts it with tools/docker-up", pytrace=False)
    pytest.skip(f"{what} (run tools/docker-up)")


@pytest.fixture(scope="session")
def docker_ready(request):
    problem = docker_problem()
    if problem:
        _unusable(f"Docker is not usable: {problem}")
    if not request.config.pluginmanager.has_plugin("analyze-scenario-summary"):
        request.config.pluginmanager.register(SummaryReporter(), "analyze-scenario-summary")
    return True


# ------------------------------------------------------------------------------------ summary


TALLY: dict[str, Counter] = {b: Counter() for b in BUILDERS}


class SummaryReporter:
    """Prints how many scenarios and steps were compared, at the end of the session."""

    def pytest_terminal_summary(self, terminalreporter):
        if not any(TALLY[b]["runs"] for b in BUILDERS):
            return
        terminalreporter.section("build predictions against real builds")
        for line in summary_lines():
            terminalreporter.write_line(line)


def summary_lines() -> list[str]:
    lines = []
    for b in BUILDERS:
        t = TALLY[b]
        pct = 100.0 * t["agreed"] / t["compared"] if t["compared"] else 0.0
        lines.append(
            f"{b:<8}: {t['runs']} scenarios, {t['compared']} steps compared, {t['agreed']} as predicted "
            f"({pct:.1f}%), {t['unknown']} predicted unknown, {t['not_compared']} FROM/meta steps not compared"
        )
    return lines


# ------------------------------------------------------------------------------------ harness


def analyze(*args, env: Optional[dict] = None, timeout: float = 300) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "GITHUB_ACTIONS")}
    full_env["ANALYZE_DOCKER"] = DOCKER
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "analyzer", *map(str, args)],
        capture_output=True, text=True, cwd=ROOT, env=full_env, timeout=timeout, stdin=subprocess.DEVNULL,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


class Workspace:
    """A build context, a record cache and the images one scenario makes (removed after)."""

    def __init__(self, root: Path, builder: str):
        self.uid = uuid.uuid4().hex[:10]
        self.builder = builder
        self.ctx = root / "ctx"
        self.ctx.mkdir()
        self.cache = root / "cache"
        self.images: list[str] = []
        self.image_ids: list[str] = []  # classic: every step's image (earlier stages' are not parents of the result)
        self.bases: dict[str, str] = {}
        self.builds = 0

    @property
    def dockerfile(self) -> Path:
        return self.ctx / "Dockerfile"

    def write(self, rel: str, text: str, mode: Optional[int] = None) -> Path:
        path = self.ctx / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if mode is not None:
            path.chmod(mode)
        return path

    def edit_dockerfile(self, old: str, new: str) -> None:
        text = self.dockerfile.read_text()
        assert old in text, f"{old!r} not in the Dockerfile"
        self.dockerfile.write_text(text.replace(old, new, 1))

    def base(self, name: str = "base", *, same_layers_as: Optional[str] = None) -> str:
        """A base image of this scenario's own: the busybox base plus a layer no other
        scenario has (BuildKit keys FROM on the layers: a new label alone would not do).
        ``same_layers_as``: an image with the layers of that base and only a new label.

        Built with BuildKit, whose images have no parent link: the classic builder looks for
        its cache among the children of the parent image, and fails ("unable to find
        image") when another test run deletes one of them meanwhile."""
        if name not in self.bases:
            tag = f"analyze-scn/{self.uid}-{name}:1"
            if same_layers_as is not None:
                docker("build", "-q", "-t", tag, "-", input=f"FROM {self.base(same_layers_as)}\nLABEL analyze.variant={name}\n",
                       buildkit="1")
            else:
                ctx = self.ctx.parent / f"base-{name}"
                ctx.mkdir()
                (ctx / "scenario").write_text(f"{self.uid}-{name}\n")
                (ctx / "Dockerfile").write_text(f"FROM {BUSYBOX}\nCOPY scenario /etc/analyze-scenario\n")
                docker("build", "-q", "-t", tag, str(ctx), buildkit="1")
            self.bases[name] = tag
        return self.bases[name]

    def options(self, extra=()) -> list[str]:
        return [
            str(self.dockerfile), "--format", "json", "--no-lineage", "--offline", "--exit-zero",
            "--builder", self.builder, "--cache-dir", str(self.cache), "--context", str(self.ctx), *extra,
        ]

    def plan_options(self, extra=()):
        """The library's options for the same command-line ``extra`` (--build-arg, --target,
        --no-cache)."""
        from analyzer.cache import PlanOptions

        args, target, no_cache = {}, None, False
        items = list(extra)
        while items:
            item = items.pop(0)
            if item == "--build-arg":
                key, _, value = items.pop(0).partition("=")
                args[key] = value
            elif item == "--target":
                target = items.pop(0)
            elif item == "--no-cache":
                no_cache = True
            else:
                raise AssertionError(f"option {item} not handled")
        return PlanOptions(builder=self.builder, context=str(self.ctx), build_args=args, target=target,
                           no_cache=no_cache, cache_dir=str(self.cache), docker=DOCKER, fetch=False)

    def _df(self):
        from analyzer.parse import parse

        return parse(self.dockerfile.read_text(), str(self.dockerfile))

    def plan(self, extra=(), cli: bool = False) -> list[dict]:
        """``analyze --plan --format json`` (or the same through the library)."""
        if cli:
            proc = analyze(*self.options(extra), "--plan")
            assert proc.returncode == 0, proc.stderr
            return json.loads(proc.stdout)["files"][0]["plan"]
        from analyzer.cache import plan

        return plan(self._df(), self.plan_options(extra)).as_json()

    def build(self, extra=(), cli: bool = False) -> list[dict]:
        """``analyze --build --format json`` (or the same through the library)."""
        self.builds += 1
        tag = f"analyze-scn/{self.uid}:{self.builds}"
        self.images.append(tag)
        if cli:
            proc = analyze(*self.options(extra), "--build", "--tag", tag)
            self._remember_images()
            assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
            return json.loads(proc.stdout)["files"][0]["plan"]
        from analyzer.build import build

        outcome = build(self._df(), self.plan_options(extra), tags=[tag], docker=DOCKER)
        self._remember_images()
        assert outcome.succeeded, outcome.run.log
        return outcome.plan.as_json()

    def _remember_images(self) -> None:
        if self.builder == "classic" and (self.cache / "build-logs").is_dir():
            log = self.last_log()
            self.image_ids.extend(s.image_id for s in log.steps if s.image_id and s.keyword != "FROM")

    def last_log(self):
        logs = sorted((self.cache / "build-logs").glob("*.log"), key=lambda p: p.stat().st_mtime)
        assert logs, "the build log was not kept"
        return parse_log(logs[-1].read_text(), self.builder)

    def cleanup(self) -> None:
        names = self.images + list(dict.fromkeys(reversed(self.image_ids))) + list(self.bases.values())
        if names:
            docker("rmi", "-f", *names, check=False)


@dataclass(frozen=True)
class Scenario:
    name: str
    dockerfile: str  # {base} and {base2} are replaced by the scenario's own base images
    files: dict = field(default_factory=dict)  # context files: path -> text
    prime: bool = True  # build once before the change
    prime_args: tuple = ()
    change: Optional[Callable[[Workspace], None]] = None
    args: tuple = ()  # options of the measured build (and its --plan)
    misses: object = ()  # Dockerfile lines whose step really misses: a list, ALL, or {builder: ...}
    setup: Optional[Callable[[Workspace], None]] = None  # before the first build (symlinks, modes)
    cli: bool = False  # run the measured --plan and --build as ``analyze`` processes
    # builder -> why analyzer.cache predicts this one wrong (reality is still asserted; a
    # wrong prediction then counts as an expected failure, and in the summary)
    model_gap: dict = field(default_factory=dict)

    def expected(self, builder: str):
        m = self.misses
        if isinstance(m, dict):
            m = m[builder]
        return m


def run_scenario(sc: Scenario, builder: str, tmp_path: Path) -> None:
    ws = Workspace(tmp_path, builder)
    try:
        def fill(text: str) -> str:
            text = text.replace("{base}", ws.base())
            return text.replace("{base2}", ws.base("other")) if "{base2}" in text else text

        ws.write("Dockerfile", fill(sc.dockerfile))
        for rel, content in sc.files.items():
            ws.write(rel, content)
        if sc.setup:
            sc.setup(ws)
        if sc.prime:
            ws.build([fill(a) for a in sc.prime_args], cli=sc.cli)
        if sc.change:
            sc.change(ws)
        args = [fill(a) for a in sc.args]
        predicted = ws.plan(args, cli=sc.cli)
        built = ws.build(args, cli=sc.cli)
        check(sc, builder, ws, predicted, built)
    finally:
        ws.cleanup()


def check(sc: Scenario, builder: str, ws: Workspace, predicted: list, built: list) -> None:
    # the plan printed by --plan is the one --build compared against
    assert [(s["step"], s["prediction"], s["reason"]) for s in predicted] == [
        (s["step"], s["prediction"], s["reason"]) for s in built
    ]
    log = ws.last_log()
    assert log.succeeded

    extra = [s.log_name for s in unplanned_steps([SimpleNamespace(**s) for s in built], log)]
    assert not extra, f"the build ran steps the plan does not list: {extra}"

    def no_lookup(s):  # FROM of an image already there, ARG before the first FROM
        return (s["keyword"] == "FROM" and s["actual"] is None) or (s["keyword"] == "ARG" and s["stage"] == "")

    lookups = [s for s in built if not no_lookup(s)]
    missing = [s["log_name"] for s in lookups if s["actual"] is None]
    assert not missing, f"planned steps the build log does not show: {missing}"

    expected = sc.expected(builder)
    really_missed = sorted(s["line"] for s in lookups if s["actual"] == "miss")
    want = sorted(s["line"] for s in lookups if s["keyword"] != "FROM") if expected == ALL else sorted(expected)
    assert really_missed == want, f"Docker rebuilt lines {really_missed}, expected {want}"

    t = TALLY[builder]
    t["runs"] += 1
    t["not_compared"] += len(built) - len(lookups)
    wrong = []
    for s in lookups:
        if s["prediction"] == "unknown":
            # the plan said it cannot know (e.g. what a rebuilt stage will write): not compared
            t["unknown"] += 1
            continue
        t["compared"] += 1
        if s["prediction"] == s["actual"]:
            t["agreed"] += 1
        else:
            wrong.append(f"line {s['line']} {s['instruction']}: predicted {s['prediction']} ({s['reason']}), was {s['actual']}")
    if wrong and builder in sc.model_gap:
        pytest.xfail(f"known gap of the cache model: {sc.model_gap[builder]}: " + "; ".join(wrong))
    assert not wrong, "prediction differs from the real build:\n" + "\n".join(wrong)


# ------------------------------------------------------------------------------------ scenarios

SIMPLE = """FROM {base}
WORKDIR /app
COPY app.txt ./
RUN cat app.txt > /copied
CMD ["sh"]
"""
SIMPLE_FILES = {"app.txt": "hello\n", "notes.txt": "not copied\n"}


def _touch(ws):
    p = ws.ctx / "app.txt"
    st = p.stat()
    os.utime(p, (st.st_atime + 1000, st.st_mtime + 1000))


def _rewrite_same(ws):
    p = ws.ctx / "app.txt"
    text = p.read_text()
    p.unlink()
    p.write_text(text)
    _touch(ws)


def _symlink(ws):
    ws.write("a.txt", "a\n")
    ws.write("b.txt", "b\n")
    (ws.ctx / "current").symlink_to("a.txt")


def _retarget(ws):
    (ws.ctx / "current").unlink()
    (ws.ctx / "current").symlink_to("b.txt")


def _push_base(ws):
    """The scenario's base pushed to the local registry and removed locally: FROM pulls it."""
    import urllib.request

    try:
        urllib.request.urlopen(f"http://{REGISTRY}/v2/", timeout=5).read()
    except OSError as exc:
        _unusable(f"registry {REGISTRY} is not answering ({exc})")
    remote = f"{REGISTRY}/analyze-scn/{ws.uid}:1"
    docker("tag", ws.base(), remote)
    docker("push", remote)
    docker("rmi", remote)
    ws.images.append(remote)
    ws.write("Dockerfile", f"FROM {remote}\nRUN echo pulled > /pulled\n")


SCENARIOS = [
    Scenario("first-build", SIMPLE, SIMPLE_FILES, prime=False, misses=ALL),
    Scenario("unchanged-rebuild", SIMPLE, SIMPLE_FILES, misses=[]),
    Scenario("edit-copied-file", SIMPLE, SIMPLE_FILES, change=lambda ws: ws.write("app.txt", "changed\n"),
             misses={"classic": [3, 4, 5], "buildkit": [3, 4]}, cli=True),
    Scenario("edit-file-no-copy-selects", SIMPLE, SIMPLE_FILES, change=lambda ws: ws.write("notes.txt", "edited\n"), misses=[]),
    Scenario(
        "edit-dockerignored-file",
        "FROM {base}\nCOPY . /src/\nRUN ls /src > /listing\n",
        {"app.txt": "a\n", "secret.txt": "s1\n", ".dockerignore": "secret.txt\n"},
        change=lambda ws: ws.write("secret.txt", "s2\n"),
        misses=[],
    ),
    Scenario("touch-mtime-only", SIMPLE, SIMPLE_FILES, change=_touch, misses=[]),
    Scenario("rewrite-same-content", SIMPLE, SIMPLE_FILES, change=_rewrite_same, misses=[]),
    Scenario("chmod-exec-bit", SIMPLE, SIMPLE_FILES, change=lambda ws: (ws.ctx / "app.txt").chmod(0o755),
             misses={"classic": [3, 4, 5], "buildkit": [3, 4]}),
    Scenario("chmod-file-no-copy-selects", SIMPLE, SIMPLE_FILES, change=lambda ws: (ws.ctx / "notes.txt").chmod(0o755),
             misses=[]),
    Scenario(
        "env-value-change",
        'FROM {base}\nENV GREETING=hello\nCOPY app.txt /app.txt\nRUN echo "$GREETING" > /greeting\n',
        {"app.txt": "x\n"},
        change=lambda ws: ws.edit_dockerfile("GREETING=hello", "GREETING=hi"),
        # classic: ENV is a step, and everything after it misses; BuildKit: the COPY does
        # not see ENV and hits, the RUN (whose environment changed) misses
        misses={"classic": [2, 3, 4], "buildkit": [4]},
    ),
    Scenario(
        "label-change",
        'FROM {base}\nLABEL version="1"\nRUN echo built > /built\n',
        change=lambda ws: ws.edit_dockerfile('version="1"', 'version="2"'),
        misses={"classic": [2, 3], "buildkit": []},
    ),
    Scenario(
        "cmd-change",
        'FROM {base}\nRUN echo built > /built\nCMD ["sh"]\n',
        change=lambda ws: ws.edit_dockerfile('CMD ["sh"]', 'CMD ["sh", "-c", "true"]'),
        misses={"classic": [3], "buildkit": []},
    ),
    Scenario(
        "expose-change",
        "FROM {base}\nEXPOSE 80\nRUN echo built > /built\n",
        change=lambda ws: ws.edit_dockerfile("EXPOSE 80", "EXPOSE 8080"),
        misses={"classic": [2, 3], "buildkit": []},
    ),
    Scenario(
        "user-change",
        "FROM {base}\nUSER 1000:1000\nRUN id -u\n",
        # (uid:gid: BuildKit looks a bare uid up in /etc/passwd, which busybox has not)
        change=lambda ws: ws.edit_dockerfile("USER 1000:1000", "USER 1001:1001"),
        misses={"classic": [2, 3], "buildkit": [3]},
    ),
    Scenario(
        "declared-build-arg-change",
        'FROM {base}\nARG FLAVOUR=plain\nCOPY app.txt /app.txt\nRUN echo "$FLAVOUR" > /flavour\n',
        {"app.txt": "x\n"},
        args=("--build-arg", "FLAVOUR=spicy"),
        cli=True,
        # classic: the ARG step itself and the COPY hit; the first RUN after it misses
        misses=[4],
    ),
    Scenario(
        "undeclared-build-arg",
        SIMPLE, SIMPLE_FILES,
        args=("--build-arg", "NOT_DECLARED=1"),
        misses=[],
    ),
    Scenario(
        "proxy-build-arg",
        SIMPLE, SIMPLE_FILES,
        args=("--build-arg", "HTTP_PROXY=http://proxy.invalid:3128"),
        # measured: the classic builder puts a proxy arg's value into every RUN's cache key
        # (the RUN and the steps after it miss); BuildKit leaves it out
        misses={"classic": [4, 5], "buildkit": []},
        model_gap={"classic": "a proxy build arg turns a RUN's cache key from CMD into '|0 CMD' (classic)"},
    ),
    Scenario(
        "proxy-build-arg-value-change",
        SIMPLE, SIMPLE_FILES,
        prime_args=("--build-arg", "HTTP_PROXY=http://one.invalid:3128"),
        args=("--build-arg", "HTTP_PROXY=http://two.invalid:3128"),
        # the value is in no cache key, in either builder
        misses=[],
    ),
    Scenario(
        "arg-before-from-selects-base",
        "ARG BASE={base}\nFROM $BASE\nRUN echo built > /built\n",
        args=("--build-arg", "BASE={base2}"),
        misses=ALL,
    ),
    Scenario(
        "reorder-two-runs",
        "FROM {base}\nRUN echo one > /one\nRUN echo two > /two\n",
        change=lambda ws: ws.write("Dockerfile", ws.dockerfile.read_text().replace(
            "RUN echo one > /one\nRUN echo two > /two", "RUN echo two > /two\nRUN echo one > /one")),
        misses=[2, 3],
    ),
    Scenario(
        "add-step-at-end",
        "FROM {base}\nRUN echo one > /one\nRUN echo two > /two\n",
        change=lambda ws: ws.write("Dockerfile", ws.dockerfile.read_text() + "RUN echo three > /three\n"),
        misses=[4],
    ),
    Scenario(
        "comments-and-blank-lines-move-steps",
        "FROM {base}\nRUN echo one > /one\nRUN echo two > /two\n",
        change=lambda ws: ws.edit_dockerfile("RUN echo two", "\n# a comment\n\nRUN echo two"),
        misses=[],
    ),
    Scenario(
        "whitespace-inside-run",
        "FROM {base}\nRUN echo a && echo b > /ab\nRUN echo c > /c\n",
        change=lambda ws: ws.edit_dockerfile("echo a && echo b", "echo a  &&  echo b"),
        misses=[2, 3],
    ),
    Scenario(
        "workdir-change",
        SIMPLE, SIMPLE_FILES,
        change=lambda ws: ws.edit_dockerfile("WORKDIR /app", "WORKDIR /srv"),
        misses={"classic": [2, 3, 4, 5], "buildkit": [2, 3, 4]},
    ),
    Scenario(
        "change-base-image",
        SIMPLE, SIMPLE_FILES,
        change=lambda ws: ws.edit_dockerfile(ws.base(), ws.base("other")),
        misses=ALL,
    ),
    Scenario(
        "base-image-new-id-same-layers",
        SIMPLE, SIMPLE_FILES,
        change=lambda ws: ws.edit_dockerfile(ws.base(), ws.base("relabelled", same_layers_as="base")),
        # classic: a new parent image id, every step misses; BuildKit keys FROM on the
        # layers, and no step reads the label: every step hits
        misses={"classic": ALL, "buildkit": []},
        model_gap={"buildkit": "BuildKit keys FROM on the image's layers, not its id"},
    ),
    Scenario(
        "target-before-last-stage",
        "FROM {base} AS build\nRUN echo built > /artifact\n"
        "FROM {base} AS unrelated\nRUN echo other > /other\n"
        "FROM build AS final\nRUN cat /artifact\n",
        prime=False,
        args=("--target", "unrelated"),
        cli=True,
        # the classic builder builds every stage before the target; BuildKit only what it needs
        misses={"classic": [2, 4], "buildkit": [4]},
    ),
    Scenario(
        "target-after-a-full-build",
        "FROM {base} AS build\nCOPY app.txt /app.txt\nRUN cat /app.txt > /artifact\n"
        "FROM {base} AS final\nCOPY --from=build /artifact /artifact\nRUN cat /artifact\n",
        {"app.txt": "x\n"},
        args=("--target", "build"),
        misses=[],
    ),
    Scenario(
        "edit-file-only-a-skipped-stage-copies",
        "FROM {base} AS docs\nCOPY docs.txt /docs.txt\nRUN cat /docs.txt > /out\n"
        "FROM {base} AS app\nRUN echo app > /app\n",
        {"docs.txt": "v1\n"},
        prime_args=("--target", "app"),
        change=lambda ws: ws.write("docs.txt", "v2\n"),
        args=("--target", "app"),
        misses={"classic": [2, 3], "buildkit": []},
    ),
    Scenario(
        "wildcard-copy-new-matching-file",
        "FROM {base}\nCOPY *.txt /txt/\nRUN ls /txt > /listing\n",
        {"a.txt": "a\n", "b.txt": "b\n"},
        change=lambda ws: ws.write("c.txt", "c\n"),
        misses=[2, 3],
    ),
    Scenario(
        "wildcard-copy-new-other-file",
        "FROM {base}\nCOPY *.txt /txt/\nRUN ls /txt > /listing\n",
        {"a.txt": "a\n", "b.txt": "b\n"},
        change=lambda ws: ws.write("c.md", "c\n"),
        misses=[],
    ),
    Scenario(
        "symlink-in-context-unchanged",
        "FROM {base}\nCOPY . /ctx/\nRUN ls -l /ctx > /listing\n",
        setup=_symlink,
        misses=[],
    ),
    Scenario(
        "symlink-retargeted",
        "FROM {base}\nCOPY . /ctx/\nRUN ls -l /ctx > /listing\n",
        setup=_symlink,
        change=_retarget,
        misses=[2, 3],
    ),
    Scenario(
        "copied-dir-new-file",
        "FROM {base}\nCOPY src/ /src/\nRUN ls /src > /listing\n",
        {"src/main.txt": "m\n", "docs/readme.txt": "r\n"},
        change=lambda ws: ws.write("src/extra.txt", "e\n"),
        misses=[2, 3],
    ),
    Scenario(
        "new-file-in-a-dir-no-copy-selects",
        "FROM {base}\nCOPY src/ /src/\nRUN ls /src > /listing\n",
        {"src/main.txt": "m\n", "docs/readme.txt": "r\n"},
        change=lambda ws: ws.write("docs/more.txt", "more\n"),
        misses=[],
    ),
    Scenario(
        "dockerignore-pattern-removed",
        "FROM {base}\nCOPY . /ctx/\nRUN ls /ctx > /listing\n",
        {"app.txt": "a\n", "build.log": "log\n", ".dockerignore": "*.log\n"},
        change=lambda ws: ws.write(".dockerignore", "# nothing ignored\n"),
        misses=[2, 3],
    ),
    Scenario(
        "add-local-file-edited",
        "FROM {base}\nADD data.txt /data.txt\nRUN cat /data.txt > /out\n",
        {"data.txt": "one\n"},
        change=lambda ws: ws.write("data.txt", "two\n"),
        misses=[2, 3],
    ),
    Scenario(
        "copy-chown-change",
        "FROM {base}\nCOPY --chown=1:1 app.txt /app.txt\nRUN ls -ln /app.txt > /owner\n",
        {"app.txt": "x\n"},
        change=lambda ws: ws.edit_dockerfile("--chown=1:1", "--chown=2:2"),
        misses=[2, 3],
    ),
    Scenario(
        "upstream-stage-rebuilt-same-output",
        "FROM {base} AS gen\nRUN echo data > /data\n"
        "FROM {base}\nCOPY --from=gen /data /data\nRUN cat /data > /out\n",
        change=lambda ws: ws.edit_dockerfile("RUN echo data > /data", "RUN echo data  > /data"),
        # the copied file comes out identical: both builders find the COPY --from in the cache
        # the plan cannot know what the rebuilt RUN writes: it says "unknown" for the copy
        # and what depends on it, and those steps are not compared
        misses=[2],
    ),
    Scenario(
        "no-cache", SIMPLE, SIMPLE_FILES, args=("--no-cache",),
        # measured: BuildKit 0.8 still takes WORKDIR from the cache under --no-cache
        misses={"classic": ALL, "buildkit": [3, 4]},
        cli=True,
        model_gap={"buildkit": "BuildKit 0.8 takes WORKDIR from the cache under --no-cache"},
    ),
    Scenario(
        "base-pulled-from-registry",
        "FROM {base}\n",  # replaced by _push_base
        prime=False,
        setup=_push_base,
        # the classic builder pulls (FROM is a miss); BuildKit 0.8 only resolves the
        # manifest, its layers being in its content store already
        misses={"classic": [1, 2], "buildkit": [2]},
    ),
]

assert len(SCENARIOS) >= 25


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_scenario(scenario, builder, docker_ready, tmp_path):
    run_scenario(scenario, builder, tmp_path)


# ------------------------------------------------------------------------------------ the seed

SEED = ROOT / "sample_dockerfiles" / "jupyter-kaggle" / "Dockerfile"
SEED_BASE = "jupyter/scipy-notebook:latest"


@pytest.fixture(scope="module")
def scipy_notebook(docker_ready):
    """jupyter/scipy-notebook built locally from busybox, with a stand-in conda (labelled
    analyze.test=seed). Like the busybox base it stays: its name is fixed, and a test run
    on the same daemon may be using it. The seed images built on it are removed."""
    have = docker("image", "inspect", "--format", '{{index .Config.Labels "analyze.test"}}', SEED_BASE, check=False)
    if have.returncode == 0 and have.stdout.strip() != "seed":
        _unusable(f"a real {SEED_BASE} is present: not replacing it")
    docker("build", "-q", "-t", SEED_BASE, str(ROOT / "tests" / "scenarios" / "seed-base"), buildkit="1")
    made: list[str] = []
    yield made
    docker("rmi", "-f", *made, check=False)


@pytest.mark.parametrize("builder", BUILDERS)
def test_seed_builds_then_plan_predicts_every_step_cached_and_a_rebuild_agrees(builder, scipy_notebook, tmp_path):
    ctx = tmp_path / "jupyter-kaggle"
    ctx.mkdir()
    dockerfile = ctx / "Dockerfile"
    dockerfile.write_text(SEED.read_text())
    cache = tmp_path / "cache"
    common = [dockerfile, "--offline", "--builder", builder, "--cache-dir", cache]
    tag = f"analyze-scn/seed-{uuid.uuid4().hex[:10]}"
    scipy_notebook.extend([f"{tag}:1", f"{tag}:2"])

    first = analyze(*common, "--build", "--tag", f"{tag}:1", "--format", "json")
    # the seed's untagged FROM is a warning: exit 1 for the findings, the build itself worked
    assert first.returncode == 1, first.stderr
    result = json.loads(first.stdout)["files"][0]
    assert any(f["rule"] == "AN3006" for f in result["findings"])
    assert [s["instruction"] for s in result["plan"]][-1 if builder == "buildkit" else 1] == "RUN conda install 'kaggle'"

    planned = analyze(*common, "--plan", "--format", "json", "--exit-zero")
    assert planned.returncode == 0, planned.stderr
    plan = json.loads(planned.stdout)["files"][0]["plan"]
    assert [s["prediction"] for s in plan] == ["hit"] * len(plan), plan
    expected_steps = {"classic": ["FROM", "RUN", "CMD"], "buildkit": ["FROM", "RUN"]}[builder]
    assert [s["keyword"] for s in plan] == expected_steps

    again = analyze(*common, "--build", "--tag", f"{tag}:2", "--exit-zero")
    assert again.returncode == 0, again.stdout + again.stderr
    rows = {line.split()[0]: line for line in again.stdout.splitlines() if line.strip()[:1].isdigit()}
    assert "hit        hit     ok" in rows["2"]  # RUN conda install 'kaggle'
    compared = len(expected_steps) - 1  # FROM is no cache lookup
    assert f"agreement: {compared}/{compared} steps as predicted (100%)" in again.stdout
    if builder == "classic":  # the lines the seed shows, on its second build
        log_text = next((cache / "build-logs").glob("*.log")).read_text()
        assert "Step 2/3 : RUN conda install 'kaggle'\n ---> Using cache\n" in log_text
        assert "Step 1/3 : FROM jupyter/scipy-notebook\n" in log_text
    assert docker("run", "--rm", f"{tag}:2", "cat", "/opt/conda/conda-meta/installed").stdout == "kaggle\n"


# ------------------------------------------------------------------------------------ the command


def test_build_fails_with_a_missing_command_a_miss_of_ours(docker_ready, tmp_path):
    ws = Workspace(tmp_path, "buildkit")
    try:
        ws.write("Dockerfile", f"FROM {ws.base()}\nRUN echo start \\\n    && kaggle datasets list\nRUN echo never\n")
        tag = f"analyze-scn/{ws.uid}:fail"
        ws.images.append(tag)
        proc = analyze(*ws.options(), "--format", "text", "--exit-zero", "--build", "--tag", tag)
        # a failed build exits 1, --exit-zero or not
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "FAILED (exit code 1)" in proc.stdout
        assert (
            "failure: line 2: RUN echo start     && kaggle datasets list failed (exit code 127): kaggle: not found"
            " -- a miss of ours: no finding predicted that kaggle is missing here"
        ) in proc.stdout
        assert docker("image", "inspect", tag, check=False).returncode != 0  # nothing was tagged
        rows = [line.split() for line in proc.stdout.splitlines() if line.strip()[:1].isdigit()]
        assert [(r[0], r[-1]) for r in rows] == [("1", "lookup)"), ("2", "ok"), ("3", "built)")]
    finally:
        ws.cleanup()


def test_build_json_has_the_plan_with_actual(docker_ready, tmp_path):
    ws = Workspace(tmp_path, "classic")
    try:
        ws.write("Dockerfile", f"FROM {ws.base()}\nENV A=1\nRUN echo $A > /a\n")
        tag = f"analyze-scn/{ws.uid}:json"
        ws.images.append(tag)
        proc = analyze(*ws.options(), "--build", "--tag", tag)
        assert proc.returncode == 0, proc.stderr
        data = json.loads(proc.stdout)
        plan = data["files"][0]["plan"]
        assert [(s["step"], s["line"], s["instruction"], s["prediction"], s["actual"]) for s in plan] == [
            (1, 1, f"FROM {ws.base()}", "miss", None),
            (2, 2, "ENV A=1", "miss", "miss"),
            (3, 3, "RUN echo $A > /a", "miss", "miss"),
        ]
        assert docker("run", "--rm", tag, "cat", "/a").stdout == "1\n"
    finally:
        ws.cleanup()


def test_no_docker_cli_is_one_error_line_and_exit_2(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY Dockerfile /\n")
    proc = analyze(tmp_path / "Dockerfile", "--build", "--no-lineage", "--cache-dir", tmp_path / "c",
                   env={"ANALYZE_DOCKER": str(tmp_path / "no-such-docker")})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"analyze: error: docker CLI '{tmp_path / 'no-such-docker'}' not found"]


def test_no_daemon_is_one_error_line_and_exit_2(tmp_path):
    if not os.access(DOCKER, os.X_OK):
        _unusable(f"{DOCKER} missing")
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY Dockerfile /\n")
    sock = tmp_path / "nothing.sock"
    proc = analyze(tmp_path / "Dockerfile", "--build", "--no-lineage", "--cache-dir", tmp_path / "c",
                   env={"DOCKER_HOST": f"unix://{sock}"}, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("analyze: error: cannot build: /usr/bin/docker: "), lines
    assert str(sock) in lines[0]

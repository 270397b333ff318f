"""Run a real ``docker build``, read its log, and set what happened beside the plan.

``analyze Dockerfile --build`` predicts the build cache (``analyzer.cache.plan``), runs the
build through the docker CLI (so ``DOCKER_HOST``, ``docker context`` and buildx builders are
honoured), parses each step's outcome from the log, fills ``actual`` in the plan, records
the build for the next ``--plan`` and ties a failing RUN back to the findings.

What the builders print (Docker 20.10, measured on this project's machines; the captured
logs under ``tests/scenarios/logs`` are real):

- classic (``DOCKER_BUILDKIT=0``): ``Step N/M : <instruction>`` then `` ---> Using cache``
  (hit) or `` ---> Running in <id>`` (miss); a COPY/ADD miss shows only `` ---> <id>``.
  FROM shows only `` ---> <id>`` (its image), whatever the cache holds.
- BuildKit (``--progress=plain``): vertices ``#K [stage i/n] INSTRUCTION`` whose blocks
  interleave and end in ``#K CACHED`` (hit), ``#K DONE 1.2s`` (ran), ``#K ERROR: ...`` or
  ``#K CANCELED``. ``#K`` changes between runs and the instruction shows build-arg values
  expanded (``RUN echo $V`` prints as ``RUN echo 2``), so a step is matched on its
  ``[stage i/n]`` label (BuildKit pads ``i`` to the width of ``n``: ``[ 1/11]``).
- FROM is no cache lookup in either builder: the classic builder prints only the image id,
  and BuildKit's FROM vertex ends in CACHED or DONE from one run to the next with nothing
  pulled. Its ``actual`` stays null (not compared), unless the image had to be pulled
  (a miss). The same goes for an ARG before the first FROM, which the classic builder
  lists as a step.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable, Optional, Sequence

from .model import AnalyzerError

HIT = "hit"
MISS = "miss"
NO_LOOKUP = "n/a"  # a step the builder never looks up in its cache (FROM of a local image, ARG before FROM)

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class BuildStartError(AnalyzerError):
    """The build could not start: no docker CLI, no daemon answering, a bad option."""


# ---------------------------------------------------------------------------------------------
# log parsing


@dataclass(frozen=True)
class LogStep:
    """One build step as the log shows it."""

    name: str  # classic "RUN echo hi"; BuildKit "RUN echo hi" (after the label)
    label: str  # classic "Step 2/5"; BuildKit "base 2/5", "2/5" ("" when unlabelled)
    number: int  # classic N of "Step N/M"; BuildKit the vertex number #K of this run
    total: int  # classic M; BuildKit n of "[stage i/n]" (0 when unlabelled)
    stage: str  # BuildKit stage name of the label ("" for single-stage files and classic)
    stage_step: int  # BuildKit i of "[stage i/n]" (0 for classic)
    status: str  # "hit" | "miss" | "n/a" (no cache lookup) | "error" | "canceled" | "running" (never finished)
    output: tuple[str, ...] = ()  # what the step printed (RUN output, errors)
    image_id: Optional[str] = None  # classic: the id after " ---> " that ends the step
    error: Optional[str] = None  # the step's error message
    exit_code: Optional[int] = None  # a failing RUN's exit code, when the log says
    duration: Optional[float] = None  # BuildKit DONE seconds
    pulled: bool = False  # the step pulled an image (FROM)

    @property
    def keyword(self) -> str:
        return self.name.split(None, 1)[0].upper() if self.name.strip() else ""

    @property
    def log_name(self) -> str:
        if self.label.startswith("Step "):
            return f"{self.label} : {self.name}"
        return f"[{self.label}] {self.name}" if self.label else self.name


@dataclass(frozen=True)
class BuildLog:
    """What a build log says: the builder, its steps, and how the build ended."""

    builder: str
    steps: tuple[LogStep, ...]
    succeeded: bool  # the log ends in success ("Successfully built", image exported)
    error: Optional[str] = None  # the build's final error message
    image_id: Optional[str] = None

    def failed_step(self) -> Optional[LogStep]:
        for step in self.steps:
            if step.status == "error":
                return step
        return None


_EXIT_CLASSIC = re.compile(r"returned a non-zero code: (\d+)")
_EXIT_BUILDKIT = re.compile(r"exit code: (\d+)")


class ClassicLogParser:
    """Incremental parser of the classic builder's output (feed lines, read ``steps``)."""

    builder = "classic"
    _STEP = re.compile(r"^Step (\d+)/(\d+) : ?(.*)$")
    _ARROW = re.compile(r"^ ---> (.*)$")
    _ID = re.compile(r"^(?:sha256:)?[0-9a-f]{12,64}$")

    def __init__(self) -> None:
        self._steps: list[dict] = []
        self.succeeded = False
        self.image_id: Optional[str] = None
        self.error: Optional[str] = None
        self._trailer: list[str] = []

    @property
    def current(self) -> Optional[dict]:
        return self._steps[-1] if self._steps else None

    def feed(self, line: str) -> None:
        line = _ANSI.sub("", line.rstrip("\r\n"))
        m = self._STEP.match(line)
        if m:
            self._steps.append(
                {
                    "number": int(m.group(1)),
                    "total": int(m.group(2)),
                    "name": m.group(3),
                    "cache": None,
                    "ran": False,
                    "pulled": False,
                    "image_id": None,
                    "output": [],
                    "error": None,
                    "exit_code": None,
                }
            )
            return
        m = re.match(r"^Successfully built ([0-9a-f]+)", line)
        if m:
            self.succeeded = True
            self.image_id = m.group(1)
            return
        step = self.current
        if step is None:
            if line.strip() and not line.startswith("Sending build context"):
                self._trailer.append(line)  # e.g. "Error response from daemon: ..."
                self.error = line
            return
        m = self._ARROW.match(line)
        if m:
            rest = m.group(1).strip()
            if rest == "Using cache":
                step["cache"] = HIT
            elif rest.startswith("Running in "):
                step["ran"] = True
            elif self._ID.match(rest):
                step["image_id"] = rest
            elif rest.startswith("[Warning]"):
                step["output"].append(rest)
            return
        if line.startswith("Removing intermediate container") or line.startswith("Successfully tagged"):
            return
        if re.match(r"^\S+: Pulling from ", line) or line.startswith("Status: Downloaded newer image"):
            step["pulled"] = True
            return
        m = _EXIT_CLASSIC.search(line)
        if m and line.startswith("The command "):
            step["error"] = line
            step["exit_code"] = int(m.group(1))
            self.error = line
            return
        if _looks_like_classic_error(line, step):
            step["error"] = line
            self.error = line
            return
        if line.strip():
            step["output"].append(line)

    def result(self) -> BuildLog:
        return BuildLog("classic", tuple(self._step(s, i) for i, s in enumerate(self._steps)),
                        self.succeeded, None if self.succeeded else (self.error or _last(self._trailer)), self.image_id)

    def _step(self, s: dict, index: int) -> LogStep:
        stopped_here = index == len(self._steps) - 1 and not self.succeeded
        keyword = s["name"].split(None, 1)[0].upper() if s["name"].strip() else ""
        if stopped_here and (s["error"] is not None or s["image_id"] is None):
            status = "error"
        elif s["cache"] == HIT:
            status = HIT
        elif keyword == "FROM":
            # FROM names an image (or an earlier stage): nothing is looked up in the cache,
            # unless the image had to be pulled or its ONBUILD triggers ran.
            status = MISS if (s["pulled"] or s["ran"]) else NO_LOOKUP
        elif s["ran"] or s["image_id"] is not None:
            status = MISS
        else:
            # Nothing printed and the build went on: an ARG before the first FROM, which
            # the classic builder lists as a step but which builds nothing.
            status = NO_LOOKUP if index < len(self._steps) - 1 else "running"
        error = s["error"]
        if status == "error" and error is None:
            error = self.error or _last(s["output"])
        return LogStep(
            name=s["name"],
            label=f"Step {s['number']}/{s['total']}",
            number=s["number"],
            total=s["total"],
            stage="",
            stage_step=0,
            status=status,
            output=tuple(s["output"]),
            image_id=s["image_id"],
            error=error,
            exit_code=s["exit_code"],
            pulled=s["pulled"],
        )


def _looks_like_classic_error(line: str, step: dict) -> bool:
    # Errors the daemon reports for a step, as opposed to what a RUN prints.
    if step["ran"] and not line.startswith(("failed to create shim", "OCI runtime")):
        return False
    return bool(re.match(r"^(COPY failed|ADD failed|failed to |Error |error |OCI runtime|unable to )", line))


def _last(lines: Sequence[str]) -> Optional[str]:
    return lines[-1] if lines else None


class BuildKitLogParser:
    """Incremental parser of BuildKit's ``--progress=plain`` output."""

    builder = "buildkit"
    _LINE = re.compile(r"^#(\d+) (.*)$")
    _HEADER = re.compile(r"^\[([^\]]*)\] (.*)$")
    _LABEL = re.compile(r"^\s*(?:(\S+)\s+)?(\d+)/(\d+)$")  # "base 2/5", " 2/11" (BuildKit pads i)
    _DONE = re.compile(r"^DONE (\d+(?:\.\d+)?)s$")
    _OUT = re.compile(r"^(\d+\.\d+) (.*)$")

    def __init__(self) -> None:
        self._vertices: dict[int, dict] = {}
        self._order: list[int] = []
        self.error: Optional[str] = None
        self.succeeded = False
        self.image_id: Optional[str] = None
        self._in_error_box = False
        self._after_box: list[str] = []
        self.current: Optional[dict] = None
        self._last_closed: Optional[dict] = None

    def feed(self, line: str) -> None:
        line = _ANSI.sub("", line.rstrip("\r\n"))
        m = self._LINE.match(line)
        if not m:
            self._free_line(line)
            return
        number, rest = int(m.group(1)), m.group(2)
        v = self._vertices.get(number)
        if v is None:
            v = {
                "number": number,
                "header": rest,
                "label": None,
                "name": rest,
                "status": "running",
                "output": [],
                "error": None,
                "exit_code": None,
                "duration": None,
                "pulled": False,
            }
            h = self._HEADER.match(rest)
            if h:
                v["label"], v["name"] = h.group(1), h.group(2)
            self._vertices[number] = v
            self._order.append(number)
            self.current = v
            return
        self.current = v
        if rest == v["header"]:
            return  # the header repeated when the output switches back to this vertex
        if rest == "CACHED":
            v["status"] = HIT
            self._last_closed = v
        elif self._DONE.match(rest):
            v["status"] = MISS
            v["duration"] = float(self._DONE.match(rest).group(1))
            self._last_closed = v
        elif rest == "CANCELED" or rest.startswith("CANCELED "):
            v["status"] = "canceled"
        elif rest.startswith("ERROR"):
            v["status"] = "error"
            message = rest[len("ERROR"):].lstrip(": ").strip()
            v["error"] = message or None
            code = _EXIT_BUILDKIT.search(rest)
            if code:
                v["exit_code"] = int(code.group(1))
        elif rest.startswith("sha256:") and " " not in rest:
            pass  # the vertex digest (BuildKit 0.8)
        else:
            out = self._OUT.match(rest)
            text = out.group(2) if out else rest
            if out:
                v["output"].append(text)
            elif re.match(r"^(extracting sha256:|sha256:[0-9a-f]+ [\d.]+\w?B / )", rest):
                v["pulled"] = True
            m2 = re.match(r"^writing image (sha256:[0-9a-f]+)", rest)
            if m2:
                self.image_id = m2.group(1)
                self.succeeded = True

    def _free_line(self, line: str) -> None:
        stripped = line.strip()
        if stripped == "------":
            self._in_error_box = not self._in_error_box
            return
        if self._in_error_box or not stripped:
            return
        self._after_box.append(stripped)
        self.error = stripped

    def result(self) -> BuildLog:
        steps = []
        succeeded = self.succeeded and not any(v["status"] == "error" for v in self._vertices.values())
        for number in self._order:
            v = self._vertices[number]
            if v["label"] is None or v["label"] == "internal":
                continue
            lm = self._LABEL.match(v["label"])
            if not lm:
                continue
            name = v["name"]
            keyword = name.split(None, 1)[0].upper() if name.strip() else ""
            status = v["status"]
            if keyword == "FROM" and status in (HIT, MISS):
                # CACHED or DONE from one run to the next for a local image: only a pull counts
                status = MISS if v["pulled"] else NO_LOOKUP
            steps.append(
                LogStep(
                    name=name,
                    label=normal_label(v["label"]),
                    number=number,
                    total=int(lm.group(3)),
                    stage=lm.group(1) or "",
                    stage_step=int(lm.group(2)),
                    status=status,
                    output=tuple(v["output"]),
                    error=v["error"],
                    exit_code=v["exit_code"],
                    duration=v["duration"],
                    pulled=v["pulled"],
                )
            )
        error = None
        if not succeeded:
            error = _last(self._after_box) or next(
                (v["error"] for v in self._vertices.values() if v["error"]), None
            )
        return BuildLog("buildkit", tuple(steps), succeeded, error, self.image_id)


def normal_label(label: str) -> str:
    """A BuildKit step label without its padding: ``"base  2/12"`` -> ``"base 2/12"``."""
    return " ".join(label.split())


def parser_for(builder: str):
    if builder == "classic":
        return ClassicLogParser()
    if builder == "buildkit":
        return BuildKitLogParser()
    raise BuildStartError(f"unknown builder {builder!r} (choose buildkit or classic)")


def parse_log(text: str, builder: str) -> BuildLog:
    """Parse a whole build log (``builder``: ``classic`` or ``buildkit``)."""
    parser = parser_for(builder)
    for line in text.splitlines():
        parser.feed(line)
    return parser.result()


# ---------------------------------------------------------------------------------------------
# the docker CLI


@dataclass(frozen=True)
class DockerCLI:
    """The docker command found on PATH and the versions it reports."""

    path: str
    client_version: str
    server_version: str
    buildx: bool

    def drives(self, builder: str) -> bool:
        if builder == "classic":
            return True
        # Clients before 23.0 carry their own BuildKit client; later ones need buildx.
        return self.buildx or _major(self.client_version) < 23


def _major(version: str) -> int:
    m = re.match(r"(\d+)", version or "")
    return int(m.group(1)) if m else 0


def _candidates(explicit: Optional[str]) -> list[str]:
    if explicit:
        found = shutil.which(explicit) if os.sep not in explicit else (explicit if os.access(explicit, os.X_OK) else None)
        if not found:
            raise BuildStartError(f"docker CLI {explicit!r} not found")
        return [found]
    seen, out = set(), []
    for c in (shutil.which("docker"), "/usr/bin/docker", "/usr/local/bin/docker"):
        if c and os.access(c, os.X_OK):
            real = os.path.realpath(c)
            if real not in seen:
                seen.add(real)
                out.append(c)
    return out


def _probe(path: str, timeout: float = 20.0) -> tuple[Optional[DockerCLI], str]:
    env = dict(os.environ, DOCKER_CLI_HINTS="false")
    try:
        proc = subprocess.run(
            [path, "version", "--format", "{{.Client.Version}}|{{.Server.Version}}"],
            capture_output=True, text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return None, f"{path} version: no answer from the daemon within {timeout:g} s"
    except OSError as exc:
        return None, f"cannot run {path}: {exc.strerror or exc}"
    client, _, server = proc.stdout.strip().partition("|")
    if proc.returncode != 0 or not server.strip():
        problem = next((ln.strip() for ln in proc.stderr.splitlines() if ln.strip()), f"exit code {proc.returncode}")
        return None, f"{path}: {problem}"
    try:
        bx = subprocess.run([path, "buildx", "version"], capture_output=True, text=True, timeout=timeout,
                            env=env, stdin=subprocess.DEVNULL)
        buildx = bx.returncode == 0
    except (subprocess.TimeoutExpired, OSError):
        buildx = False
    return DockerCLI(path, client.strip(), server.strip(), buildx), ""


def find_docker(builder: str, docker: Optional[str] = None) -> DockerCLI:
    """The docker CLI that runs the build: ``docker`` (a path or a name; also the environment
    variable ``ANALYZE_DOCKER``) or the first of ``docker`` on PATH, /usr/bin/docker,
    /usr/local/bin/docker that reaches a daemon and drives ``builder``; a CLI that drives
    both builders is preferred, so that classic and BuildKit builds go to the same place.
    Raises ``BuildStartError`` (one line) when there is none."""
    if not docker:
        env = os.environ.get("ANALYZE_DOCKER", "").strip()
        # "none" turns daemon look-ups off for --plan; a build needs a daemon all the same
        docker = env if env.lower() not in ("", "auto", "none", "0", "off", "false") else None
    candidates = _candidates(docker)
    if not candidates:
        raise BuildStartError("cannot build: no docker CLI found (install Docker, or see tools/docker-up)")
    usable, problems = [], []
    for path in candidates:
        cli, problem = _probe(path)
        if cli is None:
            problems.append(problem)
        else:
            usable.append(cli)
    if not usable:
        raise BuildStartError(f"cannot build: {problems[0]}")
    for cli in sorted(usable, key=lambda c: not (c.drives("classic") and c.drives("buildkit"))):
        if cli.drives(builder):
            return cli
    raise BuildStartError(
        f"cannot build with BuildKit: {usable[0].path} is docker {usable[0].client_version} without buildx "
        "(install docker-buildx, or use --builder classic)"
    )


# ---------------------------------------------------------------------------------------------
# running the build


@dataclass(frozen=True)
class BuildRequest:
    """A build of the user's own Dockerfile, as ``--build`` asks for it."""

    dockerfile: str  # path of the Dockerfile
    context: str  # the build context directory
    builder: str = "buildkit"
    build_args: tuple[tuple[str, str], ...] = ()
    target: Optional[str] = None
    no_cache: bool = False
    tags: tuple[str, ...] = ()
    platform: Optional[str] = None
    no_cache_filter: tuple[str, ...] = ()


def docker_command(cli: DockerCLI, req: BuildRequest) -> tuple[list[str], dict]:
    """The ``docker build`` argv and environment for ``req``: nothing but the user's own
    Dockerfile and context."""
    argv = [cli.path, "build", "--file", req.dockerfile]
    env = dict(os.environ, DOCKER_CLI_HINTS="false")
    if req.builder == "classic":
        env["DOCKER_BUILDKIT"] = "0"
    else:
        env["DOCKER_BUILDKIT"] = "1"
        argv.append("--progress=plain")
        env.setdefault("BUILDKIT_PROGRESS", "plain")
    for key, value in req.build_args:
        argv += ["--build-arg", f"{key}={value}"]
    if req.target:
        argv += ["--target", req.target]
    if req.no_cache:
        argv.append("--no-cache")
    for stage in req.no_cache_filter:
        argv += ["--no-cache-filter", stage]
    if req.platform:
        argv += ["--platform", req.platform]
    for tag in req.tags:
        argv += ["--tag", tag]
    argv.append(req.context)
    return argv, env


@dataclass(frozen=True)
class BuildRun:
    """One finished ``docker build``: its command line, exit code and log."""

    argv: tuple[str, ...]
    returncode: int
    log: str  # the raw log, as docker printed it
    parsed: BuildLog
    docker: DockerCLI


def run_build(req: BuildRequest, *, docker: Optional[str] = None, display: Optional["Display"] = None,
              cli: Optional[DockerCLI] = None, redactor=None) -> BuildRun:
    """Run ``docker build`` for ``req``, streaming its log through ``display``. Secrets
    (``redactor``, an analyzer.report.redact.Redactor; by default the secret-looking build
    args) are masked in every line before anything reads it: BuildKit prints RUN lines
    with the build args expanded, and the log is shown, parsed and saved."""
    from .report.redact import Redactor

    cli = cli or find_docker(req.builder, docker)
    argv, env = docker_command(cli, req)
    if redactor is None:
        redactor = Redactor.for_build(build_args=dict(req.build_args))
    parser = parser_for(req.builder)
    lines: list[str] = []
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, bufsize=1, text=True, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise BuildStartError(f"cannot run {cli.path}: {exc.strerror or exc}")
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = redactor.text(line)
            lines.append(line)
            parser.feed(line)
            if display is not None:
                display.update(line, parser)
        rc = proc.wait()
    except BaseException:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        raise
    finally:
        if display is not None:
            display.close()
    parsed = parser.result()
    parsed = replace(parsed, succeeded=rc == 0)
    if rc != 0 and parsed.error is None:
        parsed = replace(parsed, error=_last([ln.strip() for ln in lines if ln.strip()]) or f"docker build exited {rc}")
    return BuildRun(tuple(redactor.text(a) for a in argv), rc, "".join(lines), parsed, cli)


class Display:
    """Progress on a terminal: a spinner with the current line, and a line per finished step."""

    _BOUNDARY = re.compile(r"^(Step \d+/\d+ :|Successfully built|#\d+ (CACHED|DONE|ERROR|CANCELED))")

    def __init__(self, console=None):
        from rich.console import Console
        from rich.status import Status

        self.console = console or Console(stderr=True, highlight=False)
        self._status = Status("starting docker build", console=self.console)
        self._status.start()
        self._reported: set = set()
        self._parser = None

    def update(self, line: str, parser) -> None:
        from rich.markup import escape

        self._parser = parser
        text = _ANSI.sub("", line.strip())
        if self._BOUNDARY.match(text):
            self._report(parser, final=False)
        if text:
            self._status.update(f"[dim]{escape(text[:100])}[/dim]")

    def _report(self, parser, final: bool) -> None:
        from rich.markup import escape

        steps = parser.result().steps
        if parser.builder == "classic" and not final:
            steps = steps[:-1]  # the current step is not over until the next one starts
        for step in steps:
            if step.label in self._reported or step.status == "running":
                continue
            self._reported.add(step.label)
            mark = {HIT: "[green]cached[/green]", MISS: "[yellow]built [/yellow]", "error": "[red]failed[/red]",
                    "canceled": "[dim]cancel[/dim]", NO_LOOKUP: "[dim]  --  [/dim]"}.get(step.status, step.status)
            self.console.print(f"  {mark} {escape(step.log_name)}")

    def close(self) -> None:
        self._status.stop()
        if self._parser is not None:
            self._report(self._parser, final=True)


# ---------------------------------------------------------------------------------------------
# prediction beside reality


def actual_outcomes(plan, log: BuildLog) -> dict[int, Optional[str]]:
    """``{plan step number: "hit" | "miss" | None}`` from the log.

    A step that ran and failed is a miss (nothing was found in the cache). None: the log
    does not show the step (the build stopped before it, or BuildKit never needed it), or
    the step is no cache lookup at all (a FROM whose image was already there, an ARG
    before the first FROM).
    """
    out: dict[int, Optional[str]] = {}
    for ps in plan.steps:
        found = log_step_for(ps, log)
        if found is None or found.status not in (HIT, MISS, "error"):
            out[ps.step] = None
        else:
            out[ps.step] = HIT if found.status == HIT else MISS
    return out


def log_step_for(plan_step, log: BuildLog) -> Optional[LogStep]:
    """The log's step for a plan step: classic by N of "Step N/M"; BuildKit by the
    ``[stage i/n]`` label (vertex numbers change between runs, names show expanded args),
    else by the name."""
    if log.builder == "classic":
        return next((s for s in log.steps if s.number == plan_step.step), None)
    m = re.match(r"^\[([^\]]*)\] ?(.*)$", plan_step.log_name or "")
    if m:
        label = normal_label(m.group(1))
        found = next((s for s in log.steps if s.label == label), None)
        if found is not None:
            return found
    name = m.group(2) if m else plan_step.instruction
    same = [s for s in log.steps if s.name == name]
    return same[0] if len(same) == 1 else None


def unplanned_steps(steps: Iterable, log: BuildLog) -> list[LogStep]:
    """Steps the log shows that none of the plan's ``steps`` stands for (the plan missed
    a step). ``steps``: PlanStep objects, or anything with ``step``, ``log_name`` and
    ``instruction``."""
    matched = {id(log_step_for(ps, log)) for ps in steps}
    return [s for s in log.steps if id(s) not in matched]


@dataclass(frozen=True)
class Agreement:
    """How the cache prediction compares with what the build printed."""

    compared: int  # steps with a hit/miss prediction and a hit/miss actual
    agreed: int
    disagreements: tuple = ()  # PlanStep
    not_compared: tuple = ()  # PlanStep: prediction unknown, no cache lookup, or not built
    unplanned: tuple = ()  # log names of steps the build ran that the plan does not have

    @property
    def ratio(self) -> Optional[float]:
        return self.agreed / self.compared if self.compared else None

    def summary(self) -> str:
        if not self.compared:
            return "no step could be compared"
        pct = 100.0 * self.agreed / self.compared
        return f"{self.agreed}/{self.compared} steps as predicted ({pct:.0f}%)"

    def as_json(self) -> dict:
        return {
            "compared": self.compared,
            "agreed": self.agreed,
            "ratio": round(self.ratio, 4) if self.ratio is not None else None,
            "disagreements": [s.step for s in self.disagreements],
            "not_compared": [s.step for s in self.not_compared],
            "unplanned": list(self.unplanned),
        }


def agreement(plan, log: Optional[BuildLog] = None) -> Agreement:
    compared = agreed = 0
    wrong, skipped = [], []
    for s in plan.steps:
        if s.prediction in (HIT, MISS) and s.actual in (HIT, MISS):
            compared += 1
            if s.prediction == s.actual:
                agreed += 1
            else:
                wrong.append(s)
        else:
            skipped.append(s)
    unplanned = tuple(s.log_name for s in unplanned_steps(plan.steps, log)) if log is not None else ()
    return Agreement(compared, agreed, tuple(wrong), tuple(skipped), unplanned)


# ---------------------------------------------------------------------------------------------
# a failing build, tied back to the findings

_NOT_FOUND = (
    re.compile(r"(?:^|[\s/])(?:sh|bash|dash|ash|zsh)(?:: line \d+)?(?:: \d+)?: (?:line \d+: )?([^\s:]+): (?:command )?not found"),
    re.compile(r'exec: "([^"]+)": (?:executable file not found in \$PATH|stat [^:]*: no such file or directory)'),
    re.compile(r"^([^\s:]+): (?:command )?not found$"),
)


def missing_command(step: LogStep) -> Optional[str]:
    """The command a failed RUN could not find, from what it printed (None: not that)."""
    for text in (*step.output, step.error or ""):
        for pattern in _NOT_FOUND:
            m = pattern.search(text)
            if m:
                return m.group(1)
    return None


@dataclass(frozen=True)
class BuildFailure:
    """Why a build failed, placed on a plan step and its lines when possible."""

    message: str  # the builder's own error line
    step: Optional[int] = None  # plan step number
    line: Optional[int] = None
    end_line: Optional[int] = None
    instruction: Optional[str] = None
    exit_code: Optional[int] = None
    missing_command: Optional[str] = None
    finding: Optional[object] = None  # the AN6xxx Finding that predicted the failure
    verdict: str = ""  # "predicted" | "missed" (a missing command no finding foresaw) | ""

    def describe(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        what = self.instruction or "the build"
        head = f"{where}{what} failed"
        if self.exit_code is not None:
            head += f" (exit code {self.exit_code})"
        if self.missing_command is not None:
            name = self.missing_command or "a command"
            head += f": {name}: not found"
            if self.verdict == "predicted" and self.finding is not None:
                f = self.finding
                return f"{head} -- predicted by {f.rule} at {f.line}:{f.column} ({f.message})"
            return f"{head} -- a miss of ours: no finding predicted that {name} is missing here"
        return f"{head}: {self.message}"

    def as_json(self) -> dict:
        f = self.finding
        return {
            "message": self.message,
            "step": self.step,
            "line": self.line,
            "instruction": self.instruction,
            "exit_code": self.exit_code,
            "missing_command": self.missing_command,
            "verdict": self.verdict or None,
            "finding": None if f is None else {"rule": f.rule, "line": f.line, "column": f.column, "message": f.message},
            "description": self.describe(),
        }


def explain_failure(plan, log: BuildLog, findings: Iterable = ()) -> Optional[BuildFailure]:
    """What failed, where, and whether a lineage finding (AN6xxx) had said so."""
    if log.succeeded:
        return None
    failed = log.failed_step()
    if failed is None:
        return BuildFailure(message=log.error or "the build failed")
    ps = None
    for candidate in plan.steps:
        if log_step_for(candidate, log) is failed:
            ps = candidate
            break
    line = ps.line if ps is not None else None
    end_line = getattr(ps, "end_line", line) if ps is not None else None
    message = failed.error or log.error or "failed"
    command = None
    if failed.keyword == "RUN":
        command = missing_command(failed)
        if command is None and failed.exit_code == 127:
            command = ""
    finding = None
    verdict = ""
    if command is not None:
        verdict = "missed"
        if line is not None:
            finding = _matching_finding(findings, command, line, end_line or line)
            if finding is not None:
                verdict = "predicted"
    return BuildFailure(
        message=message,
        step=ps.step if ps is not None else None,
        line=line,
        end_line=end_line,
        instruction=ps.instruction if ps is not None else failed.name,
        exit_code=failed.exit_code,
        missing_command=command,
        finding=finding,
        verdict=verdict,
    )


def _matching_finding(findings: Iterable, command: str, line: int, end_line: int):
    near = [f for f in findings if str(getattr(f, "rule", "")).startswith("AN6") and line <= f.line <= end_line]
    if not near:
        return None
    if command:
        base = command.rsplit("/", 1)[-1]
        named = [f for f in near if re.search(rf"(^|[\s`'\"/]){re.escape(base)}([\s`'\":]|$)", f.message)]
        if named:
            return named[0]
        return None
    return near[0]


# ---------------------------------------------------------------------------------------------
# the whole --build


@dataclass(frozen=True)
class BuildOutcome:
    """A build with its plan, run, agreement and failure, if any."""

    plan: object  # analyzer.cache.Plan with ``actual`` filled in
    run: BuildRun
    agreement: Agreement
    failure: Optional[BuildFailure]
    record_path: Optional[Path]
    log_path: Optional[Path]
    notes: tuple[str, ...] = ()

    @property
    def succeeded(self) -> bool:
        return self.run.returncode == 0

    def as_json(self) -> dict:
        return {
            "builder": self.plan.builder,
            "docker": {"cli": self.run.docker.path, "client": self.run.docker.client_version,
                       "server": self.run.docker.server_version},
            "command": list(self.run.argv),
            "exit_code": self.run.returncode,
            "succeeded": self.succeeded,
            "agreement": self.agreement.as_json(),
            "failure": self.failure.as_json() if self.failure else None,
            "record": str(self.record_path) if self.record_path else None,
            "log": str(self.log_path) if self.log_path else None,
            "notes": list(self.notes),
        }


def build(df, options, *, findings: Iterable = (), tags: Sequence[str] = (), docker: Optional[str] = None,
          display: Optional[Display] = None, platform: Optional[str] = None) -> BuildOutcome:
    """Predict (``analyzer.cache.plan``), run the real build, fill ``actual``, record it.

    ``df`` must come from a file on disk (docker reads it again); ``options`` is an
    ``analyzer.cache.PlanOptions``. Raises ``BuildStartError`` when the build cannot start.
    """
    from .cache import plan as make_plan
    from .cache import record

    path = Path(df.path)
    if df.path in ("-", "<stdin>") or not path.is_file():
        raise BuildStartError(f"--build needs a Dockerfile on disk ({df.path!r} is not a file)")
    cli = find_docker(options.builder, docker)
    predicted = make_plan(df, options)
    req = BuildRequest(
        dockerfile=str(path),
        context=predicted.context,
        builder=options.builder,
        build_args=tuple(dict(options.build_args).items()),
        target=options.target,
        no_cache=options.no_cache,
        tags=tuple(tags),
        platform=platform,
    )
    if getattr(options, "no_cache_filter", ()):
        req = replace(req, no_cache_filter=tuple(options.no_cache_filter))
    run = run_build(req, cli=cli, display=display, redactor=_redactor(df, options))
    actual = {n: v for n, v in actual_outcomes(predicted, run.parsed).items() if v is not None}
    filled = predicted.with_actual(actual)
    notes: list[str] = []
    record_path = None
    if run.returncode == 0:
        image_ids = {s.number: s.image_id for s in run.parsed.steps if s.image_id} if req.builder == "classic" else None
        try:
            record_path = record(df, options, plan=predicted, image_ids=image_ids)
        except (OSError, AnalyzerError) as exc:
            notes.append(f"could not record the build: {exc}")
    else:
        notes.append("the build failed: no record written (the next --plan compares with the last successful build)")
    log_path = _save_log(run.log, path, options)
    return BuildOutcome(
        plan=filled,
        run=run,
        agreement=agreement(filled, run.parsed),
        failure=explain_failure(filled, run.parsed, findings),
        record_path=record_path,
        log_path=log_path,
        notes=tuple(notes),
    )


def _redactor(df, options):
    """The secrets of this build: its build args and the Dockerfile's ARG/ENV values."""
    from .expand import resolve
    from .report.redact import Redactor

    args = dict(options.build_args or {})
    try:
        resolution = resolve(df, args, options.platform, target=options.target)
    except Exception:  # an expansion BuildKit would refuse: the build args are masked all the same
        resolution = None
    return Redactor.for_build(resolution, args)


def _save_log(text: str, dockerfile: Path, options) -> Optional[Path]:
    from .cachedir import cache_subdir, not_writable, warn, write_atomic

    ident = f"{dockerfile.resolve()}\0{options.builder}\0{options.target or ''}"
    name = hashlib.sha256(ident.encode()).hexdigest()[:16] + ".log"
    directory = cache_subdir("build-logs", options.cache_dir)
    try:
        target = directory / name
        write_atomic(target, text)  # a temp file of its own: two builds of one file at once
        return target
    except OSError as exc:
        warn(not_writable(directory, exc))
        return None


def render_text(outcome: BuildOutcome, *, color: bool = False) -> str:
    """The plan beside the real build: one row a step, then the agreement and any failure."""
    def esc(text: str) -> str:
        if not color:
            return text
        from rich.markup import escape

        return escape(text)

    run = outcome.run
    rows = []
    width = 56
    head = f"build ({outcome.plan.builder}, docker {run.docker.server_version} via {run.docker.path}): " + (
        "succeeded" if outcome.succeeded else f"FAILED (exit code {run.returncode})"
    )
    rows.append(f"[bold]{esc(head)}[/bold]" if color else head)
    rows.append(f"{'step':>4}  {'line':>4}  {'instruction':<{width}}  {'predicted':<9}  {'actual':<6}")
    for s in outcome.plan.steps:
        text = s.instruction if len(s.instruction) <= width else s.instruction[: width - 3] + "..."
        actual = s.actual or "-"
        if s.actual is None:
            if s.keyword == "FROM" or (s.keyword == "ARG" and s.stage_index < 0):
                mark = "(no cache lookup)"
            else:
                mark = "(not built)" if not outcome.succeeded else "(not in the build log)"
        elif s.prediction == s.actual:
            mark = "ok"
        elif s.prediction in (HIT, MISS):
            mark = f"WRONG: predicted {s.prediction} because {s.reason}"
        else:
            mark = s.reason
        row = f"{s.step:>4}  {s.line:>4}  {text:<{width}}  {s.prediction:<9}  {actual:<6}  {mark}".rstrip()
        if color and mark.startswith("WRONG"):
            row = f"[red]{esc(row)}[/red]"
        else:
            row = esc(row)
        rows.append(row)
    rows.append(f"agreement: {outcome.agreement.summary()}")
    for name in outcome.agreement.unplanned:
        rows.append("not in the plan: " + esc(name))
    if outcome.failure is not None:
        rows.append("failure: " + esc(outcome.failure.describe()))
    for note in outcome.notes:
        rows.append("note: " + esc(note))
    if outcome.log_path is not None:
        rows.append(f"build log: {esc(str(outcome.log_path))}")
    return "\n".join(rows) + "\n"


def attach_builds(
    results: list,
    inputs: list,
    *,
    builder: str,
    context: Optional[str],
    build_args: dict,
    target: Optional[str],
    no_cache: bool,
    no_cache_filter: tuple,
    cache_dir: Optional[str],
    tags: tuple = (),
    fetch: bool = True,
    progress: bool = False,
    platform: str = "linux/amd64",
) -> tuple[list, list, bool]:
    """``analyze --build``: build every readable input, fill ``result.extra["plan"]`` with
    ``actual`` and ``result.extra["build"]``. Returns ``(outcomes, notes, failed)``:
    ``outcomes`` as ``[(shown path, BuildOutcome)]``, ``failed`` when a build failed.
    Raises ``BuildStartError`` when a build cannot start (the caller exits 2)."""
    from .cache.cli_plan import plan_options
    from .files import read_input
    from .model import ParseError

    options = plan_options(
        builder=builder, context=context, build_args=build_args, target=target, no_cache=no_cache,
        no_cache_filter=no_cache_filter, cache_dir=cache_dir, fetch=fetch, platform=platform,
    )
    outcomes: list = []
    notes: list[str] = []
    failed = False
    for item, result in zip(inputs, results):
        if result.error:
            continue
        shown = result.path
        if item == "-":
            raise BuildStartError(f"{shown}: --build needs the Dockerfile as a file (docker reads it itself)")
        try:
            df = read_input(item, shown)
        except ParseError as exc:
            raise BuildStartError(f"{shown}: not built: {exc}")
        display = Display() if progress else None
        try:
            outcome = build(df, options, findings=result.findings, tags=tags, display=display)
        except BuildStartError:
            raise
        except AnalyzerError as exc:
            raise BuildStartError(f"{shown}: {exc}")
        for note in outcome.plan.notes:
            notes.append(f"{shown}: {note}")
        result.extra["plan"] = outcome.plan.as_json()
        result.extra["build"] = outcome.as_json()
        outcomes.append((shown, outcome))
        failed = failed or not outcome.succeeded
    return outcomes, notes, failed


def render(outcomes, *, color: bool = False) -> str:
    """``outcomes``: ``[(path, BuildOutcome)]`` as text, one block a file."""
    parts = []
    for path, outcome in outcomes:
        head = f"{path}:"
        parts.append((f"[bold]{head}[/bold]\n" if color else head + "\n") + render_text(outcome, color=color))
    return "".join(parts)

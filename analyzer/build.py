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
  ``#K CANCELED``. ``#K`` changes between runs, so steps are matched on their name. The name
  shows build-arg values expanded (``RUN echo $V`` prints as ``RUN echo 2``), so the
  ``[stage i/n]`` label is what identifies a step. A vertex whose result BuildKit never
  needed is not printed at all, and a FROM vertex ends in CACHED or DONE from one run to the
  next with nothing pulled: a FROM is a miss only when the image had to be pulled.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

from .model import AnalyzerError

HIT = "hit"
MISS = "miss"

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
    status: str  # "hit" | "miss" | "error" | "canceled" | "running" (never finished)
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
        if line.strip():
            step["output"].append(line)
        m = _EXIT_CLASSIC.search(line)
        if m and line.startswith("The command "):
            step["error"] = line
            step["exit_code"] = int(m.group(1))
            self.error = line
        elif _looks_like_classic_error(line, step):
            step["error"] = line
            self.error = line

    def result(self) -> BuildLog:
        return BuildLog("classic", tuple(self._step(s, i) for i, s in enumerate(self._steps)),
                        self.succeeded, None if self.succeeded else (self.error or _last(self._trailer)), self.image_id)

    def _step(self, s: dict, index: int) -> LogStep:
        last = index == len(self._steps) - 1
        keyword = s["name"].split(None, 1)[0].upper() if s["name"].strip() else ""
        if s["cache"] == HIT:
            status = HIT
        elif last and not self.succeeded:
            status = "error" if (s["error"] or self.error or s["image_id"] is None) else MISS
            if status == MISS and not self.succeeded and s["image_id"] is None:
                status = "running"
        elif keyword == "FROM":
            # FROM names an image (or an earlier stage): nothing is looked up in the cache.
            status = MISS if (s["pulled"] or s["ran"]) else HIT
        else:
            status = MISS if (s["ran"] or s["image_id"] is not None) else "running"
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
    _LABEL = re.compile(r"^(?:(\S+) )?(\d+)/(\d+)$")
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
                status = MISS if v["pulled"] else HIT
            steps.append(
                LogStep(
                    name=name,
                    label=v["label"],
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

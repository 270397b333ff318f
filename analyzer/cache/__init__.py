"""Predict Docker's build cache step by step (``analyze Dockerfile --plan``).

API contract (stable: fields and functions may be added, never renamed or removed)
==================================================================================

Everything below is importable from ``analyzer.cache``::

    from analyzer.cache import PlanOptions, Plan, PlanStep, plan, record, BUILDERS

``BUILDERS = ("buildkit", "classic")``

``PlanOptions`` (frozen dataclass, every field has a default)::

    builder: str = "buildkit"            # "buildkit" | "classic" (DOCKER_BUILDKIT=1 / 0)
    context: str | Path | None = None    # build context dir; None: the Dockerfile's directory
    build_args: Mapping[str, str] = {}   # --build-arg values (a dict or a tuple of pairs)
    target: str | None = None            # --target stage name (or index as a string)
    no_cache: bool = False               # --no-cache
    no_cache_filter: tuple[str, ...] = ()  # --no-cache-filter STAGE (BuildKit); repeatable
    cache_dir: str | None = None         # --cache-dir; resolved with analyzer.cachedir.cache_root
    docker: str | None = "auto"          # docker CLI used for daemon look-ups (base image ids,
                                         # classic image ids still present). "auto": /usr/bin/docker
                                         # or ``docker`` on PATH; None: never ask a daemon
    fetch: bool = True                   # ADD <url>: download to hash the content (else "unknown")
    platform: str = "linux/amd64"

``plan(df, options) -> Plan`` -- ``df`` is an ``analyzer.model.Dockerfile`` (from
``analyzer.parse``). Reads the build context and the build records; never writes a build
record (it may write the file-hash cache). Raises ``analyzer.cache.PlanError`` (an
``AnalyzerError``: one line, exit 2) for a missing context dir, an unknown ``--target``, an
unknown builder.

``Plan`` (frozen dataclass)::

    steps: tuple[PlanStep, ...]          # in the order the builder prints them
    builder: str
    context: str                         # absolute context dir
    target: str | None
    record_path: Path                    # where this build's record lives (may not exist)
    record_found: bool                   # a previous build of this Dockerfile was known
    notes: tuple[str, ...]               # plain-language caveats (daemon unreachable, ...)
    def as_json(self) -> list[dict]      # the JSON contract list (``FileResult.extra["plan"]``)
    def step(self, n: int) -> PlanStep   # by ``PlanStep.step``
    def with_actual(self, actual: Mapping[int, str]) -> Plan
                                         # copy with ``actual`` set per step number ("hit"|"miss")

``PlanStep`` (frozen dataclass)::

    step: int            # 1-based. classic: N of "Step N/M" (every instruction, incl. ARGs
                         # before the first FROM). BuildKit: running number over the steps
                         # listed (FROM <image>, RUN, COPY, ADD, WORKDIR of the stages built)
    total: int           # M of "Step N/M" (classic); number of listed steps (BuildKit)
    stage: str           # stage name, else "stage-<index>"; "" for ARGs before the first FROM
    stage_index: int     # -1 for ARGs before the first FROM
    stage_step: int      # BuildKit: i of "[stage i/n]" (0 for classic)
    stage_total: int     # BuildKit: n of "[stage i/n]" (0 for classic)
    line: int            # first Dockerfile line of the instruction
    end_line: int
    keyword: str         # upper case: FROM, RUN, COPY, ...
    instruction: str     # as the builder prints it: the instruction as written, continuations joined
    log_name: str        # what the build log shows for this step: classic
                         # "Step 2/3 : RUN conda install kaggle"; BuildKit
                         # "[stage-0 2/3] RUN conda install kaggle" (BuildKit omits the stage
                         # name when the file has a single stage: "[2/3] RUN ..."; a FROM
                         # shows the normalised reference, to which BuildKit may add a digest;
                         # RUN/COPY/WORKDIR show ARG/ENV values substituted, as BuildKit does)
    prediction: str      # "hit" | "miss" | "unknown" (only when an input cannot be known,
                         # e.g. ADD <url> without network: reason starts "unknown: remote content")
    reason: str          # plain words: "first build: no previous build known",
                         # "COPY requirements.txt: content changed", "mode of entrypoint.sh changed",
                         # "build arg PYTHON_VERSION changed", "ENV changed above",
                         # "base image digest changed", "an earlier step missed: step 3", "--no-cache"
                         # For a hit: "unchanged" (maybe followed by a caveat after "; ").
                         # Classic ARGs before the first FROM: "hit", nothing is cached
                         # ("no build step: ..."); FROM: "hit" unless the base changed
    key: str             # hex digest of the step's cache key as modelled (stable across runs)
    actual: str | None   # None from plan(); "hit"/"miss" once a real build filled it in

``PlanStep.as_json()`` gives ``{"step", "stage", "line", "instruction", "prediction", "reason",
"actual", "end_line", "keyword", "log_name", "stage_step", "stage_total", "total", "key"}``.

``record(df, options, *, plan=None, image_ids=None, base_ids=None) -> Path`` stores a build
record "as if the current state had just been built" (``--record``; also what ``--build``
calls after a successful real build) and returns its path. Pass the ``plan`` computed
just before the build to record exactly the keys that were predicted (no re-hashing).
``image_ids``: ``{step number: image id}`` as printed after `` ---> `` by the classic builder
(lets a later plan notice pruned images). ``base_ids``: ``{image reference as written after
expansion: image id}`` when the caller knows them (else looked up via the daemon if reachable).
Records live in ``cache_root(cache_dir)/builds/<hex>.json``, keyed by Dockerfile path,
context, target, builder and build args, written atomically (temp file + rename).

The CLI goes through ``analyzer.cache.cli_plan.attach_plans`` (``--plan``/``--record``);
the environment variable ``ANALYZE_DOCKER`` names the docker CLI for daemon look-ups
(``none`` turns them off).

Modules: ``context.py`` (build context selection and hashing), ``keys.py`` (what goes into a
step's key, per builder), ``predict.py`` (prediction), ``records.py`` (build records),
``daemon.py`` (optional look-ups through the docker CLI), ``cli_plan.py`` (the CLI's use).
"""

from __future__ import annotations

BUILDERS = ("buildkit", "classic")

__all__ = ["BUILDERS", "Plan", "PlanError", "PlanOptions", "PlanStep", "plan", "record"]

from .predict import Plan, PlanError, PlanOptions, PlanStep, plan, record  # noqa: E402

"""Cache predictions: the steps of a build, each compared with what earlier builds cached.

A step hits when its modelled key (its parent's key plus its own inputs, see ``keys``) was
produced by a recorded build; the record of this Dockerfile's previous build explains a
miss in plain words. See the package docstring for the API contract.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping, Optional, Union

from ..model import AnalyzerError, Dockerfile
from . import BUILDERS
from . import records as rec
from .keys import Builder, PlanInputError, StepSpec, digest, key_inputs

FIRST_BUILD = "first build: no previous build known"


class PlanError(AnalyzerError):
    """A plan that cannot be made (unknown builder or target, missing context, ...)."""


@dataclass(frozen=True)
class PlanOptions:
    """What a build plan depends on besides the Dockerfile."""

    builder: str = "buildkit"
    context: Optional[Union[str, Path]] = None
    build_args: Mapping[str, str] = field(default_factory=dict)
    target: Optional[str] = None
    no_cache: bool = False
    no_cache_filter: tuple = ()
    cache_dir: Optional[str] = None
    docker: Optional[str] = "auto"
    fetch: bool = True
    platform: str = "linux/amd64"


@dataclass(frozen=True)
class PlanStep:
    """One step of the build plan, with its predicted (and, after a build, actual) cache result."""

    step: int
    total: int
    stage: str
    stage_index: int
    stage_step: int
    stage_total: int
    line: int
    end_line: int
    keyword: str
    instruction: str
    log_name: str
    prediction: str
    reason: str
    key: str
    actual: Optional[str] = None

    def as_json(self) -> dict:
        return {
            "step": self.step,
            "stage": self.stage,
            "line": self.line,
            "instruction": self.instruction,
            "prediction": self.prediction,
            "reason": self.reason,
            "actual": self.actual,
            "end_line": self.end_line,
            "keyword": self.keyword,
            "log_name": self.log_name,
            "stage_step": self.stage_step,
            "stage_total": self.stage_total,
            "total": self.total,
            "key": self.key,
        }


@dataclass(frozen=True)
class Plan:
    """The build plan of a Dockerfile: its steps in the order the builder runs them."""

    steps: tuple
    builder: str
    context: str
    target: Optional[str]
    record_path: Path
    record_found: bool
    notes: tuple = ()
    _computed: object = field(default=None, compare=False, repr=False)

    def as_json(self) -> list:
        return [s.as_json() for s in self.steps]

    def step(self, n: int) -> PlanStep:
        for s in self.steps:
            if s.step == n:
                return s
        raise KeyError(n)

    def with_actual(self, actual: Mapping[int, str]) -> "Plan":
        steps = tuple(replace(s, actual=actual.get(s.step, s.actual)) for s in self.steps)
        return replace(self, steps=steps)


@dataclass
class _Computed:
    """Intermediate results of working out a plan."""

    specs: list
    keys: list
    chains: list
    parent_keys: list
    ident: dict
    directory: Path
    reference: Optional[dict]
    bases_used: dict
    bases_current: dict


# --------------------------------------------------------------------------- helpers


def _context_dir(df: Dockerfile, options: PlanOptions) -> Path:
    if options.context is not None:
        ctx = Path(options.context)
    elif df.path and df.path not in ("-", "<stdin>") and os.path.exists(df.path):
        ctx = Path(df.path).parent
    else:
        ctx = Path.cwd()
    ctx = ctx.resolve() if ctx.exists() else ctx.absolute()
    if not ctx.exists():
        raise PlanError(f"build context {options.context or ctx}: no such directory")
    if not ctx.is_dir():
        raise PlanError(f"build context {options.context or ctx}: not a directory")
    return ctx


def _dockerfile_id(df: Dockerfile) -> str:
    if df.path and df.path not in ("-", "<stdin>") and os.path.exists(df.path):
        return str(Path(df.path).resolve())
    return df.path or "<stdin>"


def _ignore_matcher(df: Dockerfile, ctx: Path, builder: str):
    from .. import dockerignore

    if builder == "buildkit" and df.path and os.path.isfile(df.path):
        specific = Path(df.path).with_name(Path(df.path).name + ".dockerignore")
        if specific.is_file():
            return dockerignore.load(specific)
    return dockerignore.load(ctx)


class _Remote:
    """ADD <url>: the content digest, downloaded once per process."""

    _cache: dict = {}

    def __init__(self, fetch: bool):
        self.fetch = fetch

    def __call__(self, url: str):
        if not self.fetch:
            return None, "not fetched (fetching disabled)"
        if url in self._cache:
            return self._cache[url]
        result = _download_digest(url)
        self._cache[url] = result
        return result


def _download_digest(url: str, limit: int = 1 << 30, timeout: float = 10.0):
    import hashlib
    import urllib.error
    import urllib.request

    if not url.lower().startswith(("http://", "https://")):
        return None, "git sources are not fetched"
    try:
        req = urllib.request.Request(url, headers={"User-Agent": "analyze"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            h = hashlib.sha256()
            total = 0
            while True:
                chunk = resp.read(1 << 20)
                if not chunk:
                    break
                total += len(chunk)
                if total > limit:
                    return None, "larger than 1 GiB"
                h.update(chunk)
        return "sha256:" + h.hexdigest(), ""
    except urllib.error.HTTPError as exc:
        return None, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, f"cannot fetch: {reason}"


# --------------------------------------------------------------------------- compute


def _compute(df: Dockerfile, options: PlanOptions):
    from ..cachedir import cache_root
    from ..expand import ExpansionTooLarge, resolve
    from .context import BuildContext, HashCache
    from .daemon import Daemon, find_docker

    builder = options.builder
    if builder not in BUILDERS:
        raise PlanError(f"unknown builder {builder!r} (choose from {', '.join(BUILDERS)})")
    no_cache_filter = tuple(options.no_cache_filter or ())
    if no_cache_filter and builder == "classic":
        raise PlanError("--no-cache-filter needs BuildKit: the classic builder has no such option")
    ctx_dir = _context_dir(df, options)
    build_args = dict(options.build_args or {})
    try:
        res = resolve(df, build_args, options.platform, target=options.target)
    except ExpansionTooLarge as exc:
        raise PlanError(str(exc)) from None

    root = cache_root(options.cache_dir)
    directory = rec.builds_dir(root, builder)
    ident = rec.identity(_dockerfile_id(df), str(ctx_dir), options.target, builder, build_args)
    reference, own_path = rec.find_reference(directory, ident)
    notes: list[str] = []

    daemon = Daemon(find_docker(options.docker))
    recorded_bases = dict((reference or {}).get("bases", {}))
    bases_used: dict = {}
    bases_current: dict = {}
    base_notes: dict = {}

    prefetch = [s.base_image for s in res.stages if s.base_stage is None and s.base_image and not s.base_unresolved]
    if daemon.docker and prefetch:
        daemon.image_info(prefetch)

    def base_info(ref: str) -> dict:
        """``{"id", "layers", "env"}`` of an image (values None when unknown): the local
        engine's answer, else what the previous build recorded (assumed unchanged)."""
        from .keys import _normal

        norm = _normal(ref)
        if norm in bases_used:
            return bases_used[norm]
        current = daemon.image_info([ref]).get(ref) if daemon.docker else None
        bases_current[norm] = current
        recorded = recorded_bases.get(norm)
        if isinstance(recorded, str):
            recorded = {"id": recorded}
        empty = {"id": None, "layers": None, "env": None}
        if current is not None:
            if reference is not None and norm in recorded_bases and not (recorded or {}).get("id"):
                used = dict(empty)
                base_notes[norm] = "the previous build did not record its id: assumed unchanged"
            else:
                used = dict(current)
        else:
            used = dict(empty, **(recorded or {}))
            if reference is not None:
                if not daemon.reachable:
                    why = daemon.problem or "no Docker daemon"
                    base_notes[norm] = f"base image id unknown ({why}): assumed unchanged"
                else:
                    base_notes[norm] = "base image not present locally: assumed unchanged"
        bases_used[norm] = used
        return used

    hash_dir = root / "hashes"
    import hashlib

    cache_file = hash_dir / (hashlib.sha256(str(ctx_dir).encode()).hexdigest()[:32] + ".json")
    holder: dict = {}

    def context():
        if "ctx" not in holder:
            holder["ctx"] = BuildContext(ctx_dir, _ignore_matcher(df, ctx_dir, builder), HashCache(cache_file))
        return holder["ctx"]

    remote = _Remote(options.fetch)
    b = Builder(
        df, res, builder, target=options.target, context=context, base_info=base_info,
        remote_digest=remote, platform=options.platform,
    )
    try:
        specs = b.build()
    except PlanInputError as exc:
        raise PlanError(str(exc)) from None
    notes.extend(b.notes)
    if "ctx" in holder:
        holder["ctx"].save_cache()

    # remote content that could not be fetched: assume what the previous build saw
    ref_by_line: dict = {}
    for s in (reference or {}).get("steps", []):
        for c in s.get("inputs", {}).get("content", []) or []:
            if c.get("url") and c.get("digest"):
                ref_by_line[c["url"]] = c["digest"]
    for spec in specs:
        if spec.unknown:
            for c in spec.inputs.get("content", []):
                if c.get("url") and c.get("digest") is None:
                    c["digest"] = ref_by_line.get(c["url"])

    keys: list[str] = []
    chains: list[str] = []
    parent_keys: list[str] = []

    def ref_key(r) -> str:
        if r is None:
            return ""
        if isinstance(r, int):
            return chains[r]
        return r

    for spec in specs:
        own = digest(key_inputs(spec.inputs))
        parent_key = ref_key(spec.parent)
        sources = [ref_key(s) for s in spec.sources]
        if spec.link:
            key = digest({"own": own, "sources": sources, "builder": builder})
            chain = digest({"merge": parent_key, "link": key})
        else:
            key = digest({"parent": parent_key, "own": own, "sources": sources, "builder": builder})
            chain = key
        keys.append(key)
        chains.append(chain)
        parent_keys.append(parent_key)

    computed = _Computed(specs, keys, chains, parent_keys, ident, directory, reference, bases_used, bases_current)
    return computed, res, daemon, notes, base_notes, own_path, str(ctx_dir)


# --------------------------------------------------------------------------- plan


def plan(df: Dockerfile, options: Optional[PlanOptions] = None) -> Plan:
    options = options or PlanOptions()
    computed, res, daemon, notes, base_notes, own_path, ctx = _compute(df, options)
    specs: list[StepSpec] = computed.specs
    keys = computed.keys
    reference = computed.reference

    known: dict[str, Optional[str]] = {}
    for key, image_id in rec.history_keys(reference):
        known.setdefault(key, image_id)
    for key, info in rec.pooled_keys(computed.directory).items():
        if key not in known or (known[key] is None and info.get("image_id")):
            known[key] = info.get("image_id")

    pruned: dict[str, str] = {}
    if options.builder == "classic" and daemon.docker:
        wanted = {k: known[k] for k in keys if k in known and known[k]}
        if wanted:
            found = daemon.image_ids(list(wanted.values()))
            if daemon.reachable:
                for k, image_id in wanted.items():
                    if found.get(image_id) is None:
                        pruned[k] = image_id
    if daemon.docker and daemon.reachable is False and options.builder == "classic" and reference is not None:
        notes.append(f"Docker daemon not reachable ({daemon.problem}): cannot check that cached images still exist")

    filters = {f.lower() for f in options.no_cache_filter or ()}
    if filters:
        names = {(s.name or "") for s in df.stages}
        for f in sorted(filters):
            if f not in names:
                notes.append(f"--no-cache-filter {f}: no stage has that name")

    ref_steps = list((reference or {}).get("steps", []))
    status: list[str] = []
    cause: list[int] = []  # step number of the first miss (or unknown) behind each step
    broken: list[int] = []  # step number of the first miss that breaks the chain through a step
    reasons: list[str] = []

    def index_of(r) -> Optional[int]:
        return r if isinstance(r, int) else None

    def settle(i: int, state: str, why: str, c: int) -> None:
        status.append(state)
        reasons.append(why)
        cause.append(c)
        spec = specs[i]
        parent_i = index_of(spec.parent)
        if state == "miss":
            broken.append(c)
        elif spec.link and parent_i is not None:
            broken.append(broken[parent_i])
        else:
            broken.append(0)

    for i, spec in enumerate(specs):
        n = i + 1
        key = keys[i]
        parent_i = index_of(spec.parent)
        sources = [d for d in (index_of(s) for s in spec.sources) if d is not None]
        upstream = ([parent_i] if parent_i is not None and not spec.link else []) + sources
        if spec.meta:
            settle(i, "hit", "no build step: the value is only used by FROM lines", 0)
            continue
        stage_name = df.stages[spec.stage_index].name if spec.stage_index >= 0 else None
        filtered = bool(filters and stage_name and stage_name in filters)
        # measured on Docker 20.10 (BuildKit 0.8): --no-cache marks RUN, COPY and ADD only;
        # the FROM image and WORKDIR still come from the cache
        exempt = options.builder == "buildkit" and spec.keyword in ("FROM", "WORKDIR")
        if options.no_cache and not exempt:
            settle(i, "miss", "--no-cache", n)
            continue
        if filtered and not exempt:
            settle(i, "miss", f"--no-cache-filter {spec.stage}", n)
            continue
        ignored_note = ""
        if (options.no_cache or filtered) and exempt:
            ignored_note = "; BuildKit 0.8 takes FROM and WORKDIR from the cache even with " + (
                "--no-cache" if options.no_cache else "--no-cache-filter"
            )
        broken_up = [u for u in upstream if broken[u]]
        if spec.link and parent_i is not None and broken[parent_i] == 0 and status[parent_i] == "unknown":
            up_unknown = [parent_i]
        else:
            up_unknown = [u for u in upstream if status[u] == "unknown"]
        if key in known and key not in pruned and not broken_up:
            if spec.unknown:
                settle(i, "unknown", spec.unknown, n)
            elif up_unknown:
                c = cause[up_unknown[0]]
                origin = " (remote content)" if specs[c - 1].unknown else ""
                settle(i, "unknown", f"unknown: depends on step {c}{origin}", c)
            else:
                settle(i, "hit", _hit_reason(spec, base_notes, reference, key) + ignored_note, 0)
            continue
        # a miss: say why
        if reference is None and not (parent_i is not None and status[parent_i] == "hit" and not broken[parent_i]):
            settle(i, "miss", FIRST_BUILD, n)
            continue
        if key in pruned:
            settle(i, "miss", f"the cached image {pruned[key][:19]} was removed (pruned)", n)
            continue
        if parent_i is not None and not spec.link and broken[parent_i]:
            c = broken[parent_i]
            settle(i, "miss", f"an earlier step missed: step {c}", c)
            continue
        counterpart = _counterpart(spec, computed.parent_keys[i], ref_steps, i, specs)
        why = _diff(spec, counterpart) if counterpart is not None else None
        if why:
            settle(i, "miss", why, n)
            continue
        if up_unknown and not broken_up:
            # its own inputs did not change; whether it hits depends on a step nobody can predict
            c = up_unknown[0] + 1
            root = cause[up_unknown[0]]
            origin = " (remote content)" if root and specs[root - 1].unknown else ""
            settle(i, "unknown", f"unknown: depends on step {c}{origin}", c)
            continue
        if broken_up:
            c = broken[broken_up[0]]
            label = spec.source_labels[0] if spec.source_labels else "an earlier stage"
            why = f"{label} is rebuilt (step {c} missed)"
            if spec.keyword in ("COPY", "ADD"):
                # the copy's key is the content the rebuilt stage will write, which no one
                # can know before it runs: identical files hit, others miss
                settle(i, "unknown", f"unknown: {why}; the copy hits only if its files come out identical", c)
                continue
            settle(i, "miss", why, c)
            continue
        if reference is None:
            why = FIRST_BUILD
        elif counterpart is None:
            why = "new step: not in the previous build"
        else:
            why = "not in the build cache (built with other inputs since, or never built)"
        settle(i, "miss", why, n)

    steps = _steps(df, specs, keys, status, reasons, options.builder)
    for spec in specs:
        for n in spec.notes:
            notes.append(f"line {spec.line}: {n}")
    return Plan(
        steps=steps,
        builder=options.builder,
        context=ctx,
        target=options.target,
        record_path=own_path,
        record_found=reference is not None,
        notes=tuple(dict.fromkeys(notes)),
        _computed=computed,
    )


def _hit_reason(spec: StepSpec, base_notes: dict, reference, key) -> str:
    reason = "unchanged"
    if spec.keyword == "FROM" and spec.base_ref:
        from .keys import _normal

        extra = base_notes.get(_normal(spec.base_ref))
        if extra:
            reason += "; " + extra
    if spec.link:
        reason += " (COPY --link does not depend on the steps above)"
    if reference is not None:
        own = {s.get("key") for s in reference.get("steps", [])}
        if key not in own:
            reason += "; cached by an earlier build"
    else:
        reason += "; cached by another build"
    return reason


def _steps(df, specs, keys, status, reasons, builder) -> tuple:
    total = len(specs)
    single = len(df.stages) == 1
    out = []
    for i, spec in enumerate(specs):
        n = i + 1
        if builder == "classic":
            log_name = f"Step {n}/{total} : {spec.instruction}"
        else:
            width = int(1 + math.log10(spec.stage_total)) if spec.stage_total else 1
            label = "" if single else spec.stage + " "
            log_name = f"[{label}{spec.stage_step:>{width}}/{spec.stage_total}] {spec.display}"
        out.append(
            PlanStep(
                step=n,
                total=total,
                stage=spec.stage,
                stage_index=spec.stage_index,
                stage_step=spec.stage_step,
                stage_total=spec.stage_total,
                line=spec.line,
                end_line=spec.end_line,
                keyword=spec.keyword,
                instruction=spec.instruction,
                log_name=log_name,
                prediction=status[i],
                reason=reasons[i],
                key=keys[i],
            )
        )
    return tuple(out)


# --------------------------------------------------------------------------- reasons


def _counterpart(spec: StepSpec, parent_key: str, ref_steps: list, i: int, specs: list) -> Optional[dict]:
    """The step of the previous build this one replaces: a child of the same parent,
    preferably with the same instruction; else the step at the same place in the stage."""
    same_parent = [s for s in ref_steps if s.get("parent") == parent_key and not s.get("meta")]
    if spec.link:
        same_parent = [s for s in ref_steps if s.get("stage") == spec.stage and s.get("keyword") == spec.keyword]
    if same_parent:
        return _best(spec, same_parent)
    position = sum(1 for s in specs[:i] if s.stage == spec.stage)
    in_stage = [s for s in ref_steps if s.get("stage") == spec.stage]
    if position < len(in_stage):
        return in_stage[position]
    return None


def _best(spec: StepSpec, candidates: list) -> dict:
    def score(s):
        return (
            s.get("keyword") == spec.keyword,
            s.get("instruction") == spec.instruction,
            s.get("line") == spec.line,
        )

    return max(candidates, key=score)


def _diff(spec: StepSpec, old: dict) -> Optional[str]:
    new_in = spec.inputs
    old_in = old.get("inputs", {})
    kw = spec.keyword
    if old.get("keyword") != kw or old_in.get("kw") != new_in.get("kw"):
        return f"instruction changed (the previous build had `{old.get('instruction', '?')}` here)"
    if kw == "FROM":
        old_image = old_in.get("image") or old_in.get("_image")
        if old_image != (new_in.get("image") or new_in.get("_image")) or old_in.get("stage") != new_in.get("stage"):
            return f"base image changed (was {old_image or 'stage ' + str(old_in.get('stage'))})"
        if old_in.get("id") != new_in.get("id") or old_in.get("layers") != new_in.get("layers"):
            return "base image digest changed"
        if old_in.get("platform") != new_in.get("platform"):
            return "platform changed"
        return None
    if kw == "RUN":
        return _diff_run(new_in, old_in)
    if kw in ("COPY", "ADD"):
        return _diff_copy(kw, new_in, old_in, spec)
    if kw == "WORKDIR" and "path" in new_in:
        if old_in.get("path") != new_in.get("path"):
            return "WORKDIR changed"
        if old_in.get("user") != new_in.get("user"):
            return "USER changed above"
        return None
    if old_in != new_in:
        if kw == "ARG":
            return "ARG changed"
        return f"{kw} changed"
    return None


def _changed_names(old: dict, new: dict) -> list:
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def _diff_run(new_in: dict, old_in: dict) -> Optional[str]:
    if old_in.get("cmd") != new_in.get("cmd") or old_in.get("json") != new_in.get("json") or old_in.get("heredocs") != new_in.get("heredocs"):
        a = " ".join(" ".join(old_in.get("cmd") or []).split())
        b = " ".join(" ".join(new_in.get("cmd") or []).split())
        if a == b and old_in.get("json") == new_in.get("json") and old_in.get("heredocs") == new_in.get("heredocs"):
            return "RUN command changed (whitespace only, which still counts)"
        return "RUN command changed"
    if old_in.get("shell") != new_in.get("shell"):
        return "SHELL changed above"
    args_old, args_new = old_in.get("args") or {}, new_in.get("args") or {}
    if args_old != args_new:
        names = _changed_names(args_old, args_new)
        added = [n for n in names if n not in args_old]
        removed = [n for n in names if n not in args_new]
        changed = [n for n in names if n in args_old and n in args_new]
        parts = []
        if changed:
            parts.append(f"build arg {', '.join(changed)} changed")
        if added:
            parts.append(f"ARG {', '.join(added)} declared above")
        if removed:
            parts.append(f"ARG {', '.join(removed)} no longer in effect")
        return "; ".join(parts)
    if old_in.get("arg_prefix") != new_in.get("arg_prefix"):
        if new_in.get("arg_prefix"):
            names = ", ".join(new_in.get("_proxies") or ["a proxy arg"])
            return f"build arg {names} passed: the classic builder then keys the RUN as '|0 <command>'"
        return "no proxy build arg passed now: the classic builder keys the RUN without its '|0' prefix"
    if old_in.get("base_env") != new_in.get("base_env"):
        return "ENV of the base image changed"
    if (old_in.get("env") or {}) != (new_in.get("env") or {}):
        names = _changed_names(old_in.get("env") or {}, new_in.get("env") or {})
        return f"ENV changed above ({', '.join(names[:5])})"
    if old_in.get("user") != new_in.get("user"):
        return "USER changed above"
    if old_in.get("workdir") != new_in.get("workdir"):
        return "WORKDIR changed above"
    old_m = old_in.get("mounts") or []
    new_m = new_in.get("mounts") or []
    strip = lambda ms: [{k: v for k, v in m.items() if k != "content"} for m in ms]  # noqa: E731
    if strip(old_m) != strip(new_m):
        return "RUN --mount options changed"
    if old_m != new_m:
        why = _diff_content(old_in.get("content") or [], new_in.get("content") or [], "bind mount")
        return why or "bind-mounted content changed"
    if old_in.get("network") != new_in.get("network") or old_in.get("security") != new_in.get("security"):
        return "RUN --network/--security changed"
    return None


def _diff_copy(kw: str, new_in: dict, old_in: dict, spec: StepSpec) -> Optional[str]:
    for flag in ("srcs", "dest", "from"):
        if old_in.get(flag) != new_in.get(flag):
            return f"{kw} sources or destination changed" if flag != "from" else f"{kw} --from changed"
    for flag in ("chown", "chmod", "link", "parents", "exclude", "checksum", "keep-git-dir"):
        if old_in.get(flag) != new_in.get(flag):
            return f"{kw} --{flag} changed"
    if old_in.get("workdir") != new_in.get("workdir"):
        return "WORKDIR changed above"
    if old_in.get("from_id") != new_in.get("from_id"):
        return f"image {new_in.get('from')} changed"
    return _diff_content(old_in.get("content") or [], new_in.get("content") or [], kw)


def _describe(path: str, old: Optional[str], new: Optional[str]) -> str:
    if old is None:
        return f"new file {path}"
    if new is None:
        return f"{path} removed"
    if old[0] != new[0]:
        return f"{path} changed type"
    old_mode, _, old_hash = old[1:].partition(":")
    new_mode, _, new_hash = new[1:].partition(":")
    if old_hash != new_hash:
        if new[0] == "l":
            return f"symlink target of {path} changed"
        return f"{path}: content changed"
    if old_mode != new_mode:
        return f"mode of {path} changed"
    return f"{path} changed"


def _diff_content(old: list, new: list, kw: str) -> Optional[str]:
    for i, c in enumerate(new):
        o = old[i] if i < len(old) else {}
        if c.get("digest") == o.get("digest"):
            continue
        if c.get("url"):
            return f"ADD {c['url']}: remote content changed"
        files_old = o.get("files") or {}
        files_new = c.get("files") or {}
        if c.get("missing") and not o.get("missing"):
            return f"{kw} {c.get('source')}: no longer in the build context"
        changes = [_describe(p, files_old.get(p), files_new.get(p)) for p in _changed_names(files_old, files_new)]
        if not changes:
            return f"{kw} {c.get('source')}: content changed"
        src = c.get("source")
        single = len(files_new) == 1 and src in files_new
        if len(changes) == 1:
            text = changes[0]
            if text.startswith("mode of") or text.startswith("symlink target"):
                return text
            if single and text == f"{src}: content changed":
                return f"{kw} {src}: content changed"
            return f"{kw} {src}: {text}" if not text.startswith(f"{src}:") else f"{kw} {text}"
        more = f" (+{len(changes) - 3} more)" if len(changes) > 3 else ""
        return f"{kw} {src}: " + "; ".join(changes[:3]) + more
    return None


# --------------------------------------------------------------------------- record


def record(
    df: Dockerfile,
    options: Optional[PlanOptions] = None,
    *,
    plan: Optional[Plan] = None,  # noqa: F811 - the plan made just before the build
    image_ids: Optional[Mapping[int, str]] = None,
    base_ids: Optional[Mapping[str, str]] = None,
) -> Optional[Path]:
    options = options or PlanOptions()
    computed = plan._computed if plan is not None and plan._computed is not None else None
    if computed is None:
        computed = _compute(df, options)[0]
    image_ids = dict(image_ids or {})
    from .keys import _normal

    bases = {}
    for norm, used in computed.bases_used.items():
        current = computed.bases_current.get(norm)
        bases[norm] = current if current is not None else used
    for ref, image_id in (base_ids or {}).items():
        known = bases.get(_normal(ref)) or {"layers": None, "env": None}
        bases[_normal(ref)] = dict(known, id=image_id) if known.get("id") == image_id else {"id": image_id, "layers": None, "env": None}
    steps = []
    for i, spec in enumerate(computed.specs):
        steps.append(
            {
                "step": i + 1,
                "stage": spec.stage,
                "stage_index": spec.stage_index,
                "line": spec.line,
                "keyword": spec.keyword,
                "instruction": spec.instruction,
                "key": computed.keys[i] if not spec.meta else "",
                "parent": computed.parent_keys[i],
                "inputs": spec.inputs,
                "meta": spec.meta,
                "image_id": image_ids.get(i + 1),
            }
        )
    return rec.save(computed.directory, computed.ident, steps, bases, computed.reference)

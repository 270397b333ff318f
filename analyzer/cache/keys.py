"""Which instructions are build steps, and what feeds each step's cache key, per builder.

Classic builder (Docker 20.10, ``DOCKER_BUILDKIT=0``): every instruction is a step, ARGs
before the first FROM included (printed, nothing cached). A step is found in the cache by
looking for a child of the parent image whose stored config matches, so a step's key is
its parent's key plus its own config: for RUN the command, the SHELL, and the declared
build args in effect that no ENV overrides (``|1 NAME=value`` prefix; proxy args only when
declared); for COPY/ADD the content fingerprint of what the sources select; for every
other instruction the instruction text after variable expansion. Every stage up to the
target is built.

BuildKit: only FROM <image>, RUN, COPY, ADD and WORKDIR are steps; ENV, ARG, LABEL, USER,
CMD, ... only change the image config, or what later steps see. A FROM is keyed on the
image's layers (not its name or id). A RUN's key holds its command, the shell, all ENV
values (the base image's included), the stage's declared ARG values, the user, the working
directory, its mounts (cache and secret mounts by their spec only, bind mounts of the
context by content) and network/security modes; proxy args are not in it. ``COPY --link``
does not depend on the steps above it. Only the stages the target needs are built.

Measured on Docker 20.10 by the real-build scenarios (tests/test_scenarios.py): the classic
builder stores a RUN as ``|0 CMD`` when only a proxy arg is passed; BuildKit 0.8 keys FROM
on layers; ``--no-cache`` leaves BuildKit's FROM and WORKDIR cached.
"""

from __future__ import annotations

import csv
import hashlib
import json
import posixpath
import re
from dataclasses import dataclass, field
from typing import Callable, Optional, Union

from ..expand import ExpansionError, Resolution
from ..images import InvalidReference, is_scratch, parse_ref
from ..model import Dockerfile, Instruction, Stage

DEFAULT_SHELL = ["/bin/sh", "-c"]
_CLASSIC_PROXIES = frozenset(
    n for p in ("HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY") for n in (p, p.lower())
)
BUILDKIT_STEPS = ("RUN", "COPY", "ADD", "WORKDIR")
_URL = re.compile(r"^(https?://|git@|git://)", re.I)
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


class PlanInputError(Exception):
    """A Dockerfile the builder would refuse for this plan (unknown target, ...)."""


ParentRef = Union[int, str, None]  # index of another step, a literal root key, or nothing


@dataclass
class StepSpec:
    """What determines one step's cache key."""

    builder: str
    stage_index: int
    stage: str  # display name ("" for ARGs before the first FROM)
    keyword: str
    line: int
    end_line: int
    instruction: str  # as the builder prints it
    display: str  # BuildKit vertex text (variables substituted), else == instruction
    inputs: dict  # this step's own key inputs (content fingerprints included)
    parent: ParentRef = None
    sources: tuple = ()  # other steps (or literal keys) whose result feeds this step
    source_labels: tuple = ()  # how to name each source in a reason
    link: bool = False  # COPY --link: the copy itself does not depend on ``parent``
    meta: bool = False  # classic ARG before FROM: printed as a step, nothing to cache
    unknown: str = ""  # an input that cannot be known now (remote content)
    base_ref: str = ""  # FROM <image>: the reference after expansion
    stage_step: int = 0
    stage_total: int = 0
    notes: list = field(default_factory=list)


def digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def key_inputs(inputs: dict) -> dict:
    """The inputs as they enter the key: content maps replaced by their digest, informational
    entries (names starting with ``_``) left out."""
    out = {k: v for k, v in inputs.items() if not k.startswith("_")}  # "_x": shown, not keyed
    if "content" in out:
        out["content"] = [{k: v for k, v in c.items() if k != "files"} for c in out["content"]]
    return out


def stage_label(df: Dockerfile, stage: Stage) -> str:
    return stage.name or f"stage-{stage.index}"


@dataclass
class _StageState:
    """A stage's state while its steps' keys are worked out."""

    workdir: str = "/"
    user: str = ""
    shell: list = field(default_factory=lambda: list(DEFAULT_SHELL))
    declared: list = field(default_factory=list)  # ARG names declared in this stage, in order
    base_env: Optional[str] = None  # digest of the base image's ENV (BuildKit hands it to RUN)


class Builder:
    """Turns a parsed Dockerfile into step specs for one builder."""

    def __init__(
        self,
        df: Dockerfile,
        res: Resolution,
        builder: str,
        *,
        target: Optional[str],
        context,  # callable -> BuildContext (opened lazily)
        base_info: Callable[[str], dict],
        remote_digest: Callable[[str], tuple[Optional[str], str]],
        platform: str,
    ):
        self.df = df
        self.res = res
        self.builder = builder
        self.classic = builder == "classic"
        self.target = target
        self.context = context
        self.base_info = base_info
        self.remote_digest = remote_digest
        self.platform = platform
        self.specs: list[StepSpec] = []
        self.stage_final: dict[int, ParentRef] = {}
        self.stage_states: dict[int, _StageState] = {}
        self.notes: list[str] = []

    # ----------------------------------------------------------------- stages

    def target_index(self) -> int:
        stages = self.df.stages
        if not stages:
            raise PlanInputError("the Dockerfile has no FROM: nothing to build")
        if not self.target:
            return len(stages) - 1
        found = self.df.stage_by_name(self.target)
        if found is None:
            raise PlanInputError(f"target stage {self.target!r} could not be found")
        return found.index

    def stage_ref(self, word: str, before: int) -> Optional[int]:
        """The stage a ``--from``/``from=`` value names (by name, or by index for COPY)."""
        found = self.df.stage_by_name(word)
        if found is not None and found.index < before:
            return found.index
        if word.isdigit() and int(word) < before:
            return int(word)
        return None

    def deps(self, stage: Stage) -> set[int]:
        out = set()
        rs = self.res.stages[stage.index] if stage.index < len(self.res.stages) else None
        if rs is not None and rs.base_stage is not None:
            out.add(rs.base_stage)
        for ins in stage.instructions:
            if ins.keyword in ("COPY", "ADD"):
                src = ins.flag("from")
                if src:
                    idx = self.stage_ref(self.expand(ins, src), stage.index)
                    if idx is not None:
                        out.add(idx)
            if ins.keyword == "RUN":
                for raw in ins.flag_values("mount"):
                    src = parse_mount(self.expand(ins, raw)).get("from")
                    if src:
                        idx = self.stage_ref(src, stage.index)
                        if idx is not None:
                            out.add(idx)
        return out

    def built_stages(self) -> list[int]:
        t = self.target_index()
        if self.classic:
            return list(range(t + 1))
        seen: set[int] = set()
        todo = [t]
        while todo:
            i = todo.pop()
            if i in seen:
                continue
            seen.add(i)
            todo.extend(self.deps(self.df.stages[i]))
        return sorted(seen)

    # -------------------------------------------------------------- expansion

    def expand(self, ins: Instruction, word: str) -> str:
        try:
            return self.res.expand_in(ins, word).value
        except ExpansionError:
            return word

    def image_key(self, ref: str) -> Optional[str]:
        info = self.base_info(ref)
        if self.classic:
            return info.get("id")
        return info.get("layers") or info.get("id")

    def scope(self, ins: Instruction):
        return self.res.env_before(ins)

    # ------------------------------------------------------------------ build

    def build(self) -> list[StepSpec]:
        stages = self.built_stages()
        if self.classic:
            for ins in self.df.global_args:
                if ins.keyword != "ARG":
                    continue
                self.specs.append(
                    StepSpec(
                        self.builder, -1, "", "ARG", ins.start_line, ins.end_line, _printed(ins), _printed(ins),
                        {"kw": "ARG", "text": _printed(ins)}, meta=True,
                    )
                )
        for i in stages:
            self.stage(self.df.stages[i])
        if not self.classic:
            counts: dict[int, int] = {}
            for s in self.specs:
                counts[s.stage_index] = counts.get(s.stage_index, 0) + 1
            seen: dict[int, int] = {}
            for s in self.specs:
                seen[s.stage_index] = seen.get(s.stage_index, 0) + 1
                s.stage_step = seen[s.stage_index]
                s.stage_total = counts[s.stage_index]
        from ..report.redact import Redactor

        # what plans show and build records store holds no secret value; inputs keep a
        # fingerprint of it, so a changed secret still changes the key
        redactor = Redactor.for_build(self.res)
        for s in self.specs:
            s.instruction, s.display = redactor.text(s.instruction), redactor.text(s.display)
            s.inputs = redactor.inputs(s.inputs)
            s.notes = [redactor.text(n) for n in s.notes]
        return self.specs

    def add(self, spec: StepSpec) -> int:
        self.specs.append(spec)
        return len(self.specs) - 1

    def stage(self, stage: Stage) -> None:
        rs = self.res.stages[stage.index]
        label = stage_label(self.df, stage)
        fi = stage.from_instruction
        state = _StageState()
        parent: ParentRef
        if rs.base_stage is not None:
            inherited = self.stage_states.get(rs.base_stage)
            if inherited is not None:
                state = _StageState(inherited.workdir, inherited.user, list(inherited.shell), [], inherited.base_env)
            parent = self.stage_final.get(rs.base_stage)
            if self.classic:
                # FROM <stage> is a step whose image is that stage's last image
                parent = self.add(
                    StepSpec(
                        self.builder, stage.index, label, "FROM", fi.start_line, fi.end_line, _printed(fi), _printed(fi),
                        {"kw": "FROM", "stage": rs.base_stage}, parent=None, sources=(parent,),
                        source_labels=(f"stage {self.df.stages[rs.base_stage].name or rs.base_stage}",),
                    )
                )
        else:
            ref = rs.base_image or stage.base
            if is_scratch(ref):
                root = digest({"scratch": True, "platform": rs.platform or self.platform})
                if self.classic:
                    parent = self.add(
                        StepSpec(
                            self.builder, stage.index, label, "FROM", fi.start_line, fi.end_line, _printed(fi), _printed(fi),
                            {"kw": "FROM", "image": "scratch"}, parent=None, base_ref="scratch",
                        )
                    )
                else:
                    parent = root
            else:
                info = self.base_info(ref)
                inputs = {"kw": "FROM", "image": _normal(ref), "platform": rs.platform or ""}
                if self.classic:
                    inputs["id"] = info.get("id")
                else:
                    # measured on Docker 20.10: BuildKit keys an image source on its layers,
                    # not on its name or id: another name or a new id over the same layers
                    # (a relabelled or re-tagged base) still hits
                    layers = info.get("layers") or info.get("id")
                    if layers:
                        inputs["_image"] = inputs.pop("image")
                    inputs["layers"] = layers
                    state.base_env = info.get("env")
                display = "FROM " + _buildkit_name(ref)
                parent = self.add(
                    StepSpec(
                        self.builder, stage.index, label, "FROM", fi.start_line, fi.end_line, _printed(fi),
                        _printed(fi) if self.classic else display, inputs, parent=None, base_ref=ref,
                    )
                )
                if rs.base_unresolved:
                    self.specs[parent].notes.append(f"base {stage.base!r} uses a variable no ARG defines")
        for ins in stage.instructions:
            parent = self.instruction(stage, label, ins, state, parent)
        self.stage_final[stage.index] = parent
        self.stage_states[stage.index] = state

    # ----------------------------------------------------------- instructions

    def instruction(self, stage: Stage, label: str, ins: Instruction, state: _StageState, parent: ParentRef) -> ParentRef:
        kw = ins.keyword
        scope = self.scope(ins)
        if kw == "ARG":
            for token in ins.args:
                name = token.split("=", 1)[0]
                if name and name not in state.declared:
                    state.declared.append(name)
        elif kw == "WORKDIR" and ins.args:
            path = self.expand(ins, ins.args[0])
            state.workdir = path if path.startswith("/") else posixpath.join(state.workdir, path)
            state.workdir = posixpath.normpath(state.workdir) if state.workdir != "/" else "/"
        elif kw == "USER" and ins.args:
            state.user = self.expand(ins, ins.args[0])
        elif kw == "SHELL" and ins.json:
            state.shell = list(ins.args)

        if self.classic:
            return self.add(self.classic_step(stage, label, ins, state, scope, parent))
        if kw not in BUILDKIT_STEPS:
            return parent
        return self.buildkit_step(stage, label, ins, state, scope, parent)

    def _spec(self, stage, label, ins, inputs, parent, display=None) -> StepSpec:
        text = _printed(ins)
        return StepSpec(
            self.builder, stage.index, label, ins.keyword, ins.start_line, ins.end_line, text,
            display if display is not None else text, inputs, parent=parent,
        )

    def classic_step(self, stage, label, ins, state, scope, parent) -> StepSpec:
        kw = ins.keyword
        if kw == "RUN":
            inputs = {"kw": "RUN", **self.run_command(ins, state), "args": self.run_args(state, scope, classic=True)}
            proxies = sorted(k for k in scope.proxy_vars if k in _CLASSIC_PROXIES and k not in scope.env_vars)
            if proxies and not inputs["args"]:
                # Docker 20.10 prefixes the stored command with "|<n> <args>" whenever any
                # build arg is allowed, proxy args included, though it counts only the others:
                # a proxy arg alone turns the key from "CMD" into "|0 CMD"
                inputs["arg_prefix"] = "|0"
                inputs["_proxies"] = proxies
            if ins.flags:
                self.notes.append(
                    f"line {ins.start_line}: the classic builder rejects RUN flags ({' '.join(ins.flags)}): they need BuildKit"
                )
            return self._spec(stage, label, ins, inputs, parent)
        if kw in ("COPY", "ADD"):
            spec = self._spec(stage, label, ins, {}, parent)
            self.copy_inputs(spec, stage, ins, state, classic=True)
            return spec
        return self._spec(stage, label, ins, {"kw": kw, "text": self.expanded_text(ins)}, parent)

    def buildkit_step(self, stage, label, ins, state, scope, parent) -> ParentRef:
        kw = ins.keyword
        display = _substitute(_printed(ins), scope.values if kw == "RUN" else scope.env_vars)
        if kw == "WORKDIR":
            inputs = {"kw": "WORKDIR", "path": state.workdir, "user": state.user}
            return self.add(self._spec(stage, label, ins, inputs, parent, display))
        if kw == "RUN":
            inputs = {
                "kw": "RUN",
                **self.run_command(ins, state),
                "env": dict(sorted(scope.env_vars.items())),
                "base_env": state.base_env,
                "args": self.run_args(state, scope, classic=False),
                "user": state.user,
                "workdir": state.workdir,
                "network": self.expand(ins, ins.flag("network") or ""),
                "security": self.expand(ins, ins.flag("security") or ""),
            }
            spec = self._spec(stage, label, ins, inputs, parent, display)
            self.mounts(spec, stage, ins)
            return self.add(spec)
        spec = self._spec(stage, label, ins, {}, parent, display)
        self.copy_inputs(spec, stage, ins, state, classic=False)
        return self.add(spec)

    # -------------------------------------------------------------- RUN parts

    def run_command(self, ins: Instruction, state: _StageState) -> dict:
        out: dict = {"cmd": list(ins.args), "json": ins.json}
        if not ins.json:
            out["shell"] = list(state.shell)
        if ins.heredocs:
            out["heredocs"] = [[h.name, h.body, h.expand, h.chomp, h.fd] for h in ins.heredocs]
        return out

    def run_args(self, state: _StageState, scope, classic: bool) -> dict:
        args = {}
        for name in state.declared:
            if classic:
                # classic: only args with a value, and an ENV of the same name hides the arg
                if name in scope.arg_vars and name not in scope.env_vars:
                    args[name] = scope.arg_vars[name]
            else:
                args[name] = scope.arg_vars.get(name, "")
        return dict(sorted(args.items()))

    def mounts(self, spec: StepSpec, stage: Stage, ins: Instruction) -> None:
        mounts = []
        sources = list(spec.sources)
        labels = list(spec.source_labels)
        for raw in ins.flag_values("mount"):
            m = parse_mount(self.expand(ins, raw))
            kind = m.get("type", "bind")
            target = m.get("target") or m.get("dst") or m.get("destination") or ""
            item = {"type": kind, "target": target}
            for k in ("id", "sharing", "mode", "uid", "gid", "required", "size", "env"):
                if k in m:
                    item[k] = m[k]
            if any(k in m for k in ("ro", "readonly")):
                item["readonly"] = True
            if any(k in m for k in ("rw", "readwrite")):
                item["readwrite"] = True
            if kind == "cache" and "id" not in item:
                item["id"] = target
            if kind in ("bind", "cache"):
                src = m.get("from", "")
                source = m.get("source") or m.get("src") or ""
                item["from"] = src
                item["source"] = source
                if src:
                    idx = self.stage_ref(src, stage.index)
                    if idx is not None:
                        sources.append(self.stage_final.get(idx))
                        labels.append(f"stage {self.df.stages[idx].name or idx}")
                    else:
                        item["from_id"] = self.image_key(src)
                elif kind == "bind":
                    ctx = self.context()
                    sel = ctx.select(source or ".")
                    item["content"] = sel.digest
                    spec.inputs.setdefault("content", []).append(
                        {"source": sel.source, "digest": sel.digest, "files": sel.files, "missing": sel.missing, "mount": True}
                    )
            mounts.append(item)
        spec.inputs["mounts"] = mounts
        spec.sources = tuple(sources)
        spec.source_labels = tuple(labels)

    # ------------------------------------------------------------- COPY / ADD

    def copy_inputs(self, spec: StepSpec, stage: Stage, ins: Instruction, state: _StageState, classic: bool) -> None:
        kw = ins.keyword
        words = [self.expand(ins, w) if not w.startswith("<<") else w for w in ins.args]
        if len(words) < 2:
            spec.inputs = {"kw": kw, "text": _printed(ins)}
            return
        srcs, dest = words[:-1], words[-1]
        if not classic and not dest.startswith("/"):
            trailing = dest.endswith("/") or dest in (".", "")
            dest = posixpath.join(state.workdir, dest)
            dest = posixpath.normpath(dest) + ("/" if trailing and dest != "/" else "")
        inputs: dict = {"kw": kw, "srcs": srcs, "dest": dest}
        for flag in ("chown", "chmod", "checksum", "keep-git-dir", "parents", "exclude"):
            values = ins.flag_values(flag)
            if values:
                inputs[flag] = [self.expand(ins, v) for v in values]
        link = ins.flag("link")
        spec.link = (not classic) and link is not None and link.lower() not in ("false", "0")
        if spec.link:
            inputs["link"] = True
        if not classic:
            inputs["workdir"] = state.workdir
        content = []
        src_from = ins.flag("from")
        from_stage = None
        if src_from:
            src_from = self.expand(ins, src_from)
            from_stage = self.stage_ref(src_from, stage.index)
            inputs["from"] = src_from
            if from_stage is not None:
                spec.sources = spec.sources + (self.stage_final.get(from_stage),)
                spec.source_labels = spec.source_labels + (f"stage {self.df.stages[from_stage].name or from_stage}",)
                inputs["from_stage"] = from_stage
            else:
                inputs["from_id"] = self.image_key(src_from)
        heredocs = list(ins.heredocs)
        for src in srcs:
            if src.startswith("<<") and heredocs:
                h = heredocs.pop(0)
                body = h.body
                if h.expand:
                    body = self.expand(ins, body) if "$" in body else body
                content.append({"source": src, "digest": hashlib.sha256(body.encode()).hexdigest()})
            elif src_from:
                continue  # from another stage or image: that source's identity is in the key
            elif kw == "ADD" and _URL.match(src):
                checksum = ins.flag("checksum")
                if checksum:
                    content.append({"url": src, "digest": self.expand(ins, checksum)})
                    continue
                found, problem = self.remote_digest(src)
                content.append({"url": src, "digest": found})
                if found is None:
                    spec.unknown = f"unknown: remote content ({src}: {problem})"
            else:
                sel = self.context().select(src)
                entry = {"source": sel.source, "digest": sel.digest, "files": sel.files}
                if sel.missing:
                    entry["missing"] = True
                    spec.notes.append(f"{kw} {src}: not found in the build context (the build would fail)")
                unreadable = sorted(p for p, fp in sel.files.items() if ":unreadable:" in fp)
                if unreadable:
                    reason = sel.files[unreadable[0]].split(":unreadable:", 1)[1]
                    more = f" and {len(unreadable) - 1} more" if len(unreadable) > 1 else ""
                    spec.notes.append(f"{kw} {src}: cannot read {unreadable[0]}{more} ({reason}): the build would fail")
                unlistable = self.context().unlistable
                closed = sorted(p for p in sel.files if p in unlistable) if unlistable else []
                if closed:
                    more = f" and {len(closed) - 1} more" if len(closed) > 1 else ""
                    spec.notes.append(f"{kw} {src}: cannot list {closed[0]}/{more} ({unlistable[closed[0]]}): the build would fail")
                content.append(entry)
        inputs["content"] = content
        spec.inputs = inputs

    # ---------------------------------------------------------- other steps

    def expanded_text(self, ins: Instruction) -> str:
        """The instruction as the classic builder commits it: variables expanded where
        Docker expands them."""
        kw = ins.keyword
        if kw in ("ENV", "LABEL"):
            pairs = [(ins.args[i], ins.args[i + 1] if i + 1 < len(ins.args) else "") for i in range(0, len(ins.args), 2)]
            return kw + " " + " ".join(f"{self.expand(ins, k)}={self.expand(ins, v)}" for k, v in pairs)
        if kw == "ARG":
            out = []
            for token in ins.args:
                name, sep, value = token.partition("=")
                out.append(name + ("=" + self.expand(ins, value) if sep else ""))
            return "ARG " + " ".join(out)
        if kw in ("EXPOSE", "USER", "VOLUME", "WORKDIR", "STOPSIGNAL"):
            return kw + " " + json.dumps([self.expand(ins, a) for a in ins.args])
        return kw + " " + json.dumps({"args": list(ins.args), "json": ins.json, "flags": list(ins.flags)})


def parse_mount(text: str) -> dict:
    """``type=cache,target=/root/.cache,sharing=locked`` -> dict (keys lower-cased; bare
    words such as ``ro`` map to "true")."""
    out: dict = {}
    try:
        fields = next(csv.reader([text]))
    except (csv.Error, StopIteration):
        fields = text.split(",")
    for f in fields:
        f = f.strip()
        if not f:
            continue
        k, sep, v = f.partition("=")
        out[k.strip().lower()] = v.strip() if sep else "true"
    return out


def _printed(ins: Instruction) -> str:
    """The instruction as the builders print it: continuations joined, heredoc bodies left out."""
    return ins.original.split("\n", 1)[0].rstrip()


def _normal(ref: str) -> str:
    try:
        return parse_ref(ref).normalized
    except InvalidReference:
        return ref


def _buildkit_name(ref: str) -> str:
    try:
        r = parse_ref(ref)
    except InvalidReference:
        return ref
    return r.normalized


def _substitute(text: str, env) -> str:
    def repl(m):
        name = m.group(1) or m.group(2)
        return env[name] if name in env else m.group(0)

    head, sep, rest = text.partition(" ")
    return head.upper() + sep + _VAR.sub(repl, rest)

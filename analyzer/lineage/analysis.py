"""Lineage of a user's Dockerfile: the chain of every stage's base image, the state at
every instruction, each RUN's commands checked against it, and explanations."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Optional

from ..inventory import Availability, CommandCheck, Provenance, State, Walker, lookup
from ..model import Dockerfile

THIS_FILE = "this Dockerfile"


@dataclass
class LineageResult:
    """Base-image chains and the image state at every point of a Dockerfile."""

    df: Dockerfile
    chains: dict = field(default_factory=dict)  # stage index -> [ImageDef] (external chain)
    stage_states: dict = field(default_factory=dict)  # stage index -> State at the end of the stage
    start_states: dict = field(default_factory=dict)  # stage index -> State inherited at FROM
    checks: list = field(default_factory=list)  # CommandCheck for every command of every RUN
    target: int = -1
    log: list = field(default_factory=list)
    offline: bool = False

    def chain_for(self, stage_index: int) -> list:
        """The external chain of a stage, following FROM <stage> inside the file."""
        seen = set()
        i = stage_index
        while i not in self.chains and i not in seen:
            seen.add(i)
            parent = self._parent_stage.get(i)
            if parent is None:
                return []
            i = parent
        return self.chains.get(i, [])

    _parent_stage: dict = field(default_factory=dict)

    def lineage_json(self) -> list[dict]:
        return [d.as_json() for d in self.chain_for(self.target)]

    def errors(self) -> list[str]:
        out = []
        for chain in self.chains.values():
            for d in chain:
                out.extend(d.errors)
        return list(dict.fromkeys(out))

    def explain(self, command: str) -> dict:
        state = self.stage_states.get(self.target)
        if state is None:
            return {"command": command, "status": "unknown", "reason": "no stage to explain"}
        return explain_in(state, command, self.chain_for(self.target))


def explain_in(state: State, command: str, chain: list) -> dict:
    av = lookup(state, command)
    out: dict = {"command": command, "status": av.status}
    if av.path:
        out["path"] = av.path
    if av.provided_by is not None:
        out["provided_by"] = av.provided_by.as_json()
    if av.path_entry is not None:
        out["path_entry"] = av.path_entry.as_json()
    elif av.path:
        out["path_entry"] = None
        out["on_default_path"] = True
    if av.reason:
        out["reason"] = av.reason
    if av.removed_by is not None:
        out["removed_by"] = av.removed_by.as_json()
    if av.status != "available":
        sugg = suggestions(command, state)
        if sugg:
            out["packages"] = sugg
    out["chain"] = [d.image for d in chain]
    out["user"] = state.user
    return out


def suggestions(command: str, state: State) -> list[dict]:
    """Packages that provide ``command`` in the image of ``state`` (apt lookups answer from
    the Debian release its root chose), best first, at most three."""
    release = getattr(state, "release", None)
    if release is not None:
        from analyzer.knowledge.debian_index import using_release

        with using_release(release):
            return _suggestions(command, state)
    return _suggestions(command, state)


def _suggestions(command: str, state: State) -> list[dict]:
    from analyzer.knowledge.packages import commands_of_package, packages_providing

    name = posixpath.basename(command)
    family = state.family or "debian"
    manager = state.package_manager or {"debian": "apt", "ubuntu": "apt", "alpine": "apk"}.get(family, "apt")
    out = []
    try:
        pkgs = packages_providing(name, family)
    except Exception:
        pkgs = []
    for pkg in pkgs[:3]:
        paths = [p for p in (commands_of_package(manager, pkg) or ()) if posixpath.basename(p) == name]
        install = {"apt": "apt-get install", "apk": "apk add", "yum": "yum install", "dnf": "dnf install", "zypper": "zypper install"}.get(manager, "install")
        out.append({"manager": manager, "package": pkg, "install": f"{install} {pkg}", "path": paths[0] if paths else None})
    return out


def analyze(df: Dockerfile, *, resolver, build_args=None, target: Optional[str] = None, platform: str = "linux/amd64", offline: bool = False) -> LineageResult:
    from analyzer.expand import resolve

    result = LineageResult(df=df, offline=offline)
    walker = Walker(result.log)
    if not df.stages:
        return result
    resolution = resolve(df, dict(build_args or {}), platform)
    target_index = len(df.stages) - 1
    if target:
        st = df.stage_by_name(target)
        if st is not None:
            target_index = st.index
    result.target = target_index
    # the state a chain of base images leaves depends on that chain alone: worked out once
    # per resolver (whose chains these are), for every file it serves
    chain_states = _shared_chain_states(resolver)
    envs: dict[str, dict] = {}  # external base reference -> the ENV its chain leaves
    stage_resolution = None

    for stage in df.stages:
        rs = resolution.stages[stage.index]
        if rs.base_stage is not None and rs.base_stage in result.stage_states:
            start = result.stage_states[rs.base_stage].copy()
            result._parent_stage[stage.index] = rs.base_stage
        else:
            base = rs.base_image if not rs.base_unresolved else None
            if base is None:
                chain = []
                start = State()
                start.unknown_all = Provenance(stage.base, "", None, "", via=f"FROM {stage.base} does not resolve")
            else:
                chain = resolver.chain(base)
                start = _chain_state(walker, chain, chain_states)
                if envs.get(base) != start.env:
                    envs[base] = dict(start.env)
                    stage_resolution = None
            result.chains[stage.index] = chain
        result.start_states[stage.index] = start.copy()
        # the file's own ENV expands against the environment of each stage's base image; one
        # resolution serves until a stage brings a base not seen before (not one per stage:
        # each walks the whole file)
        if stage_resolution is None:
            if _SHORTCUT and (not _expands_anything(df) or _names_none_of(df, envs)):
                # nothing but RUN (whose variables the shell expands, from the state's ENV)
                # names a variable, or nothing else names one the base images' ENV sets:
                # that ENV changes no value, and the walk reads each RUN's variables from
                # the state, which has that ENV already
                stage_resolution = resolution
            else:
                stage_resolution = resolve(df, dict(build_args or {}), platform, image_env=lambda ref, _p: envs.get(ref))
        state = start

        def record(ins, cmd, st, _stage=stage):
            av = _check(cmd, st)
            result.checks.append(CommandCheck(ins, cmd, av, st.user, st.family, st.package_manager))

        walker.walk_stage(state, stage, stage_resolution, THIS_FILE, df.path, check=record, end_states=result.stage_states)
        result.stage_states[stage.index] = state
    return result


_SHORTCUT = True  # off in the tests that check the shortcut changes nothing


def _dollar_lines(df: Dockerfile):
    """The lines of the instructions other than RUN that hold a ``$``."""
    lines = df.lines
    for ins in df.instructions:
        if ins.keyword != "RUN":
            for line in lines[ins.start_line - 1 : ins.end_line]:
                if "$" in line:
                    yield line


def _expands_anything(df: Dockerfile) -> bool:
    """True when an instruction other than RUN has a ``$`` anywhere in its lines."""
    return next(_dollar_lines(df), None) is not None


_NAME_AFTER_DOLLAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def _names_none_of(df: Dockerfile, envs: dict) -> bool:
    """True when no instruction other than RUN names a variable that one of ``envs`` (the
    base images' ENV) sets. A ``$`` not followed by a name answers False: not sure."""
    names = df.__dict__.get("_names_outside_run")
    if names is None:
        found: Optional[set] = set()
        for line in _dollar_lines(df):
            got = _NAME_AFTER_DOLLAR.findall(line)
            if len(got) != line.count("$"):
                found = None
                break
            found.update(got)
        names = df.__dict__["_names_outside_run"] = found if found is None else frozenset(found)
    if names is None:
        return False
    return not any(name in env for env in envs.values() for name in names)


def _shared_chain_states(resolver) -> dict:
    holder = getattr(resolver, "__dict__", None)
    if holder is None:
        return {}
    return holder.setdefault("_analysis_chain_states", {})


def _chain_state(walker: Walker, chain: list, memo: dict) -> State:
    """Walk a chain from its root (last) to its first image."""
    state = State()
    if not chain:
        return state
    # reuse the longest already-walked suffix
    start = len(chain)
    for i in range(len(chain)):
        key = _chain_key(chain[i:])
        if key in memo:
            state = memo[key][1].copy()
            start = i
            break
    for i in range(start - 1, -1, -1):
        state = walker.apply_image(state, chain[i])
        memo[_chain_key(chain[i:])] = (tuple(chain[i:]), state.copy())  # the images kept alive with their ids
    if chain[-1].kind not in ("root", "scratch", "builtin", "registry"):
        if state.unknown_all is None:
            last = chain[-1]
            state.unknown_all = Provenance(last.image, last.source, None, "", via="the root of this chain is not known")
    return state


def _chain_key(chain: list) -> tuple:
    # the definitions themselves, not only their names: a resolver that learns more about
    # an image makes a new definition, and so a new key
    return tuple(map(id, chain))


_IN_THE_SHELL: dict = {}  # (name, a builtin) -> its Availability


def _check(cmd, st: State) -> Availability:
    if cmd.builtin or cmd.function:
        key = (cmd.name, cmd.builtin)
        found = _IN_THE_SHELL.get(key)
        if found is None:  # immutable: one for each name
            if len(_IN_THE_SHELL) >= 4096:
                _IN_THE_SHELL.clear()
            found = _IN_THE_SHELL[key] = Availability(cmd.name, "available", reason="shell builtin" if cmd.builtin else "shell function")
        return found
    if cmd.dynamic:
        base = cmd.extras.get("static_basename")
        if not base:
            return Availability(cmd.name, "unknown", reason="the command name comes from a variable")
        return Availability(cmd.name, "unknown", reason="the command's directory comes from a variable")
    return lookup(st, cmd.name)

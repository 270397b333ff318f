"""What is on PATH at every instruction, and who put it there.

The walk starts at the root of a chain (its known inventory, or nothing), applies each
image of the chain in order (its Dockerfile's instructions, or built-in knowledge of what
it provides), then the user's stages. At every RUN of the user's file each invoked command
is looked up before the effects of the commands before it in the same RUN are applied, so
"install then use" works and "purge then use" does not.

Precision first: a command is *missing* only when everything that could have provided it
is known. Whatever could have put unknown executables somewhere (an unknown package, a
tarball, a directory COPY, an incomplete inventory, an unresolved image) makes lookups
there *unknown*, never missing.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field, replace
from typing import Optional

from .model import Instruction, ShellCommand, evolve

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Provenance:
    """Which image, file, line and instruction made something so."""

    image: str  # the image (or "this file") whose build did it
    source: str  # URL or path of the Dockerfile, or "builtin"
    line: Optional[int]
    instruction: str  # the instruction text (first line), or what the knowledge says
    via: str = ""  # e.g. "apt-get install wget"
    builtin: bool = False

    def as_json(self) -> dict:
        out = {"image": self.image, "source": self.source, "line": self.line, "instruction": self.instruction}
        if self.via:
            out["via"] = self.via
        if self.builtin:
            out["builtin"] = True
        return out


@dataclass
class State:
    """What an image holds at one point of the walk: executables, removals, unknowns, ENV and USER."""

    files: dict = field(default_factory=dict)  # executable path -> Provenance
    removed: dict = field(default_factory=dict)  # path -> Provenance of the removal
    unknown_dirs: dict = field(default_factory=dict)  # dir -> Provenance (unknown executables may be there)
    unknown_all: Optional[Provenance] = None  # unknown executables may be anywhere
    env: dict = field(default_factory=dict)
    path_entries: dict = field(default_factory=dict)  # PATH dir -> Provenance of the ENV that added it
    user: str = "root"
    user_origin: Optional[Provenance] = None
    workdir: str = "/"
    workdir_origin: Optional[Provenance] = None
    shell: tuple = ("/bin/sh", "-c")
    family: Optional[str] = None
    package_manager: Optional[str] = None
    release: Optional[tuple] = None  # (Debian release whose index answers apt lookups, note), from the root
    memory: object = None  # analyzer.effects.RunMemory: downloads, apk --virtual groups ...

    def copy(self) -> "State":
        """A state of its own: its mutable fields copied (through model.evolve, without
        dataclasses.replace's per-call look at the fields: states are copied at every stage
        and image of every file)."""
        return evolve(
            self,
            files=dict(self.files),
            removed=dict(self.removed),
            unknown_dirs=dict(self.unknown_dirs),
            env=dict(self.env),
            path_entries=dict(self.path_entries),
            memory=self.memory.copy() if self.memory is not None else None,
        )

    # the StateView protocol of analyzer.effects
    def path_dirs(self) -> list[str]:
        return list(_path_dirs(self.env.get("PATH", DEFAULT_PATH)))

    def which(self, name: str) -> Optional[str]:
        if "/" in name:
            return name if name in self.files else None
        files = self.files
        for d in _path_dirs(self.env.get("PATH", DEFAULT_PATH)):
            p = d + name if d.endswith("/") else d + "/" + name  # posixpath.join(d, name)
            if p in files:
                return p
        return None

    @property
    def is_root(self) -> bool:
        user = self.user.split(":", 1)[0].strip()
        return user in ("root", "0", "")


_DIRS_OF_PATH: dict = {}  # a PATH value -> its directories (a few values recur all the time)


def _path_dirs(value: str) -> tuple:
    dirs = _DIRS_OF_PATH.get(value)
    if dirs is None:
        if len(_DIRS_OF_PATH) >= 2048:
            _DIRS_OF_PATH.clear()
        dirs = _DIRS_OF_PATH[value] = tuple(d for d in value.split(":") if d)
    return dirs


@dataclass(frozen=True)
class Availability:
    """Whether a command can be found at one point: available, missing or unknown, and why."""

    command: str
    status: str  # available | missing | unknown
    path: Optional[str] = None
    provided_by: Optional[Provenance] = None
    path_entry: Optional[Provenance] = None
    reason: str = ""
    removed_by: Optional[Provenance] = None


@dataclass(frozen=True)
class CommandCheck:
    """A command a RUN calls, checked against the image at that point."""

    instruction: Instruction
    command: ShellCommand
    availability: Availability
    user: str
    family: Optional[str]
    package_manager: Optional[str]


def lookup(state: State, name: str) -> Availability:
    """Is ``name`` (a command name or an absolute path) available in ``state``?"""
    if "/" in name:
        if not name.startswith("/"):
            return Availability(name, "unknown", reason="relative path")
        prov = state.files.get(name)
        if prov is not None:
            return Availability(name, "available", name, prov, state.path_entries.get(posixpath.dirname(name)))
        d = posixpath.dirname(name)
        if state.unknown_all is not None or _unknown_dir(state, d):
            return Availability(name, "unknown", reason=_unknown_reason(state, [d]))
        return Availability(name, "missing", removed_by=state.removed.get(name), reason=_missing_reason(state, name, [name]))
    path = state.which(name)
    if path is not None:
        return Availability(name, "available", path, state.files[path], state.path_entries.get(posixpath.dirname(path)))
    dirs = state.path_dirs()
    if state.unknown_all is not None or any(_unknown_dir(state, d) for d in dirs):
        return Availability(name, "unknown", reason=_unknown_reason(state, dirs))
    candidates = [posixpath.join(d, name) for d in dirs]
    removed = next((state.removed[c] for c in candidates if c in state.removed), None)
    return Availability(name, "missing", removed_by=removed, reason=_missing_reason(state, name, candidates))


def _unknown_dir(state: State, d: str) -> bool:
    d = d.rstrip("/") or "/"
    for u in state.unknown_dirs:
        u = u.rstrip("/") or "/"
        if d == u or d.startswith(u + "/") or u == "/":
            return True
    return False


def _unknown_reason(state: State, dirs: list[str]) -> str:
    if state.unknown_all is not None:
        p = state.unknown_all
        return f"the contents of {p.image} are not fully known ({p.via or p.instruction})"
    for d in dirs:
        for u, p in state.unknown_dirs.items():
            if d == u or d.startswith(u.rstrip("/") + "/"):
                where = f"line {p.line} of {p.image}" if p.line else p.image
                return f"{u} may hold executables nobody listed ({p.via or p.instruction}, {where})"
    return "not known"


def _missing_reason(state: State, name: str, candidates: list[str]) -> str:
    removed = next((state.removed[c] for c in candidates if c in state.removed), None)
    if removed is not None:
        where = f"line {removed.line}" if removed.line else removed.image
        return f"removed by {removed.via or removed.instruction} ({where})"
    return f"not on PATH ({state.env.get('PATH', DEFAULT_PATH)})"


# --- walking ------------------------------------------------------------------------------


class Walker:
    """Applies images and instructions to a State."""

    def __init__(self, log: Optional[list] = None):
        self.log = log if log is not None else []

    # images of the chain -------------------------------------------------------------
    def apply_image(self, state: State, image) -> State:
        """Apply one ImageDef (from analyzer.lineage.resolve) on top of its parent's state."""
        kind = image.kind
        if kind == "scratch":
            return State(env={"PATH": DEFAULT_PATH})
        if kind == "root":
            return self._apply_root(image)
        if kind == "dockerfile":
            return self._apply_dockerfile(state, image)
        if kind == "builtin" and image.known is not None:
            return self._apply_known(state, image)
        if kind == "registry" and getattr(image, "registry", None) is not None:
            return self._apply_registry(state, image)
        # unresolved, or a parent known by name only: anything may be there
        new = state.copy()
        new.unknown_all = Provenance(image.image, image.source or "", None, "", via="contents unknown")
        return new

    def _apply_root(self, image) -> State:
        root = image.known
        prov = Provenance(image.image, "builtin", None, getattr(root, "source", ""), via="root image", builtin=True)
        st = State(env={"PATH": getattr(root, "env_path", None) or DEFAULT_PATH})
        for p in getattr(root, "paths", ()):
            st.files[p] = prov
        if not getattr(root, "complete", False):
            st.unknown_all = Provenance(image.image, "builtin", None, "", via="inventory of the root image is not complete", builtin=True)
        st.user = getattr(root, "user", "root") or "root"
        st.workdir = getattr(root, "workdir", "/") or "/"
        st.family = getattr(root, "family", None)
        st.package_manager = getattr(root, "package_manager", None)
        st.release = getattr(root, "release", None)
        return st

    def _apply_known(self, state: State, image) -> State:
        known = image.known
        st = state.copy()
        label = f"built-in knowledge of {image.image}"
        for item in getattr(known, "provides", ()):
            path = getattr(item, "path", None) if not isinstance(item, str) else item
            if not path:
                continue
            via = getattr(item, "via", "") if not isinstance(item, str) else ""
            st.files[path] = Provenance(image.image, "builtin", getattr(item, "line", None), getattr(item, "instruction", "") or label, via=via, builtin=True)
            st.removed.pop(path, None)
        for path in getattr(known, "removes", ()):
            st.files.pop(path, None)
        for d in getattr(known, "path_additions", ()) or ():
            dirs = st.path_dirs()
            if d not in dirs:
                st.env["PATH"] = ":".join([d, *dirs])
            st.path_entries[d] = Provenance(image.image, "builtin", None, f"ENV PATH={d}:$PATH", builtin=True)
        env = getattr(known, "env", None) or {}
        for k, v in dict(env).items():
            if k != "PATH":
                st.env[k] = v
        if getattr(known, "user", None):
            st.user = known.user
            st.user_origin = Provenance(image.image, "builtin", None, f"USER {known.user}", builtin=True)
        if getattr(known, "workdir", None):
            st.workdir = known.workdir
            st.workdir_origin = Provenance(image.image, "builtin", None, f"WORKDIR {known.workdir}", builtin=True)
        if getattr(known, "shell", None):
            st.shell = tuple(known.shell)
        if getattr(known, "family", None):
            st.family = known.family
        if not getattr(known, "complete", False):
            for d in getattr(known, "unknown_dirs", ()) or ():
                st.unknown_dirs[d] = Provenance(image.image, "builtin", None, "", via="built-in knowledge lists only the notable commands", builtin=True)
            if not getattr(known, "unknown_dirs", None):
                st.unknown_all = Provenance(image.image, "builtin", None, "", via="built-in knowledge lists only the notable commands", builtin=True)
        return st

    def _apply_registry(self, state: State, image) -> State:
        """An image read from a registry: its layers' executables (whiteouts applied in
        order) and its config's environment, user, working directory and shell."""
        from analyzer.lineage.layers import apply_listing, short_history

        reg = image.registry
        st = state.copy()
        for layer in reg.layers:
            if layer.listing is None:
                continue
            prov = Provenance(image.image, image.source, None, short_history(layer.created_by), via=f"layer {layer.index} {layer.digest[:19]}")
            present = {p: 0 for p in st.files}
            for p in apply_listing(present, layer.listing, layer.index):
                st.files.pop(p, None)
                st.removed[p] = replace(prov, via=f"whiteout in layer {layer.index} {layer.digest[:19]}")
            for p in layer.listing.added:
                st.files[p] = prov
                st.removed.pop(p, None)
        if not reg.listed:
            st.unknown_all = Provenance(image.image, image.source, None, "", via=reg.note or "layers not listed")
        cfg = reg.config or {}
        env = {}
        for item in cfg.get("Env") or ():
            if isinstance(item, str) and "=" in item:
                k, v = item.split("=", 1)
                env[k] = v
        if env:
            before = st.path_dirs()
            st.env = env
            for d in st.path_dirs():
                if d not in before or d not in DEFAULT_PATH.split(":"):
                    st.path_entries[d] = Provenance(image.image, image.source, None, _history_setting(reg.history, "PATH", d), via="image config Env")
        user = cfg.get("User")
        if isinstance(user, str) and user:
            st.user = user
            st.user_origin = Provenance(image.image, image.source, None, _history_setting(reg.history, "USER", user) or f"USER {user}", via="image config User")
        workdir = cfg.get("WorkingDir")
        if isinstance(workdir, str) and workdir:
            st.workdir = workdir
            st.workdir_origin = Provenance(image.image, image.source, None, _history_setting(reg.history, "WORKDIR", workdir) or f"WORKDIR {workdir}", via="image config WorkingDir")
        shell = cfg.get("Shell")
        if isinstance(shell, list) and shell and all(isinstance(w, str) for w in shell):
            st.shell = tuple(shell)
        if "/usr/bin/apt-get" in st.files:
            st.family, st.package_manager = st.family or "debian", "apt"
        elif "/sbin/apk" in st.files:
            st.family, st.package_manager = st.family or "alpine", "apk"
        return st

    def _apply_dockerfile(self, state: State, image) -> State:
        from analyzer.expand import resolve

        df = image.dockerfile
        inherited_env = dict(state.env)
        try:
            resolution = resolve(df, dict(image.build_args), image_env=lambda _ref, _plat: inherited_env)
        except Exception as exc:  # a broken upstream must not stop the analysis
            new = state.copy()
            new.unknown_all = Provenance(image.image, image.source, None, "", via=f"could not expand: {exc}")
            return new
        st = state.copy()
        end_states: dict[int, State] = {}
        for stage in image.stages:
            rs = resolution.stages[stage.index]
            if rs.base_stage is not None and rs.base_stage in end_states:
                st = end_states[rs.base_stage].copy()
            self.walk_stage(st, stage, resolution, image.image, image.source, end_states=end_states)
            end_states[stage.index] = st
            st = st.copy()
        return end_states[image.stages[-1].index] if image.stages else st

    # instructions ---------------------------------------------------------------------
    def walk_stage(self, st: State, stage, resolution, image: str, source: str, *, check=None, end_states=None) -> State:
        """Apply a stage's instructions to ``st`` in place. ``check(ins, cmd, state)`` is
        called for every command of every RUN before its effects apply."""
        for ins in stage.instructions:
            if ins.trigger is not None:
                continue
            self.apply_instruction(st, ins, resolution, image, source, check=check, end_states=end_states)
        return st

    def apply_instruction(self, st: State, ins: Instruction, resolution, image: str, source: str, *, check=None, end_states=None) -> None:
        kw = ins.keyword
        prov = Provenance(image, source, ins.start_line, _first_line(ins.original))
        if kw == "ENV":
            self._env(st, ins, resolution, prov)
        elif kw == "USER" and ins.args:
            st.user = _expand(resolution, ins, ins.args[0])
            st.user_origin = prov
        elif kw == "WORKDIR" and ins.args:
            value = _expand(resolution, ins, ins.args[0])
            st.workdir = posixpath.normpath(posixpath.join(st.workdir, value)) if value else st.workdir
            st.workdir_origin = prov
        elif kw == "SHELL" and ins.json and ins.args:
            st.shell = tuple(ins.args)
        elif kw in ("COPY", "ADD"):
            self._copy(st, ins, resolution, prov, end_states)
        elif kw == "RUN":
            self._run(st, ins, resolution, prov, check)

    def _env(self, st: State, ins: Instruction, resolution, prov: Provenance) -> None:
        pairs = _env_pairs(ins)
        before_env = _scope_dict(resolution, ins)
        before_dirs = st.path_dirs()
        for key, raw in pairs:
            value = _expand_with(raw, {**st.env, **before_env})
            st.env[key] = value
        if "PATH" in dict(pairs):
            for d in st.path_dirs():
                if d not in before_dirs:
                    st.path_entries[d] = prov

    def _copy(self, st: State, ins: Instruction, resolution, prov: Provenance, end_states) -> None:
        if ins.heredocs:
            words = [a for a in ins.args if not a.startswith("<<")]
        else:
            words = list(ins.args)
        if len(words) < 2 and not ins.heredocs:
            return
        dest = _expand(resolution, ins, words[-1]) if words else ""
        sources = [_expand(resolution, ins, w) for w in words[:-1]] if not ins.heredocs else [h.name for h in ins.heredocs]
        if not dest:
            return
        if not dest.startswith("/"):
            dest = posixpath.join(st.workdir, dest)
        to_dir = dest.endswith("/") or len(sources) > 1
        via = f"{ins.keyword} {' '.join(words)}" if words else ins.keyword
        from_stage = ins.flag("from")
        for src in sources:
            src_clean = src.rstrip("/")
            is_dir_like = src.endswith("/") or src in (".", "./") or any(ch in src for ch in "*?[")
            if from_stage is not None and end_states is not None:
                source_state = end_states.get(_stage_index(resolution, from_stage))
                if source_state is not None and src.startswith("/"):
                    self._copy_from_state(st, source_state, src, dest, to_dir, prov, via)
                    continue
            if is_dir_like:
                target_dir = dest.rstrip("/") if (to_dir or is_dir_like) else posixpath.dirname(dest)
                st.unknown_dirs[target_dir or "/"] = replace(prov, via=via)
                continue
            name = posixpath.basename(src_clean.split("?")[0])
            if ins.keyword == "ADD" and name.endswith((".tar", ".tar.gz", ".tgz", ".tar.xz", ".tar.bz2")) and "://" not in src:
                target_dir = dest.rstrip("/") or "/"
                st.unknown_dirs[target_dir] = replace(prov, via=f"ADD extracts {name}")
                continue
            path = posixpath.join(dest, name) if to_dir else dest
            path = posixpath.normpath(path)
            st.files[path] = replace(prov, via=via)
            st.removed.pop(path, None)
            if "." not in name:
                # it may be a directory, whose contents Docker copies into the destination
                st.unknown_dirs[dest.rstrip("/") or "/"] = replace(prov, via=via)

    def _copy_from_state(self, st: State, source: State, src: str, dest: str, to_dir: bool, prov: Provenance, via: str) -> None:
        src = posixpath.normpath(src)
        if src in source.files:
            path = posixpath.join(dest, posixpath.basename(src)) if to_dir else dest
            st.files[posixpath.normpath(path)] = replace(prov, via=via)
            return
        copied = False
        for p in list(source.files):
            if p.startswith(src.rstrip("/") + "/"):
                rel = p[len(src.rstrip("/")) + 1 :]
                st.files[posixpath.normpath(posixpath.join(dest, rel))] = replace(prov, via=via)
                copied = True
        if not copied:
            st.unknown_dirs[dest.rstrip("/") or "/"] = replace(prov, via=via)

    def _run(self, st: State, ins: Instruction, resolution, prov: Provenance, check) -> None:
        from analyzer.effects import RunMemory, effects_of
        from analyzer.scripts import commands_of, run_script

        if st.memory is None:
            st.memory = RunMemory()
        st.memory.begin_run()

        run = run_script(ins, st.shell)
        try:
            cmds = commands_of(run)
        except Exception:
            cmds = []
        scope = _scope_dict(resolution, ins)
        saved_path = st.env.get("PATH")
        run_env = {**st.env, **scope}
        if saved_path is not None:
            run_env["PATH"] = saved_path
        st.env, outer_env = run_env, st.env
        try:
            for cmd in cmds:
                cmd = substituted(cmd, st.env)
                if check is not None:
                    check(ins, cmd, st)
                try:
                    effects = effects_of(cmd, st, st.memory)  # a State is a StateView
                except Exception as exc:
                    self.log.append(f"line {ins.start_line}: could not judge {cmd.name}: {exc}")
                    effects = []
                made: dict = {}  # via -> Provenance: an install's many paths share one
                files, removed = st.files, st.removed
                for eff in effects:
                    # the common effect inline (what _apply_effect does with it): a new
                    # path provided, not by chmod/chown
                    path = eff.path
                    if eff.kind == "provide" and path and path not in files:
                        p = made.get(eff.via or cmd.name)
                        if p is not None:
                            files[path] = p
                            if path in removed:
                                del removed[path]
                            continue
                    self._apply_effect(st, eff, prov, cmd, made)
        finally:
            # `export PATH=...` lasts for the rest of this RUN only
            st.env = outer_env

    def _apply_effect(self, st: State, eff, prov: Provenance, cmd: ShellCommand, made: Optional[dict] = None) -> None:
        via = eff.via or cmd.name
        p = made.get(via) if made is not None else None
        if p is None:
            p = Provenance(prov.image, prov.source, prov.line, prov.instruction, via, prov.builtin)
            if made is not None:
                made[via] = p
        kind = eff.kind
        if kind == "provide" and eff.path:
            if eff.path in st.files and (eff.via or "").startswith(("chmod", "chown")):
                return  # the file was already there: keep who put it there
            st.files[eff.path] = p
            st.removed.pop(eff.path, None)
        elif kind == "remove" and eff.path:
            target = eff.path.rstrip("/") or "/"
            below = target + "/"
            for f in [f for f in st.files if f == target or f.startswith(below)]:
                del st.files[f]
                st.removed[f] = p
            if eff.path.endswith("/") or target not in st.removed:
                st.removed.setdefault(target, p)
        elif kind == "path" and eff.path:
            st.env["PATH"] = eff.path
        elif kind == "unknown-provide":
            if eff.path:
                st.unknown_dirs[eff.path.rstrip("/") or "/"] = p
            else:
                st.unknown_all = p


def substituted(cmd: ShellCommand, env: dict) -> ShellCommand:
    """The command with ``$VAR`` / ``${VAR}`` words replaced by the values the RUN's
    environment gives them (what the shell will do); words with command substitutions
    or unknown variables are left as they are."""
    from analyzer.expand import expand

    if not any("$" in w for w in cmd.argv):
        return cmd
    words = []
    changed = False
    for i, w in enumerate(cmd.argv):
        if "$" not in w or "$(" in w or "`" in w:
            words.append(w)
            continue
        try:
            exp = expand(w.replace("\\", "\\\\"), env)
        except Exception:
            words.append(w)
            continue
        if exp.undefined:
            words.append(w)
            continue
        words.append(exp.value)
        changed = True
    if not changed:
        return cmd
    name = words[0] if words else cmd.name
    dynamic = cmd.dynamic and "$" in name
    return replace(cmd, argv=tuple(words), name=name if not dynamic else cmd.name, dynamic=dynamic)


def _history_setting(history: list, keyword: str, value: str) -> str:
    """The last history entry of an image config that set ``keyword`` to something
    holding ``value`` (``ENV PATH=/opt/x/bin:...``), shortened; "" when none says so."""
    from analyzer.lineage.layers import short_history

    for created_by, _empty in reversed(history or []):
        text = short_history(created_by)
        if keyword == "PATH":
            if text.startswith("ENV ") and "PATH=" in text and value in text:
                return text
        elif text.startswith(keyword + " ") and value in text:
            return text
    return ""


def _first_line(text: str) -> str:
    line = text.split("\n", 1)[0]
    return line if len(line) <= 200 else line[:197] + "..."


def _scope_dict(resolution, ins: Instruction) -> dict:
    try:
        scope = resolution.env_before(ins)
    except Exception:
        return {}
    try:
        return dict(scope)
    except Exception:
        return {}


def _expand(resolution, ins: Instruction, word: str) -> str:
    try:
        return resolution.expand_in(ins, word).value
    except Exception:
        return word


def _expand_with(word: str, env: dict) -> str:
    from analyzer.expand import expand

    try:
        return expand(word, env).value
    except Exception:
        return word


def _env_pairs(ins: Instruction) -> list[tuple[str, str]]:
    args = list(ins.args)
    if ins.legacy_form and len(args) >= 2:
        return [(args[0], args[1])]
    return [(args[i], args[i + 1]) for i in range(0, len(args) - 1, 2)]


def _stage_index(resolution, name: str) -> Optional[int]:
    if name.isdigit():
        return int(name)
    for rs in resolution.stages:
        if rs.name is not None and rs.name == name.lower():
            return rs.index
    return None

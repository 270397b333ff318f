"""What one invoked command does to the image's executables.

:func:`effects_of` takes a :class:`~analyzer.model.ShellCommand` (argv as the shell sees it)
and a :class:`StateView` of the image at that point, and answers a list of
:class:`Effect`:

* ``provide``: an executable now exists at ``path``;
* ``remove``: ``path`` (a file, or a directory and everything under it) is gone;
* ``path``: the RUN's own PATH changed (``export PATH=...``, ``. venv/bin/activate``):
  ``path`` is the complete new value, for the rest of this RUN only;
* ``unknown-provide``: something was installed whose executables are not known. ``path``
  is the directory they may be in (lookups there are unknown, never missing), or None
  when they may be anywhere (an unknown script piped into a shell).

Words of argv that still hold ``$VAR`` are expanded with the view's environment; a word
that cannot be expanded (an unknown variable, a command substitution) is unknown: an
unknown package gives ``unknown-provide``, never nothing.

Some meanings depend on earlier commands: a file downloaded then run as an installer,
``curl URL | sh``, ``apk add --virtual NAME`` then ``apk del NAME``, ``cd``. A
:class:`RunMemory` carries that; pass the same one for every command of a stage (call
:meth:`RunMemory.begin_run` at each RUN) as ``effects_of(cmd, state, memory)`` or as a
``memory`` attribute of the view. Without one, each command is judged alone.

:func:`needs_root` says whether a command fails for lack of privileges when run as a
non-root user; :func:`package_manager_of` names the system package manager a command runs
(``install_only=True``: only when it installs).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Optional, Protocol

from .lazyre import lazy
from .model import ShellCommand

__all__ = [
    "StateView",
    "Effect",
    "RunMemory",
    "effects_of",
    "needs_root",
    "package_manager_of",
    "home_of",
]


class StateView(Protocol):
    env: Mapping[str, str]  # variables visible to the RUN (ENV + ARG), PATH included
    family: Optional[str]  # debian / ubuntu / alpine / rhel / suse / busybox / None
    user: str  # effective USER
    workdir: str
    # optional: ``release``, the (Debian release, note) whose package index answers apt lookups

    def which(self, name: str) -> Optional[str]:
        """Full path ``name`` resolves to now (PATH lookup), or None."""


@dataclass(frozen=True)
class Effect:
    """What one command does to the image's executables or PATH."""

    kind: str  # provide | remove | path | unknown-provide
    path: Optional[str]
    command: Optional[str]
    via: str
    package: Optional[str] = None


@dataclass
class RunMemory:
    """What earlier commands left behind that gives later commands their meaning."""

    downloads: dict = field(default_factory=dict)  # absolute path -> URL it was fetched from
    pipes: dict = field(default_factory=dict)  # pipeline id -> URL written into the pipe
    apk_virtual: dict = field(default_factory=dict)  # virtual package name -> package names
    apt_sources: set = field(default_factory=set)  # third-party apt repositories added ("nodesource")
    env: dict = field(default_factory=dict)  # variables exported earlier in this RUN
    cwd: Optional[str] = None  # directory after `cd` in this RUN
    prefix: Optional[str] = None  # ./configure --prefix / CMAKE_INSTALL_PREFIX in this RUN
    nvm_bin: Optional[str] = None  # bin directory of nvm's default node
    wrapper_env: dict = field(default_factory=dict)  # assignments of the last `env` wrapper

    def begin_run(self) -> None:
        """Forget what only lasts for one RUN (cwd, exported variables, pipes)."""
        self.cwd = None
        self.env = {}
        self.pipes = {}
        self.prefix = None
        self.wrapper_env = {}

    def copy(self) -> "RunMemory":
        return RunMemory(
            dict(self.downloads), dict(self.pipes), dict(self.apk_virtual), set(self.apt_sources),
            dict(self.env), self.cwd, self.prefix, self.nvm_bin, dict(self.wrapper_env),
        )


# ---------------------------------------------------------------------------------------
# helpers

_WRAPPERS = frozenset({
    "sudo", "env", "xargs", "exec", "nohup", "time", "command", "builtin", "nice", "timeout",
    "stdbuf", "gosu", "su-exec", "tini", "tini-static", "dumb-init", "busybox", "su", "runuser",
    "eval", "trap",
})
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "yash", "posh"})
_SYSTEM_BIN_DIRS = ("/usr/bin", "/usr/sbin", "/bin", "/sbin")
_GLOB = lazy(r"[*?\[]")


def home_of(user: str, env: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """The home directory of ``user`` (``HOME`` from the environment first), or None."""
    if env is not None and env.get("HOME"):
        return env["HOME"]
    name = (user or "root").split(":", 1)[0].strip()
    if name in ("", "root", "0"):
        return "/root"
    if name.isdigit():
        return None
    return f"/home/{name}"


class _Ctx:
    """Everything one judgement needs: the command, the view, the memory, the environment."""

    def __init__(self, cmd: ShellCommand, state: StateView, memory: Optional[RunMemory]):
        self.cmd = cmd
        self.state = state
        self.memory = memory
        env = dict(getattr(state, "env", {}) or {})
        if memory is not None:
            env.update(memory.env)
            if "env" in cmd.wrappers:
                env.update(memory.wrapper_env)
        self.user = getattr(state, "user", "root") or "root"
        self.home = home_of(self.user, env)
        if "HOME" not in env and self.home:
            env["HOME"] = self.home
        self.env = env
        self.family = getattr(state, "family", None)
        workdir = getattr(state, "workdir", "/") or "/"
        self.cwd = (memory.cwd if memory is not None and memory.cwd else None) or workdir

    # words ---------------------------------------------------------------------------
    def word(self, text: str) -> Optional[str]:
        """``text`` with variables expanded and quotes removed; None if not knowable."""
        if text is None:
            return None
        if not any(c in text for c in "$`\"'\\"):
            value = text
        else:
            from analyzer.expand import expand

            try:
                exp = expand(text, self.env)
            except Exception:
                return None
            if exp.missing or "$(" in exp.value or "`" in exp.value:
                return None
            value = exp.value
        if value.startswith("~"):
            head, sep, rest = value.partition("/")
            if head == "~":
                if not self.home:
                    return None
                value = self.home + (sep + rest if sep else "")
            elif re.fullmatch(r"~[a-z_][a-z0-9_-]*", head):
                user = head[1:]
                value = ("/root" if user == "root" else f"/home/{user}") + (sep + rest if sep else "")
        return value

    def path(self, text: str) -> Optional[str]:
        value = self.word(text)
        if value is None or value == "":
            return None
        if not value.startswith("/"):
            value = posixpath.join(self.cwd, value)
        return posixpath.normpath(value).replace("//", "/")

    def args(self) -> list:
        return list(self.cmd.argv[1:])

    def is_root(self) -> bool:
        if "sudo" in self.cmd.wrappers:
            return True
        return self.user.split(":", 1)[0].strip() in ("", "root", "0")

    def which(self, name: str) -> Optional[str]:
        if "/" in name:
            return self.path(name)
        try:
            return self.state.which(name)
        except Exception:
            return None

    def merged(self) -> bool:
        return self.family in ("debian", "ubuntu")


def _e(kind: str, path: Optional[str], via: str, package: Optional[str] = None) -> Effect:
    command = posixpath.basename(path) if (path and kind in ("provide", "remove")) else None
    return Effect(kind, path, command, via, package)


class _Pulled(Effect):
    """A provide that comes from a package's dependency, not the package itself: when
    several packages of one command bring the same path, the owner's entry wins."""

    def plain(self) -> Effect:
        """The same provide as a plain Effect (made once: pulled provides are memoised)."""
        made = self.__dict__.get("_plain")
        if made is None:
            made = self.__dict__["_plain"] = Effect(self.kind, self.path, self.command, self.via, self.package)
        return made


def _provide(paths: Iterable[str], via: str, package: Optional[str] = None, *, merged: bool = False,
             own: Optional[Iterable[str]] = None) -> list:
    paths = tuple(paths)
    own = None if own is None else tuple(own)
    key = (paths, via, package, merged, own)
    known = _PROVIDED.get(key)
    if known is None:
        if len(_PROVIDED) >= _MAX_PROVIDED:
            _PROVIDED.clear()
        known = _PROVIDED[key] = tuple(_provided(paths, via, package, merged, own))
    return list(known)


# the same install seen again (in another RUN or file of a batch) gives the same effects,
# which never change once made (frozen)
_PROVIDED: dict = {}
_MAX_PROVIDED = 5_000


def _provided(paths: tuple, via: str, package: Optional[str], merged: bool, own: Optional[tuple]) -> list:
    own_names = None if own is None else {posixpath.basename(o) for o in own}
    out = []
    seen = set()
    for p in paths:
        for q in _aliases(p, merged):
            if q not in seen:
                seen.add(q)
                cls = _Pulled if (own_names is not None and posixpath.basename(q) not in own_names) else Effect
                out.append(cls("provide", q, posixpath.basename(q), via, package))
    return out


def _finish(effects: list) -> list:
    """One provide per path (its owner's when known), plain Effect objects, first-seen order."""
    paths = set()
    for eff in effects:
        if type(eff) is not Effect or (eff.kind == "provide" and eff.path in paths):
            break
        if eff.kind == "provide":
            paths.add(eff.path)
    else:
        return effects  # already so: nothing pulled in, no path twice
    # the same install again (its effects are the memoised objects of _provide): the same
    # answer. The memo holds the effects it was asked about, so their ids stay theirs.
    key = tuple(map(id, effects))
    known = _FINISHED.get(key)
    if known is not None:
        return list(known[1])
    out = _finished(effects)
    if len(_FINISHED) >= 1024:
        _FINISHED.clear()
    _FINISHED[key] = (tuple(effects), tuple(out))
    return out


_FINISHED: dict = {}


def _finished(effects: list) -> list:
    chosen: dict = {}  # path -> the provide that stays
    for eff in effects:
        if eff.kind == "provide":
            prev = chosen.get(eff.path)
            if prev is None or (type(prev) is _Pulled and type(eff) is not _Pulled):
                chosen[eff.path] = eff
    out = []
    placed = set()
    for eff in effects:
        if eff.kind == "provide":
            path = eff.path
            if path in placed:
                continue
            placed.add(path)
            eff = chosen[path]
        out.append(eff if type(eff) is Effect else eff.plain())
    return out


def _remove(paths: Iterable[str], via: str, package: Optional[str] = None, *, merged: bool = False) -> list:
    out = []
    for p in paths:
        for q in _aliases(p, merged):
            out.append(_e("remove", q, via, package))
    return out


def _aliases(path: str, merged: bool) -> list:
    if not merged:
        return [path]
    for a, b in (("/usr/bin/", "/bin/"), ("/usr/sbin/", "/sbin/")):
        if path.startswith(a):
            return [path, b + path[len(a):]]
        if path.startswith(b):
            return [a + path[len(b):], path]
    return [path]


def _unknown(path: Optional[str], via: str, package: Optional[str] = None) -> Effect:
    return Effect("unknown-provide", path, None, via, package)


def _unknown_system(via: str, package: Optional[str] = None) -> list:
    return [_unknown(d, via, package) for d in _SYSTEM_BIN_DIRS]


_URL_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://")


def _is_url(text: str) -> bool:
    return bool(_URL_SCHEME.match(text))


def _bin_like(ctx: _Ctx, directory: str) -> bool:
    if posixpath.basename(directory.rstrip("/")) in ("bin", "sbin"):
        return True
    path_dirs = [d.rstrip("/") for d in ctx.env.get("PATH", "").split(":") if d]
    return directory.rstrip("/") in path_dirs


def _parse(args: list, value_opts: Iterable[str] = (), *, short_values: str = "") -> tuple:
    """Split ``args`` into (options, positionals). ``value_opts`` are long or short options
    taking a value (``--prefix DIR``, ``--prefix=DIR``, ``-p DIR``); ``short_values`` the
    letters of short options that take one when combined (``-bfp DIR``)."""
    values = set(value_opts)
    opts: list = []
    pos: list = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            pos.extend(args[i + 1:])
            break
        if a.startswith("--") and len(a) > 2:
            if "=" in a:
                name, _, val = a.partition("=")
                opts.append((name, val))
            elif a in values and i + 1 < len(args):
                opts.append((a, args[i + 1]))
                i += 1
            else:
                opts.append((a, None))
        elif a.startswith("-") and len(a) > 1 and not a[1].isdigit():
            if a in values and i + 1 < len(args):
                opts.append((a, args[i + 1]))
                i += 1
            elif len(a) > 2 and a[:2] in values and not short_values:
                opts.append((a[:2], a[2:]))
            else:
                letters = a[1:]
                j = 0
                while j < len(letters):
                    ch = letters[j]
                    if ch in short_values:
                        rest = letters[j + 1:]
                        if rest:
                            opts.append(("-" + ch, rest))
                        elif i + 1 < len(args):
                            opts.append(("-" + ch, args[i + 1]))
                            i += 1
                        else:
                            opts.append(("-" + ch, None))
                        break
                    opts.append(("-" + ch, None))
                    j += 1
        else:
            pos.append(a)
        i += 1
    return opts, pos


def _opt(opts: list, *names: str) -> Optional[str]:
    """The value of the last of ``names`` given, "" when given without a value."""
    found = None
    for name, val in opts:
        if name in names:
            found = val if val is not None else ""
    return found


def _has(opts: list, *names: str) -> bool:
    return any(name in names for name, _ in opts)


# ---------------------------------------------------------------------------------------
# entry points


def effects_of(cmd: ShellCommand, state: StateView, memory: Optional[RunMemory] = None) -> list:
    """What ``cmd`` does to the executables of the image described by ``state``."""
    if memory is None:
        memory = getattr(state, "memory", None)
    if _inert(cmd):
        # a command on PATH that no handler knows (echo, test, mkdir, ...): nothing to
        # judge, only what a later command may need to remember
        if memory is not None:
            _remember_sources(cmd, memory)
            pid = cmd.extras.get("pipeline_id")
            if pid is not None and cmd.extras.get("pipeline_index") == 0:
                memory.pipes.pop(pid, None)
        return []
    try:
        ctx = _Ctx(cmd, state, memory)
        release = getattr(state, "release", None)
        if release is None:
            out = _finish(_dispatch(ctx))
        else:
            from analyzer.knowledge.debian_index import using_release

            with using_release(release):
                out = _finish(_dispatch(ctx))
    except Exception:  # a command we misread must never stop the walk
        return []
    if memory is not None:
        _remember(ctx)
    return out


def _remember(ctx: _Ctx) -> None:
    """Facts later commands need: what went into a pipe, apt sources added."""
    cmd, memory = ctx.cmd, ctx.memory
    pid = cmd.extras.get("pipeline_id")
    if pid is not None and cmd.extras.get("pipeline_index") == 0:
        memory.pipes.pop(pid, None)
        name = _name(ctx)
        if name in ("curl", "wget"):
            url = _stdout_url(ctx, name)
            if url is not None:
                memory.pipes[pid] = url
        elif name in ("cat",) and len(cmd.argv) > 1:
            path = ctx.path(cmd.argv[-1])
            if path and path in memory.downloads:
                memory.pipes[pid] = memory.downloads[path]
    _remember_sources(cmd, memory)


def _remember_sources(cmd: ShellCommand, memory: RunMemory) -> None:
    redirects = cmd.extras.get("redirects", ())
    if any("nodesource" in w for w in cmd.argv) or any("nodesource" in w for w in redirects):
        text = " ".join(cmd.argv) + " " + " ".join(redirects)
        if "sources.list" in text or "deb.nodesource.com" in text:
            memory.apt_sources.add("nodesource")


def _inert(cmd: ShellCommand) -> bool:
    """True when :func:`_dispatch` gives no effect for ``cmd`` whatever the state: a
    command named without a path and without variables that no handler, wrapper or shell
    rule knows (it ends in :func:`_run_file`, which has nothing to say about a command
    found on PATH); ``cat`` excepted, whose reading a pipe remembers."""
    name = cmd.name
    if cmd.dynamic or "/" in name:
        return False
    known = _INERT.get(name)
    if known is None:
        known = not (
            name in _HANDLERS or name in _SHELLS or name in _WRAPPERS or name in ("env", "install", "cat", "")
            or any(pattern.match(name) for pattern, _fn in _PATTERN_HANDLERS)
        )
        if len(_INERT) < 4096:
            _INERT[name] = known
    return known


_INERT: dict = {}


def _name(ctx: _Ctx) -> str:
    cmd = ctx.cmd
    if cmd.dynamic:
        value = ctx.word(cmd.name)
        if value is not None:
            return posixpath.basename(value)
        return cmd.extras.get("static_basename", "") or ""
    return posixpath.basename(cmd.name)


def _dispatch(ctx: _Ctx) -> list:
    cmd = ctx.cmd
    name = _name(ctx)
    if not name:
        return []
    memory = ctx.memory
    if name == "env" and memory is not None:
        memory.wrapper_env = {}
        for arg in cmd.argv[1:]:
            if "=" in arg and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", arg):
                key, _, val = arg.partition("=")
                value = ctx.word(val)
                if value is not None:
                    memory.wrapper_env[key] = value
            elif not arg.startswith("-"):
                break
    if name in _WRAPPERS:
        return []
    if name in _SHELLS:
        return _shell(ctx, name)
    if name == "install" and "/" in ctx.cmd.name and (ctx.word(ctx.cmd.name) or "").endswith("aws/install"):
        return _run_file(ctx, name)
    handler = _HANDLERS.get(name)
    if handler is not None:
        return handler(ctx, name)
    for pattern, fn in _PATTERN_HANDLERS:
        if pattern.match(name):
            return fn(ctx, name)
    return _run_file(ctx, name)


# ---------------------------------------------------------------------------------------
# builtins: cd, export, source


def _cd(ctx: _Ctx, name: str) -> list:
    if ctx.memory is None:
        return []
    args = [a for a in ctx.args() if not a.startswith("-") or a == "-"]
    if not args:
        ctx.memory.cwd = ctx.home
    elif args[0] == "-":
        ctx.memory.cwd = None
    else:
        ctx.memory.cwd = ctx.path(args[0])
    return []


def _export(ctx: _Ctx, name: str) -> list:
    out = []
    for arg in ctx.args():
        if arg.startswith("-") or "=" not in arg:
            continue
        key, _, raw = arg.partition("=")
        value = ctx.word(raw)
        if key == "PATH":
            if value is None:
                out.append(_unknown(None, f"export PATH={raw}"))
                continue
            out.append(Effect("path", value, None, f"export PATH={raw}"))
            ctx.env["PATH"] = value
        if ctx.memory is not None:
            if value is None:
                ctx.memory.env.pop(key, None)
            else:
                ctx.memory.env[key] = value
    return out


def _prepend_path(ctx: _Ctx, directory: str, via: str) -> Effect:
    current = ctx.env.get("PATH", "")
    dirs = [d for d in current.split(":") if d and d != directory]
    return Effect("path", ":".join([directory] + dirs), None, via)


def _source(ctx: _Ctx, name: str) -> list:
    args = ctx.args()
    if not args:
        return []
    raw = args[0]
    path = ctx.path(raw)
    via = f"{name} {raw}"
    if path is None:
        return []
    base = posixpath.basename(path)
    directory = posixpath.dirname(path)
    if base == "activate" and posixpath.basename(directory) == "bin":
        return [_prepend_path(ctx, directory, via)]
    if base == "env" and posixpath.basename(directory) in (".cargo", "cargo"):
        return [_prepend_path(ctx, f"{directory}/bin", via)]
    if base == "env" and directory.endswith("/.local/bin"):
        return [_prepend_path(ctx, directory, via)]
    if base == "nvm.sh":
        if ctx.memory is not None and ctx.memory.nvm_bin:
            return [_prepend_path(ctx, ctx.memory.nvm_bin, via)]
        return []
    return []


# ---------------------------------------------------------------------------------------
# system package managers

_APT_VALUE_OPTS = ("-o", "-c", "-t", "-a", "--option", "--config-file", "--target-release",
                   "--default-release", "--host-architecture", "--target-architecture")
_APT_INSTALL = frozenset({"install", "reinstall", "build-dep", "satisfy"})
_APT_REMOVE = frozenset({"remove", "purge", "autoremove", "autopurge"})


def _apt(ctx: _Ctx, name: str) -> list:
    from analyzer.knowledge.packages import commands_of_package, normalize_package, own_commands_of_package

    opts, pos = _parse(ctx.args(), _APT_VALUE_OPTS)
    if not pos:
        return []
    sub, pkgs = pos[0], pos[1:]
    merged = ctx.merged() or ctx.family is None
    out: list = []
    if sub in _APT_INSTALL:
        if sub == "build-dep":
            return _unknown_system(f"{name} build-dep")
        if "xargs" in ctx.cmd.wrappers:
            out += _unknown_system(f"xargs {name} install")
        for spec in pkgs:
            if sub == "install" and spec.endswith("-") and not spec.endswith(".deb"):
                pkg = normalize_package("apt", spec[:-1])
                out += _remove(own_commands_of_package("apt", pkg) or () if pkg else (), f"{name} install {spec}", pkg, merged=merged)
                continue
            value = ctx.word(spec)
            if value is not None and value.endswith(".deb"):
                out += _deb_file(ctx, value, f"{name} install {spec}")
                continue
            pkg = normalize_package("apt", value) if value is not None else None
            via = f"{name} install {pkg or spec}"
            cmds = commands_of_package("apt", pkg) if pkg else None
            if cmds is None:
                out += _unknown_system(via, pkg)
                continue
            cmds = list(cmds)
            if pkg == "nodejs" and ctx.memory is not None and "nodesource" in ctx.memory.apt_sources:
                cmds += ["/usr/bin/npm", "/usr/bin/npx", "/usr/bin/corepack"]
            out += _provide(cmds, via, pkg, merged=merged, own=own_commands_of_package("apt", pkg))
        return out
    if sub in _APT_REMOVE:
        for spec in pkgs:
            value = ctx.word(spec)
            pkg = normalize_package("apt", value) if value is not None else None
            if pkg is None:
                continue
            out += _remove(own_commands_of_package("apt", pkg) or (), f"{name} {sub} {pkg}", pkg, merged=merged)
        return out
    return []


def _deb_file(ctx: _Ctx, path: str, via: str) -> list:
    from analyzer.knowledge.packages import commands_of_package, own_commands_of_package

    pkg = posixpath.basename(path).split("_", 1)[0]
    cmds = commands_of_package("apt", pkg) if re.fullmatch(r"[a-z0-9][a-z0-9+.\-]*", pkg) else None
    if cmds is None:
        return _unknown_system(via, pkg)
    return _provide(cmds, via, pkg, merged=True, own=own_commands_of_package("apt", pkg))


def _dpkg(ctx: _Ctx, name: str) -> list:
    from analyzer.knowledge.packages import own_commands_of_package

    opts, pos = _parse(ctx.args(), ("--root", "--admindir", "--instdir"))
    out: list = []
    if _has(opts, "-i", "--install", "--unpack"):
        for spec in pos:
            path = ctx.word(spec)
            if path is None or any(c in path for c in "*?["):
                out += _unknown_system(f"dpkg -i {spec}")
            else:
                out += _deb_file(ctx, path, f"dpkg -i {spec}")
    elif _has(opts, "-r", "-P", "--remove", "--purge"):
        for spec in pos:
            out += _remove(own_commands_of_package("apt", spec) or (), f"dpkg -r {spec}", spec, merged=True)
    return out


_APK_VALUE_OPTS = ("-X", "--repository", "--repositories-file", "-p", "--root", "--arch", "--cache-dir",
                   "--keys-dir", "-t", "--virtual", "--timeout")


def _apk(ctx: _Ctx, name: str) -> list:
    from analyzer.knowledge.packages import commands_of_package, normalize_package, own_commands_of_package

    opts, pos = _parse(ctx.args(), _APK_VALUE_OPTS)
    if not pos:
        return []
    sub, specs = pos[0], pos[1:]
    out: list = []
    if sub == "add":
        virtual = _opt(opts, "-t", "--virtual")
        names = []
        for spec in specs:
            value = ctx.word(spec)
            pkg = normalize_package("apk", value) if value is not None else None
            via = f"apk add {pkg or spec}"
            names.append(pkg)
            cmds = commands_of_package("apk", pkg) if pkg else None
            if cmds is None:
                out += _unknown_system(via, pkg)
                continue
            out += _provide(cmds, via, pkg, own=own_commands_of_package("apk", pkg))
        if virtual and ctx.memory is not None:
            ctx.memory.apk_virtual[virtual] = tuple(n for n in names if n)
            if any(n is None for n in names):
                ctx.memory.apk_virtual[virtual] += (None,)
        return out
    if sub == "del":
        for spec in specs:
            value = ctx.word(spec)
            if value is None:
                continue
            group = ctx.memory.apk_virtual.pop(value, None) if ctx.memory is not None else None
            pkgs = [p for p in group if p] if group is not None else [normalize_package("apk", value)]
            for pkg in pkgs:
                if pkg:
                    out += _remove(own_commands_of_package("apk", pkg) or (), f"apk del {value}", pkg)
        return out
    return []


_RPM_VALUE_OPTS = ("--setopt", "--enablerepo", "--disablerepo", "--releasever", "--installroot", "-c",
                   "--config", "-x", "--exclude", "--repo", "--repofrom", "--forcearch", "-d", "-e",
                   "--downloaddir", "--destdir")
_RPM_GROUPS = {
    "development tools": "gcc gcc-c++ make binutils patch",
    "c development tools and libraries": "gcc gcc-c++ make binutils patch",
}


def _rpm_manager(ctx: _Ctx, name: str) -> list:
    from analyzer.knowledge.packages import commands_of_package, normalize_package, own_commands_of_package

    opts, pos = _parse(ctx.args(), _RPM_VALUE_OPTS)
    if not pos:
        return []
    sub, specs = pos[0], pos[1:]
    out: list = []
    if sub == "group" and specs and specs[0] in ("install", "mark"):
        sub, specs = "groupinstall", specs[1:]
    if sub == "groupinstall":
        for spec in specs:
            value = ctx.word(spec)
            group = _RPM_GROUPS.get((value or "").lower().lstrip("@"))
            if group is None:
                out += _unknown_system(f"{name} groupinstall {spec}")
                continue
            for pkg in group.split():
                out += _provide(commands_of_package("rpm", pkg) or (), f"{name} groupinstall {value}", pkg)
        return out
    if sub in ("install", "in", "reinstall", "localinstall"):
        for spec in specs:
            value = ctx.word(spec)
            if value is not None and value.startswith("@"):
                group = _RPM_GROUPS.get(value[1:].lower())
                if group is None:
                    out += _unknown_system(f"{name} install {spec}")
                    continue
                for pkg in group.split():
                    out += _provide(commands_of_package("rpm", pkg) or (), f"{name} install {value}", pkg)
                continue
            pkg = normalize_package("rpm", value) if value is not None else None
            via = f"{name} install {pkg or spec}"
            cmds = commands_of_package("rpm", pkg) if pkg else None
            if cmds is None:
                out += _unknown_system(via, pkg)
                continue
            out += _provide(cmds, via, pkg, own=own_commands_of_package("rpm", pkg))
        return out
    if sub in ("remove", "erase", "rm", "autoremove"):
        for spec in specs:
            value = ctx.word(spec)
            pkg = normalize_package("rpm", value) if value is not None else None
            if pkg:
                out += _remove(own_commands_of_package("rpm", pkg) or (), f"{name} {sub} {pkg}", pkg)
        return out
    if sub == "module" and specs and specs[0] == "install":
        return _unknown_system(f"{name} module install")
    return []


_ZYPPER_VALUE_OPTS = ("--root", "-R", "--from", "-r", "--repo", "-t", "--type", "-p", "--plus-repo", "--reposd-dir",
                      "--cache-dir", "--config", "-c")


def _zypper(ctx: _Ctx, name: str) -> list:
    from analyzer.knowledge.packages import commands_of_package, normalize_package, own_commands_of_package

    opts, pos = _parse(ctx.args(), _ZYPPER_VALUE_OPTS)
    if not pos:
        return []
    sub, specs = pos[0], pos[1:]
    out: list = []
    kind = _opt(opts, "-t", "--type")
    if sub in ("install", "in"):
        if kind and kind != "package":
            return _unknown_system(f"zypper install -t {kind}")
        for spec in specs:
            value = ctx.word(spec)
            pkg = normalize_package("zypper", value) if value is not None else None
            via = f"zypper install {pkg or spec}"
            cmds = commands_of_package("zypper", pkg) if pkg else None
            if cmds is None:
                out += _unknown_system(via, pkg)
                continue
            out += _provide(cmds, via, pkg, own=own_commands_of_package("zypper", pkg))
        return out
    if sub in ("remove", "rm"):
        for spec in specs:
            value = ctx.word(spec)
            pkg = normalize_package("zypper", value) if value is not None else None
            if pkg:
                out += _remove(own_commands_of_package("zypper", pkg) or (), f"zypper remove {pkg}", pkg)
        return out
    return []


def _rpm(ctx: _Ctx, name: str) -> list:
    from analyzer.knowledge.packages import own_commands_of_package

    opts, pos = _parse(ctx.args(), ("--root", "--dbpath", "--prefix", "--define"))
    flags = "".join(n[1:] for n, _ in opts if n.startswith("-") and not n.startswith("--"))
    if "i" in flags or "U" in flags or _has(opts, "--install", "--upgrade"):
        return _unknown_system(f"rpm -i {' '.join(pos)}".strip())
    if "e" in flags or _has(opts, "--erase"):
        out = []
        for spec in pos:
            out += _remove(own_commands_of_package("rpm", spec) or (), f"rpm -e {spec}", spec)
        return out
    return []


# ---------------------------------------------------------------------------------------
# Python: pip, python -m pip / venv, get-pip.py, uv, pipx, poetry, pipenv


def _python_scripts_dir(ctx: _Ctx, executable: Optional[str], user_flag: bool) -> Optional[str]:
    """Where ``pip install`` run by ``executable`` (a pip or a python) puts scripts."""
    if user_flag:
        return f"{ctx.home}/.local/bin" if ctx.home else None
    if executable is None:
        venv = ctx.env.get("VIRTUAL_ENV")
        return f"{venv.rstrip('/')}/bin" if venv else "/usr/local/bin"
    directory = posixpath.dirname(executable)
    if directory in ("/usr/bin", "/bin"):
        if not ctx.is_root():
            return f"{ctx.home}/.local/bin" if ctx.home else None
        return "/usr/bin" if ctx.family == "alpine" else "/usr/local/bin"
    if directory == "/usr/local/bin" and not ctx.is_root():
        # site-packages under /usr/local is root's: pip falls back to a user install
        return f"{ctx.home}/.local/bin" if ctx.home else None
    return directory


_PIP_VALUE_OPTS = ("-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-t", "--target",
                   "--prefix", "--root", "-i", "--index-url", "--extra-index-url", "-f", "--find-links",
                   "--platform", "--python-version", "--implementation", "--abi", "--src", "--upgrade-strategy",
                   "--trusted-host", "--cache-dir", "--progress-bar", "--log", "--timeout", "--retries",
                   "--proxy", "--cert", "--client-cert", "--exists-action", "--root-user-action",
                   "--only-binary", "--no-binary", "--config-settings", "-C", "--python", "-p", "--report")


def _pip_install(ctx: _Ctx, args: list, executable: Optional[str], label: str) -> list:
    from analyzer.knowledge.installers import commands_of, normalize_spec

    opts, pos = _parse(args, _PIP_VALUE_OPTS)
    if not pos:
        return []
    sub, specs = pos[0], pos[1:]
    target = _opt(opts, "-t", "--target")
    prefix = _opt(opts, "--prefix")
    if target:
        directory = ctx.path(target)
        directory = f"{directory}/bin" if directory else None
    elif prefix:
        directory = ctx.path(prefix)
        directory = f"{directory}/bin" if directory else None
    elif _has(opts, "--root"):
        directory = None
    else:
        directory = _python_scripts_dir(ctx, executable, _has(opts, "--user"))
    out: list = []
    if sub == "install":
        for _name, val in opts:
            if _name in ("-r", "--requirement", "-e", "--editable"):
                out.append(_unknown(directory, f"{label} install {_name} {val}"))
        for spec in specs:
            value = ctx.word(spec)
            pkg = normalize_spec("pip", value) if value is not None else None
            via = f"{label} install {pkg or spec}"
            scripts = commands_of("pip", pkg) if pkg else None
            if scripts is None or directory is None:
                out.append(_unknown(directory, via, pkg))
                continue
            out += _provide([f"{directory}/{s}" for s in scripts], via, pkg, own=_own("pip", pkg))
        return out
    if sub == "uninstall":
        for spec in specs:
            value = ctx.word(spec)
            pkg = normalize_spec("pip", value) if value is not None else None
            own = _own("pip", pkg)
            if own and directory:
                out += _remove([f"{directory}/{s}" for s in own], f"{label} uninstall {pkg}", pkg)
        return out
    return []


def _own(installer: str, pkg: Optional[str]) -> tuple:
    from analyzer.knowledge.installers import own_commands_of

    if not pkg:
        return ()
    return own_commands_of(installer, pkg) or ()


def _pip(ctx: _Ctx, name: str) -> list:
    executable = ctx.which(ctx.cmd.name if not ctx.cmd.dynamic else (ctx.word(ctx.cmd.name) or name))
    return _pip_install(ctx, ctx.args(), executable, name)


def _python(ctx: _Ctx, name: str) -> list:
    args = ctx.args()
    executable = ctx.which(ctx.cmd.name if not ctx.cmd.dynamic else (ctx.word(ctx.cmd.name) or name))
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] not in ("-m", "-", "-c"):
        i += 1
    if i >= len(args):
        if ctx.cmd.extras.get("pipeline_index"):
            args, i = args + ["-"], len(args)  # `curl ... | python3`: the script comes from the pipe
        else:
            return []
    if args[i] == "-m" and i + 1 < len(args):
        module, rest = args[i + 1], args[i + 2:]
        if module == "pip":
            return _pip_install(ctx, rest, executable, f"{name} -m pip")
        if module in ("venv", "virtualenv"):
            return _venv(ctx, rest, f"{name} -m {module}", with_pip="--without-pip" not in rest)
        if module == "ensurepip":
            d = _python_scripts_dir(ctx, executable, "--user" in rest)
            return _provide([f"{d}/pip", f"{d}/pip3"], f"{name} -m ensurepip", "pip") if d else []
        return []
    if args[i] == "-c":
        return []
    script = args[i]
    rest = args[i + 1:]
    source = _script_source(ctx, script)
    if source is not None and "get-pip" in source:
        d = _python_scripts_dir(ctx, executable, "--user" in rest)
        return _provide([f"{d}/pip", f"{d}/pip3"], "get-pip.py", "pip") if d else [_unknown(None, "get-pip.py")]
    if source is not None:
        from analyzer.knowledge.installers import installer_script

        inst = installer_script(source)
        if inst is not None and inst.kind == "poetry":
            return _installer(ctx, inst, rest, source)
    if posixpath.basename(script) == "setup.py" and any(a in ("install", "develop") for a in rest):
        return [_unknown(_python_scripts_dir(ctx, executable, "--user" in rest), f"{name} setup.py install")]
    if script == "-" and source is None:
        return [_unknown(None, f"{name} - (a script from stdin)")]
    return []


def _venv(ctx: _Ctx, args: list, via: str, *, with_pip: bool) -> list:
    opts, pos = _parse(args, ("--prompt", "-p", "--python"))
    if not pos:
        return []
    directory = ctx.path(pos[0])
    if directory is None:
        return []
    names = ["python", "python3", "activate"] + (["pip", "pip3"] if with_pip else [])
    return _provide([f"{directory}/bin/{n}" for n in names], via)


def _virtualenv(ctx: _Ctx, name: str) -> list:
    return _venv(ctx, ctx.args(), "virtualenv", with_pip="--no-pip" not in ctx.args())


def _tool_bin(ctx: _Ctx, *env_names: str, default: str) -> Optional[str]:
    for env_name in env_names:
        value = ctx.env.get(env_name)
        if value:
            return value.rstrip("/")
    if default.startswith("~"):
        return (ctx.home + default[1:]) if ctx.home else None
    return default


def _uv(ctx: _Ctx, name: str) -> list:
    from analyzer.knowledge.installers import normalize_spec

    args = ctx.args()
    opts, pos = _parse(args, _PIP_VALUE_OPTS + ("--with", "--from", "--python-preference"))
    if not pos:
        return []
    if pos[0] == "pip" and len(pos) > 1:
        rest = args[args.index("pip") + 1:]
        sub_opts, _ = _parse(rest, _PIP_VALUE_OPTS)
        system = _has(sub_opts, "--system") or ctx.env.get("UV_SYSTEM_PYTHON", "").lower() in ("1", "true", "yes")
        python = _opt(sub_opts, "--python", "-p")
        if python:
            executable = ctx.which(python) if "/" in python or not python[0].isdigit() else None
        elif system:
            executable = ctx.which("python3") or ctx.which("python")
        else:
            venv = ctx.env.get("VIRTUAL_ENV") or posixpath.join(ctx.cwd, ".venv")
            executable = f"{venv.rstrip('/')}/bin/python"
        return _pip_install(ctx, rest, executable, "uv pip")
    if pos[0] == "tool" and len(pos) > 2 and pos[1] == "install":
        directory = _tool_bin(ctx, "UV_TOOL_BIN_DIR", "XDG_BIN_HOME", default="~/.local/bin")
        value = ctx.word(pos[2])
        pkg = normalize_spec("pip", value) if value is not None else None
        scripts = _own("pip", pkg) or None
        via = f"uv tool install {pkg or pos[2]}"
        if scripts is None or directory is None:
            return [_unknown(directory, via, pkg)]
        return _provide([f"{directory}/{s}" for s in scripts], via, pkg)
    if pos[0] == "venv":
        target = pos[1] if len(pos) > 1 else ".venv"
        return _venv(ctx, [target], "uv venv", with_pip=_has(opts, "--seed"))
    if pos[0] == "sync":
        env_dir = ctx.env.get("UV_PROJECT_ENVIRONMENT") or posixpath.join(ctx.cwd, ".venv")
        return [_unknown(f"{ctx.path(env_dir)}/bin", "uv sync")]
    return []


def _pipx(ctx: _Ctx, name: str) -> list:
    from analyzer.knowledge.installers import normalize_spec

    opts, pos = _parse(ctx.args(), ("--python", "--pip-args", "--suffix", "--index-url", "--spec"))
    if len(pos) < 2 or pos[0] != "install":
        return []
    directory = _tool_bin(ctx, "PIPX_BIN_DIR", default="~/.local/bin")
    out = []
    for spec in pos[1:]:
        value = ctx.word(spec)
        pkg = normalize_spec("pip", value) if value is not None else None
        scripts = _own("pip", pkg) or None
        via = f"pipx install {pkg or spec}"
        if scripts is None or directory is None:
            out.append(_unknown(directory, via, pkg))
        else:
            out += _provide([f"{directory}/{s}" for s in scripts], via, pkg)
    return out


def _poetry(ctx: _Ctx, name: str) -> list:
    _, pos = _parse(ctx.args(), ("--with", "--without", "--only", "-E", "--extras", "-C", "--directory"))
    if not pos or pos[0] not in ("install", "add", "sync"):
        return []
    if ctx.env.get("POETRY_VIRTUALENVS_CREATE", "").lower() in ("false", "0"):
        executable = ctx.which("python3") or ctx.which("python")
        return [_unknown(_python_scripts_dir(ctx, executable, False), f"poetry {pos[0]}")]
    if ctx.env.get("POETRY_VIRTUALENVS_IN_PROJECT", "").lower() in ("true", "1"):
        return [_unknown(posixpath.join(ctx.cwd, ".venv", "bin"), f"poetry {pos[0]}")]
    return []


def _pipenv(ctx: _Ctx, name: str) -> list:
    args = ctx.args()
    if args and args[0] in ("install", "sync") and "--system" in args:
        executable = ctx.which("python3") or ctx.which("python")
        return [_unknown(_python_scripts_dir(ctx, executable, False), f"pipenv {args[0]} --system")]
    return []


# ---------------------------------------------------------------------------------------
# conda / mamba / micromamba

_CONDA_VALUE_OPTS = ("-c", "--channel", "-n", "--name", "-p", "--prefix", "-r", "--root-prefix", "--file",
                     "--solver", "--repodata-fn", "--platform", "--subdir", "--channel-priority", "--override-channels-x",
                     "--rc-file", "--experimental", "--pinned", "--log-level")


def _conda(ctx: _Ctx, name: str) -> list:
    from analyzer.knowledge.installers import commands_of, normalize_spec

    args = ctx.args()
    micromamba = name == "micromamba"
    env_cmd = len(args) > 0 and args[0] == "env"
    value_opts = _CONDA_VALUE_OPTS + (("-f",) if (micromamba or env_cmd) else ())
    opts, pos = _parse(args, value_opts)
    if not pos:
        return []
    sub = pos[0]
    specs = pos[1:]
    if sub == "env" and len(pos) > 1:
        sub, specs = f"env {pos[1]}", pos[2:]
    executable = ctx.which(ctx.cmd.name if not ctx.cmd.dynamic else (ctx.word(ctx.cmd.name) or name))
    prefix = _conda_prefix(ctx, name, opts, executable, create=sub in ("create", "env create"))
    bindir = f"{prefix}/bin" if prefix else None
    label = f"{name} {sub}"
    if sub in ("install", "create", "update", "upgrade", "env create", "env update"):
        out: list = []
        files = [v for n, v in opts if n in ("--file",) or ((micromamba or env_cmd) and n == "-f")]
        if sub.startswith("env ") or files:
            out.append(_unknown(bindir if prefix else None, f"{label} {' '.join(f for f in files if f)}".strip()))
        if sub.startswith("env "):
            return out
        for spec in specs:
            value = ctx.word(spec)
            pkg = normalize_spec("conda", value) if value is not None else None
            via = f"{label} {pkg or spec}" if bindir is None else f"{label} {pkg or spec} (into {prefix})"
            cmds = commands_of("conda", pkg) if pkg else None
            if cmds is None or bindir is None:
                out.append(_unknown(bindir, via, pkg))
                continue
            out += _provide([f"{bindir}/{c}" for c in cmds], via, pkg, own=_own("conda", pkg))
        return out
    if sub in ("remove", "uninstall"):
        out = []
        for spec in specs:
            value = ctx.word(spec)
            pkg = normalize_spec("conda", value) if value is not None else None
            if pkg and bindir:
                out += _remove([f"{bindir}/{c}" for c in _own("conda", pkg)], f"{label} {pkg}", pkg)
        return out
    return []


def _conda_prefix(ctx: _Ctx, tool: str, opts: list, executable: Optional[str], *, create: bool) -> Optional[str]:
    prefix = _opt(opts, "-p", "--prefix")
    if prefix:
        return ctx.path(prefix)
    root = _opt(opts, "-r", "--root-prefix")
    if root:
        root = ctx.path(root)
    elif tool == "micromamba":
        root = ctx.env.get("MAMBA_ROOT_PREFIX")
    elif executable is not None:
        d = posixpath.dirname(executable)
        if posixpath.basename(d) in ("bin", "condabin"):
            root = posixpath.dirname(d)
    env_name = _opt(opts, "-n", "--name")
    if env_name:
        value = ctx.word(env_name)
        if value is None or root is None:
            return None
        return root if value == "base" else f"{root}/envs/{value}"
    if create:
        return None
    active = ctx.env.get("CONDA_PREFIX")
    if active:
        return active.rstrip("/")
    return root


# ---------------------------------------------------------------------------------------
# Node: npm, yarn, pnpm, corepack, nvm


def _npm(ctx: _Ctx, name: str) -> list:
    from analyzer.knowledge.installers import commands_of, normalize_spec

    opts, pos = _parse(ctx.args(), ("--prefix", "--registry", "--cache", "--userconfig", "-w", "--workspace", "--location"))
    if not pos:
        return []
    sub, specs = pos[0], pos[1:]
    global_ = _has(opts, "-g", "--global") or _opt(opts, "--location") == "global"
    if not global_:
        return []
    prefix = _opt(opts, "--prefix") or ctx.env.get("NPM_CONFIG_PREFIX") or ctx.env.get("npm_config_prefix")
    if prefix:
        directory = f"{(ctx.path(prefix) or prefix).rstrip('/')}/bin"
    else:
        npm = ctx.which(ctx.cmd.name if not ctx.cmd.dynamic else (ctx.word(ctx.cmd.name) or name))
        d = posixpath.dirname(npm) if npm else "/usr/local/bin"
        directory = "/usr/local/bin" if d in ("/usr/bin", "/bin") else d
    out: list = []
    if sub in ("install", "i", "add", "in", "isntall", "update", "up"):
        for spec in specs:
            value = ctx.word(spec)
            pkg = normalize_spec("npm", value) if value is not None else None
            via = f"npm install -g {pkg or spec}"
            cmds = commands_of("npm", pkg) if pkg else None
            if cmds is None:
                out.append(_unknown(directory, via, pkg))
                continue
            out += _provide([f"{directory}/{c}" for c in cmds], via, pkg, own=_own("npm", pkg))
        return out
    if sub in ("uninstall", "remove", "rm", "un", "r"):
        for spec in specs:
            value = ctx.word(spec)
            pkg = normalize_spec("npm", value) if value is not None else None
            out += _remove([f"{directory}/{c}" for c in _own("npm", pkg)], f"npm uninstall -g {pkg}", pkg)
        return out
    return []


def _yarn(ctx: _Ctx, name: str) -> list:
    from analyzer.knowledge.installers import commands_of, normalize_spec

    args = ctx.args()
    if len(args) < 3 or args[0] != "global" or args[1] != "add":
        return []
    directory = "/usr/local/bin" if ctx.is_root() else (f"{ctx.home}/.yarn/bin" if ctx.home else None)
    out: list = []
    for spec in args[2:]:
        if spec.startswith("-"):
            continue
        value = ctx.word(spec)
        pkg = normalize_spec("npm", value) if value is not None else None
        cmds = commands_of("npm", pkg) if pkg else None
        via = f"yarn global add {pkg or spec}"
        if cmds is None or directory is None:
            out.append(_unknown(directory, via, pkg))
        else:
            out += _provide([f"{directory}/{c}" for c in cmds], via, pkg)
    return out


def _pnpm(ctx: _Ctx, name: str) -> list:
    from analyzer.knowledge.installers import commands_of, normalize_spec

    opts, pos = _parse(ctx.args(), ())
    if not pos or pos[0] not in ("add", "install", "i") or not _has(opts, "-g", "--global"):
        return []
    home = ctx.env.get("PNPM_HOME")
    if not home:
        return []
    out: list = []
    for spec in pos[1:]:
        value = ctx.word(spec)
        pkg = normalize_spec("npm", value) if value is not None else None
        cmds = commands_of("npm", pkg) if pkg else None
        via = f"pnpm add -g {pkg or spec}"
        out += [_unknown(home, via, pkg)] if cmds is None else _provide([f"{home}/{c}" for c in cmds], via, pkg)
    return out


def _corepack(ctx: _Ctx, name: str) -> list:
    opts, pos = _parse(ctx.args(), ("--install-directory",))
    if not pos or pos[0] != "enable":
        return []
    directory = _opt(opts, "--install-directory")
    if directory:
        directory = ctx.path(directory)
    else:
        node = ctx.which("node")
        directory = posixpath.dirname(node) if node else None
    if directory is None:
        return [_unknown(None, "corepack enable")]
    names = pos[1:] or ["yarn", "pnpm"]
    shims = {"yarn": ("yarn", "yarnpkg"), "pnpm": ("pnpm", "pnpx"), "npm": ("npm", "npx")}
    paths = [f"{directory}/{s}" for n in names for s in shims.get(n, (n,))]
    return _provide(paths, "corepack enable")


def _nvm(ctx: _Ctx, name: str) -> list:
    args = [a for a in ctx.args() if not a.startswith("-")]
    if not args or args[0] not in ("install", "use", "alias"):
        return []
    nvm_dir = ctx.env.get("NVM_DIR") or (f"{ctx.home}/.nvm" if ctx.home else None)
    if nvm_dir is None:
        return [_unknown(None, f"nvm {args[0]}")]
    versions = f"{nvm_dir.rstrip('/')}/versions/node"
    version = args[2] if args[0] == "alias" and len(args) > 2 else (args[1] if len(args) > 1 else None)
    value = ctx.word(version) if version else None
    if value is not None and re.fullmatch(r"v?\d+\.\d+\.\d+", value):
        bindir = f"{versions}/v{value.lstrip('v')}/bin"
        out = []
        if args[0] == "install":
            out += _provide([f"{bindir}/{n}" for n in ("node", "npm", "npx", "corepack")], f"nvm install {value}", "node")
        if args[0] in ("install", "use"):
            out.append(_prepend_path(ctx, bindir, f"nvm {args[0]} {value}"))
        if ctx.memory is not None and (args[0] == "alias" or ctx.memory.nvm_bin is None):
            ctx.memory.nvm_bin = bindir
        return out
    # a version range (20, lts/*, node): the exact directory is not known
    out = []
    if args[0] == "install":
        out.append(_unknown(versions, f"nvm install {version or ''}".strip(), "node"))
    if args[0] in ("install", "use"):
        out.append(_prepend_path(ctx, versions, f"nvm {args[0]} {version or ''}".strip()))
    if ctx.memory is not None and ctx.memory.nvm_bin is None:
        ctx.memory.nvm_bin = versions
    return out


# ---------------------------------------------------------------------------------------
# Ruby, Rust, Go


def _gem(ctx: _Ctx, name: str) -> list:
    from analyzer.knowledge.installers import commands_of, normalize_spec

    opts, pos = _parse(ctx.args(), ("-v", "--version", "-s", "--source", "-i", "--install-dir", "-n", "--bindir",
                                    "--platform", "-P", "--trust-policy", "--build-root"))
    if not pos:
        return []
    sub, specs = pos[0], pos[1:]
    bindir = _opt(opts, "-n", "--bindir")
    install_dir = _opt(opts, "-i", "--install-dir")
    if bindir:
        directory = ctx.path(bindir)
    elif install_dir:
        d = ctx.path(install_dir)
        directory = f"{d}/bin" if d else None
    elif _has(opts, "--user-install"):
        directory = None
    elif ctx.env.get("GEM_HOME"):
        directory = f"{ctx.env['GEM_HOME'].rstrip('/')}/bin"
    else:
        gem = ctx.which(ctx.cmd.name)
        d = posixpath.dirname(gem) if gem else "/usr/local/bin"
        if d in ("/usr/bin", "/bin"):
            directory = "/usr/bin" if ctx.family == "alpine" else "/usr/local/bin"
        else:
            directory = d
    out: list = []
    if sub == "install":
        for spec in specs:
            value = ctx.word(spec)
            pkg = normalize_spec("gem", value) if value is not None else None
            cmds = commands_of("gem", pkg) if pkg else None
            via = f"gem install {pkg or spec}"
            if cmds is None or directory is None:
                out.append(_unknown(directory, via, pkg))
            else:
                out += _provide([f"{directory}/{c}" for c in cmds], via, pkg, own=_own("gem", pkg))
        return out
    if sub == "uninstall" and directory:
        for spec in specs:
            value = ctx.word(spec)
            out += _remove([f"{directory}/{c}" for c in _own("gem", value)], f"gem uninstall {value}", value)
        return out
    return []


def _bundle(ctx: _Ctx, name: str) -> list:
    opts, pos = _parse(ctx.args(), ("--path", "--gemfile", "-j", "--jobs", "--retry", "--without", "--with", "--binstubs"))
    if not pos or pos[0] != "install":
        if pos and pos[0] == "binstubs":
            return [_unknown(posixpath.join(ctx.cwd, "bin"), "bundle binstubs")]
        return []
    if _has(opts, "--path", "--deployment"):
        return []
    gem_home = ctx.env.get("GEM_HOME")
    directory = f"{gem_home.rstrip('/')}/bin" if gem_home else ("/usr/bin" if ctx.family == "alpine" else "/usr/local/bin")
    return [_unknown(directory, "bundle install")]


def _cargo(ctx: _Ctx, name: str) -> list:
    from analyzer.knowledge.installers import commands_of, normalize_spec

    opts, pos = _parse(ctx.args(), ("--root", "--path", "--git", "--branch", "--tag", "--rev", "--version",
                                    "--vers", "--bin", "--example", "--features", "-F", "--profile", "--target",
                                    "-j", "--jobs", "--index", "--registry", "--target-dir", "--config"))
    if not pos or pos[0] != "install":
        return []
    root = _opt(opts, "--root") or ctx.env.get("CARGO_INSTALL_ROOT") or ctx.env.get("CARGO_HOME")
    if root:
        directory = f"{(ctx.path(root) or root).rstrip('/')}/bin"
    else:
        directory = f"{ctx.home}/.cargo/bin" if ctx.home else None
    bins = [v for n, v in opts if n == "--bin" and v]
    out: list = []
    if bins and directory:
        return _provide([f"{directory}/{ctx.word(b) or b}" for b in bins], f"cargo install --bin {' '.join(bins)}")
    if _has(opts, "--path", "--git"):
        return [_unknown(directory, "cargo install " + ("--path" if _has(opts, "--path") else "--git"))]
    for spec in pos[1:]:
        value = ctx.word(spec)
        pkg = normalize_spec("cargo", value) if value is not None else None
        cmds = commands_of("cargo", pkg) if pkg else None
        via = f"cargo install {pkg or spec}"
        if cmds is None or directory is None:
            out.append(_unknown(directory, via, pkg))
        else:
            out += _provide([f"{directory}/{c}" for c in cmds], via, pkg)
    return out


def _rustup(ctx: _Ctx, name: str) -> list:
    from analyzer.knowledge.installers import installer_script

    args = ctx.args()
    if name.startswith("rustup-init"):
        return _installer(ctx, installer_script("rustup-init"), args, "rustup-init")
    if len(args) >= 3 and args[0] == "component" and args[1] == "add":
        directory = _cargo_bin(ctx)
        tools = {"rustfmt": ("rustfmt", "cargo-fmt"), "clippy": ("cargo-clippy", "clippy-driver"),
                 "rust-analyzer": ("rust-analyzer",)}
        paths = [f"{directory}/{t}" for c in args[2:] for t in tools.get(c, ())] if directory else []
        return _provide(paths, f"rustup component add {' '.join(args[2:])}")
    return []


def _cargo_bin(ctx: _Ctx) -> Optional[str]:
    home = ctx.env.get("CARGO_HOME")
    if home:
        return f"{home.rstrip('/')}/bin"
    return f"{ctx.home}/.cargo/bin" if ctx.home else None


def _go_bin(ctx: _Ctx) -> Optional[str]:
    gobin = ctx.env.get("GOBIN")
    if gobin:
        return gobin.rstrip("/")
    gopath = ctx.env.get("GOPATH")
    if gopath:
        return f"{gopath.split(':')[0].rstrip('/')}/bin"
    return f"{ctx.home}/go/bin" if ctx.home else None


def _go(ctx: _Ctx, name: str) -> list:
    from analyzer.knowledge.installers import go_binary

    opts, pos = _parse(ctx.args(), ("-o", "-C", "-tags", "-ldflags", "-gcflags", "-mod", "-p", "-modfile", "-trimpath-x"))
    if not pos:
        return []
    sub, specs = pos[0], pos[1:]
    if sub == "build":
        out_path = _opt(opts, "-o")
        if out_path:
            path = ctx.path(out_path)
            if path is None:
                return []
            if out_path.endswith("/"):
                return [_unknown(path, "go build -o")]
            return _provide([path], f"go build -o {out_path}")
        return []
    directory = _go_bin(ctx)
    if sub == "install":
        out: list = []
        for spec in specs:
            value = ctx.word(spec)
            binary = go_binary(value) if value is not None else None
            via = f"go install {value or spec}"
            if binary is None or directory is None:
                out.append(_unknown(directory, via))
            else:
                out += _provide([f"{directory}/{binary}"], via, value.split("@", 1)[0] if value else None)
        return out
    if sub == "get" and specs:
        return [_unknown(directory, f"go get {' '.join(specs)}")]
    return []


# ---------------------------------------------------------------------------------------
# downloads, shells and installer scripts


def _stdout_url(ctx: _Ctx, name: str) -> Optional[str]:
    """The URL a curl / wget writes to standard output, if that is what it does."""
    args = ctx.args()
    urls = [ctx.word(a) for a in args if _is_url(ctx.word(a) or "")]
    if not urls:
        return None
    if name == "curl":
        opts, _ = _parse(args, _CURL_VALUE_OPTS, short_values=_CURL_SHORT_VALUES)
        out = _opt(opts, "-o", "--output")
        if (out and out != "-") or _has(opts, "-O", "--remote-name", "--remote-name-all"):
            return None
        return urls[-1]
    opts, _ = _parse(args, _WGET_VALUE_OPTS, short_values=_WGET_SHORT_VALUES)
    out = _opt(opts, "-O", "--output-document")
    return urls[-1] if out == "-" else None


_CURL_VALUE_OPTS = ("-o", "--output", "-H", "--header", "-u", "--user", "-d", "--data", "--data-binary",
                    "--data-raw", "-X", "--request", "-A", "--user-agent", "-e", "--referer", "--retry",
                    "--retry-delay", "--retry-max-time", "-m", "--max-time", "--connect-timeout", "--cacert",
                    "--capath", "-E", "--cert", "--key", "-x", "--proxy", "-w", "--write-out", "--output-dir",
                    "-T", "--upload-file", "-C", "--continue-at", "-b", "--cookie", "-c", "--cookie-jar",
                    "--proto", "--proto-redir", "--tlsv1.2-x", "-K", "--config", "-r", "--range", "-F", "--form",
                    "--resolve", "--limit-rate", "-y", "-Y", "--url", "--create-file-mode")
_CURL_SHORT_VALUES = "oHudXAemxwETCbcKrFyY"
_WGET_VALUE_OPTS = ("-O", "--output-document", "-P", "--directory-prefix", "-o", "--output-file", "-a",
                    "--append-output", "-t", "--tries", "-T", "--timeout", "-U", "--user-agent", "--header",
                    "--user", "--password", "-e", "--execute", "-i", "--input-file", "--ca-certificate",
                    "--progress", "-w", "--wait", "--limit-rate", "-Q", "--quota", "--post-data", "--method",
                    "-l", "--level")
_WGET_SHORT_VALUES = "OPoatTUeiwQl"


def _download(ctx: _Ctx, name: str) -> list:
    args = ctx.args()
    if name == "curl":
        opts, pos = _parse(args, _CURL_VALUE_OPTS, short_values=_CURL_SHORT_VALUES)
        urls = [ctx.word(p) for p in pos] + [ctx.word(v) for n, v in opts if n == "--url" and v]
        urls = [u for u in urls if u and _is_url(u)]
        outputs = [v for n, v in opts if n in ("-o", "--output") and v is not None]
        remote = _has(opts, "-O", "--remote-name", "--remote-name-all")
        out_dir = _opt(opts, "--output-dir")
        targets: list = []
        for i, url in enumerate(urls):
            if i < len(outputs):
                if outputs[i] == "-":
                    continue
                path = ctx.path(outputs[i])
                if out_dir and not outputs[i].startswith("/"):
                    path = ctx.path(posixpath.join(out_dir, outputs[i]))
                targets.append((path, url))
            elif remote:
                base = posixpath.basename(url.split("?", 1)[0].split("#", 1)[0]) or None
                d = ctx.path(out_dir) if out_dir else ctx.cwd
                targets.append((posixpath.join(d, base) if (base and d) else None, url))
        # an -o whose URL is a variable still writes the file
        if not urls and outputs:
            targets = [(ctx.path(o), None) for o in outputs if o != "-"]
    else:
        opts, pos = _parse(args, _WGET_VALUE_OPTS, short_values=_WGET_SHORT_VALUES)
        urls = [u for u in (ctx.word(p) for p in pos) if u and _is_url(u)]
        output = _opt(opts, "-O", "--output-document")
        prefix = _opt(opts, "-P", "--directory-prefix")
        targets = []
        if output == "-":
            return []
        if output:
            targets.append((ctx.path(output), urls[0] if urls else None))
        else:
            for url in urls:
                base = posixpath.basename(url.split("?", 1)[0].split("#", 1)[0]) or "index.html"
                d = ctx.path(prefix) if prefix else ctx.cwd
                targets.append((posixpath.join(d, base) if d else None, url))
    out: list = []
    for path, url in targets:
        if path is None:
            continue
        if ctx.memory is not None and url:
            ctx.memory.downloads[path] = url
        if _bin_like(ctx, posixpath.dirname(path)):
            out += _provide([path], f"{name} {'-o' if name == 'curl' else '-O'} {path}", merged=ctx.merged())
    return out


def _script_source(ctx: _Ctx, script: str) -> Optional[str]:
    """The URL (or the file name) a script run by a shell or interpreter came from."""
    if script == "-" or script is None:
        return _piped_url(ctx)
    path = ctx.path(script)
    if path is None:
        return script
    if ctx.memory is not None and path in ctx.memory.downloads:
        return ctx.memory.downloads[path] + " " + posixpath.basename(path)
    return path


def _piped_url(ctx: _Ctx) -> Optional[str]:
    pid = ctx.cmd.extras.get("pipeline_id")
    if pid is None or ctx.memory is None or not ctx.cmd.extras.get("pipeline_index"):
        return None
    return ctx.memory.pipes.get(pid)


def _shell(ctx: _Ctx, name: str) -> list:
    args = ctx.args()
    i = 0
    stdin = False
    while i < len(args) and args[i][:1] in ("-", "+") and args[i] not in ("-", "--"):
        opt = args[i]
        short = not opt.startswith("--")
        if short and "c" in opt[1:]:
            script = args[i + 1] if i + 1 < len(args) else ""
            if re.search(r"^\s*\$\(\s*(curl|wget)\b|^\s*`\s*(curl|wget)\b", script.strip("\"'")):
                # sh -c "$(curl -fsSL URL)": a script nobody can read
                return [_unknown(None, f"{name} {opt} {script}")]
            return []  # a script string: its commands are judged on their own
        if short and "s" in opt[1:]:
            stdin = True
            i += 1
            break
        if short and opt[-1] in ("o", "O") and i + 1 < len(args):
            i += 1  # -o pipefail, -euxo pipefail
        i += 1
    if i < len(args) and args[i] == "--":
        i += 1
    rest = args[i:]
    redirects = ctx.cmd.extras.get("redirects", ())
    if any(r.startswith("<<") for r in redirects):
        return []  # a heredoc or here-string: its commands are judged on their own
    if stdin or not rest or rest[0] == "-":
        from_file = next((r[1:].strip() for r in redirects if r.startswith("<") and not r.startswith("<(")), None)
        if from_file:
            script_args = rest[1:] if rest and rest[0] == "-" else rest
            return _run_source(ctx, _script_source(ctx, from_file), script_args, f"{name} < {from_file}")
        if not ctx.cmd.extras.get("pipeline_index"):
            return []
        url = _piped_url(ctx)
        script_args = rest[1:] if rest and rest[0] == "-" else rest
        if script_args and script_args[0] == "--":
            script_args = script_args[1:]
        return _run_source(ctx, url, script_args, f"{name} (script from stdin)")
    script, script_args = rest[0], rest[1:]
    source = _script_source(ctx, script)
    return _run_source(ctx, source, script_args, f"{name} {script}")


def _run_source(ctx: _Ctx, source: Optional[str], args: list, via: str) -> list:
    from analyzer.knowledge.installers import installer_script

    if source is None:
        return [_unknown(None, via)]
    inst = installer_script(source)
    if inst is None:
        return [_unknown(None, f"{via} ({source})" if source not in via else via)]
    return _installer(ctx, inst, args, source)


def _run_file(ctx: _Ctx, name: str) -> list:
    """A command that is a file of its own: a downloaded installer, ./aws/install, a script."""
    from analyzer.knowledge.installers import installer_script

    raw = ctx.cmd.name if not ctx.cmd.dynamic else (ctx.word(ctx.cmd.name) or "")
    if "/" not in raw:
        return []  # a command found on PATH: every case below runs a file named by its path
    path = ctx.path(raw)
    args = ctx.args()
    if path is not None and ctx.memory is not None and path in ctx.memory.downloads:
        return _run_source(ctx, ctx.memory.downloads[path] + " " + posixpath.basename(path), args, raw)
    if path is not None and path.endswith("/aws/install"):
        opts, _ = _parse(args, ("-i", "--install-dir", "-b", "--bin-dir"))
        bindir = ctx.path(_opt(opts, "-b", "--bin-dir") or "/usr/local/bin") or "/usr/local/bin"
        return _provide([f"{bindir}/aws", f"{bindir}/aws_completer"], f"{raw} (AWS CLI v2 installer)", "awscli")
    if path is not None and posixpath.basename(path) == "configure":
        opts, _ = _parse(args, ("--prefix",))
        prefix = _opt(opts, "--prefix")
        if prefix and ctx.memory is not None:
            ctx.memory.prefix = ctx.path(prefix)
        return []
    inst = installer_script(name)
    if inst is not None and "/" in raw:
        return _installer(ctx, inst, args, name)
    if "/" in raw and name.endswith((".sh", ".bash")) and name not in ("autogen.sh", "bootstrap.sh"):
        return [_unknown(None, f"runs {raw}")]
    return []


def _installer(ctx: _Ctx, inst, args: list, source: str) -> list:
    kind = inst.kind
    label = inst.label
    if kind == "conda":
        opts, _ = _parse(args, (), short_values="p")
        prefix = _opt(opts, "-p")
        directory = ctx.path(prefix) if prefix else None
        if directory is None:
            if prefix:
                return [_unknown(None, f"{label} -p {prefix}")]
            default = inst.default_dir[:-4] if inst.default_dir.endswith("/bin") else inst.default_dir
            directory = (ctx.home + default[1:]) if (default.startswith("~") and ctx.home) else None
            if directory is None:
                return [_unknown(None, label)]
        batch = _has(opts, "-b")
        if prefix:
            via = f"{label} {'-b ' if batch else ''}-p {directory}"
        else:
            via = f"{label} (default prefix {directory})"
        bindir = f"{directory}/bin"
        return _provide([f"{bindir}/{c}" for c in inst.commands], via) + [_unknown(bindir, via)]
    if kind == "rustup":
        directory = _cargo_bin(ctx)
        if directory is None:
            return [_unknown(None, label)]
        return _provide([f"{directory}/{c}" for c in inst.commands], label, "rustup")
    if kind == "uv":
        env = dict(ctx.env)
        directory = env.get("UV_INSTALL_DIR") or env.get("XDG_BIN_HOME") or (f"{ctx.home}/.local/bin" if ctx.home else None)
        if directory is None:
            return [_unknown(None, label)]
        return _provide([f"{directory.rstrip('/')}/{c}" for c in inst.commands], label, "uv")
    if kind == "nvm":
        return []
    if kind == "nodesource":
        if ctx.memory is not None:
            ctx.memory.apt_sources.add("nodesource")
        return []
    if kind == "get-pip":
        executable = ctx.which(ctx.cmd.name) if _name(ctx) not in _SHELLS else None
        d = _python_scripts_dir(ctx, executable, "--user" in args)
        return _provide([f"{d}/pip", f"{d}/pip3"], label, "pip") if d else [_unknown(None, label)]
    if kind == "poetry":
        directory = _tool_bin(ctx, default="~/.local/bin")
        home = ctx.env.get("POETRY_HOME")
        if home:
            directory = f"{home.rstrip('/')}/bin"
        return _provide([f"{directory}/poetry"], label, "poetry") if directory else [_unknown(None, label)]
    if kind == "pyenv":
        root = ctx.env.get("PYENV_ROOT") or (f"{ctx.home}/.pyenv" if ctx.home else None)
        return _provide([f"{root}/bin/pyenv"], label, "pyenv") if root else [_unknown(None, label)]
    if kind == "bun":
        root = ctx.env.get("BUN_INSTALL") or (f"{ctx.home}/.bun" if ctx.home else None)
        return _provide([f"{root}/bin/{c}" for c in inst.commands], label, "bun") if root else [_unknown(None, label)]
    if kind == "deno":
        root = ctx.env.get("DENO_INSTALL") or (f"{ctx.home}/.deno" if ctx.home else None)
        return _provide([f"{root}/bin/deno"], label, "deno") if root else [_unknown(None, label)]
    if kind == "docker":
        return _provide([f"/usr/bin/{c}" for c in inst.commands], label, "docker-ce", merged=ctx.merged())
    if kind == "helm":
        directory = ctx.env.get("HELM_INSTALL_DIR") or inst.default_dir
        return _provide([f"{directory.rstrip('/')}/helm"], label, "helm")
    return [_unknown(None, label)]


def _pyenv(ctx: _Ctx, name: str) -> list:
    args = [a for a in ctx.args() if not a.startswith("-")]
    root = ctx.env.get("PYENV_ROOT") or (f"{ctx.home}/.pyenv" if ctx.home else None)
    if root is None or not args:
        return []
    if args[0] == "install" and len(args) > 1:
        version = ctx.word(args[1])
        shims = [f"{root}/shims/{n}" for n in ("python", "python3", "pip", "pip3", "pydoc", "idle")]
        if version and re.fullmatch(r"\d+\.\d+\.\d+", version):
            return _provide([f"{root}/versions/{version}/bin/{n}" for n in ("python", "python3", "pip", "pip3")] + shims,
                            f"pyenv install {version}", "python")
        return [_unknown(f"{root}/versions", f"pyenv install {args[1]}", "python")] + _provide(shims, f"pyenv install {args[1]}", "python")
    return []


# ---------------------------------------------------------------------------------------
# files: install, cp, mv, ln, chmod, rm, tar, unzip, gunzip, update-alternatives, make, git


def _is_dir_target(ctx: _Ctx, raw: str, path: str, many: bool) -> bool:
    if many or raw.endswith("/") or raw in (".", ".."):
        return True
    return _bin_like(ctx, path) or path in ("/usr/local", "/opt", "/tmp", "/usr", "/")


def _install(ctx: _Ctx, name: str) -> list:
    opts, pos = _parse(ctx.args(), ("-m", "--mode", "-o", "--owner", "-g", "--group", "-t", "--target-directory",
                                    "-S", "--suffix", "-Z", "--context"))
    if _has(opts, "-d", "--directory"):
        return []
    target_dir = _opt(opts, "-t", "--target-directory")
    via = "install"
    if target_dir:
        d = ctx.path(target_dir)
        if d is None:
            return []
        return _provide([f"{d}/{posixpath.basename(s.rstrip('/'))}" for s in pos if ctx.word(s)], f"install -t {target_dir}", merged=ctx.merged())
    if len(pos) < 2:
        return []
    dest_raw = pos[-1]
    dest = ctx.path(dest_raw)
    if dest is None:
        return []
    sources = pos[:-1]
    if _is_dir_target(ctx, dest_raw, dest, len(sources) > 1) and not _has(opts, "-T", "--no-target-directory"):
        paths = [f"{dest}/{posixpath.basename(s.rstrip('/'))}" for s in sources]
    else:
        paths = [dest]
    return _provide(paths, f"{via} {' '.join(ctx.args())}", merged=ctx.merged())


def _copy_like(ctx: _Ctx, name: str) -> list:
    opts, pos = _parse(ctx.args(), ("-t", "--target-directory", "-S", "--suffix", "--backup", "--preserve-x"))
    recursive = _has(opts, "-r", "-R", "-a", "--recursive", "--archive") or name == "mv"
    target_dir = _opt(opts, "-t", "--target-directory")
    if target_dir:
        dest_raw, sources = target_dir, pos
        many = True
    else:
        if len(pos) < 2:
            return []
        dest_raw, sources = pos[-1], pos[:-1]
        many = len(sources) > 1
    dest = ctx.path(dest_raw)
    via = f"{name} {' '.join(ctx.args())}"
    if dest is None:
        return [_unknown(None, via)]
    to_dir = _is_dir_target(ctx, dest_raw, dest, many) and not _has(opts, "-T", "--no-target-directory")
    out: list = []
    merged = ctx.merged()
    for src in sources:
        value = ctx.word(src)
        if value is None or _GLOB.search(value):
            out.append(_unknown(dest if to_dir else posixpath.dirname(dest), via))
            continue
        src_path = ctx.path(value)
        final = f"{dest}/{posixpath.basename(value.rstrip('/'))}" if to_dir else dest
        if value.endswith(("/", "/.")):
            out.append(_unknown(dest, via))
        elif name == "cp" and recursive and not _looks_like_file(value):
            out.append(_unknown(final, via))
        elif name == "mv" and not _bin_like(ctx, posixpath.dirname(final)) and not _looks_like_file(value):
            out.append(_unknown(final, via))
        else:
            out += _provide([final], via, merged=merged)
        if name == "mv" and src_path and src_path != final:
            out.append(_e("remove", src_path, via))
    return out


def _looks_like_file(path: str) -> bool:
    base = posixpath.basename(path.rstrip("/"))
    return "." in base.strip(".") or posixpath.basename(posixpath.dirname(path.rstrip("/"))) in ("bin", "sbin")


def _ln(ctx: _Ctx, name: str) -> list:
    opts, pos = _parse(ctx.args(), ("-t", "--target-directory", "-S", "--suffix"))
    target_dir = _opt(opts, "-t", "--target-directory")
    via = f"ln {' '.join(ctx.args())}"
    merged = ctx.merged()
    if target_dir:
        d = ctx.path(target_dir)
        return _provide([f"{d}/{posixpath.basename(t.rstrip('/'))}" for t in pos], via, merged=merged) if d else []
    if not pos:
        return []
    if len(pos) == 1:
        target = ctx.word(pos[0])
        if target is None:
            return [_unknown(ctx.cwd, via)]
        return _provide([posixpath.join(ctx.cwd, posixpath.basename(target.rstrip("/")))], via, merged=merged)
    link_raw, targets = pos[-1], pos[:-1]
    link = ctx.path(link_raw)
    if link is None:
        return [_unknown(None, via)]
    to_dir = (len(targets) > 1 or link_raw.endswith("/") or _bin_like(ctx, link)) and not _has(opts, "-T", "--no-target-directory", "-n", "--no-dereference")
    if _has(opts, "-n", "--no-dereference") and link_raw.endswith("/"):
        to_dir = True
    out: list = []
    for t in targets:
        value = ctx.word(t)
        if value is None or _GLOB.search(value):
            out.append(_unknown(link if to_dir else posixpath.dirname(link), via))
            continue
        out += _provide([f"{link}/{posixpath.basename(value.rstrip('/'))}" if to_dir else link], via, merged=merged)
    return out


_CHMOD_X = lazy(r"^(?:[ugoa]*[+=][rwxXst]*x[rwxXst]*(?:,.*)?|.*,[ugoa]*[+=][rwxXst]*x.*)$")


def _chmod(ctx: _Ctx, name: str) -> list:
    args = ctx.args()
    opts, pos = _parse(args, ("--reference",))
    if _has(opts, "-R", "--recursive") or len(pos) < 2:
        # `chmod -x`-style modes are parsed as options; nothing to add then
        return []
    mode, files = pos[0], pos[1:]
    if re.fullmatch(r"[0-7]{3,4}", mode):
        executable = any(int(d) & 1 for d in mode[-3:])
    else:
        executable = bool(_CHMOD_X.match(mode)) or mode in ("+x", "a+x", "u+x", "+rx", "a+rx", "ugo+x", "755")
    if not executable:
        return []
    paths = []
    for f in files:
        value = ctx.word(f)
        if value is None or _GLOB.search(value):
            continue
        p = ctx.path(value)
        if p:
            paths.append(p)
    return _provide(paths, f"chmod {mode}", merged=ctx.merged())


def _rm(ctx: _Ctx, name: str) -> list:
    opts, pos = _parse(ctx.args(), ())
    out: list = []
    merged = ctx.merged()
    for raw in pos:
        value = ctx.word(raw)
        if value is None:
            continue
        via = f"rm {' '.join(ctx.args())}"
        if _GLOB.search(value):
            head = value[:-2] if value.endswith("/*") else None
            if head and not _GLOB.search(head):
                p = ctx.path(head)
                if p:
                    out.append(_e("remove", p.rstrip("/") + "/", via))
            continue
        p = ctx.path(value)
        if p and p != "/":
            out += _remove([p], via, merged=merged)
    return out


_TAR_VALUE_OPTS = ("-C", "--directory", "-f", "--file", "--strip-components", "--strip", "-T", "--files-from",
                   "-X", "--exclude-from", "--exclude", "--transform", "--xform", "--owner", "--group", "--mode",
                   "--use-compress-program", "-I", "--wildcards-x", "-b", "--blocking-factor")
_KNOWN_ARCHIVES = (
    (re.compile(r"node-v(\d+)\.\d+\.\d+-linux-[a-z0-9]+\.tar\.(?:xz|gz)"),
     lambda m: ["bin/node", "bin/npm", "bin/npx"] + (["bin/corepack"] if int(m.group(1)) <= 24 else []), 1),
    (re.compile(r"go\d+\.\d+(?:\.\d+)?\.linux-[a-z0-9]+\.tar\.gz"), lambda m: ["go/bin/go", "go/bin/gofmt"], 0),
)


def _tar(ctx: _Ctx, name: str) -> list:
    args = list(ctx.args())
    if args and not args[0].startswith("-") and re.fullmatch(r"[A-Za-z]+", args[0]):
        args[0] = "-" + args[0]  # old-style bundled options: tar xzf FILE
    opts, pos = _parse(args, _TAR_VALUE_OPTS, short_values="CfTXbI")
    if not _has(opts, "-x", "--extract", "--get"):
        return []
    directory = _opt(opts, "-C", "--directory")
    dest = ctx.path(directory) if directory else ctx.cwd
    archive = _opt(opts, "-f", "--file")
    strip = _opt(opts, "--strip-components", "--strip")
    try:
        strip_n = int(strip) if strip else 0
    except ValueError:
        strip_n = -1
    source = None
    if archive in (None, "-"):
        source = _piped_url(ctx)
    else:
        path = ctx.path(archive)
        source = (ctx.memory.downloads.get(path) if (ctx.memory is not None and path) else None) or archive
    via = f"tar -x {archive or '(stdin)'}" + (f" -C {directory}" if directory else "")
    if dest is None:
        return [_unknown(None, via)]
    members = [m for m in (ctx.word(p) for p in pos) if m]
    if members and strip_n >= 0 and not any(_GLOB.search(m) for m in members):
        paths = []
        for m in members:
            parts = [p for p in m.split("/") if p and p != "."][strip_n:]
            if parts:
                paths.append(posixpath.join(dest, *parts))
        return _provide(paths, via, merged=ctx.merged())
    if source is not None and strip_n >= 0:
        for pattern, files, top in _KNOWN_ARCHIVES:
            m = pattern.search(source)
            if m:
                out = []
                for f in files(m):
                    parts = f.split("/")
                    if top and strip_n != top:
                        break
                    out.append(posixpath.join(dest, *parts[max(0, strip_n - top):]))
                else:
                    return _provide(out, via)
    return [_unknown(dest, via)]


def _unzip(ctx: _Ctx, name: str) -> list:
    opts, pos = _parse(ctx.args(), ("-d", "-x", "-P"))
    directory = _opt(opts, "-d")
    dest = ctx.path(directory) if directory else ctx.cwd
    via = f"unzip {' '.join(ctx.args())}"
    if dest is None:
        return [_unknown(None, via)]
    members = [ctx.word(p) for p in pos[1:]]
    if members and all(m and not _GLOB.search(m) for m in members) and not _has(opts, "-j"):
        return _provide([posixpath.join(dest, m) for m in members], via)
    if members and all(m and not _GLOB.search(m) for m in members):
        return _provide([posixpath.join(dest, posixpath.basename(m)) for m in members], via)
    return [_unknown(dest, via)]


def _decompress(ctx: _Ctx, name: str) -> list:
    opts, pos = _parse(ctx.args(), ("-S", "--suffix"))
    if name in ("gzip", "xz", "bzip2", "zstd") and not _has(opts, "-d", "--decompress"):
        return []
    if _has(opts, "-c", "--stdout", "-k", "--keep") and _has(opts, "-c", "--stdout"):
        return []
    out = []
    for raw in pos:
        p = ctx.path(raw)
        if p and re.search(r"\.(gz|xz|bz2|zst|lzma)$", p) and _bin_like(ctx, posixpath.dirname(p)):
            out += _provide([re.sub(r"\.(gz|xz|bz2|zst|lzma)$", "", p)], f"{name} {raw}")
    return out


def _alternatives(ctx: _Ctx, name: str) -> list:
    args = ctx.args()
    out: list = []
    i = 0
    while i < len(args):
        if args[i] in ("--install", "--slave") and i + 3 < len(args):
            link = ctx.path(args[i + 1])
            if link:
                out += _provide([link], f"update-alternatives {args[i]} {args[i + 1]} {args[i + 2]} {args[i + 3]}", merged=ctx.merged())
            i += 4 if args[i] == "--slave" else 5
            continue
        i += 1
    return out


def _make(ctx: _Ctx, name: str) -> list:
    args = ctx.args()
    if name == "cmake":
        if "--install" in args:
            opts, _ = _parse(args, ("--install", "--prefix", "--config", "--component"))
            prefix = _opt(opts, "--prefix")
            prefix = ctx.path(prefix) if prefix else ((ctx.memory.prefix if ctx.memory else None) or "/usr/local")
            return [_unknown(f"{prefix}/bin", "cmake --install"), _unknown(f"{prefix}/sbin", "cmake --install")]
        for a in args:
            if a.startswith("-DCMAKE_INSTALL_PREFIX="):
                value = ctx.path(a.split("=", 1)[1])
                if value and ctx.memory is not None:
                    ctx.memory.prefix = value
        return []
    targets = [a for a in args if not a.startswith("-") and "=" not in a]
    if "install" not in targets:
        return []
    prefix = None
    destdir = None
    for a in args:
        if re.match(r"^(PREFIX|prefix)=", a):
            prefix = ctx.path(a.split("=", 1)[1])
        if a.startswith("DESTDIR="):
            destdir = ctx.path(a.split("=", 1)[1])
    prefix = prefix or (ctx.memory.prefix if ctx.memory else None) or "/usr/local"
    if destdir:
        prefix = posixpath.normpath(destdir + "/" + prefix)
    via = f"{name} install"
    return [_unknown(f"{prefix}/bin", via), _unknown(f"{prefix}/sbin", via)]


def _git(ctx: _Ctx, name: str) -> list:
    opts, pos = _parse(ctx.args(), ("-b", "--branch", "--depth", "-c", "--config", "-C", "--origin", "-o",
                                    "--reference", "--separate-git-dir", "-j", "--jobs", "--filter"))
    if not pos or pos[0] != "clone" or len(pos) < 2:
        return []
    url = ctx.word(pos[1]) or pos[1]
    target = pos[2] if len(pos) > 2 else posixpath.basename(url.rstrip("/"))
    if target.endswith(".git"):
        target = target[:-4]
    directory = ctx.path(target)
    if directory is None:
        return []
    via = f"git clone {url}"
    if re.search(r"pyenv/pyenv(\.git)?$", url):
        return _provide([f"{directory}/bin/pyenv"], via, "pyenv") + [_unknown(directory, via)]
    return [_unknown(directory, via)]


def _compiler(ctx: _Ctx, name: str) -> list:
    args = ctx.args()
    out_path = None
    for i, a in enumerate(args):
        if a == "-o" and i + 1 < len(args):
            out_path = args[i + 1]
        elif a.startswith("-o") and len(a) > 2:
            out_path = a[2:]
    if out_path is None or "-c" in args or "-E" in args or "-S" in args:
        return []
    path = ctx.path(out_path)
    return _provide([path], f"{name} -o {out_path}", merged=ctx.merged()) if path else []


_HANDLERS = {
    "cd": _cd,
    "export": _export,
    "source": _source,
    ".": _source,
    "apt-get": _apt,
    "apt": _apt,
    "aptitude": _apt,
    "dpkg": _dpkg,
    "apk": _apk,
    "yum": _rpm_manager,
    "dnf": _rpm_manager,
    "microdnf": _rpm_manager,
    "tdnf": _rpm_manager,
    "zypper": _zypper,
    "rpm": _rpm,
    "uv": _uv,
    "pipx": _pipx,
    "poetry": _poetry,
    "pipenv": _pipenv,
    "virtualenv": _virtualenv,
    "conda": _conda,
    "mamba": _conda,
    "micromamba": _conda,
    "npm": _npm,
    "yarn": _yarn,
    "pnpm": _pnpm,
    "corepack": _corepack,
    "nvm": _nvm,
    "gem": _gem,
    "bundle": _bundle,
    "bundler": _bundle,
    "cargo": _cargo,
    "rustup": _rustup,
    "go": _go,
    "curl": _download,
    "wget": _download,
    "pyenv": _pyenv,
    "install": _install,
    "cp": _copy_like,
    "mv": _copy_like,
    "ln": _ln,
    "chmod": _chmod,
    "rm": _rm,
    "tar": _tar,
    "unzip": _unzip,
    "gunzip": _decompress,
    "gzip": _decompress,
    "xz": _decompress,
    "unxz": _decompress,
    "bunzip2": _decompress,
    "bzip2": _decompress,
    "zstd": _decompress,
    "update-alternatives": _alternatives,
    "make": _make,
    "gmake": _make,
    "ninja": _make,
    "cmake": _make,
    "git": _git,
    "gcc": _compiler,
    "cc": _compiler,
    "g++": _compiler,
    "c++": _compiler,
    "clang": _compiler,
    "clang++": _compiler,
}

_PATTERN_HANDLERS = (
    (re.compile(r"^pip(\d+(\.\d+)?)?$"), _pip),
    (re.compile(r"^python(\d+(\.\d+)?)?$"), _python),
    (re.compile(r"^rustup-init(\.sh)?$"), _rustup),
)


# ---------------------------------------------------------------------------------------
# privileges and package managers

_SYSTEM_PREFIXES = ("/usr/", "/etc/", "/var/", "/lib", "/bin/", "/sbin/", "/opt/", "/root", "/srv/", "/boot/")
_SYSTEM_EXACT = frozenset({"/usr", "/etc", "/var", "/lib", "/bin", "/sbin", "/opt", "/root", "/srv", "/"})
_ROOT_ONLY = frozenset({
    "useradd", "userdel", "usermod", "groupadd", "groupdel", "groupmod", "adduser", "addgroup", "deluser",
    "delgroup", "chpasswd", "update-ca-certificates", "update-ca-trust", "locale-gen", "update-locale",
    "ldconfig", "chown", "setcap", "dpkg-reconfigure", "add-apt-repository", "apt-key", "visudo",
})


def _system_path(text: str) -> bool:
    if not text.startswith("/"):
        return False
    path = posixpath.normpath(text)
    if path.startswith("/tmp") or path.startswith("/home/") or path.startswith("/dev/"):
        return False
    if path in _SYSTEM_EXACT:
        return True
    # /opt is often handed to the image's user (jupyter's /opt/conda): not judged here
    if path.startswith("/opt/"):
        return False
    return path.startswith(_SYSTEM_PREFIXES)


def package_manager_of(cmd: ShellCommand, *, install_only: bool = False) -> Optional[str]:
    """The system package manager ``cmd`` runs: ``apt`` (apt-get, apt, aptitude), ``apk``,
    ``yum`` / ``dnf`` / ``microdnf`` / ``tdnf``, ``zypper``; None for anything else.

    By default any operation counts (``apt-get update`` is already apt); with
    ``install_only`` only an install does (``apt-get install``, ``apk add``, ``dnf
    install``/``groupinstall``, ``zypper install``).
    """
    name = posixpath.basename(cmd.name) if not cmd.dynamic else cmd.extras.get("static_basename", "")
    args = list(cmd.argv[1:])
    if name in ("apt-get", "apt", "aptitude"):
        _, pos = _parse(args, _APT_VALUE_OPTS)
        return "apt" if pos and (not install_only or pos[0] in _APT_INSTALL) else None
    if name == "apk":
        _, pos = _parse(args, _APK_VALUE_OPTS)
        return "apk" if pos and (not install_only or pos[0] == "add") else None
    if name in ("yum", "dnf", "microdnf", "tdnf"):
        _, pos = _parse(args, _RPM_VALUE_OPTS)
        if pos and (not install_only or pos[0] in ("install", "in", "reinstall", "localinstall", "groupinstall")
                    or (pos[0] == "group" and len(pos) > 1 and pos[1] == "install")):
            return name
        return None
    if name == "zypper":
        _, pos = _parse(args, _ZYPPER_VALUE_OPTS)
        return "zypper" if pos and (not install_only or pos[0] in ("install", "in")) else None
    return None


def needs_root(cmd: ShellCommand, state: Optional[StateView] = None) -> bool:
    """True if ``cmd`` fails for lack of privileges when run by a non-root user: system
    package managers changing the system, user management, writes into system
    directories. False under ``sudo``/``doas``, and for what only may need root (``pip
    install`` falls back to a user install; ``/opt`` is often the user's)."""
    if any(w in ("sudo", "doas") for w in cmd.wrappers):
        return False
    name = posixpath.basename(cmd.name) if not cmd.dynamic else cmd.extras.get("static_basename", "")
    args = list(cmd.argv[1:])
    redirects = cmd.extras.get("redirects", ())
    for r in redirects:
        m = re.match(r"^\d*(>>?|&>>?|>\|)\s*(\S+)$", r.strip())
        if m and _system_path(m.group(2)):
            return True
    if name in _ROOT_ONLY:
        return True
    if name in ("apt-get", "apt", "aptitude"):
        _, pos = _parse(args, _APT_VALUE_OPTS)
        return bool(pos) and pos[0] in (_APT_INSTALL | _APT_REMOVE | {"update", "upgrade", "dist-upgrade", "full-upgrade", "clean", "autoclean"})
    if name == "dpkg":
        opts, _ = _parse(args, ())
        return _has(opts, "-i", "--install", "-r", "--remove", "-P", "--purge", "--configure", "--unpack", "--add-architecture")
    if name == "apk":
        _, pos = _parse(args, _APK_VALUE_OPTS)
        return bool(pos) and pos[0] in ("add", "del", "update", "upgrade", "fix", "cache")
    if name in ("yum", "dnf", "microdnf", "tdnf"):
        _, pos = _parse(args, _RPM_VALUE_OPTS)
        return bool(pos) and pos[0] in ("install", "in", "reinstall", "localinstall", "groupinstall", "group", "remove",
                                         "erase", "autoremove", "update", "upgrade", "makecache", "clean", "module", "config-manager")
    if name == "zypper":
        _, pos = _parse(args, _ZYPPER_VALUE_OPTS)
        return bool(pos) and pos[0] in ("install", "in", "remove", "rm", "refresh", "ref", "update", "up",
                                         "dist-upgrade", "dup", "addrepo", "ar", "patch", "clean")
    if name == "rpm":
        opts, _ = _parse(args, ("--root", "--dbpath"))
        flags = "".join(n[1:] for n, _ in opts if n.startswith("-") and not n.startswith("--"))
        return any(f in flags for f in "iUeF") or _has(opts, "--install", "--upgrade", "--erase", "--import")
    if name == "update-alternatives":
        return any(a in ("--install", "--set", "--remove", "--config", "--auto", "--remove-all") for a in args)
    if name in ("cp", "mv", "ln", "install", "mkdir", "touch", "tee", "rm", "chmod", "chgrp", "sed", "patch", "unzip", "tar"):
        return _writes_system(name, args)
    if name == "npm" and state is not None:
        opts, pos = _parse(args, ("--prefix",))
        if pos and pos[0] in ("install", "i", "add", "uninstall", "remove") and _has(opts, "-g", "--global") and not _opt(opts, "--prefix"):
            try:
                npm = state.which(cmd.name)
            except Exception:
                npm = None
            return npm is None or posixpath.dirname(npm) in ("/usr/bin", "/bin", "/usr/local/bin")
    if name in ("make", "gmake", "ninja") and "install" in args and not any(a.startswith(("PREFIX=", "prefix=", "DESTDIR=")) for a in args):
        return True
    return False


def _writes_system(name: str, args: list) -> bool:
    if name == "sed":
        if not any(a == "-i" or a.startswith(("-i", "--in-place")) for a in args):
            return False
        return any(_system_path(a) for a in args if a.startswith("/"))
    if name == "tar":
        opts, _ = _parse(args if not args or args[0].startswith("-") else ["-" + args[0]] + args[1:], _TAR_VALUE_OPTS, short_values="CfTXbI")
        d = _opt(opts, "-C", "--directory")
        return bool(d) and _system_path(d) and _has(opts, "-x", "--extract")
    if name == "unzip":
        opts, _ = _parse(args, ("-d", "-x", "-P"))
        d = _opt(opts, "-d")
        return bool(d) and _system_path(d)
    opts, pos = _parse(args, ("-m", "--mode", "-o", "--owner", "-g", "--group", "-t", "--target-directory", "--reference"))
    if name in ("chmod", "chgrp") and pos:
        pos = pos[1:]  # the mode / group
    targets = list(pos)
    t = _opt(opts, "-t", "--target-directory")
    if t:
        targets.append(t)
    if name in ("cp", "mv", "ln", "install") and not t and len(pos) >= 2:
        targets = [pos[-1]]
    return any(_system_path(p) for p in targets)

"""Rules on the commands RUN invokes (package managers, privileges, pipelines)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from ..lazyre import lazy
from ..model import Position
from ..shell import basename
from . import Hit, check, command_span

_APT_OPTS_WITH_VALUE = {"-o", "-c", "-t", "--option", "--config-file", "--target-release", "--default-release"}


def apt_action(argv) -> tuple[str, list[str]]:
    """The apt-get action (``install``, ``update`` ...) and its option words."""
    options: list[str] = []
    i = 1
    while i < len(argv):
        word = argv[i]
        if word in _APT_OPTS_WITH_VALUE and i + 1 < len(argv):
            options.append(f"{word} {argv[i + 1]}")
            i += 2
            continue
        if word.startswith("-"):
            options.append(word)
            i += 1
            continue
        return word, options + [w for w in argv[i + 1 :] if w.startswith("-")]
    return "", options


def _apt_installs(ctx):
    for run, cmd in ctx.commands_named("apt-get", "apt"):
        action, options = apt_action([cmd.argv[0]] + [w.text for w in expand_argv(ctx, run, cmd)])
        if action == "install":
            yield run, cmd, options


def _has_short(options, letter: str) -> bool:
    return any(o.startswith("-") and not o.startswith("--") and letter in o[1:] and " " not in o for o in options)


@check("AN3014", commands=("apt-get", "apt"))
def apt_get_yes(ctx):
    for _run, cmd, options in _apt_installs(ctx):
        yes = (
            _has_short(options, "y")
            or any(o in ("--yes", "--assume-yes", "--force-yes", "-qq", "-q=2", "--quiet=2") for o in options)
            or any(o.startswith(("-o ", "--option ")) and "assume-yes=true" in o.lower() for o in options)
        )
        if not yes:
            yield Hit(command_span(cmd), f"{cmd.name} install without -y waits for an answer that never comes in a build; add -y")


@check("AN3015", commands=("apt-get", "apt"))
def apt_get_no_recommends(ctx):
    for _run, cmd, options in _apt_installs(ctx):
        if "--no-install-recommends" in options:
            continue
        if any(o.startswith(("-o ", "--option ")) and "install-recommends=false" in o.lower().replace('"', "") for o in options):
            continue
        yield Hit(
            command_span(cmd),
            f"{cmd.name} install without --no-install-recommends pulls in recommended packages nobody asked for",
        )


@check("AN3004", commands=("sudo",))
def sudo(ctx):
    for _run, cmd in ctx.commands_named("sudo"):
        yield Hit(cmd.position, "sudo in a RUN: builds already run as the USER in effect; switch with USER root instead")


def _sets_pipefail(cmd) -> bool:
    argv = list(cmd.argv)
    for i, word in enumerate(argv[1:], start=1):
        if word == "pipefail" and i > 1 and argv[i - 1].startswith("-") and argv[i - 1].endswith("o"):
            return True
        if word in ("-o", "--") and i + 1 < len(argv) and argv[i + 1] == "pipefail":
            return True
    return False


@check("AN4006", keywords=("RUN",))
def missing_pipefail(ctx):
    from analyzer.shell import basename

    by_run: dict[int, list] = {}  # each RUN's commands, in order (one pass, not one per RUN)
    for r, cmd in ctx.commands:
        by_run.setdefault(id(r), []).append(cmd)
    for run in ctx.runs:
        if run.script is None or not run.posix:
            continue
        shell = run.shell
        if any(w == "pipefail" for w in shell) and any(w.endswith("o") and w.startswith("-") for w in shell):
            continue
        piped = None
        for cmd in by_run.get(id(run), ()):
            if basename(cmd.name) == "set" and _sets_pipefail(cmd):
                break
            if cmd.in_pipeline and not cmd.wrappers:
                piped = cmd
                break
        if piped is not None:
            yield Hit(
                piped.position,
                "a pipeline without pipefail succeeds when an earlier command fails; "
                'use SHELL ["/bin/bash", "-o", "pipefail", "-c"] or start the RUN with set -o pipefail',
            )


# ---------------------------------------------------------------------------
# Package-manager rules (hadolint DL30xx parity). Arguments are judged as the program
# receives them: ENV/ARG values substituted for $VAR / ${VAR} words (a shell-form RUN's
# shell does that), each finding placed on the word as written.

_TRUTHY = frozenset({"1", "true", "True", "TRUE", "on", "On", "ON", "yes", "Yes", "YES"})


@dataclass(frozen=True)
class Word:
    """One argument as the program receives it."""

    text: str
    position: Position
    index: int  # index of the word as written in ``cmd.argv``
    source: str = ""  # the word as written ("$PKGS") when ``text`` came from a substitution
    known: bool = True  # False: a substitution whose value the Dockerfile does not determine
    seq: int = 0  # order among the words after substitution

    def label(self) -> str:
        return f"{self.text} (from {self.source})" if self.source and self.source != self.text else self.text


def _env_values(ctx, run) -> dict:
    try:
        return dict(ctx.resolution.env_before(run.instruction).values)
    except Exception:
        return {}


def expand_argv(ctx, run, cmd) -> list[Word]:
    """``cmd.argv[1:]`` with ENV/ARG values substituted and the results split into words.

    A word whose value the Dockerfile does not determine (an unset variable, a command
    substitution, a positional parameter) is kept as written with ``known=False``. Words of
    an exec-form RUN reach the program untouched: no shell substitutes anything there.
    """
    cache = ctx.__dict__.setdefault("_package_words", {})
    words = cache.get(id(cmd))
    if words is None:
        words = cache[id(cmd)] = tuple(_expand_argv(ctx, run, cmd))
    return list(words)


def _expand_argv(ctx, run, cmd):
    from analyzer.expand import expand

    env = None
    seq = 0
    positions = cmd.arg_positions
    exec_form = bool(cmd.extras.get("exec_form"))
    out: list[Word] = []
    for i in range(1, len(cmd.argv)):
        raw = cmd.argv[i]
        pos = positions[i] if i < len(positions) else cmd.position
        pieces = None
        if exec_form or ("$" not in raw and "`" not in raw):
            pieces = [(raw, "", True)]
        elif "$(" in raw or "`" in raw:
            pieces = [(raw, raw, False)]
        else:
            if env is None:
                env = _env_values(ctx, run)
            try:
                exp = expand(raw, env, "\\")
            except Exception:
                exp = None
            if exp is None or exp.missing:
                pieces = [(raw, raw, False)]
            else:
                pieces = [(piece, raw, True) for piece in exp.value.split()]
        for text, source, known in pieces:
            out.append(Word(text, pos, i, source, known, seq))
            seq += 1
    return out


@dataclass
class Args:
    """A command line split into options (with their separate values) and operands."""

    options: list  # [(Word, Optional[Word])]
    operands: list  # [Word]
    end_of_options: bool = False  # a "--" was given
    takes_value: frozenset = frozenset()

    def action(self) -> str:
        return self.operands[0].text if self.operands else ""

    def has(self, *names: str, before: Optional[Word] = None, after: Optional[Word] = None) -> bool:
        """True when one of ``names`` (``-y``, ``--yes``; a short name also inside a
        cluster such as ``-qy``) was given, optionally only before/after a word."""
        shorts = {n[1] for n in names if len(n) == 2 and n[0] == "-" and n[1] != "-"}
        longs = [n for n in names if n.startswith("--")]
        for opt, _value in self.options:
            if before is not None and opt.seq >= before.seq:
                continue
            if after is not None and opt.seq <= after.seq:
                continue
            t = opt.text
            if any(t == n or t.startswith(n + "=") for n in longs):
                return True
            if shorts and t.startswith("-") and not t.startswith("--"):
                for c in t[1:]:
                    if c in shorts:
                        return True
                    if "-" + c in self.takes_value:
                        break  # the rest of the word is this option's value (-rrequirements.txt)
        return False

    def values(self, *names: str) -> list[str]:
        """Values given to the options ``names`` (``-t x``, ``-tx``, ``--target=x``)."""
        out = []
        for opt, value in self.options:
            t = opt.text
            for n in names:
                if t == n and value is not None:
                    out.append(value.text)
                elif n.startswith("--") and t.startswith(n + "="):
                    out.append(t[len(n) + 1 :])
                elif len(n) == 2 and not n.startswith("--") and t.startswith(n) and len(t) > 2 and not t.startswith("--"):
                    out.append(t[2:])
        return out


def parse_args(words: list[Word], takes_value=frozenset()) -> Args:
    """Split words into options and operands; options in ``takes_value`` consume the next
    word (``-t VALUE``) unless written ``--opt=VALUE`` or, for a short one, ``-tVALUE``."""
    options: list = []
    operands: list = []
    i = 0
    n = len(words)
    while i < n:
        w = words[i]
        t = w.text
        if t == "--" and w.known:
            operands.extend(words[i + 1 :])
            return Args(options, operands, True, frozenset(takes_value))
        if t.startswith("-") and len(t) > 1:
            if t in takes_value and i + 1 < n:
                options.append((w, words[i + 1]))
                i += 2
                continue
            options.append((w, None))
            i += 1
            continue
        operands.append(w)
        i += 1
    return Args(options, operands, False, frozenset(takes_value))


def _runs_with_commands(ctx):
    """[(run, [commands of that run])] in file order (worked out once per file)."""
    out = ctx.__dict__.get("_runs_with_commands")
    if out is None:
        out = []
        for run, cmd in ctx.commands:
            if out and out[-1][0] is run:
                out[-1][1].append(cmd)
            else:
                out.append((run, [cmd]))
        ctx.__dict__["_runs_with_commands"] = out
    return out


def _name(cmd) -> str:
    return basename(cmd.name) if not cmd.dynamic else cmd.extras.get("static_basename", "")


# -- cache directories: a clean-up command or a cache mount keeps them out of the layer --


def _path_parts(path: str) -> list[str]:
    path = path.strip().strip("'\"")
    while path.endswith(("/*", "/.", "/")) and len(path) > 1:
        path = path[:-2] if path.endswith(("/*", "/.")) else path[:-1]
    return [p for p in path.split("/") if p and p != "."]


def covers(path: str, directory: str) -> bool:
    """True when removing (or mounting over) ``path`` takes ``directory`` with it.

    ``directory`` starting with ``~/`` stands for that directory under any home
    (``~/.cache/pip`` is covered by ``/root/.cache/pip``, ``$HOME/.cache``, ``/home/app/.cache``).
    """
    parts = _path_parts(path)
    if not parts:
        return False
    if directory.startswith("~/"):
        rel = [p for p in directory[2:].split("/") if p]
        return any(parts[-k:] == rel[:k] for k in range(1, len(rel) + 1) if len(parts) >= k)
    if not path.strip().strip("'\"").startswith("/"):
        return False
    want = [p for p in directory.split("/") if p]
    return len(parts) <= len(want) and want[: len(parts)] == parts


def cache_mount_targets(ctx, run) -> list[str]:
    """Targets of the RUN's ``--mount=type=cache`` and ``--mount=type=tmpfs`` mounts."""
    ins = run.instruction
    out = []
    env = None
    for raw in ins.flag_values("mount"):
        if "$" in raw:
            from analyzer.expand import expand

            if env is None:
                env = _env_values(ctx, run)
            try:
                raw = expand(raw, env, ctx.df.escape).value
            except Exception:
                pass
        fields = {}
        for field_ in raw.split(","):
            key, sep, value = field_.strip().strip("'\"").partition("=")
            fields[key.strip().lower()] = value.strip() if sep else "true"
        kind = fields.get("type", "bind").lower()
        target = fields.get("target") or fields.get("dst") or fields.get("destination")
        if kind in ("cache", "tmpfs") and target:
            out.append(target)
    return out


def _mounted(ctx, run, directories) -> bool:
    return any(covers(t, d) for t in cache_mount_targets(ctx, run) for d in directories)


def _removes(ctx, run, cmd, directories) -> bool:
    """``rm -r`` (any spelling of the recursive flag) of a path covering one of the directories."""
    if _name(cmd) != "rm":
        return False
    args = parse_args(expand_argv(ctx, run, cmd))
    if not args.has("-r", "-R", "--recursive"):
        return False
    return any(covers(w.text, d) for w in args.operands for d in directories)


def _missing_cleanup(ctx, is_install, is_clean, directories, names):
    """For every RUN that installs and leaves the cache behind, the first install after the
    last clean-up (the RUN must clean up after itself: a later RUN cannot shrink the layer).
    ``directories``: the cache directories, or a function of the run giving them.
    ``names``: every command name ``is_install`` or ``is_clean`` can be true for; a RUN
    with none of them (nor ``rm``) is not looked at."""
    relevant = {id(run) for run, _cmd in ctx.commands_named(*names, "rm")}
    if not relevant:
        return
    for run, cmds in _runs_with_commands(ctx):
        if id(run) not in relevant:
            continue
        dirs = directories(run) if callable(directories) else directories
        pending = None
        for cmd in cmds:
            if is_install(run, cmd):
                if pending is None:
                    pending = cmd
            elif is_clean(run, cmd) or _removes(ctx, run, cmd, dirs):
                pending = None
        if pending is not None and not _mounted(ctx, run, dirs):
            yield run, pending


def _unpinned(ctx, names, takes_value, is_install, pinned):
    """(run, cmd, word) for every package operand of an install that carries no version."""
    for run, cmd in ctx.commands_named(*names):
        args = parse_args(expand_argv(ctx, run, cmd), takes_value)
        if not is_install(args, cmd):
            continue
        for w in args.operands[1:]:
            if w.known and not pinned(w.text):
                yield run, cmd, w


# -- apt ------------------------------------------------------------------------------

_APT_VALUE = frozenset(
    {"-o", "-c", "-t", "-a", "--option", "--config-file", "--target-release", "--default-release", "--host-architecture"}
)


def _apt_pinned(pkg: str) -> bool:
    # name=version (globs such as =1.2* included), name/release, or a .deb file
    return "=" in pkg or "/" in pkg or pkg.endswith(".deb")


@check("AN3008", commands=("apt-get", "apt"))
def apt_get_unpinned(ctx):
    for _run, cmd, w in _unpinned(
        ctx, ("apt-get", "apt"), _APT_VALUE, lambda a, c: a.action() == "install", _apt_pinned
    ):
        yield Hit(w.position, f"{w.label()} is not pinned: use {_name(cmd)} install {w.text}=<version>")


def _is_apt_update(ctx, run, cmd) -> bool:
    return _name(cmd) in ("apt-get", "apt") and parse_args(expand_argv(ctx, run, cmd), _APT_VALUE).action() == "update"


def _stages_kept(ctx) -> set:
    """Stages whose layers end up in an image: the last one and every stage another builds FROM."""
    kept = {len(ctx.df.stages) - 1}
    try:
        for st in ctx.resolution.stages:
            if st.base_stage is not None:
                kept.add(st.base_stage)
    except Exception:
        pass
    return kept


def _kept(ctx, run, kept: set) -> bool:
    """True for an ONBUILD trigger or a RUN in one of the ``kept`` stages."""
    ins = run.instruction
    if 0 <= ins.index < len(ctx.df.instructions) and ctx.df.instructions[ins.index].keyword == "ONBUILD":
        return True
    return ins.stage in kept


@check("AN3009", commands=("apt-get", "apt"))
def apt_lists_left(ctx):
    lists = ("/var/lib/apt/lists",)
    kept = _stages_kept(ctx)

    def is_update(run, cmd):
        return _is_apt_update(ctx, run, cmd)

    def is_clean(run, cmd):
        # apt 2.7+ removes the lists itself with dist-clean
        return _name(cmd) in ("apt-get", "apt") and parse_args(expand_argv(ctx, run, cmd), _APT_VALUE).action() == "dist-clean"

    for run, cmd in _missing_cleanup(ctx, is_update, is_clean, lists, ("apt-get", "apt")):
        if not _kept(ctx, run, kept):
            continue
        yield Hit(
            command_span(cmd),
            "the package lists apt-get update downloads stay in the layer: "
            "end the same RUN with rm -rf /var/lib/apt/lists/*",
        )


@check("AN3027", commands=("apt",))
def apt_used(ctx):
    for _run, cmd in ctx.commands_named("apt"):
        yield Hit(cmd.position, "apt is meant for people at a terminal and has no stable CLI: use apt-get or apt-cache")


# -- pip ------------------------------------------------------------------------------

_PIP_VALUE = frozenset(
    {
        "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-t", "--target", "--platform",
        "--python-version", "--implementation", "--abi", "--root", "--prefix", "--src", "--upgrade-strategy",
        "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--no-binary", "--only-binary",
        "--progress-bar", "--proxy", "--trusted-host", "--global-option", "--install-option", "-C",
        "--config-settings", "--log", "--cache-dir", "--cert", "--client-cert", "--retries", "--timeout",
        "--exists-action", "-b", "--build", "--python", "--report", "--use-feature", "--use-deprecated",
        "--keyring-provider", "--root-user-action", "--group", "--log-file", "--local-log",
    }
)
_PIP_RE = lazy(r"pip(\d+(\.\d+)*)?$")
_PYTHON_RE = lazy(r"python(\d+(\.\d+)*)?$")
_VCS_SCHEMES = ("git+", "hg+", "svn+", "bzr+", "git://")
_PIP_ARCHIVES = (".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip")
_PIP_OPERATORS = ("==", ">=", "<=", "!=", "~=", ">", "<")


def _pip_args(ctx, run, cmd, pipx: bool = False) -> Optional[Args]:
    """The arguments after ``pip`` (``pip3 ...``, ``python3 -m pip ...``), when ``cmd`` runs pip."""
    name = _name(cmd)
    words = expand_argv(ctx, run, cmd)
    if _PIP_RE.match(name) or (pipx and name == "pipx"):
        return parse_args(words, _PIP_VALUE)
    if not _PYTHON_RE.match(name):
        return None
    k = 0
    while k < len(words):
        t = words[k].text
        if t == "-mpip":
            return parse_args(words[k + 1 :], _PIP_VALUE)
        if t == "-m":
            if k + 1 < len(words) and words[k + 1].text == "pip":
                return parse_args(words[k + 2 :], _PIP_VALUE)
            return None
        if t in ("-W", "-X"):
            k += 2
            continue
        if not t.startswith("-") or t.startswith("-c") or t.startswith("-m"):
            return None  # a script, -c code or another module
        k += 1
    return None


def _pip_installs(ctx, pipx: bool = False):
    for run, cmd in ctx.commands:
        name = _name(cmd)
        if not (_PIP_RE.match(name) or _PYTHON_RE.match(name) or (pipx and name == "pipx")):
            continue
        args = _pip_args(ctx, run, cmd, pipx)
        if args is not None and args.action() == "install":
            yield run, cmd, args


def _pip_pinned(spec: str) -> bool:
    if any(op in spec for op in _PIP_OPERATORS):
        return True
    if spec.startswith(_VCS_SCHEMES):
        rest = spec.split("://", 1)[-1]
        path = rest.split("/", 1)[1] if "/" in rest else ""
        return "@" in path  # git+https://host/org/repo@v1.2 (a user@ before the host is no pin)
    # a local directory or file, or a URL to one: the artifact itself fixes the version
    return spec in (".", "..") or "/" in spec or spec.endswith(_PIP_ARCHIVES)


@check("AN3013", keywords=("RUN",))
def pip_unpinned(ctx):
    for _run, cmd, args in _pip_installs(ctx, pipx=True):
        if args.has("-c", "--constraint"):
            continue  # a constraints file pins what it names
        for w in args.operands[1:]:
            if w.known and not _pip_pinned(w.text):
                yield Hit(w.position, f"{w.label()} is not pinned: use pip install {w.text}==<version> or a requirements file")


_PIP_CACHE = ("~/.cache/pip",)


@check("AN3042", keywords=("RUN",))
def pip_cache(ctx):
    for run, cmd, args in _pip_installs(ctx):
        if args.has("--no-cache-dir"):
            continue
        env = _env_values(ctx, run)
        if env.get("PIP_NO_CACHE_DIR", "").strip("'\"") in _TRUTHY:
            continue
        text = run.script.text if run.script is not None else " ".join(run.argv)
        if re.search(r"PIP_NO_CACHE_DIR=['\"]?(%s)\b" % "|".join(_TRUTHY), text):
            continue
        dirs = _PIP_CACHE + tuple(v for v in (env.get("PIP_CACHE_DIR"),) if v)
        if _mounted(ctx, run, dirs):
            continue
        yield Hit(command_span(cmd), "pip install keeps its download cache in the layer: add --no-cache-dir")


# -- npm, yarn, gem, go ---------------------------------------------------------------

_NPM_INSTALL = frozenset(
    {"install", "i", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal", "isntall", "add"}
)
_NPM_VALUE = frozenset(
    {"--prefix", "--registry", "-w", "--workspace", "--omit", "--include", "--cache", "--userconfig",
     "--loglevel", "--install-strategy", "--before", "--location", "--tag", "--save-prefix"}
)


def _npm_pinned(spec: str) -> bool:
    if spec.startswith(("git:", "git+", "github:", "gitlab:", "bitbucket:", "gist:")):
        return "#" in spec  # a commit, tag or semver range after '#'
    if spec.endswith((".tgz", ".tar", ".tar.gz")):
        return True
    if spec in (".", "..") or spec.startswith(("/", "./", "../", "~/", "file:")):
        return True
    if spec.startswith(("http://", "https://")):
        return True
    name = spec[1:] if spec.startswith("@") else spec  # @scope/name@version
    if "@" in name:
        return True
    return "/" in name and "#" in name  # user/repo#ref


@check("AN3016", commands=("npm",))
def npm_unpinned(ctx):
    for _run, cmd, w in _unpinned(
        ctx, ("npm",), _NPM_VALUE, lambda a, c: a.action() in _NPM_INSTALL, _npm_pinned
    ):
        yield Hit(w.position, f"{w.label()} is not pinned: use npm install {w.text}@<version>")


_GEM_VALUE = frozenset(
    {"-i", "--install-dir", "-n", "--bindir", "-s", "--source", "-P", "--trust-policy", "--platform",
     "-g", "--file", "--build-root", "--document", "-p", "--http-proxy", "--target-rbconfig"}
)


def _gem_pinned(spec: str) -> bool:
    return ":" in spec or spec.endswith(".gem")


@check("AN3028", commands=("gem",))
def gem_unpinned(ctx):
    def is_install(args, cmd):
        return args.action() in ("install", "i") and not args.has("-v", "--version")

    for _run, cmd, w in _unpinned(ctx, ("gem",), _GEM_VALUE, is_install, _gem_pinned):
        yield Hit(w.position, f"{w.label()} is not pinned: use gem install {w.text}:<version>")


_YARN_CACHE = ("~/.cache/yarn", "/usr/local/share/.cache/yarn", "~/.yarn/berry/cache")


def _yarn_args(ctx, run, cmd) -> Args:
    return parse_args(expand_argv(ctx, run, cmd), frozenset({"--cwd", "--cache-folder", "--modules-folder", "--network-timeout"}))


@check("AN3060", commands=("yarn",))
def yarn_cache_left(ctx):
    def is_install(run, cmd):
        if _name(cmd) != "yarn":
            return False
        args = _yarn_args(ctx, run, cmd)
        if args.action() == "install":
            return True
        # a bare `yarn` (options only) installs too
        return not args.operands and not args.has("-v", "--version", "-h", "--help")

    def is_clean(run, cmd):
        return _name(cmd) == "yarn" and [w.text for w in _yarn_args(ctx, run, cmd).operands[:2]] == ["cache", "clean"]

    def dirs(run):
        folder = _env_values(ctx, run).get("YARN_CACHE_FOLDER")
        return _YARN_CACHE + ((folder,) if folder else ())

    kept = _stages_kept(ctx)
    for run, cmd in _missing_cleanup(ctx, is_install, is_clean, dirs, ("yarn",)):
        if not _kept(ctx, run, kept):
            continue
        yield Hit(command_span(cmd), "yarn install leaves its package cache in the layer: run yarn cache clean in the same RUN")


_GO_VALUE = frozenset(
    {"-o", "-p", "-C", "-tags", "-ldflags", "-gcflags", "-asmflags", "-gccgoflags", "-mod", "-modfile",
     "-overlay", "-pkgdir", "-buildmode", "-compiler", "-installsuffix", "-toolexec", "-pgo", "-covermode",
     "-coverpkg", "-exec", "--tags", "--ldflags", "--gcflags", "--mod", "--modfile", "-buildvcs"}
)
_GO_MOVING = frozenset({"latest", "upgrade", "patch"})


def _go_needs_pin(spec: str) -> bool:
    """True for a remote module path without a fixed version."""
    if spec.startswith((".", "/")) or spec.endswith(".go"):
        return False  # a local package or file
    path, at, version = spec.partition("@")
    if at:
        return version in _GO_MOVING
    # the first element of a downloadable module path has a dot (example.com/...); others
    # (std, cmd, all, packages of the main module) come from the local tree
    return "." in path.split("/", 1)[0]


@check("AN3062", commands=("go",))
def go_unpinned(ctx):
    for run, cmd in ctx.commands_named("go"):
        args = parse_args(expand_argv(ctx, run, cmd), _GO_VALUE)
        action = args.action()
        if action not in ("install", "get", "run"):
            continue
        specs = args.operands[1:]
        if action == "run":
            specs = specs[:1]  # what follows the package is the program's own arguments
        for w in specs:
            if w.known and _go_needs_pin(w.text):
                base = w.text.partition("@")[0]
                yield Hit(w.position, f"{w.label()} is not pinned: use go {action} {base}@<version>")


# -- apk ------------------------------------------------------------------------------

_APK_VALUE = frozenset(
    {"-t", "--virtual", "-X", "--repository", "-p", "--root", "--arch", "--cache-dir", "--keys-dir",
     "--repositories-file", "--cache-max-age", "--timeout"}
)


def _apk_pinned(spec: str) -> bool:
    return any(c in spec for c in "=~<>") or spec.endswith(".apk")


@check("AN3018", commands=("apk",))
def apk_unpinned(ctx):
    for _run, cmd, w in _unpinned(ctx, ("apk",), _APK_VALUE, lambda a, c: a.action() == "add", _apk_pinned):
        yield Hit(w.position, f"{w.label()} is not pinned: use apk add {w.text}=<version>")


_APK_CACHE = ("/var/cache/apk", "/etc/apk/cache")


@check("AN3019", commands=("apk",))
def apk_cache(ctx):
    for run, cmd in ctx.commands_named("apk"):
        args = parse_args(expand_argv(ctx, run, cmd), _APK_VALUE)
        if args.action() != "add" or args.has("--no-cache"):
            continue
        if _mounted(ctx, run, _APK_CACHE):
            continue
        yield Hit(command_span(cmd), "apk add without --no-cache leaves the package index in /var/cache/apk: add --no-cache")


# -- yum, dnf, microdnf ----------------------------------------------------------------

_RPM_VALUE = frozenset(
    {"-x", "--exclude", "--enablerepo", "--disablerepo", "--repo", "--repoid", "--setopt", "--releasever",
     "--installroot", "-c", "--config", "-d", "--debuglevel", "-e", "--errorlevel", "--forcearch",
     "--downloaddir", "--destdir", "--color", "--rpmverbosity", "--repofrompath", "--comment",
     "--advisory", "--advisories", "--bz", "--cve", "--sec-severity", "--secseverity", "--use-host-config"}
)
_RPM_INSTALL = frozenset({"install", "groupinstall", "localinstall"})
# commands that download packages into the cache
_RPM_DOWNLOADS = frozenset({"reinstall", "upgrade", "update", "downgrade", "distro-sync"})
_DNF = ("dnf", "dnf5", "microdnf")
_RPM_VERSION_CHARS = lazy(r"[A-Za-z0-9.~^_:+*]+$")


def _rpm_install(args: Args) -> str:
    """"install", "module" (``module install``), "group" or "" for an rpm tool's command line."""
    ops = [w.text for w in args.operands]
    if not ops:
        return ""
    if ops[0] in _RPM_INSTALL:
        return "group" if ops[0] == "groupinstall" else "install"
    if ops[0] in ("module", "group", "groups") and len(ops) > 1 and ops[1] == "install":
        return "module" if ops[0] == "module" else "group"
    return ""


def _rpm_packages(args: Args) -> list:
    kind = _rpm_install(args)
    skip = 2 if args.operands and args.operands[0].text in ("module", "group", "groups") else 1
    return args.operands[skip:] if kind in ("install", "module") else []


def _rpm_pinned(spec: str, module: bool) -> bool:
    if module:
        return ":" in spec  # name:stream
    if spec.startswith("@"):
        return True  # a group or environment: nothing to pin
    if spec.endswith(".rpm"):
        return True  # a package file (path or URL)
    parts = spec.split("-")
    if len(parts) < 2:
        return False
    # name-version[-release]: what follows a dash looks like a version and one part starts with a digit
    rest = parts[1:]
    return all(p and _RPM_VERSION_CHARS.match(p) for p in rest) and any(p[0].isdigit() for p in rest)


def _rpm_tool_unpinned(ctx, names):
    for run, cmd in ctx.commands_named(*names):
        args = parse_args(expand_argv(ctx, run, cmd), _RPM_VALUE)
        module = _rpm_install(args) == "module"
        for w in _rpm_packages(args):
            if w.known and not _rpm_pinned(w.text, module):
                yield cmd, w, module


def _rpm_missing_yes(ctx, names):
    for run, cmd in ctx.commands_named(*names):
        args = parse_args(expand_argv(ctx, run, cmd), _RPM_VALUE)
        if _rpm_install(args) and not args.has("-y", "--assumeyes"):
            yield cmd


def _rpm_cleanup(ctx, names, clean_tools, directories):
    def is_install(run, cmd):
        if _name(cmd) not in names:
            return False
        args = parse_args(expand_argv(ctx, run, cmd), _RPM_VALUE)
        return bool(_rpm_install(args)) or args.action() in _RPM_DOWNLOADS

    def is_clean(run, cmd):
        if _name(cmd) not in clean_tools:
            return False
        ops = [w.text for w in parse_args(expand_argv(ctx, run, cmd), _RPM_VALUE).operands]
        return ops[:1] == ["clean"] and "all" in ops[1:]

    return _missing_cleanup(ctx, is_install, is_clean, directories, tuple(names) + tuple(clean_tools))


@check("AN3030", commands=("yum",))
def yum_yes(ctx):
    for cmd in _rpm_missing_yes(ctx, ("yum",)):
        yield Hit(command_span(cmd), "yum install without -y waits for an answer that never comes in a build; add -y")


@check("AN3032", commands=("yum",))
def yum_clean(ctx):
    for _run, cmd in _rpm_cleanup(ctx, ("yum",), ("yum",), ("/var/cache/yum",)):
        yield Hit(command_span(cmd), "yum install leaves its cache in the layer: run yum clean all in the same RUN")


@check("AN3033", commands=("yum",))
def yum_unpinned(ctx):
    for _cmd, w, module in _rpm_tool_unpinned(ctx, ("yum",)):
        hint = f"yum module install {w.text}:<stream>" if module else f"yum install {w.text}-<version>"
        yield Hit(w.position, f"{w.label()} is not pinned: use {hint}")


@check("AN3038", commands=_DNF)
def dnf_yes(ctx):
    for cmd in _rpm_missing_yes(ctx, _DNF):
        yield Hit(command_span(cmd), f"{_name(cmd)} install without -y waits for an answer that never comes in a build; add -y")


@check("AN3040", commands=_DNF)
def dnf_clean(ctx):
    dirs = ("/var/cache/dnf", "/var/cache/yum", "/var/cache/libdnf5")
    for _run, cmd in _rpm_cleanup(ctx, _DNF, _DNF + ("yum",), dirs):
        yield Hit(command_span(cmd), f"{_name(cmd)} install leaves its cache in the layer: run {_name(cmd)} clean all in the same RUN")


@check("AN3041", commands=_DNF)
def dnf_unpinned(ctx):
    for cmd, w, module in _rpm_tool_unpinned(ctx, _DNF):
        hint = f"{_name(cmd)} module install {w.text}:<stream>" if module else f"{_name(cmd)} install {w.text}-<version>"
        yield Hit(w.position, f"{w.label()} is not pinned: use {hint}")


# -- zypper ---------------------------------------------------------------------------

# zypper's global options (before the command) and command options differ: -D is
# --reposd-dir DIR before the command and --dry-run after it, -n --non-interactive / --name
_ZYPPER_GLOBAL_VALUE = frozenset(
    {"-R", "--root", "-D", "--reposd-dir", "-C", "--cache-dir", "--raw-cache-dir", "--solv-cache-dir",
     "--pkg-cache-dir", "-c", "--config", "--userdata", "-p", "--plus-repo", "--plus-content"}
)
_ZYPPER_VALUE = frozenset({"-t", "--type", "-r", "--repo", "--from", "--download"})
_ZYPPER_INSTALL = frozenset({"install", "in"})
_ZYPPER_PROMPTS = frozenset({"install", "in", "remove", "rm", "source-install", "si", "patch"})


def _zypper_args(ctx, run, cmd) -> Args:
    words = expand_argv(ctx, run, cmd)
    head = parse_args(words, _ZYPPER_GLOBAL_VALUE)
    if not head.operands:
        return head
    action = head.operands[0]
    k = words.index(action)
    options = [o for o in head.options if o[0].seq < action.seq]
    tail = parse_args(words[k + 1 :], _ZYPPER_VALUE)
    return Args(options + tail.options, [action] + tail.operands, tail.end_of_options, _ZYPPER_VALUE)


@check("AN3034", commands=("zypper",))
def zypper_yes(ctx):
    for run, cmd in ctx.commands_named("zypper"):
        args = _zypper_args(ctx, run, cmd)
        if args.action() not in _ZYPPER_PROMPTS:
            continue
        action = args.operands[0]
        # -n is the global --non-interactive only before the command (after it, -n is --name)
        if args.has("-n", before=action) or args.has("--non-interactive"):
            continue
        if args.has("-y", "--no-confirm", after=action):
            continue
        yield Hit(command_span(cmd), "zypper waits for a confirmation that never comes in a build: use zypper -n or add -y")


@check("AN3035", commands=("zypper",))
def zypper_dist_upgrade(ctx):
    for run, cmd in ctx.commands_named("zypper"):
        if _zypper_args(ctx, run, cmd).action() in ("dist-upgrade", "dup"):
            yield Hit(command_span(cmd), "zypper dist-upgrade upgrades the whole distribution inside an image build: use a newer base image instead")


@check("AN3036", commands=("zypper",))
def zypper_clean(ctx):
    def is_install(run, cmd):
        return _name(cmd) == "zypper" and _zypper_args(ctx, run, cmd).action() in _ZYPPER_INSTALL

    def is_clean(run, cmd):
        return _name(cmd) == "zypper" and _zypper_args(ctx, run, cmd).action() in ("clean", "cc")

    for _run, cmd in _missing_cleanup(ctx, is_install, is_clean, ("/var/cache/zypp",), ("zypper",)):
        yield Hit(command_span(cmd), "zypper install leaves its cache in the layer: run zypper clean in the same RUN")


def _zypper_pinned(spec: str) -> bool:
    return any(c in spec for c in "=<>") or spec.endswith(".rpm")


@check("AN3037", commands=("zypper",))
def zypper_unpinned(ctx):
    for run, cmd in ctx.commands_named("zypper"):
        args = _zypper_args(ctx, run, cmd)
        if args.action() not in _ZYPPER_INSTALL:
            continue
        kinds = args.values("-t", "--type")
        if kinds and any(k != "package" for k in kinds):
            continue  # patterns, patches and products have no version to pin
        for w in args.operands[1:]:
            if w.known and not _zypper_pinned(w.text):
                yield Hit(w.position, f"{w.label()} is not pinned: use zypper install '{w.text}=<version>'")

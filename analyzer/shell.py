"""Turn shell text into the commands it invokes, with exact Dockerfile positions.

The entry points are :func:`commands` (shell-form RUN and friends: a :class:`Script`
handed to a POSIX shell) and :func:`exec_form_commands` (JSON-form RUN). Both return
one :class:`ShellCommand` per simple command, in source order, including the commands
hidden behind wrappers (``sudo``, ``env``, ``xargs``...), inside command substitutions,
inside ``sh -c '...'`` strings and inside heredoc bodies fed to a shell.

Parsing uses tree-sitter-bash, which is error tolerant: whatever can be read from
broken input is reported and nothing ever raises. Plain scripts (simple commands of
unquoted words joined by ``&&``, ``||``, ``|``, ``;`` and newlines: most RUN lines) are
read directly, with the same results (``ANALYZE_SHELL_FAST=0`` sends everything to the
parser).

``ShellCommand.extras`` keys set here:

* ``static_basename``: for a dynamic name such as ``$DIR/bin/conda``, the static last
  path component (``conda``).
* ``pipeline_id`` / ``pipeline_index``: for commands in a ``|`` pipeline, an id shared
  by the elements of one pipeline (unique within one call) and the element's index.
* ``redirects``: the redirections written on the command (``("> /dev/null", "2>&1")``).
* ``shell_options``: for commands inside ``sh -c`` / a heredoc fed to a shell, the
  options given to that shell before the script (``("-e", "-o", "pipefail")``).
* ``exec_form``: True for commands of a JSON-form RUN that no shell runs.

Wrapper labels recorded in ``ShellCommand.wrappers``: the wrapper's basename
(``"sudo"``, ``"env"``, ``"xargs"``, ``"time"``...), ``"<shell> -c"`` for a script
string given to a shell (``"sh -c"``, ``"bash -c"``, ``"su -c"``, ``"runuser -c"``),
``"<shell> <<"`` for a heredoc body fed to a shell, ``"<shell> <<<"`` for a here-string,
``"env -S"``, ``"eval"`` and ``"trap"``.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from typing import Optional, Sequence

from .lazyre import lazy
from .model import Position, Script, ShellCommand

__all__ = [
    "BUILTINS",
    "SHELLS",
    "basename",
    "commands",
    "exec_form_commands",
    "is_posix_shell",
]

# Limits that keep any input cheap.
MAX_DEPTH = 16  # nested scripts (sh -c inside sh -c inside a heredoc ...)
MAX_COMMANDS = 5000
MAX_NODES = 300_000  # tree nodes visited, all levels together
MAX_PARSED_CHARS = 4_000_000  # text handed to the parser, all levels together
MAX_NODE_NESTING = 120  # syntax nesting followed inside one parse
MAX_WRAPPERS = 24

# When True, internal errors propagate instead of being swallowed (used by the tests).
_STRICT = False

# Scripts in a plain subset of the shell language (see _plain_script) skip tree-sitter:
# the commands, positions and work counters come out as the parser-based walk makes them.
# ANALYZE_SHELL_FAST=0 turns this off.
FAST_PATH = os.environ.get("ANALYZE_SHELL_FAST", "1").strip() != "0"
# parse_script calls that took each path (a diagnostic; not synchronised across threads)
FAST_STATS = {"fast": 0, "parsed": 0}

_PARSER = None
_PARSER_LOCK = threading.Lock()

SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "yash", "posh"})
_BASH_LIKE = frozenset({"bash", "zsh", "ksh", "mksh"})
_NON_POSIX = frozenset({"pwsh", "powershell", "cmd"})

BUILTINS = frozenset(
    {
        # POSIX special built-ins
        ":", ".", "break", "continue", "eval", "exec", "exit", "export", "readonly",
        "return", "set", "shift", "times", "trap", "unset",
        # POSIX regular built-ins (and ones every sh provides)
        "alias", "bg", "cd", "command", "false", "fc", "fg", "getopts", "hash", "jobs",
        "kill", "pwd", "read", "true", "type", "ulimit", "umask", "unalias", "wait",
        "echo", "printf", "test", "[",
        # bash / zsh / ksh
        "[[", "bind", "builtin", "caller", "compgen", "complete", "compopt", "declare",
        "dirs", "disown", "enable", "help", "history", "let", "local", "logout",
        "mapfile", "popd", "pushd", "readarray", "shopt", "source", "suspend", "typeset",
        "autoload", "setopt", "unsetopt", "print", "whence", "functions", "emulate",
    }
)

_EXPANSIONS = frozenset(
    {"simple_expansion", "expansion", "command_substitution", "arithmetic_expansion", "process_substitution"}
)
_REDIRECTS = frozenset({"file_redirect", "heredoc_redirect", "herestring_redirect"})
_TEST_EXPRS = frozenset(
    {"unary_expression", "binary_expression", "parenthesized_expression", "negated_expression",
     "ternary_expression", "postfix_expression", "ERROR"}
)
_LIST_OPS = frozenset({";", "|", "|&", "&&", "||", "&", ";;", "\n"})
_ASSIGN_RE = lazy(r"[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=")
_CONTINUATION_GAP = lazy(r"(?:\\\r?\n)*")


class _Stop(Exception):
    """A work limit was reached: keep what has been collected."""


# ---------------------------------------------------------------------------
# public helpers


_BASENAMES: dict[str, str] = {}


def basename(name: str) -> str:
    """Last ``/``-separated component of a command name (``/usr/bin/pip3`` -> ``pip3``)."""
    try:
        return _BASENAMES[name]
    except KeyError:
        pass
    stripped = name.rstrip("/")
    base = stripped.rsplit("/", 1)[-1] if stripped else name
    if len(_BASENAMES) < 50_000:
        _BASENAMES[name] = base
    return base


def is_posix_shell(shell_argv0: str) -> bool:
    """False for PowerShell and cmd.exe (by name or path, any case), True otherwise."""
    if not shell_argv0:
        return True
    base = re.split(r"[\\/]", shell_argv0.strip().rstrip("\\/"))[-1].lower()
    if base.endswith(".exe"):
        base = base[:-4]
    return base not in _NON_POSIX


def commands(script: Script, shell: str = "sh") -> list[ShellCommand]:
    """Every simple command ``script`` executes when run by ``shell``, in source order."""
    try:
        if not is_posix_shell(shell):
            return []
        text = script.text if isinstance(script.text, str) else ""
    except Exception:
        if _STRICT:
            raise
        return []
    run = _Run()
    try:
        src = _Src(text, script, None)
        run.parse_script(text, src, _shell_label(shell), 0, (), (), ())
    except (_Stop, RecursionError):
        pass
    except Exception:
        if _STRICT:
            raise
    return run.result()


def exec_form_commands(argv: Sequence[str], positions: Sequence[Position]) -> list[ShellCommand]:
    """Commands of a JSON-form RUN: ``argv`` as decoded, one Position per element.

    A position is expected to cover the element's JSON string, opening quote included.
    Columns inside a ``-c`` script are exact when that string holds no JSON escapes;
    otherwise every command inside reports the element's position.
    """
    run = _Run()
    try:
        words = []
        fallback = Position(1, 1, 1, 1)
        for i, value in enumerate(argv):
            value = value if isinstance(value, str) else str(value)
            if i < len(positions):
                pos = positions[i]
            elif positions:
                pos = positions[-1]
            else:
                pos = fallback
            base = _ElementBase(pos, _json_string_is_plain(value, pos))
            src = _Src(value, base, None)
            words.append(_Word(value, value, True, pos, src, list(range(len(value) + 1)), 0, None))
        if words:
            ctx = _Ctx(run, "", None, None, "", 0, (), (), ())
            run.emit(ctx, words, (), None, False, "external", None, (), True)
    except (_Stop, RecursionError):
        pass
    except Exception:
        if _STRICT:
            raise
    return run.result()


# ---------------------------------------------------------------------------
# position plumbing


def _json_string_is_plain(value: str, pos: Position) -> bool:
    """Whether the JSON string at ``pos`` spells ``value`` without escapes."""
    if pos.line == pos.end_line and pos.end_column > pos.column:
        return pos.end_column - pos.column == len(value) + 2
    return not any(ch in '"\\' or ord(ch) < 0x20 for ch in value)


class _ElementBase:
    """Positions inside one JSON string element of an exec-form RUN."""

    __slots__ = ("pos", "precise")

    def __init__(self, pos: Position, precise: bool):
        self.pos = pos
        self.precise = precise

    def span(self, start: int, end: int) -> Position:
        if not self.precise:
            return self.pos
        col = self.pos.column + 1
        return Position(self.pos.line, col + start, self.pos.line, col + max(start, end))


class _Src:
    """A text plus the map from its character offsets to ``base`` offsets.

    ``base`` is a :class:`Script` or an :class:`_ElementBase`; ``offs`` (None for the
    identity) has one entry per character plus a sentinel for the end.
    """

    __slots__ = ("text", "base", "offs")

    def __init__(self, text: str, base, offs: Optional[list]):
        self.text = text
        self.base = base
        self.offs = offs

    def to_base(self, i: int) -> int:
        if self.offs is None:
            return i
        if not self.offs:
            return 0
        return self.offs[max(0, min(i, len(self.offs) - 1))]

    def span(self, start: int, end: int) -> Position:
        n = len(self.text)
        start = max(0, min(start, n))
        end = max(start, min(end, n))
        if self.offs is None:
            return self.base.span(start, end)
        if end <= start:
            p = self.to_base(start)
            return self.base.span(p, p)
        return self.base.span(self.to_base(start), self.to_base(end - 1) + 1)

    def sub(self, text: str, local_offs: list) -> "_Src":
        return _Src(text, self.base, [self.to_base(o) for o in local_offs])


def _byte_to_char(text: str, data: bytes) -> Optional[list]:
    if len(data) == len(text):
        return None
    table = [0] * (len(data) + 1)
    bi = 0
    for ci, ch in enumerate(text):
        o = ord(ch)
        width = 1 if o < 0x80 else 2 if o < 0x800 else 3 if o < 0x10000 else 4
        for k in range(width):
            if bi + k < len(table):
                table[bi + k] = ci
        bi += width
    for k in range(min(bi, len(data)), len(data) + 1):
        table[k] = len(text)
    return table


# ---------------------------------------------------------------------------
# words


class _Word:
    """One shell word: its value after quote removal, or its raw text when dynamic."""

    __slots__ = ("value", "raw", "static", "pos", "src", "offs", "start", "sbase", "template")

    def __init__(self, value, raw, static, pos, src, offs, start, sbase, template=None):
        self.value = value
        self.raw = raw
        self.static = static
        self.pos = pos
        self.src = src  # the _Src the offsets below refer to
        self.offs = offs  # src offset of each value character, plus an end sentinel
        self.start = start  # src offset where the word starts
        self.sbase = sbase  # static basename of a dynamic word
        # a dynamic word after quote removal with its expansions kept as written,
        # (text, offsets): ``"apt-get install $PKGS"`` -> ``apt-get install $PKGS``
        self.template = template

    def text(self) -> str:
        return self.value if self.static else self.raw

    def suffix(self, k: int) -> "_Word":
        """The word minus its first ``k`` value characters (``--command=X`` -> ``X``)."""
        if not self.static:
            return _Word(self.raw[k:], self.raw[k:], False, self.pos, self.src, None, self.start, None)
        offs = self.offs[k:] if self.offs else [self.start]
        start = offs[0] if offs else self.start
        pos = self.src.span(start, offs[-1]) if len(offs) > 1 else self.pos
        return _Word(self.value[k:], self.value[k:], True, pos, self.src, offs, start, None)

    def inner_src(self) -> _Src:
        return self.src.sub(self.value, self.offs)


_ANSI_SIMPLE = {
    "n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v",
    "e": "\x1b", "E": "\x1b", "\\": "\\", "'": "'", '"': '"', "?": "?",
}


def _safe_chr(code: int) -> str:
    if 0 <= code <= 0x10FFFF:
        return chr(code)
    return "\ufffd"


def _ansi_c(text: str, i: int, end: int, out: list, offs: list) -> int:
    """Decode the body of ``$'...'`` starting at ``i``; return the offset after it."""
    while i < end:
        ch = text[i]
        if ch == "'":
            return i + 1
        if ch == "\\" and i + 1 < end:
            nx = text[i + 1]
            if nx in _ANSI_SIMPLE:
                out.append(_ANSI_SIMPLE[nx])
                offs.append(i)
                i += 2
                continue
            if nx in "xuU":
                limit = {"x": 2, "u": 4, "U": 8}[nx]
                j = i + 2
                while j < end and j < i + 2 + limit and text[j] in "0123456789abcdefABCDEF":
                    j += 1
                if j > i + 2:
                    out.append(_safe_chr(int(text[i + 2:j], 16)))
                    offs.append(i)
                    i = j
                    continue
            elif nx in "01234567":
                j = i + 1
                while j < end and j < i + 4 and text[j] in "01234567":
                    j += 1
                out.append(_safe_chr(int(text[i + 1:j], 8) & 0xFF))
                offs.append(i)
                i = j
                continue
            elif nx == "c" and i + 2 < end:
                out.append(chr(ord(text[i + 2]) & 0x1F))
                offs.append(i)
                i += 3
                continue
        out.append(ch)
        offs.append(i)
        i += 1
    return i


_QUOTING = lazy(r"[\\'\"$]")  # what quote removal acts on


def _decode(text: str, start: int, end: int, dyn: dict) -> tuple:
    """Quote removal over ``text[start:end]``.

    ``dyn`` maps the start of each expansion to its end. Returns ``(value, offsets,
    dynamic, static_tail)`` where offsets has one entry per value character plus an
    end sentinel, and ``static_tail`` is the static text after the last ``/`` when no
    expansion follows that slash (None otherwise).
    """
    if not dyn:
        seg = text[start:end]
        if _QUOTING.compiled.search(seg) is None:  # nothing to remove: the text itself
            slash = seg.rfind("/")
            return seg, list(range(start, end + 1)), False, (seg[slash + 1:] if 0 <= slash < len(seg) - 1 else None)
    out: list = []
    offs: list = []
    marks: list = []
    i = start
    dquote = False
    while i < end:
        stop = dyn.get(i)
        if stop is not None:
            marks.append(len(out))
            i = max(stop, i + 1)
            continue
        ch = text[i]
        if dquote:
            if ch == '"':
                dquote = False
                i += 1
                continue
            if ch == "\\" and i + 1 < end and text[i + 1] in '$`"\\\n':
                if text[i + 1] != "\n":
                    out.append(text[i + 1])
                    offs.append(i + 1)
                i += 2
                continue
            out.append(ch)
            offs.append(i)
            i += 1
            continue
        if ch == "\\":
            if i + 1 < end:
                if text[i + 1] != "\n":
                    out.append(text[i + 1])
                    offs.append(i + 1)
                i += 2
                continue
            out.append(ch)
            offs.append(i)
            i += 1
            continue
        if ch == "'":
            j = text.find("'", i + 1, end)
            if j < 0:
                j = end
            for k in range(i + 1, j):
                out.append(text[k])
                offs.append(k)
            i = j + 1
            continue
        if ch == "$" and i + 1 < end and text[i + 1] == "'":
            i = _ansi_c(text, i + 2, end, out, offs)
            continue
        if ch == "$" and i + 1 < end and text[i + 1] == '"':
            dquote = True
            i += 2
            continue
        if ch == '"':
            dquote = True
            i += 1
            continue
        out.append(ch)
        offs.append(i)
        i += 1
    offs.append(offs[-1] + 1 if offs else start)
    tail = None
    slash = -1
    for k in range(len(out) - 1, -1, -1):
        if out[k] == "/":
            slash = k
            break
    if slash >= 0 and slash + 1 < len(out) and all(m <= slash for m in marks):
        tail = "".join(out[slash + 1:])
    return "".join(out), offs, bool(marks), tail


def _heredoc_text(text: str, start: int, end: int, strip_tabs: bool, expand: bool) -> tuple:
    """The text a heredoc body hands to its reader, with the offset of every char."""
    out: list = []
    offs: list = []
    i = start
    line_start = True
    while i < end:
        ch = text[i]
        if line_start and strip_tabs and ch == "\t":
            i += 1
            continue
        line_start = False
        if expand and ch == "\\" and i + 1 < end:
            nx = text[i + 1]
            if nx == "\n":
                i += 2
                line_start = True
                continue
            if nx in "$`\\":
                out.append(nx)
                offs.append(i + 1)
                i += 2
                continue
        out.append(ch)
        offs.append(i)
        if ch == "\n":
            line_start = True
        i += 1
    offs.append(offs[-1] + 1 if offs else start)
    return "".join(out), offs


# ---------------------------------------------------------------------------
# option scanning for wrappers


def _scan(words, i, short_val="", short_opt="", long_val=(), dash_is_option=False):
    """Skip getopt-style options from ``words[i]``; stop at the first operand.

    Returns ``(index_of_first_operand, [(option, value_word_or_None), ...])``.
    """
    opts: list = []
    n = len(words)
    while i < n:
        w = words[i]
        if not w.static:
            break
        v = w.value
        if v == "--":
            return i + 1, opts
        if v == "-" and dash_is_option:
            opts.append(("-", None))
            i += 1
            continue
        if len(v) < 2 or v[0] != "-":
            break
        if v.startswith("--"):
            name, eq, _ = v[2:].partition("=")
            if eq:
                opts.append(("--" + name, w.suffix(len(name) + 3)))
                i += 1
            elif name in long_val and i + 1 < n:
                opts.append(("--" + name, words[i + 1]))
                i += 2
            else:
                opts.append(("--" + name, None))
                i += 1
            continue
        consumed_next = False
        j = 1
        while j < len(v):
            ch = v[j]
            if ch in short_val:
                if j + 1 < len(v):
                    opts.append(("-" + ch, w.suffix(j + 1)))
                elif i + 1 < n:
                    opts.append(("-" + ch, words[i + 1]))
                    consumed_next = True
                else:
                    opts.append(("-" + ch, None))
                break
            if ch in short_opt:
                opts.append(("-" + ch, w.suffix(j + 1) if j + 1 < len(v) else None))
                break
            opts.append(("-" + ch, None))
            j += 1
        i += 2 if consumed_next else 1
    return i, opts


def _skip_assignments(words, i):
    while i < len(words) and _ASSIGN_RE.match(words[i].raw):
        i += 1
    return i


def _opt_names(opts) -> set:
    return {name for name, _ in opts}


def _shell_label(shell: str) -> str:
    return basename(shell.strip()) if shell else "sh"


# Actions returned by _unwrap:
#   ("run", index, label, mode, passes_stdin)      the wrapped command starts at index
#   ("script", word, shell, label, options, same_shell)   parse word as a script
#   ("stdin", shell, label, options)               a shell reading its stdin
#   ("eval", first_index, label)                   join the words and parse them


def _unwrap_shell(name, words):
    n = len(words)
    i = 1
    has_c = False
    has_s = False
    opts: list = []
    while i < n:
        w = words[i]
        if not w.static:
            break
        v = w.value
        if v in ("--", "-"):
            i += 1
            break
        if v.startswith("--"):
            opts.append(v)
            if v in ("--rcfile", "--init-file") and i + 1 < n:
                opts.append(words[i + 1].text())
                i += 2
                continue
            i += 1
            continue
        if len(v) > 1 and v[0] in "-+":
            letters = v[1:]
            if v[0] == "-" and "c" in letters:
                has_c = True
            if v[0] == "-" and "s" in letters:
                has_s = True
            if v != "-c":
                opts.append(v.replace("c", "") if v[0] == "-" and len(letters) > 1 else v)
            need = letters.count("o") + letters.count("O")
            for _ in range(need):
                if i + 1 < n:
                    i += 1
                    opts.append(words[i].text())
            i += 1
            continue
        break
    options = tuple(o for o in opts if o not in ("", "-"))
    if has_c:
        if i < n:
            return ("script", words[i], name, name + " -c", options, False)
        return None
    if i < n and not has_s:
        return None  # runs a script file
    return ("stdin", name, name + " <<", options)


def _unwrap_su(name, words):
    runuser = name == "runuser"
    short_val = "cgGsw" + ("u" if runuser else "")
    long_val = {"command", "group", "supp-group", "shell", "whitelist-environment", "session-command"}
    if runuser:
        long_val.add("user")
    n = len(words)
    i = 1
    script = None
    shell = "sh"
    user_mode = False
    while i < n:
        w = words[i]
        if not w.static or w.value == "-" or not w.value.startswith("-"):
            if runuser and user_mode:
                return ("run", i, name, "external", True)
            i += 1
            continue
        if w.value == "--":
            if runuser and user_mode and i + 1 < n:
                return ("run", i + 1, name, "external", True)
            break
        nxt, opts = _scan(words, i, short_val=short_val, long_val=long_val)
        if nxt == i:
            nxt = i + 1
        for opt, val in opts:
            if opt in ("-c", "--command", "--session-command") and val is not None:
                script = val
            elif opt in ("-s", "--shell") and val is not None and val.static:
                shell = basename(val.value) or "sh"
            elif opt in ("-u", "--user"):
                user_mode = True
        i = nxt
    if script is not None:
        return ("script", script, shell, name + " -c", (), False)
    if runuser and user_mode:
        return None
    return ("stdin", shell, name + " <<", ())


def _unwrap(name: str, words: list):
    if name in SHELLS:
        return _unwrap_shell(name, words)
    if name == "sudo":
        i, opts = _scan(
            words, 1, short_val="ugCDhprtUTR",
            long_val={"user", "group", "close-from", "chdir", "host", "prompt", "role", "type",
                      "other-user", "command-timeout", "chroot"},
        )
        if _opt_names(opts) & {"-e", "--edit", "-l", "--list", "-V", "--version", "-v", "--validate",
                               "-K", "--remove-timestamp", "--help"}:
            return None
        return ("run", _skip_assignments(words, i), "sudo", "external", True)
    if name == "env":
        i = 1
        while True:
            i, opts = _scan(words, i, short_val="uCSP", long_val={"unset", "chdir", "split-string"},
                            dash_is_option=True)
            for opt, val in opts:
                if opt in ("-S", "--split-string") and val is not None:
                    return ("script", val, "sh", "env -S", (), False)
            after = _skip_assignments(words, i)
            if after == i:
                break
            i = after
        return ("run", i, "env", "external", True)
    if name == "xargs":
        i, _ = _scan(words, 1, short_val="IndPELsa", short_opt="iel",
                     long_val={"arg-file", "delimiter", "max-args", "max-procs", "max-chars",
                               "process-slot-var"})
        return ("run", i, "xargs", "external", False)
    if name == "exec":
        i, _ = _scan(words, 1, short_val="a")
        return ("run", i, "exec", "external", True)
    if name == "nohup":
        i, _ = _scan(words, 1)
        return ("run", i, "nohup", "external", True)
    if name == "time":
        i, _ = _scan(words, 1, short_val="fo", long_val={"format", "output"})
        return ("run", i, "time", "keep", True)
    if name == "command":
        i, opts = _scan(words, 1)
        if _opt_names(opts) & {"-v", "-V"}:
            return None
        return ("run", i, "command", "nofunc", True)
    if name == "builtin":
        return ("run", 1, "builtin", "nofunc", True)
    if name == "nice":
        i, _ = _scan(words, 1, short_val="n", long_val={"adjustment"})
        return ("run", i, "nice", "external", True)
    if name == "timeout":
        i, _ = _scan(words, 1, short_val="sk", long_val={"signal", "kill-after"})
        return ("run", i + 1, "timeout", "external", True)
    if name == "stdbuf":
        i, _ = _scan(words, 1, short_val="ioe", long_val={"input", "output", "error"})
        return ("run", i, "stdbuf", "external", True)
    if name in ("gosu", "su-exec"):
        i, _ = _scan(words, 1)
        return ("run", i + 1, name, "external", True)
    if name in ("tini", "tini-static"):
        i, _ = _scan(words, 1, short_val="ep")
        return ("run", i, name, "external", True)
    if name == "dumb-init":
        i, _ = _scan(words, 1, short_val="r", long_val={"rewrite"})
        return ("run", i, name, "external", True)
    if name == "busybox":
        return ("run", 1, name, "external", True)
    if name in ("su", "runuser"):
        return _unwrap_su(name, words)
    if name == "eval":
        return ("eval", 1, "eval")
    if name == "trap":
        i = 1
        if i < len(words) and words[i].static and words[i].value == "--":
            i += 1
        if len(words) - i >= 2 and words[i].static and words[i].value and words[i].value != "-":
            return ("script", words[i], None, "trap", (), True)
        return None
    return None


# ---------------------------------------------------------------------------
# the walk


class _Ctx:
    """One parsed script: its text, positions, shell and the functions it defines."""

    __slots__ = ("run", "text", "src", "b2c", "shell", "depth", "wrappers", "funcs", "options", "holder")

    def __init__(self, run, text, src, b2c, shell, depth, wrappers, funcs, options, holder=None):
        self.run = run
        self.text = text
        self.src = src
        self.b2c = b2c
        self.shell = shell
        self.depth = depth
        self.wrappers = wrappers
        self.funcs = funcs  # [(name, char offset of the definition)], -1 when inherited
        self.options = options
        self.holder = holder  # for re-parsed fragments: receives the placeholder's pipeline

    def ch(self, byte: int) -> int:
        if self.b2c is None:
            return byte
        if byte >= len(self.b2c):
            return len(self.text)
        return self.b2c[byte]

    def node_text(self, node) -> str:
        return self.text[self.ch(node.start_byte):self.ch(node.end_byte)]

    def is_function(self, name: str, at: int, in_function: bool) -> bool:
        for fname, start in self.funcs:
            if fname == name and (in_function or start < at):
                return True
        return False


class _RedirectInfo:
    __slots__ = ("extra", "stdin", "fragments", "tails", "pipe_tails", "walk", "bodies", "raw")

    def __init__(self):
        self.extra = []  # node groups that are really arguments of the command
        self.stdin = None  # ("heredoc", body, strip_tabs, quoted) / ("herestring", node)
        self.fragments = []  # (start, end) char ranges to re-parse after a parse error
        self.tails = []  # commands chained after a heredoc redirect (`<<EOF && x`)
        self.pipe_tails = []  # pipelines chained after a heredoc redirect (`<<EOF | x`)
        self.walk = []  # nodes to search for substitutions
        self.bodies = []  # expanding heredoc bodies (substitutions run in this shell)
        self.raw = []


class _Run:
    """State of one public call: results and work counters."""

    def __init__(self):
        self.out: list = []
        self.seq = 0
        self.nodes = 0
        self.parsed = 0
        self.pipelines = 0

    # -- bookkeeping -------------------------------------------------------

    def result(self) -> list:
        ordered = sorted(self.out, key=lambda item: (item[1].position.line, item[1].position.column, item[0]))
        out, seen = [], set()
        for _, cmd in ordered:
            # a $(...) inside a dynamic -c string is met twice: in the outer word and in the script
            key = (cmd.position, cmd.argv)
            if key in seen:
                continue
            seen.add(key)
            out.append(cmd)
        return out

    def add(self, cmd: ShellCommand) -> None:
        if len(self.out) >= MAX_COMMANDS:
            raise _Stop()
        self.out.append((self.seq, cmd))
        self.seq += 1

    def tick(self) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _Stop()

    def new_pipeline(self) -> int:
        self.pipelines += 1
        return self.pipelines

    # -- parsing -----------------------------------------------------------

    def parse_script(self, text, src, shell, depth, wrappers, inherited_funcs, options, holder=None):
        if depth > MAX_DEPTH or not text or not text.strip():
            return
        self.parsed += len(text)
        if self.parsed > MAX_PARSED_CHARS:
            raise _Stop()
        if FAST_PATH and holder is None:
            plan = _plain_script(text)
            if plan is not None:
                FAST_STATS["fast"] += 1
                self.plain_walk(text, src, shell, depth, wrappers, inherited_funcs, options, plan)
                return
        FAST_STATS["parsed"] += 1
        data = text.encode("utf-8", "surrogatepass")
        tree = _parse(data)
        if tree is None:
            return
        root = tree.root_node
        ctx = _Ctx(self, text, src, _byte_to_char(text, data), shell, depth, wrappers, [], options, holder)
        ctx.funcs = [(name, -1) for name, _ in inherited_funcs] + self._functions(ctx, root)
        self.walk(ctx, root, None, False, 0)

    def plain_walk(self, text, src, shell, depth, wrappers, inherited_funcs, options, plan) -> None:
        """Report the commands of a script :func:`_plain_script` accepted.

        Mirrors :meth:`parse_script` + :meth:`walk` over the tree tree-sitter builds for
        such a script, including when the work counter (one tick per node visited) and
        the pipeline counter move relative to each reported command.
        """
        items, size = plan
        c = _Ctx(self, text, src, None, shell, depth, wrappers,
                 [(name, -1) for name, _ in inherited_funcs], options)
        pending = size + 1  # _functions visits every node; then walk() enters the program
        for stmt in items:
            if stmt is None:  # a `;` child of the program
                pending += 1
                continue
            pending += len(stmt) - 1  # the (nested, binary) list nodes
            for pipe in stmt:
                pid = None
                if len(pipe) > 1:
                    self.nodes += pending + 1
                    pending = 0
                    if self.nodes > MAX_NODES:
                        raise _Stop()
                    pid = self.new_pipeline()
                for index, spans in enumerate(pipe):
                    k = len(spans)
                    # command + command_name + its word + the arguments, read by word()
                    self.nodes += pending + 2 + k
                    if self.nodes > MAX_NODES:
                        raise _Stop()
                    words = []
                    for s, e in spans:
                        value = text[s:e]
                        words.append(_Word(value, value, True, src.span(s, e), src, range(s, e + 1), s, None))
                    self.emit(c, words, wrappers, None if pid is None else (pid, index), False, "shell",
                              None, (), False)
                    pending = 1 + k  # walk() of command_name, its word and the arguments
        self.nodes += pending
        if self.nodes > MAX_NODES:
            raise _Stop()

    def _functions(self, c: _Ctx, root) -> list:
        found = []
        stack = [(root, 0)]
        while stack:
            node, level = stack.pop()
            self.tick()
            if node.type == "function_definition":
                name = node.child_by_field_name("name")
                if name is not None:
                    found.append((c.node_text(name), c.ch(node.start_byte)))
            if level < MAX_NODE_NESTING:
                stack.extend((ch, level + 1) for ch in node.children)
        return found

    # -- generic traversal -------------------------------------------------

    def walk(self, c: _Ctx, node, pl, infn: bool, nd: int, tail=(), last_pl=None) -> None:
        """Report the commands under ``node``.

        ``tail`` holds redirections the parser attached to an enclosing list or
        pipeline although they belong to its last command (``a && b > f`` comes back
        as ``(a && b) > f``); ``last_pl`` is the pipeline slot of that last command
        when it differs from ``pl``.
        """
        self.tick()
        if nd > MAX_NODE_NESTING:
            return
        t = node.type
        if t == "command":
            self.command(c, node, last_pl or pl, infn, nd, tail)
            return
        if t == "redirected_statement":
            self.redirected(c, node, pl, infn, nd, tail, last_pl)
            return
        if t == "list":
            parts = [ch for ch in node.children if ch.is_named and ch.type != "comment"]
            for k, ch in enumerate(parts):
                if k == len(parts) - 1:
                    self.walk(c, ch, pl, infn, nd + 1, tail, last_pl)
                else:
                    self.walk(c, ch, pl, infn, nd + 1)
            return
        if t == "pipeline":
            parts = [ch for ch in node.children if ch.is_named and ch.type != "comment"]
            if parts and parts[-1].type == "list":
                self.misread_pipeline(c, parts, pl, infn, nd, tail, last_pl)
                return
            pid = self.new_pipeline()
            for index, ch in enumerate(parts):
                slot = (pid, index)
                last = index == len(parts) - 1
                if index == 0 and ch.type == "redirected_statement" and _body_type(ch) == "list":
                    # `a && b 2>&1 | c` comes back as `(a && b 2>&1) | c`: only b is piped
                    self.redirected(c, ch, pl, infn, nd + 1, tail if last else (), slot)
                else:
                    self.walk(c, ch, slot, infn, nd + 1, tail if last else ())
            return
        if tail:
            self.compound_with_redirects(c, node, pl, infn, nd, tail, last_pl)
            return
        if t in ("command_substitution", "process_substitution"):
            for ch in node.children:
                self.walk(c, ch, None, infn, nd + 1)
            return
        if t == "function_definition":
            for ch in node.children:
                if ch.type != "word":
                    self.walk(c, ch, pl, True, nd + 1)
            return
        if t == "test_command":
            self.test_command(c, node, last_pl or pl, infn, nd)
            return
        if t in ("declaration_command", "unset_command"):
            self.declaration(c, node, last_pl or pl, infn, nd)
            return
        if t in ("comment", "heredoc_start", "heredoc_end"):
            return
        for ch in node.children:
            self.walk(c, ch, last_pl or pl, infn, nd + 1)

    def misread_pipeline(self, c: _Ctx, parts: list, pl, infn: bool, nd: int, tail, last_pl) -> None:
        """tree-sitter-bash reads ``a | b | c && d`` as ``a | ((b | c) && d)`` (a pipeline
        whose last element is a list, which the language does not allow): walk it as the
        shell runs it, ``(a | b | c) && d``."""
        elements, rest = _pipeline_elements(parts, nd)
        pid = self.new_pipeline()
        for index, ch in enumerate(elements):
            self.walk(c, ch, (pid, index), infn, nd + 1)
        for k, ch in enumerate(rest):
            last = k == len(rest) - 1
            self.walk(c, ch, pl, infn, nd + 1, tail if last else (), last_pl if last else None)

    def walk_all(self, c, nodes, pl, infn, nd) -> None:
        for node in nodes:
            self.walk(c, node, pl, infn, nd + 1)

    # -- words -------------------------------------------------------------

    def word(self, c: _Ctx, nodes: list) -> _Word:
        start = c.ch(nodes[0].start_byte)
        end = c.ch(nodes[-1].end_byte)
        raw = c.text[start:end]
        dyn: dict = {}
        stack = list(nodes)
        while stack:
            node = stack.pop()
            self.tick()
            if node.type in _EXPANSIONS:
                s, e = c.ch(node.start_byte), c.ch(node.end_byte)
                if e > s:
                    dyn[s] = max(dyn.get(s, s), e)
                continue
            stack.extend(node.children)
        value, offs, dynamic, tail = _decode(c.text, start, end, dyn)
        pos = c.src.span(start, end)
        if dynamic:
            tvalue, toffs, _, _ = _decode(c.text, start, end, {})
            return _Word(raw, raw, False, pos, c.src, list(range(start, end + 1)), start, tail, (tvalue, toffs))
        return _Word(value, raw, True, pos, c.src, offs, start, None)

    def group(self, c: _Ctx, groups: list, node) -> None:
        """Append ``node`` to the last group when no blank separates them."""
        if groups:
            prev = groups[-1][-1]
            if prev.end_byte == node.start_byte:
                groups[-1].append(node)
                return
            gap = c.text[c.ch(prev.end_byte):c.ch(node.start_byte)]
            if prev.end_byte < node.start_byte and _CONTINUATION_GAP.fullmatch(gap):
                groups[-1].append(node)
                return
        groups.append([node])

    # -- simple commands ---------------------------------------------------

    def redirected(self, c: _Ctx, node, pl, infn, nd, tail=(), last_pl=None) -> None:
        body = node.child_by_field_name("body")
        redirects = []
        others = []
        for i, ch in enumerate(node.children):
            if node.field_name_for_child(i) == "redirect" or (ch.type in _REDIRECTS and (body is None or not _same(ch, body))):
                redirects.append(ch)
            elif body is None or not _same(ch, body):
                others.append(ch)
        redirects.extend(tail)
        if body is None:
            self.compound_with_redirects(c, None, pl, infn, nd, redirects, last_pl)
        elif body.type in ("command", "list", "pipeline", "redirected_statement"):
            self.walk(c, body, pl, infn, nd + 1, tuple(redirects), last_pl)
        else:
            self.compound_with_redirects(c, body, pl, infn, nd, redirects, last_pl)
        self.walk_all(c, others, pl, infn, nd)

    def compound_with_redirects(self, c: _Ctx, body, pl, infn, nd, redirects, last_pl) -> None:
        """A loop, group, subshell... with redirections: only their contents count."""
        pl = last_pl or pl
        info = _RedirectInfo()
        for r in redirects:
            self.redirect(c, r, info, [])
        for start, end in info.fragments:
            self.fragment(c, start, end, infn, [])
        pid = self.new_pipeline() if info.pipe_tails else None
        if body is not None:
            self.walk(c, body, (pid, 0) if pid else pl, infn, nd + 1)
        self.after_redirects(c, info, pl, pid, infn, nd)

    def redirect(self, c: _Ctx, r, info: _RedirectInfo, arg_groups: list) -> None:
        t = r.type
        if t == "file_redirect":
            seen_target = False
            extra: list = []
            raw_end = r.end_byte
            for i, ch in enumerate(r.children):
                f = r.field_name_for_child(i)
                if ch.type == "ERROR" and _error_operator(ch):
                    info.fragments.append((c.ch(ch.start_byte), c.ch(r.end_byte)))
                    raw_end = min(raw_end, ch.start_byte)
                    break
                if f == "destination":
                    if not seen_target:
                        seen_target = True
                        raw_end = ch.end_byte
                        info.walk.append(ch)
                    else:
                        self.group(c, extra, ch)
                    continue
                info.walk.append(ch)
            info.extra.extend(extra)
            info.raw.append(c.text[c.ch(r.start_byte):c.ch(raw_end)].strip())
            return
        if t == "heredoc_redirect":
            stdin = True
            strip = False
            quoted = False
            body = None
            raw_end = r.end_byte
            raw_index = len(info.raw)
            info.raw.append("")
            for ch in r.children:
                ct = ch.type
                if ct == "file_descriptor":
                    stdin = c.node_text(ch) == "0"
                elif ct == "<<-":
                    strip = True
                elif ct == "heredoc_start":
                    quoted = any(q in c.node_text(ch) for q in "'\"\\")
                    raw_end = ch.end_byte
                elif ct == "heredoc_body":
                    body = ch
                elif ct in ("heredoc_end", "<<", "&&", "||", ";", "&"):
                    continue
                elif ct in _REDIRECTS:
                    self.redirect(c, ch, info, arg_groups)
                elif ct == "pipeline" and ch.child_count and ch.children[0].type in ("|", "|&"):
                    info.pipe_tails.append(ch)
                elif ch.is_named:
                    info.tails.append(ch)
            info.raw[raw_index] = c.text[c.ch(r.start_byte):c.ch(raw_end)].strip()
            if stdin:
                info.stdin = ("heredoc", body, strip, quoted)
            if body is not None and not quoted:
                info.bodies.append(body)
            return
        if t == "herestring_redirect":
            stdin = True
            value = None
            for ch in r.children:
                if ch.type == "file_descriptor":
                    stdin = c.node_text(ch) == "0"
                elif ch.is_named:
                    value = ch
                    info.walk.append(ch)
            for k, g in enumerate(arg_groups):
                if _descriptor_before(c, g, r):
                    # `cmd 0<<<x`: the parser reads the descriptor as an argument
                    stdin = c.node_text(g[0]) == "0"
                    del arg_groups[k]
                    break
            if stdin and value is not None:
                info.stdin = ("herestring", value)
            info.raw.append(c.node_text(r).strip())
            return
        info.walk.append(r)

    def command(self, c: _Ctx, node, pl, infn, nd, outer_redirects) -> None:
        name_node = None
        arg_groups: list = []
        own_redirects = []
        others = []
        for i, ch in enumerate(node.children):
            f = node.field_name_for_child(i)
            if f == "name" and name_node is None:
                name_node = ch
            elif f == "argument":
                self.group(c, arg_groups, ch)
            elif ch.type in _REDIRECTS:
                own_redirects.append(ch)
            else:
                others.append(ch)
        later: list = []  # commands of the following lines, read as arguments of this one
        if name_node is not None and arg_groups:
            arg_groups, later = _split_at_newlines(c, name_node, arg_groups)
        info = _RedirectInfo()
        for r in own_redirects:
            self.redirect(c, r, info, arg_groups)
        for r in outer_redirects:
            self.redirect(c, r, info, arg_groups)
        if c.holder is not None and name_node is not None and c.ch(node.start_byte) == 0:
            # the placeholder standing for the command a fragment was cut from
            c.holder.append(pl)
            return
        holder: list = []
        for start, end in info.fragments:
            self.fragment(c, start, end, infn, holder)
        pipe_pid = None
        cmd_pl = pl
        if info.pipe_tails:
            pipe_pid = self.new_pipeline()
            cmd_pl = (pipe_pid, 0)
        elif holder and holder[0] is not None:
            cmd_pl = holder[0]
        stdin_state = {"stdin": info.stdin, "used": False}
        if name_node is not None:
            groups = [[name_node]] + sorted(arg_groups + info.extra, key=lambda g: g[0].start_byte)
            words = [self.word(c, g) for g in groups]
            self.emit(c, words, c.wrappers, cmd_pl, infn, "shell", stdin_state, tuple(info.raw), False)
        self.walk_all(c, others, pl, infn, nd)
        if name_node is not None:
            self.walk(c, name_node, pl, infn, nd + 1)
        for g in arg_groups:
            self.walk_all(c, g, pl, infn, nd)
        for g in info.extra:
            self.walk_all(c, g, pl, infn, nd)
        for groups in later:
            self.emit(c, [self.word(c, g) for g in groups], c.wrappers, None, infn, "shell", None, (), False)
            for g in groups:
                self.walk_all(c, g, None, infn, nd)
        if stdin_state["used"] and info.stdin and info.stdin[0] == "heredoc":
            info.bodies = [b for b in info.bodies if not _same(b, info.stdin[1])]
        self.after_redirects(c, info, pl, pipe_pid, infn, nd)

    def after_redirects(self, c, info: _RedirectInfo, pl, pipe_pid, infn, nd) -> None:
        self.walk_all(c, info.walk, pl, infn, nd)
        for body in info.bodies:
            self.walk_all(c, body.children, None, infn, nd)
        self.walk_all(c, info.tails, pl, infn, nd)
        for pipe in info.pipe_tails:
            index = 1
            for ch in pipe.children:
                if ch.is_named and ch.type != "comment":
                    self.walk(c, ch, (pipe_pid, index), infn, nd + 1)
                    index += 1

    def fragment(self, c: _Ctx, start: int, end: int, infn, holder: list) -> None:
        """Re-parse text the parser swallowed into a redirect after an error.

        A one-letter placeholder stands for the command the fragment follows, so
        ``x | tee log; y`` keeps its pipeline; ``holder`` receives its pipeline.
        """
        if c.depth >= MAX_DEPTH or end <= start:
            return
        text = "x " + c.text[start:end]
        offs = [start, start] + list(range(start, end + 1))
        sub = c.src.sub(text, offs)
        before = len(holder)
        self.parse_script(text, sub, c.shell, c.depth + 1, c.wrappers, c.funcs, c.options, holder)
        if len(holder) == before:
            holder.append(None)

    def test_command(self, c: _Ctx, node, pl, infn, nd) -> None:
        groups: list = []
        stack = [iter(node.children)]
        while stack:
            ch = next(stack[-1], None)
            if ch is None:
                stack.pop()
                continue
            self.tick()
            if ch.type in _TEST_EXPRS and ch.child_count and len(stack) < MAX_NODE_NESTING:
                stack.append(iter(ch.children))
            elif ch.type != "comment":
                self.group(c, groups, ch)
        if groups:
            words = [self.word(c, g) for g in groups]
            self.emit(c, words, c.wrappers, pl, infn, "shell", None, (), False)
        for ch in node.children:
            self.walk(c, ch, pl, infn, nd + 1)

    def declaration(self, c: _Ctx, node, pl, infn, nd) -> None:
        groups: list = []
        redirects = []
        for ch in node.children:
            if ch.type in _REDIRECTS:
                redirects.append(ch)
            elif ch.type != "comment":
                self.group(c, groups, ch)
        if groups:
            info = _RedirectInfo()
            for r in redirects:
                self.redirect(c, r, info, groups)
            words = [self.word(c, g) for g in groups]
            self.emit(c, words, c.wrappers, pl, infn, "shell", None, tuple(info.raw), False)
        for ch in node.children:
            self.walk(c, ch, pl, infn, nd + 1)

    # -- emission and unwrapping -------------------------------------------

    def emit(self, c: _Ctx, words, wrappers, pl, infn, mode, stdin_state, redirects, exec_form) -> None:
        if not words:
            return
        w0 = words[0]
        dynamic = not w0.static
        name = w0.raw if dynamic else w0.value
        same_shell = mode in ("shell", "nofunc")
        function = mode == "shell" and not dynamic and c.is_function(name, w0.start, infn)
        builtin = same_shell and not dynamic and not function and name in BUILTINS
        if name == "time" and same_shell and not dynamic and not function:
            builtin = c.shell in _BASH_LIKE
        extras: dict = {}
        if dynamic and w0.sbase:
            extras["static_basename"] = w0.sbase
        if pl is not None:
            extras["pipeline_id"], extras["pipeline_index"] = pl
        if redirects:
            extras["redirects"] = redirects
        if c.options:
            extras["shell_options"] = c.options
        if exec_form:
            extras["exec_form"] = True
        self.add(
            ShellCommand(
                name=name,
                argv=tuple(w.text() for w in words),
                position=w0.pos,
                arg_positions=tuple(w.pos for w in words),
                wrappers=tuple(wrappers),
                builtin=builtin,
                function=function,
                dynamic=dynamic,
                in_pipeline=pl is not None,
                shell=c.shell,
                extras=extras,
            )
        )
        if function or len(wrappers) >= MAX_WRAPPERS:
            return
        key = w0.sbase if dynamic else basename(name)
        if not key:
            return
        action = _unwrap(key, words)
        if action is None:
            return
        kind = action[0]
        if kind == "run":
            _, index, label, wmode, passes_stdin = action
            if index >= len(words):
                return
            if wmode == "keep":
                new_mode = mode
            elif wmode == "nofunc":
                new_mode = "external" if mode == "external" else "nofunc"
            else:
                new_mode = "external"
            self.emit(c, words[index:], tuple(wrappers) + (label,), pl, infn, new_mode,
                      stdin_state if passes_stdin else None, redirects, exec_form)
        elif kind == "script":
            _, word, shell, label, options, same = action
            inherited = c.funcs if same and same_shell else ()
            if word.static:
                text, src = word.value, word.inner_src()
            elif word.template is not None:
                # the outer shell substitutes the variables; the script's shape is static
                text, offs = word.template
                src = word.src.sub(text, offs)
            else:
                return
            self.parse_script(text, src, shell or c.shell, c.depth + 1,
                              tuple(wrappers) + (label,), inherited, options)
        elif kind == "stdin":
            _, shell, label, options = action
            self.stdin_script(c, stdin_state, shell, label, options, wrappers)
        elif kind == "eval":
            _, index, label = action
            rest = words[index:]
            if not rest or not all(w.static for w in rest) or any(w.src is not rest[0].src for w in rest):
                return
            text_parts: list = []
            offs: list = []
            for k, w in enumerate(rest):
                if k:
                    text_parts.append(" ")
                    offs.append(offs[-1] if offs else w.start)
                text_parts.append(w.value)
                offs.extend(w.offs[: len(w.value)])
            offs.append(rest[-1].offs[-1] if rest[-1].offs else rest[-1].start)
            inherited = c.funcs if same_shell else ()
            self.parse_script("".join(text_parts), rest[0].src.sub("".join(text_parts), offs),
                              c.shell, c.depth + 1, tuple(wrappers) + (label,), inherited, c.options)

    def stdin_script(self, c: _Ctx, stdin_state, shell, label, options, wrappers) -> None:
        if not stdin_state or not stdin_state["stdin"] or stdin_state["used"]:
            return
        stdin = stdin_state["stdin"]
        if stdin[0] == "heredoc":
            _, body, strip, quoted = stdin
            if body is None:
                return
            start, end = c.ch(body.start_byte), c.ch(body.end_byte)
            text, offs = _heredoc_text(c.text, start, end, strip, not quoted)
            stdin_state["used"] = True
            self.parse_script(text, c.src.sub(text, offs), shell, c.depth + 1,
                              tuple(wrappers) + (label,), (), options)
        else:
            word = self.word(c, [stdin[1]])
            if not word.static:
                return
            stdin_state["used"] = True
            self.parse_script(word.value, word.inner_src(), shell, c.depth + 1,
                              tuple(wrappers) + (label + "<",), (), options)


# ---------------------------------------------------------------------------
# scripts read without tree-sitter
#
# The accepted subset: simple commands made of plain words, joined by `&&`, `||` and
# `|` and separated by `;` or newlines, with backslash-newline continuations between
# words. A plain word holds only the characters of _PLAIN_TOKEN's last group (no
# quotes, `$`, backslashes, redirections, globs other than `*`, braces, brackets,
# parentheses, `#`, `!`, `?`); an argument does not start with `=` (tree-sitter reads
# `== x` / `=~ x` arguments as operators). A command name is made of letters, digits and
# `_ . / + -` only and does not start with `+` or `-` (at the start of a statement
# tree-sitter reads `name=`, `name:`, `name%`, `name@`... as the start of an assignment,
# and a lone `-` as a special variable); it is not a reserved word, a declaration
# builtin or a test command. Anything else goes to tree-sitter.
#
# For these scripts tree-sitter builds program -> (list ->)* (pipeline ->)? command ->
# command_name -> word, one word / number leaf per argument, a `;` leaf per separator
# and an anonymous leaf per `&&` / `||` / `|`; lists nest to the left (`a && b || c` is
# ((a && b) || c)) and `|` binds tighter than `&&` / `||`. A script with a pipeline
# of three commands or more followed by any `&&` / `||` goes to tree-sitter (which does
# not read it that way; see _plain_script).

_PLAIN_TOKEN = lazy(r"([ \t]+)|((?:\\\n)+)|(\n)|(&&|\|\||[;|])|([A-Za-z0-9_./:=@%+,~*-]+)")
_PLAIN_NAME = lazy(r"[A-Za-z0-9_./][A-Za-z0-9_./+-]*")
_PLAIN_WORD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:=@%+,~*-")
_PLAIN_RESERVED = frozenset(
    {"if", "then", "else", "elif", "fi", "for", "select", "while", "until", "do", "done", "case", "in",
     "esac", "function", "declare", "typeset", "export", "readonly", "local", "unset", "unsetenv"}
)
# `&&` / `||` operators in one statement: each nests the list one level deeper, and the
# walk stops following nesting at MAX_NODE_NESTING
MAX_PLAIN_OPERATORS = 100
MAX_PLAIN_CHARS = 100_000  # longer scripts go to tree-sitter


def _plain_script(text: str):
    """``(items, size)`` for a script in the plain subset, None for any other.

    ``items`` is the program's children in order: a statement is a list of pipelines
    (joined by `&&` / `||`), a pipeline a list of commands, a command a list of
    ``(start, end)`` word spans (name first); None stands for a `;`. ``size`` is the
    number of nodes of tree-sitter's tree for the script.
    """
    n = len(text)
    if n > MAX_PLAIN_CHARS:
        return None
    items: list = []
    stmt = None  # pipelines of the current statement
    pipe = None  # commands of the current pipeline
    cmd = None  # word spans of the current command
    # 0: a statement may start; 1: a command must follow (after an operator); 2: in a command
    state = 0
    long_pipe = False  # a pipeline of three commands or more was seen
    pos = 0
    match = _PLAIN_TOKEN.compiled.match
    while pos < n:
        m = match(text, pos)
        if m is None:
            return None
        start = pos
        pos = m.end()
        kind = m.lastindex
        if kind == 1:
            continue
        if kind == 5:
            if state == 2:
                if text[start] == "=":
                    return None
                cmd.append((start, pos))
                continue
            if not _PLAIN_NAME.fullmatch(text, start, pos) or text[start:pos] in _PLAIN_RESERVED:
                return None
            cmd = [(start, pos)]
            if state == 0:
                pipe = [cmd]
                stmt = [pipe]
                items.append(stmt)
            else:
                pipe.append(cmd)
            state = 2
            continue
        if kind == 2:
            # `x\<newline>y` is one word to the shell but two nodes to tree-sitter, and a
            # continuation before a blank line or the end can make an error node
            after = text[pos] if pos < n else "\n"
            if start and text[start - 1] in _PLAIN_WORD_CHARS and after in _PLAIN_WORD_CHARS:
                return None
            rest = pos
            while rest < n and text[rest] in " \t":
                rest += 1
            if rest == n or text[rest] == "\n":
                return None
            # first on a line after a newline: tree-sitter joins the two lines
            back = start - 1
            while back >= 0 and text[back] in " \t":
                back -= 1
            if back >= 0 and text[back] == "\n" and (back == 0 or text[back - 1] != "\\"):
                return None
            continue
        if kind == 3:
            if state == 2:
                state = 0
            continue
        # an operator
        if state != 2:
            return None
        op = text[start:pos]
        if op == ";":
            items.append(None)
            state = 0
        elif op == "|":
            long_pipe = long_pipe or len(pipe) > 1
            state = 1
        else:
            if long_pipe or len(stmt) > MAX_PLAIN_OPERATORS:
                # after a pipeline of three commands or more, tree-sitter misreads a later
                # `&&` / `||`: `a | b | c && d` as `a | ((b | c) && d)`, and `a | b | c` NL
                # `d && e` as `a | ((b | c d) && e)`
                return None
            pipe = []
            stmt.append(pipe)
            state = 1
    if state == 1 or not items:
        return None
    size = 1  # the program
    for stmt in items:
        if stmt is None:
            size += 1
            continue
        size += 2 * (len(stmt) - 1)  # a list node and an operator leaf per `&&` / `||`
        for pipe in stmt:
            if len(pipe) > 1:
                size += len(pipe)  # the pipeline node and a `|` leaf per join
            for cmd in pipe:
                size += 2 + len(cmd)  # command, command_name and the words
    return items, size


# ---------------------------------------------------------------------------
# small helpers over tree-sitter nodes


# tree-sitter-bash's scanner hands characters to the C library's isdigit()/isalpha(), whose
# table lookup reads out of bounds for a large code point: "{" then U+10FFFF can crash the
# process. Every 4-byte character reaches the parser as U+10000 (same length, so every byte
# offset in the tree still fits the real text, which is what is read back).
_FOUR_BYTE_CHAR = re.compile(rb"[\xf0-\xf7][\x80-\xbf]{3}")


def _parse(data: bytes):
    global _PARSER
    with _PARSER_LOCK:
        if _PARSER is None:
            import tree_sitter

            _PARSER = tree_sitter.Parser(tree_sitter.Language(_bash_language()))
        return _PARSER.parse(_FOUR_BYTE_CHAR.sub(b"\xf0\x90\x80\x80", data))


def _bash_language():
    """The bash grammar, loaded straight from ``tree_sitter_bash``'s compiled binding: the
    package's ``__init__`` imports :mod:`importlib.resources` (for query files nothing here
    reads), which costs more than the rest of a small file's analysis."""
    if "tree_sitter_bash" not in sys.modules:
        try:
            import importlib.machinery
            import importlib.util

            spec = importlib.util.find_spec("tree_sitter_bash")
            for directory in (spec.submodule_search_locations or ()) if spec else ():
                for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                    path = os.path.join(directory, "_binding" + suffix)
                    if os.path.isfile(path):
                        loader = importlib.machinery.ExtensionFileLoader("tree_sitter_bash._binding", path)
                        binding = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
                        loader.exec_module(binding)
                        return binding.language()
        except (ImportError, OSError, AttributeError):
            pass
    import tree_sitter_bash

    return tree_sitter_bash.language()


def _same(a, b) -> bool:
    return a.start_byte == b.start_byte and a.end_byte == b.end_byte and a.type == b.type


def _split_at_newlines(c, name_node, arg_groups: list) -> tuple[list, list]:
    """``(arguments, [later commands])``: after a pipeline it misreads (see
    ``misread_pipeline``), tree-sitter-bash takes the words of the following lines as
    arguments of the pipeline's last command. A newline that no backslash escapes ends a
    command, so the words after one start a command of their own."""
    out: list = []
    later: list = []
    prev_end = name_node.end_byte
    for g in arg_groups:
        gap = c.text[c.ch(prev_end):c.ch(g[0].start_byte)]
        if "\n" in gap and "\n" in gap.replace("\\\r\n", "").replace("\\\n", ""):
            later.append([])
        (later[-1] if later else out).append(g)
        prev_end = g[-1].end_byte
    return out, later


def _named_parts(node) -> list:
    return [ch for ch in node.children if ch.is_named and ch.type != "comment"]


def _pipeline_elements(parts: list, depth: int = 0) -> tuple[list, list]:
    """For a misread pipeline (its last part a list): the pipeline's real elements, and
    the operands that follow it, in order."""
    if not parts or parts[-1].type != "list" or depth > MAX_NODE_NESTING:
        return parts, []
    operands = _named_parts(parts[-1])
    rest: list = []
    while operands and operands[0].type == "list" and depth <= MAX_NODE_NESTING:  # lists nest to the left
        rest = operands[1:] + rest
        operands = _named_parts(operands[0])
        depth += 1
    if not operands:
        return parts[:-1], rest
    head, rest = operands[0], operands[1:] + rest
    if head.type == "pipeline":
        inner, inner_rest = _pipeline_elements(_named_parts(head), depth + 1)
        return parts[:-1] + inner, inner_rest + rest
    return parts[:-1] + [head], rest


def _body_type(node) -> str:
    body = node.child_by_field_name("body")
    return body.type if body is not None else ""


def _error_operator(node) -> bool:
    return node.child_count > 0 and node.children[0].type in _LIST_OPS


def _descriptor_before(c: _Ctx, group: list, redirect) -> bool:
    last = group[-1]
    return len(group) == 1 and last.end_byte == redirect.start_byte and c.node_text(last).isdigit()

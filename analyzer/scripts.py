"""What shell text a RUN hands to which shell, with positions.

BuildKit's rules: a shell-form RUN runs ``SHELL + [command line]`` (default
``/bin/sh -c``); when it carries heredocs, the shell receives the command line followed
by the heredoc bodies and terminators, except for ``RUN <<EOF`` alone, where the body
itself is the script (run with its ``#!`` interpreter when it has one). An exec-form RUN
runs its argv directly.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Optional

from .lazyre import lazy
from .model import Heredoc, Instruction, Position, Script, ShellCommand

DEFAULT_SHELL = ("/bin/sh", "-c")
_POSIX_SHELLS = {"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "busybox"}


@dataclass(frozen=True)
class RunScript:
    """A RUN's command text, or its exec-form argv, under the SHELL in effect."""

    instruction: Instruction
    shell: tuple[str, ...]  # the SHELL in effect (argv prefix)
    script: Optional[Script]  # None for exec form
    argv: tuple[str, ...] = ()  # exec form
    argv_positions: tuple[Position, ...] = ()
    interpreter: str = "sh"  # basename of the program that reads ``script``
    # heredocs whose markers in ``script`` were replaced by plain ``<_NAME`` redirects
    heredocs: tuple[tuple[Heredoc, str], ...] = ()

    @property
    def posix(self) -> bool:
        return self.interpreter in _POSIX_SHELLS


_PATH_SEP = re.compile(r"[\\/]")


def shell_name(shell: tuple[str, ...]) -> str:
    if not shell:
        return "sh"
    base = _PATH_SEP.split(shell[0])[-1].lower()
    if base.endswith(".exe"):
        base = base[:-4]
    return base


def command_offset(ins: Instruction) -> int:
    """Offset in ``ins.logical`` where the command text starts (after keyword and flags)."""
    text = ins.logical
    i = len(ins.keyword_as_written)
    n = len(text)
    while True:
        while i < n and text[i] in " \t":
            i += 1
        if text.startswith("--", i):
            j = i
            while j < n and text[j] not in " \t":
                j += 1
            token = text[i:j]
            i = j
            if token == "--":
                while i < n and text[i] in " \t":
                    i += 1
                return i
            continue
        return i


def _sub_script(ins: Instruction, start: int) -> Script:
    segs = []
    for off, line, col in ins.segments:
        if off <= start:
            segs = [(0, line, col + (start - off))]
        else:
            segs.append((off - start, line, col))
    return Script(ins.logical[start:], tuple(segs))


def _heredoc_only(command: str) -> Optional[str]:
    m = re.fullmatch(r"\s*\d*<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_.-]*)\1\s*", command)
    return m.group(2) if m else None


def _kept_on(ins: Instruction, name: str) -> Optional[dict]:
    """A memo kept on the instruction itself (as long as its Dockerfile lives), or None
    when it cannot hold one. ``evolve`` leaves such ``_`` entries behind."""
    own = getattr(ins, "__dict__", None)
    return own.setdefault(name, {}) if own is not None else None


_MEMOS = ("_run_scripts", "_commands_memo")


def forget(df) -> None:
    """Drop the memos kept on ``df``'s instructions once the file is done with. They refer
    back to their instruction (a RunScript names it): left in place, every file would
    leave cycles behind for the garbage collector to find; without them reference counting
    frees the file at once."""
    for ins in df.instructions:
        for one in (ins, ins.trigger) if ins.trigger is not None else (ins,):
            own = one.__dict__
            for name in _MEMOS:
                own.pop(name, None)


def run_script(ins: Instruction, shell: tuple[str, ...] = DEFAULT_SHELL) -> RunScript:
    """The shell text of a RUN (or an ONBUILD RUN's trigger); worked out once per
    instruction and shell (the checks and the lineage walk both ask)."""
    ins = ins.effective
    known = _kept_on(ins, "_run_scripts")
    if known is None or type(shell) is not tuple:
        return _run_script(ins, shell)
    found = known.get(shell)
    if found is None:
        found = known[shell] = _run_script(ins, shell)
    return found


def _run_script(ins: Instruction, shell: tuple[str, ...]) -> RunScript:
    interpreter = shell_name(shell)
    if ins.json:
        positions = _json_positions(ins)
        return RunScript(ins, shell, None, tuple(ins.args), tuple(positions), interpreter)
    start = command_offset(ins)
    head = _sub_script(ins, start)
    if not ins.heredocs:
        return RunScript(ins, shell, head, interpreter=interpreter)
    only = _heredoc_only(head.text)
    if only is not None and ins.heredocs[0].name == only:
        doc = ins.heredocs[0]
        body = body_script(doc)
        if body.text.startswith("#!"):
            first = body.text.split("\n", 1)[0][2:].strip().split()
            prog = first[0].rsplit("/", 1)[-1] if first else "sh"
            if prog == "env" and len(first) > 1:
                prog = first[1]
            interpreter = prog
        return RunScript(ins, shell, body, interpreter=interpreter)
    # The shell receives the command line followed by the bodies. tree-sitter-bash does
    # not parse a redirect-first heredoc (`<<EOF bash`) nor several on a line, so each
    # marker becomes a same-length plain redirect (`<<EOF` -> `<_EOF`) and the bodies
    # are matched to the commands that carry those redirects (commands_of).
    text = head.text
    pairs = []
    for doc in ins.heredocs:
        m = None
        for cand in _MARKER_RE.finditer(text):
            if cand.group(5) == doc.name:
                m = cand
                break
        if m is None:
            continue
        lt = m.start() + len(m.group(1)) + 1  # the second '<'
        text = text[:lt] + "_" + text[lt + 1 :]
        pairs.append((doc, m.group(0)[: len(m.group(1)) + 1] + "_" + m.group(0)[len(m.group(1)) + 2 :]))
    return RunScript(ins, shell, Script(text, head.segments), interpreter=interpreter, heredocs=tuple(pairs))


_MARKER_RE = lazy(r"(\d*)<<(-?)(\s*)(['\"]?)([A-Za-z_][A-Za-z0-9_.-]*)\4")
_SHELL_OPTS_WITH_VALUE = {"-o", "+o", "-O", "+O", "--rcfile", "--init-file"}


def body_script(doc: Heredoc) -> Script:
    """A heredoc body as the reading program sees it (``<<-`` strips leading tabs)."""
    parts = []
    segs = []
    offset = 0
    for i, line in enumerate(doc.body.split("\n")[:-1] if doc.body else []):
        stripped = line.lstrip("\t") if doc.chomp else line
        segs.append((offset, doc.start_line + i, 1 + len(line) - len(stripped)))
        parts.append(stripped + "\n")
        offset += len(stripped) + 1
    return Script("".join(parts), tuple(segs))


def _reads_script_from_stdin(cmd: ShellCommand) -> bool:
    from analyzer.shell import SHELLS, basename

    if cmd.dynamic or basename(cmd.name) not in SHELLS:
        return False
    args = list(cmd.argv[1:])
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-c",) or (a.startswith("-") and not a.startswith("--") and "c" in a[1:]):
            return False
        if a in _SHELL_OPTS_WITH_VALUE:
            i += 2
            continue
        if a == "-s" or a == "--":
            return True
        if not a.startswith(("-", "+")):
            return False  # a script file operand
        i += 1
    return True


_COMMANDS_MEMO: dict = {}  # oldest first
_COMMANDS_MEMO_SIZE = 1024  # scripts (a few KiB each); a full memo forgets its oldest quarter


def commands_of(run: RunScript) -> list[ShellCommand]:
    """Every command a RUN invokes, heredoc bodies fed to a shell included.

    The lint checks and the lineage walk both ask for the commands of the same RUN; the
    answer depends only on the text, shell and heredocs, so recent answers are reused
    (each caller gets its own list of the same immutable commands).
    """
    import analyzer.shell as sh

    if sh._STRICT:  # tests that want parser errors raised
        return _commands_of(run)
    if run.script is None:
        key = (None, run.argv, run.argv_positions)
    else:
        key = (run.script, run.interpreter, run.heredocs)
    # kept on the instruction (as long as its Dockerfile lives) when it can hold it: a file
    # with more RUNs than the shared memo holds would otherwise parse every RUN twice
    # (the lint checks and the lineage walk may hold different copies of one instruction,
    # which the shared memo serves)
    memo = _kept_on(run.instruction, "_commands_memo")
    try:
        cached = memo.get(key) if memo is not None else None
        if cached is None:
            cached = _COMMANDS_MEMO.get(key)
    except TypeError:  # an unhashable part: no memo
        return _commands_of(run)
    if cached is None:
        cached = _commands_of(run)
        if len(_COMMANDS_MEMO) >= _COMMANDS_MEMO_SIZE:
            for old in list(_COMMANDS_MEMO)[: max(1, _COMMANDS_MEMO_SIZE // 4)]:
                del _COMMANDS_MEMO[old]
        _COMMANDS_MEMO[key] = cached
    if memo is not None:
        memo[key] = cached
    return list(cached)


def _commands_of(run: RunScript) -> list[ShellCommand]:
    from dataclasses import replace

    import analyzer.shell as sh

    if run.script is None:
        return sh.exec_form_commands(list(run.argv), list(run.argv_positions))
    if not run.posix:
        return []
    cmds = sh.commands(run.script, run.interpreter)
    if not run.heredocs:
        return cmds
    out = list(cmds)
    for doc, placeholder in run.heredocs:
        receivers = [c for c in cmds if placeholder in c.extras.get("redirects", ()) and _reads_script_from_stdin(c)]
        if not receivers:
            continue
        receiver = max(receivers, key=lambda c: len(c.wrappers))
        label = f"{sh.basename(receiver.name)} <<"
        for inner in sh.commands(body_script(doc), sh.basename(receiver.name)):
            out.append(replace(inner, wrappers=receiver.wrappers + (label,) + inner.wrappers))
    out.sort(key=lambda c: (c.position.line, c.position.column))
    return out


def _json_positions(ins: Instruction) -> list[Position]:
    """Position of each string of a JSON-form instruction in the Dockerfile."""
    text = ins.logical
    start = command_offset(ins)
    out = []
    i = text.find("[", start)
    script = Script(text, ins.segments)
    if i < 0:
        return [ins.position for _ in ins.args]
    decoder = json.JSONDecoder()
    pos = i + 1
    for _ in ins.args:
        q = text.find('"', pos)
        if q < 0:
            out.append(ins.position)
            continue
        try:
            _value, end = decoder.raw_decode(text, q)
        except ValueError:
            out.append(ins.position)
            continue
        out.append(script.span(q, end))
        pos = end
    return out

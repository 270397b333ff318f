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

from .model import Instruction, Position, Script

DEFAULT_SHELL = ("/bin/sh", "-c")
_POSIX_SHELLS = {"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "busybox"}


@dataclass(frozen=True)
class RunScript:
    instruction: Instruction
    shell: tuple[str, ...]  # the SHELL in effect (argv prefix)
    script: Optional[Script]  # None for exec form
    argv: tuple[str, ...] = ()  # exec form
    argv_positions: tuple[Position, ...] = ()
    interpreter: str = "sh"  # basename of the program that reads ``script``

    @property
    def posix(self) -> bool:
        return self.interpreter in _POSIX_SHELLS


def shell_name(shell: tuple[str, ...]) -> str:
    if not shell:
        return "sh"
    base = re.split(r"[\\/]", shell[0])[-1].lower()
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


def run_script(ins: Instruction, shell: tuple[str, ...] = DEFAULT_SHELL) -> RunScript:
    """The shell text of a RUN (or an ONBUILD RUN's trigger)."""
    ins = ins.effective
    interpreter = shell_name(shell)
    if ins.json:
        positions = _json_positions(ins)
        return RunScript(ins, shell, None, tuple(ins.args), tuple(positions), interpreter)
    start = command_offset(ins)
    head = _sub_script(ins, start)
    if not ins.heredocs:
        return RunScript(ins, shell, head, interpreter=interpreter)
    only = _heredoc_only(head.text)
    if only is not None and len(ins.heredocs) >= 1 and ins.heredocs[0].name == only:
        doc = ins.heredocs[0]
        body = doc.body
        segs = []
        offset = 0
        for i, line in enumerate(body.split("\n")[:-1] if body else []):
            segs.append((offset, doc.start_line + i, 1))
            offset += len(line) + 1
        if body.startswith("#!"):
            first = body.split("\n", 1)[0][2:].strip().split()
            prog = first[0].rsplit("/", 1)[-1] if first else "sh"
            if prog == "env" and len(first) > 1:
                prog = first[1]
            interpreter = prog
        return RunScript(ins, shell, Script(body, tuple(segs)), interpreter=interpreter)
    # command line, then each body and its terminator, as the shell receives them
    text = head.text
    segs = list(head.segments)
    for doc in ins.heredocs:
        text += "\n"
        offset = len(text)
        raw_lines = doc.body.split("\n")[:-1] if doc.body else []
        for i, line in enumerate(raw_lines):
            segs.append((offset, doc.start_line + i, 1))
            offset += len(line) + 1
        segs.append((offset, doc.end_line, 1))
        text += doc.body + doc.name
    return RunScript(ins, shell, Script(text, tuple(segs)), interpreter=interpreter)


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

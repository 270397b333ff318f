"""Rule implementations and what they share.

A check is a function ``check(ctx: Context) -> Iterable[Hit]`` registered under its rule
id with :func:`check`. Its documentation, default severity and examples live in
``rules/<ID>.yaml``; the catalog loader refuses a check without a rule file and a rule
file without a check.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Iterable, Iterator, Optional

from ..model import Dockerfile, Instruction, Position, ShellCommand, Stage

_REGISTRY: dict[str, Callable[["Context"], Iterable["Hit"]]] = {}
_NEEDS: dict[str, tuple[Optional[frozenset], Optional[frozenset]]] = {}
_LOADED = False


@dataclass(frozen=True)
class Hit:
    """What a check reports: where, and the message."""

    position: Position
    message: str


def check(rule_id: str, *, keywords: Iterable[str] = (), commands: Iterable[str] = ()):
    """Register ``check`` under ``rule_id``.

    ``keywords`` and ``commands`` say where the check can find anything at all, so that a
    file without it is not looked at: an instruction with one of ``keywords`` (an ONBUILD
    counts as ONBUILD and as the instruction it carries), or a RUN command named one of
    ``commands`` (the name :meth:`Context.commands_named` files it under). A check that
    reports something missing must not declare either. tests/test_check_needs.py runs every
    check on files it would be skipped for and expects no finding."""
    kw = frozenset(k.upper() for k in keywords) or None
    cmds = frozenset(commands) or None

    def register(fn):
        if rule_id in _REGISTRY:
            raise ValueError(f"check {rule_id} registered twice")
        _REGISTRY[rule_id] = fn
        _NEEDS[rule_id] = (kw, cmds)
        return fn

    return register


def needs(rule_id: str) -> tuple[Optional[frozenset], Optional[frozenset]]:
    """(keywords, command names) a check needs in a file to find anything (see :func:`check`);
    None for no such condition."""
    registered()
    return _NEEDS.get(rule_id, (None, None))


def registered() -> dict[str, Callable]:
    global _LOADED
    if not _LOADED:
        from analyzer.checks import buildkit, files, instructions, labels, lineage, packages, security, stages  # noqa: F401  (registration)

        _LOADED = True
    return dict(_REGISTRY)


class Context:
    """One Dockerfile as the checks see it, with the costly views computed once."""

    def __init__(self, df: Dockerfile, options=None, shell_pragma: Optional[str] = None):
        from analyzer.rules import LintOptions

        self.df = df
        self.options = options if options is not None else LintOptions()
        self.shell_pragma = shell_pragma
        self.current_rule = ""
        self.lineage = None  # analyzer.lineage.analysis.LineageResult, when lineage was resolved
        self._by_keywords: dict = {}  # (keywords, triggers) -> instructions, triggers -> by keyword
        self._by_stage: dict = {}  # (id of a stage, keywords) -> (the stage, its instructions)

    # -- options ------------------------------------------------------------------
    def option(self, name: str, default=None):
        return self.options.option(self.current_rule, name, default)

    # -- instructions ---------------------------------------------------------------
    def instructions(self, *keywords: str, triggers: bool = True) -> Iterator[Instruction]:
        """Every instruction (ONBUILD triggers as the instruction they carry)."""
        key = (keywords, triggers)
        found = self._by_keywords.get(key)
        if found is None:
            groups = self._by_keywords.get(triggers)
            if groups is None:  # one pass over the file: keyword -> instructions, None -> all
                groups = self._by_keywords[triggers] = {None: []}
                for ins in self.df.instructions:
                    eff = ins.effective if triggers else ins
                    groups[None].append(eff)
                    groups.setdefault(eff.keyword, []).append(eff)
            if len(keywords) == 1:
                found = groups.get(keywords[0].upper(), [])
            else:
                wanted = {k.upper() for k in keywords}
                found = [eff for eff in groups[None] if not wanted or eff.keyword in wanted]
            self._by_keywords[key] = found
        return iter(found)

    def stage_instructions(self, stage: Stage, *keywords: str) -> Iterator[Instruction]:
        """The stage's own instructions (not ONBUILD triggers, which run in a child image)
        with one of ``keywords`` (any, without), in order."""
        key = (id(stage), keywords)
        entry = self._by_stage.get(key)
        if entry is None or entry[0] is not stage:
            wanted = {k.upper() for k in keywords}
            entry = self._by_stage[key] = (
                stage,  # kept: its id stays its own
                [ins for ins in stage.instructions if ins.trigger is None and (not wanted or ins.keyword in wanted)],
            )
        return iter(entry[1])

    @cached_property
    def keywords(self) -> frozenset:
        """Every keyword in the file: each instruction's, and the one an ONBUILD carries."""
        out = set()
        for ins in self.df.instructions:
            out.add(ins.keyword)
            if ins.trigger is not None:
                out.add(ins.trigger.keyword)
        return frozenset(out)

    def may_find(self, keywords: Optional[frozenset], commands: Optional[frozenset]) -> bool:
        """False when the file has none of ``keywords`` or its RUNs call none of ``commands``
        (a check that needs them finds nothing here)."""
        if keywords is not None and self.keywords.isdisjoint(keywords):
            return False
        if commands is not None and self.command_names().isdisjoint(commands):
            return False
        return True

    def command_names(self):
        """The names the RUNs call (as :meth:`commands_named` files them), a set-like view."""
        return self._commands_by_name.keys()

    @cached_property
    def resolution(self):
        from analyzer.expand import resolve

        return resolve(self.df, dict(self.options.build_args))

    def inherited_state(self, stage: Stage):
        """What the stage starts from (analyzer.inventory.State: USER, WORKDIR, SHELL, PATH
        and who set them), when lineage was resolved; None otherwise."""
        lineage = self.lineage
        if lineage is None:
            return None
        return lineage.start_states.get(stage.index)

    def inherited_workdir(self, stage: Stage) -> Optional[str]:
        """The WORKDIR a base image in the chain set explicitly, else None."""
        state = self.inherited_state(stage)
        if state is None or state.workdir_origin is None:
            return None
        return state.workdir

    def stage_of(self, ins: Instruction) -> Optional[Stage]:
        if 0 <= ins.stage < len(self.df.stages):
            return self.df.stages[ins.stage]
        return None

    # -- shell ----------------------------------------------------------------------
    @cached_property
    def _shells(self) -> dict[int, tuple[str, ...]]:
        """The SHELL in effect for each instruction index."""
        from analyzer.scripts import DEFAULT_SHELL

        out: dict[int, tuple[str, ...]] = {}
        end_shell: dict[int, tuple[str, ...]] = {}
        default = DEFAULT_SHELL
        if self.shell_pragma:
            default = (self.shell_pragma, "-c")
        for stage in self.df.stages:
            shell = default
            base = self.df.stage_by_name(stage.base)
            if base is not None and base.index < stage.index:
                shell = end_shell.get(base.index, default)
            elif not self.shell_pragma:
                inherited = self.inherited_state(stage)
                if inherited is not None and inherited.shell:
                    shell = tuple(inherited.shell)  # the base image's SHELL (lineage)
            for ins in stage.instructions:
                out[ins.index] = shell
                if ins.keyword == "SHELL" and ins.json and ins.args:
                    shell = tuple(ins.args)
            end_shell[stage.index] = shell
        return out

    def shell_for(self, ins: Instruction) -> tuple[str, ...]:
        from analyzer.scripts import DEFAULT_SHELL

        if ins.keyword == "ONBUILD" or ins.trigger is not None:
            return DEFAULT_SHELL
        return self._shells.get(ins.index, DEFAULT_SHELL)

    @cached_property
    def runs(self) -> list:
        """A RunScript for every RUN and ONBUILD RUN."""
        from analyzer.scripts import DEFAULT_SHELL, run_script

        out = []
        for ins in self.df.instructions:
            eff = ins.effective
            if eff.keyword != "RUN":
                continue
            shell = DEFAULT_SHELL if ins.trigger is not None else self._shells.get(ins.index, DEFAULT_SHELL)
            if ins.trigger is not None and self.shell_pragma:
                shell = (self.shell_pragma, "-c")
            out.append(run_script(eff, shell))
        return out

    @cached_property
    def commands(self) -> list[tuple[object, ShellCommand]]:
        """Every (RunScript, ShellCommand) the RUNs invoke, in file order."""
        from analyzer.scripts import commands_of

        return [(run, c) for run in self.runs for c in commands_of(run)]

    @cached_property
    def _commands_by_name(self) -> dict[str, list[tuple[int, object, ShellCommand]]]:
        from analyzer.shell import basename

        by_name: dict[str, list] = {}
        for i, (run, cmd) in enumerate(self.commands):
            name = basename(cmd.name) if not cmd.dynamic else cmd.extras.get("static_basename", "")
            by_name.setdefault(name, []).append((i, run, cmd))
        return by_name

    def commands_named(self, *names: str) -> Iterator[tuple[object, ShellCommand]]:
        """The commands whose name (its last path component) is one of ``names``, in order."""
        by_name = self._commands_by_name
        found = [hit for name in dict.fromkeys(names) for hit in by_name.get(name, ())]
        if len(names) > 1:
            found.sort(key=lambda hit: hit[0])
        for _i, run, cmd in found:
            yield run, cmd


def word_span(ins: Instruction, word: str, start: int = 0) -> Position:
    """Position of ``word`` in the instruction's logical line, else the keyword's."""
    pos = ins.span_of(word, start) if word else None
    return pos if pos is not None else ins.position


def command_span(cmd: ShellCommand) -> Position:
    """From the command's name to the end of its last argument."""
    first = cmd.position
    if cmd.arg_positions:
        last = cmd.arg_positions[-1]
        if (last.end_line, last.end_column) > (first.line, first.column):
            return Position(first.line, first.column, last.end_line, last.end_column)
    return first

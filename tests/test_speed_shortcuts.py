"""Shortcuts taken for speed give exactly what the long way gives."""

from __future__ import annotations


import pytest

from conftest import bench_corpus

from analyzer import parse
from analyzer.lineage import analysis
from analyzer.lineage.session import builtin_resolver


HANDMADE = [
    "FROM python:3.12-slim\nENV PATH=$PATH:/opt/tools/bin\nRUN pip install flask && flask --version\n",
    "FROM python:3.12-slim\nWORKDIR $HOME\nRUN ls\n",
    "FROM eclipse-temurin:21-jre\nCOPY tool $JAVA_HOME/bin/\nRUN tool --help && java -version\n",
    "FROM debian:12\nENV A=1\nRUN apt-get update && apt-get install -y curl && curl -V\n",
    "FROM debian:12 AS base\nRUN apt-get update && apt-get install -y git\nFROM base\nENV PATH=/usr/local/go/bin:$PATH\nRUN git --version && go version\n",
    "FROM debian:12 AS base\nRUN apt-get update && apt-get install -y git\nFROM base\nRUN git --version && wget -q x\n",
    "FROM node:20-alpine\nUSER node\nRUN npm ci && node app.js\n",
    "FROM node:20-alpine\nARG U=node\nUSER $U\nRUN npm ci\n",
    "FROM golang:1.22\nENV GOPATH=/go2\nRUN go build ./... && $GOPATH/bin/app\n",
    "FROM alpine:3.19\nRUN apk add --no-cache bash\nSHELL [\"/bin/bash\", \"-c\"]\nRUN echo $PATH && bash -c true\n",
    "FROM ubuntu:22.04\nCOPY <<EOF /etc/x\n$HOME\nEOF\nRUN cat /etc/x\n",
    # variables outside RUN: named by the base image's ENV, or not
    "FROM python:3.12-slim\nARG V=1\nENV A=$V B=$PYTHON_VERSION\nRUN echo $A $B && python3 -V\n",
    "FROM python:3.12-slim\nARG V=1\nENV A=$V\nWORKDIR /app/${V}\nRUN echo $A && python3 -V\n",
    "FROM eclipse-temurin:21-jre\nARG T=x\nENV J=${JAVA_HOME}/bin T=$T\nCOPY tool $J/\nRUN tool\n",
    "FROM golang:1.22\nARG N=app\nENV OUT=/go/bin/$N\nRUN go build -o $OUT . && $OUT\n",
    "FROM debian:12\nARG P=1\nENV Q=$P$\nRUN echo $Q\n",
]


def _corpus(count: int) -> list[str]:
    return bench_corpus(count, seed=7)


def _lineage(text: str):
    df = parse(text)
    result = analysis.analyze(df, resolver=builtin_resolver(), offline=True)
    checks = [(c.instruction.index, c.command, c.availability, c.user, c.family, c.package_manager) for c in result.checks]
    return checks, dict(result.stage_states), dict(result.start_states)


def test_lineage_without_the_second_expansion_is_the_same(monkeypatch):
    texts = HANDMADE + _corpus(150)
    taken = 0
    for text in texts:
        monkeypatch.setattr(analysis, "_SHORTCUT", False)
        slow = _lineage(text)
        monkeypatch.setattr(analysis, "_SHORTCUT", True)
        fast = _lineage(text)
        assert fast == slow, text
        taken += not analysis._expands_anything(parse(text))
    assert taken >= 40  # the shortcut is taken often, not only in theory


def test_lineage_shortcut_is_taken_only_without_names_the_base_sets(monkeypatch):
    import analyzer.expand as expand

    calls = []
    real = expand.resolve

    def counting(*args, **kwargs):
        calls.append(kwargs.get("image_env") is not None)
        return real(*args, **kwargs)

    monkeypatch.setattr(expand, "resolve", counting)
    analysis.analyze(parse("FROM debian:12\nENV A=1\nRUN curl x\n"), resolver=builtin_resolver(), offline=True)
    assert calls == [False]
    calls.clear()
    analysis.analyze(parse("FROM debian:12\nENV A=$PATH:/x\nRUN curl x\n"), resolver=builtin_resolver(), offline=True)
    assert calls == [False, True]  # PATH: the base image's ENV sets it
    calls.clear()
    analysis.analyze(parse("FROM debian:12\nENV A=$B\nRUN curl x\n"), resolver=builtin_resolver(), offline=True)
    assert calls == [False]  # B: the base image's ENV does not set it
    calls.clear()
    analysis.analyze(parse("FROM debian:12\nENV A=$B$\nRUN curl x\n"), resolver=builtin_resolver(), offline=True)
    assert calls == [False, True]  # a $ without a name: not sure, the long way
    calls.clear()
    analysis.analyze(parse("FROM debian:12\nRUN echo $A\n"), resolver=builtin_resolver(), offline=True)
    assert calls == [False]  # the shell expands RUN's variables, from the walk's state


def test_package_closure_memo_matches_a_fresh_walk(monkeypatch):
    from analyzer.knowledge import packages

    names = ["curl", "git", "build-essential", "python3-pip", "openssh-client", "nodejs", "gcc", "make", "no-such-package-xyz"]
    first = {n: packages.commands_of_package("apt", n) for n in names}
    monkeypatch.setattr(packages, "_CLOSURES", {})
    again = {n: packages.commands_of_package("apt", n) for n in names}
    assert first == again
    assert first["build-essential"] and len(set(first["build-essential"])) == len(first["build-essential"])  # no repeats

    class Tiny:
        def own_commands(self, package):
            return {"a": ("/usr/bin/a",), "b": ("/usr/bin/b", "/usr/bin/a")}.get(package)

        def depends(self, package):
            return ("b",) if package == "a" else ()

        def providers(self, command):
            return []

    packages.set_index("apt", Tiny())
    try:
        assert packages.commands_of_package("apt", "a") == ("/usr/bin/a", "/usr/bin/b")
        assert packages.commands_of_package("apt", "curl") is None  # not the other index's answer
    finally:
        packages.set_index("apt", None)
    assert packages.commands_of_package("apt", "curl") == first["curl"]


def test_provide_memo_gives_equal_effects():
    from analyzer import effects

    paths = ["/usr/bin/a", "/bin/b", "/usr/sbin/c"]
    one = effects._provide(paths, "apt-get install a", "a", merged=True, own=["/usr/bin/a"])
    two = effects._provide(iter(paths), "apt-get install a", "a", merged=True, own=("/usr/bin/a",))
    assert one == two and one is not two
    assert [type(e).__name__ for e in one] == ["Effect", "Effect", "_Pulled", "_Pulled", "_Pulled", "_Pulled"]
    assert [e.path for e in one] == ["/usr/bin/a", "/bin/a", "/usr/bin/b", "/bin/b", "/usr/sbin/c", "/sbin/c"]
    assert effects._provide(paths, "apt-get install a", "a", merged=False) != one


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_pool_chunks_keep_the_input_order(tmp_path, jobs, monkeypatch):
    from analyzer.batch import RunSettings, lint_inputs

    files = []
    for i in range(70):
        p = tmp_path / f"d{i:02d}" / "Dockerfile"
        p.parent.mkdir()
        p.write_text(f"FROM debian:12\nEXPOSE {i + 1}\n" + ("RUN cd /x\n" if i % 3 == 0 else ""))
        files.append(str(p))
    monkeypatch.setenv("ANALYZE_JOBS", jobs)
    batch = lint_inputs(files, RunSettings(offline=True, lineage=False))
    assert batch.jobs == int(jobs)
    assert [r.path for r in batch.results] == files
    assert [any(f.rule == "AN3003" for f in r.findings) for r in batch.results] == [i % 3 == 0 for i in range(70)]


def test_finishing_effects_keeps_one_provide_per_path_the_owners():
    from analyzer.effects import Effect, _finish, _Pulled

    a = Effect("provide", "/usr/bin/a", "a", "apt-get install a", "a")
    b_pulled = _Pulled("provide", "/usr/bin/b", "b", "apt-get install a", "a")
    b_own = Effect("provide", "/usr/bin/b", "b", "apt-get install b", "b")
    gone = Effect("remove", "/usr/bin/c", "c", "rm", None)
    plain = [a, gone, b_own]
    assert _finish(plain) == plain  # the shortcut: nothing to change
    assert _finish([a, b_pulled, gone, b_own]) == [a, b_own, gone]  # the owner's entry, at the first place
    assert all(type(e) is Effect for e in _finish([b_pulled]))
    assert _finish([a, gone, a]) == [a, gone]
    assert _finish([]) == []


def test_base_chain_states_shared_by_a_resolver_match_fresh_walks(monkeypatch):
    """One resolver walks each chain of base images once for every file it serves; each
    file still gets what a resolver of its own would give it, whatever came before."""
    from analyzer.inventory import Walker

    texts = HANDMADE + _corpus(80)
    shared = builtin_resolver()
    walked = []
    real = Walker.apply_image
    monkeypatch.setattr(Walker, "apply_image", lambda self, st, image: walked.append(image.image) or real(self, st, image))

    def summary(result):
        return [(c.command, c.availability, c.user) for c in result.checks], result.stage_states, result.start_states

    for text in texts:
        fresh = summary(analysis.analyze(parse(text), resolver=builtin_resolver(), offline=True))
        assert summary(analysis.analyze(parse(text), resolver=shared, offline=True)) == fresh, text
    first_pass = len(walked)
    walked.clear()
    for text in texts[::-1]:  # again, after every other file has used the shared states
        fresh = summary(analysis.analyze(parse(text), resolver=builtin_resolver(), offline=True))
        before = len(walked)
        assert summary(analysis.analyze(parse(text), resolver=shared, offline=True)) == fresh, text
        assert len(walked) == before, "a chain the shared resolver has walked is never walked again"
    assert first_pass > 0 and shared.__dict__["_analysis_chain_states"]


def _top_level_model(cmds) -> int:
    """The definition: a command counts unless it lies inside another command's arguments."""
    def inside(cmd, other):
        if other is cmd or not other.arg_positions:
            return False
        first, last = other.arg_positions[0], other.arg_positions[-1]
        return (first.line, first.column) <= (cmd.position.line, cmd.position.column) < (last.end_line, last.end_column)

    return sum(1 for cmd in cmds if not cmd.wrappers and not any(inside(cmd, o) for o in cmds))


def test_top_level_command_count_matches_its_definition():
    from analyzer.checks import Context
    from analyzer.checks.stages import _top_level_count
    from analyzer.rules import LintOptions

    texts = HANDMADE + _corpus(200) + [
        "FROM alpine\nRUN sh -c 'apk add curl && curl -V' && bash -c \"echo a; echo b\" && sudo -u x env A=1 make\n",
        "FROM alpine\nRUN find . -name x -exec rm {} \\; && xargs -n1 echo < list && time sh -c 'a | b'\n",
        "FROM alpine\nRUN <<EOF\nset -e\nsh -c 'x && y'\nfor f in *; do sh -c \"echo $f\"; done\nEOF\n",
        "FROM alpine\nRUN echo $(date) `uname -m` && curl -o x \"$(cat url | tr -d ' ')\" && ls\n",
        "FROM alpine\nRUN tar -C \"$(mktemp -d)\" -xf a.tar && echo $(echo $(id -u)) \\\n  && VERSION=$(cat v) make\n",
    ]
    nested = 0
    for text in texts:
        ctx = Context(parse(text), LintOptions())
        by_run: dict = {}
        for run, cmd in ctx.commands:
            by_run.setdefault(id(run), []).append(cmd)
        for cmds in by_run.values():
            assert _top_level_count(cmds) == _top_level_model(cmds), text
            nested += _top_level_model(cmds) < len([c for c in cmds if not c.wrappers])
    assert nested >= 2  # commands inside others' arguments were among those counted


@pytest.mark.parametrize("escape", ["\\", "`"])
def test_words_without_anything_to_expand_skip_the_lexer_with_the_same_answer(escape):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from analyzer.expand import Expansion, _Lexer, expand

    env = {"A": "1", "HOME": "/root"}

    @settings(max_examples=300, deadline=None)
    @given(st.text(alphabet=st.sampled_from(list("ab=:/.-_{}()[]*?~ \t\n\u00e9\\`$'\"")), max_size=30))
    def check(word):
        lexer = _Lexer(word, env, escape)
        try:
            value = lexer.word(None, False)
        except Exception as exc:
            with pytest.raises(type(exc)):
                expand(word, env, escape)
            return
        long_way = Expansion(value=value, undefined=tuple(lexer.undefined), used=tuple(lexer.used), missing=tuple(lexer.missing))
        assert expand(word, env, escape) == long_way

    check()


def test_a_changed_instruction_keeps_nothing_worked_out_from_the_old_one():
    from analyzer.model import evolve
    from analyzer.scripts import commands_of, run_script

    df = parse("FROM alpine\nRUN apk add curl && curl -V\n")
    ins = df.instructions[1]
    run = run_script(ins)
    assert run_script(ins) is run and commands_of(run)  # worked out and kept on ins
    moved = evolve(ins, stage=5)
    assert moved.stage == 5 and moved == evolve(ins, stage=5)
    again = run_script(moved)
    assert again is not run and again.instruction is moved  # not the old one's script


def test_an_install_seen_again_gives_the_effects_worked_out_anew(monkeypatch):
    """analyzer.effects keeps the finished effects of an install by the identity of the
    memoised effects it was made of; without that memo the lineage is the same."""
    import analyzer.effects as effects

    texts = HANDMADE + _corpus(120)
    monkeypatch.setattr(effects, "_FINISHED", {})
    first = [_lineage(t) for t in texts]
    assert effects._FINISHED, "no install went through the memo"
    again = [_lineage(t) for t in texts]  # answered from the memo

    class Forgetful(dict):
        def __setitem__(self, key, value):
            pass

    monkeypatch.setattr(effects, "_FINISHED", Forgetful())
    anew = [_lineage(t) for t in texts]
    assert first == again == anew


def test_commands_no_handler_knows_are_passed_over_with_the_same_result(monkeypatch):
    """effects_of skips building a judgement for a plain command no handler knows (echo,
    test, mkdir ...): the lineage, what runs remember included, is what the full path gives."""
    import analyzer.effects as effects

    texts = HANDMADE + _corpus(150) + [
        "FROM debian:12\nRUN echo 'deb https://deb.nodesource.com/node_20.x nodistro main' > /etc/apt/sources.list.d/nodesource.list"
        " && apt-get update && apt-get install -y nodejs && npm --version\n",
        "FROM debian:12\nRUN curl -fsSL https://x/i.sh | tee /tmp/log | sh && printf 'a' | cat > /tmp/x && my-tool\n",
    ]
    judged = []
    real = effects._inert
    monkeypatch.setattr(effects, "_inert", lambda cmd: judged.append(real(cmd)) or judged[-1])
    fast = [_lineage(t) for t in texts]
    monkeypatch.setattr(effects, "_inert", lambda cmd: False)
    slow = [_lineage(t) for t in texts]
    assert fast == slow
    assert judged.count(True) > 500  # the shortcut is the common case

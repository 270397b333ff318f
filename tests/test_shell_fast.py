"""The plain-script fast path of ``analyzer.shell`` against the tree-sitter walk.

Scripts in the plain subset (simple commands of plain words joined by ``&&``, ``||``,
``|``, ``;`` and newlines) are read without tree-sitter. Every test here runs the same
input both ways and requires the same commands, every field (``extras`` included, which
``ShellCommand.__eq__`` ignores), and the same work counters, so that the limits cut a
long script at the same command either way.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import random
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import analyzer
from analyzer import shell
from analyzer.model import Script
from analyzer.scripts import _commands_of, run_script
from conftest import script_at

ROOT = Path(__file__).resolve().parent.parent
# FUZZ_PROFILE as in tests/test_fuzz.py: quick, ci (default) or long
EXAMPLES = int(1000 * {"quick": 0.2, "ci": 1.0, "long": 20.0}[os.environ.get("FUZZ_PROFILE", "ci")])


@pytest.fixture(autouse=True)
def strict(monkeypatch):
    monkeypatch.setattr(shell, "_STRICT", True)
    monkeypatch.setattr(shell, "FAST_PATH", True)


def make_script(text: str, line: int = 3, column: int = 5) -> Script:
    return script_at(text, line, column)


def fields(cmds):
    return [
        (c.name, c.argv, c.position, c.arg_positions, c.wrappers, c.builtin, c.function, c.dynamic,
         c.in_pipeline, c.shell, sorted(c.extras.items()))
        for c in cmds
    ]


def walk(text, fast, shell_name="sh", wrappers=(), funcs=(), options=()):
    """Everything one parse_script call produces: commands, counters, whether it stopped."""
    old = shell.FAST_PATH
    shell.FAST_PATH = fast
    try:
        run = shell._Run()
        script = make_script(text)
        stopped = False
        try:
            run.parse_script(text, shell._Src(text, script, None), shell_name, 0, wrappers, funcs, options)
        except shell._Stop:
            stopped = True
        return fields(run.result()), run.nodes, run.pipelines, run.parsed, stopped
    finally:
        shell.FAST_PATH = old


def same_both_ways(text, **kw):
    fast = walk(text, True, **kw)
    slow = walk(text, False, **kw)
    if fast[4] and slow[4]:
        # past the limit the node counter is left wherever the walk stopped
        fast, slow = fast[:1] + fast[2:], slow[:1] + slow[2:]
    assert fast == slow, text
    return fast


def takes_fast_path(text) -> bool:
    return shell._plain_script(text) is not None


# -- generated scripts -------------------------------------------------------------------

NAMES = [
    "apt-get", "apk", "pip", "pip3", "npm", "make", "cd", "rm", "mkdir", "chmod", "echo", "true", "test",
    "sudo", "env", "nice", "nohup", "xargs", "exec", "command", "builtin", "time", "timeout", "stdbuf",
    "gosu", "su-exec", "tini", "dumb-init", "busybox", "su", "runuser", "eval", "trap", "sh", "bash",
    "dash", "zsh", "/bin/sh", "/usr/bin/env", "g++", "python3.12", "_x", "-x", "2", "0", "1a", "./run.sh",
    "f", "foo", "a.b",
]
# near misses as a command name: reserved words, declarations, assignments, test commands
BAD_NAMES = [
    "if", "then", "fi", "for", "do", "done", "while", "until", "case", "esac", "in", "function", "select",
    "export", "declare", "local", "readonly", "typeset", "unset", "unsetenv", "[", "[[", "!", "{", "}",
    "a=b", "A+=1", "x:y", "a%b", "u@h", "~/bin/x", "*", "a*", "=x", "a?b", "((x))",
]
ARG_CHARS = "abcxyzABCZ0123456789_./:=@%+,~*-"
ARGS = [
    "-y", "--no-install-recommends", "-rf", "/var/lib/apt/lists/*", "-c", "-u", "-e", "-n", "-s", "-o",
    "pipefail", "--", "-", "-S", "-i", "--user", "--command=ls", "5", "-1", "0x1f", "10#7", "12:30", "a=b",
    "CC=gcc", "a==b", "x=", "*", "~", "~/x", "@latest", "%s", "+x", ",", ":", "if", "then", "do", "done",
    "in", "esac", "export", "time", "ls", "apt-get", "root", "sh", "foo", "f", "-f", "-eq", "-eqx",
]
BAD_ARGS = ["==", "=~", "=x", "'a'", '"a"', "$A", "${A}", "$(x)", "`x`", "a#b", "#c", ">f", "2>&1", "<x",
            "a?", "[x]", "{a,b}", "a{1..3}", "!", "(x)", "a\\b", "\\", "é", "a\rb", "&", "<<EOF", "<<<x"]
BLANKS = [" ", " ", " ", "  ", "\t", " \\\n  ", " \\\n", "\\\n ", " \\\n\\\n "]
JOINS = [" && ", " || ", " | ", "; ", " ;", "\n", "\n\n", " &&\n  ", " |\n", "&&", "||", "|", ";",
         " && \\\n  ", ";\n", " ;\\\n ", "\n  "]
BAD_JOINS = [" & ", " ;; ", " |& ", " ; ; ", "\n;", " && && ", " | | ", "&&\n&&"]


def _word(pool, chars):
    return st.one_of(st.sampled_from(pool), st.text(alphabet=chars, min_size=1, max_size=6))


def _command(near_miss: bool):
    names = NAMES + BAD_NAMES if near_miss else NAMES
    args = ARGS + BAD_ARGS if near_miss else ARGS
    return st.tuples(
        _word(names, "abcXY019_./+-"),
        st.lists(st.tuples(st.sampled_from(BLANKS), _word(args, ARG_CHARS)), max_size=6),
    ).map(lambda t: t[0] + "".join(b + w for b, w in t[1]))


def scripts(near_miss: bool = False):
    joins = JOINS + BAD_JOINS if near_miss else JOINS
    return st.tuples(
        st.sampled_from(["", "", " ", "\n", "\\\n", "  \n\t"]),
        _command(near_miss),
        st.lists(st.tuples(st.sampled_from(joins), _command(near_miss)), max_size=7),
        st.sampled_from(["", "", ";", "\n", " ; ", " \n\n", " \\\n", " &&", "|", ";;"] if near_miss
                        else ["", "", ";", "\n", " ; ", " \n\n"]),
    ).map(lambda t: t[0] + t[1] + "".join(j + c for j, c in t[2]) + t[3])


MUTATIONS = list("'\"$`#\\<>(){}[]!?&;|=\r\x0b") + ["é", "\U0001F600", " \\\n", "\\\n", "\n", "\t", "=="]


@st.composite
def mutated(draw):
    text = draw(scripts())
    at = draw(st.integers(0, len(text)))
    return text[:at] + draw(st.sampled_from(MUTATIONS)) + text[at:]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(scripts(), st.sampled_from(["sh", "bash"]))
@example("apt-get update && apt-get install -y --no-install-recommends curl ca-certificates"
         " && rm -rf /var/lib/apt/lists/*", "sh")
@example("sudo -u app env A=1 nice -n 5 sh -c ls | xargs -n 1 echo; eval apt-get update", "bash")
@example("time make && builtin time x", "bash")
@example("su -c id app || runuser -u app -- id", "sh")
def test_accepted_grammar_matches_tree_sitter(text, shell_name):
    same_both_ways(text, shell_name=shell_name)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(scripts(near_miss=True), mutated()), st.sampled_from(["sh", "bash"]))
def test_near_misses_match_tree_sitter(text, shell_name):
    same_both_ways(text, shell_name=shell_name)


@pytest.mark.parametrize("text", [
    # quotes, expansions, substitutions, redirections, heredocs
    "echo 'a'", 'echo "a"', "echo $A", "echo ${A}", "echo $(id)", "echo `id`", "echo a > f", "cat < f",
    "a 2>&1", "cat <<EOF\nx\nEOF", "cat <<< x", "a &", "a |& b",
    # reserved words, compound commands, declarations, tests, assignments, negation
    "if true; then x; fi", "for i in a b; do x; done", "while x; do y; done", "case a in a) x;; esac",
    "f() { x; }", "function f { x; }", "{ a; }", "(a)", "! a", "[ -f x ]", "[[ -f x ]]", "((1))",
    "export A=1", "declare -x A", "local a", "readonly A", "typeset A", "unset A", "A=1 make",
    "A=1", "x:y a", "a%b", "u@h x", "done", "in",
    # comments, globs and braces tree-sitter reads into other nodes, escapes
    "a # c", "#c\na", "ls a?", "ls [ab]", "echo {a,b}", "echo a{1..3}", "echo a\\ b", "echo \\$x",
    "echo ==", "echo =~ x", "a\\\nb", "a \\\n", "a \\", "a \\\n\nb", "a ; \\\n ", "a \\\n \n",
    "a b\n\\\n c", "a;\n  \\\n b",
    # a pipeline of three commands or more, then `&&` / `||` anywhere after it
    "a | b | c && d", "x; a | b | c\nd && e", "a | b | c\nd\ne || f", "- a=b", "-x", "+x",
    # broken lists
    "&& a", "a &&", "a ||", "a |", "; a", "a;;", "a; ;", "a\n;", "a && ; b", "a | && b",
    # whitespace and characters outside the subset
    "a\r\nb", "a\x0bb", "é", "a\x00", "",
])
def test_near_misses_fall_back(text):
    assert not takes_fast_path(text)
    same_both_ways(text)


def test_inherited_context_is_kept():
    # functions defined by an enclosing script, its wrappers and the shell's options
    text = "foo a && bar | sudo foo b; command foo c"
    got = same_both_ways(text, wrappers=("sh -c",), funcs=(("foo", 4),), options=("-e",))
    assert takes_fast_path(text)
    functions = [(row[0], row[4], row[6]) for row in got[0] if row[0] == "foo"]
    # a function when called directly; sudo and `command` run the external program
    assert functions == [("foo", ("sh -c",), True), ("foo", ("sh -c", "sudo"), False),
                         ("foo", ("sh -c", "command"), False)]
    assert all(dict(row[10]).get("shell_options") == ("-e",) for row in got[0])


@pytest.mark.parametrize("argv", [
    ["sh", "-c", "apt-get update && apt-get install -y curl | tee log"],
    ["/bin/bash", "-e", "-c", "cd /app\nmake build; time make test"],
    ["env", "-S", "sh -c ls"],
    ["sh", "-c", "echo \\\"x\\\" && ls"],
])
def test_exec_form_scripts(argv):
    from analyzer.model import Position

    positions = []
    column = 6
    for value in argv:
        width = len(json.dumps(value))
        positions.append(Position(2, column, 2, column + width))
        column += width + 2
    got = []
    for fast in (True, False):
        shell.FAST_PATH = fast
        got.append(fields(shell.exec_form_commands(argv, positions)))
    assert got[0] == got[1]
    assert len(got[0]) > 1


def test_long_chains_and_limits(monkeypatch):
    # long lists nest deeply in tree-sitter's tree; past MAX_NODE_NESTING the walk stops
    for count in (shell.MAX_PLAIN_OPERATORS, shell.MAX_PLAIN_OPERATORS + 1, 150):
        text = " && ".join(f"c{i} x" for i in range(count + 1))
        assert takes_fast_path(text) == (count <= shell.MAX_PLAIN_OPERATORS)
        same_both_ways(text)
    text = "true;" * (shell.MAX_COMMANDS + 500)
    assert takes_fast_path(text)
    got = same_both_ways(text)
    assert len(got[0]) == shell.MAX_COMMANDS
    long = "a b c | d e\n" * (shell.MAX_PLAIN_CHARS // 12 + 1)
    assert len(long) > shell.MAX_PLAIN_CHARS and not takes_fast_path(long)


@pytest.mark.parametrize("text", [
    "apt-get update && apt-get install -y curl | tee log; sudo sh -c ls || env A=1 nice make x y",
    "a | b | c && d e f; g\nh || i | j\n" * 3,
    "sh -c sh -c sh -c sh -c ls",
])
def test_work_limits_cut_at_the_same_command(monkeypatch, text):
    """With any node budget, both ways stop after the same commands."""
    total = walk(text, False)[1]
    assert walk(text, True)[1] == total
    for budget in range(0, total + 2):
        monkeypatch.setattr(shell, "MAX_NODES", budget)
        same_both_ways(text)
    monkeypatch.setattr(shell, "MAX_NODES", 300_000)
    for limit in range(0, 12):
        monkeypatch.setattr(shell, "MAX_COMMANDS", limit)
        same_both_ways(text)


# -- real scripts ------------------------------------------------------------------------


def _run_scripts(text: str):
    """(script text, shell) of every shell-form RUN of a Dockerfile text, None if unparsable."""
    try:
        text.encode("utf-8")  # analyzer.parse is for decoded files: no lone surrogates
        df = analyzer.parse(text, "Dockerfile")
    except Exception:
        return []
    found = []
    for ins in df.instructions:
        ins = ins.effective
        if ins.keyword == "RUN":
            run = run_script(ins)
            found.append((ins, run))
    return found


def _corpus_texts():
    path = ROOT / "tools" / "bench_lint.py"
    spec = importlib.util.spec_from_file_location("bench_lint_for_tests", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rng = random.Random(7)
    texts = []
    for i in range(len(module.TEMPLATES) * 12):
        texts.append(module.TEMPLATES[i % len(module.TEMPLATES)](rng))
    return texts


def _repo_texts():
    texts = []
    for base in ("tests/data", "tests/scenarios"):
        for p in sorted((ROOT / base).rglob("*")):
            if p.is_file() and ("Dockerfile" in p.name or p.suffix == ".Dockerfile"):
                texts.append(p.read_text(encoding="utf-8", errors="replace"))
    for p in sorted((ROOT / "rules").glob("*.yaml")):
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
        for kind in ("fire", "pass"):
            for ex in (data.get("examples") or {}).get(kind) or []:
                texts.append(ex["code"] if isinstance(ex, dict) else ex)
    # Dockerfile texts and shell scripts written in the tests
    for p in sorted((ROOT / "tests").glob("test_*.py")):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip():
                texts.append(node.value)
    return texts


def _compare_dockerfiles(texts):
    runs = 0
    fast = 0
    for text in texts:
        for ins, run in _run_scripts(text):
            if run.script is not None:
                runs += 1
                fast += takes_fast_path(run.script.text)
                same_both_ways(run.script.text, shell_name=run.interpreter)
            # the whole RUN (not memoised): heredocs fed to shells, exec form with sh -c
            shell.FAST_PATH = True
            a = fields(_commands_of(run))
            shell.FAST_PATH = False
            b = fields(_commands_of(run))
            shell.FAST_PATH = True
            assert a == b, ins.original
    return runs, fast


def test_generated_corpus_same_both_ways():
    runs, fast = _compare_dockerfiles(_corpus_texts())
    assert runs > 200
    # most of the generated RUN scripts are plain
    assert fast / runs > 0.5, (fast, runs)


def test_repository_examples_same_both_ways():
    texts = _repo_texts()
    runs, _ = _compare_dockerfiles(texts)
    assert runs > 200
    # every string in the tests, read as a shell script
    for text in texts:
        if len(text) < 5000:
            same_both_ways(text)
            same_both_ways(text, shell_name="bash")


# -- the fast path is taken --------------------------------------------------------------

TYPICAL = [
    "apt-get update && apt-get install -y --no-install-recommends curl ca-certificates && rm -rf /var/lib/apt/lists/*",
    "pip install --no-cache-dir flask==3.0 gunicorn",
    "cd /app && make build",
    "addgroup -S app && adduser -S app -G app",
    "set -eux;     apt-get update;     apt-get install -y     curl     git ;     rm -rf /var/lib/apt/lists/*",
    "apk add --no-cache \\\n    curl \\\n    git",
    "set -eux\napt-get update\napt-get install -y curl\n",
    "go vet ./... | tee /tmp/vet.log",
    "npm ci && npm run build",
    "sh -c ls",
]


@pytest.mark.parametrize("text", TYPICAL)
def test_typical_scripts_skip_tree_sitter(monkeypatch, text):
    expected = walk(text, False)
    assert expected[0]

    def no_parser(data):
        raise AssertionError("tree-sitter was called")

    monkeypatch.setattr(shell, "_parse", no_parser)
    before = shell.FAST_STATS["fast"]
    cmds = shell.commands(make_script(text), "sh")
    assert fields(cmds) == expected[0]
    assert shell.FAST_STATS["fast"] > before


def test_switch_turns_the_fast_path_off(monkeypatch):
    monkeypatch.setattr(shell, "FAST_PATH", False)
    calls = []
    real = shell._parse
    monkeypatch.setattr(shell, "_parse", lambda data: calls.append(data) or real(data))
    assert [c.name for c in shell.commands(make_script("cd /app && make build"), "sh")] == ["cd", "make"]
    assert calls == [b"cd /app && make build"]


def test_environment_variable_sets_the_switch():
    import subprocess
    import sys

    code = "from analyzer import shell; print(shell.FAST_PATH)"
    env_off = {"ANALYZE_SHELL_FAST": "0", "PATH": "/usr/bin:/bin"}
    env_on = {"PATH": "/usr/bin:/bin"}
    out = [subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True, cwd=ROOT).stdout.strip()
           for e in (env_off, env_on)]
    assert out == ["False", "True"]


def test_stats_count_each_path():
    # FAST_STATS counts parse_script calls by path, nested scripts included
    before = dict(shell.FAST_STATS)
    shell.commands(make_script("a && b"), "sh")
    shell.commands(make_script("echo $A"), "sh")
    assert shell.FAST_STATS["fast"] == before["fast"] + 1
    assert shell.FAST_STATS["parsed"] == before["parsed"] + 1
    json.dumps(shell.FAST_STATS)

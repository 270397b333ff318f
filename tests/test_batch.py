"""Many files at once: the process pool, its ordering, and the fast entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from analyzer.batch import POOL_THRESHOLD, RunSettings, choose_jobs, fast_arguments, lint_inputs
from analyzer.model import AnalyzerError

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "sample_dockerfiles" / "jupyter-kaggle" / "Dockerfile"
VARIANTS = [
    "FROM debian\nMAINTAINER me\n",
    "FROM alpine:3.19\nRUN apk add curl\nCMD run\n",
    "FROM ubuntu:22.04\nRUN apt-get update && apt-get install curl\n",
    "FROM debian:12\nRUN <<EOF\nunterminated\n",
    "FROM scratch\nCOPY app /app\nENTRYPOINT [\"/app\"]\n",
]


def run(*args, env=None, cwd=None, stdin=None):
    full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "GITHUB_ACTIONS", "ANALYZE_JOBS", "ANALYZE_NO_FAST_PATH")}
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "analyzer", *map(str, args)], capture_output=True, text=True, cwd=cwd or ROOT, env=full_env, timeout=300, input=stdin)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    for i in range(POOL_THRESHOLD + 36):
        d = root / f"svc{i:03d}"
        d.mkdir()
        (d / "Dockerfile").write_text(VARIANTS[i % len(VARIANTS)])
    (root / "svc007" / "Dockerfile").write_bytes(b"FROM debian\n\xff\xfe\n")  # unreadable: exit 2
    return root


def test_jobs_follow_size_and_environment(monkeypatch):
    monkeypatch.delenv("ANALYZE_JOBS", raising=False)
    assert choose_jobs(1) == 1
    assert choose_jobs(POOL_THRESHOLD - 1) == 1
    assert choose_jobs(POOL_THRESHOLD * 8) >= 1
    assert choose_jobs(1000, 3) == 3 and choose_jobs(2, 8) == 2
    monkeypatch.setenv("ANALYZE_JOBS", "1")
    assert choose_jobs(10_000) == 1
    monkeypatch.setenv("ANALYZE_JOBS", "many")
    with pytest.raises(AnalyzerError, match="ANALYZE_JOBS"):
        choose_jobs(10)


def test_pool_gives_the_serial_result_in_the_same_order(corpus):
    inputs = sorted(str(p) for p in corpus.rglob("Dockerfile"))
    settings = RunSettings(offline=True, lineage=False)
    import io

    err_serial, err_pool = io.StringIO(), io.StringIO()
    serial = lint_inputs(inputs, RunSettings(offline=True, lineage=False, jobs=1), err=err_serial)
    pooled = lint_inputs(inputs, RunSettings(offline=True, lineage=False, jobs=2), err=err_pool)
    assert serial.jobs == 1 and pooled.jobs == 2
    assert [r.path for r in pooled.results] == inputs
    assert pooled.results == serial.results
    assert err_pool.getvalue() == err_serial.getvalue() and "svc007" in err_pool.getvalue()
    assert pooled.had_error and pooled.failing == serial.failing
    assert settings.jobs is None


def test_cli_output_is_the_same_with_and_without_the_pool(corpus):
    many = run("--format", "json", "--offline", corpus)
    one = run("--format", "json", "--offline", corpus, env={"ANALYZE_JOBS": "1"})
    assert many.returncode == one.returncode == 2  # the undecodable file
    assert many.stdout == one.stdout and many.stderr == one.stderr
    assert many.stderr.count("analyze: error:") == 1 and "svc007" in many.stderr


def test_bad_config_found_by_a_worker_stops_the_run(corpus, tmp_path):
    root = tmp_path / "tree"
    for i in range(POOL_THRESHOLD + 2):
        (root / f"d{i:03d}").mkdir(parents=True)
        (root / f"d{i:03d}" / "Dockerfile").write_text("FROM debian\n")
    (root / "d050" / ".analyze.yaml").write_text("ignore: [\n")
    proc = run("--offline", root, env={"ANALYZE_JOBS": "2"})
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("analyze: error: ") and "invalid YAML" in lines[0]


def test_fast_arguments_accept_only_plain_runs():
    assert fast_arguments(["Dockerfile"]) == {"paths": ["Dockerfile"], "ignore": [], "select": []}
    opts = fast_arguments(["-f", "sarif", "--select=DL3006", "--select", "DL4000", "--offline", "--exit-zero", "-", "a"])
    assert opts["format"] == "sarif" and opts["select"] == ["DL3006", "DL4000"] and opts["paths"] == ["-", "a"]
    assert opts["offline"] and opts["exit_zero"]
    for argv in (["--format", "xml"], ["--plan"], ["--explain", "x"], ["--list-rules"], ["-fjson"], ["-f=json"], ["--format"],
                 ["--preset", "lenient"], ["--build-arg", "A=1"], ["--version"], ["--help"], ["-t", "loud"]):
        assert fast_arguments(argv) is None, argv


@pytest.mark.parametrize(
    "args",
    [
        (SEED,),
        ("--format", "json", SEED),
        ("--format", "sarif", "--select", "DL3006", SEED),
        ("-f", "checkstyle", "--ignore", "DL3006", SEED),
        ("--format", "gitlab", "--preset", "all", SEED),
        ("--failure-threshold", "error", SEED),
        ("--exit-zero", "--format", "github", SEED),
        ("--select", "DL9999", SEED),
        ("missing/Dockerfile",),
    ],
)
def test_fast_path_and_typer_agree(args):
    fast = run("--offline", *args)
    typer = run("--offline", *args, env={"ANALYZE_NO_FAST_PATH": "1"})
    assert (fast.returncode, fast.stdout, fast.stderr) == (typer.returncode, typer.stdout, typer.stderr)


def test_stdin_is_read_once_in_the_parent():
    proc = run("--offline", "-", stdin="FROM debian\n")
    assert proc.returncode == 1 and "<stdin>:1:6: warning AN3006" in proc.stdout


def _console(code: str, tmp_path, *args):
    script = "import sys\n" + code + f"\nsys.argv = ['analyze', *{list(map(str, args))!r}]\nfrom analyzer.batch import console\nconsole()\nprint('after console')\n"
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          env={**os.environ, "ANALYZE_CACHE_DIR": str(tmp_path / "cache")})


def test_the_command_leaves_with_its_code_its_output_and_its_exit_handlers(tmp_path):
    """console() skips the interpreter's teardown, not what a normal exit does first."""
    (tmp_path / "Dockerfile").write_text("FROM debian\nMAINTAINER me\n")
    marker = tmp_path / "handler-ran"
    handler = f"import atexit\natexit.register(lambda: open({str(marker)!r}, 'w').write('yes'))"
    found = _console(handler, tmp_path, "--offline", "--format", "json", "Dockerfile")
    assert found.returncode == 1, found.stderr
    assert '"AN4000"' in found.stdout and found.stdout.rstrip().endswith("}")  # the whole report, flushed
    assert "after console" not in found.stdout
    assert marker.read_text() == "yes"
    clean = _console("", tmp_path, "--offline", "--ignore", "AN4000,AN3006,AN3057", "Dockerfile")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    bad = _console("", tmp_path, "--offline", "missing/Dockerfile")
    assert bad.returncode == 2 and bad.stderr.startswith("analyze: error:"), bad.stderr


def test_the_command_into_a_closed_pipe_says_nothing_more(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM debian\nMAINTAINER me\nRUN apt-get install curl\n")
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody reads: every write fails (EPIPE)
    try:
        proc = subprocess.run([sys.executable, "-m", "analyzer", "--offline", "--format", "json", "Dockerfile"], stdout=write_end,
                              stderr=subprocess.PIPE, cwd=tmp_path, env={**os.environ, "ANALYZE_CACHE_DIR": str(tmp_path / "cache")},
                              timeout=120)
    finally:
        os.close(write_end)
    err = proc.stderr.decode()
    assert proc.returncode == 2
    assert "Traceback" not in err and "Exception ignored" not in err, err


def test_directories_are_searched_as_os_walk_would(tmp_path):
    """The search reads each directory once (no lstat per directory) and finds what a
    top-down os.walk that does not follow links finds, in the same order."""
    from analyzer.files import SKIP_DIRS, discover_inputs, is_dockerfile_name

    def by_walk(root):
        found = []
        for top, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
            found += [os.path.join(top, n) for n in sorted(files) if is_dockerfile_name(n) and not n.endswith(".dockerignore")]
        return found

    for sub in ("a/b", "node_modules", "c", ".git", "z/y", "B"):
        (tmp_path / sub).mkdir(parents=True, exist_ok=True)
    for name in ("Dockerfile", "a/Dockerfile.dev", "a/b/x.Dockerfile", "node_modules/Dockerfile", "c/Containerfile",
                 "z/y/Dockerfile", "a/notes.txt", "a/Dockerfile.dockerignore", "B/Dockerfile", ".git/Dockerfile"):
        (tmp_path / name).write_text("FROM a\n")
    (tmp_path / "linkdir").symlink_to(tmp_path / "a", target_is_directory=True)
    (tmp_path / "Dockerfile.link").symlink_to(tmp_path / "a" / "Dockerfile.dev")
    (tmp_path / "Dockerfile.broken").symlink_to(tmp_path / "missing")
    for root in (str(tmp_path), str(tmp_path) + "/", os.path.relpath(tmp_path)):
        assert discover_inputs([root]) == by_walk(root), root
    assert len(discover_inputs([str(tmp_path)])) == 8  # not under .git, node_modules or the link


def test_a_file_analysed_leaves_no_cycles_for_the_garbage_collector(tmp_path):
    """Reference counting frees each file's objects at once: nothing per file waits for the
    cycle collector (which then runs rarely, and memory stays flat over a long batch)."""
    import gc

    from analyzer.batch import FileAnalyzer

    from conftest import bench_corpus

    paths = []
    for i, text in enumerate(bench_corpus(60, seed=41) + VARIANTS):
        path = tmp_path / f"d{i}" / "Dockerfile"
        path.parent.mkdir()
        path.write_text(text)
        paths.append(str(path))
    analyzer = FileAnalyzer(RunSettings(offline=True, preset="all", piece="json", cache_dir=str(tmp_path / "cache")))
    for path in paths[:10]:
        analyzer(path)  # memos and caches that live as long as the analyzer
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for path in paths:
            analyzer(path)
        gc.collect()
        left = [type(o).__qualname__ for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if enabled:
            gc.enable()
    assert left == [], sorted(set(left))[:10]


_POOL_CHECK = """
import io, json, sys
import analyzer.batch as batch
from analyzer.batch import RunSettings, lint_inputs
inputs = json.loads(sys.argv[1])
forked = sys.argv[2] == "forked"
called = []
for name in ("_forked", "_spawned"):
    real = getattr(batch, name)
    setattr(batch, name, (lambda r, n: lambda *a: (called.append(n), r(*a))[1])(real, name))
if not forked:
    batch._can_fork = lambda: False
assert batch._can_fork() == forked  # a fresh interpreter: forking is safe
pooled = lint_inputs(inputs, RunSettings(offline=True, lineage=False, jobs=2), err=io.StringIO())
serial = lint_inputs(inputs, RunSettings(offline=True, lineage=False, jobs=1), err=io.StringIO())  # (loads Go: after)
print(json.dumps({"called": called, "same": pooled.results == serial.results and pooled.failing == serial.failing}))
"""


@pytest.mark.parametrize("how", ["forked", "spawned"])
def test_both_pools_give_the_serial_result(corpus, how):
    """Forked workers (the usual case on Linux) and spawned ones (when the process has
    threads or has loaded the Go parser, after which forking can hang) give the same
    outcomes in the same order. Each runs in a fresh interpreter: this one may have loaded
    the Go parser already."""
    import json

    inputs = sorted(str(p) for p in corpus.rglob("Dockerfile"))
    proc = subprocess.run([sys.executable, "-c", _POOL_CHECK, json.dumps(inputs), how], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {"called": ["_" + how], "same": True}


_WORKER_TROUBLE = """
import os, sys
import analyzer.batch as batch
real = batch.FileAnalyzer.__call__
how = sys.argv[1]
def troubled(self, item):
    if item.endswith("svc033/Dockerfile"):
        if how == "die":
            os._exit(9)
        raise RuntimeError("something broke")
    return real(self, item)
batch.FileAnalyzer.__call__ = troubled
sys.argv = ["analyze", "--offline", sys.argv[2]]
batch.console()
"""


@pytest.mark.parametrize("how", ["die", "raise"])
def test_a_worker_in_trouble_stops_the_run_with_one_line(corpus, how):
    env = {k: v for k, v in os.environ.items() if k not in ("ANALYZE_JOBS",)}
    proc = subprocess.run([sys.executable, "-c", _WORKER_TROUBLE, how, str(corpus)], capture_output=True, text=True,
                          timeout=120, env=env, cwd=ROOT)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("analyze: error:") and "svc007" not in ln]
    expected = "a worker process ended before its work was done" if how == "die" else "a worker process failed: RuntimeError: something broke"
    assert errors == [f"analyze: error: {expected}"], proc.stderr

"""Hostile inputs through the real command: each ends in one clear line (or a normal
result where Docker would take the file too), in bounded time and memory.

Every case runs ``python -m analyzer`` as a child process, offline, with its own cache
directory. The child is reaped with ``os.wait4`` so that its own peak resident memory is
known (``ru_maxrss``), and it is killed when it outlives its time bound (a hang fails the
test instead of stalling the suite).
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import skip_unless_ci

ROOT = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_mib: float  # the child's peak resident memory

    def error_line(self) -> str:
        """The one line on stderr, which must be an ``analyze: error:`` line."""
        lines = [ln for ln in self.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1, self.stderr
        assert lines[0].startswith("analyze: error: "), self.stderr
        return lines[0]


def analyze(*args, cache: Path, stdin: bytes | None = None, timeout: float = 60, preexec_fn=None, cwd=None) -> Run:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "GITHUB_ACTIONS", "ANALYZE_JOBS")}
    env["ANALYZE_DOCKER"] = "none"  # no daemon look-ups: --plan answers from the files alone
    cmd = [sys.executable, "-m", "analyzer", "--offline", "--cache-dir", str(cache), *map(str, args)]
    start = time.monotonic()
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, cwd=cwd or ROOT, env=env, preexec_fn=preexec_fn,
    )
    out: dict[str, bytes] = {}

    def drain(name, stream):
        out[name] = stream.read()

    readers = [threading.Thread(target=drain, args=(n, s), daemon=True) for n, s in (("out", proc.stdout), ("err", proc.stderr))]
    for t in readers:
        t.start()
    if stdin is not None:
        def feed():
            try:
                proc.stdin.write(stdin)
                proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass  # the analyzer stopped reading at its limit

        threading.Thread(target=feed, daemon=True).start()
    killed = []
    timer = threading.Timer(timeout, lambda: (killed.append(True), proc.kill()))
    timer.start()
    try:
        _pid, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    for t in readers:
        t.join(10)
    seconds = time.monotonic() - start
    assert not killed, f"{args}: still running after {timeout:g} s"
    run = Run(proc.returncode, out.get("out", b"").decode("utf-8", "replace"), out.get("err", b"").decode("utf-8", "replace"),
              seconds, usage.ru_maxrss / 1024)
    assert "Traceback" not in run.stderr, run.stderr
    assert "internal error" not in run.stderr, run.stderr
    return run


def report(label: str, run: Run) -> None:
    print(f"{label}: {run.seconds:.2f} s, peak {run.peak_mib:.0f} MiB, exit {run.returncode}")


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """Peak memory of the analyzer on a two-line file: what every run costs anyway."""
    d = tmp_path_factory.mktemp("baseline")
    (d / "Dockerfile").write_text("FROM debian:12\nRUN true\n")
    return analyze(d / "Dockerfile", cache=d / "cache").peak_mib


# --------------------------------------------------------------------------- not text


@pytest.mark.parametrize(
    "content, offset",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00", 8),
        (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56, 7),
        (b"FROM debian:12\nRUN echo \x00\n", 24),
    ],
    ids=["png", "elf", "nul-in-text"],
)
def test_binary_file_is_one_error_line(tmp_path, cache, content, offset):
    df = tmp_path / "Dockerfile"
    df.write_bytes(content)
    run = analyze(df, cache=cache)
    assert run.returncode == 2
    assert f"binary file, not a Dockerfile (NUL byte at offset {offset}," in run.error_line()


def test_invalid_utf8_reports_the_byte_offset(tmp_path, cache):
    df = tmp_path / "Dockerfile"
    df.write_bytes("FROM debian:12\nLABEL name=\"é\"\nRUN echo ok \xc3\x28 done\n".encode("latin-1"))
    # é in latin-1 is the lone byte 0xe9: offset 27, on line 2 after 'LABEL name="'
    run = analyze(df, cache=cache)
    assert run.returncode == 2
    assert run.error_line().endswith("invalid UTF-8 at byte offset 27 (line 2, column 13)")


def test_binary_on_stdin(cache):
    run = analyze("-", cache=cache, stdin=b"\x7fELF\x02\x01\x01\x00" + os.urandom(4096))
    assert run.returncode == 2
    assert "<stdin>: binary file, not a Dockerfile (NUL byte at offset 7," in run.error_line()
    run = analyze("-", cache=cache, stdin=b"FROM debian:12\nRUN echo \xff\n")
    assert run.returncode == 2
    assert "<stdin>: invalid UTF-8 at byte offset 24 (line 2, column 10)" in run.error_line()


# --------------------------------------------------------------------------- size


def test_line_past_buildkits_limit_is_a_parse_error_finding(tmp_path, cache):
    """BuildKit refuses a physical line of 64 KiB or more; so does the analyzer, as an
    AN0001 finding naming both sizes (the file is read, just not buildable)."""
    df = tmp_path / "Dockerfile"
    df.write_text("FROM debian:12\nRUN echo " + "x" * 70_000 + "\n")
    run = analyze("--format", "json", df, cache=cache)
    assert run.returncode == 1 and run.stderr == ""
    [f] = json.loads(run.stdout)["files"][0]["findings"]
    assert (f["rule"], f["line"], f["column"]) == ("AN0001", 2, 1)
    assert f["message"] == "line is 70,009 bytes; BuildKit's limit is 65,535"
    assert run.seconds < 30


def test_50_mb_file_is_refused_without_being_read(tmp_path, cache, baseline):
    df = tmp_path / "Dockerfile"
    with open(df, "wb") as fh:
        fh.write(b"FROM debian:12\n")
        fh.truncate(50 * MiB)  # sparse: the size is real, the disk is not used
    run = analyze(df, cache=cache)
    report("50 MB file", run)
    assert run.returncode == 2
    assert run.error_line() == f"analyze: error: {df}: file is 52,428,800 bytes; the limit is 16,777,216 bytes"
    # reading even the 16 MiB the cap allows would show up here
    assert run.peak_mib < baseline + 8, (run.peak_mib, baseline)
    assert run.seconds < 30


def test_a_byte_over_the_limit_is_refused_and_stdin_is_capped(tmp_path, cache):
    df = tmp_path / "Dockerfile"
    with open(df, "wb") as fh:
        fh.write(b"FROM debian:12\n")
        fh.truncate(16 * MiB + 1)
    run = analyze(df, cache=cache)
    assert run.returncode == 2 and "file is 16,777,217 bytes; the limit is 16,777,216 bytes" in run.error_line()
    run = analyze("-", cache=cache, stdin=b"# padding\n" * (2 * MiB))  # 20 MiB
    assert run.returncode == 2
    assert run.error_line() == "analyze: error: <stdin>: standard input is larger than the limit of 16,777,216 bytes"


# --------------------------------------------------------------------------- work


def _mixed_instructions(n: int) -> str:
    kinds = (
        "RUN echo step {i} && test -d /tmp",
        "ENV STEP={i}",
        'LABEL step{i}="{i}"',
        "WORKDIR /work/{i}",
        "COPY file{i} /dest/{i}",
        "ARG A{m}=v{i}",
        "EXPOSE {p}",
        "USER {u}",
    )
    lines = ["FROM debian:12"]
    for i in range(n):
        lines.append(kinds[i % len(kinds)].format(i=i, m=i % 10, p=1000 + i % 5000, u="app" if i % 2 else "root"))
    return "\n".join(lines) + "\n"


def test_100000_instructions_finish(tmp_path, cache):
    df = tmp_path / "Dockerfile"
    df.write_text(_mixed_instructions(100_000))
    run = analyze("--format", "json", df, cache=cache, timeout=600)
    report("100,000 instructions", run)
    assert run.returncode == 1
    findings = json.loads(run.stdout)["files"][0]["findings"]
    users = [f["line"] for f in findings if f["rule"] == "AN3066"]  # USER app: every 8th line from 9 on
    assert len(users) == 12_500 and users[-1] == 100_001  # the checks went to the end
    # linear work: about 20 s of CPU on one core when measured; the bound leaves room for
    # a shared, loaded machine, and is far below what one quadratic pass would cost
    assert run.seconds < 300
    assert run.peak_mib < 1500


def test_thousands_of_variables_hit_a_stated_limit(tmp_path, cache):
    """Every instruction sees its own copy of the variables in effect: 10,000 ENV lines with
    10,000 names would need (names x lines) of them. Past MAX_SCOPE_ENTRIES the file is
    refused in one line, fast and in bounded memory; other files of the run still count."""
    big = tmp_path / "vars.Dockerfile"
    big.write_text("FROM debian:12\n" + "".join(f"ENV V{i}={i}\n" for i in range(10_000)) + "RUN echo $V1\n")
    good = tmp_path / "good.Dockerfile"
    good.write_text("FROM debian\n")
    run = analyze("--format", "json", big, good, cache=cache, timeout=120)
    report("10,000 ENV names", run)
    assert run.returncode == 2
    line = run.error_line()
    assert line.startswith(f"analyze: error: {big}: line ")
    assert "too many variables" in line and "2,000,000 (the analyzer's limit)" in line
    files = {f["path"]: f for f in json.loads(run.stdout)["files"]}
    assert [f["rule"] for f in files[str(good)]["findings"]] == ["AN3006"]
    assert run.seconds < 60 and run.peak_mib < 600

    fine = tmp_path / "fine.Dockerfile"  # a few hundred names is nowhere near the limit
    fine.write_text("FROM debian:12\n" + "".join(f"ENV V{i}={i}\n" for i in range(500)) + "RUN echo $V1\n")
    run = analyze(fine, cache=cache)
    assert run.returncode in (0, 1) and run.stderr == ""


def test_arg_blow_up_is_cut_at_the_expansion_limit(tmp_path, cache):
    """Each ARG is 16 copies of the one before: A11 would be 64 x 16^11 characters. The
    value past MAX_EXPANSION (1 MiB) is left unknown and said so in one note; the file is
    still linted (Docker would take it)."""
    lines = ["ARG A0=" + "x" * 64] + [f"ARG A{i}=" + f"${{A{i - 1}}}" * 16 for i in range(1, 12)]
    lines += ["FROM debian:12", "ARG A11", "ARG B0=" + "y" * 64]
    lines += [f"ARG B{i}=" + f"$B{i - 1}" * 16 for i in range(1, 12)]
    lines += ["RUN echo $A11 $B11"]
    df = tmp_path / "Dockerfile"
    df.write_text("\n".join(lines) + "\n")
    run = analyze(df, cache=cache)
    report("ARG blow-up (per value)", run)
    assert run.returncode in (0, 1)
    [note] = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert note == (
        f"analyze: note: {df}: line 5, 19: a variable expands to more than 1,048,576 characters "
        "(the analyzer's limit); its value is treated as unknown"
    )
    assert run.seconds < 30 and run.peak_mib < 600


def test_arg_blow_up_past_the_total_is_one_error_line(tmp_path, cache):
    """Many values each under 1 MiB, 64 MiB in all (MAX_TOTAL): one error line for that file."""
    lines = ["FROM debian:12", "ARG A=" + "x" * 1000, "ARG B=" + "$A" * 1000]
    lines += [f"ENV C{i}=$B" for i in range(200)]
    df = tmp_path / "Dockerfile"
    df.write_text("\n".join(lines) + "\n")
    run = analyze(df, cache=cache)
    report("ARG blow-up (total)", run)
    assert run.returncode == 2
    assert run.error_line() == (
        f"analyze: error: {df}: line 70: variables expand to more than 67,108,864 characters in all (the analyzer's limit)"
    )
    assert run.seconds < 30 and run.peak_mib < 600


def _nested(levels: int, proper: bool) -> str:
    inner = "touch /tmp/nested-marker"
    for _ in range(levels):
        if proper:
            inner = inner.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("`", "\\`")
        else:
            inner = inner.replace('"', '\\"')  # quotes escaped once per level: wrong past two
        inner = f'sh -c "{inner}"'
    return inner


@pytest.mark.parametrize("levels, proper", [(50, False), (14, True)], ids=["50-naive", "14-proper"])
def test_deeply_nested_sh_c(tmp_path, cache, levels, proper):
    """14 correctly escaped levels are the most one 64 KiB line holds (the backslashes
    double at each level); 50 levels escaped naively are the broken version of the same."""
    script = _nested(levels, proper)
    df = tmp_path / "Dockerfile"
    df.write_text(f"FROM debian:12\nRUN {script}\n")
    run = analyze("--format", "json", "--explain", "touch", df, cache=cache)
    assert run.returncode in (0, 1), run.stderr
    assert run.seconds < 60
    if proper:
        # followed all the way in: the innermost command is found where it is written
        from analyzer import parse
        from analyzer.scripts import commands_of, run_script

        ins = parse(df.read_text(), str(df)).stages[0].instructions[0]
        cmds = commands_of(run_script(ins, ("/bin/sh", "-c")))
        assert cmds[-1].name == "touch" and len(cmds[-1].wrappers) == levels
    assert not Path("/tmp/nested-marker").exists()


@pytest.mark.parametrize("kind", ["subshell", "substitution"])
def test_deeply_nested_shell_syntax(tmp_path, cache, kind):
    n = 5000
    script = "(" * n + "true" + ")" * n if kind == "subshell" else "echo " + "$(echo " * n + "x" + ")" * n
    df = tmp_path / "Dockerfile"
    df.write_text(f"FROM debian:12\nRUN {script}\n")
    run = analyze(df, cache=cache, timeout=120)
    assert run.returncode in (0, 1) and run.stderr == ""
    assert run.seconds < 60 and run.peak_mib < 600


def _stage_chain(n: int) -> str:
    return "FROM busybox:1.36 AS s0\n" + "".join(
        f"FROM s{i - 1} AS s{i}\nENV LEVEL{i % 7}={i}\nRUN echo $LEVEL{i % 7}\n" for i in range(1, n)
    )


def test_1000_stage_from_chain(tmp_path, cache):
    df = tmp_path / "Dockerfile"
    df.write_text(_stage_chain(1000))
    run = analyze("--format", "json", df, cache=cache, timeout=300)
    report("1,000 stages", run)
    assert run.returncode in (0, 1)
    assert json.loads(run.stdout)["files"][0]["findings"] == []
    assert run.seconds < 30 and run.peak_mib < 600  # one resolution per stage: 37 s before

    run = analyze("--plan", "--format", "json", df, cache=cache, timeout=300)
    report("1,000 stages --plan", run)
    assert run.returncode in (0, 1)
    plan = json.loads(run.stdout)["files"][0]["plan"]
    # BuildKit's steps for the last stage: the base image, then the RUN of every stage
    assert [s["instruction"] for s in plan[:2]] == ["FROM busybox:1.36 AS s0", "RUN echo $LEVEL1"]
    assert len(plan) == 1000
    assert run.seconds < 60 and run.peak_mib < 600


# --------------------------------------------------------------------------- the path itself


def test_path_that_is_not_a_file(tmp_path, cache):
    empty = tmp_path / "empty"
    empty.mkdir()
    holder = tmp_path / "holder"
    (holder / "Dockerfile").mkdir(parents=True)  # a directory named Dockerfile is no Dockerfile
    fifo = tmp_path / "fifo.Dockerfile"
    os.mkfifo(fifo)  # nobody ever writes: opening it for reading would wait forever
    dangling = tmp_path / "dangling.Dockerfile"
    dangling.symlink_to(tmp_path / "gone")
    loop = tmp_path / "loop.Dockerfile"
    loop.symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(loop)
    cases = [
        (empty, "no Dockerfile found (looked for Dockerfile, Containerfile, *.Dockerfile, Dockerfile.*)"),
        (holder / "Dockerfile", "no Dockerfile found (looked for Dockerfile, Containerfile, *.Dockerfile, Dockerfile.*)"),
        (tmp_path / "missing", "no such file or directory"),
        (fifo, "not a regular file (a FIFO)"),
        (dangling, f"broken symbolic link to '{tmp_path / 'gone'}': No such file or directory"),
        (loop, f"symbolic link loop (through '{tmp_path / 'loop2'}')"),
        ("/dev/zero", "not a regular file (a character device)"),
        ("/dev/urandom", "not a regular file (a character device)"),
    ]
    for path, message in cases:
        for extra in ((), ("--plan",)):
            run = analyze(*extra, path, cache=cache, timeout=30)
            assert run.returncode == 2, (path, run.stderr)
            assert run.error_line().endswith(message), (path, run.stderr)
            assert run.seconds < 20, path


def test_fifo_config_catalog_and_dockerignore_are_refused_not_read(tmp_path, cache):
    df = tmp_path / "Dockerfile"
    df.write_text("FROM busybox:1.36\nCOPY . /app\n")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    run = analyze("--config", fifo, df, cache=cache, timeout=30)
    assert run.returncode == 2 and run.error_line() == f"analyze: error: {fifo}: cannot read: not a regular file (a FIFO)"
    run = analyze("--catalog", fifo, df, cache=cache, timeout=30)
    assert run.returncode == 2 and run.error_line() == f"analyze: error: catalog {fifo}: cannot read: not a regular file (a FIFO)"
    run = analyze("--catalog", "/dev/zero", df, cache=cache, timeout=30)
    assert run.returncode == 2 and "not a regular file (a character device)" in run.error_line()
    os.mkfifo(tmp_path / ".dockerignore")
    run = analyze("--plan", df, cache=cache, timeout=30)
    assert run.returncode == 2
    assert run.error_line() == f"analyze: error: {df}: {tmp_path / '.dockerignore'}: cannot read: not a regular file (a FIFO)"


# --------------------------------------------------------------------------- build context


def _context(tmp_path: Path) -> tuple[Path, Path]:
    ctx = tmp_path / "ctx"
    src = ctx / "src"
    src.mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not part of the context\n")
    (src / "a.txt").write_text("hello\n")
    os.symlink("loop-b", src / "loop-a")
    os.symlink("loop-a", src / "loop-b")
    os.symlink(".", src / "self")
    os.symlink(str(outside / "secret.txt"), src / "abs")  # absolute: taken inside the context
    os.symlink("../../outside/secret.txt", src / "up")  # .. stops at the context root
    os.symlink("/dev/zero", src / "zero")  # followed outside, it would never end
    os.mkfifo(src / "fifo")  # a FIFO is sent as a FIFO: never opened
    (ctx / "Dockerfile").write_text(
        "FROM busybox:1.36\n"
        "COPY src/ /app/\n"
        "COPY src/loop-a /loop\n"
        "COPY src/abs /abs\n"
        "COPY src/up /up\n"
        "COPY src/zero /zero\n"
        "COPY src/self/self/self/a.txt /a\n"
        "COPY src/fifo /fifo\n"
    )
    return ctx, outside


def test_plan_over_a_hostile_context(tmp_path, cache):
    ctx, _outside = _context(tmp_path)
    run = analyze("--plan", "--format", "json", ctx / "Dockerfile", cache=cache, timeout=60)
    assert run.returncode == 0, run.stderr
    notes = [ln for ln in run.stderr.splitlines() if ln.strip()]
    df = ctx / "Dockerfile"
    assert notes == [
        f"analyze: note: {df}: line 3: COPY src/loop-a: not found in the build context (the build would fail)",
        f"analyze: note: {df}: line 4: COPY src/abs: not found in the build context (the build would fail)",
        f"analyze: note: {df}: line 5: COPY src/up: not found in the build context (the build would fail)",
        f"analyze: note: {df}: line 6: COPY src/zero: not found in the build context (the build would fail)",
    ]
    plan = json.loads(run.stdout)["files"][0]["plan"]
    assert [s["instruction"] for s in plan][-2:] == ["COPY src/self/self/self/a.txt /a", "COPY src/fifo /fifo"]
    assert run.seconds < 30


CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, PR_CAPBSET_DROP = 1, 2, 24


def _without_root_file_access():
    """preexec_fn: drop the capabilities that let root read any file from the bounding set;
    after exec the child, still uid 0, obeys permission bits like any user."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and os.geteuid() == 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _as_a_user(probe: str):
    """The ``preexec_fn`` that makes a child meet file permissions as a user would (None
    when not root), checked by running ``probe``, which must then fail."""
    if os.geteuid() != 0:
        return None
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, preexec_fn=_without_root_file_access)
    if run.returncode == 0:
        skip_unless_ci("cannot take root's file access away here (no CAP_SETPCAP)")
    return _without_root_file_access


def test_plan_with_an_unreadable_file(tmp_path, cache):
    """A file the build cannot read fails ``docker build``; the plan says so. Tests run as
    root, who reads anything: the child runs with CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH
    dropped (prctl PR_CAPBSET_DROP), so mode 000 stops it as it would stop a user."""
    ctx = tmp_path / "ctx"
    (ctx / "src").mkdir(parents=True)
    (ctx / "src" / "ok.txt").write_text("fine\n")
    locked = ctx / "src" / "locked.txt"
    locked.write_text("secret\n")
    locked.chmod(0)
    (ctx / "Dockerfile").write_text("FROM busybox:1.36\nCOPY src/ /app/\nCOPY src/locked.txt /locked\n")
    preexec = _as_a_user(f"open({str(locked)!r}).read()")
    run = analyze("--plan", ctx / "Dockerfile", cache=cache, preexec_fn=preexec, timeout=60)
    assert run.returncode == 0, run.stderr
    df = ctx / "Dockerfile"
    assert [ln for ln in run.stderr.splitlines() if ln.strip()] == [
        f"analyze: note: {df}: line 2: COPY src/: cannot read src/locked.txt (Permission denied): the build would fail",
        f"analyze: note: {df}: line 3: COPY src/locked.txt: cannot read src/locked.txt (Permission denied): the build would fail",
    ]


def test_plan_with_a_directory_that_cannot_be_listed(tmp_path, cache):
    """A context directory the build cannot list fails ``docker build`` as an unreadable file
    does: the plan names it (it used to be skipped without a word)."""
    ctx = tmp_path / "ctx"
    (ctx / "src" / "closed").mkdir(parents=True)
    (ctx / "src" / "ok.txt").write_text("fine\n")
    (ctx / "src" / "closed" / "inside.txt").write_text("hidden\n")
    (ctx / "other").mkdir()
    (ctx / "other" / "x.txt").write_text("x\n")
    closed = ctx / "src" / "closed"
    (ctx / "Dockerfile").write_text("FROM busybox:1.36\nCOPY src/ /app/\nCOPY other/ /other/\n")
    closed.chmod(0)
    try:
        preexec = _as_a_user(f"import os; os.listdir({str(closed)!r})")
        run = analyze("--plan", ctx / "Dockerfile", cache=cache, preexec_fn=preexec, timeout=60)
    finally:
        closed.chmod(0o755)
    assert run.returncode == 0, run.stderr
    df = ctx / "Dockerfile"
    assert [ln for ln in run.stderr.splitlines() if ln.strip()] == [
        f"analyze: note: {df}: line 2: COPY src/: cannot list src/closed/ (Permission denied): the build would fail",
    ]

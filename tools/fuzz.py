#!/usr/bin/env python3
"""A long fuzz run of the properties in ``tests/fuzz_strategies.py``.

    python tools/fuzz.py --seed 1 --duration 600                 # every target, 600 s in all
    python tools/fuzz.py --seed 7 --duration 120 --target lint --target cli
    python tools/fuzz.py --list
    python tools/fuzz.py --atheris --seed 1 --duration 300       # coverage-guided, bytes in

The time is shared evenly between the targets. Each target runs batches of hypothesis
examples (batch ``k`` seeded from ``--seed`` and ``k``, so a run is repeatable) until its
share is used. A failing example is shrunk, then printed with a reproducer (a few lines of
Python to paste); an example slower than ``--slow`` seconds is reported as well. Exit
status 1 when anything failed or was slow, else 0.

``--atheris`` needs ``pip install atheris`` (not a project dependency): libFuzzer mutates
bytes, guided by the coverage of the analyzer's own code, and each input goes through
the command's path: decode, parse, lint (shell errors raised, not swallowed) and every
output format. It starts from the sample Dockerfiles and the rule examples. A crash
writes ``crash-*`` into ``--artifacts`` (default: a temporary directory) and exits 1.
"""

from __future__ import annotations

import argparse
import faulthandler
import os
import signal
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

BATCH = 100  # examples per hypothesis run; a failure is shrunk within its batch


class Hang(BaseException):
    """An example ran past the hard time limit (not an Exception: nothing swallows it, and
    hypothesis does not try to shrink it)."""


class TimeUp(BaseException):
    """The target's share of the time is used: stop in the middle of a batch."""


def _alarm(signum, frame):
    raise Hang("example ran past the hard time limit")


def run_target(name: str, seed: int, seconds: float, slow: float, hard: float, trace=None) -> dict:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed

    import fuzz_strategies as fs

    target = fs.TARGETS[name]
    stats = {"examples": 0, "batches": 0, "failure": None, "slow": [], "outcomes": {}}
    last: dict = {}

    def check(args):
        if time.monotonic() > deadline and not shrinking["on"]:
            raise TimeUp()
        args = args if isinstance(args, tuple) else (args,)
        last["args"] = args
        if trace is not None:  # the input about to run, for a crash that takes the process down
            trace.seek(0)
            trace.truncate()
            trace.write(reproducer(name, args))
            trace.flush()
        started = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, hard)
        try:
            outcome = target.check(*args)
        except BaseException:
            shrinking["on"] = True  # a failure: let hypothesis shrink it whatever the time
            raise
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        elapsed = time.perf_counter() - started
        stats["examples"] += 1
        stats["outcomes"][outcome] = stats["outcomes"].get(outcome, 0) + 1
        if elapsed > slow and len(stats["slow"]) < 5:
            stats["slow"].append((elapsed, args))

    deadline = time.monotonic() + seconds
    shrinking = {"on": False}
    batch = 0
    while time.monotonic() < deadline:
        prop = settings(
            max_examples=BATCH,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.generate, Phase.target, Phase.shrink],
            print_blob=True,
        )(hseed(seed * 1_000_003 + batch)(given(target.strategy())(check)))
        stats["batches"] += 1
        try:
            prop()
        except TimeUp:
            break
        except (Exception, Hang) as exc:  # the shrunk failure: hypothesis re-raises it last
            stats["failure"] = {
                "batch": batch,
                "error": _describe(exc),
                "args": last.get("args"),
            }
            break
        batch += 1
    return stats


def _describe(exc: BaseException) -> str:
    """The traceback without hypothesis' own frames, and the exception with its notes."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/hypothesis/" not in f.filename]
    lines = traceback.format_list(frames[-12:])
    lines += traceback.format_exception_only(type(exc), exc)
    return "Traceback (most recent call last):\n" + "".join(lines)


def reproducer(name: str, args) -> str:
    return (
        "import sys; sys.path[:0] = ['tests', '.']\n"
        "from fuzz_strategies import *\n"
        f"args = {args!r}\n"
        f"TARGETS[{name!r}].check(*args)\n"
    )


def fuzz(args) -> int:
    import fuzz_strategies as fs

    names = args.target or list(fs.TARGETS)
    unknown = [n for n in names if n not in fs.TARGETS]
    if unknown:
        print(f"unknown target(s): {', '.join(unknown)}; --list shows them", file=sys.stderr)
        return 2
    signal.signal(signal.SIGALRM, _alarm)
    faulthandler.enable()  # a crash in native code (parsers) still shows where
    trace = open(args.trace, "w", encoding="utf-8", errors="surrogateescape") if args.trace else None
    share = args.duration / len(names)
    print(f"seed {args.seed}, {args.duration:g} s over {len(names)} target(s), {share:.0f} s each", flush=True)
    failed = False
    rows = []
    for name in names:
        started = time.monotonic()
        stats = run_target(name, args.seed, share, args.slow, args.hard, trace)
        spent = time.monotonic() - started
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(stats["outcomes"].items()))
        rows.append((name, stats["examples"], spent, outcomes))
        print(f"{name:20} {stats['examples']:7} examples in {spent:6.1f} s  ({outcomes})", flush=True)
        if stats["failure"] is not None:
            failed = True
            f = stats["failure"]
            print(f"\nFAILURE in {name} (seed {args.seed}, batch {f['batch']}):\n{f['error']}", flush=True)
            print("reproduce with:\n" + reproducer(name, f["args"]), flush=True)
        for elapsed, ex in stats["slow"]:
            failed = True
            print(f"\nSLOW in {name}: {elapsed:.1f} s (limit {args.slow:g} s); reproduce with:\n" + reproducer(name, ex), flush=True)
    total = sum(r[1] for r in rows)
    print(f"\n{total} examples in {sum(r[2] for r in rows):.0f} s; {'FAILED' if failed else 'no failures'}")
    return 1 if failed else 0


# --- atheris ------------------------------------------------------------------------------


def _seed_corpus(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    n = 0
    for path in sorted((ROOT / "sample_dockerfiles").rglob("*")):
        if path.is_file() and path.stat().st_size < 64 * 1024:
            (directory / f"sample-{n}").write_bytes(path.read_bytes())
            n += 1
    from analyzer.rules import load_catalog

    for rule in load_catalog().values():
        for ex in (*rule.fires, *rule.passes):
            (directory / f"example-{n}").write_text(ex.code, encoding="utf-8")
            n += 1


def atheris_main(args) -> int:
    try:
        import atheris
    except ImportError:
        print("atheris is not installed: pip install atheris", file=sys.stderr)
        return 2
    import tempfile

    from fuzz_strategies import check_reports, strict_shell

    from analyzer.model import AnalyzerError
    from analyzer.parse import decode
    from analyzer.report import FileResult
    from analyzer.rules import LintOptions, lint_text, load_catalog

    catalog = load_catalog()
    work = Path(args.artifacts or tempfile.mkdtemp(prefix="analyze-atheris-"))
    corpus = work / "corpus"
    _seed_corpus(corpus)
    root = str(work)
    path = str(work / "Dockerfile")

    def one_input(data: bytes) -> None:
        try:
            text = decode(data, path)
        except AnalyzerError:
            return
        with strict_shell():  # parse errors come back as AN0001; lineage from built-in knowledge
            findings = tuple(lint_text(text, LintOptions(), path=path, catalog=catalog))
        check_reports([FileResult(path, findings)], root)

    one_input(b"FROM alpine:3.19\nRUN apk add --no-cache curl && curl -fsSL https://x | sh\n")  # loads what it needs
    atheris.instrument_all()
    argv = [
        sys.argv[0],
        f"-seed={args.seed}",
        f"-max_total_time={int(args.duration)}",
        f"-timeout={int(args.hard)}",
        "-max_len=8192",
        "-rss_limit_mb=4096",
        "-print_final_stats=1",
        f"-artifact_prefix={work}/",
        str(corpus),
    ]
    print(f"atheris: corpus and artifacts in {work}", flush=True)
    atheris.Setup(argv, one_input)
    atheris.Fuzz()  # exits the process: 0 when the time is up without a crash
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds in all (default 60)")
    parser.add_argument("--target", action="append", help="a target to run (repeatable; default: all)")
    parser.add_argument("--slow", type=float, default=5.0, help="report an example slower than this (seconds)")
    parser.add_argument("--hard", type=float, default=60.0, help="stop an example after this long (a hang)")
    parser.add_argument("--trace", help="keep the reproducer of the input being run in this file (for a crash)")
    parser.add_argument("--list", action="store_true", help="list the targets and exit")
    parser.add_argument("--atheris", action="store_true", help="coverage-guided run over bytes (needs atheris)")
    parser.add_argument("--artifacts", help="atheris: where to keep the corpus and crash files")
    args = parser.parse_args(argv)
    if args.list:
        import fuzz_strategies as fs

        for name, t in fs.TARGETS.items():
            print(f"{name:20} {t.summary}")
        return 0
    if args.atheris:
        return atheris_main(args)
    return fuzz(args)


if __name__ == "__main__":
    sys.exit(main())

"""Analysing many files: the per-file work, a process pool for large batches, and the
command's fast entry point.

:func:`lint_inputs` runs :class:`FileAnalyzer` on every input, in order. From
``POOL_THRESHOLD`` files on, and with more than one CPU available, the files are spread over
a pool of worker processes (one per CPU, ``ANALYZE_JOBS`` sets the number; ``1`` turns the
pool off); results come back in input order, so the output is the same either way. On
Linux the workers are forked children that share what this process loaded and take chunks
of the inputs from a pipe; elsewhere, or once forking is unsafe (threads, the Go parser
loaded), a ``concurrent.futures`` pool of spawned interpreters does the same.

:func:`console` is the ``analyze`` command (:func:`main`, then a quick exit). The command line is parsed by typer
in :mod:`analyzer.cli`, whose import costs more than linting a small file; a plain
``analyze [--format F] [--config C] [--select ID] ... PATH ...`` is recognised here and run
through the same functions without loading typer. Anything else goes to
:func:`analyzer.cli.main`.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Optional

from .model import AnalyzerError

POOL_THRESHOLD = 64  # files; below this the pool costs more than it saves
EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


@dataclass(frozen=True)
class RunSettings:
    """What the command line says about analysing each file (picklable, for workers)."""

    config: Optional[str] = None  # --config FILE (else discovered per file)
    ignore: tuple[str, ...] = ()  # --ignore ids or aliases
    select: tuple[str, ...] = ()  # --select ids or aliases (replaces preset and config)
    preset: Optional[str] = None  # --preset
    build_args: tuple[tuple[str, str], ...] = ()
    failure_threshold: Optional[str] = None
    target: Optional[str] = None
    explain: Optional[str] = None
    catalogs: tuple[str, ...] = ()  # --catalog files
    offline: bool = False
    layers: bool = False  # --layers: list the layers of images read from any registry
    lineage: bool = True  # False with --no-lineage
    cache_dir: Optional[str] = None
    platform: str = "linux/amd64"
    jobs: Optional[int] = None  # None: ANALYZE_JOBS, else the CPUs available
    verbose: bool = False
    piece: Optional[str] = None  # "json": each file's part of the report is rendered where it is analysed


@dataclass(frozen=True)
class Outcome:
    """One input's result, as a worker sends it back."""

    result: object  # report.FileResult
    threshold: str = "info"
    error: Optional[str] = None  # "PATH: message" for a file that could not be read
    notes: tuple[str, ...] = ()
    fatal: Optional[str] = None  # an error that stops the run (a bad discovered config)
    piece: Optional[str] = None  # the file's part of the report (RunSettings.piece); then
    failing: Optional[bool] = None  # ``result`` carries no findings and this says whether one fails


@dataclass
class Batch:
    """The results of one run over many inputs."""

    results: list = field(default_factory=list)
    had_error: bool = False
    failing: bool = False  # a finding at or above its file's failure threshold
    notes: list = field(default_factory=list)  # lineage notes, each once
    resolvers: dict = field(default_factory=dict)  # lineage resolvers of this process
    pieces: list = field(default_factory=list)  # the files' rendered parts (RunSettings.piece)
    jobs: int = 1


class FileAnalyzer:
    """Analyses one input at a time; keeps what files share (catalog, configs, resolvers)."""

    def __init__(self, settings: RunSettings):
        from analyzer.config import Discovery, load
        from analyzer.rules import load_catalog

        self.settings = settings
        self.catalog = load_catalog()
        self.explicit = load(Path(settings.config)) if settings.config is not None else None
        self.discovery = Discovery()
        self.resolvers: dict = {}
        self._options: dict = {}
        self._lineage = settings.lineage

    def _options_for(self, item: str):
        from analyzer.config import lint_options

        s = self.settings
        cfg = self.explicit if self.explicit is not None else self.discovery.config_for(item if item != "-" else None)
        matched = tuple(i for i, rule in enumerate(cfg.per_path) if item != "-" and rule.matches(item)) if cfg.per_path else ()
        key = (id(cfg), matched)  # configs live as long as the Discovery that holds them
        if key not in self._options:
            options = lint_options(cfg, self.catalog, s.ignore, s.build_args, preset=s.preset, select=s.select or None, path=item)
            self._options[key] = (cfg, options)
        cfg, options = self._options[key]
        return cfg, options, s.failure_threshold or cfg.failure_threshold or "info"

    def __call__(self, item: str) -> Outcome:
        outcome = self._outcome(item)
        if self.settings.piece == "json" and outcome.fatal is None:
            import analyzer.report as report  # (a package: `from` it would cost a call per file)
            from analyzer.report.json_format import render_entry
            from analyzer.rules import at_or_above

            result = outcome.result
            return Outcome(
                report.FileResult(result.path, (), error=result.error),
                outcome.threshold,
                error=outcome.error,
                notes=outcome.notes,
                piece=render_entry(result),
                failing=bool(at_or_above(result.findings, outcome.threshold)),
            )
        return outcome

    def _outcome(self, item: str) -> Outcome:
        from analyzer.files import read_input
        from analyzer.model import ParseError
        import analyzer.report as report
        from analyzer.rules import lint, parse_error_finding

        s = self.settings
        try:
            cfg, options, threshold = self._options_for(item)
        except AnalyzerError as exc:
            return Outcome(report.FileResult(item), fatal=str(exc))
        shown = "<stdin>" if item == "-" else item
        try:
            df = read_input(item, shown)
        except ParseError as exc:
            return Outcome(report.FileResult(shown, (parse_error_finding(exc, shown),)), threshold)
        except AnalyzerError as exc:
            return Outcome(report.FileResult(shown, (), error=str(exc)), threshold, error=f"{shown}: {exc}")
        from analyzer.expand import ExpansionTooLarge

        try:
            return self._analyze(df, shown, cfg, options, threshold)
        except ExpansionTooLarge as exc:  # past the analyzer's limits: this file only
            return Outcome(report.FileResult(shown, (), error=str(exc)), threshold, error=f"{shown}: {exc}")

    def _analyze(self, df, shown: str, cfg, options, threshold: str) -> Outcome:
        import analyzer.report as report
        from analyzer.rules import lint

        s = self.settings
        lineage = None
        extra: dict = {}
        notes: tuple = ()
        if self._lineage:
            from analyzer.lineage.session import analyze_file, make_resolver

            catalogs = s.catalogs + ((cfg.catalog,) if cfg.catalog else ())
            if catalogs not in self.resolvers:
                self.resolvers[catalogs] = make_resolver(cache_dir=s.cache_dir, offline=s.offline, catalogs=catalogs, platform=s.platform, list_layers=s.layers)
            lineage = analyze_file(df, self.resolvers[catalogs], build_args=dict(s.build_args), target=s.target, platform=s.platform)
            extra["lineage"] = lineage.lineage_json()
            if s.explain:
                extra["explain"] = lineage.explain(s.explain)
            notes = tuple(lineage.errors())
        findings = lint(df, options, self.catalog, lineage)
        notes += _expansion_notes(df, shown, options)
        from analyzer.scripts import forget

        forget(df)  # the file is done with: no cycles left for the collector
        return Outcome(report.FileResult(shown, tuple(findings), extra=extra), threshold, notes=notes)


def _expansion_notes(df, shown: str, options) -> tuple[str, ...]:
    """A note for the values the analyzer gave up on (an expansion past MAX_EXPANSION):
    the file is still linted, with those values unknown."""
    from analyzer.expand import MAX_EXPANSION, resolve

    try:
        errors = resolve(df, dict(options.build_args)).errors  # the walk the checks made
    except AnalyzerError:
        return ()
    lines = sorted({e.line for e in errors if e.message == "variable expansion too large"})
    if not lines:
        return ()
    where = ", ".join(map(str, lines[:10])) + (", ..." if len(lines) > 10 else "")
    return (f"{shown}: line {where}: a variable expands to more than {MAX_EXPANSION:,} characters "
            "(the analyzer's limit); its value is treated as unknown",)


# --- the pool ---------------------------------------------------------------------------

_WORKER: Optional[FileAnalyzer] = None


def _init_worker(settings: RunSettings) -> None:
    import signal

    global _WORKER
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the pool
    _batch_gc()
    _WORKER = FileAnalyzer(settings)


def _batch_gc() -> None:
    """Fewer young-generation collections for a long batch: analysing a file allocates
    many short-lived objects, and at the default threshold (700) the collector runs a few
    hundred times per thousand files for 2-3% of the time; at 20,000, a few times."""
    import gc

    if gc.get_threshold()[0] < 20000:
        gc.set_threshold(20000, *gc.get_threshold()[1:])


def _work(item: str) -> Outcome:
    assert _WORKER is not None
    return _WORKER(item)


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def choose_jobs(n_files: int, requested: Optional[int] = None) -> int:
    """How many worker processes to use for ``n_files`` (1 means: no pool)."""
    if requested is None:
        env = os.environ.get("ANALYZE_JOBS", "").strip()
        if env:
            try:
                requested = int(env)
            except ValueError:
                raise AnalyzerError(f"ANALYZE_JOBS={env!r}: expected a number of processes") from None
    if requested is not None:
        return max(1, min(requested, n_files))
    if n_files < POOL_THRESHOLD:
        return 1
    return max(1, min(available_cpus(), n_files // (POOL_THRESHOLD // 2)))


def _can_fork() -> bool:
    """fork shares the loaded catalog and modules for free; it is only safe while this
    process runs one thread and has not started the Go runtime of the dockerfile parser
    (a forked child of a Go process can hang in it)."""
    import threading

    return (
        sys.platform.startswith("linux")
        and hasattr(os, "fork")
        and "dockerfile" not in sys.modules
        and threading.active_count() == 1
    )


def _chunk_size(n_inputs: int, jobs: int) -> int:
    # small chunks: a worker slowed by anything else on the machine holds back at most a
    # few files at the end (64-file chunks left one worker idle for a quarter of a second)
    return max(1, min(8, n_inputs // (jobs * 4) or 1))


def _parallel(inputs: list[str], settings: RunSettings, jobs: int) -> Iterator[Outcome]:
    if _can_fork():
        return _forked(inputs, settings, jobs)
    return _spawned(inputs, settings, jobs)


def _forked(inputs: list[str], settings: RunSettings, jobs: int) -> Iterator[Outcome]:
    """The pool as forked children that take chunks of ``inputs`` (by number, from a pipe
    they share) and send back each chunk's outcomes; yielded in input order. Lighter than
    ``concurrent.futures`` (whose import alone costs more than a dozen files, and whose
    threads in this process take turns with the workers)."""
    import pickle
    import select
    import signal

    size = _chunk_size(len(inputs), jobs)
    chunks = [inputs[i : i + size] for i in range(0, len(inputs), size)]
    sys.stdout.flush()
    sys.stderr.flush()
    task_r, task_w = os.pipe()
    workers: dict = {}  # result pipe -> pid
    try:
        for _ in range(jobs):
            res_r, res_w = os.pipe()
            pid = os.fork()
            if pid == 0:  # the worker: never returns
                code = 1
                try:
                    os.close(task_w)
                    for fd in workers:
                        os.close(fd)
                    os.close(res_r)
                    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
                    _worker_loop(chunks, settings, task_r, res_w)
                    code = 0
                finally:
                    os._exit(code)
            os.close(res_w)
            workers[res_r] = pid
        os.close(task_r)
        task_r = -1
        order = b"".join(i.to_bytes(4, "little") for i in range(len(chunks)))
        os.set_blocking(task_w, False)
        done: dict = {}
        buffers = {fd: bytearray() for fd in workers}
        wanted = 0
        while wanted < len(chunks):
            write = [task_w] if order else []
            readable, writable, _ = select.select(list(buffers), write, [])
            if writable:
                try:  # at most PIPE_BUF bytes: a write that goes in whole or not at all
                    sent = os.write(task_w, order[:4096])
                    order = order[sent:]
                except BlockingIOError:
                    pass
                except BrokenPipeError:  # every worker is gone: said below, once they are read
                    order = b""
                if not order:
                    os.close(task_w)
                    task_w = -1
            for fd in readable:
                data = os.read(fd, 1 << 20)
                if not data:  # the worker is gone
                    del buffers[fd]
                    continue
                buf = buffers[fd]
                buf += data
                while len(buf) >= 8:
                    length = int.from_bytes(buf[:8], "little")
                    if len(buf) < 8 + length:
                        break
                    index, payload = pickle.loads(bytes(buf[8 : 8 + length]))
                    del buf[: 8 + length]
                    if index < 0:
                        raise AnalyzerError(f"a worker process failed: {payload}")
                    done[index] = payload
            while wanted in done:
                yield from done.pop(wanted)
                wanted += 1
            if not buffers and wanted < len(chunks):
                raise AnalyzerError("a worker process ended before its work was done")
    finally:
        for fd in (task_r, task_w, *workers):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        for pid in workers.values():
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
            try:
                os.waitpid(pid, 0)
            except OSError:
                pass


def _worker_loop(chunks: list, settings: RunSettings, task_r: int, res_w: int) -> None:
    import pickle

    def send(index: int, payload) -> None:
        data = pickle.dumps((index, payload), pickle.HIGHEST_PROTOCOL)
        view = memoryview(len(data).to_bytes(8, "little") + data)
        while view:
            view = view[os.write(res_w, view):]

    _batch_gc()
    try:
        analyzer = FileAnalyzer(settings)
        while True:
            number = b""
            while len(number) < 4:  # the parent writes whole numbers; a read may split none
                part = os.read(task_r, 4 - len(number))
                if not part:
                    return  # no more work
                number += part
            index = int.from_bytes(number, "little")
            send(index, [analyzer(item) for item in chunks[index]])
    except BrokenPipeError:
        return  # the parent stopped listening
    except Exception as exc:  # one line for the parent to report
        send(-1, f"{type(exc).__name__}: {exc}")


def _spawned(inputs: list[str], settings: RunSettings, jobs: int) -> Iterator[Outcome]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    chunk = _chunk_size(len(inputs), jobs)
    # spawned: a fresh interpreter each, for when forking this process is not safe
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker, initargs=(settings,))
    try:
        yield from pool.map(_work, inputs, chunksize=chunk)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def lint_inputs(inputs: list[str], settings: RunSettings, *, err=None) -> Batch:
    """Analyse every input in order; unreadable files are reported on ``err`` (stderr) as
    they come, as ``analyze: error: PATH: message``."""
    from analyzer.rules import at_or_above

    err = err or sys.stderr
    analyzer = FileAnalyzer(settings)  # a bad --config fails here, before any work
    jobs = 1 if ("-" in inputs or settings.verbose) else choose_jobs(len(inputs), settings.jobs)
    if jobs == 1 and len(inputs) >= POOL_THRESHOLD:
        _batch_gc()
    batch = Batch(jobs=jobs)
    outcomes: Iterable[Outcome] = map(analyzer, inputs) if jobs == 1 else _parallel(inputs, settings, jobs)
    try:
        for outcome in outcomes:
            if outcome.fatal is not None:
                raise AnalyzerError(outcome.fatal)
            if outcome.error is not None:
                err.write(f"analyze: error: {outcome.error}\n")
                err.flush()
                batch.had_error = True
            batch.results.append(outcome.result)
            if outcome.piece is not None:
                batch.pieces.append(outcome.piece)
            batch.notes.extend(n for n in outcome.notes if n not in batch.notes)
            if outcome.failing is not None:
                batch.failing = batch.failing or outcome.failing
            elif not batch.failing and at_or_above(outcome.result.findings, outcome.threshold):
                batch.failing = True
    finally:
        close = getattr(outcomes, "close", None)
        if close is not None:
            close()
    batch.resolvers = analyzer.resolvers
    return batch


# --- the fast entry point -------------------------------------------------------------------

_VALUE_OPTIONS = {
    "--format": "format", "-f": "format",
    "--output": "output", "-o": "output",
    "--config": "config", "-c": "config",
    "--ignore": "ignore",
    "--select": "select",
    "--preset": "preset",
    "--failure-threshold": "failure_threshold", "-t": "failure_threshold",
}
_FLAGS = {"--exit-zero": "exit_zero", "--offline": "offline", "--no-lineage": "no_lineage", "--layers": "layers"}
_REPEATED = {"ignore", "select"}


def fast_arguments(argv: list[str]) -> Optional[dict]:
    """The options of a plain lint invocation, or None when typer must parse ``argv``."""
    from analyzer.config import PRESETS, THRESHOLDS
    from analyzer.report import FORMATS

    opts: dict = {"paths": [], "ignore": [], "select": []}
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "-" or not word.startswith("-"):
            opts["paths"].append(word)
            i += 1
            continue
        name, eq, value = word.partition("=")
        if name in _FLAGS and not eq:
            opts[_FLAGS[name]] = True
            i += 1
            continue
        if name not in _VALUE_OPTIONS or (eq and not name.startswith("--")):
            return None
        if not eq:
            if i + 1 >= len(argv):
                return None
            value = argv[i + 1]
            i += 2
        else:
            i += 1
        key = _VALUE_OPTIONS[name]
        if key in _REPEATED:
            opts[key].append(value)
        else:
            opts[key] = value
    if opts.get("format", "text") not in FORMATS:
        return None
    if opts.get("failure_threshold", "info") not in THRESHOLDS:
        return None
    if opts.get("preset", "all") not in PRESETS:
        return None
    return opts


def _id_tokens(values) -> tuple[str, ...]:
    return tuple(t.strip() for item in values for t in item.split(",") if t.strip())


def run_fast(opts: dict) -> int:
    from analyzer import __version__
    from analyzer.files import discover_inputs
    from analyzer.report import render, resolve_format

    fmt = resolve_format(opts.get("format", "text"))
    output = opts.get("output")
    inputs = discover_inputs(opts["paths"] or ["Dockerfile"])
    settings = RunSettings(
        config=opts.get("config"),
        ignore=_id_tokens(opts["ignore"]),
        select=_id_tokens(opts["select"]),
        preset=opts.get("preset"),
        failure_threshold=opts.get("failure_threshold"),
        offline=bool(opts.get("offline")),
        layers=bool(opts.get("layers")),
        lineage=not opts.get("no_lineage"),
        piece="json" if fmt == "json" else None,
    )
    batch = lint_inputs(inputs, settings)
    for note in batch.notes:
        sys.stderr.write(f"analyze: note: {note}\n")
    color = output is None and fmt == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    if settings.piece == "json" and len(batch.pieces) == len(batch.results):
        from analyzer.report.json_format import assemble

        text = assemble(batch.pieces, __version__)
    else:
        text = render(batch.results, fmt, color=color, version=__version__)
    if output is not None:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise AnalyzerError(f"cannot write {output}: {exc.strerror or exc}") from None
    elif color:
        from rich.console import Console

        Console(highlight=False, soft_wrap=True).print(text, end="")
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    if batch.had_error:
        return EXIT_ERROR
    return EXIT_FINDINGS if batch.failing and not opts.get("exit_zero") else EXIT_OK


def console() -> None:
    """The ``analyze`` command (and ``python -m analyzer``): :func:`main`, then out of the
    process without tearing the interpreter down. The output is flushed and the exit
    handlers run (the bytecode caches are written then); unloading every module and freeing
    every object one by one (about 15 ms, a fifth of a small file's run) is left to the
    operating system."""
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    leave(code)


def leave(code) -> None:
    """Exit the process with ``code`` (as ``SystemExit(code)`` would) once the output and
    the exit handlers are done."""
    import atexit

    if code is None:
        code = 0
    elif not isinstance(code, int):
        sys.stderr.write(f"{code}\n")
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said there
            code = code or EXIT_ERROR
    atexit._run_exitfuncs()
    os._exit(code)


def main() -> None:
    """Console entry point: the fast path for plain lint runs, typer for the rest."""
    opts = None
    if os.environ.get("ANALYZE_NO_FAST_PATH", "") in ("", "0"):
        opts = fast_arguments(sys.argv[1:])
    if opts is None:
        from analyzer.cli import main as typer_main

        typer_main()
        return
    try:
        rc = run_fast(opts)
    except KeyboardInterrupt:
        sys.stderr.write("analyze: interrupted\n")
        sys.exit(130)
    except AnalyzerError as exc:
        sys.stderr.write(f"analyze: error: {exc}\n")
        sys.exit(EXIT_ERROR)
    except BrokenPipeError:
        sys.exit(EXIT_ERROR)
    except Exception as exc:  # anything unexpected: one line, as the typer path does
        sys.stderr.write(f"analyze: internal error: {type(exc).__name__}: {exc}\n")
        sys.exit(EXIT_ERROR)
    sys.exit(rc)

import pytest

from analyzer.rules import LintOptions, lint_text, load_catalog


@pytest.fixture(scope="session")
def catalog():
    return load_catalog()


def _example_options(text: str, rule: str | None, kind: str | None):
    """Rule options a catalog example ("fires" or "passes") declares under ``config:``."""
    entry = load_catalog().get(rule) if rule and kind else None
    for ex in getattr(entry, kind, ()) if entry else ():
        if ex.code == text:
            return LintOptions(rule_options=((rule, dict(ex.config)),)) if ex.config else LintOptions()
    return LintOptions()


def findings_for(text: str, rule: str | None = None, _kind: str | None = None, **options):
    found = lint_text(text, LintOptions(**options) if options else _example_options(text, rule, _kind))
    return [f for f in found if rule is None or f.rule == rule]


def assert_finds(rule: str, text: str, line: int | None = None, column: int | None = None):
    found = findings_for(text, rule, "fires")
    assert found, f"{rule} did not fire on:\n{text}"
    if line is not None:
        assert any(f.line == line and (column is None or f.column == column) for f in found), (
            f"{rule} fired at {[(f.line, f.column) for f in found]}, expected {line}:{column}"
        )
    return found


def assert_not_finds(rule: str, text: str):
    found = findings_for(text, rule, "passes")
    assert not found, f"{rule} fired unexpectedly: {[(f.line, f.column, f.message) for f in found]}"


def script_at(text: str, line: int = 1, column: int = 1):
    """A Script whose first character sits at line:column; later lines start at column 1."""
    from analyzer.model import Script

    segments = []
    offset = 0
    for i, physical in enumerate(text.split("\n")):
        segments.append((offset, line + i, column if i == 0 else 1))
        offset += len(physical) + 1
    return Script(text, tuple(segments))


def skip_unless_ci(reason: str):
    """Skip on a developer's machine that cannot do what the test needs; fail under CI,
    whose machine must (tests never silently skip there)."""
    import os

    if os.environ.get("CI"):
        pytest.fail(f"CI must be able to run this test: {reason}")
    pytest.skip(reason)


def started_http_servers(count: int):
    """``count`` real HTTP servers on 127.0.0.1 (pytest-httpserver), for a module fixture:
    ``yield from started_http_servers(2)``."""
    from pytest_httpserver import HTTPServer

    started = [HTTPServer(host="127.0.0.1", port=0) for _ in range(count)]
    for server in started:
        server.start()
    try:
        yield started
    finally:
        for server in started:
            server.clear()
            server.stop()


def bench_corpus(count: int, seed: int) -> list[str]:
    """``count`` Dockerfiles from the benchmark's templates (tools/bench_lint.py), in a
    repeatable order: the corpus the speed shortcuts are measured and checked on."""
    import importlib.util
    import random
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "tools" / "bench_lint.py"
    spec = importlib.util.spec_from_file_location("bench_lint", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rng = random.Random(seed)
    return [bench.TEMPLATES[i % len(bench.TEMPLATES)](rng) for i in range(count)]

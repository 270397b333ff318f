"""A check that declares what it needs (``@check(..., keywords=..., commands=...)``) is
skipped for a file without it; these tests run such checks on exactly those files and
expect nothing from them, so a declaration that leaves something out fails here."""

from __future__ import annotations

from pathlib import Path

import fuzz_strategies
import pytest
from hypothesis import HealthCheck, given, settings

from conftest import bench_corpus

from analyzer.checks import Context, needs, registered
from analyzer.model import ParseError
from analyzer.parse import parse
from analyzer.rules import LintOptions, lint, load_catalog, scan_suppressions

ROOT = Path(__file__).resolve().parent.parent
CATALOG = load_catalog()
CHECKS = registered()
GATED = {rid: needs(rid) for rid in CHECKS if needs(rid) != (None, None)}


def _context(text: str, options: LintOptions, lineage: bool = True):
    from analyzer.lineage.session import analyze_file, builtin_resolver

    df = parse(text, "Dockerfile")
    ctx = Context(df, options, shell_pragma=scan_suppressions(df).shell)
    if lineage:
        ctx.lineage = analyze_file(df, builtin_resolver(), build_args=dict(options.build_args))
    return ctx


def _options(rid: str, config: dict) -> LintOptions:
    return LintOptions(rule_options=((rid, dict(config)),)) if config else LintOptions()


def _without(text: str, keyword: str) -> str | None:
    """``text`` with every instruction of ``keyword`` (and every ONBUILD carrying one) cut
    out, or None when that leaves nothing to parse."""
    try:
        df = parse(text)
    except ParseError:
        return None
    lines = text.split("\n")
    cut = set()
    for ins in df.instructions:
        if ins.keyword == keyword or (ins.trigger is not None and ins.trigger.keyword == keyword):
            cut.update(range(ins.start_line, ins.end_line + 1))
    if not cut:
        return None
    kept = "\n".join(line for i, line in enumerate(lines, start=1) if i not in cut)
    try:
        parse(kept)
    except ParseError:
        return None
    return kept


def _skipped_checks_find_nothing(text: str, options_for) -> int:
    """Runs every gated check whose gate is closed for ``text``; returns how many ran."""
    try:
        ctx = _context(text, LintOptions())
    except ParseError:
        return 0
    ran = 0
    for rid, gate in GATED.items():
        if ctx.may_find(*gate):
            continue
        options = options_for(rid)
        probe = ctx if options is None else _context(text, options)
        probe.current_rule = rid
        found = list(CHECKS[rid](probe))
        assert not found, f"{rid} is skipped for this file by {gate} but finds {[(h.position.line, h.message) for h in found]}:\n{text}"
        ran += 1
    return ran


def _files() -> list[str]:
    texts = []
    for base in ("sample_dockerfiles", "tests/data", "tests/scenarios"):
        for path in sorted((ROOT / base).rglob("*")):
            if path.is_file() and ("Dockerfile" in path.name or path.suffix == ".dockerfile" or path.name == "Containerfile"):
                try:
                    texts.append(path.read_text(encoding="utf-8"))
                except (UnicodeDecodeError, OSError):
                    continue
    return texts


def test_every_gated_check_is_a_registered_rule():
    assert GATED, "no check declares what it needs"
    assert set(GATED) <= set(CATALOG)
    for rid, (keywords, commands) in GATED.items():
        assert keywords is None or all(k == k.upper() for k in keywords), rid
        assert commands is None or all(c and "/" not in c for c in commands), rid


def test_checks_that_report_an_absence_are_never_gated():
    # these fire because something is missing: a gate on it would silence them
    for rid in ("AN3049", "AN3057", "AN3061"):
        assert rid not in GATED


@pytest.mark.parametrize("rid", sorted(GATED))
def test_examples_without_what_a_check_needs_find_nothing(rid):
    """Each example of every rule, with all instructions of one keyword taken out in turn:
    the checks the cut closes the gate of must stay silent."""
    keywords = {"RUN", "COPY", "ADD", "ENV", "ARG", "LABEL", "EXPOSE", "WORKDIR", "USER", "CMD",
                "ENTRYPOINT", "HEALTHCHECK", "ONBUILD", "MAINTAINER", "SHELL", "VOLUME", "STOPSIGNAL"}
    rule = CATALOG[rid]
    examples = [(ex.code, ex.config) for ex in (*rule.fires, *rule.passes)]
    checked = 0
    for code, config in examples:
        def options_for(r, _config=config):
            return _options(r, _config) if r == rid and _config else None

        checked += _skipped_checks_find_nothing(code, options_for) >= 0
        for kw in keywords:
            variant = _without(code, kw)
            if variant is not None:
                _skipped_checks_find_nothing(variant, options_for)
    assert checked == len(examples)


def test_a_fire_example_opens_the_gate_of_its_check():
    """The declaration is not vacuous: every example a gated rule fires on passes its gate."""
    for rid, gate in GATED.items():
        for ex in CATALOG[rid].fires:
            ctx = _context(ex.code, _options(rid, ex.config), lineage=False)
            assert ctx.may_find(*gate), f"{rid}: its own example is skipped:\n{ex.code}"


def test_files_at_hand_and_their_cuts_find_nothing_where_skipped():
    ran = 0
    for text in _files() + bench_corpus(180, seed=29):
        ran += _skipped_checks_find_nothing(text, lambda r: None)
        for kw in ("RUN", "COPY", "ENV", "ARG", "LABEL", "USER"):
            variant = _without(text, kw)
            if variant is not None:
                ran += _skipped_checks_find_nothing(variant, lambda r: None)
    assert ran > 5000  # gates are closed often enough for this to say something


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fuzz_strategies.dockerfile_texts())
def test_generated_files_find_nothing_where_skipped(text):
    _skipped_checks_find_nothing(text, lambda r: None)


def test_benchmark_corpus_lints_the_same_with_and_without_gates(monkeypatch):
    """On generated files, skipping changes no finding (the gates off: every check runs)."""
    texts = bench_corpus(120, seed=23)
    options = LintOptions()
    skipped = sum(1 for t in texts for gate in GATED.values() if not Context(parse(t)).may_find(*gate))
    assert skipped > 1000
    with_gates = [lint(parse(t), options, CATALOG) for t in texts]
    import analyzer.rules as rules

    plan = rules._rules_to_run
    monkeypatch.setattr(rules, "_rules_to_run", lambda o, c: [(*row[:5], None) for row in plan(o, c)])
    without = [lint(parse(t), options, CATALOG) for t in texts]
    assert with_gates == without


def test_the_lint_loop_skips_exactly_what_may_find_says(monkeypatch):
    """The loop's own test of the gates (inline, for speed) agrees with Context.may_find."""
    import analyzer.checks as checks_module

    ran = []
    real = dict(CHECKS)
    for rid, fn in real.items():
        monkeypatch.setitem(checks_module._REGISTRY, rid, (lambda f, r: (lambda ctx: (ran.append((id(ctx.df), r)), f(ctx))[1]))(fn, rid))
    options = LintOptions()
    for text in bench_corpus(40, seed=31) + [ex.code for rule in CATALOG.values() for ex in rule.fires][:150]:
        try:
            df = parse(text)
        except ParseError:
            continue
        ran.clear()
        lint(df, options, CATALOG)
        ctx = Context(df, options)
        expected = {rid for rid in CHECKS if rid in GATED and ctx.may_find(*GATED[rid])} | {rid for rid in CHECKS if rid not in GATED}
        assert {r for _, r in ran} == expected - {"AN0001"}, text

"""Every rule's YAML examples run as tests: the documentation is the test."""

import pytest

from analyzer.rules import load_catalog

from conftest import assert_finds, assert_not_finds

_CATALOG = load_catalog()
FIRES = [(r.id, i, ex) for r in _CATALOG.values() for i, ex in enumerate(r.fires)]
PASSES = [(r.id, i, ex) for r in _CATALOG.values() for i, ex in enumerate(r.passes)]


@pytest.mark.parametrize("rule,index,example", FIRES, ids=[f"{r}-fire-{i}" for r, i, _ in FIRES])
def test_rule_fires_on_its_examples(rule, index, example):
    assert_finds(rule, example.code, example.line, example.column)


@pytest.mark.parametrize("rule,index,example", PASSES, ids=[f"{r}-pass-{i}" for r, i, _ in PASSES])
def test_rule_stays_quiet_on_its_examples(rule, index, example):
    assert_not_finds(rule, example.code)


def test_catalog_covers_the_first_dozen_rules():
    assert len(_CATALOG) >= 12
    scopes = {r.scope for r in _CATALOG.values()}
    assert scopes == {"instruction", "shell", "stage", "file"}


def test_every_rule_documents_itself():
    for rule in _CATALOG.values():
        assert rule.summary and rule.rationale and rule.fix, rule.id
        assert rule.name == rule.name.lower() and " " not in rule.name, rule.id

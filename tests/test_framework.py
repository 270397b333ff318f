"""The rule framework: catalog validation, pragmas, severities, configuration."""

import textwrap
from pathlib import Path

import pytest

from analyzer.config import Config, ConfigError, discover, lint_options, load
from analyzer.rules import CatalogError, LintOptions, at_or_above, lint_text, load_catalog, resolve_ids

from conftest import findings_for

UNTAGGED = "FROM debian\nRUN echo hi\n"


def rules_of(text, **kw):
    return sorted({f.rule for f in findings_for(text, **kw)})


# -- catalog ---------------------------------------------------------------------------

def _write_rule(d: Path, rid: str, **over):
    body = {
        "id": rid, "name": "x", "severity": "warning", "scope": "file", "summary": "s",
        "rationale": "r", "fix": "f", "examples": {"fire": ["FROM a"], "pass": ["FROM b"]},
    }
    body.update(over)
    import yaml

    (d / f"{rid}.yaml").write_text(yaml.safe_dump(body))


def test_catalog_rejects_rule_without_implementation(tmp_path):
    for rule in load_catalog().values():
        (tmp_path / Path(rule.path).name).write_text(Path(rule.path).read_text())
    _write_rule(tmp_path, "AN9998")
    with pytest.raises(CatalogError, match="without an implementation: AN9998"):
        load_catalog(str(tmp_path))


def test_catalog_rejects_check_without_rule_file(tmp_path):
    for rule in list(load_catalog().values())[1:]:
        (tmp_path / Path(rule.path).name).write_text(Path(rule.path).read_text())
    with pytest.raises(CatalogError, match="without a rules/ entry"):
        load_catalog(str(tmp_path))


@pytest.mark.parametrize(
    "override,message",
    [
        ({"severity": "fatal"}, "severity must be"),
        ({"scope": "galaxy"}, "scope must be"),
        ({"examples": {"fire": ["FROM a"]}}, "at least one"),
        ({"id": "X1"}, "not of the form"),
    ],
)
def test_catalog_validates_entries(tmp_path, override, message):
    _write_rule(tmp_path, "AN0001", **override)
    with pytest.raises(CatalogError, match=message):
        load_catalog(str(tmp_path))


def test_aliases_resolve_to_rule_ids(catalog):
    assert resolve_ids(["DL3006", "jsonargsrecommended", "AN4000"], catalog) == {"AN3006", "AN3025", "AN4000"}
    assert resolve_ids(["MultipleInstructionsDisallowed"], catalog) == {"AN3012", "AN4003", "AN4004"}


# -- pragmas ----------------------------------------------------------------------------

def test_analyze_ignore_pragma_on_line_above():
    assert "AN3006" not in rules_of("# analyze ignore=AN3006\nFROM debian\n")


def test_hadolint_ignore_pragma_through_alias():
    assert "AN3006" not in rules_of("# hadolint ignore=DL3006,DL3007\nFROM debian\n")


def test_pragma_applies_to_next_instruction_only():
    text = "FROM debian:12\n# hadolint ignore=DL4000\nMAINTAINER a\nMAINTAINER b\n"
    found = findings_for(text, "AN4000")
    assert [f.line for f in found] == [4]


def test_pragma_separated_by_blank_line_does_not_apply():
    assert "AN3006" in rules_of("# analyze ignore=AN3006\n\nFROM debian\n")


def test_global_ignore_pragma():
    text = "FROM debian:12\nMAINTAINER a\n# hadolint global ignore=DL4000\nFROM debian:12\nMAINTAINER b\n"
    assert findings_for(text, "AN4000") == []


def test_stage_ignore_pragma_covers_only_its_stage():
    text = "# hadolint stage ignore=DL4000\nFROM debian:12\nMAINTAINER a\nFROM debian:12\nMAINTAINER b\n"
    assert [f.line for f in findings_for(text, "AN4000")] == [5]


def test_buildkit_check_skip_directive():
    text = "# check=skip=JSONArgsRecommended\nFROM debian:12\nCMD echo hi\n"
    assert findings_for(text, "AN3025") == []


def test_buildkit_check_error_true_promotes_check_findings():
    text = "# check=error=true\nFROM debian:12\nCMD echo hi\n"
    [f] = findings_for(text, "AN3025")
    assert f.severity == "error"


def test_check_skip_all_leaves_hadolint_only_rules():
    text = "# check=skip=all\nFROM debian\nMAINTAINER x\n"
    rules = rules_of(text)
    assert "AN4000" not in rules  # MaintainerDeprecated is a BuildKit check
    assert "AN3006" in rules  # DL3006 has no BuildKit equivalent


# -- severities, ignore, threshold -------------------------------------------------------

def test_ignore_option_skips_rule():
    assert "AN3006" not in rules_of(UNTAGGED, ignore=frozenset({"AN3006"}))


def test_severity_override_and_off():
    [f] = findings_for(UNTAGGED, "AN3006", severity=(("AN3006", "error"),))
    assert f.severity == "error"
    assert findings_for(UNTAGGED, "AN3006", severity=(("AN3006", "off"),)) == []


def test_failure_threshold():
    found = lint_text(UNTAGGED)
    assert at_or_above(found, "warning")
    assert not at_or_above(found, "error")
    assert not at_or_above(found, "none")


# -- configuration ------------------------------------------------------------------------

def test_config_discovered_walking_up(tmp_path):
    (tmp_path / ".analyze.yaml").write_text("ignore: [DL3006]\n")
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    (sub / "Dockerfile").write_text(UNTAGGED)
    assert discover(str(sub / "Dockerfile")) == tmp_path / ".analyze.yaml"


def test_nearest_config_wins(tmp_path):
    (tmp_path / ".analyze.yaml").write_text("ignore: [DL3006]\n")
    sub = tmp_path / "svc"
    sub.mkdir()
    (sub / "pyproject.toml").write_text("[tool.analyze]\nfailure-threshold = 'error'\n")
    assert discover(str(sub / "Dockerfile")) == sub / "pyproject.toml"
    cfg = load(sub / "pyproject.toml")
    assert cfg.failure_threshold == "error"


def test_pyproject_without_table_is_skipped(tmp_path):
    (tmp_path / ".analyze.yml").write_text("ignore: [AN3006]\n")
    sub = tmp_path / "svc"
    sub.mkdir()
    (sub / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert discover(str(sub / "Dockerfile")) == tmp_path / ".analyze.yml"


def test_hadolint_style_config(tmp_path, catalog):
    path = tmp_path / ".analyze.yaml"
    path.write_text(textwrap.dedent("""
        ignored: [DL3007]
        override:
          error: [DL3006]
          style: [DL4000]
        failure-threshold: warning
    """))
    cfg = load(path)
    opts = lint_options(cfg, catalog)
    assert "AN3007" in opts.ignore
    assert dict(opts.severity)["AN3006"] == "error"
    assert dict(opts.severity)["AN4000"] == "style"


@pytest.mark.parametrize(
    "text,message",
    [
        ("ignore: 5\n", "must be a list"),
        ("severity: {DL3006: fatal}\n", "must be one of"),
        ("failure-threshold: loud\n", "must be one of"),
        ("colour: red\n", "unknown key"),
        ("- a\n- b\n", "must be a mapping"),
        ("ignore: [\n", "invalid YAML"),
    ],
)
def test_bad_config_is_one_clear_error(tmp_path, text, message):
    path = tmp_path / ".analyze.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load(path)


def test_unknown_rule_in_config_is_an_error(catalog):
    with pytest.raises(ConfigError, match="unknown rule id or alias: DL9999"):
        lint_options(Config(ignore=("DL9999",)), catalog)


def test_findings_are_made_in_the_order_of_their_fields():
    """lint() builds each Finding positionally (it makes thousands): the order it assumes."""
    from dataclasses import fields

    from analyzer.model import Finding

    assert [f.name for f in fields(Finding)] == [
        "rule", "severity", "message", "line", "column", "end_line", "end_column", "path", "aliases", "name"]

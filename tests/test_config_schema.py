"""The configuration file: its JSON schema, presets, select, per-path ignores, rule options
fed by top-level keys, and the agreement between the schema and analyzer.config.load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml

from analyzer.config import Config, ConfigError, Discovery, discover, from_mapping, lint_options, load
from analyzer.rules import CatalogError, Example, Rule, _load_rule

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "analyzer" / "config.schema.json").read_text(encoding="utf-8"))

GOOD = [
    "",
    "preset: strict\n",
    "preset: all\nignore: [DL3006, AN4000]\n",
    "select: [DL3006, JSONArgsRecommended]\n",
    "select: DL3006, DL4000\n",
    "extend-select: [AN3006]\n",
    "ignored: [DL3007]\noverride:\n  error: [DL3006]\n  style: [DL4000]\nfailure-threshold: warning\n",
    "severity: {DL3006: error, AN4000: off}\n",
    "rules:\n  AN3006:\n    severity: info\n    options: {max: 3}\n  DL4000: {options: null}\n",
    "per-path:\n  - paths: ['legacy/**', '*.old.Dockerfile']\n    ignore: [DL3006]\n  - paths: vendor\n    ignore: AN4000\n",
    "trusted-registries: [docker.io, registry.example.com:5000]\n",
    "trustedRegistries: [quay.io]\n",
    "label-schema:\n  org.opencontainers.image.authors: text\n  org.opencontainers.image.source: url\n  version: semver\nstrict-labels: true\n",
    "catalog: images.yaml\nno-fail: false\nno-color: true\nformat: tty\n",
    "ignore:\nseverity:\nrules:\n",
    "failure_threshold: none\n",
]

BAD = [
    ("- a\n- b\n", "must be a mapping"),
    ("colour: red\n", "unknown key"),
    ("preset: lenient\n", "preset"),
    ("ignore: 5\n", "must be a list"),
    ("ignore: ['']\n", "must be a list"),
    ("select: [3006]\n", "must be a list"),
    ("severity: {DL3006: fatal}\n", "must be one of"),
    ("severity: {DL3006: ERROR}\n", "must be one of"),
    ("severity: [DL3006]\n", "must map"),
    ("override: {fatal: [DL3006]}\n", "must be one of"),
    ("failure-threshold: loud\n", "must be one of"),
    ("rules: {AN3006: error}\n", "must be a mapping"),
    ("rules: {AN3006: {options: [1]}}\n", "must be a mapping"),
    ("rules: {AN3006: {level: error}}\n", "unknown key"),
    ("per-path: {paths: [x], ignore: [DL3006]}\n", "must be a list"),
    ("per-path:\n  - paths: [legacy]\n", "needs 'paths' and 'ignore'"),
    ("per-path:\n  - paths: []\n    ignore: [DL3006]\n", "must not be empty"),
    ("per-path:\n  - paths: [legacy]\n    ignore: [DL3006]\n    severity: off\n", "unknown key"),
    ("trusted-registries: docker.io\n", "list of strings"),
    ("trusted-registries: ['']\n", "list of strings"),
    ("label-schema: {version: number}\n", "must be one of"),
    ("label-schema: [version]\n", "must map"),
    ("strict-labels: yes please\n", "true or false"),
    ("no-fail: 1\n", "true or false"),
    ("format: 3\n", "must be a string"),
    ("catalog: [a]\n", "must be a path"),
]


def test_the_schema_is_a_valid_json_schema():
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    from analyzer.config import KNOWN_KEYS

    assert set(SCHEMA["properties"]) == KNOWN_KEYS


@pytest.mark.parametrize("text", GOOD)
def test_good_config_validates_and_loads(text, tmp_path):
    data = yaml.safe_load(text) or {}
    jsonschema.Draft7Validator(SCHEMA).validate(data)
    path = tmp_path / ".analyze.yaml"
    path.write_text(text)
    assert isinstance(load(path), Config)


@pytest.mark.parametrize("text,message", BAD)
def test_bad_config_fails_schema_and_load(text, message, tmp_path):
    data = yaml.safe_load(text)
    assert not jsonschema.Draft7Validator(SCHEMA).is_valid(data), text
    path = tmp_path / ".analyze.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load(path)


def test_pyproject_table_is_checked_the_same_way(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool.analyze]\npreset = 'strict'\nselect = ['DL3006']\n[[tool.analyze.per-path]]\npaths = ['legacy/**']\nignore = ['DL3006']\n")
    cfg = load(path)
    assert cfg.preset == "strict" and cfg.select == ("DL3006",) and cfg.per_path[0].patterns == ("legacy/**",)
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib

    jsonschema.Draft7Validator(SCHEMA).validate(tomllib.loads(path.read_text())["tool"]["analyze"])
    path.write_text("[tool.analyze]\npreset = 'loose'\n")
    with pytest.raises(ConfigError, match="preset"):
        load(path)


# --- presets, select, per-path, rule options (against a small catalog) ----------------------


def _rule(rid, aliases=(), presets=("recommended", "strict", "all")):
    return Rule(rid, rid.lower(), "warning", "s", "r", "f", tuple(aliases), (Example("x"),), (Example("y"),), "file", "", presets)


CATALOG = {
    r.id: r
    for r in (
        _rule("AN0001"),
        _rule("AN3006", ["DL3006"]),
        _rule("AN3026", ["DL3026"]),
        _rule("AN3049", ["DL3049"], ("all",)),
        _rule("AN3057", ["DL3057"], ("all",)),
        _rule("AN1001", ["DL1001"], ("all",)),
        _rule("AN5001", [], ("strict", "all")),
        _rule("AN4000", ["DL4000", "MaintainerDeprecated"]),
    )
}


def _enabled(cfg=Config(), **kw):
    return set(lint_options(cfg, CATALOG, **kw).enabled)


def test_presets_are_nested():
    recommended = _enabled()
    strict = _enabled(preset="strict")
    everything = _enabled(preset="all")
    assert recommended == {"AN0001", "AN3006", "AN3026", "AN4000"}
    assert strict == recommended | {"AN5001"}
    assert everything == set(CATALOG)
    assert _enabled(from_mapping({"preset": "strict"})) == strict


def test_select_is_an_allowlist_that_can_reach_any_preset():
    assert _enabled(from_mapping({"select": ["DL3006", "DL3057"]})) == {"AN3006", "AN3057"}
    assert _enabled(select=["MaintainerDeprecated"]) == {"AN4000"}
    # the command line's --select replaces the file's select; --preset replaces both
    cfg = from_mapping({"select": ["DL3006"], "extend-select": ["DL1001"]})
    assert _enabled(cfg, select=["AN4000"]) == {"AN4000", "AN1001"}
    assert _enabled(cfg, preset="recommended") == {"AN0001", "AN3006", "AN3026", "AN4000", "AN1001"}
    with pytest.raises(ConfigError, match="unknown rule id or alias in --select: DL9999"):
        _enabled(select=["DL9999"])
    with pytest.raises(ConfigError, match="unknown preset"):
        _enabled(preset="lenient")


def test_ignore_wins_over_select():
    opts = lint_options(from_mapping({"select": ["DL3006", "DL4000"], "ignore": ["DL4000"]}), CATALOG)
    assert "AN4000" in opts.ignore and "AN4000" in opts.enabled


def test_per_path_ignores(tmp_path):
    (tmp_path / ".analyze.yaml").write_text(textwrap.dedent("""
        per-path:
          - paths: ["legacy/**"]
            ignore: [DL3006]
          - paths: ["*.old.Dockerfile", "svc/*/Dockerfile"]
            ignore: [DL4000]
          - paths: [vendor]
            ignore: [AN3026]
    """))
    cfg = load(tmp_path / ".analyze.yaml")

    def ignored(rel):
        return set(lint_options(cfg, CATALOG, path=str(tmp_path / rel)).ignore)

    assert ignored("legacy/Dockerfile") == {"AN3006"}
    assert ignored("legacy/deep/er/Dockerfile") == {"AN3006"}
    assert ignored("legacyx/Dockerfile") == set()
    assert ignored("Dockerfile") == set()
    assert ignored("a/b/web.old.Dockerfile") == {"AN4000"}
    assert ignored("svc/api/Dockerfile") == {"AN4000"}
    assert ignored("svc/api/x/Dockerfile") == set()
    assert ignored("third/vendor/Dockerfile") == {"AN3026"}
    old = os.getcwd()
    os.chdir(tmp_path)
    try:  # a relative path is taken from the current directory
        assert set(lint_options(cfg, CATALOG, path="legacy/Dockerfile").ignore) == {"AN3006"}
    finally:
        os.chdir(old)
    with pytest.raises(ConfigError, match="per-path: DL9999"):
        lint_options(from_mapping({"per-path": [{"paths": ["x"], "ignore": ["DL9999"]}]}), CATALOG)


def test_trusted_registries_and_label_schema_feed_rule_options():
    cfg = from_mapping(
        {
            "trusted-registries": ["docker.io", "registry.example.com"],
            "label-schema": {"org.opencontainers.image.source": "url"},
            "strict-labels": True,
            "rules": {"DL3049": {"options": {"extra": 1}}},
        }
    )
    opts = lint_options(cfg, CATALOG)
    assert opts.options_for("AN3026") == {"allowed-registries": ["docker.io", "registry.example.com"]}
    assert opts.options_for("AN3049") == {"label-schema": {"org.opencontainers.image.source": "url"}, "strict-labels": True, "extra": 1}
    assert opts.options_for("AN3006") == {}
    # an explicit rule option wins over the top-level key
    cfg = from_mapping({"trustedRegistries": ["quay.io"], "rules": {"AN3026": {"options": {"allowed-registries": ["ghcr.io"]}}}})
    assert lint_options(cfg, CATALOG).options_for("AN3026") == {"allowed-registries": ["ghcr.io"]}


def test_rule_options_reach_the_check_through_the_real_catalog(catalog):
    cfg = from_mapping({"rules": {"DL3006": {"options": {"answer": 42}}}})
    opts = lint_options(cfg, catalog)
    assert opts.options_for("AN3006") == {"answer": 42}
    with pytest.raises(ConfigError, match="unknown rule id or alias in rules: DL9999"):
        lint_options(from_mapping({"rules": {"DL9999": {}}}), catalog)


# --- the catalog's presets key ------------------------------------------------------------------


def _rule_file(tmp_path, extra):
    path = tmp_path / "AN7777.yaml"
    path.write_text(
        "id: AN7777\nname: x\nseverity: info\nscope: file\nsummary: s\nrationale: r\nfix: f\n"
        "examples: {fire: ['FROM a'], pass: ['FROM b']}\n" + extra
    )
    return path


def test_catalog_presets_key(tmp_path):
    assert _load_rule(_rule_file(tmp_path, "")).presets == ("recommended", "strict", "all")
    assert _load_rule(_rule_file(tmp_path, "presets: [strict, all]\n")).presets == ("strict", "all")
    assert _load_rule(_rule_file(tmp_path, "presets: [all]\n")).presets == ("all",)
    for bad in ("presets: []\n", "presets: [lenient]\n", "presets: 3\n"):
        with pytest.raises(CatalogError, match="presets"):
            _load_rule(_rule_file(tmp_path, bad))


def test_real_catalog_presets_are_nested(catalog):
    for rule in catalog.values():
        assert rule.presets and rule.presets[-1] == "all"
        assert rule.presets == ("recommended", "strict", "all")[-len(rule.presets):]


# --- discovery ------------------------------------------------------------------------------


def test_discovery_cache_agrees_with_discover(tmp_path):
    (tmp_path / ".analyze.yml").write_text("preset: strict\n")
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "pyproject.toml").write_text("[tool.analyze]\npreset = 'all'\n")
    d = Discovery()
    for rel in ("Dockerfile", "a/Dockerfile", "a/b/Dockerfile", "c/Dockerfile", "a/b/Dockerfile"):
        target = str(tmp_path / rel)
        cfg = d.config_for(target)
        assert cfg.path == str(discover(target))
    assert d.config_for(str(tmp_path / "c" / "Dockerfile")).preset == "all"
    assert d.config_for(str(tmp_path / "a" / "b" / "Dockerfile")).preset == "strict"


def test_discovery_cache_follows_real_files_links_and_relative_paths(tmp_path, monkeypatch):
    """The per-directory shortcut gives what discover() gives, file by file: a symbolic
    link is judged by where it points, a relative path from the working directory."""
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / ".analyze.yaml").write_text("preset: all\n")
    (tmp_path / "y").mkdir()
    (tmp_path / "y" / ".analyze.yaml").write_text("preset: strict\n")
    (tmp_path / "x" / "Dockerfile").write_text("FROM a\n")
    (tmp_path / "y" / "Dockerfile.link").symlink_to(tmp_path / "x" / "Dockerfile")
    (tmp_path / "y" / "sub").mkdir()
    (tmp_path / "y" / "sub" / "Dockerfile").write_text("FROM b\n")
    (tmp_path / "y" / "to-x").symlink_to(tmp_path / "x", target_is_directory=True)
    (tmp_path / "x" / "deeper" / "down").mkdir(parents=True)
    (tmp_path / "x" / "deeper" / "down" / "Dockerfile").write_text("FROM c\n")
    (tmp_path / "sub").mkdir()  # where to-x/../sub really is
    (tmp_path / "sub" / "Dockerfile").write_text("FROM d\n")
    monkeypatch.chdir(tmp_path / "y")
    cases = ["Dockerfile.link", "sub/Dockerfile", "sub/../Dockerfile.link", "to-x/Dockerfile", "to-x/../sub/Dockerfile",
             str(tmp_path / "y" / "to-x" / "Dockerfile"), "sub", ".", "missing/Dockerfile",
             "to-x/deeper/down/Dockerfile", "to-x/deeper/../deeper/down/Dockerfile", "./sub//Dockerfile",
             str(tmp_path / "y" / "to-x" / "deeper" / "down" / "Dockerfile")]
    d = Discovery()
    for _ in range(2):  # the second round comes from the cache
        for rel in cases:
            found = discover(rel)
            assert d.config_for(rel).path == (str(found) if found else None), rel
    assert d.config_for("Dockerfile.link").preset == "all"
    assert d.config_for("to-x/Dockerfile").preset == "all"
    assert d.config_for("sub/Dockerfile").preset == "strict"
    assert d.config_for("to-x/deeper/down/Dockerfile").preset == "all"
    assert d.config_for("to-x/../sub/Dockerfile").path is None  # the real tmp/sub has none


# --- the command line ---------------------------------------------------------------------------


def run(*args, cwd=None, env=None):
    full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "GITHUB_ACTIONS")}
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "analyzer", *map(str, args)], capture_output=True, text=True, cwd=cwd or ROOT, env=full_env, timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def _rules_reported(proc):
    return {f["rule"] for entry in json.loads(proc.stdout)["files"] for f in entry["findings"]}


@pytest.mark.parametrize("fast", [True, False])
def test_cli_select_preset_and_per_path(tmp_path, fast):
    env = {} if fast else {"ANALYZE_NO_FAST_PATH": "1"}
    (tmp_path / "legacy").mkdir()
    text = "FROM debian\nMAINTAINER me\nCMD run\n"
    (tmp_path / "Dockerfile").write_text(text)
    (tmp_path / "legacy" / "Dockerfile").write_text(text)
    args = ("--format", "json", "--offline")
    everything = _rules_reported(run(*args, "Dockerfile", cwd=tmp_path, env=env))
    assert {"AN3006", "AN4000", "AN3025"} <= everything
    assert _rules_reported(run(*args, "--select", "DL3006", "Dockerfile", cwd=tmp_path, env=env)) == {"AN3006"}
    assert _rules_reported(run(*args, "--select", "DL3006,MaintainerDeprecated", "Dockerfile", cwd=tmp_path, env=env)) == {"AN3006", "AN4000"}
    assert _rules_reported(run(*args, "--select", "DL3006", "--select", "DL4000", "Dockerfile", cwd=tmp_path, env=env)) == {"AN3006", "AN4000"}
    (tmp_path / ".analyze.yaml").write_text("select: [DL4000]\nper-path:\n  - paths: [legacy]\n    ignore: [DL4000]\n")
    proc = run(*args, ".", cwd=tmp_path, env=env)
    files = {e["path"]: {f["rule"] for f in e["findings"]} for e in json.loads(proc.stdout)["files"]}
    assert files == {"./Dockerfile": {"AN4000"}, "./legacy/Dockerfile": set()}
    assert proc.returncode == 1
    assert _rules_reported(run(*args, "--preset", "all", "Dockerfile", cwd=tmp_path, env=env)) >= {"AN3006", "AN4000", "AN3025"}
    proc = run("--preset", "lenient", "Dockerfile", cwd=tmp_path, env=env)
    assert proc.returncode == 2 and proc.stderr.startswith("analyze: error: ") and "preset" in proc.stderr
    proc = run("--select", "DL9999", "Dockerfile", cwd=tmp_path, env=env)
    assert proc.returncode == 2 and "DL9999" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1

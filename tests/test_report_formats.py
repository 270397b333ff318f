"""Output formats: exact golden files, SARIF schema validation, escaping of hostile text.

The golden reports are rendered from frozen data in ``tests/data/golden/``: ``findings.json``
(what linting the Dockerfiles in ``dockerfiles/`` gave with the rules in ``SELECTED``, plus
findings with hostile messages and paths) and ``rules.json`` (the catalog metadata of the
rules they name). ``UPDATE_GOLDEN=1 pytest tests/test_report_formats.py`` lints the
Dockerfiles again and rewrites the frozen data and every golden report.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import asdict
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.model import Finding
from analyzer.report import FileResult, render, resolve_format
from analyzer.report.github import escape_data, escape_property
from analyzer.report.sarif import sarif_log
from analyzer.rules import Example, Rule

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
GOLDEN = DATA / "golden"
DOCKERFILES = GOLDEN / "dockerfiles"
SARIF_SCHEMA = json.loads((DATA / "sarif-2.1.0-schema.json").read_text(encoding="utf-8"))
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
VERSION = "0.0.0-golden"
SELECTED = ("AN0001", "AN3006", "AN3025", "AN4000")
GOLDEN_FILES = {
    "text": "report.txt",
    "json": "report.json",
    "sarif": "report.sarif",
    "github": "report.github.txt",
    "gitlab": "report.gitlab.json",
    "checkstyle": "report.checkstyle.xml",
}
HOSTILE = 'quote " apostrophe \' <tag> & 100% a:b,c\nsecond line\r\nthird\ttab \x00nul \x1bESC \x7fDEL ]]> --> é 日本 \U0001F600'
HOSTILE_RULE = Rule(
    id="AN9998",
    name="hostile-metadata",
    severity="style",
    summary='Summary with "quotes", <angle> & 100%',
    rationale="Line one.\nLine two with `code` and a tab\t.",
    fix="Write ```fences``` carefully.",
    aliases=("DL9998", "HostileCheck"),
    fires=(Example("FROM x\nRUN echo ```\n"),),
    passes=(Example("FROM x:1\n"),),
    scope="instruction",
    path="",
)


# --- frozen data --------------------------------------------------------------------------


def _finding(path, rule, severity, message, line, column, end_line, end_column, aliases=(), name=""):
    return Finding(rule, severity, message, line, column, end_line, end_column, path, tuple(aliases), name)


def _hostile_results() -> list[FileResult]:
    svc = "dockerfiles/svc a/Dockerfile.ünï"
    nasty = _finding(svc, "AN9998", "style", HOSTILE, 2, 6, 2, 34, HOSTILE_RULE.aliases, HOSTILE_RULE.name)
    return [
        FileResult(
            svc,
            (
                nasty,
                nasty,  # the same finding twice: fingerprints must still differ
                _finding(svc, "AN9998", "info", "spans lines", 1, 1, 3, 11, HOSTILE_RULE.aliases, HOSTILE_RULE.name),
            ),
        ),
        FileResult("dockerfiles/caf\udce9/Dockerfile", (_finding("dockerfiles/caf\udce9/Dockerfile", "AN3006", "warning", "bytes \udce9 in the name", 1, 6, 1, 12, ("DL3006",), "untagged-base-image"),)),
        FileResult("/elsewhere/Dockerfile", (_finding("/elsewhere/Dockerfile", "AN4000", "error", "outside the repository", 1, 1, 1, 11, ("DL4000", "MaintainerDeprecated"), "maintainer-deprecated"),)),
        FileResult("dockerfiles/binary.Dockerfile", (), error="not UTF-8 text: invalid byte 0xff at offset 3 <&>"),
    ]


def _lint_golden_set() -> list[FileResult]:
    from analyzer.files import discover_inputs, read_input
    from analyzer.model import ParseError
    from analyzer.rules import LintOptions, lint, parse_error_finding

    options = LintOptions(enabled=frozenset(SELECTED))
    out = []
    for item in discover_inputs([str(DOCKERFILES)]):
        shown = Path(item).relative_to(GOLDEN).as_posix()
        try:
            df = read_input(item, shown)
        except ParseError as exc:
            out.append(FileResult(shown, (parse_error_finding(exc, shown),)))
            continue
        out.append(FileResult(shown, tuple(lint(df, options))))
    return out


def _merged(results: list[FileResult]) -> list[FileResult]:
    by_path: dict[str, FileResult] = {}
    for r in results:
        if r.path in by_path:
            old = by_path[r.path]
            r = FileResult(r.path, old.findings + r.findings, error=old.error or r.error)
        by_path[r.path] = r
    return list(by_path.values())


def _write_frozen(results: list[FileResult], rules: dict) -> None:
    data = [{"path": r.path, "error": r.error, "findings": [asdict(f) for f in r.findings]} for r in results]
    (GOLDEN / "findings.json").write_text(json.dumps(data, indent=2, ensure_ascii=True) + "\n", encoding="utf-8")
    meta = {}
    for rid, rule in sorted(rules.items()):
        entry = asdict(rule)
        entry["fires"] = [e["code"] for e in entry["fires"][:1]]
        entry["passes"] = [e["code"] for e in entry["passes"][:1]]
        entry["path"] = ""
        meta[rid] = entry
    (GOLDEN / "rules.json").write_text(json.dumps(meta, indent=2, ensure_ascii=True) + "\n", encoding="utf-8")


def _read_frozen() -> tuple[list[FileResult], dict]:
    data = json.loads((GOLDEN / "findings.json").read_text(encoding="utf-8"))
    results = []
    for entry in data:
        findings = tuple(Finding(**{**f, "aliases": tuple(f["aliases"])}) for f in entry["findings"])
        results.append(FileResult(entry["path"], findings, error=entry["error"]))
    rules = {}
    for rid, entry in json.loads((GOLDEN / "rules.json").read_text(encoding="utf-8")).items():
        entry["fires"] = tuple(Example(c) for c in entry["fires"])
        entry["passes"] = tuple(Example(c) for c in entry["passes"])
        entry["aliases"] = tuple(entry["aliases"])
        entry["presets"] = tuple(entry["presets"])
        rules[rid] = Rule(**entry)
    return results, rules


@pytest.fixture(scope="module")
def frozen():
    if UPDATE:
        from analyzer.rules import load_catalog

        results = _merged(_lint_golden_set() + _hostile_results())
        catalog = load_catalog()
        rules = {f.rule: catalog[f.rule] for r in results for f in r.findings if f.rule in catalog}
        rules[HOSTILE_RULE.id] = HOSTILE_RULE
        _write_frozen(results, rules)
    return _read_frozen()


def _render(frozen, fmt, monkeypatch):
    results, rules = frozen
    monkeypatch.chdir(GOLDEN)
    return render(results, fmt, version=VERSION, catalog=rules, root=str(GOLDEN))


# --- golden files ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", sorted(GOLDEN_FILES))
def test_golden_report(fmt, frozen, monkeypatch):
    text = _render(frozen, fmt, monkeypatch)
    golden = GOLDEN / GOLDEN_FILES[fmt]
    if UPDATE:
        golden.write_bytes(text.encode("utf-8"))
    assert golden.exists(), f"missing {golden}: run UPDATE_GOLDEN=1 pytest {Path(__file__).name}"
    expected = golden.read_bytes().decode("utf-8")
    assert text == expected, f"{golden.name} differs; if the change is intended: UPDATE_GOLDEN=1 pytest tests/{Path(__file__).name}"


def test_frozen_findings_cover_the_dockerfile_set(frozen):
    results, _ = frozen
    paths = {r.path for r in results}
    for df in DOCKERFILES.rglob("*"):
        if df.is_file():
            assert df.relative_to(GOLDEN).as_posix() in paths
    rules = {f.rule for r in results for f in r.findings}
    assert {"AN0001", "AN3006", "AN4000", "AN9998"} <= rules


def test_auto_is_github_under_actions_else_text(frozen, monkeypatch):
    assert resolve_format("auto", {"GITHUB_ACTIONS": "true"}) == "github"
    assert resolve_format("auto", {"GITHUB_ACTIONS": "false"}) == "text"
    assert resolve_format("auto", {}) == "text"
    assert resolve_format("sarif", {"GITHUB_ACTIONS": "true"}) == "sarif"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert _render(frozen, "auto", monkeypatch) == (GOLDEN / GOLDEN_FILES["github"]).read_bytes().decode("utf-8")
    monkeypatch.delenv("GITHUB_ACTIONS")
    assert _render(frozen, "auto", monkeypatch) == (GOLDEN / GOLDEN_FILES["text"]).read_bytes().decode("utf-8")


# --- SARIF -------------------------------------------------------------------------------


def validate_sarif(log: dict) -> None:
    jsonschema.Draft7Validator(SARIF_SCHEMA).validate(log)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        assert result["level"] in ("error", "warning", "note")
        if "ruleIndex" in result:
            assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert (region["endLine"], region["endColumn"]) >= (region["startLine"], region["startColumn"])


def test_sarif_golden_is_valid_sarif(monkeypatch):
    log = json.loads((GOLDEN / GOLDEN_FILES["sarif"]).read_text(encoding="utf-8"))
    validate_sarif(log)
    assert log["version"] == "2.1.0" and "sarif-schema-2.1.0" in log["$schema"]
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "analyze" and driver["version"] == VERSION
    for rule in driver["rules"]:
        assert {"id", "name", "shortDescription", "fullDescription", "help", "defaultConfiguration", "properties"} <= set(rule)
        assert set(rule["help"]) == {"text", "markdown"}
        assert "dockerfile" in rule["properties"]["tags"]


def test_sarif_schema_rejects_broken_logs():
    good = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "analyze"}}, "results": []}]}
    jsonschema.Draft7Validator(SARIF_SCHEMA).validate(good)
    bad = [
        {"runs": []},
        {"version": "2.0.0", "runs": []},
        {"version": "2.1.0", "runs": [{"results": []}]},
        {"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]},
        {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "a"}}, "results": [{"ruleId": "X"}]}]},
        {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "a"}}, "results": [{"message": {"text": "m"}, "level": "info"}]}]},
        {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "a", "rules": [{"name": "no-id"}]}}}]},
        {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "a"}}, "results": [{"message": {"text": "m"}, "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a"}, "region": {"startLine": 0}}}]}]}]},
        {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "a"}}, "results": [{"message": {"text": "m"}, "lvel": "error"}]}]},
    ]
    validator = jsonschema.Draft7Validator(SARIF_SCHEMA)
    for log in bad:
        assert not validator.is_valid(log), log


def test_sarif_levels_uris_and_fingerprints(frozen, monkeypatch):
    results, rules = frozen
    monkeypatch.chdir(GOLDEN)
    log = sarif_log(results, version=VERSION, catalog=rules, root=str(GOLDEN))
    out = log["runs"][0]["results"]
    by_uri = {}
    for r in out:
        by_uri.setdefault(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], []).append(r)
    assert "dockerfiles/svc%20a/Dockerfile.%C3%BCn%C3%AF" in by_uri
    assert "dockerfiles/caf%E9/Dockerfile" in by_uri  # the byte the name was made of
    assert "dockerfiles/100%25/build.Dockerfile" in by_uri
    assert "file:///elsewhere/Dockerfile" in by_uri
    hostile = by_uri["dockerfiles/svc%20a/Dockerfile.%C3%BCn%C3%AF"]
    assert [r["level"] for r in hostile] == ["note", "note", "note"]
    assert hostile[0]["message"]["text"] == HOSTILE
    assert hostile[0]["partialFingerprints"] != hostile[1]["partialFingerprints"]
    assert by_uri["file:///elsewhere/Dockerfile"][0]["level"] == "error"
    assert by_uri["dockerfiles/caf%E9/Dockerfile"][0]["message"]["text"] == "bytes \ufffd in the name"
    notes = log["runs"][0]["invocations"][0]
    assert notes["executionSuccessful"] is False
    assert notes["toolExecutionNotifications"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "dockerfiles/binary.Dockerfile"


def test_sarif_rule_metadata_comes_from_the_catalog(catalog, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rule = catalog["AN3006"]
    results = [FileResult("Dockerfile", (_finding("Dockerfile", "AN3006", "error", "m", 1, 6, 1, 12, rule.aliases),))]
    log = json.loads(render(results, "sarif", version="1", root=str(tmp_path)))
    validate_sarif(log)
    [descriptor] = log["runs"][0]["tool"]["driver"]["rules"]
    assert descriptor["id"] == "AN3006" and descriptor["name"] == rule.name
    assert descriptor["shortDescription"]["text"] == rule.summary
    assert descriptor["defaultConfiguration"]["level"] == "warning"  # the rule's default
    assert log["runs"][0]["results"][0]["level"] == "error"  # this finding's (overridden) severity
    assert "DL3006" in descriptor["properties"]["tags"]
    assert rule.fix in descriptor["help"]["text"] and "```dockerfile" in descriptor["help"]["markdown"]


# --- GitHub, GitLab, checkstyle --------------------------------------------------------------

_COMMAND = re.compile(r"^::(error|warning|notice) ([^:]*)::(.*)$")


def _unescape(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


def test_github_commands_escape_messages_and_properties(frozen, monkeypatch):
    text = _render(frozen, "github", monkeypatch)
    lines = text.splitlines()
    results, _ = frozen
    assert len(lines) == sum(len(r.findings) + bool(r.error) for r in results)
    for line in lines:
        assert _COMMAND.match(line), line
    hostile = next(line for line in lines if "HostileCheck" in line)
    kind, props, message = _COMMAND.match(hostile).groups()
    assert kind == "notice"
    fields = dict(p.split("=", 1) for p in props.split(","))
    assert _unescape(fields["file"]) == "dockerfiles/svc a/Dockerfile.ünï"
    assert (fields["line"], fields["col"], fields["endLine"], fields["endColumn"]) == ("2", "6", "2", "33")
    assert _unescape(fields["title"]) == "AN9998 (DL9998, HostileCheck)"
    expected = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", "", HOSTILE)
    assert _unescape(message) == expected
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert escape_data("a:b,c%\r\n") == "a:b,c%25%0D%0A"
    spans = next(line for line in lines if "spans lines" in line)
    assert "endLine=3" in spans and "endColumn" not in spans


def test_gitlab_code_quality(frozen, monkeypatch):
    issues = json.loads(_render(frozen, "gitlab", monkeypatch))
    results, _ = frozen
    assert len(issues) == sum(len(r.findings) + bool(r.error) for r in results)
    fingerprints = [i["fingerprint"] for i in issues]
    assert len(set(fingerprints)) == len(fingerprints)
    for issue in issues:
        assert {"description", "check_name", "fingerprint", "severity", "location"} <= set(issue)
        assert issue["severity"] in ("info", "minor", "major", "critical", "blocker")
        assert isinstance(issue["location"]["lines"]["begin"], int)
    severity = {i["check_name"]: i["severity"] for i in issues}
    assert severity["AN0001"] == "blocker" and severity["AN4000"] == "critical" and severity["AN3006"] == "major"
    assert {i["severity"] for i in issues if i["check_name"] == "AN9998"} == {"info", "minor"}
    assert "dockerfiles/svc a/Dockerfile.ünï" in {i["location"]["path"] for i in issues}
    again = json.loads(_render(frozen, "gitlab", monkeypatch))
    assert [i["fingerprint"] for i in again] == fingerprints  # stable across runs


def test_checkstyle_is_well_formed_and_keeps_what_xml_can_carry(frozen, monkeypatch):
    text = _render(frozen, "checkstyle", monkeypatch)
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "checkstyle" and root.get("version") == "4.3"
    results, _ = frozen
    assert [f.get("name") for f in root.iter("file")] == [r.path.replace("\udce9", "\ufffd") for r in results]
    errors = [e for e in root.iter("error")]
    assert all(e.get("severity") in ("error", "warning", "info") for e in errors)
    hostile = next(e for e in errors if e.get("source") == "AN9998")
    expected = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f]", "", HOSTILE)
    assert hostile.get("message") == expected
    assert (hostile.get("line"), hostile.get("column")) == ("2", "6")


# --- any text at all ---------------------------------------------------------------------------

_ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=40)  # surrogates and controls too


@settings(max_examples=150, deadline=None)
@given(message=_ANY_TEXT, name=_ANY_TEXT, rule_name=_ANY_TEXT)
def test_every_format_stays_valid_whatever_the_text(message, name, rule_name, tmp_path_factory):
    path = f"dir/{name or 'x'}/Dockerfile"
    finding = _finding(path, "AN9998", "warning", message, 1, 1, 1, 2, ("DL9998",), rule_name)
    results = [FileResult(path, (finding, finding)), FileResult("<stdin>", (), error=message or "unreadable")]
    rules = {"AN9998": HOSTILE_RULE}
    root = "/work/root"
    json.loads(render(results, "json", version="1"))
    log = json.loads(render(results, "sarif", version="1", catalog=rules, root=root))
    validate_sarif(log)
    for entry in log["runs"][0]["results"]:
        entry["message"]["text"].encode("utf-8")
    issues = json.loads(render(results, "gitlab", root=root))
    assert len({i["fingerprint"] for i in issues}) == 3
    ET.fromstring(render(results, "checkstyle").encode("utf-8"))
    lines = render(results, "github", root=root).split("\n")[:-1]  # the runner splits on LF only
    assert len(lines) == 3 and all(_COMMAND.match(line) for line in lines)
    for text in (render(results, f) for f in ("text", "json", "github", "checkstyle")):
        text.encode("utf-8")


# --- the command, end to end -------------------------------------------------------------------


def _run(*args, env=None, cwd=None):
    full_env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "NO_COLOR")}
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "analyzer", *map(str, args)],
        capture_output=True, text=True, cwd=cwd or ROOT, env=full_env, timeout=120,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


@pytest.mark.parametrize("fmt", ["sarif", "github", "gitlab", "checkstyle", "json", "text"])
def test_cli_renders_every_format(fmt, tmp_path):
    proc = _run("--format", fmt, "--offline", "--preset", "all", DOCKERFILES, cwd=GOLDEN)
    assert proc.returncode == 1, proc.stderr
    if fmt == "sarif":
        log = json.loads(proc.stdout)
        validate_sarif(log)
        uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]}
        # relative to the git top-level of the checkout, whatever the current directory
        assert "tests/data/golden/dockerfiles/Dockerfile" in uris or not (ROOT / ".git").exists()
        assert {r["ruleId"] for r in log["runs"][0]["results"]} >= {"AN0001", "AN3006"}
    elif fmt == "github":
        assert all(_COMMAND.match(line) for line in proc.stdout.splitlines())
        assert "::warning file=" in proc.stdout and ",title=AN3006 (DL3006)::" in proc.stdout
    elif fmt == "gitlab":
        issues = json.loads(proc.stdout)
        assert issues and len({i["fingerprint"] for i in issues}) == len(issues)
    elif fmt == "checkstyle":
        root = ET.fromstring(proc.stdout.encode("utf-8"))
        assert len(list(root.iter("file"))) == 4
    elif fmt == "json":
        assert len(json.loads(proc.stdout)["files"]) == 4
    else:
        assert "AN3006" in proc.stdout


def test_cli_auto_format_follows_github_actions(tmp_path):
    df = tmp_path / "Dockerfile"
    df.write_text("FROM debian\n")
    proc = _run("--format", "auto", "--offline", df, env={"GITHUB_ACTIONS": "true"}, cwd=tmp_path)
    assert proc.stdout.startswith("::warning file=Dockerfile,line=1,col=6,"), proc.stdout
    proc = _run("--format", "auto", "--offline", df, cwd=tmp_path)
    assert proc.stdout.startswith("Dockerfile:1:6: warning AN3006") or f"{df}:1:6: warning AN3006" in proc.stdout


def test_cli_sarif_output_file_outside_git(tmp_path):
    df = tmp_path / "my app" / "Dockerfile"
    df.parent.mkdir()
    df.write_text("FROM debian\nMAINTAINER me\n")
    out = tmp_path / "report.sarif"
    proc = _run("--format", "sarif", "--offline", "-o", out, "my app/Dockerfile", cwd=tmp_path)
    assert proc.returncode == 1 and proc.stdout == ""
    log = json.loads(out.read_text(encoding="utf-8"))
    validate_sarif(log)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]}
    assert uris == {"my%20app/Dockerfile"}


# --- the JSON report put together from per-file pieces -------------------------------------


def test_json_pieces_assemble_to_the_golden_report(frozen, monkeypatch):
    from analyzer.report.json_format import assemble, render_entry

    results, _ = frozen
    whole = render(results, "json", version=VERSION)
    assert assemble([render_entry(r) for r in results], VERSION) == whole
    assert assemble([], VERSION) == render([], "json", version=VERSION)
    assert json.loads(assemble([], "v\ud800")) == {"version": "v\ufffd", "files": []}


def test_json_pieces_assemble_to_the_same_text_whatever_the_content():
    from fuzz_strategies import report_results

    from analyzer.report.json_format import assemble, render_entry

    @settings(max_examples=300, deadline=None, database=None)
    @given(report_results(), st.text(max_size=8))
    def same(case, version):
        results, _root = case
        extra = [FileResult(r.path, r.findings, r.error, extra={"lineage": {"chain": [r.path, {"x": [1, None, True]}]}}) for r in results]
        for batch in (results, extra, results[:1]):
            assert assemble([render_entry(r) for r in batch], version) == render(list(batch), "json", version=version)

    same()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_cli_json_from_worker_pieces_equals_the_whole_rendering(tmp_path, jobs):
    """The plain command renders each file's JSON where it is analysed; the full command
    line (typer) renders the whole report at the end: the same bytes, the same exit code."""
    for i in range(70):
        d = tmp_path / f"p{i:02d}"
        d.mkdir()
        body = ["FROM debian:12", f"ENV API_TOKEN=ghp_{'a' * 36}" if i % 7 == 0 else "ENV A=1", "RUN apt-get install curl" if i % 2 else "RUN ls"]
        (d / "Dockerfile").write_text("\n".join(body) + "\n")
    (tmp_path / "p03" / "Dockerfile").write_bytes(b"\x00\x01binary")
    (tmp_path / "p04" / "Dockerfile").write_text("FROM\n")
    (tmp_path / "p05" / "Dockerfile").write_bytes("FROM debian:12\nLABEL x=\udcff\n".encode("utf-8", "surrogateescape"))
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "GITHUB_ACTIONS", "ANALYZE_NO_FAST_PATH")}
    env.update(ANALYZE_JOBS=jobs, ANALYZE_CACHE_DIR=str(tmp_path / "cache"))
    cmd = [sys.executable, "-m", "analyzer", "--format", "json", "--offline", str(tmp_path)]
    fast = subprocess.run(cmd, capture_output=True, env=env, timeout=300)
    whole = subprocess.run(cmd, capture_output=True, env={**env, "ANALYZE_NO_FAST_PATH": "1"}, timeout=300)
    assert fast.returncode == whole.returncode == 2  # the binary file
    assert fast.stdout == whole.stdout
    report = json.loads(fast.stdout)
    assert len(report["files"]) == 70
    assert any(f["rule"] == "AN5002" for entry in report["files"] for f in entry["findings"])
    assert "ghp_aaaa" not in fast.stdout.decode("utf-8")
    (tmp_path / "p03" / "Dockerfile").write_text("FROM debian:12\n")
    (tmp_path / "p05" / "Dockerfile").write_text("FROM debian:12\n")
    fast = subprocess.run([*cmd, "--failure-threshold", "warning"], capture_output=True, env=env, timeout=300)
    whole = subprocess.run([*cmd, "--failure-threshold", "warning"], capture_output=True, env={**env, "ANALYZE_NO_FAST_PATH": "1"}, timeout=300)
    assert fast.returncode == whole.returncode == 1 and fast.stdout == whole.stdout


def test_json_writer_is_the_standard_librarys_indent_2_byte_for_byte():
    from analyzer.report.jsonio import dumps

    scalars = st.one_of(st.text(), st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False))
    values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=20)

    @settings(max_examples=1000, deadline=None, database=None)
    @given(values)
    def same(value):
        expected = json.dumps(value, indent=2, ensure_ascii=False) + "\n"
        assert dumps(value) == re.sub("[\ud800-\udfff]", "\ufffd", expected)  # lone surrogates become U+FFFD

    same()


def test_findings_laid_out_directly_are_their_dicts_dumped():
    """The JSON report writes each finding's text without building its dict: the same bytes
    as ``json.dumps(indent=2)`` of ``as_json()`` in its place, whatever the fields hold."""
    from analyzer.model import Finding
    from analyzer.report import FileResult
    from analyzer.report.json_format import render_entry, render_json

    texts = st.text(max_size=12)
    findings = st.builds(
        Finding,
        rule=st.sampled_from(["AN3008", "AN0001", 'AN"x', "é"]),
        severity=st.sampled_from(["error", "warning", "info", "style"]),
        message=texts,
        line=st.integers(0, 10**6),
        column=st.integers(0, 400),
        end_line=st.integers(0, 10**6),
        end_column=st.integers(0, 400),
        path=st.just("Dockerfile"),
        aliases=st.lists(st.sampled_from(["DL3008", "SC2086", "JSONArgsRecommended", "\u2028"]), max_size=3).map(tuple),
        name=texts,
    )

    @settings(max_examples=300, deadline=None, database=None)
    @given(st.lists(findings, max_size=5), texts)
    def same(found, path):
        result = FileResult(path, tuple(found))
        plain = {"version": "v", "files": [{"path": path, "findings": [f.as_json() for f in found]}]}
        expected = re.sub("[\ud800-\udfff]", "\ufffd", json.dumps(plain, indent=2, ensure_ascii=False) + "\n")
        assert render_json([result], "v") == expected
        assert expected.split('"files": [\n    ', 1)[1].rsplit("\n  ]\n}\n", 1)[0] == render_entry(result)

    same()

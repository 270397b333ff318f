"""The rule catalog (``rules/<ID>.yaml``), the check registry, and the lint engine.

Every rule is documented by its YAML file and implemented by a function in
``analyzer/checks/`` registered under the same id. :func:`load_catalog` validates the two
against each other at load: unknown ids, missing implementations, duplicate ids or aliases
and malformed entries raise :class:`CatalogError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Optional

from .lazyre import lazy
from .model import SEVERITIES, SEVERITY_RANK, AnalyzerError, Dockerfile, Finding, ParseError

RULE_ID_RE = lazy(r"^AN\d{4}$")
PARSE_ERROR_RULE = "AN0001"
# Each preset includes the ones before it: a rule in "recommended" is in "strict" and "all".
PRESETS = ("recommended", "strict", "all")


class CatalogError(AnalyzerError):
    pass


@dataclass(frozen=True)
class Example:
    """A rule's documented example, with where it fires."""

    code: str
    line: Optional[int] = None
    column: Optional[int] = None
    config: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Rule:
    """A rule of the catalog, as its YAML file describes it."""

    id: str
    name: str
    severity: str
    summary: str
    rationale: str
    fix: str
    aliases: tuple[str, ...]
    fires: tuple[Example, ...]
    passes: tuple[Example, ...]
    scope: str  # instruction | shell | stage | file
    path: str
    presets: tuple[str, ...] = PRESETS  # the presets that enable the rule


    def matches(self, token: str) -> bool:
        t = token.strip().lower()
        return t == self.id.lower() or any(t == a.lower() for a in self.aliases)


def rules_dir() -> Path:
    here = Path(__file__).resolve().parent
    packaged = here / "_rules"
    if packaged.is_dir():
        return packaged
    return here.parent / "rules"


def _example(raw, path: Path) -> Example:
    if isinstance(raw, str):
        return Example(raw)
    if isinstance(raw, dict) and isinstance(raw.get("code"), str):
        return Example(raw["code"], raw.get("line"), raw.get("column"), raw.get("config") or {})
    raise CatalogError(f"{path.name}: an example must be a string or a mapping with 'code'")


def _load_rule(path: Path) -> Rule:
    import yaml

    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path.name}: invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise CatalogError(f"{path.name}: not a mapping")
    required = ("id", "name", "severity", "summary", "rationale", "fix", "scope", "examples")
    missing = [k for k in required if k not in data]
    if missing:
        raise CatalogError(f"{path.name}: missing {', '.join(missing)}")
    rid = data["id"]
    if not isinstance(rid, str) or not RULE_ID_RE.match(rid):
        raise CatalogError(f"{path.name}: id {rid!r} is not of the form AN0000")
    if path.stem != rid:
        raise CatalogError(f"{path.name}: file name does not match id {rid}")
    if data["severity"] not in SEVERITIES:
        raise CatalogError(f"{path.name}: severity must be one of {', '.join(SEVERITIES)}")
    if data["scope"] not in ("instruction", "shell", "stage", "file"):
        raise CatalogError(f"{path.name}: scope must be instruction, shell, stage or file")
    examples = data["examples"] or {}
    fires = tuple(_example(e, path) for e in examples.get("fire") or ())
    passes = tuple(_example(e, path) for e in examples.get("pass") or ())
    if not fires or not passes:
        raise CatalogError(f"{path.name}: needs at least one 'fire' and one 'pass' example")
    presets = _presets(data.get("presets", list(PRESETS)), path)
    return Rule(
        id=rid,
        name=str(data["name"]),
        severity=data["severity"],
        summary=str(data["summary"]).strip(),
        rationale=str(data["rationale"]).strip(),
        fix=str(data["fix"]).strip(),
        aliases=tuple(str(a) for a in data.get("aliases") or ()),
        fires=fires,
        passes=passes,
        scope=data["scope"],
        path=str(path),
        presets=presets,
    )


def _presets(raw, path: Path) -> tuple[str, ...]:
    """``presets: [strict, all]`` (strict-only) or ``[all]`` (off by default); the
    presets are nested, so the list is completed upwards and must name at least one."""
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw or not all(isinstance(p, str) and p in PRESETS for p in raw):
        raise CatalogError(f"{path.name}: presets must be a non-empty list of {', '.join(PRESETS)}")
    lowest = min(PRESETS.index(p) for p in raw)
    return PRESETS[lowest:]


def _cached_rules(base: Path, paths: list) -> list:
    """The parsed rule files, from ``<cache dir>/catalog-KEY.marshal`` when none of them
    (nor this module) changed since it was written: parsing a hundred YAML files costs
    more than linting a small Dockerfile. Any problem with the cache means parsing."""
    import dataclasses
    import marshal

    try:
        from analyzer.cachedir import cache_root, sha256, unseal

        stamps = [(p.name, st.st_mtime_ns, st.st_size) for p in (*paths, Path(__file__)) for st in (p.stat(),)]
        shape = (tuple(f.name for f in dataclasses.fields(Rule)), tuple(f.name for f in dataclasses.fields(Example)))
        key = sha256(repr((str(base), stamps, shape)).encode("utf-8", "surrogateescape")).hexdigest()[:20]
        cache = cache_root() / f"catalog-{key}.marshal"
        with open(cache, "rb") as fh:
            rows = marshal.loads(unseal(fh.read()))  # TypeError when damaged (checksum)
        return [_rule_from_row(row) for row in rows]
    except (OSError, ValueError, EOFError, TypeError, KeyError, AttributeError):
        pass
    rules = [_load_rule(p) for p in paths]
    try:
        from analyzer.cachedir import not_writable, seal, warn, write_atomic

        rows = [{**dataclasses.asdict(r), "fires": [dataclasses.astuple(e) for e in r.fires], "passes": [dataclasses.astuple(e) for e in r.passes]} for r in rules]
        data = seal(marshal.dumps(rows))
        try:
            write_atomic(cache, data)
        except OSError as exc:
            warn(not_writable(cache.parent, exc))
            return rules
        for old in cache.parent.glob("catalog-*.marshal"):
            if old != cache:
                old.unlink(missing_ok=True)
    except (OSError, ValueError, NameError):
        pass
    return rules


def _rule_from_row(row: dict) -> Rule:
    fields = dict(row)
    for key in ("fires", "passes"):
        fields[key] = tuple(Example(*e) for e in row[key])
    for key in ("aliases", "presets"):
        fields[key] = tuple(row[key])
    return Rule(**fields)


@lru_cache(maxsize=None)
def load_catalog(directory: Optional[str] = None) -> dict[str, Rule]:
    """All rules by id, validated against the registered checks."""
    from analyzer.checks import registered

    base = Path(directory) if directory else rules_dir()
    if not base.is_dir():
        raise CatalogError(f"rule catalog not found at {base}")
    rules: dict[str, Rule] = {}
    seen_alias: dict[str, str] = {}
    paths = sorted(base.glob("*.yaml"))
    for rule in _cached_rules(base, paths) if directory is None else map(_load_rule, paths):
        if rule.id in rules:
            raise CatalogError(f"duplicate rule id {rule.id}")
        for alias in rule.aliases:
            key = alias.lower()
            # a BuildKit check may cover several of our rules; a hadolint code maps to one
            if key in seen_alias and re.match(r"^(dl|sc)\d+$", key):
                raise CatalogError(f"alias {alias} used by {seen_alias[key]} and {rule.id}")
            seen_alias[key] = rule.id
        rules[rule.id] = rule
    checks = registered()
    no_check = sorted(set(rules) - set(checks))
    no_doc = sorted(set(checks) - set(rules))
    if no_check:
        raise CatalogError(f"rules without an implementation: {', '.join(no_check)}")
    if no_doc:
        raise CatalogError(f"checks without a rules/ entry: {', '.join(no_doc)}")
    return rules


def resolve_ids(tokens: Iterable[str], catalog: dict[str, Rule]) -> set[str]:
    """Rule ids named by ids or aliases (``DL3008``, ``JSONArgsRecommended``)."""
    out = set()
    for token in tokens:
        t = token.strip()
        if not t:
            continue
        for rule in catalog.values():
            if rule.matches(t):
                out.add(rule.id)
    return out


# --- pragmas ---------------------------------------------------------------------------

_PRAGMA_RE = lazy(
    # ``ids`` keeps the blanks around the list (``_ids`` drops them): a lazy group followed by
    # ``\s*$`` would make a long line of blanks take quadratic time
    r"^\s*(?P<tool>hadolint|analyze)\s+(?:(?P<scope>global|stage)\s+)?ignore\s*=(?P<ids>[A-Za-z0-9_,\s-]+)$",
    re.IGNORECASE,
)
_SHELL_PRAGMA_RE = lazy(r"^\s*(?:hadolint|analyze)\s+shell\s*=\s*(?P<shell>\S+)\s*$", re.IGNORECASE)


@dataclass
class Suppressions:
    """The ignore pragmas and check directives of one Dockerfile."""

    global_ids: set = field(default_factory=set)
    ranges: list = field(default_factory=list)  # (first_line, last_line, ids)
    skip_all_checks: bool = False  # BuildKit ``# check=skip=all``
    shell: Optional[str] = None

    def suppressed(self, finding: Finding) -> bool:
        if not (self.global_ids or self.ranges or self.skip_all_checks):
            return False  # a file without pragmas or a check directive (most files)
        tokens = {finding.rule.lower(), *(a.lower() for a in finding.aliases)}
        if tokens & self.global_ids:
            return True
        if self.skip_all_checks and any(a[:1].isupper() and not a.startswith("DL") for a in finding.aliases):
            return True
        for first, last, ids in self.ranges:
            if first <= finding.line <= last and tokens & ids:
                return True
        return False


def _ids(text: str) -> set[str]:
    return {t.strip().lower() for t in re.split(r"[,\s]+", text) if t.strip()}


def scan_suppressions(df: Dockerfile) -> Suppressions:
    sup = Suppressions()
    check = df.directive("check")
    if check is not None:
        for part in check.value.split(";"):
            key, _, value = part.partition("=")
            if key.strip().lower() == "skip":
                ids = _ids(value)
                if "all" in ids:
                    sup.skip_all_checks = True
                sup.global_ids |= ids - {"all"}
    for comment in df.comments:
        m = _PRAGMA_RE.match(comment.text)
        if m and (m.group("scope") or "").lower() == "global":
            sup.global_ids |= _ids(m.group("ids"))
        s = _SHELL_PRAGMA_RE.match(comment.text)
        if s:
            sup.shell = s.group("shell")
    stage_ends = {}
    for i, stage in enumerate(df.stages):
        nxt = df.stages[i + 1].from_instruction.start_line - 1 if i + 1 < len(df.stages) else len(df.lines)
        stage_ends[stage.from_instruction.index] = nxt
    for ins in df.instructions:
        for comment in ins.comments:
            m = _PRAGMA_RE.match(comment.text)
            if not m:
                continue
            scope = (m.group("scope") or "").lower()
            ids = _ids(m.group("ids"))
            if scope == "stage" and ins.keyword == "FROM":
                sup.ranges.append((ins.start_line, stage_ends.get(ins.index, len(df.lines)), ids))
            elif scope == "":
                sup.ranges.append((ins.start_line, ins.end_line, ids))
    return sup


# --- the engine ------------------------------------------------------------------------


@dataclass(frozen=True)
class LintOptions:
    """How to lint: rules ignored, severities, build args and per-rule options."""

    ignore: frozenset = frozenset()  # rule ids (already resolved from aliases)
    severity: tuple = ()  # ((rule id, severity or "off"), ...)
    build_args: tuple = ()  # ((name, value), ...)
    rule_options: tuple = ()  # ((rule id, {option: value}), ...)
    enabled: Optional[frozenset] = None  # rule ids to run (from preset/select); None: every rule

    def severity_of(self, rule: Rule) -> str:
        for rid, level in self.severity:
            if rid == rule.id:
                return level
        return rule.severity

    def options_for(self, rid: str) -> dict:
        for r, opts in self.rule_options:
            if r == rid:
                return dict(opts)
        return {}

    def option(self, rid: str, name: str, default=None):
        """One option of rule ``rid`` (what ``options_for(rid).get(name, default)`` gives,
        from a table made once: checks ask for every file)."""
        table = self.__dict__.get("_option_table")
        if table is None:
            table = self.__dict__["_option_table"] = {}
            for r, opts in self.rule_options:
                table.setdefault(r, dict(opts))  # the first entry for a rule, as options_for
        return table.get(rid, _NO_OPTIONS).get(name, default)


_NO_OPTIONS: dict = {}


def parse_error_finding(error: ParseError, path: str) -> Finding:
    return Finding(
        rule=PARSE_ERROR_RULE,
        severity="error",
        message=error.message,
        line=error.line,
        column=error.column,
        end_line=error.line,
        end_column=error.column + 1,
        path=path,
        aliases=(),
        name="parse-error",
    )


def lint(df: Dockerfile, options: LintOptions = LintOptions(), catalog: Optional[dict] = None, lineage=None) -> list[Finding]:
    """Run every enabled rule on a parsed Dockerfile; findings sorted by position.

    ``lineage`` (an analyzer.lineage.analysis.LineageResult) feeds the rules that need the
    base images' contents; without it they stay silent."""
    from analyzer.checks import Context

    catalog = catalog if catalog is not None else load_catalog()
    sup = scan_suppressions(df)
    ctx = Context(df, options, shell_pragma=sup.shell)
    ctx.lineage = lineage
    error_mode = _check_error_mode(df)
    findings: list[Finding] = []
    seen = set()
    present = ctx.keywords
    names = None  # the names the RUNs call, when a gate asks
    for rid, rule, severity, buildkit, run_check, gate in _rules_to_run(options, catalog):
        if gate is not None:  # Context.may_find, inline: nothing in this file the check looks at
            keywords, commands = gate
            if keywords is not None and present.isdisjoint(keywords):
                continue
            if commands is not None:
                if names is None:
                    names = ctx.command_names()
                if names.isdisjoint(commands):
                    continue
        if error_mode and buildkit:
            severity = "error"
        ctx.current_rule = rid
        for hit in run_check(ctx):
            pos = hit.position
            key = (rid, pos.line, pos.column, hit.message)
            if key in seen:
                continue
            seen.add(key)
            # (rule, severity, message, line, column, end_line, end_column, path, aliases, name)
            finding = Finding(
                rid, severity, hit.message, pos.line, pos.column, pos.end_line, pos.end_column, df.path, rule.aliases, rule.name
            )
            if not sup.suppressed(finding):
                findings.append(finding)
    findings.sort(key=lambda f: (f.line, f.column, f.rule))
    return _secrets_masked(findings, ctx)


def _secrets_masked(findings: list[Finding], ctx) -> list[Finding]:
    """A message that quotes an expanded value (``USER $DB_PASSWORD``, ``EXPOSE $X``) shows
    ``***`` for the value of a variable whose name looks secret (analyzer.report.redact)."""
    if not findings:
        return findings
    from dataclasses import replace

    from analyzer.report.redact import Redactor

    names = [a.split("=", 1)[0] for ins in ctx.df.instructions if ins.keyword == "ARG" for a in ins.args]
    names += [ins.args[i] for ins in ctx.df.instructions if ins.keyword == "ENV" for i in range(0, len(ins.args), 2)]
    redactor = Redactor.of_secret_names(ctx.__dict__.get("resolution"), ctx.options.build_args, names)
    if not redactor.values:
        return findings
    return [replace(f, message=redactor.values_text(f.message)) if any(v in f.message for v in redactor.values) else f for f in findings]


def _rules_to_run(options: LintOptions, catalog: dict) -> list:
    """``(id, rule, severity, is a BuildKit check, its check function, what it needs in a
    file or None)`` of every rule ``options`` enables, worked out once per options and
    catalog (kept on the options object, which never changes)."""
    plans = options.__dict__.setdefault("_plans", {})
    plan = plans.get(id(catalog))
    if plan is None or plan[0] is not catalog:
        from analyzer.checks import needs, registered

        checks = registered()
        rows = []
        for rid, rule in catalog.items():
            if rid in options.ignore or rid == PARSE_ERROR_RULE:
                continue
            if options.enabled is not None and rid not in options.enabled:
                continue
            severity = options.severity_of(rule)
            if severity == "off":
                continue
            gate = needs(rid)
            rows.append((rid, rule, severity, any(_is_buildkit_alias(a) for a in rule.aliases), checks[rid], gate if gate != (None, None) else None))
        plan = plans[id(catalog)] = (catalog, rows)
    return plan[1]


def _is_buildkit_alias(alias: str) -> bool:
    return bool(alias) and alias[0].isupper() and not re.match(r"^(DL|SC)\d", alias)


def _check_error_mode(df: Dockerfile) -> bool:
    check = df.directive("check")
    if check is None:
        return False
    for part in check.value.split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() == "error" and value.strip().lower() == "true":
            return True
    return False


def at_or_above(findings: Iterable[Finding], threshold: str) -> bool:
    if threshold == "none":
        return False
    limit = SEVERITY_RANK[threshold]
    return any(SEVERITY_RANK.get(f.severity, 3) >= limit for f in findings)


def lint_text(text: str, options: LintOptions = LintOptions(), path: str = "Dockerfile", catalog: Optional[dict] = None, lineage: str = "builtin") -> list[Finding]:
    """Parse and lint text; a parse error comes back as an AN0001 finding.

    ``lineage="builtin"`` resolves base images from built-in knowledge only (no network, no
    cache); ``None`` skips lineage."""
    from analyzer.parse import parse

    try:
        df = parse(text, path)
    except ParseError as exc:
        return [parse_error_finding(exc, path)]
    result = None
    if lineage == "builtin":
        from analyzer.lineage.session import analyze_file, builtin_resolver

        result = analyze_file(df, builtin_resolver(), build_args=dict(options.build_args))
    return lint(df, options, catalog, result)

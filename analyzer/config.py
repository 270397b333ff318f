"""Configuration discovery and merging.

Discovery order, first found wins (the file is not merged with others):

1. ``--config FILE``;
2. walking up from the analysed file's directory: ``.analyze.yaml`` or ``.analyze.yml``,
   then ``pyproject.toml`` with a ``[tool.analyze]`` table, in each directory;
3. the user config dir: ``<user config dir>/analyze/config.yaml``.

Command-line options override the file: ``--ignore`` adds to its ignore list,
``--failure-threshold`` replaces its threshold.

Keys (hadolint's spellings are accepted too, so a ``.hadolint.yaml`` can be reused):

``ignore`` / ``ignored``: rule ids or aliases to skip.
``severity``: mapping of rule id or alias to ``error|warning|info|style|off``.
``override``: hadolint's form, ``{error: [ids], warning: [ids], info: [ids], style: [ids]}``.
``failure-threshold``: ``error|warning|info|style|none``.
``rules``: mapping of rule id to ``{severity: ..., options: {...}}``.
``catalog``: path of an image catalog (relative to the config file).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .model import SEVERITIES, AnalyzerError

THRESHOLDS = (*SEVERITIES, "none")
KNOWN_KEYS = {
    "ignore", "ignored", "severity", "override", "failure-threshold", "failure_threshold",
    "rules", "catalog", "trustedRegistries", "trusted-registries", "label-schema", "label_schema",
    "strict-labels", "no-fail", "no-color", "format", "output-format",
}


class ConfigError(AnalyzerError):
    pass


@dataclass(frozen=True)
class Config:
    path: Optional[str] = None
    ignore: tuple[str, ...] = ()
    severity: tuple[tuple[str, str], ...] = ()  # (id or alias, level)
    failure_threshold: Optional[str] = None
    rule_options: tuple[tuple[str, dict], ...] = ()
    catalog: Optional[str] = None
    extra: dict = field(default_factory=dict, hash=False, compare=False)


def _user_config_file() -> Optional[Path]:
    try:
        from platformdirs import user_config_dir
    except ImportError:  # pragma: no cover
        return None
    return Path(user_config_dir("analyze")) / "config.yaml"


def discover(start: Optional[str]) -> Optional[Path]:
    """The config file that applies to a Dockerfile at ``start`` (a path), if any."""
    if start and start != "-":
        here = Path(start).resolve()
        directory = here if here.is_dir() else here.parent
    else:
        directory = Path.cwd().resolve()
    for d in (directory, *directory.parents):
        for name in (".analyze.yaml", ".analyze.yml"):
            candidate = d / name
            if candidate.is_file():
                return candidate
        pyproject = d / "pyproject.toml"
        if pyproject.is_file() and _pyproject_table(pyproject) is not None:
            return pyproject
    user = _user_config_file()
    if user is not None and user.is_file():
        return user
    return None


def _pyproject_table(path: Path) -> Optional[dict]:
    try:
        import tomllib  # type: ignore[import-not-found]
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    table = data.get("tool", {}).get("analyze")
    return table if isinstance(table, dict) else None


def load(path: Path) -> Config:
    """Read and validate one config file."""
    if path.name == "pyproject.toml":
        data = _pyproject_table(path) or {}
    else:
        import yaml

        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read: {exc}") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise ConfigError(f"{path}: invalid YAML{where}") from None
        if data is None:
            data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the configuration must be a mapping")
    return from_mapping(data, str(path))


def _id_list(value, key: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [v for v in value.replace(",", " ").split()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: '{key}' must be a list of rule ids")
    return tuple(value)


def _level(value, key: str, where: str, allowed=(*SEVERITIES, "off")) -> str:
    if not isinstance(value, str) or value.lower() not in allowed:
        raise ConfigError(f"{where}: '{key}' must be one of {', '.join(allowed)}")
    return value.lower()


def from_mapping(data: dict, where: str = "config") -> Config:
    unknown = sorted(set(map(str, data)) - KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s): {', '.join(unknown)}")
    ignore = _id_list(data.get("ignore"), "ignore", where) + _id_list(data.get("ignored"), "ignored", where)
    severity: list[tuple[str, str]] = []
    sev = data.get("severity") or {}
    if not isinstance(sev, dict):
        raise ConfigError(f"{where}: 'severity' must map rule ids to levels")
    for rid, level in sev.items():
        severity.append((str(rid), _level(level, f"severity.{rid}", where)))
    override = data.get("override") or {}
    if not isinstance(override, dict):
        raise ConfigError(f"{where}: 'override' must map levels to lists of rule ids")
    for level, ids in override.items():
        lvl = _level(level, "override", where)
        for rid in _id_list(ids, f"override.{level}", where):
            severity.append((rid, lvl))
    rule_options = []
    rules = data.get("rules") or {}
    if not isinstance(rules, dict):
        raise ConfigError(f"{where}: 'rules' must map rule ids to settings")
    for rid, settings in rules.items():
        if not isinstance(settings, dict):
            raise ConfigError(f"{where}: 'rules.{rid}' must be a mapping")
        if "severity" in settings:
            severity.append((str(rid), _level(settings["severity"], f"rules.{rid}.severity", where)))
        opts = settings.get("options") or {}
        if not isinstance(opts, dict):
            raise ConfigError(f"{where}: 'rules.{rid}.options' must be a mapping")
        rule_options.append((str(rid), opts))
    threshold = data.get("failure-threshold", data.get("failure_threshold"))
    if threshold is not None:
        threshold = _level(threshold, "failure-threshold", where, THRESHOLDS)
    catalog = data.get("catalog")
    if catalog is not None:
        if not isinstance(catalog, str):
            raise ConfigError(f"{where}: 'catalog' must be a path")
        if where not in ("config",) and not os.path.isabs(catalog):
            catalog = str(Path(where).parent / catalog)
    return Config(
        path=None if where == "config" else where,
        ignore=ignore,
        severity=tuple(severity),
        failure_threshold=threshold,
        rule_options=tuple(rule_options),
        catalog=catalog,
        extra={k: v for k, v in data.items() if k in ("trustedRegistries", "trusted-registries", "label-schema", "label_schema", "strict-labels")},
    )


def lint_options(config: Config, catalog: dict, extra_ignore=(), build_args=()):
    """Turn a Config (plus command-line additions) into engine options."""
    from .rules import LintOptions, resolve_ids

    unknown = [t for t in (*config.ignore, *extra_ignore, *(s for s, _ in config.severity)) if not resolve_ids([t], catalog)]
    if unknown:
        raise ConfigError(f"unknown rule id or alias: {', '.join(sorted(set(unknown)))}")
    ignore = frozenset(resolve_ids((*config.ignore, *extra_ignore), catalog))
    severity = []
    for token, level in config.severity:
        for rid in sorted(resolve_ids([token], catalog)):
            severity.append((rid, level))
    # later entries win: reverse so severity_of's first match is the last written
    severity.reverse()
    options = []
    for token, opts in config.rule_options:
        for rid in resolve_ids([token], catalog):
            options.append((rid, opts))
    return LintOptions(
        ignore=ignore,
        severity=tuple(severity),
        build_args=tuple(build_args),
        rule_options=tuple(options),
    )

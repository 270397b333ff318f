"""Configuration discovery and merging.

Discovery order, first found wins (the file is not merged with others):

1. ``--config FILE``;
2. walking up from the analysed file's directory (the current directory for stdin):
   ``.analyze.yaml`` or ``.analyze.yml``, then ``pyproject.toml`` with a ``[tool.analyze]``
   table, in each directory, nearest directory first;
3. the user config dir: ``<user config dir>/analyze/config.yaml``
   (``~/.config/analyze/config.yaml`` on Linux).

Command-line options override the file: ``--ignore`` adds to its ignore list,
``--failure-threshold`` replaces its threshold, ``--preset`` replaces its preset and its
``select``, ``--select`` replaces both.

Keys (hadolint's spellings are accepted too, so a ``.hadolint.yaml`` can be reused; the
JSON schema ``analyzer/config.schema.json`` describes the same keys):

``preset``: ``recommended`` (default), ``strict`` or ``all``. A rule's catalog entry says
    which presets enable it (``presets:`` in ``rules/<ID>.yaml``).
``select``: rule ids or aliases to run instead of the preset's rules (an allowlist).
``extend-select``: rule ids or aliases to run on top of the preset's rules.
``ignore`` / ``ignored``: rule ids or aliases to skip.
``severity``: mapping of rule id or alias to ``error|warning|info|style|off``.
``override``: hadolint's form, ``{error: [ids], warning: [ids], info: [ids], style: [ids]}``.
``failure-threshold``: ``error|warning|info|style|none``.
``rules``: mapping of rule id or alias to ``{severity: ..., options: {...}}``.
``per-path``: list of ``{paths: [glob, ...], ignore: [ids]}``; globs are relative to the
    config file's directory (``*`` within a name, ``**`` across directories, a pattern
    without ``/`` matches a file or directory name anywhere, a directory matches all below).
``trusted-registries`` / ``trustedRegistries``: registries FROM may pull from (the
    ``allowed-registries`` option of the rule aliased DL3026).
``label-schema``: mapping of label name to ``text|url|semver|hash|rfc3339|spdx|email``, and
    ``strict-labels``: true/false (the ``label-schema`` and ``strict-labels`` options of the
    rules aliased DL3049 to DL3058).
``catalog``: path of an image catalog (relative to the config file).
``no-fail``, ``no-color``, ``format``, ``output-format``: hadolint keys, accepted and unused.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .model import SEVERITIES, AnalyzerError

THRESHOLDS = (*SEVERITIES, "none")
PRESETS = ("recommended", "strict", "all")
DEFAULT_PRESET = "recommended"
LABEL_TYPES = ("text", "url", "semver", "hash", "rfc3339", "spdx", "email")
TRUSTED_REGISTRY_ALIASES = ("DL3026",)
LABEL_ALIASES = tuple(f"DL{n}" for n in range(3049, 3059))
KNOWN_KEYS = {
    "preset", "select", "extend-select", "ignore", "ignored", "severity", "override",
    "failure-threshold", "failure_threshold", "rules", "per-path", "catalog",
    "trustedRegistries", "trusted-registries", "label-schema", "label_schema", "strict-labels",
    "no-fail", "no-color", "format", "output-format",
}


class ConfigError(AnalyzerError):
    pass


@dataclass(frozen=True)
class PathRule:
    """One ``per-path`` entry: ids to ignore in the files its globs match."""

    patterns: tuple[str, ...]
    ignore: tuple[str, ...]
    base: str  # the directory the globs are relative to

    def matches(self, path: str) -> bool:
        candidates = _relative_forms(path, self.base)
        return any(_glob_regex(p).match(c) for p in self.patterns for c in candidates)


@dataclass(frozen=True)
class Config:
    """A configuration file's settings."""

    path: Optional[str] = None
    ignore: tuple[str, ...] = ()
    severity: tuple[tuple[str, str], ...] = ()  # (id or alias, level)
    failure_threshold: Optional[str] = None
    rule_options: tuple[tuple[str, dict], ...] = ()
    catalog: Optional[str] = None
    extra: dict = field(default_factory=dict, hash=False, compare=False)
    preset: Optional[str] = None
    select: Optional[tuple[str, ...]] = None
    extend_select: tuple[str, ...] = ()
    per_path: tuple[PathRule, ...] = ()
    trusted_registries: Optional[tuple[str, ...]] = None
    label_schema: Optional[tuple[tuple[str, str], ...]] = None
    strict_labels: Optional[bool] = None


# --- discovery -------------------------------------------------------------------------


def _user_config_file() -> Optional[Path]:
    from analyzer.cachedir import user_dir

    return user_dir("config") / "config.yaml"


def _start_directory(start: Optional[str]) -> Path:
    if start and start != "-":
        here = Path(os.path.realpath(start))  # never raises, even for a symlink loop
        return here if here.is_dir() else here.parent
    return Path.cwd().resolve()


def _in_directory(d: Path) -> Optional[Path]:
    # plain strings for the look (every directory of a batch is looked at), a Path for a find
    from analyzer.files import is_file as _is_file

    base = str(d)
    for name in (".analyze.yaml", ".analyze.yml"):
        if _is_file(os.path.join(base, name)):
            return d / name
    if _is_file(os.path.join(base, "pyproject.toml")):
        pyproject = d / "pyproject.toml"
        if _pyproject_table(pyproject) is not None:
            return pyproject
    return None


def discover(start: Optional[str]) -> Optional[Path]:
    """The config file that applies to a Dockerfile at ``start`` (a path), if any."""
    directory = _start_directory(start)
    for d in (directory, *directory.parents):
        found = _in_directory(d)
        if found is not None:
            return found
    user = _user_config_file()
    if user is not None and user.is_file():
        return user
    return None


class Discovery:
    """:func:`discover` and :func:`load` for many files, each directory looked at once
    (directories as real-path strings: every file of a batch asks)."""

    def __init__(self):
        self._by_dir: dict[str, Optional[Path]] = {}
        self._real_dirs: dict[str, str] = {}
        self._loaded: dict[Path, Config] = {}
        self._user: Optional[Path] = None
        self._user_known = False
        self._default = Config()

    def _find(self, directory: str) -> Optional[Path]:
        by_dir = self._by_dir
        if directory in by_dir:  # the common case: a directory seen before
            return by_dir[directory]
        walked = []
        found: Optional[Path] = None
        d = directory
        while True:
            if d in by_dir:
                found = by_dir[d]
                break
            walked.append(d)
            found = _in_directory(Path(d))
            if found is not None:
                break
            parent = os.path.dirname(d)
            if parent == d:  # the root: nothing on the way up
                if not self._user_known:
                    user = _user_config_file()
                    self._user = user if user is not None and user.is_file() else None
                    self._user_known = True
                found = self._user
                break
            d = parent
        for d in walked:
            by_dir[d] = found
        return found

    def _real_dir(self, d: str) -> str:
        """``os.path.realpath(d)``, from its parent's when ``d`` itself is no symbolic link."""
        found = self._real_dirs.get(d)
        if found is None:
            head, tail = os.path.split(d)
            if not head or not tail or tail in (".", "..") or head == d:
                found = os.path.realpath(d)
            else:
                try:
                    link = stat.S_ISLNK(os.lstat(d).st_mode)
                except (OSError, ValueError):
                    link = True  # realpath says what it is
                found = os.path.realpath(d) if link else os.path.join(self._real_dir(head), tail)
            self._real_dirs[d] = found
        return found

    def _directory_of(self, start: Optional[str]) -> str:
        """:func:`_start_directory` as a string, with the real path of each containing
        directory worked out once: a file that is neither a directory nor a symbolic link
        is in the real directory of its parent."""
        if not start or start == "-":
            return str(_start_directory(start))
        try:
            mode = os.lstat(start).st_mode
        except (OSError, ValueError):
            return str(_start_directory(start))
        if stat.S_ISDIR(mode) or stat.S_ISLNK(mode):
            return str(_start_directory(start))
        return self._real_dir(os.path.dirname(start) or ".")

    def config_for(self, start: Optional[str]) -> Config:
        found = self._find(self._directory_of(start))
        if found is None:
            return self._default
        if found not in self._loaded:
            self._loaded[found] = load(found)
        return self._loaded[found]


# --- reading ----------------------------------------------------------------------------


MAX_CONFIG_BYTES = 1 << 20


def _read_config(path: Path) -> str:
    """The text of a config file; a FIFO or device is refused, not read (no hang)."""
    from analyzer.files import read_regular

    try:
        data = read_regular(path, MAX_CONFIG_BYTES + 1)
    except AnalyzerError as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES:,} bytes")
    return data.decode("utf-8")


def _pyproject_table(path: Path) -> Optional[dict]:
    try:
        import tomllib  # type: ignore[import-not-found]
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        data = tomllib.loads(_read_config(path))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    table = data.get("tool", {}).get("analyze")
    return table if isinstance(table, dict) else None


def load(path: Path) -> Config:
    """Read and validate one config file."""
    path = Path(path)
    if path.name == "pyproject.toml":
        data = _pyproject_table(path) or {}
    else:
        import yaml

        try:
            text = _read_config(path)
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: cannot read: {exc}") from None
        try:
            data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
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
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where}: '{key}' must be a list of rule ids")
    return tuple(value)


def _level(value, key: str, where: str, allowed=(*SEVERITIES, "off")) -> str:
    if value is False and "off" in allowed:  # YAML 1.1 reads a bare off as false
        return "off"
    if not isinstance(value, str) or value not in allowed:
        raise ConfigError(f"{where}: '{key}' must be one of {', '.join(allowed)}")
    return value


def _string_list(value, key: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where}: '{key}' must be a list of strings")
    return tuple(value)


def _per_path(value, where: str, base: str) -> tuple[PathRule, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: 'per-path' must be a list of {{paths: [...], ignore: [...]}}")
    out = []
    for i, entry in enumerate(value):
        key = f"per-path[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: '{key}' must be a mapping with 'paths' and 'ignore'")
        unknown = sorted(set(map(str, entry)) - {"paths", "ignore"})
        if unknown:
            raise ConfigError(f"{where}: '{key}': unknown key(s): {', '.join(unknown)}")
        if "paths" not in entry or "ignore" not in entry:
            raise ConfigError(f"{where}: '{key}' needs 'paths' and 'ignore'")
        paths = entry["paths"]
        if isinstance(paths, str):
            paths = [paths]
        patterns = _string_list(paths, f"{key}.paths", where)
        if not patterns:
            raise ConfigError(f"{where}: '{key}.paths' must not be empty")
        out.append(PathRule(patterns, _id_list(entry["ignore"], f"{key}.ignore", where), base))
    return tuple(out)


def from_mapping(data: dict, where: str = "config") -> Config:
    unknown = sorted(set(map(str, data)) - KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s): {', '.join(unknown)}")
    base = os.getcwd() if where == "config" else str(Path(where).resolve().parent)
    ignore = _id_list(data.get("ignore"), "ignore", where) + _id_list(data.get("ignored"), "ignored", where)
    preset = data.get("preset")
    if preset is not None and preset not in PRESETS:
        raise ConfigError(f"{where}: 'preset' must be one of {', '.join(PRESETS)}")
    select = None
    if data.get("select") is not None:
        select = _id_list(data["select"], "select", where)
    extend_select = _id_list(data.get("extend-select"), "extend-select", where)
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
        unknown = sorted(set(map(str, settings)) - {"severity", "options"})
        if unknown:
            raise ConfigError(f"{where}: 'rules.{rid}': unknown key(s): {', '.join(unknown)}")
        if "severity" in settings:
            severity.append((str(rid), _level(settings["severity"], f"rules.{rid}.severity", where)))
        opts = settings.get("options")
        opts = {} if opts is None else opts
        if not isinstance(opts, dict):
            raise ConfigError(f"{where}: 'rules.{rid}.options' must be a mapping")
        rule_options.append((str(rid), opts))
    per_path = _per_path(data["per-path"], where, base) if data.get("per-path") is not None else ()
    threshold = data.get("failure-threshold", data.get("failure_threshold"))
    if threshold is not None:
        threshold = _level(threshold, "failure-threshold", where, THRESHOLDS)
    catalog = data.get("catalog")
    if catalog is not None:
        if not isinstance(catalog, str):
            raise ConfigError(f"{where}: 'catalog' must be a path")
        if where not in ("config",) and not os.path.isabs(catalog):
            catalog = str(Path(where).parent / catalog)
    trusted = None
    for key in ("trusted-registries", "trustedRegistries"):
        if data.get(key) is not None:
            trusted = (trusted or ()) + _string_list(data[key], key, where)
    label_schema = None
    for key in ("label-schema", "label_schema"):
        schema = data.get(key)
        if schema is None:
            continue
        if not isinstance(schema, dict):
            raise ConfigError(f"{where}: '{key}' must map label names to types")
        pairs = []
        for label, kind in schema.items():
            if not isinstance(kind, str) or kind not in LABEL_TYPES:
                raise ConfigError(f"{where}: '{key}.{label}' must be one of {', '.join(LABEL_TYPES)}")
            pairs.append((str(label), kind))
        label_schema = (label_schema or ()) + tuple(pairs)
    strict_labels = data.get("strict-labels")
    if strict_labels is not None and not isinstance(strict_labels, bool):
        raise ConfigError(f"{where}: 'strict-labels' must be true or false")
    for key in ("no-fail", "no-color"):
        if data.get(key) is not None and not isinstance(data[key], bool):
            raise ConfigError(f"{where}: '{key}' must be true or false")
    for key in ("format", "output-format"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise ConfigError(f"{where}: '{key}' must be a string")
    return Config(
        path=None if where == "config" else where,
        ignore=ignore,
        severity=tuple(severity),
        failure_threshold=threshold,
        rule_options=tuple(rule_options),
        catalog=catalog,
        extra={k: v for k, v in data.items() if k in ("trustedRegistries", "trusted-registries", "label-schema", "label_schema", "strict-labels")},
        preset=preset,
        select=select,
        extend_select=extend_select,
        per_path=per_path,
        trusted_registries=trusted,
        label_schema=label_schema,
        strict_labels=strict_labels,
    )


# --- per-path globs ----------------------------------------------------------------------


def _relative_forms(path: str, base: str) -> list[str]:
    """The path relative to ``base`` (when under it) and as given, with every ancestor
    directory, all with forward slashes: a glob naming a directory covers what is below."""
    forms = []
    absolute = os.path.abspath(path)
    try:
        rel = os.path.relpath(absolute, base)
    except ValueError:  # another drive on Windows
        rel = None
    if rel is not None and rel != os.curdir and not rel.startswith(os.pardir + os.sep) and rel != os.pardir:
        forms.append(rel.replace(os.sep, "/"))
    given = os.path.normpath(path).replace(os.sep, "/")
    if given.startswith("./"):
        given = given[2:]
    if given not in forms:
        forms.append(given)
    out = []
    for form in forms:
        parts = form.split("/")
        out.extend("/".join(parts[: i + 1]) for i in range(len(parts)))
    return out


_GLOB_CACHE: dict[str, "re.Pattern[str]"] = {}


def _glob_regex(pattern: str) -> "re.Pattern[str]":
    cached = _GLOB_CACHE.get(pattern)
    if cached is not None:
        return cached
    pat = pattern.replace("\\", "/")
    if pat.startswith("./"):
        pat = pat[2:]
    pat = pat.rstrip("/") or "**"
    anywhere = "/" not in pat
    out = []
    i = 0
    while i < len(pat):
        c = pat[i]
        if pat.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pat.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = pat.find("]", i + 2)
            if end == -1:
                out.append(re.escape(c))
                i += 1
            else:
                body = pat[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    regex = "".join(out)
    if anywhere:
        regex = "(?:.*/)?" + regex
    compiled = re.compile(regex + r"\Z", re.DOTALL)
    _GLOB_CACHE[pattern] = compiled
    return compiled


# --- to engine options ---------------------------------------------------------------------


def _resolve(tokens, catalog: dict, what: str) -> set[str]:
    from analyzer.rules import resolve_ids

    unknown = [t for t in tokens if not resolve_ids([t], catalog)]
    if unknown:
        raise ConfigError(f"unknown rule id or alias{' in ' + what if what else ''}: {', '.join(sorted(set(unknown)))}")
    return resolve_ids(tokens, catalog)


def _ids_with_alias(catalog: dict, aliases) -> list[str]:
    wanted = {a.lower() for a in aliases}
    return [rid for rid, rule in catalog.items() if wanted & {a.lower() for a in rule.aliases}]


def lint_options(
    config: Config,
    catalog: dict,
    extra_ignore=(),
    build_args=(),
    *,
    preset: Optional[str] = None,
    select=None,
    path: Optional[str] = None,
):
    """Turn a Config (plus command-line additions) into engine options for the file at
    ``path`` (which picks the ``per-path`` entries that apply).

    The rules that run: ``select`` from the command line, else ``--preset``, else the
    file's ``select``, else the file's ``preset`` (default ``recommended``); then the
    file's ``extend-select`` is added and every ``ignore`` removed."""
    if preset is not None and preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r} (choose from {', '.join(PRESETS)})")
    _resolve([t for t in (*config.ignore, *extra_ignore)], catalog, "")
    _resolve([s for s, _ in config.severity], catalog, "")
    per_path_ignore: list[str] = []
    for rule in config.per_path:
        _resolve(rule.ignore, catalog, "per-path")
        if path is not None and path != "-" and rule.matches(path):
            per_path_ignore.extend(rule.ignore)
    ignore = frozenset(_resolve((*config.ignore, *extra_ignore, *per_path_ignore), catalog, ""))

    select = tuple(select) if select else None
    if select is not None:
        enabled = _resolve(select, catalog, "--select")
    elif preset is not None:
        enabled = {rid for rid, rule in catalog.items() if preset in rule.presets}
    elif config.select is not None:
        enabled = _resolve(config.select, catalog, "select")
    else:
        chosen = config.preset or DEFAULT_PRESET
        enabled = {rid for rid, rule in catalog.items() if chosen in rule.presets}
    if config.extend_select:
        enabled |= _resolve(config.extend_select, catalog, "extend-select")

    severity = []
    for token, level in config.severity:
        for rid in sorted(_resolve([token], catalog, "")):
            severity.append((rid, level))
    # later entries win: reverse so severity_of's first match is the last written
    severity.reverse()

    merged: dict[str, dict] = {}
    if config.trusted_registries is not None:
        for rid in _ids_with_alias(catalog, TRUSTED_REGISTRY_ALIASES):
            merged.setdefault(rid, {})["allowed-registries"] = list(config.trusted_registries)
    if config.label_schema is not None or config.strict_labels is not None:
        for rid in _ids_with_alias(catalog, LABEL_ALIASES):
            opts = merged.setdefault(rid, {})
            if config.label_schema is not None:
                opts["label-schema"] = dict(config.label_schema)
            if config.strict_labels is not None:
                opts["strict-labels"] = config.strict_labels
    for token, opts in config.rule_options:
        for rid in sorted(_resolve([token], catalog, "rules")):
            merged.setdefault(rid, {}).update(opts)

    from analyzer.rules import LintOptions

    return LintOptions(
        ignore=ignore,
        severity=tuple(severity),
        build_args=tuple(build_args),
        rule_options=tuple(sorted(merged.items())),
        enabled=frozenset(enabled),
    )

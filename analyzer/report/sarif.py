"""SARIF 2.1.0 (OASIS), as GitHub code scanning and IDE viewers read it.

One run; ``tool.driver.rules`` holds the catalog metadata of every rule that has a result,
sorted by id, and each result points at its rule with ``ruleId`` and ``ruleIndex``. Our
severities become SARIF levels: error -> error, warning -> warning, info and style -> note
(the original severity stays in the result's ``properties.severity``). Locations are
relative to the repository root (the git top-level, else the current directory); regions
are 1-based with an exclusive end column, as SARIF defines them.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Optional

from .jsonio import dumps
from .paths import artifact_uri, clean, repo_root, to_bytes

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
TOOL_NAME = "analyze"
LEVELS = {"error": "error", "warning": "warning", "info": "note", "style": "note"}
FINGERPRINT_KEY = "analyzeFinding/v1"


def _fence(code: str) -> str:
    longest = run = 0
    for ch in code:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


def _help(rule) -> dict:
    aliases = ", ".join(rule.aliases)
    text = f"{rule.summary}\n\n{rule.rationale}\n\nFix: {rule.fix}"
    if aliases:
        text += f"\n\nAliases: {aliases}"
    parts = [f"**{rule.summary}**", rule.rationale, f"**Fix:** {rule.fix}"]
    if rule.aliases:
        parts.append("Aliases: " + ", ".join(f"`{a}`" for a in rule.aliases))
    for title, examples in (("Triggers the rule", rule.fires), ("Passes", rule.passes)):
        if examples:
            code = examples[0].code.rstrip("\n")
            fence = _fence(code)
            parts.append(f"{title}:\n\n{fence}dockerfile\n{code}\n{fence}")
    return {"text": clean(text), "markdown": clean("\n\n".join(parts))}


def rule_descriptor(rule) -> dict:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": clean(rule.summary)},
        "fullDescription": {"text": clean(rule.rationale or rule.summary)},
        "help": _help(rule),
        "defaultConfiguration": {"level": LEVELS.get(rule.severity, "warning")},
        "properties": {
            "tags": ["dockerfile", *rule.aliases],
            "aliases": list(rule.aliases),
            "severity": rule.severity,
            "scope": rule.scope,
        },
    }


def _region(f) -> dict:
    line = max(1, f.line)
    column = max(1, f.column)
    end_line = max(line, f.end_line or line)
    end_column = max(1, f.end_column or column)
    if end_line == line:
        end_column = max(column, end_column)
    return {"startLine": line, "startColumn": column, "endLine": end_line, "endColumn": end_column}


def _fingerprint(*parts) -> str:
    digest = hashlib.sha256(to_bytes("\0".join(map(str, parts))))
    return digest.hexdigest()[:32]


def sarif_log(results, *, version: str, catalog: dict, root: Optional[str] = None) -> dict:
    root = root or repo_root()
    referenced = sorted({f.rule for r in results for f in r.findings if f.rule in catalog})
    index = {rid: i for i, rid in enumerate(referenced)}
    out = []
    notifications = []
    for result in results:
        uri = artifact_uri(result.path, root)
        location = {"physicalLocation": {"artifactLocation": {"uri": uri}}}
        if result.error:
            notifications.append(
                {"level": "error", "message": {"text": clean(result.error)}, "locations": [location]}
            )
        seen: Counter = Counter()
        for f in result.findings:
            message = clean(f.message) or f.rule
            occurrence = seen[(f.rule, message)]
            seen[(f.rule, message)] += 1
            entry = {"ruleId": f.rule}
            if f.rule in index:
                entry["ruleIndex"] = index[f.rule]
            entry.update(
                {
                    "level": LEVELS.get(f.severity, "warning"),
                    "message": {"text": message},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": uri},
                                "region": _region(f),
                            }
                        }
                    ],
                    "partialFingerprints": {FINGERPRINT_KEY: _fingerprint(f.rule, uri, message, occurrence)},
                    "properties": {"severity": f.severity},
                }
            )
            out.append(entry)
    invocation = {"executionSuccessful": not notifications}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    driver = {
        "name": TOOL_NAME,
        "version": version or "0",
        "rules": [rule_descriptor(catalog[rid]) for rid in referenced],
    }
    run = {
        "tool": {"driver": driver},
        "invocations": [invocation],
        "columnKind": "unicodeCodePoints",
        "results": out,
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render_sarif(results, *, version: str, catalog: dict, root: Optional[str] = None) -> str:
    return dumps(sarif_log(results, version=version, catalog=catalog, root=root))

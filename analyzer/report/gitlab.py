"""GitLab Code Quality report: a JSON array of Code Climate issues.

Each issue has ``description``, ``check_name``, ``fingerprint`` (unique in the report and
stable across runs: a hash of the path, rule, line, column, message and the occurrence of
that same tuple), ``severity`` and ``location.path`` (repository-relative) with
``location.lines.begin``. Severities: a parse error (AN0001, the build cannot start) is
``blocker``, error ``critical``, warning ``major``, info ``minor``, style ``info``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Optional

from .jsonio import dumps
from .paths import clean, repo_root, report_path, to_bytes

SEVERITIES = {"error": "critical", "warning": "major", "info": "minor", "style": "info"}
BLOCKERS = {"AN0001"}


def _fingerprint(*parts) -> str:
    return hashlib.sha256(to_bytes("\0".join(map(str, parts)))).hexdigest()


def code_quality(results, *, root: Optional[str] = None) -> list[dict]:
    root = root or repo_root()
    issues = []
    seen: Counter = Counter()
    for result in results:
        path = clean(report_path(result.path, root))
        if result.error:
            key = (path, "analyze", 1, 1, result.error)
            issues.append(
                {
                    "type": "issue",
                    "check_name": "analyze",
                    "description": clean(f"cannot analyse the file: {result.error}"),
                    "categories": ["Bug Risk"],
                    "severity": "blocker",
                    "fingerprint": _fingerprint(*key, seen[key]),
                    "location": {"path": path, "lines": {"begin": 1}},
                }
            )
            seen[key] += 1
        for f in result.findings:
            message = clean(f.message)
            key = (path, f.rule, f.line, f.column, message)
            aliases = f" ({', '.join(f.aliases)})" if f.aliases else ""
            issues.append(
                {
                    "type": "issue",
                    "check_name": f.rule,
                    "description": f"{f.rule}{aliases}: {message}",
                    "categories": ["Bug Risk" if f.severity == "error" else "Style"],
                    "severity": "blocker" if f.rule in BLOCKERS else SEVERITIES.get(f.severity, "major"),
                    "fingerprint": _fingerprint(*key, seen[key]),
                    "location": {"path": path, "lines": {"begin": max(1, f.line), "end": max(1, f.line, f.end_line)}},
                }
            )
            seen[key] += 1
    return issues


def render_gitlab(results, *, root: Optional[str] = None) -> str:
    return dumps(code_quality(results, root=root))

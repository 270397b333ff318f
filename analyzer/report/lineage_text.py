"""Text for people: the base-image chain and ``--explain`` answers."""

from __future__ import annotations


def _where(p: dict) -> str:
    if not p:
        return ""
    source = p.get("source") or ""
    line = p.get("line")
    loc = f"{source}:{line}" if line else source
    text = f"{p.get('image', '')}"
    if loc and loc != "builtin":
        text += f" ({loc})"
    elif p.get("builtin") or source == "builtin":
        text += " (built-in knowledge)"
    return text


def render_chain(lineage: list[dict]) -> list[str]:
    if not lineage:
        return []
    out = ["base image chain:"]
    for entry in lineage:
        source = entry.get("source") or "unknown source"
        note = entry.get("note")
        kind = entry.get("kind")
        if source == "builtin":
            shown = note or "built-in knowledge"
        elif kind == "unresolved":
            shown = "not resolved"
        else:
            shown = source
        out.append(f"  {entry['image']}  <- {shown}")
        for err in entry.get("errors", ()):
            out.append(f"      note: {err}")
    return out


def render_explain(explain: dict) -> list[str]:
    cmd = explain["command"]
    status = explain["status"]
    out = [f"{cmd}: {status}"]
    chain = explain.get("chain") or []
    if chain:
        out.append("  chain:        " + " <- ".join(chain))
    if explain.get("path"):
        out.append(f"  path:         {explain['path']}")
    prov = explain.get("provided_by")
    if prov:
        out.append(f"  installed by: {_where(prov)}")
        if prov.get("instruction"):
            out.append(f"                {prov['instruction']}")
        if prov.get("via"):
            out.append(f"                ({prov['via']})")
    entry = explain.get("path_entry")
    if entry:
        out.append(f"  on PATH by:   {_where(entry)}")
        if entry.get("instruction"):
            out.append(f"                {entry['instruction']}")
    elif explain.get("on_default_path"):
        out.append("  on PATH by:   the default PATH")
    if explain.get("user"):
        out.append(f"  user:         {explain['user']}")
    if explain.get("reason") and status != "available":
        out.append(f"  why:          {explain['reason']}")
    for pkg in explain.get("packages", ()):
        where = f" provides {pkg['path']}" if pkg.get("path") else ""
        out.append(f"  install:      {pkg['install']} ({pkg['manager']} package {pkg['package']}){where}")
    return out


def render(results, *, verbose: bool = False) -> str:
    lines: list[str] = []
    for r in results:
        lineage = r.extra.get("lineage")
        explain = r.extra.get("explain")
        if not (explain or verbose):
            continue
        if len(results) > 1:
            lines.append(f"{r.path}:")
        if lineage is not None:
            lines.extend(render_chain(lineage))
        if explain:
            lines.extend(render_explain(explain))
        lines.append("")
    return "\n".join(lines) + ("\n" if lines else "")

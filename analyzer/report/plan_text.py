"""The cache plan as text shaped like the build log it predicts.

Classic builder::

    Step 2/3 : RUN conda install kaggle
     ---> will use cache

BuildKit (``--progress=plain`` style)::

    #2 [2/3] RUN conda install kaggle
    #2 CACHED (predicted)
"""

from __future__ import annotations


def _outcome_classic(step) -> str:
    if step.prediction == "hit":
        return " ---> will use cache"
    if step.prediction == "unknown":
        return f" ---> {step.reason}"
    return f" ---> will run: {step.reason}"


def _outcome_buildkit(step) -> str:
    if step.prediction == "hit":
        return f"#{step.step} CACHED (predicted)"
    if step.prediction == "unknown":
        return f"#{step.step} {step.reason}"
    return f"#{step.step} will run: {step.reason}"


def render_plan(path: str, plan, *, color: bool = False) -> str:
    hits = sum(1 for s in plan.steps if s.prediction == "hit")
    misses = sum(1 for s in plan.steps if s.prediction == "miss")
    unknown = len(plan.steps) - hits - misses
    target = f", target {plan.target}" if plan.target else ""
    head = f"plan for {path} ({plan.builder}{target}, context {plan.context})"
    lines = [f"[bold]{_esc(head, color)}[/bold]" if color else head]
    for s in plan.steps:
        if plan.builder == "classic":
            lines.append(_esc(s.log_name, color))
            outcome = _outcome_classic(s)
        else:
            lines.append(_esc(f"#{s.step} {s.log_name}", color))
            outcome = _outcome_buildkit(s)
        if color:
            style = {"hit": "green", "miss": "yellow"}.get(s.prediction, "magenta")
            outcome = f"[{style}]{_esc(outcome, color)}[/{style}]"
        lines.append(outcome)
    summary = f"{len(plan.steps)} step{'s' if len(plan.steps) != 1 else ''}: {hits} cached, {misses} to run"
    if unknown:
        summary += f", {unknown} unknown"
    if not plan.record_found:
        summary += " (no previous build recorded)"
    lines.append(f"[dim]{summary}[/dim]" if color else summary)
    return "\n".join(lines) + "\n"


def render(plans, *, color: bool = False) -> str:
    """``plans``: ``[(path, analyzer.cache.Plan)]``."""
    return "".join(render_plan(path, plan, color=color) for path, plan in plans)


def _esc(text: str, color: bool) -> str:
    if not color:
        return text
    from rich.markup import escape

    return escape(text)

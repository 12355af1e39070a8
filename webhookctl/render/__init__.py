"""Plan renderers. Each takes the plan's JSON data, never live objects or secrets."""

from __future__ import annotations

from webhookctl.engine.plan import Plan
from webhookctl.render.markdown import MarkdownRenderer
from webhookctl.render.text import TextRenderer


def render(plan: Plan, fmt: str, color: bool = False) -> str:
    if fmt == "json":
        return plan.to_json()
    if fmt == "markdown":
        return MarkdownRenderer().render(plan)
    return TextRenderer(color=color).render(plan)


__all__ = ["MarkdownRenderer", "TextRenderer", "render"]

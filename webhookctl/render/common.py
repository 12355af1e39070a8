"""Wording shared by the text and markdown renderers."""

from __future__ import annotations

import json
from typing import Any

from webhookctl.engine.plan import Change, Plan, ProviderState
from webhookctl.wording import count

HEADLINE = {
    "create": "will be created",
    "update": "will be updated in place",
    "replace": "must be replaced",
    "delete": "will be deleted",
    "adopt": "will be adopted (bound to an existing live destination)",
    "repair-secret": "will have its secret repaired",
    "rotate": "will have its secret rotated",
}
SUMMARY_WORDS = {
    "create": "to create", "update": "to update", "replace": "to replace", "delete": "to delete",
    "adopt": "to adopt", "repair-secret": "secret to repair", "rotate": "secret to rotate",
}


def value(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


def label(change: Change) -> str:
    return f"{change.provider}/{change.name}" if change.name else f"{change.provider} unmanaged {change.destination_id}"


def how(change: Change) -> str:
    """How apply goes about it: a replace's order, a repair's source of the new secret."""
    parts: list[str] = [part for part in (change.secret_source, change.order) if part]
    if change.secret_source == "replace" and change.order:
        parts = [f"replace, {change.order}"]
    return f" ({'; '.join(parts)})" if parts else ""


def shard_note(plan: Plan) -> str:
    return f"Shard {plan.request.shard} of the accounts. " if plan.request.shard else ""


def summary_line(plan: Plan) -> str:
    return shard_note(plan) + _summary(plan)


def _summary(plan: Plan) -> str:
    counts = plan.summary()
    if not plan.has_changes:
        return "No changes. The live destinations match the configuration."
    parts = [count(counts[action], SUMMARY_WORDS[action]) if action in ("repair-secret", "rotate")
             else f"{counts[action]} {SUMMARY_WORDS[action]}" for action in SUMMARY_WORDS if action in counts]
    if plan.pending:
        parts.append(count(len(plan.pending), "interrupted operation") + " to finish")
    if plan.blocked:
        parts.append(f"{len(plan.blocked)} blocked (see below)")
    return "Plan: " + ", ".join(parts) + "."


def blocked_lines(plan: Plan) -> list[str]:
    lines = []
    for item in plan.pending:
        lines.append(f"{item.provider}/{item.name or item.url}: an interrupted {item.op} (stage {item.stage}, "
                     "journaled) is finished by the next apply first")
    for blocked in plan.blocked:
        lines.append(f"{blocked.kind}: {blocked.provider}/{blocked.name or blocked.destination_id}: "
                     f"{blocked.reason}. To fix: {blocked.fix}")
    return lines


def account_label(state: ProviderState) -> str:
    return f"{state.name} ({state.scope})"


def slots_line(state: ProviderState) -> str:
    cap = f" of {state.cap}" if state.cap is not None else ""
    noun = "destination" if state.slots_after == 1 and state.cap is None else "destinations"
    return f"{state.name} ({state.scope}): {state.slots_before} -> {state.slots_after}{cap} {noun}"


def secret_text(change: Change) -> str | None:
    if change.secret is None:
        return None
    return f"({change.secret.note} → stored at {change.secret.key})"


def field_lines(change: Change) -> list[tuple[str, str, str]]:
    """(symbol, field, text) for each attribute line of a change."""
    lines: list[tuple[str, str, str]] = []
    if change.action == "create":
        for name, data in (change.after or {}).items():
            lines.append(("+", name, value(data)))
    elif change.action == "delete":
        for name, data in (change.before or {}).items():
            lines.append(("-", name, value(data)))
    else:
        for diff in change.diff:
            note = "  # forces replacement" if diff.forces_replace else ""
            lines.append(("~", diff.field, f"{value(diff.before)} -> {value(diff.after)}{note}"))
    secret = secret_text(change)
    if secret:
        lines.append(("+" if change.action == "create" else "~", "secret", secret))
    return lines

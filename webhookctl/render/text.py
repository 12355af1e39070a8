"""The Terraform-like terminal view of a plan."""

from __future__ import annotations

from collections.abc import Iterator

import click

from webhookctl.engine.plan import SYMBOLS, Change, Plan
from webhookctl.render.common import (
    HEADLINE,
    blocked_lines,
    field_lines,
    how,
    label,
    slots_line,
    summary_line,
    value,
)

COLORS = {"+": "green", "~": "yellow", "-": "red", "-/+": "magenta", "<=": "cyan", "!": "yellow", "@": "blue"}


class TextRenderer:
    def __init__(self, color: bool = False) -> None:
        self.color = color

    def _paint(self, text: str, symbol: str) -> str:
        return click.style(text, fg=COLORS.get(symbol)) if self.color else text

    def change(self, change: Change) -> list[str]:
        symbol = SYMBOLS[change.action]
        lines = [f"  # {label(change)} {HEADLINE[change.action]}{how(change)}"]
        ident = f" id={change.destination_id}" if change.destination_id else ""
        lines.append(self._paint(f"{symbol:>3} destination {value(change.name) if change.name else '(unmanaged)'}{ident}", symbol))
        if change.action not in ("create", "delete"):  # their URL is among the field lines
            lines.append(f"        url = {value(change.url)}")
        rows = field_lines(change)
        width = max((len(name) for _, name, _ in rows), default=0)
        for mark, name, text in rows:
            lines.append(self._paint(f"      {mark} {name:<{width}} = {text}", mark))
        lines.append(f"        reason: {change.reason}")
        lines += [f"        warning: {warning}" for warning in change.warnings]
        return [*lines, ""]

    def render(self, plan: Plan) -> str:
        return "".join(self.parts(plan))

    def parts(self, plan: Plan) -> Iterator[str]:
        """The rendered text in pieces, each ending a line: one per change, so that a plan of
        100,000 changes is written as it is rendered, never held whole (~70 MB of text)."""
        if plan.changes:
            yield "webhookctl will perform the following actions:\n\n"
            for change in plan.changes:
                yield "\n".join(self.change(change)) + "\n"
        out: list[str] = []
        for skipped in plan.skipped:
            out.append(f"  # {skipped.provider}/{skipped.name}: {skipped.action} skipped: {skipped.reason}")
        if plan.skipped:
            out.append("")
        blocked = blocked_lines(plan)
        out += [f"  ! {line}" for line in blocked]
        if blocked:
            out.append("")
        if plan.providers:
            out.append("Destinations per account:")
            out += [f"  {slots_line(state)}" for state in plan.providers]
            out.append("")
        out += [f"Warning: {warning}" for warning in plan.warnings]
        if plan.warnings:
            out.append("")
        out.append(summary_line(plan))
        yield "\n".join(out) + "\n"

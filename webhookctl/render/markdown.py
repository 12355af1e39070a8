"""The pull-request comment: one summary line, details collapsed, under GitHub's size limit."""

from __future__ import annotations

from webhookctl.engine.plan import SYMBOLS, Plan
from webhookctl.render.common import (
    HEADLINE,
    account_label,
    blocked_lines,
    field_lines,
    how,
    label,
    summary_line,
)

# GitHub refuses comments over 65,536 characters; keep a margin for the marker and edits.
LIMIT = 65_000
MARKER = "<!-- webhookctl-plan -->"


class MarkdownRenderer:
    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit

    def _section(self, plan: Plan, provider: str) -> str:
        changes = plan.for_provider(provider)
        lines = [f"<details><summary><b>{provider}</b>: {len(changes)} change(s)</summary>", "", "```diff"]
        for change in changes:
            symbol = SYMBOLS[change.action]
            lead = {"+": "+", "-": "-", "-/+": "!", "~": "!", "<=": "!", "!": "!", "@": "!"}[symbol]
            lines.append(f"{lead} {symbol} {label(change)} {HEADLINE[change.action]}{how(change)}")
            for mark, name, text in field_lines(change):
                lines.append(f"{'+' if mark == '+' else '-' if mark == '-' else '!'}     {name} = {text}")
            lines.append(f"#     reason: {change.reason}")
            lines += [f"#     warning: {warning}" for warning in change.warnings]
        lines += ["```", "", "</details>", ""]
        return "\n".join(lines)

    def render(self, plan: Plan) -> str:
        head = [MARKER, "### webhookctl plan", "", f"**{summary_line(plan)}**", ""]
        if plan.providers:
            head += ["| account | destinations | unmanaged |", "|---|---|---|"]
            head += [f"| {account_label(s)} | {s.slots_before} → {s.slots_after}"
                     f"{f' of {s.cap}' if s.cap else ''} | {len(s.unmanaged)} |" for s in plan.providers]
            head.append("")
        tail = [f"> :no_entry: {line}" for line in blocked_lines(plan)]
        tail += [f"> :warning: {w}" for w in plan.warnings]
        tail += [f"> skipped {s.action} of {s.provider}/{s.name}: {s.reason}" for s in plan.skipped]
        sections = [self._section(plan, s.name) for s in plan.providers if plan.for_provider(s.name)]
        body = "\n".join(head)
        footer = ("\n".join(tail) + "\n") if tail else ""
        shown = 0
        for section in sections:
            if len(body) + len(section) + len(footer) + 200 > self.limit:
                break
            body += section
            shown += 1
        if shown < len(sections):
            body += (f"\n_{len(sections) - shown} more account(s) not shown: the plan is larger than a comment "
                     "allows. The full plan is in the job's artifact._\n\n")
        return body + footer

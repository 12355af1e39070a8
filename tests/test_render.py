"""Plan renderers: the markdown comment stays under GitHub's limit however large the plan."""

from __future__ import annotations

from datetime import UTC, datetime

from webhookctl.engine.plan import Change, Plan, ProviderState, SecretPlan
from webhookctl.render import render
from webhookctl.render.markdown import LIMIT


def huge_plan(accounts: int = 300, per_account: int = 10) -> Plan:
    plan = Plan(created_at=datetime(2026, 11, 24, tzinfo=UTC))
    for a in range(accounts):
        name = f"org-{a:04d}"
        plan.providers.append(ProviderState(name=name, type="amigo", scope=f"amigo:https://api.amigo.ai/{name}",
                                            state_fingerprint="sha256:x", unmanaged_policy="report", cap=10,
                                            slots_before=0, slots_after=per_account))
        for d in range(per_account):
            plan.changes.append(Change(
                action="create", provider=name, name=f"{name}-destination-{d}",
                url=f"https://hooks.{name}.example.com/webhooks/amigo/{d}",
                after={"url": f"https://hooks.{name}.example.com/webhooks/amigo/{d}",
                       "accepted_types": ["conversation-post-processing-complete"], "retry_attempts": 3},
                reason="declared in the configuration, not found live",
                secret=SecretPlan(key=f"webhooks/{name}/{name}-destination-{d}", note="issued on apply")))
    return plan


def test_markdown_stays_under_the_comment_limit() -> None:
    plan = huge_plan()
    markdown = render(plan, "markdown")
    assert len(markdown) <= LIMIT < 65_536
    assert "**Plan: 3000 to create.**" in markdown  # the summary line is always there
    assert "more account(s) not shown" in markdown
    assert markdown.count("<details>") == markdown.count("</details>") >= 1
    assert len(render(plan, "text")) > 65_536  # the full plan is in the text and JSON forms


def test_small_plans_are_shown_whole() -> None:
    markdown = render(huge_plan(accounts=2, per_account=2), "markdown")
    assert "not shown" not in markdown and markdown.count("<details>") == 2


def test_text_has_no_colour_unless_asked() -> None:
    plan = huge_plan(accounts=1, per_account=1)
    assert "\x1b[" not in render(plan, "text") and "\x1b[" in render(plan, "text", color=True)


def test_the_markdown_account_table_shows_the_whole_account() -> None:
    markdown = render(huge_plan(accounts=1, per_account=1), "markdown")
    # Not cut at the scope's first colon (it was "| org-0000 (amigo |").
    assert "| org-0000 (amigo:https://api.amigo.ai/org-0000) | 0 → 1 of 10 | 0 |" in markdown

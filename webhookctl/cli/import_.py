"""`webhookctl import`: bind live destinations the configuration declares (matched by URL)."""

from __future__ import annotations

import dataclasses
import sys

import click

from webhookctl.cli.apply import _confirm, recovered_line
from webhookctl.cli.options import config_option, lock_timeout_option
from webhookctl.cli.runtime import fail, load, run
from webhookctl.engine.account import PlanOptions
from webhookctl.engine.plan import Plan
from webhookctl.engine.run import Hooks, RunRequest, RunResult, converge
from webhookctl.presenter import Presenter
from webhookctl.session import Session


def import_plan(plan: Plan, providers: set[str], rotate_secrets: bool) -> tuple[Plan, list[str]]:
    """Only the binding part of a plan: adopt (without field changes) and the secrets bound ones lack."""
    changes, unknown = [], []
    for change in plan.changes:
        if change.provider not in providers:
            continue
        if change.action == "adopt":
            changes.append(dataclasses.replace(change, diff=()))
        elif change.action == "repair-secret" and change.secret_source != "replace":
            if change.secret_source == "write-live" or (change.secret_source == "rotate" and rotate_secrets):
                changes.append(change)
            else:
                unknown.append(f"{change.provider}/{change.name}")
    states = [s for s in plan.providers if s.name in providers]
    blocked = [b for b in plan.blocked if b.provider in providers]
    return plan.model_copy(update={"changes": changes, "providers": states, "skipped": [], "warnings": [],
                                   "blocked": blocked}), unknown


@click.command("import")
@config_option
@click.option("--provider", "providers", multiple=True, metavar="NAME", help="Only these providers (repeatable).")
@click.option("--rotate-secrets", is_flag=True,
              help="Rotate adopted destinations whose secret the vendor shows only once, so the backend gets one.")
@click.option("--auto-approve", is_flag=True, help="Import without asking.")
@lock_timeout_option
def import_(config_paths: tuple[str, ...], providers: tuple[str, ...], rotate_secrets: bool, auto_approve: bool,
            lock_timeout: float) -> None:
    """Adopt live destinations that the configuration declares, recording them in the secrets backend.

    Field differences are left for plan/apply to show. Readable secrets (Amiqus) are copied; a one-view
    secret (Amigo) is unknown until rotated, which happens only with --rotate-secrets. The import plan is
    shown first and needs approval (or --auto-approve).
    """
    presenter = Presenter()
    config = load(presenter, config_paths)
    chosen = set(providers or config.providers)
    unknown_providers = chosen - set(config.providers)
    if unknown_providers:
        fail(presenter, f"no provider named {', '.join(sorted(unknown_providers))} in the configuration")
    notes: list[str] = []

    def select(plan: Plan) -> Plan:
        selected, unknown = import_plan(plan, chosen, rotate_secrets)
        notes.extend(unknown)
        return selected

    request = RunRequest(options=PlanOptions(), providers=sorted(chosen), lock_timeout=lock_timeout,
                         select=select, tolerate=frozenset({"repair-secret", "update", "create", "replace",
                                                            "delete"}))
    hooks = Hooks(recovered=lambda item: recovered_line(presenter, item),
                  show=lambda plan: presenter.plan(plan, "text") if plan.changes else None,
                  confirm=lambda plan: _confirm(presenter, auto_approve), progress=presenter.outcome)

    async def work(session: Session) -> RunResult:
        return await converge(session, request, hooks)

    result = run(presenter, config, None, work)
    if result.cancelled:
        fail(presenter, "import cancelled; nothing was changed")
    if not result.report.outcomes:
        presenter.echo("Nothing to import: every declared destination found live is already bound.")
    for name in notes:
        presenter.warning(f"the secret of {name} is unknown (the vendor shows it only once); run "
                          "'webhookctl import --rotate-secrets' to rotate it now so the backend holds one")
    presenter.apply_report(result.report)
    if not result.report.ok:
        sys.exit(1)

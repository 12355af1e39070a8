"""`webhookctl import`: bind live destinations the configuration declares (matched by URL)."""

from __future__ import annotations

import sys

import click

from webhookctl.cli.options import config_option
from webhookctl.cli.plan import make_plan, plan_options
from webhookctl.cli.runtime import fail, load, run
from webhookctl.engine.apply import Applier, ApplyReport
from webhookctl.engine.lock import account_locks
from webhookctl.engine.plan import Plan
from webhookctl.engine.recover import recover
from webhookctl.errors import PlanError
from webhookctl.presenter import Presenter
from webhookctl.session import Session


def import_plan(plan: Plan, providers: set[str], rotate_secrets: bool) -> tuple[Plan, list[str]]:
    """Only the binding part of a plan: adopt (without field changes) and the secrets bound ones lack."""
    changes, unknown = [], []
    for change in plan.changes:
        if change.provider not in providers:
            continue
        if change.action == "adopt":
            changes.append(change.model_copy(update={"diff": []}))
        elif change.action == "repair-secret" and change.via != "replace":
            if change.via == "write-live" or (change.via == "rotate" and rotate_secrets):
                changes.append(change)
            else:
                unknown.append(f"{change.provider}/{change.name}")
    states = [s for s in plan.providers if s.name in providers]
    return plan.model_copy(update={"changes": changes, "providers": states, "skipped": [], "warnings": []}), unknown


@click.command("import")
@config_option
@click.option("--provider", "providers", multiple=True, metavar="NAME", help="Only these providers (repeatable).")
@click.option("--rotate-secrets", is_flag=True,
              help="Rotate adopted destinations whose secret the vendor shows only once, so the backend gets one.")
def import_(config_paths: tuple[str, ...], providers: tuple[str, ...], rotate_secrets: bool) -> None:
    """Adopt live destinations that the configuration declares, recording them in the secrets backend.

    Field differences are left for plan/apply to show. Readable secrets (Amiqus) are copied; a one-view
    secret (Amigo) is unknown until rotated, which happens only with --rotate-secrets.
    """
    presenter = Presenter()
    config = load(presenter, config_paths)
    chosen = set(providers or config.providers)
    unknown_providers = chosen - set(config.providers)
    if unknown_providers:
        fail(presenter, f"no provider named {', '.join(sorted(unknown_providers))} in the configuration")
    notes: list[str] = []

    async def work(session: Session) -> ApplyReport:
        for item in recover(session):
            if item.error:
                raise PlanError(f"could not finish the escrowed {item.kind} of {item.provider}/{item.name}: "
                                f"{item.error}")
        with account_locks(session.state_dir, [session.provider(n).scope for n in chosen]):
            plan, unknown = import_plan(await make_plan(session, plan_options((), (), False)), chosen,
                                        rotate_secrets)
            notes.extend(unknown)
            if not plan.changes:
                return ApplyReport()
            return await Applier(session, plan, presenter.outcome, tolerate=frozenset({"repair-secret"})).run()

    report = run(presenter, config, None, work)
    if not report.outcomes:
        presenter.echo("Nothing to import: every declared destination found live is already bound.")
    for name in notes:
        presenter.warning(f"the secret of {name} is unknown (the vendor shows it only once); run "
                          "'webhookctl import --rotate-secrets' to rotate it now so the backend holds one")
    presenter.apply_report(report)
    if not report.ok:
        sys.exit(1)

"""`webhookctl apply` and `webhookctl rotate`: carry out a plan."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from webhookctl.cli.options import config_option
from webhookctl.cli.plan import make_plan, plan_options
from webhookctl.cli.prompt import approve
from webhookctl.cli.runtime import fail, load, run
from webhookctl.engine.apply import Applier, ApplyReport
from webhookctl.engine.lock import account_locks, remote_locks
from webhookctl.engine.plan import Plan
from webhookctl.engine.planner import PlanOptions
from webhookctl.engine.recover import recover
from webhookctl.errors import PlanError, StalePlanError, ValidationFailed
from webhookctl.presenter import Presenter
from webhookctl.session import Session


def _confirm(presenter: Presenter, auto_approve: bool) -> None:
    if auto_approve:
        return
    if not sys.stdin.isatty():
        fail(presenter, "refusing to ask for approval: standard input is not a terminal "
                        "(pass --auto-approve, or apply a saved plan)")
    approve("Do you want to apply these changes?", "apply")


async def _check_fresh(session: Session, saved: Plan) -> None:
    snapshots = await session.snapshots([state.name for state in saved.providers])
    stale = [state.name for state in saved.providers
             if snapshots[state.name].fingerprint() != state.state_fingerprint]
    if stale:
        raise StalePlanError(
            f"the saved plan is stale: live state changed since it was made for {', '.join(stale)}; "
            "nothing was applied; make a new plan"
        )


def execute(presenter: Presenter, config_paths: tuple[str, ...], plan_file: Path | None, options: PlanOptions,
            auto_approve: bool, allow_deletes: bool, parallelism: int | None) -> None:
    config = load(presenter, config_paths)

    async def work(session: Session) -> ApplyReport:
        for item in recover(session):
            if item.error:
                raise PlanError(f"could not finish the escrowed {item.kind} of {item.provider}/{item.name}: "
                                f"{item.error}")
            presenter.echo(f"Recovered the secret of {item.provider}/{item.name} from escrow.")
        scopes = [session.provider(name).scope for name in config.providers]
        remote = getattr(config.secrets, "lock", False)
        with account_locks(session.state_dir, scopes), remote_locks(session.backend, remote, scopes):
            if plan_file is not None:
                try:
                    plan = Plan.from_json(plan_file.read_text(encoding="utf-8"))
                except (OSError, ValueError) as error:
                    raise ValidationFailed(f"{plan_file}: not a webhookctl plan ({type(error).__name__})") from None
                await _check_fresh(session, plan)
                presenter.plan(plan, "text")
            else:
                plan = await make_plan(session, options)
                presenter.plan(plan, "text")
                if plan.has_changes:
                    _confirm(presenter, auto_approve)
            if plan.deletes > plan.max_deletes and not allow_deletes:
                raise PlanError(f"the plan deletes {plan.deletes} destinations, more than max_deletes "
                                f"({plan.max_deletes}); pass --allow-deletes to go ahead")
            return await Applier(session, plan, presenter.outcome).run()

    report = run(presenter, config, parallelism, work)
    presenter.apply_report(report)
    if not report.ok:
        sys.exit(1)


@click.command("apply")
@click.argument("plan_file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@config_option
@click.option("--auto-approve", is_flag=True, help="Apply without asking.")
@click.option("--allow-deletes", is_flag=True, help="Allow more deletes than settings.max_deletes.")
@click.option("--target", "targets", multiple=True, metavar="NAME", help="Only these destinations (repeatable).")
@click.option("--rotate", multiple=True, metavar="NAME", help="Rotate these destinations' secrets (repeatable).")
@click.option("--rotate-by-replace", is_flag=True, help="Rotate by replacing where a vendor cannot rotate.")
@click.option("--parallelism", type=click.IntRange(1, 100), help="Accounts worked on at once (default 10).")
def apply(plan_file: Path | None, config_paths: tuple[str, ...], auto_approve: bool, allow_deletes: bool,
          targets: tuple[str, ...], rotate: tuple[str, ...], rotate_by_replace: bool,
          parallelism: int | None) -> None:
    """Apply a saved PLAN_FILE (refused when stale), or plan, show and ask first.

    Inside GitHub Actions a summary is also appended to $GITHUB_STEP_SUMMARY.
    """
    execute(Presenter(), config_paths, plan_file, plan_options(targets, rotate, rotate_by_replace),
            auto_approve, allow_deletes, parallelism)


@click.command("rotate")
@click.argument("names", nargs=-1, required=True)
@config_option
@click.option("--auto-approve", is_flag=True, help="Rotate without asking.")
@click.option("--rotate-by-replace", is_flag=True, help="Rotate by replacing where a vendor cannot rotate.")
def rotate(names: tuple[str, ...], config_paths: tuple[str, ...], auto_approve: bool, rotate_by_replace: bool) -> None:
    """Rotate the signing secrets of NAMES now, through a plan."""
    execute(Presenter(), config_paths, None, plan_options(names, names, rotate_by_replace), auto_approve,
            False, None)

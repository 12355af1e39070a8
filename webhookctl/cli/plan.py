"""`webhookctl plan`: what apply would change, as text, markdown or JSON."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from webhookctl.cli.options import config_option, shard_option
from webhookctl.cli.runtime import load, run
from webhookctl.engine.account import PlanOptions
from webhookctl.engine.plan import Plan
from webhookctl.engine.planner import build_plan
from webhookctl.engine.shard import select
from webhookctl.presenter import Presenter
from webhookctl.session import Session


async def make_plan(session: Session, options: PlanOptions) -> Plan:
    snapshots = await session.snapshots(select(session.config, session.config.providers, options.shard))
    return build_plan(session.config, snapshots.values(), datetime.now(UTC), options,
                      key_for=session.backend.key_for)


def plan_options(targets: tuple[str, ...], rotate: tuple[str, ...], rotate_by_replace: bool,
                 shard: str | None = None) -> PlanOptions:
    return PlanOptions(targets=frozenset(targets), rotate=frozenset(rotate), rotate_by_replace=rotate_by_replace,
                       shard=shard)


@click.command("plan")
@config_option
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), help="Save the plan (JSON).")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes.")
@click.option("--target", "targets", multiple=True, metavar="NAME", help="Only these destinations (repeatable).")
@click.option("--rotate", multiple=True, metavar="NAME", help="Rotate these destinations' secrets (repeatable).")
@click.option("--rotate-by-replace", is_flag=True, help="Rotate by replacing where a vendor cannot rotate.")
@click.option("--parallelism", type=click.IntRange(1, 100), help="Accounts read at once (default 10).")
@shard_option
def plan(config_paths: tuple[str, ...], out_file: Path | None, fmt: str, detailed_exitcode: bool,
         targets: tuple[str, ...], rotate: tuple[str, ...], rotate_by_replace: bool, parallelism: int | None,
         shard: str | None) -> None:
    """Show what apply would change. Exit 0: no changes, 1: error, 2: changes (with --detailed-exitcode).

    Inside GitHub Actions the markdown plan is also appended to $GITHUB_STEP_SUMMARY.
    """
    presenter = Presenter()
    config = load(presenter, config_paths)
    options = plan_options(targets, rotate, rotate_by_replace, shard)

    async def work(session: Session) -> Plan:
        for orphan in session.orphaned():
            presenter.warning(orphan)
        return await make_plan(session, options)

    result = run(presenter, config, parallelism, work)
    if out_file:
        # Saved as shown (URL credentials masked): the file is an approval, never executed.
        out_file.write_text(result.masked().to_json(), encoding="utf-8")
    presenter.plan(result, fmt)
    if detailed_exitcode and result.has_changes:
        sys.exit(2)

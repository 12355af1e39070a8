"""`webhookctl drift`: a read-only check for cron jobs."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import click

from webhookctl.cli.options import config_option, shard_option
from webhookctl.cli.runtime import load, run
from webhookctl.cli.timeopts import Duration
from webhookctl.engine.drift import KINDS, DriftReport, detect
from webhookctl.presenter import Presenter
from webhookctl.session import Session

INFORMATIONAL = ("dual-signing-window",)


@click.command("drift")
@config_option
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
@click.option("--since", type=Duration(), default="24h", show_default=True, help="Delivery-health window.")
@click.option("--fail-on", "fail_on", metavar="KIND,...",
              help=f"Only these kinds exit 2 (default: all but {', '.join(INFORMATIONAL)}). "
                   f"Kinds: {', '.join(KINDS)}.")
@click.option("--parallelism", type=click.IntRange(1, 100), help="Accounts read at once (default 10).")
@shard_option
def drift(config_paths: tuple[str, ...], fmt: str, since: timedelta, fail_on: str | None,
          parallelism: int | None, shard: str | None) -> None:
    """Report drift without changing anything. Exit 0: none, 2: findings, 1: the check failed.

    An account that cannot be read is a plan-error finding; the others are still checked.

    Inside GitHub Actions the markdown report is also appended to $GITHUB_STEP_SUMMARY.
    """
    presenter = Presenter()
    # A rotation's dual-signing window is what a normal `rotate` leaves for a while: news, not drift.
    selected = set(KINDS) - set(INFORMATIONAL)
    if fail_on:
        selected = {kind.strip() for kind in fail_on.split(",") if kind.strip()}
        unknown = selected - set(KINDS)
        if unknown:
            raise click.BadParameter(f"unknown {'kind' if len(unknown) == 1 else 'kinds'} "
                                     f"{', '.join(sorted(unknown))} (kinds: {', '.join(KINDS)})",
                                     param_hint="--fail-on")
    config = load(presenter, config_paths)

    async def work(session: Session) -> DriftReport:
        return await detect(session, since, datetime.now(UTC), shard)

    report = run(presenter, config, parallelism, work)
    presenter.drift(report, fmt)
    if any(f.kind in selected for f in report.findings):
        sys.exit(2)

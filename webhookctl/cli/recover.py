"""`webhookctl recover`: store secrets an interrupted run left in escrow, and nothing else."""

from __future__ import annotations

import sys

import click

from webhookctl.cli.options import config_option
from webhookctl.cli.runtime import load, run
from webhookctl.engine.recover import Recovered
from webhookctl.engine.recover import recover as recover_all
from webhookctl.presenter import Presenter
from webhookctl.session import Session


@click.command("recover")
@config_option
def recover(config_paths: tuple[str, ...]) -> None:
    """Finish escrowed secret writes (apply does this first on its own)."""
    presenter = Presenter()
    config = load(presenter, config_paths)

    async def work(session: Session) -> list[Recovered]:
        return recover_all(session)

    results = run(presenter, config, None, work)
    if not results:
        presenter.echo("Nothing in escrow.")
    for item in results:
        if item.error:
            presenter.error(f"{item.kind} {item.provider}/{item.name}: {item.error}")
        else:
            presenter.echo(f"Stored the escrowed secret of {item.provider}/{item.name} ({item.kind}).")
    if any(item.error for item in results):
        sys.exit(1)

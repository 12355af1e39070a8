"""`webhookctl show`: saved plans (one, or one per shard) as one text, markdown or JSON view."""

from __future__ import annotations

from pathlib import Path

import click

from webhookctl.cli.apply import read_saved
from webhookctl.cli.runtime import fail
from webhookctl.engine.merge import merge
from webhookctl.errors import WebhookctlError
from webhookctl.presenter import Presenter


@click.command("show")
@click.argument("plan_files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
def show(plan_files: tuple[Path, ...], fmt: str) -> None:
    """Render saved plans (one per shard of a CI matrix) as one view.

    Markdown is one pull-request comment, kept under GitHub's size limit.
    """
    presenter = Presenter()
    try:
        view = merge([read_saved(path) for path in plan_files])
    except WebhookctlError as error:
        fail(presenter, str(error))
    presenter.plan(view, fmt)

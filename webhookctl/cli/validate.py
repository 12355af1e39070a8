"""`webhookctl validate`: check the configuration without network or secrets access."""

from __future__ import annotations

import sys

import click

from webhookctl.cli.options import config_option
from webhookctl.config.load import load_config
from webhookctl.errors import ConfigError
from webhookctl.presenter import Presenter


@click.command("validate")
@config_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True)
@click.option("--no-env", is_flag=True, help="Check the files alone: ${VAR} references need not be set, nor the backend's extra installed.")
def validate(config_paths: tuple[str, ...], fmt: str, no_env: bool) -> None:
    """Validate the configuration. Exit 0 when valid, 1 when not."""
    presenter = Presenter()
    try:
        config = load_config(config_paths, require_env=not no_env, check_extras=not no_env)
    except ConfigError as error:
        presenter.problems(error.problems, fmt)
        sys.exit(1)
    presenter.valid(len(config.files), len(config.providers), len(config.destinations), fmt)

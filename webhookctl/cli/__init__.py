"""The `webhookctl` command line: one thin module per command."""

from __future__ import annotations

import click

from webhookctl import __version__
from webhookctl.cli.emulate import emulate


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="webhookctl")
def cli() -> None:
    """Webhook destinations as code: validate, plan, apply, rotate."""


cli.add_command(emulate)


def main() -> None:
    cli()

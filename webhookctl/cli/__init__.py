"""The `webhookctl` command line: one thin module per command."""

from __future__ import annotations

import click

from webhookctl import __version__
from webhookctl.cli.apply import apply, rotate
from webhookctl.cli.completion import completion
from webhookctl.cli.deliveries import deliveries
from webhookctl.cli.drift import drift
from webhookctl.cli.dump import dump
from webhookctl.cli.emulate import emulate
from webhookctl.cli.import_ import import_
from webhookctl.cli.plan import plan
from webhookctl.cli.recover import recover
from webhookctl.cli.schema import schema
from webhookctl.cli.unlock import force_unlock
from webhookctl.cli.validate import validate


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="webhookctl")
def cli() -> None:
    """Webhook destinations as code: validate, plan, apply, rotate."""


for command in (validate, plan, apply, rotate, drift, deliveries, import_, dump, recover, force_unlock, schema, emulate, completion):
    cli.add_command(command)


def main() -> None:
    cli()

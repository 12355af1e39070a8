"""The `webhookctl` command line: one thin module per command."""

from __future__ import annotations

import click

from webhookctl import __version__
from webhookctl.cli.apply import apply, rotate
from webhookctl.cli.completion import complete_names, completion
from webhookctl.cli.deliveries import deliveries
from webhookctl.cli.drift import drift
from webhookctl.cli.dump import dump
from webhookctl.cli.emulate import emulate
from webhookctl.cli.group import WebhookctlGroup
from webhookctl.cli.import_ import import_
from webhookctl.cli.plan import plan
from webhookctl.cli.recover import recover
from webhookctl.cli.schema import schema
from webhookctl.cli.settings import remember
from webhookctl.cli.unlock import force_unlock
from webhookctl.cli.validate import validate


@click.group(cls=WebhookctlGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="webhookctl")
@click.option("--color/--no-color", "color", default=None,
              help="Colour the output or not (default: on a terminal, unless NO_COLOR; FORCE_COLOR forces it).")
@click.option("--debug", is_flag=True, envvar="WEBHOOKCTL_DEBUG",
              help="Log each vendor request (method, path, status, time) to stderr. Also WEBHOOKCTL_DEBUG=1.")
@click.pass_context
def cli(ctx: click.Context, color: bool | None, debug: bool) -> None:
    """Webhook destinations as code: validate, plan, apply, rotate.

    \b
    Exit codes, for every command:
      0  success; no changes (plan), no findings (drift)
      1  error, including a mistyped command line
      2  changes (plan --detailed-exitcode) or findings (drift)
    """
    remember(ctx, color, debug)


for command in (validate, plan, apply, rotate, drift, deliveries, import_, dump, recover, force_unlock, schema, emulate, completion):
    cli.add_command(command)
complete_names(cli)


def main() -> None:
    cli()

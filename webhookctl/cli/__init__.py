"""The `webhookctl` command line: one thin module per command, imported when that command runs."""

from __future__ import annotations

import click

from webhookctl import __version__
from webhookctl.cli.group import WebhookctlGroup
from webhookctl.cli.lazy import LazyCommand
from webhookctl.terminal import remember

# name -> where the command lives and its short help (its docstring's first sentence; a test checks
# they agree), which `webhookctl --help` shortens to fit as click does.
COMMANDS: dict[str, LazyCommand] = {
    "validate": LazyCommand("webhookctl.cli.validate:validate",
                            "Validate the configuration."),
    "plan": LazyCommand("webhookctl.cli.plan:plan",
                        "Show what apply would change."),
    "apply": LazyCommand("webhookctl.cli.apply:apply",
                         "Apply a saved PLAN_FILE (refused when stale), or plan, show and ask first."),
    "rotate": LazyCommand("webhookctl.cli.apply:rotate",
                          "Rotate the signing secrets of NAMES now, through a plan."),
    "show": LazyCommand("webhookctl.cli.show:show",
                        "Render saved plans (one per shard of a CI matrix) as one view."),
    "drift": LazyCommand("webhookctl.cli.drift:drift",
                         "Report drift without changing anything."),
    "deliveries": LazyCommand("webhookctl.cli.deliveries:deliveries",
                              "List the deliveries to destination NAME (following pages up to --limit)."),
    "import": LazyCommand("webhookctl.cli.import_:import_",
                          "Adopt live destinations that the configuration declares, recording them in the secrets backend."),
    "dump": LazyCommand("webhookctl.cli.dump:dump",
                        "Write configuration YAML for the live destinations of a provider not declared yet (no secrets)."),
    "recover": LazyCommand("webhookctl.cli.recover:recover",
                           "Finish interrupted operations from the journal (apply does this first on its own)."),
    "force-unlock": LazyCommand("webhookctl.cli.unlock:force_unlock",
                                "Release the secrets backend's locks (Vault) of the configured accounts."),
    "schema": LazyCommand("webhookctl.cli.schema:schema",
                          "Print a JSON Schema: of configuration files (default), or of a JSON output."),
    "emulate": LazyCommand("webhookctl.cli.emulate:emulate",
                           "Serve an emulator of a vendor API (state in memory, or in --db)."),
    "completion": LazyCommand("webhookctl.cli.completion:completion",
                              "Print the completion script for SHELL."),
}


@click.group(cls=WebhookctlGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
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


def main() -> None:
    cli()

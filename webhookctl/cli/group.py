"""The root command: one exit-code contract and one set of terminal manners for every command.

Exit codes: 0 success (no changes, no findings), 1 error, 2 changes (`plan
--detailed-exitcode`) or findings (`drift`). Click gives usage errors exit 2,
which a CI job would read as "changes"; here they exit 1. A closed pipe
(`webhookctl ... | head -1`) is quiet and stops nothing: the presenter drops what is left to
print and the run ends with its own exit code (an apply completes; a plan with changes under
--detailed-exitcode still exits 2). Output that fails outside the presenter (click's own, a
final flush) ends the run with 0. Ctrl-C aborts with 1.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from webhookctl.cli.lazy import LazyGroup
from webhookctl.errors import WebhookctlError
from webhookctl.terminal import is_closed_pipe, silence

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


def _wants_json(args: Sequence[str]) -> bool:
    """Whether the command line asked for `--format json` (read raw: parsing may be what failed)."""
    items = list(args)
    return any(item == "--format=json" or (item == "--format" and items[i + 1:i + 2] == ["json"])
               for i, item in enumerate(items))


class WebhookctlGroup(LazyGroup):
    def load(self, name: str) -> click.Command:
        from webhookctl.cli.completion import complete_names

        command = super().load(name)
        complete_names(command)  # destination and provider names complete from the configuration
        return command

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        argv = list(sys.argv[1:] if args is None else args)
        try:
            result = super().main(argv, prog_name, complete_var, False, **extra)
            sys.stdout.flush()
        except click.exceptions.Exit as stop:
            sys.exit(stop.exit_code)
        except click.ClickException as error:
            self._usage_error(error, _wants_json(argv))
        except click.Abort:
            click.echo("error: aborted", file=sys.stderr)
            sys.exit(EXIT_ERROR)
        except OSError as error:
            if not is_closed_pipe(error):
                raise
            silence(sys.stdout)
            sys.exit(EXIT_OK)
        except SystemExit as stop:
            # Flush inside the guard: the reader may be gone (`| head -1`).
            try:
                sys.stdout.flush()
            except OSError as error:
                if not is_closed_pipe(error):
                    raise
                silence(sys.stdout)
                sys.exit(EXIT_OK)
            raise stop
        sys.exit(result if isinstance(result, int) else EXIT_OK)

    @staticmethod
    def _usage_error(error: click.ClickException, as_json: bool) -> NoReturn:
        if as_json:
            from webhookctl.presenter import error_document

            kind = "usage" if isinstance(error, click.UsageError) else "error"
            click.echo(error_document(kind, error.format_message()))
        error.show()
        sys.exit(EXIT_ERROR)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except WebhookctlError as error:
            # Raised outside a session (e.g. while opening the secrets backend): still one line, exit 1.
            from webhookctl.presenter import Presenter

            Presenter().fail(str(error))

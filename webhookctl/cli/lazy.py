"""A click group whose commands are imported only when one of them runs.

The group knows each command by name, where it lives ("module:attribute") and its short help,
so `--help`, `--version` and shell completion of command names import no command module (and
so neither pydantic, httpx nor the engine). The short help kept here is checked against the
commands' own docstrings by a test.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, NamedTuple

import click

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem


class LazyCommand(NamedTuple):
    """Where a command lives and the one line `--help` shows for it.

    A named tuple, not a dataclass: `--help` would import dataclasses and build the class (~1 ms).
    """

    target: str  # "package.module:attribute"
    short_help: str


class LazyGroup(click.Group):
    def __init__(self, *args: Any, lazy: dict[str, LazyCommand], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            # Imported once, then kept like an eagerly added command.
            self.add_command(self.load(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def load(self, name: str) -> click.Command:
        module_name, _, attribute = self.lazy[name].target.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.lazy[name].target} is not a click command")
        return command

    def _short_helps(self, ctx: click.Context, limit: int) -> list[tuple[str, str]]:
        rows = []
        for name in self.list_commands(ctx):
            if name in self.lazy:
                # Shortened to fit exactly as click shortens a command's help (a stub command
                # carries the text: it is click's own, public way to do it).
                stub = click.Command(name, help=self.lazy[name].short_help)
                rows.append((name, stub.get_short_help_str(limit)))
                continue
            command = self.commands.get(name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        return rows

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        if not names:
            return
        # The width click gives the help column: three times the default spacing.
        rows = self._short_helps(ctx, formatter.width - 6 - max(len(name) for name in names))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        # Command names complete from the table: a keystroke of tab imports nothing.
        from click.shell_completion import CompletionItem

        results = [CompletionItem(name, help=help_) for name, help_ in self._short_helps(ctx, 45)
                   if name.startswith(incomplete)]
        results.extend(click.Command.shell_complete(self, ctx, incomplete))
        return results

"""`webhookctl completion bash|zsh|fish`: the shell completion script, from click itself."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class


@click.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the completion script for SHELL.

    \b
    bash: eval "$(webhookctl completion bash)"   (in ~/.bashrc)
    zsh:  eval "$(webhookctl completion zsh)"    (in ~/.zshrc)
    fish: webhookctl completion fish > ~/.config/fish/completions/webhookctl.fish
    """
    root = ctx.find_root().command
    completer = get_completion_class(shell)
    assert completer is not None
    # Plain click output: this runs on shell start-up, so it imports nothing of the engine.
    click.echo(completer(root, {}, "webhookctl", "_WEBHOOKCTL_COMPLETE").source())

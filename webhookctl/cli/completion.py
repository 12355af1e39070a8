"""`webhookctl completion bash|zsh|fish`: the shell completion script, from click itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    # Every command is loaded through `complete_names`; click's completion module is needed only
    # when a shell asks for completions (or for the script).
    from click.shell_completion import CompletionItem

# Parameters that take a destination name, and those that take a provider name (by parameter name).
DESTINATION_PARAMS = {"name", "names", "targets", "rotate"}
PROVIDER_PARAMS = {"provider", "providers"}


def _configured(ctx: click.Context) -> tuple[list[str], list[str]]:
    """Destination and provider names of the configuration, read quietly: completion never fails or prints."""
    from webhookctl.config.load import load_config

    try:
        config = load_config(ctx.params.get("config_paths") or (), require_env=False)
    except Exception:  # any problem means nothing to offer, never a traceback in the shell
        return [], []
    return [d.name for d in config.destinations], list(config.providers)


def _destinations(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    from click.shell_completion import CompletionItem

    return [CompletionItem(name) for name in _configured(ctx)[0] if name.startswith(incomplete)]


def _providers(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    from click.shell_completion import CompletionItem

    return [CompletionItem(name) for name in _configured(ctx)[1] if name.startswith(incomplete)]


def complete_names(command: click.Command) -> None:
    """Give a command's NAME argument and --target/--rotate/--provider options their completion, in one place."""
    if isinstance(command, click.Group) or command.name in ("completion", "schema", "emulate"):
        return
    for param in command.params:
        if param.name in DESTINATION_PARAMS and param.type == click.STRING:
            # click keeps a parameter's completion function here; set after the decorators ran.
            param._custom_shell_complete = _destinations
        elif param.name in PROVIDER_PARAMS and param.type == click.STRING:
            param._custom_shell_complete = _providers



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
    from click.shell_completion import get_completion_class

    root = ctx.find_root().command
    completer = get_completion_class(shell)
    assert completer is not None
    # Plain click output: this runs on shell start-up, so it imports nothing of the engine.
    click.echo(completer(root, {}, "webhookctl", "_WEBHOOKCTL_COMPLETE").source())

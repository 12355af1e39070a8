"""`webhookctl force-unlock`: remove locks left by a run that is gone."""

from __future__ import annotations

import click

from webhookctl.cli.options import config_option
from webhookctl.cli.runtime import fail, load, run
from webhookctl.engine.lock import RemoteLocking
from webhookctl.presenter import Presenter
from webhookctl.session import Session


@click.command("force-unlock")
@config_option
@click.option("--provider", "providers", multiple=True, metavar="NAME", help="Only these providers (default: all).")
@click.option("--yes", is_flag=True, help="Do not ask.")
def force_unlock(config_paths: tuple[str, ...], providers: tuple[str, ...], yes: bool) -> None:
    """Release the secrets backend's locks (Vault) of the configured accounts.

    Only for a run that died holding them: two applies at once on one account can interleave.
    """
    presenter = Presenter()
    config = load(presenter, config_paths)
    chosen = list(providers or config.providers)
    if not yes and not click.confirm(f"Release the locks of {', '.join(chosen)}?", default=False):
        fail(presenter, "cancelled")

    async def work(session: Session) -> list[str]:
        if not isinstance(session.backend, RemoteLocking):
            return []
        scopes = [session.provider(name).scope for name in chosen]
        for scope in scopes:
            session.backend.release_lock(scope)
        return scopes

    released = run(presenter, config, None, work)
    if not released:
        presenter.echo(f"The {config.secrets.backend} backend holds no locks; local locks end with their process.")
    for scope in released:
        presenter.echo(f"Released the lock of {scope}.")

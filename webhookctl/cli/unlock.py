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
    unknown = sorted(set(chosen) - set(config.providers))
    if unknown:
        fail(presenter, f"no provider named {', '.join(unknown)} in the configuration")
    accounts = sorted({config.account_of(name) for name in chosen})

    async def held(session: Session) -> list[dict[str, str]]:
        if not isinstance(session.backend, RemoteLocking):
            return []
        listed = getattr(session.backend, "held_locks", None)
        found = listed() if listed is not None else [{"scope": account} for account in accounts]
        return [lock for lock in found if lock.get("scope") in accounts]

    # Look first: there may be nothing to unlock, and then nothing to ask.
    locks = run(presenter, config, None, held)
    if not locks:
        presenter.echo(f"No lock is held for {', '.join(accounts)} (the {config.secrets.backend} backend"
                       + ("); local locks end with their process." if config.secrets.backend != "vault" else ")."))
        return
    for lock in locks:
        presenter.echo(f"{lock['scope']} is locked by {lock.get('owner', 'an unknown run')}.")
    if not yes and not click.confirm("Release these locks?", default=False):
        fail(presenter, "cancelled; no lock was released")

    async def release(session: Session) -> list[str]:
        assert isinstance(session.backend, RemoteLocking)
        for lock in locks:
            session.backend.release_lock(lock["scope"])
        return [lock["scope"] for lock in locks]

    for scope in run(presenter, config, None, release):
        presenter.echo(f"Released the lock of {scope}.")

"""`webhookctl recover`: finish what an interrupted run left in the journal, and nothing else."""

from __future__ import annotations

import sys

import click

from webhookctl.cli.options import config_option, lock_timeout_option
from webhookctl.cli.runtime import fail, load, run
from webhookctl.engine.lock import account_locks
from webhookctl.engine.recover import Recovered
from webhookctl.engine.recover import recover as recover_all
from webhookctl.errors import WebhookctlError
from webhookctl.presenter import Presenter
from webhookctl.session import Session


@click.command("recover")
@config_option
@click.option("--drop", "drop", metavar="ENTRY", help="Drop one journal entry on purpose (asks first).")
@click.option("--yes", is_flag=True, help="With --drop: do not ask.")
@lock_timeout_option
def recover(config_paths: tuple[str, ...], drop: str | None, yes: bool, lock_timeout: float) -> None:
    """Finish interrupted operations from the journal (apply does this first on its own)."""
    presenter = Presenter()
    config = load(presenter, config_paths)

    async def work(session: Session) -> list[Recovered]:
        if drop is not None:
            _drop(presenter, session, drop, yes)
            return []
        for orphan in session.orphaned():
            presenter.warning(orphan)
        names = sorted(config.providers)
        with account_locks(session.lock_directory, sorted({config.account_of(n) for n in names}), lock_timeout):
            return await recover_all(session, names)

    results = run(presenter, config, None, work)
    if drop is not None:
        return
    if not results:
        presenter.echo("Nothing in the journal.")
    for item in results:
        if item.error:
            presenter.error(f"{item.op} {item.provider}/{item.name or '?'}: {item.error}")
        else:
            presenter.echo(f"Finished the interrupted {item.op} of {item.provider}/{item.name or '?'}: {item.done}.")
    if any(item.error for item in results):
        sys.exit(1)


def _drop(presenter: Presenter, session: Session, entry_id: str, yes: bool) -> None:
    try:
        entry = session.journal.entry(entry_id)
    except WebhookctlError:  # damaged: exactly what --drop is for
        entry = None
    what = (f"the unfinished {entry.op} of {entry.label} (stage {entry.stage})" if entry else
            f"journal entry {entry_id} (unreadable)")
    lost = (" It holds a secret the vendor showed once: that secret is lost, and the destination's secret must "
            "be rotated afterwards." if entry is not None and entry.secret is not None else "")
    presenter.warning(f"dropping {what}: webhookctl forgets it and will not finish it.{lost}")
    if not yes and not (sys.stdin.isatty() and click.confirm("Drop it?", default=False)):
        fail(presenter, "nothing was dropped (pass --yes to drop without asking)")
    path = session.journal.drop(entry_id)
    presenter.echo(f"Dropped {path.name}.")


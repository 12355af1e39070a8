"""`webhookctl deliveries NAME`: a destination's delivery log, paced by the vendor's limits."""

from __future__ import annotations

import json
from datetime import datetime

import click

from webhookctl.cli.options import config_option
from webhookctl.cli.runtime import fail, load, run
from webhookctl.cli.timeopts import Moment
from webhookctl.errors import PlanError
from webhookctl.model import Delivery
from webhookctl.outputs import DeliveriesOutput, DeliveryOut
from webhookctl.presenter import Presenter
from webhookctl.session import Session
from webhookctl.timefmt import format_time
from webhookctl.vendors.contract import DeliveryQuery
from webhookctl.wording import count

SORT_FIELDS = ("created_at", "status", "type")


def _sort_keys(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    keys = tuple(part.strip() for part in text.split(",") if part.strip())
    for key in keys:
        if key.lstrip("+-") not in SORT_FIELDS:
            raise click.BadParameter(f"{json.dumps(key)}: sort by {', '.join(SORT_FIELDS)} with + or -", param_hint="--sort")
    return tuple(key if key[0] in "+-" else "+" + key for key in keys)


def _local_sort(items: list[Delivery], keys: tuple[str, ...]) -> list[Delivery]:
    for key in reversed(keys):
        field = key[1:]

        def value(delivery: Delivery, field: str = field) -> str:
            return str(getattr(delivery, field).isoformat() if field == "created_at" else getattr(delivery, field))

        items.sort(key=value, reverse=key[0] == "-")
    return items


@click.command("deliveries")
@click.argument("name")
@config_option
@click.option("--status", type=click.Choice(["success", "failed"]))
@click.option("--type", "event_type", help="Only this webhook type / event.")
@click.option("--since", type=Moment(), help="Duration back from now (24h) or ISO time.")
@click.option("--until", type=Moment(), help="Duration back from now or ISO time.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--sort", "sort", metavar="+created_at,-status", help="Sort keys; + ascending, - descending.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def deliveries(name: str, config_paths: tuple[str, ...], status: str | None, event_type: str | None,
               since: datetime | None, until: datetime | None, limit: int, sort: str | None, fmt: str) -> None:
    """List the deliveries to destination NAME (following pages up to --limit)."""
    presenter = Presenter()
    keys = _sort_keys(sort)
    config = load(presenter, config_paths)
    wanted = config.destination(name)
    if wanted is None:
        fail(presenter, f"no destination named {name} in the configuration")

    async def work(session: Session) -> list[Delivery]:
        provider = session.provider(wanted.provider)
        snapshot = await session.snapshot(wanted.provider)
        record = next((r for r in snapshot.records if r.name == name), None)
        live = {d.id: d for d in snapshot.live}
        target = live.get(record.destination_id) if record else None
        target = target or next((d for d in snapshot.live if d.url == wanted.url), None)
        if target is None:
            raise PlanError(f"{wanted.provider}/{name} does not exist live yet (apply creates it)")
        query = DeliveryQuery(status=status, type=event_type, since=since, until=until, sort=keys, limit=limit)
        found = [d async for d in provider.deliveries(target.id, query)]
        return found if provider.capabilities.server_side_delivery_filters else _local_sort(found, keys)

    found = run(presenter, config, None, work)
    if fmt == "json":
        items = [DeliveryOut(id=d.id, type=d.type, status=d.status, created_at=format_time(d.created_at),
                             attempts=d.attempts, last_status_code=d.last_status_code, dual_signed=d.dual_signed)
                 for d in found]
        presenter.echo(DeliveriesOutput(provider=wanted.provider, destination=name,
                                        deliveries=items).model_dump_json(indent=2))
        return
    for d in found:
        dual = " dual-signed" if d.dual_signed else ""
        presenter.echo(f"{format_time(d.created_at, 'seconds')}  {d.status:<7}  "
                       f"{d.type:<40}  attempts={d.attempts} last={d.last_status_code}{dual}  {d.id}")
    presenter.note(count(len(found), "delivery"))

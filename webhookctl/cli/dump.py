"""`webhookctl dump`: configuration YAML for every live destination of a provider."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import yaml

from webhookctl.cli.options import config_option
from webhookctl.cli.runtime import fail, load, run
from webhookctl.model import LiveDestination
from webhookctl.presenter import Presenter
from webhookctl.session import Session
from webhookctl.snapshot import Snapshot
from webhookctl.timefmt import format_time
from webhookctl.wording import count


def slug(url: str) -> str:
    parts = urlsplit(url)
    text = re.sub(r"[^a-z0-9]+", "-", f"{parts.hostname or ''}{parts.path}".lower()).strip("-")
    return (text[:90].rstrip("-") or "destination")


def names_for(live: list[LiveDestination], bound: dict[str, str] | None = None,
              taken: set[str] | None = None) -> list[tuple[str, LiveDestination]]:
    """Stable, unique names: the name it is bound to, else the URL's slug, then -2, -3... in (url, id) order.

    `bound` maps destination ids to the names the secrets backend records for them;
    `taken` holds names already in use (declared in the configuration).
    """
    bound = bound or {}
    used: set[str] = set(taken or ()) | set(bound.values())
    named = []
    for destination in sorted(live, key=lambda d: (d.url, d.id)):
        if destination.id in bound:
            named.append((bound[destination.id], destination))
            continue
        base = name = slug(destination.url)
        counter = 2
        while name in used:
            name = f"{base}-{counter}"
            counter += 1
        used.add(name)
        named.append((name, destination))
    return named


def dump_document(provider: str, live: list[LiveDestination], bound: dict[str, str] | None = None,
                  taken: set[str] | None = None) -> dict[str, Any]:
    destinations = []
    for name, destination in sorted(names_for(live, bound, taken), key=lambda pair: (pair[1].url, pair[1].id)):
        entry: dict[str, Any] = {"name": name, "provider": provider, "url": destination.url}
        entry.update({key: value for key, value in destination.fields.items()})
        destinations.append(entry)
    return {"version": 1, "destinations": destinations}


@click.command("dump")
@config_option
@click.option("--provider", required=True, metavar="NAME", help="The provider whose destinations to dump.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
def dump(config_paths: tuple[str, ...], provider: str, output: Path | None) -> None:
    """Write configuration YAML for the live destinations of a provider not declared yet (no secrets).

    A destination the configuration declares (by name or URL) is left out, so the output
    can be merged as it is; one the secrets backend binds keeps its bound name.
    """
    presenter = Presenter()
    config = load(presenter, config_paths)
    if provider not in config.providers:
        fail(presenter, f"no provider named {provider} in the configuration")

    async def work(session: Session) -> Snapshot:
        return await session.snapshot(provider)

    snapshot = run(presenter, config, None, work)
    # What any provider reaching the same account declares is declared (validate refuses it twice).
    declared_urls = {d.url for name in (provider, *config.siblings(provider)) for d in config.for_provider(name)}
    declared_names = {d.name for d in config.destinations}
    bound = {r.destination_id: r.name for r in snapshot.records if r.destination_id}
    live = [d for d in snapshot.live
            if d.url not in declared_urls and bound.get(d.id) not in declared_names]
    header = (f"# yaml-language-server: $schema=https://webhookctl.dev/schemas/webhookctl.schema.json\n"
              f"# Written by 'webhookctl dump --provider {provider}' on "
              f"{format_time(datetime.now(UTC), 'minutes')}; review the names, then commit.\n")
    text = header + yaml.safe_dump(dump_document(provider, live, bound, declared_names), sort_keys=False, width=120)
    if output:
        output.write_text(text, encoding="utf-8")
        presenter.note(f"Wrote {count(len(live), 'destination')} to {output}.")
    else:
        presenter.write(text)

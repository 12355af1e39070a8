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
from webhookctl.timefmt import format_time


def slug(url: str) -> str:
    parts = urlsplit(url)
    text = re.sub(r"[^a-z0-9]+", "-", f"{parts.hostname or ''}{parts.path}".lower()).strip("-")
    return (text[:90].rstrip("-") or "destination")


def names_for(live: list[LiveDestination]) -> list[tuple[str, LiveDestination]]:
    """Stable, unique names: the URL's slug, then -2, -3... in (url, id) order."""
    used: set[str] = set()
    named = []
    for destination in sorted(live, key=lambda d: (d.url, d.id)):
        base = name = slug(destination.url)
        counter = 2
        while name in used:
            name = f"{base}-{counter}"
            counter += 1
        used.add(name)
        named.append((name, destination))
    return named


def dump_document(provider: str, live: list[LiveDestination]) -> dict[str, Any]:
    destinations = []
    for name, destination in names_for(live):
        entry: dict[str, Any] = {"name": name, "provider": provider, "url": destination.url}
        entry.update({key: value for key, value in destination.fields.items()})
        destinations.append(entry)
    return {"version": 1, "destinations": destinations}


@click.command("dump")
@config_option
@click.option("--provider", required=True, metavar="NAME", help="The provider whose destinations to dump.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
def dump(config_paths: tuple[str, ...], provider: str, output: Path | None) -> None:
    """Write valid configuration YAML for every live destination of a provider (no secrets)."""
    presenter = Presenter()
    config = load(presenter, config_paths)
    if provider not in config.providers:
        fail(presenter, f"no provider named {provider} in the configuration")

    async def work(session: Session) -> list[LiveDestination]:
        return await session.provider(provider).list()

    live = run(presenter, config, None, work)
    header = (f"# yaml-language-server: $schema=https://webhookctl.dev/schemas/webhookctl.schema.json\n"
              f"# Written by 'webhookctl dump --provider {provider}' on "
              f"{format_time(datetime.now(UTC), 'minutes')}; review the names, then commit.\n")
    text = header + yaml.safe_dump(dump_document(provider, live), sort_keys=False, width=120)
    if output:
        output.write_text(text, encoding="utf-8")
        presenter.note(f"Wrote {len(live)} destinations to {output}.")
    else:
        presenter.out.write(text)

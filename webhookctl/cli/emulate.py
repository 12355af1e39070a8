"""`webhookctl emulate amigo|amiqus`: serve a vendor emulator on this machine."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from webhookctl.extras import missing


@click.group("emulate")
def emulate() -> None:
    """Serve an emulator of a vendor API (state in memory, or in --db)."""
    message = missing("emulator")
    if message is not None:
        raise click.ClickException(message)


def _ready(vendor: str, note: str) -> Callable[[str], None]:
    def announce(url: str) -> None:
        # Flushed at once: scripts and tests read this line to learn the port.
        click.echo(f"{vendor} emulator listening on {url}{note}")
        sys.stdout.flush()

    return announce


def _rate_limits(pairs: tuple[str, ...]) -> dict[str, int]:
    limits: dict[str, int] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not value.isdigit():
            raise click.BadParameter(f"expected ENDPOINT=N, got {pair!r}", param_hint="--rate-limit")
        limits[name] = int(value)
    return limits


@emulate.command("amigo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=0, type=int, help="0 picks a free port.")
@click.option("--org", help="Organisation to provision.")
@click.option("--user-id", help="User of --org.")
@click.option("--api-key-id", help="API key id of --org.")
@click.option("--api-key", help="API key value of --org.")
@click.option("--seed", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML file provisioning many organisations.")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), help="SQLite file for state.")
@click.option("--control", is_flag=True, help="Mount the /_emulator/ test-control endpoints.")
@click.option("--rate-limit", "rate_limits", multiple=True, metavar="ENDPOINT=N",
              help="Requests per window for signin|create|list|update|delete|rotate|deliveries.")
@click.option("--rate-window", type=float, default=60.0, show_default=True, help="Window length in seconds.")
@click.option("--time-scale", type=float, default=1.0, show_default=True,
              help="Multiplier for delivery retry waits.")
@click.option("--deliver-plain-http", is_flag=True, help="Deliver https:// URLs over plain http.")
@click.option("--token-ttl", type=float, default=3600.0, show_default=True, help="Token lifetime in seconds.")
def amigo(
    host: str,
    port: int,
    org: str | None,
    user_id: str | None,
    api_key_id: str | None,
    api_key: str | None,
    seed: Path | None,
    db: Path | None,
    control: bool,
    rate_limits: tuple[str, ...],
    rate_window: float,
    time_scale: float,
    deliver_plain_http: bool,
    token_ttl: float,
) -> None:
    """The Amigo webhook-destination API."""
    # Imported here: the emulators (Starlette, uvicorn) are not needed by any other command.
    from webhookctl.emulator.amigo import AmigoEmulator, AmigoSettings, create_app
    from webhookctl.emulator.amigo.accounts import read_seed, seed_documents
    from webhookctl.emulator.common.serve import bind, serve
    from webhookctl.emulator.common.store import DocumentStore

    account = (org, user_id, api_key_id, api_key)
    if any(account) and not all(account):
        raise click.UsageError("--org, --user-id, --api-key-id and --api-key go together")
    settings = AmigoSettings(
        control=control,
        rate_window_seconds=rate_window,
        time_scale=time_scale,
        deliver_plain_http=deliver_plain_http,
        token_ttl_seconds=token_ttl,
    )
    settings.rate_limits.update(_rate_limits(rate_limits))
    emulator = AmigoEmulator(settings, DocumentStore(db))
    if org and user_id and api_key_id and api_key:
        emulator.provision(org, user_id, api_key_id, api_key)
    if seed:
        emulator.load_documents(seed_documents(read_seed(seed)))
    sock = bind(host, port)
    serve(create_app(emulator), sock, _ready("Amigo", ""))


@emulate.command("amiqus")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=0, type=int, help="0 picks a free port.")
@click.option("--token", "tokens", multiple=True, help="A bearer token; one team per token (repeatable).")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), help="SQLite file for state.")
@click.option("--control", is_flag=True, help="Mount the /_emulator/ test-control endpoints.")
@click.option("--rate-limit", type=int, default=200, show_default=True, help="Requests per window per user and team.")
@click.option("--rate-window", type=float, default=60.0, show_default=True, help="Window length in seconds.")
@click.option("--time-scale", type=float, default=1.0, show_default=True,
              help="Multiplier for delivery retry waits.")
@click.option("--deliver-plain-http", is_flag=True, help="Deliver https:// URLs over plain http.")
def amiqus(host: str, port: int, tokens: tuple[str, ...], db: Path | None, control: bool, rate_limit: int,
           rate_window: float, time_scale: float, deliver_plain_http: bool) -> None:
    """The Amiqus ID webhooks API: v2 under /api/v2, v1 under /api."""
    from webhookctl.emulator.amiqus import AmiqusEmulator, AmiqusSettings
    from webhookctl.emulator.amiqus import create_app as amiqus_app
    from webhookctl.emulator.common.serve import bind, serve
    from webhookctl.emulator.common.store import DocumentStore

    settings = AmiqusSettings(control=control, rate_limit=rate_limit, rate_window_seconds=rate_window,
                              time_scale=time_scale, deliver_plain_http=deliver_plain_http)
    emulator = AmiqusEmulator(settings, DocumentStore(db))
    known = emulator.store.get("__tokens__") or {}
    for index, token in enumerate(tokens):
        if token not in known:
            emulator.add_token(token, team=f"team-{index + 1}")
    sock = bind(host, port)
    serve(amiqus_app(emulator), sock, _ready("Amiqus", " (v2 under /api/v2, v1 under /api)"))

"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def config_option(function: F) -> F:
    return click.option(
        "-c", "--config", "config_paths", multiple=True, type=click.Path(path_type=str),
        help="Config file or directory (repeatable). Default: $WEBHOOKCTL_CONFIG, else ./webhookctl.yaml.",
    )(function)


def _shard(context: click.Context, parameter: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    from webhookctl.engine.shard import Shard, ShardError

    try:
        return str(Shard.parse(value))
    except ShardError as error:
        raise click.BadParameter(str(error)) from None


def shard_option(function: F) -> F:
    return click.option(
        "--shard", metavar="K/N", callback=_shard,
        help="Only the accounts in shard K of N (a stable partition by account, for a CI matrix).",
    )(function)


def lock_timeout_option(function: F) -> F:
    return click.option(
        "--lock-timeout", type=click.FloatRange(0, 86400), default=0.0, metavar="SECONDS",
        help="Wait this long for another run's lock on an account (default: refuse at once).",
    )(function)

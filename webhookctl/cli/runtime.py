"""What every command that talks to providers does around its own work."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import NoReturn, TypeVar

from webhookctl.config.desired import Config
from webhookctl.config.load import load_config
from webhookctl.errors import ConfigError, WebhookctlError
from webhookctl.presenter import Presenter
from webhookctl.session import Session

T = TypeVar("T")


def fail(presenter: Presenter, message: str) -> NoReturn:
    presenter.error(message)
    sys.exit(1)


def load(presenter: Presenter, paths: Sequence[str]) -> Config:
    try:
        return load_config(paths)
    except ConfigError as error:
        presenter.problems(error.problems, "text")
        sys.exit(1)


def run(presenter: Presenter, config: Config, parallelism: int | None,
        work: Callable[[Session], Awaitable[T]]) -> T:
    """Run `work` with a session, turning webhookctl errors into one clear line and exit 1."""

    async def main() -> T:
        session = Session(config, parallelism)
        try:
            return await work(session)
        finally:
            await session.aclose()

    try:
        return asyncio.run(main())
    except WebhookctlError as error:
        fail(presenter, str(error))

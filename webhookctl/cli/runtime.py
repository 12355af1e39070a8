"""What every command that talks to providers does around its own work."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import NoReturn, TypeVar

from webhookctl.config.desired import Config
from webhookctl.config.load import load_config
from webhookctl.errors import ConfigError, WebhookctlError
from webhookctl.iothreads import leave_signals_to_the_main_thread
from webhookctl.presenter import Presenter
from webhookctl.session import Session

T = TypeVar("T")

# A run silent this long says it is still working (Terraform's "Still creating...").
STILL_WORKING_EVERY = 10.0


def fail(presenter: Presenter, message: str) -> NoReturn:
    presenter.fail(message)


def load(presenter: Presenter, paths: Sequence[str]) -> Config:
    """The configuration, or exit 1 with its problems; one that declares no provider is an error too."""
    try:
        config = load_config(paths)
    except ConfigError as error:
        presenter.config_failed(error.problems)
    if not config.providers:
        files = ", ".join(config.files) or "the configuration"
        presenter.fail(f"{files} declares no providers, so there is nothing to do; point -c at the file or "
                       "directory that declares them (webhookctl <command> -c DIR)", "config")
    return config


async def _heartbeat(presenter: Presenter, every: float) -> None:
    started = time.monotonic()
    while True:
        await asyncio.sleep(every)
        presenter.still_working(time.monotonic() - started)


def run(presenter: Presenter, config: Config, parallelism: int | None,
        work: Callable[[Session], Awaitable[T]]) -> T:
    """Run `work` with a session, turning webhookctl errors into one clear line and exit 1.

    Every provider the session opens announces its rate-limit waits and retries on
    stderr, and a long run says now and then that it is still working.
    """

    # The work's result is handed back beside the main task, not as its result: on its way out,
    # asyncio.run (Python 3.11) asks signal.getsignal for its SIGINT handler, a partial holding the
    # main task, and that builds a ValueError message with repr() of it, result included: the
    # whole plan's repr, ~60 MB at 10,000 changes, twice (and 0.15-0.5 s of CPU for 2,000).
    results: list[T] = []

    async def main() -> None:
        # asyncio's own threads (name resolution, to_thread) leave signals to the main thread too.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(thread_name_prefix="webhookctl", initializer=leave_signals_to_the_main_thread))
        session = Session(config, parallelism, watch=presenter.watch)
        heartbeat = asyncio.create_task(_heartbeat(presenter, STILL_WORKING_EVERY))
        try:
            results.append(await work(session))
        finally:
            heartbeat.cancel()
            await session.aclose()

    try:
        asyncio.run(main())
        return results[0]
    except WebhookctlError as error:
        presenter.fail(str(error))

"""Global options (`--debug`, `--color/--no-color`) and the environment variables behind them.

Colour, by precedence: `--color`/`--no-color`; `NO_COLOR` set and not empty turns it
off (no-color.org); `FORCE_COLOR` set and not empty turns it on (CI logs); else
colour when the stream is a terminal.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, TextIO

import click

if TYPE_CHECKING:
    import logging

COLOR_KEY = "webhookctl.color"
DEBUG_LOGGER = "webhookctl"


def remember(ctx: click.Context, color: bool | None, debug: bool) -> None:
    ctx.meta[COLOR_KEY] = color
    if debug:
        enable_debug()
        ctx.call_on_close(disable_debug)


def enable_debug() -> None:
    """Log requests (method, path, status, timing) to stderr; credentials and bodies are never logged."""
    # logging is imported when --debug asks for it: every command line (--help too) passes through here.
    import logging

    logger = logging.getLogger(DEBUG_LOGGER)
    if not any(getattr(h, "webhookctl_debug", False) for h in logger.handlers):
        handler = _stderr_handler()
        handler.setFormatter(logging.Formatter("debug: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


def disable_debug() -> None:
    import logging

    logger = logging.getLogger(DEBUG_LOGGER)
    for handler in [h for h in logger.handlers if getattr(h, "webhookctl_debug", False)]:
        logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)


def _stderr_handler() -> logging.Handler:
    import logging

    class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
        """Writes to the sys.stderr of the moment (click's test runner swaps it)."""

        webhookctl_debug = True

        def __init__(self) -> None:
            super().__init__()

        @property
        def stream(self) -> TextIO:
            return sys.stderr

        @stream.setter
        def stream(self, value: TextIO) -> None:
            pass

    return StderrHandler()


def color_for(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    environ = os.environ if environ is None else environ
    ctx = click.get_current_context(silent=True)
    chosen = ctx.find_root().meta.get(COLOR_KEY) if ctx is not None else None
    if chosen is not None:
        return bool(chosen)
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def is_closed_pipe(error: BaseException) -> bool:
    """Whether writing failed because the reader went away (`webhookctl ... | head -1`)."""
    return isinstance(error, BrokenPipeError) or (isinstance(error, OSError) and error.errno == errno.EPIPE)


def silence(stream: TextIO) -> None:
    """Point `stream`'s file descriptor at /dev/null, so what is still buffered, and all that follows,
    is dropped instead of failing again (at the interpreter's final flush too)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (tests): nothing will flush it at exit


def output_format() -> str | None:
    """The running command's `--format`, so errors can stay in that format."""
    ctx = click.get_current_context(silent=True)
    value = ctx.params.get("fmt") if ctx is not None else None
    return value if isinstance(value, str) else None

"""The approval prompt: `yes` typed out (Terraform's convention), and Ctrl-C that works at once."""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator

import click

from webhookctl.errors import WebhookctlError


class Cancelled(WebhookctlError):
    """The user did not approve; nothing was changed."""


@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """Let Ctrl-C interrupt a prompt at once.

    The prompt runs inside asyncio.run, whose SIGINT handler only cancels the main
    task, which cannot happen while input() blocks the loop: the first Ctrl-C would be
    swallowed. Python's default handler raises KeyboardInterrupt right in input().
    """
    try:
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def approve(question: str, action: str) -> None:
    """Ask; return only when the answer is exactly `yes`, else raise Cancelled (exit 1)."""
    click.echo(f"{question}\n  Only 'yes' will be accepted to approve.\n")
    try:
        with _interruptible():
            answer = click.prompt("  Enter a value", default="", show_default=False, prompt_suffix=": ")
    except (KeyboardInterrupt, EOFError, click.Abort):
        sys.stdout.write("\n")
        raise Cancelled(f"{action} cancelled (interrupted at the prompt); nothing was changed") from None
    if answer.strip() != "yes":
        raise Cancelled(f"{action} cancelled; nothing was changed")

"""The approval prompt: `yes` typed out (Terraform's convention), and Ctrl-C that works at once."""

from __future__ import annotations

import contextlib
import os
import select
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


def _read_line(prompt: str) -> str:
    """One line from the terminal, which any Ctrl-C interrupts at once (KeyboardInterrupt).

    A Ctrl-C the kernel hands to another thread (an HTTP library's worker) only sets Python's flag,
    and a main thread blocked reading the terminal would never act on it; so the read also watches
    the signal wakeup fd, which the signal writes to whichever thread catches it.
    """
    sys.stdout.write(prompt)
    sys.stdout.flush()
    stdin = sys.stdin.fileno()
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    previous = signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
    try:
        line = b""
        while b"\n" not in line:
            ready, _, _ = select.select([stdin, wake_read], [], [])
            if wake_read in ready:
                raise KeyboardInterrupt
            chunk = os.read(stdin, 1024)
            if not chunk:
                raise EOFError
            line += chunk
        return line.split(b"\n", 1)[0].decode(errors="replace")
    finally:
        signal.set_wakeup_fd(previous)
        os.close(wake_read)
        os.close(wake_write)


def approve(question: str, action: str) -> None:
    """Ask; return only when the answer is exactly `yes`, else raise Cancelled (exit 1)."""
    click.echo(f"{question}\n  Only 'yes' will be accepted to approve.\n")
    try:
        with _interruptible():
            answer = _read_line("  Enter a value: ")
    except (KeyboardInterrupt, EOFError, click.Abort):
        sys.stdout.write("\n")
        raise Cancelled(f"{action} cancelled (interrupted at the prompt); nothing was changed") from None
    if answer.strip() != "yes":
        raise Cancelled(f"{action} cancelled; nothing was changed")

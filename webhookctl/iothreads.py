"""Blocking calls (a secrets backend's, the journal's) run off the event loop, on threads of their own.

Why not `loop.run_in_executor` on a `ThreadPoolExecutor`: an apply hands two calls per created
destination to these threads, and that path wraps each in a `concurrent.futures.Future` (a lock
and a condition of its own), chains it to an asyncio future through two callbacks, and counts
idle threads with a semaphore: together more CPU than many of the calls themselves. Here a call
goes on a queue, and the thread that ran it resolves the caller's asyncio future with one
`call_soon_threadsafe`.

Contract: `run` returns what the call returned or raises what it raised; a call whose caller was
cancelled still runs to its end (a half-done fsync cannot be undone), and its result is dropped.
`close` waits for the calls already queued. Threads start as calls need them, up to `workers`,
and block SIGINT and SIGTERM, so that the kernel delivers those to the main thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import signal
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
_Job = tuple[Callable[..., Any], tuple[Any, ...], asyncio.AbstractEventLoop, "asyncio.Future[Any]"]


def leave_signals_to_the_main_thread() -> None:
    """For worker threads: block Ctrl-C and SIGTERM here, so the kernel delivers them to the main thread.

    A signal that lands on a worker only sets Python's flag; the main thread, blocked reading an
    answer at the approval prompt, would not wake up to act on it (Ctrl-C seemed ignored).
    """
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


class IoThreads:
    def __init__(self, workers: int, name: str = "webhookctl-io") -> None:
        self._workers = max(1, workers)
        self._name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0  # threads done with their last job and not yet handed another
        self._lock = threading.Lock()

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._lock:
            if not self._idle and len(self._threads) < self._workers:
                thread = threading.Thread(target=self._work, name=f"{self._name}_{len(self._threads)}", daemon=True)
                self._threads.append(thread)
                thread.start()
            else:
                self._idle -= bool(self._idle)  # this job will wake one of them
        self._jobs.put((call, args, loop, future))
        return await future

    def _work(self) -> None:
        leave_signals_to_the_main_thread()
        while True:
            job = self._jobs.get()
            if job is None:
                return
            call, args, loop, future = job
            result, error = None, None
            try:
                result = call(*args)
            except BaseException as failure:
                error = failure
            del job  # neither the call nor its arguments outlive it here
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits for this result
                loop.call_soon_threadsafe(_settle, future, result, error)
            del call, args, future, result, error
            with self._lock:
                self._idle += 1

    def close(self) -> None:
        """Wait for the queued calls to end, then stop the threads."""
        with self._lock:
            threads, self._threads = self._threads, []
        for _ in threads:
            self._jobs.put(None)
        for thread in threads:
            thread.join()

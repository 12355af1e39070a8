"""The I/O threads (webhookctl.iothreads): blocking calls off the event loop, results and errors intact.

What must hold: each call's result or exception reaches its caller (the exception itself, with its
traceback); calls run concurrently up to the thread count and never on the event loop's thread; a
cancelled caller's call still runs to its end; `close` waits for queued calls; the threads block
SIGINT/SIGTERM so that the main thread receives them. Real threads, no mocks.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time

import pytest

from webhookctl.iothreads import IoThreads


def test_results_and_exceptions_reach_their_callers() -> None:
    class Boom(Exception):
        pass

    def fail(n: int) -> int:
        raise Boom(f"call {n}")

    async def main() -> None:
        threads = IoThreads(3)
        assert await threads.run(lambda a, b: a + b, 2, 3) == 5
        with pytest.raises(Boom, match="call 7"):
            await threads.run(fail, 7)
        results = await asyncio.gather(*(threads.run(lambda n: n * n, n) for n in range(50)))
        assert results == [n * n for n in range(50)]
        threads.close()

    asyncio.run(main())


def test_calls_run_off_the_loop_concurrently_up_to_the_thread_count() -> None:
    lock = threading.Lock()
    running, peak, where = 0, 0, set()

    def work() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
            where.add(threading.get_ident())
        time.sleep(0.05)
        with lock:
            running -= 1

    async def main() -> None:
        threads = IoThreads(3)
        await asyncio.gather(*(threads.run(work) for _ in range(12)))
        threads.close()

    asyncio.run(main())
    assert peak == 3 and len(where) == 3 and threading.get_ident() not in where


def test_a_cancelled_callers_call_still_ends_and_close_waits_for_queued_calls() -> None:
    finished: list[int] = []

    def slow(n: int) -> int:
        time.sleep(0.1)
        finished.append(n)
        return n

    async def main() -> None:
        threads = IoThreads(1)
        first = asyncio.ensure_future(threads.run(slow, 1))
        second = asyncio.ensure_future(threads.run(slow, 2))
        await asyncio.sleep(0.02)
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        assert await second == 2
        queued = asyncio.ensure_future(threads.run(slow, 3))
        await asyncio.sleep(0)
        threads.close()  # blocks until the queued call has run
        assert finished == [1, 2, 3]
        queued.cancel()

    asyncio.run(main())


def test_the_threads_leave_interrupts_to_the_main_thread() -> None:
    async def main() -> set[int]:
        threads = IoThreads(1)
        blocked = await threads.run(lambda: signal.pthread_sigmask(signal.SIG_BLOCK, set()))
        threads.close()
        return set(blocked)

    blocked = asyncio.run(main())
    assert {signal.SIGINT, signal.SIGTERM} <= blocked

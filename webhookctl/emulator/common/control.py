"""Control endpoints both emulators offer under /_emulator/ (with --control)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from webhookctl.emulator.common.clock import Clock, isoformat
from webhookctl.emulator.common.http import json_response


async def read_json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    value = json.loads(raw) if raw else {}
    return value if isinstance(value, dict) else {}


class Deliveries:
    """Outbound deliveries in flight, so a test can wait until none is."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def idle(self, timeout: float) -> bool:
        """Wait until no delivery is in flight; False if the timeout came first."""
        pending = set(self._tasks)
        if not pending:
            return True
        _, still = await asyncio.wait(pending, timeout=timeout)
        return not still


def common_routes(clock: Clock, deliveries: Deliveries) -> list[Route]:
    """POST /_emulator/clock {"advance_seconds"? | "offset_seconds"?}, POST /_emulator/idle {"timeout"?}."""

    async def move_clock(request: Request) -> Response:
        body = await read_json(request)
        if "offset_seconds" in body:
            clock.offset = float(body["offset_seconds"])
        if "advance_seconds" in body:
            clock.advance(float(body["advance_seconds"]))
        return json_response({"now": isoformat(clock.now()), "offset_seconds": clock.offset})

    async def idle(request: Request) -> Response:
        body = await read_json(request)
        return json_response({"idle": await deliveries.idle(float(body.get("timeout", 30)))})

    return [Route("/_emulator/clock", move_clock, methods=["POST"]),
            Route("/_emulator/idle", idle, methods=["POST"])]

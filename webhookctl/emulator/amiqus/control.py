"""Test-control endpoints under /_emulator/, mounted only with --control.

POST /_emulator/events    {"team" | "token", "event", "data"?}    -> {"delivery_ids"}
POST /_emulator/idle      {"timeout"?}                            -> {"idle"}
POST /_emulator/faults    {"maintenance"?, "latency_ms"?}
POST /_emulator/clock     {"advance_seconds"? | "offset_seconds"?}
POST /_emulator/tokens    {"token", "team"?, "read_only"?}        -> {"team"}
POST /_emulator/settings  {"rate_limit"?, "rate_window_seconds"?, "time_scale"?}
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from webhookctl.emulator.amiqus.settings import DELIVERABLE
from webhookctl.emulator.common.control import common_routes, read_json
from webhookctl.emulator.common.http import json_response

if TYPE_CHECKING:
    from webhookctl.emulator.amiqus.app import AmiqusEmulator


def control_routes(emulator: AmiqusEmulator) -> list[Route]:
    async def events(request: Request) -> Response:
        body = await read_json(request)
        team = body.get("team")
        if team is None and "token" in body:
            team = ((emulator.store.get("__tokens__") or {}).get(body["token"]) or {}).get("team")
        if team is None or emulator.team_document(str(team)) is None:
            return json_response({"error": "unknown team"}, 404)
        if body.get("event") not in DELIVERABLE:
            return json_response({"error": f"unknown event {body.get('event')!r}"}, 422)
        return json_response({"delivery_ids": emulator.deliverer.trigger(str(team), body["event"], body.get("data"))})

    async def faults(request: Request) -> Response:
        body = await read_json(request)
        if "maintenance" in body:
            emulator.maintenance = bool(body["maintenance"])
        if "latency_ms" in body:
            emulator.latency_seconds = float(body["latency_ms"]) / 1000
        return json_response({"maintenance": emulator.maintenance, "latency_ms": emulator.latency_seconds * 1000})

    async def tokens(request: Request) -> Response:
        body = await read_json(request)
        team = emulator.add_token(str(body["token"]), body.get("team"), read_only=bool(body.get("read_only")))
        return json_response({"team": team}, 201)

    async def settings(request: Request) -> Response:
        body = await read_json(request)
        if "rate_limit" in body:
            emulator.settings.rate_limit = int(body["rate_limit"])
        if "rate_window_seconds" in body:
            emulator.settings.rate_window_seconds = float(body["rate_window_seconds"])
            emulator.limiter.window_seconds = emulator.settings.rate_window_seconds
        if "time_scale" in body:
            emulator.settings.time_scale = float(body["time_scale"])
        return json_response({"rate_limit": emulator.settings.rate_limit,
                              "rate_window_seconds": emulator.settings.rate_window_seconds,
                              "time_scale": emulator.settings.time_scale})

    return [
        *common_routes(emulator.clock, emulator.deliverer.in_flight),
        Route("/_emulator/events", events, methods=["POST"]),
        Route("/_emulator/faults", faults, methods=["POST"]),
        Route("/_emulator/tokens", tokens, methods=["POST"]),
        Route("/_emulator/settings", settings, methods=["POST"]),
    ]

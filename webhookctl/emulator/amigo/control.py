"""Test-control endpoints under /_emulator/, mounted only with --control.

POST /_emulator/events    {"org", "type", "data"?}                -> {"delivery_ids"}
POST /_emulator/idle      {"timeout"?}                            -> {"idle"}
POST /_emulator/faults    {"maintenance"?, "conflict_writes"?, "latency_ms"?, "latency_endpoints"?}
POST /_emulator/clock     {"advance_seconds"? | "offset_seconds"?} -> {"now", "offset_seconds"}
POST /_emulator/orgs      {"id", "user_id", "api_key_id", "api_key"}
POST /_emulator/settings  {"rate_limits"?, "rate_window_seconds"?, "time_scale"?}
GET  /_emulator/stats                                             -> {"requests", "throttled"} per endpoint
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from webhookctl.emulator.amigo.settings import WEBHOOK_TYPES
from webhookctl.emulator.common.control import common_routes, read_json
from webhookctl.emulator.common.http import json_response

if TYPE_CHECKING:
    from webhookctl.emulator.amigo.app import AmigoEmulator


def control_routes(emulator: AmigoEmulator) -> list[Route]:
    async def events(request: Request) -> Response:
        body = await read_json(request)
        org, event_type = str(body.get("org", "")), str(body.get("type", ""))
        if emulator.org_document(org) is None:
            return json_response({"detail": f"unknown organization {org!r}"}, 404)
        if event_type not in WEBHOOK_TYPES:
            return json_response({"detail": f"unknown type {event_type!r}"}, 422)
        ids = emulator.deliverer.trigger(org, event_type, body.get("data"))
        return json_response({"delivery_ids": ids})

    async def faults(request: Request) -> Response:
        body = await read_json(request)
        if "maintenance" in body:
            emulator.faults.maintenance = bool(body["maintenance"])
        if "conflict_writes" in body:
            emulator.faults.conflict_writes = int(body["conflict_writes"])
        if "latency_ms" in body:
            emulator.faults.latency_seconds = float(body["latency_ms"]) / 1000
            emulator.faults.latency_endpoints = frozenset(body.get("latency_endpoints") or ())
        return json_response(
            {
                "maintenance": emulator.faults.maintenance,
                "conflict_writes": emulator.faults.conflict_writes,
                "latency_ms": emulator.faults.latency_seconds * 1000,
            }
        )

    async def orgs(request: Request) -> Response:
        body = await read_json(request)
        emulator.provision(
            str(body["id"]), str(body["user_id"]), str(body["api_key_id"]), str(body["api_key"])
        )
        return json_response({"id": body["id"]}, 201)

    async def settings(request: Request) -> Response:
        body = await read_json(request)
        if "rate_limits" in body:
            emulator.settings.rate_limits.update({k: int(v) for k, v in body["rate_limits"].items()})
        if "rate_window_seconds" in body:
            emulator.settings.rate_window_seconds = float(body["rate_window_seconds"])
            emulator.limiter.window_seconds = emulator.settings.rate_window_seconds
        if "time_scale" in body:
            emulator.settings.time_scale = float(body["time_scale"])
        return json_response(
            {
                "rate_limits": emulator.settings.rate_limits,
                "rate_window_seconds": emulator.settings.rate_window_seconds,
                "time_scale": emulator.settings.time_scale,
            }
        )

    async def stats(request: Request) -> Response:
        return json_response({"requests": dict(emulator.requests), "throttled": dict(emulator.throttled)})

    return [
        *common_routes(emulator.clock, emulator.deliverer.in_flight),
        Route("/_emulator/stats", stats, methods=["GET"]),
        Route("/_emulator/events", events, methods=["POST"]),
        Route("/_emulator/faults", faults, methods=["POST"]),
        Route("/_emulator/orgs", orgs, methods=["POST"]),
        Route("/_emulator/settings", settings, methods=["POST"]),
    ]

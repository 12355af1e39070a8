"""Outbound webhooks: signing, retries, the delivery log and its query endpoint."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
from typing import TYPE_CHECKING, Any

import httpx
from starlette.datastructures import QueryParams

from webhookctl.emulator.amigo.validation import validation_error
from webhookctl.emulator.common.clock import isoformat, parse_iso
from webhookctl.emulator.common.control import Deliveries
from webhookctl.emulator.common.outbound import delivery_target, is_loopback
from webhookctl.emulator.common.store import Document
from webhookctl.emulator.common.strict import date_time, integer

if TYPE_CHECKING:
    from webhookctl.emulator.amigo.app import AmigoEmulator

SORT_FIELDS = ("type", "status", "created_at")
# DeliveryAttempt.status_code is a required integer; a call that got no HTTP answer records 0.
NO_RESPONSE = 0


def sign(secret: str, timestamp_ms: str, body: bytes) -> str:
    message = b"v1:" + timestamp_ms.encode() + b":" + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def default_payload(org: str, event_type: str) -> dict[str, Any]:
    if event_type == "conversation-post-processing-complete":
        return {
            "type": event_type,
            "post_processing_type": "extract-memories",
            "conversation_id": secrets.token_hex(12),
            "org_id": org,
        }
    return {"type": event_type, "org_id": org}


class Deliverer:
    def __init__(self, emulator: AmigoEmulator) -> None:
        self._emulator = emulator
        self.in_flight = Deliveries()

    def trigger(self, org: str, event_type: str, data: dict[str, Any] | None) -> list[str]:
        """Record one delivery per destination accepting the type and start sending them."""
        payload = {**default_payload(org, event_type), **(data or {})}
        emulator = self._emulator
        created: list[str] = []
        with emulator.store.transaction("org:" + org) as document:
            now = emulator.clock.now()
            for destination in document["destinations"].values():
                if event_type not in destination["accepted_types"]:
                    continue
                delivery_id = secrets.token_hex(12)
                document["deliveries"].append(
                    {
                        "id": delivery_id,
                        "destination_id": destination["id"],
                        "type": event_type,
                        "webhook_content": payload,
                        "status": "failed",
                        "delivery_attempts": [],
                        "dual_signed": False,
                        "created_at": isoformat(now),
                    }
                )
                created.append(delivery_id)
        for delivery_id in created:
            self.in_flight.start(self._send(org, delivery_id))
        return created

    def _signatures(self, destination: dict[str, Any], timestamp_ms: str, body: bytes) -> tuple[str, bool]:
        now = self._emulator.clock.now()
        signatures = [sign(destination["secret"], timestamp_ms, body)]
        stops_at = destination.get("dual_signing_stops_at")
        previous: str | None = destination.get("previous_secret")
        dual = bool(previous and stops_at and now < parse_iso(stops_at))
        if dual and previous:
            signatures.append(sign(previous, timestamp_ms, body))
        return self._emulator.settings.signature_separator.join(signatures), dual

    async def _send(self, org: str, delivery_id: str) -> None:
        emulator = self._emulator
        settings = emulator.settings
        async with httpx.AsyncClient(timeout=settings.delivery_timeout_seconds, trust_env=False) as client:
            attempt = 0
            while True:
                document = emulator.store.get("org:" + org) or {"destinations": {}, "deliveries": []}
                delivery = next((d for d in document["deliveries"] if d["id"] == delivery_id), None)
                if delivery is None:
                    return
                destination = document["destinations"].get(delivery["destination_id"])
                if destination is None:
                    return
                body = json.dumps(delivery["webhook_content"], separators=(",", ":")).encode()
                timestamp_ms = str(int(emulator.clock.time() * 1000))
                signature, dual = self._signatures(destination, timestamp_ms, body)
                status_code = await self._post(client, destination["url"], body, {
                    "content-type": "application/json",
                    "x-amigo-idempotent-key": delivery_id,
                    "x-amigo-request-timestamp": timestamp_ms,
                    "x-amigo-request-signature": signature,
                })
                succeeded = 200 <= status_code < 300
                with emulator.store.transaction("org:" + org) as stored:
                    for item in stored["deliveries"]:
                        if item["id"] == delivery_id:
                            item["delivery_attempts"].append(
                                {"delivery_time": isoformat(emulator.clock.now()), "status_code": status_code}
                            )
                            item["dual_signed"] = item["dual_signed"] or dual
                            if succeeded:
                                item["status"] = "success"
                if succeeded or attempt >= destination["retry_attempts"]:
                    return
                schedule = settings.retry_schedule_seconds
                await asyncio.sleep(schedule[min(attempt, len(schedule) - 1)] * settings.time_scale)
                attempt += 1

    async def _post(self, client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]) -> int:
        settings = self._emulator.settings
        if not settings.deliver_anywhere and not is_loopback(url):
            return NO_RESPONSE
        try:
            response = await client.post(
                delivery_target(url, plain_http=settings.deliver_plain_http), content=body, headers=headers
            )
        except httpx.HTTPError:
            return NO_RESPONSE
        return response.status_code


def _parse_time(params: QueryParams, name: str) -> Any:
    value = params.get(name)
    if value is None:
        return None
    parsed = date_time(value)
    if parsed is None:
        raise validation_error(
            ["query", name], "Input should be a valid datetime", "datetime_from_date_parsing", value
        )
    return parsed


def _parse_int(params: QueryParams, name: str, default: int) -> int:
    value = params.get(name)
    if value is None:
        return default
    parsed = integer(value)
    if parsed is None:
        raise validation_error(
            ["query", name],
            "Input should be a valid integer, unable to parse string as an integer",
            "int_parsing",
            value,
        )
    return parsed


def _sort_key(name: str) -> Any:
    if name == "created_at":
        return lambda delivery: parse_iso(delivery[name])
    return lambda delivery: delivery[name]


def list_deliveries(document: Document, destination_id: str, params: QueryParams) -> dict[str, Any]:
    status = params.get("status")
    if status is not None and status not in ("success", "failed"):
        raise validation_error(["query", "status"], "Input should be 'success' or 'failed'", "enum", status)
    event_type = params.get("type")
    after = _parse_time(params, "created_after")
    before = _parse_time(params, "created_before")
    limit = _parse_int(params, "limit", 50)
    if not 0 <= limit <= 50:
        raise validation_error(
            ["query", "limit"],
            "Input should be less than or equal to 50" if limit > 50 else "Input should be greater than or equal to 0",
            "less_than_equal" if limit > 50 else "greater_than_equal",
            str(limit),
        )
    offset = _parse_int(params, "continuation_token", 0)
    sort_keys: list[tuple[str, bool]] = []
    for index, raw in enumerate(params.getlist("sort_by")):
        # One optional direction sign, then a field; an unencoded "+" arrives as a space.
        descending = raw.startswith("-")
        name = raw[1:] if raw[:1] in ("+", "-", " ") else raw
        if name not in SORT_FIELDS:
            raise validation_error(
                ["query", "sort_by", index], f"Unsupported sort field {raw!r}", "value_error", raw
            )
        sort_keys.append((name, descending))

    # A delivery is listed once its first attempt has an outcome: `status` has no value for one still in
    # flight (NOTES.md A3: no `pending`), and `delivery_attempts` would be empty.
    items = [
        d
        for d in document["deliveries"]
        if d["destination_id"] == destination_id
        and d["delivery_attempts"]
        and (status is None or d["status"] == status)
        and (event_type is None or d["type"] == event_type)
        and (after is None or parse_iso(d["created_at"]) >= after)
        and (before is None or parse_iso(d["created_at"]) <= before)
    ]
    # Stable sorts from the last key to the first: earlier keys win, later ones break ties.
    for name, descending in reversed(sort_keys):
        items.sort(key=_sort_key(name), reverse=descending)
    page = items[max(offset, 0) : max(offset, 0) + limit]
    # A page of 0 never reaches the rest: no continuation, or a client following has_more would never stop.
    has_more = limit > 0 and max(offset, 0) + limit < len(items)
    return {
        "webhook_deliveries": [{k: v for k, v in d.items() if k != "destination_id"} for d in page],
        "has_more": has_more,
        "continuation_token": max(offset, 0) + limit if has_more else None,
    }

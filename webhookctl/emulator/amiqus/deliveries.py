"""Outbound Amiqus webhooks: wildcard matching, signing, the retry schedule, auto-disable."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from webhookctl.emulator.amiqus.wire import v2_time
from webhookctl.emulator.common.control import Deliveries
from webhookctl.emulator.common.outbound import delivery_target, is_loopback

if TYPE_CHECKING:
    from webhookctl.emulator.amiqus.app import AmiqusEmulator


def matches(subscriptions: list[str], event: str) -> bool:
    """`*` matches everything; `category.*` every event of that category (B8)."""
    category = event.split(".", 1)[0]
    return any(s == "*" or s == event or (s.endswith(".*") and s[:-2] == category) for s in subscriptions)


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def default_data(event: str) -> Any:
    if event == "ping":
        return ["ping"]
    category = event.split(".", 1)[0]
    client = {"id": 1000 + secrets.randbelow(9000)}
    client["show"] = f"https://id.amiqus.co/api/v2/clients/{client['id']}"  # type: ignore[assignment]
    if category == "client":
        return {"client": {"id": client["id"]}} if event == "client.deleted" else {"client": client}
    if category in ("record", "watchlist"):
        record = {"id": 5000 + secrets.randbelow(9000), "type": "check"}
        return {"client": client, "record": {**record, "show": f"https://id.amiqus.co/api/v2/records/{record['id']}",
                                             "download": None}, "case": None}
    if category == "form":
        reference = secrets.token_hex(4)
        return {"form": {"reference": reference, "show": f"https://id.amiqus.co/forms/{reference}"}}
    case = {"id": 700 + secrets.randbelow(900)}
    return {"case": {**case, "show": f"https://id.amiqus.co/api/v2/cases/{case['id']}"}}


def _body(response: httpx.Response) -> Any:
    """The receiver's answer as the log holds it: null, an object, an array of strings, or else its text
    (WebhookDeliveryResponse.body allows nothing more: a bare number or `true` is logged as written)."""
    if not response.content:
        return None
    try:
        parsed = response.json()
    except ValueError:
        return response.text
    if isinstance(parsed, dict) or (isinstance(parsed, list) and all(isinstance(item, str) for item in parsed)):
        return parsed
    return response.text


def _headers(response: httpx.Response) -> dict[str, str]:
    """The receiver's headers as it wrote their names (the spec's example keeps `Cache-Control`); a
    repeated header's values joined by ", "."""
    headers: dict[str, str] = {}
    names: dict[str, str] = {}
    for raw_name, raw_value in response.headers.raw:
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        first = names.setdefault(name.lower(), name)
        headers[first] = f"{headers[first]}, {value}" if first in headers else value
    return headers


class Deliverer:
    def __init__(self, emulator: AmiqusEmulator) -> None:
        self._emulator = emulator
        self.in_flight = Deliveries()

    def trigger(self, team: str, event: str, data: Any = None) -> list[str]:
        emulator = self._emulator
        started: list[tuple[int, bytes]] = []
        with emulator.store.transaction("team:" + team) as document:
            now = emulator.clock.time()
            for hook in document["webhooks"].values():
                if not hook["is_enabled"] or not (event == "ping" or matches(hook["events"], event)):
                    continue
                payload = {"webhook": {"uuid": hook["uuid"], "created_at": v2_time(hook["created_at"]),
                                       "events": hook["events"]},
                           "trigger": {"triggered_at": v2_time(now), "alias": event},
                           "data": data if data is not None else default_data(event)}
                body = json.dumps(payload, separators=(",", ":")).encode()
                delivery = {
                    "id": emulator._next_id("delivery", 4000), "uuid": str(uuid.uuid4()), "webhook_id": hook["id"],
                    "event": event, "attempts": 0, "failed": False, "last_sent_at": None,
                    "request": {"url": hook["url"], "headers": {}, "body": payload},
                    "response": {"status_code": "", "headers": {}, "body": None},
                }
                document["deliveries"].append(delivery)
                started.append((delivery["id"], body))
        for delivery_id, body in started:
            self.in_flight.start(self._send(team, delivery_id, body))
        store = emulator.team_document(team) or {"deliveries": []}
        return [d["uuid"] for d in store["deliveries"] if d["id"] in {i for i, _ in started}]

    async def _send(self, team: str, delivery_id: int, body: bytes) -> None:
        emulator = self._emulator
        settings = emulator.settings
        schedule = settings.retry_schedule_seconds
        async with httpx.AsyncClient(timeout=settings.delivery_timeout_seconds, trust_env=False) as client:
            for attempt in range(1, len(schedule) + 2):
                document = emulator.team_document(team) or {"webhooks": {}, "deliveries": []}
                delivery = next((d for d in document["deliveries"] if d["id"] == delivery_id), None)
                hook = document["webhooks"].get(str(delivery["webhook_id"])) if delivery else None
                if delivery is None or hook is None:
                    return
                headers = {
                    "Content-Length": str(len(body)), "Host": urlsplit(hook["url"]).netloc,
                    "User-Agent": f"Amiqus AmiqusID/{settings.build}", "Content-Type": "application/json",
                    "X-AQID-Signature": sign(hook["secret"], body), "X-AQID-Delivery-Id": delivery["uuid"],
                    "X-AQID-Delivery-Attempt": str(attempt),
                }
                status, response_headers, response_body = await self._post(client, hook["url"], body, headers)
                succeeded = 200 <= status < 300
                exhausted = not succeeded and attempt == len(schedule) + 1
                with emulator.store.transaction("team:" + team) as stored:
                    for item in stored["deliveries"]:
                        if item["id"] == delivery_id:
                            item.update(attempts=attempt, failed=not succeeded, last_sent_at=emulator.clock.time(),
                                        request={"url": hook["url"], "headers": headers, "body": item["request"]["body"]},
                                        response={"status_code": str(status), "headers": response_headers,
                                                  "body": response_body})
                    live = stored["webhooks"].get(str(hook["id"]))
                    if live is not None and succeeded:
                        live["failure_tally"] = 0
                    elif live is not None and exhausted:
                        live["failure_tally"] = live.get("failure_tally", 0) + 1
                        if live["failure_tally"] >= settings.disable_after_failed_payloads:
                            live["is_enabled"] = False
                if succeeded or exhausted:
                    return
                await asyncio.sleep(schedule[attempt - 1] * settings.time_scale)

    async def _post(self, client: httpx.AsyncClient, url: str, body: bytes,
                    headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        settings = self._emulator.settings
        if not settings.deliver_anywhere and not is_loopback(url):
            return 0, {}, None
        send = {k: v for k, v in headers.items() if k not in ("Content-Length", "Host")}
        try:
            response = await client.post(delivery_target(url, plain_http=settings.deliver_plain_http),
                                         content=body, headers=send)
        except httpx.HTTPError:
            return 0, {}, None
        return response.status_code, _headers(response), _body(response)

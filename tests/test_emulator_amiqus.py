"""The Amiqus emulator over real HTTP: v2 against the vendor's schemas, v1 against the migration guide."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import httpx
import pytest
from jsonschema import Draft202012Validator

from tests.conftest import AmiqusServer
from tests.support import spec
from tests.support.servers import receiver

V1_WEBHOOK = {
    "type": "object",
    "required": ["id", "url", "events", "active", "secret", "created_at", "updated_at"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "integer"}, "url": {"type": "string"}, "events": {"type": "string"},
        "active": {"type": "boolean"}, "secret": {"type": "string"},
        "created_at": {"type": "string", "pattern": r"\+00:00$"}, "updated_at": {"type": "string", "pattern": r"\+00:00$"},
    },
}
V1_PAGINATION = {
    "type": "object", "required": ["total", "count", "per_page", "current_page", "total_pages", "links"],
    "properties": {"total": {"type": "integer"}, "count": {"type": "integer"}, "per_page": {"type": "integer"},
                   "current_page": {"type": "integer"}, "total_pages": {"type": "integer"}},
}
V1_LIST = {"type": "object", "required": ["data", "meta"], "properties": {
    "data": {"type": "array", "items": V1_WEBHOOK},
    "meta": {"type": "object", "required": ["pagination"], "properties": {"pagination": V1_PAGINATION}}}}
V1_DELIVERY = {
    "type": "object",
    "required": ["id", "uuid", "status", "failed", "request", "response", "attempts", "last_delivered_at"],
    "properties": {
        "status": {"type": "string"}, "failed": {"type": "boolean"}, "attempts": {"type": "integer"},
        "request": {"type": "object", "required": ["headers", "body"], "properties": {"headers": {
            "type": "object", "required": ["Request URL", "Request method", "Content-Length", "Host", "User-Agent",
                                           "Content-Type", "X-AQID-Signature", "X-AQID-Delivery-Id"]}}},
        "last_delivered_at": {"type": "string", "pattern": r"\+00:00$"},
    },
}


def amiqus_signature(secret: str, body: bytes) -> str:
    """NOTES.md B7, written here independently of the emulator."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode()


def test_signature_helper_matches_the_notes_vector() -> None:
    body = (b'{"webhook":{"uuid":"u","created_at":"2023-02-11T13:01:34Z","events":["*"]},'
            b'"trigger":{"triggered_at":"2023-06-28T16:15:27Z","alias":"ping"},"data":["ping"]}')
    assert amiqus_signature("test-secret", body) == "FGf/9q492px71N/aO6Ia+NbxWEuTdHum6ZAsLuIuIa8="


@pytest.fixture
def client(amiqus_server: AmiqusServer) -> httpx.Client:
    return httpx.Client(base_url=amiqus_server.url, headers={"authorization": f"Bearer {amiqus_server.token}"})


def create_v2(client: httpx.Client, url: str = "https://hooks.example.com/a", **extra: object) -> dict[str, object]:
    response = client.post("/api/v2/webhooks", json={"url": url, "events": ["record.*"], **extra})
    assert response.status_code == 201, response.text
    spec.amiqus("/webhooks", "post", "201", response.json())
    return dict(response.json())


def test_v2_crud(client: httpx.Client) -> None:
    created = create_v2(client, events=["client.*", "record.created"])
    assert len(str(created["secret"])) == 64 and created["is_enabled"] is True
    one = f"/api/v2/webhooks/{created['id']}"
    shown = client.get(one)
    spec.amiqus("/webhooks/{id}", "get", "200", shown.json())
    assert shown.json() == created

    patched = client.patch(one, json={"url": "https://hooks.example.com/b"})
    assert patched.status_code == 200
    spec.amiqus("/webhooks/{id}", "patch", "200", patched.json())
    assert patched.json()["url"] == "https://hooks.example.com/b"
    assert patched.json()["events"] == ["client.*", "record.created"]  # partial update
    put = client.put(one, json={"is_enabled": False})
    assert put.status_code == 200 and put.json()["is_enabled"] is False

    empty = client.patch(one, json={})
    assert empty.status_code == 422 and empty.json() == {"errors": ["At least one property is required"]}
    spec.amiqus("/webhooks/{id}", "patch", "422", empty.json())

    deleted = client.delete(one)
    assert deleted.status_code == 204 and deleted.content == b""
    missing = client.get(one)
    assert missing.status_code == 404 and missing.json() == {"error": "Webhook not found"}
    spec.amiqus("/webhooks/{id}", "get", "404", missing.json())
    assert client.delete(one).status_code == 404


@pytest.mark.parametrize("body, field", [
    ({"url": "http://insecure.example.com", "events": ["*"]}, "url"),
    ({"url": "not a url", "events": ["*"]}, "url"),
    ({"events": ["*"]}, "url"),
    ({"url": "https://a.example.com"}, "events"),
    ({"url": "https://a.example.com", "events": []}, "events"),
    ({"url": "https://a.example.com", "events": ["ping"]}, "events.0"),
    ({"url": "https://a.example.com", "events": ["*", "watchlist.*"]}, "events.1"),
    ({"url": "https://a.example.com", "events": ["*", "*"]}, "events.1"),
    ({"url": "https://a.example.com", "events": ["*"], "is_enabled": "maybe"}, "is_enabled"),
])
def test_v2_create_validation(client: httpx.Client, body: dict[str, object], field: str) -> None:
    response = client.post("/api/v2/webhooks", json=body)
    assert response.status_code == 422
    spec.amiqus("/webhooks", "post", "422", response.json())
    assert field in response.json()


def test_v2_list_pagination_and_filter(client: httpx.Client) -> None:
    for n in range(5):
        create_v2(client, f"https://hooks.example.com/{n}", is_enabled=n % 2 == 0)
    page = client.get("/api/v2/webhooks", params={"limit": 2, "page": 2}).json()
    spec.amiqus("/webhooks", "get", "200", page)
    assert (page["total"], page["count"], page["limit"], page["current_page"], page["total_pages"]) == (5, 2, 2, 2, 3)
    assert page["links"]["next"].endswith("page=3") and "limit=2" in page["links"]["next"]
    assert "page=1" in page["links"]["previous"]
    whole = client.get("/api/v2/webhooks").json()
    assert whole["links"] is None and whole["limit"] == 100 and whole["total_pages"] == 1
    enabled = client.get("/api/v2/webhooks", params={"enabled": "true"}).json()
    assert enabled["total"] == 3 and all(w["is_enabled"] for w in enabled["data"])
    for params in ({"limit": 0}, {"limit": 101}, {"page": 0}, {"page": "x"}):
        assert client.get("/api/v2/webhooks", params=params).status_code == 422


def test_auth_errors(amiqus_server: AmiqusServer, client: httpx.Client) -> None:
    with httpx.Client(base_url=amiqus_server.url) as anonymous:
        response = anonymous.get("/api/v2/webhooks")
    assert response.status_code == 401 and response.json() == {"error": "Unauthenticated."}
    spec.amiqus("/webhooks", "get", "401", response.json())
    amiqus_server.control("tokens", {"token": "reader", "team": "team-1", "read_only": True})
    with httpx.Client(base_url=amiqus_server.url, headers={"authorization": "Bearer reader"}) as reader:
        assert reader.get("/api/v2/webhooks").status_code == 200
        denied = reader.post("/api/v2/webhooks", json={"url": "https://a.example.com", "events": ["*"]})
    assert denied.status_code == 403 and denied.json() == {"message": "This action is unauthorized."}
    spec.amiqus("/webhooks", "post", "403", denied.json())
    # another team's webhooks do not exist for this token
    other = create_v2(client)
    amiqus_server.control("tokens", {"token": "other-team"})
    with httpx.Client(base_url=amiqus_server.url, headers={"authorization": "Bearer other-team"}) as stranger:
        assert stranger.get(f"/api/v2/webhooks/{other['id']}").status_code == 404


def test_v1_shapes_over_the_same_store(client: httpx.Client) -> None:
    created = client.post("/api/webhooks", json={"url": "https://v1.example.com", "events": "record.*,client.created"})
    assert created.status_code == 201
    Draft202012Validator(V1_WEBHOOK).validate(created.json())
    assert created.json()["events"] == "record.*,client.created"
    listed = client.get("/api/webhooks").json()
    Draft202012Validator(V1_LIST).validate(listed)
    assert listed["meta"]["pagination"]["links"] == [] and listed["meta"]["pagination"]["per_page"] == 25
    shown = client.get(f"/api/webhooks/{created.json()['id']}")
    assert shown.status_code == 200 and shown.json() == created.json()
    assert client.get("/api/webhooks/999999").json() == {"error": "Webhook not found"}
    v2 = client.get(f"/api/v2/webhooks/{created.json()['id']}").json()
    assert v2["events"] == ["record.*", "client.created"] and v2["is_enabled"] is True
    updated = client.put(f"/api/webhooks/{created.json()['id']}", json={"active": False, "events": "form.*"})
    assert updated.status_code == 200 and updated.json()["active"] is False and updated.json()["events"] == "form.*"
    bad = client.post("/api/webhooks", json={"url": "https://v1.example.com", "events": "nope"})
    assert bad.status_code == 422 and "events.0" in bad.json()
    deleted = client.delete(f"/api/webhooks/{created.json()['id']}")
    assert deleted.status_code == 200 and deleted.json() == {"status": True}


def test_rate_limit_headers_and_429(amiqus_server: AmiqusServer, client: httpx.Client) -> None:
    amiqus_server.control("settings", {"rate_limit": 3, "rate_window_seconds": 60})
    responses = [client.get("/api/v2/webhooks") for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r.headers["x-ratelimit-remaining"] for r in responses[:3]] == ["2", "1", "0"]
    assert all(r.headers["x-ratelimit-limit"] == "3" for r in responses)
    assert 1 <= int(responses[3].headers["retry-after"]) <= 60 and "x-ratelimit-reset" in responses[3].headers


def test_deliveries_are_signed_matched_and_logged(amiqus_server: AmiqusServer, client: httpx.Client) -> None:
    with receiver() as hook:
        records = create_v2(client, hook.url + "/records", events=["record.*"])
        everything = create_v2(client, hook.url + "/all", events=["*"])
        create_v2(client, hook.url + "/forms", events=["form.submitted"])
        amiqus_server.control("events", {"team": "team-1", "event": "record.created"})
        amiqus_server.control("idle", {})
        received = hook.wait_for(2)
    assert sorted(r.path for r in received) == ["/all", "/records"]
    secrets = {"/records": records["secret"], "/all": everything["secret"]}
    for request in received:
        assert request.headers["x-aqid-signature"] == amiqus_signature(str(secrets[request.path]), request.body)
        assert request.headers["user-agent"].startswith("Amiqus AmiqusID/")
        assert request.headers["x-aqid-delivery-attempt"] == "1"
        assert request.json()["trigger"]["alias"] == "record.created"
    log = client.get(f"/api/v2/webhooks/{records['id']}/deliveries").json()
    spec.amiqus("/webhooks/{id}/deliveries", "get", "200", log)
    [item] = log["data"]
    assert item["response"]["status_code"] == "200" and item["attempts"] == 1
    assert item["request"]["headers"]["X-AQID-Delivery-Id"] == received[0].headers["x-aqid-delivery-id"] or \
        item["request"]["headers"]["X-AQID-Delivery-Id"] == received[1].headers["x-aqid-delivery-id"]
    v1_log = client.get(f"/api/webhooks/{records['id']}/deliveries").json()
    Draft202012Validator(V1_DELIVERY).validate(v1_log["data"][0])
    assert v1_log["data"][0]["status"] == "200" and v1_log["data"][0]["failed"] is False


def test_retries_and_auto_disable(amiqus_server: AmiqusServer, client: httpx.Client) -> None:
    with receiver(status=500) as hook:
        created = create_v2(client, hook.url, events=["*"])
        amiqus_server.control("events", {"team": "team-1", "event": "client.updated"})
        amiqus_server.control("idle", {})
        attempts = hook.wait_for(5)
        assert [a.headers["x-aqid-delivery-attempt"] for a in attempts] == ["1", "2", "3", "4", "5"]
        assert len({a.headers["x-aqid-delivery-id"] for a in attempts}) == 1
        for _ in range(9):
            amiqus_server.control("events", {"team": "team-1", "event": "client.updated"})
        amiqus_server.control("idle", {})
    webhook = client.get(f"/api/v2/webhooks/{created['id']}").json()
    assert webhook["is_enabled"] is False  # ten payloads failed every attempt
    log = client.get(f"/api/v2/webhooks/{created['id']}/deliveries", params={"limit": 100}).json()
    assert log["total"] == 10 and all(d["attempts"] == 5 and d["response"]["status_code"] == "500"
                                      for d in log["data"])
    assert client.patch(f"/api/v2/webhooks/{created['id']}", json={"is_enabled": True}).json()["is_enabled"]


def test_bodies_are_compact_json(client: httpx.Client) -> None:
    raw = client.post("/api/v2/webhooks", json={"url": "https://a.example.com", "events": ["*"]}).content
    assert json.dumps(json.loads(raw), separators=(",", ":")).encode() == raw

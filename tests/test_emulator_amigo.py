"""The Amigo emulator over real HTTP, every body checked against the vendor's schemas."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta

import httpx
import pytest

from tests.conftest import AmigoServer
from tests.support import spec
from tests.support.servers import receiver

LIST = "/v1/{organization}/webhook_destination/"
ONE = "/v1/{organization}/webhook_destination/{webhook_destination_id}"
ROTATE = ONE + "/rotate-secret"
DELIVERY = ONE + "/delivery"
SIGNIN = "/v1/{organization}/user/signin_with_api_key"
TYPE = "conversation-post-processing-complete"


def amigo_signature(secret: str, timestamp: str, body: bytes) -> str:
    """NOTES.md A6, written here independently of the emulator."""
    return hmac.new(secret.encode("utf-8"), f"v1:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()


def test_signature_helper_matches_the_notes_vector() -> None:
    body = (
        b'{"type":"conversation-post-processing-complete","post_processing_type":"extract-memories",'
        b'"conversation_id":"c1","org_id":"o1"}'
    )
    assert amigo_signature("test-secret", "1700000000000", body) == (
        "a41f2f7e770efb9524ae8c748d454a21dbe3df7bdf73d669024a197835a7de89"
    )


def assert_documented(path: str, method: str, response: httpx.Response) -> None:
    assert str(response.status_code) in spec.documented_statuses("amigo.openapi.json", path, method)


def sign_in(server: AmigoServer, client: httpx.Client) -> str:
    response = client.post(
        f"/v1/{server.org}/user/signin_with_api_key",
        headers={"x-api-key": server.api_key, "x-api-key-id": server.api_key_id, "x-user-id": server.user_id},
    )
    assert response.status_code == 200, response.text
    spec.amigo(SIGNIN, "post", "200", response.json())
    return str(response.json()["id_token"])


@pytest.fixture
def client(amigo_server: AmigoServer) -> httpx.Client:
    with httpx.Client(base_url=amigo_server.url, timeout=30) as plain:
        token = sign_in(amigo_server, plain)
    return httpx.Client(base_url=amigo_server.url, headers={"authorization": f"Bearer {token}"}, timeout=30)


def create(client: httpx.Client, url: str = "https://hooks.example.com/a", **extra: object) -> dict[str, str]:
    response = client.post("/v1/acme/webhook_destination/", json={"url": url, "accepted_types": [TYPE], **extra})
    assert response.status_code == 201, response.text
    spec.amigo(LIST, "post", "201", response.json())
    return dict(response.json())


def listed(client: httpx.Client) -> list[dict[str, object]]:
    response = client.get("/v1/acme/webhook_destination/")
    assert response.status_code == 200
    spec.amigo(LIST, "get", "200", response.json())
    return list(response.json()["webhook_destinations"])


# -- sign-in ----------------------------------------------------------------


def test_sign_in_errors(amigo_server: AmigoServer) -> None:
    with httpx.Client(base_url=amigo_server.url) as plain:
        good = {"x-api-key": amigo_server.api_key, "x-api-key-id": "key-1", "x-user-id": "u-1"}
        wrong_key = plain.post(SIGNIN.format(organization="acme"), headers={**good, "x-api-key": "nope"})
        wrong_user = plain.post(SIGNIN.format(organization="acme"), headers={**good, "x-user-id": "ghost"})
        unknown_org = plain.post(SIGNIN.format(organization="nobody"), headers=good)
        missing = plain.post(SIGNIN.format(organization="acme"), headers={"x-api-key": "k"})
    assert wrong_key.status_code == wrong_user.status_code == 401
    assert unknown_org.status_code == 404
    assert missing.status_code == 422
    assert {e["loc"][1] for e in missing.json()["detail"]} == {"x-api-key-id", "x-user-id"}
    for response in (wrong_key, unknown_org, missing):
        assert_documented(SIGNIN, "post", response)


def test_sign_in_is_limited_to_five_a_minute(amigo_server: AmigoServer) -> None:
    headers = {"x-api-key": amigo_server.api_key, "x-api-key-id": "key-1", "x-user-id": "u-1"}
    with httpx.Client(base_url=amigo_server.url) as plain:
        codes = [plain.post("/v1/acme/user/signin_with_api_key", headers=headers).status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]


# -- destinations -----------------------------------------------------------


def test_create_list_update_delete(client: httpx.Client) -> None:
    created = create(client)
    assert len(created["webhook_destination_id"]) == 24 and created["secret"]
    [item] = listed(client)
    assert item["id"] == created["webhook_destination_id"]
    assert item["retry_attempts"] == 3 and item["accepted_types"] == [TYPE]
    assert "secret" not in json.dumps(listed(client)).replace("secret_generated_at", "")
    destination = f"/v1/acme/webhook_destination/{item['id']}"

    response = client.post(destination, json={"retry_attempts": 5})
    assert response.status_code == 204 and response.content == b""
    response = client.post(destination, json={"retry_attempts": None, "accepted_types": None})
    assert response.status_code == 204
    response = client.post(destination, json={"accepted_types": ["api-key-expiration-soon"], "url": "https://x.io"})
    assert response.status_code == 204
    [item] = listed(client)
    assert item["retry_attempts"] == 5
    assert item["accepted_types"] == ["api-key-expiration-soon"]
    assert item["url"] == "https://hooks.example.com/a"  # the URL never changes

    assert client.delete(destination).status_code == 204
    assert listed(client) == []
    for response in (client.delete(destination), client.post(destination, json={"retry_attempts": 2})):
        assert response.status_code == 404
        assert_documented(ONE, "delete" if response.request.method == "DELETE" else "post", response)


def test_list_filters_by_repeated_id(client: httpx.Client) -> None:
    ids = [create(client, f"https://hooks.example.com/{n}")["webhook_destination_id"] for n in range(3)]
    response = client.get("/v1/acme/webhook_destination/", params=[("id", ids[0]), ("id", ids[2])])
    spec.amigo(LIST, "get", "200", response.json())
    assert {d["id"] for d in response.json()["webhook_destinations"]} == {ids[0], ids[2]}
    bad = client.get("/v1/acme/webhook_destination/", params={"id": "XYZ"})
    assert bad.status_code == 422
    assert_documented(LIST, "get", bad)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"url": "http://insecure.example.com", "accepted_types": [TYPE]}, "url"),
        ({"url": "", "accepted_types": [TYPE]}, "url"),
        ({"url": "https://a.example.com", "accepted_types": ["nope"]}, "accepted_types"),
        ({"url": "https://a.example.com", "accepted_types": [TYPE], "retry_attempts": 0}, "retry_attempts"),
        ({"url": "https://a.example.com", "accepted_types": [TYPE], "retry_attempts": 6}, "retry_attempts"),
        ({"accepted_types": [TYPE]}, "url"),
        ({"url": "https://a.example.com"}, "accepted_types"),
    ],
)
def test_create_validation(client: httpx.Client, body: dict[str, object], field: str) -> None:
    response = client.post("/v1/acme/webhook_destination/", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][1] == field
    assert_documented(LIST, "post", response)


def test_the_eleventh_destination_is_refused(client: httpx.Client) -> None:
    for n in range(10):
        create(client, f"https://hooks.example.com/{n}")
    response = client.post(
        "/v1/acme/webhook_destination/", json={"url": "https://hooks.example.com/x", "accepted_types": [TYPE]}
    )
    assert response.status_code == 400
    assert "maximum" in response.json()["detail"]
    assert len(listed(client)) == 10


def test_ids_must_be_object_ids(client: httpx.Client) -> None:
    for method, path in (("POST", "/v1/acme/webhook_destination/abc"), ("DELETE", "/v1/acme/webhook_destination/abc"),
                         ("POST", "/v1/acme/webhook_destination/abc/rotate-secret"),
                         ("GET", "/v1/acme/webhook_destination/abc/delivery")):
        response = client.request(method, path, json={})
        assert response.status_code == 422, (method, path)
        assert response.json()["detail"][0]["loc"] == ["path", "webhook_destination_id"]


def test_unknown_organisation_is_404(client: httpx.Client) -> None:
    response = client.get("/v1/elsewhere/webhook_destination/")
    assert response.status_code == 404
    assert_documented(LIST, "get", response)


# -- rotation -------------------------------------------------------------------


def test_rotate_once_an_hour(amigo_server: AmigoServer, client: httpx.Client) -> None:
    created = create(client)
    path = f"/v1/acme/webhook_destination/{created['webhook_destination_id']}/rotate-secret"
    before = listed(client)[0]["secret_generated_at"]
    amigo_server.control("clock", {"advance_seconds": 5})
    first = client.post(path)
    assert first.status_code == 200
    spec.amigo(ROTATE, "post", "200", first.json())
    assert first.json()["secret"] != created["secret"]
    stops = datetime.fromisoformat(first.json()["dual_signing_stops_at"].replace("Z", "+00:00"))
    generated = datetime.fromisoformat(str(listed(client)[0]["secret_generated_at"]).replace("Z", "+00:00"))
    assert listed(client)[0]["secret_generated_at"] != before
    assert stops - generated == timedelta(minutes=30)

    second = client.post(path)
    assert second.status_code == 400
    assert_documented(ROTATE, "post", second)
    amigo_server.control("clock", {"advance_seconds": 3600})
    with httpx.Client(base_url=amigo_server.url) as plain:
        fresh = {"authorization": f"Bearer {sign_in(amigo_server, plain)}"}
    assert client.post(path, headers=fresh).status_code == 200


# -- auth -------------------------------------------------------------------------


def test_basic_auth_and_headers(amigo_server: AmigoServer, client: httpx.Client) -> None:
    token = client.headers["authorization"].split()[1]
    basic = base64.b64encode(f"acme_u-1:{token}".encode()).decode()
    with httpx.Client(base_url=amigo_server.url) as plain:
        ok = plain.get("/v1/acme/webhook_destination/", headers={
            "authorization": f"Basic {basic}", "x-org-id": "acme", "x-mongo-cluster-name": "cluster-0",
        })
        wrong_user = base64.b64encode(f"acme_other:{token}".encode()).decode()
        bad = plain.get("/v1/acme/webhook_destination/", headers={"authorization": f"Basic {wrong_user}"})
        other_org = plain.get("/v1/acme/webhook_destination/", headers={
            "authorization": f"Bearer {token}", "x-org-id": "someone-else"})
        none = plain.get("/v1/acme/webhook_destination/")
        garbage = plain.get("/v1/acme/webhook_destination/", headers={"authorization": "Bearer a.b.c"})
    assert ok.status_code == 200
    assert bad.status_code == other_org.status_code == none.status_code == garbage.status_code == 401


def test_tokens_expire(amigo_server: AmigoServer, client: httpx.Client) -> None:
    assert client.get("/v1/acme/webhook_destination/").status_code == 200
    amigo_server.control("clock", {"advance_seconds": 3601})
    response = client.get("/v1/acme/webhook_destination/")
    assert response.status_code == 401
    assert_documented(LIST, "get", response)


def test_permissions_and_foreign_tokens(amigo_server: AmigoServer) -> None:
    amigo_server.emulator.provision("acme", "reader", "key-r", "rv", ["Webhook:GetWebhookDestination"])
    amigo_server.emulator.provision("other", "u-2", "key-2", "v2")
    with httpx.Client(base_url=amigo_server.url) as plain:
        reader = plain.post("/v1/acme/user/signin_with_api_key",
                            headers={"x-api-key": "rv", "x-api-key-id": "key-r", "x-user-id": "reader"}).json()
        other = plain.post("/v1/other/user/signin_with_api_key",
                           headers={"x-api-key": "v2", "x-api-key-id": "key-2", "x-user-id": "u-2"}).json()
        auth = {"authorization": f"Bearer {reader['id_token']}"}
        assert plain.get("/v1/acme/webhook_destination/", headers=auth).status_code == 200
        denied = plain.post("/v1/acme/webhook_destination/", headers=auth,
                            json={"url": "https://a.example.com", "accepted_types": [TYPE]})
        assert denied.status_code == 403
        assert_documented(LIST, "post", denied)
        foreign = plain.get("/v1/acme/webhook_destination/",
                            headers={"authorization": f"Bearer {other['id_token']}"})
        assert foreign.status_code == 403


# -- faults and limits -----------------------------------------------------------


def test_maintenance_conflicts_and_latency(amigo_server: AmigoServer, client: httpx.Client) -> None:
    created = create(client)
    destination = f"/v1/acme/webhook_destination/{created['webhook_destination_id']}"
    amigo_server.control("faults", {"maintenance": True})
    response = client.get("/v1/acme/webhook_destination/")
    assert response.status_code == 503
    assert_documented(LIST, "get", response)
    amigo_server.control("faults", {"maintenance": False, "conflict_writes": 2})
    assert client.post(destination, json={"retry_attempts": 1}).status_code == 409
    assert client.delete(destination).status_code == 409
    assert client.delete(destination).status_code == 204
    amigo_server.control("faults", {"latency_ms": 200})
    response = client.get("/v1/acme/webhook_destination/")
    assert response.status_code == 200 and response.elapsed >= timedelta(milliseconds=190)


def test_the_21st_list_call_in_a_minute_is_429(amigo_server: AmigoServer, client: httpx.Client) -> None:
    # Start just after a window opens, so the 21 calls cannot straddle two windows.
    amigo_server.control("clock", {"offset_seconds": 1 - time.time() % 60})
    responses = [client.get("/v1/acme/webhook_destination/") for _ in range(21)]
    assert [r.status_code for r in responses] == [200] * 20 + [429]
    for n, response in enumerate(responses[:20]):
        assert response.headers["x-ratelimit-limit"] == "20"
        assert response.headers["x-ratelimit-remaining"] == str(19 - n)
    limited = responses[20]
    assert_documented(LIST, "get", limited)
    reset = int(limited.headers["x-ratelimit-reset"])
    retry_after = int(limited.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert abs(reset - (amigo_server.emulator.clock.time() + retry_after)) <= 2
    # Another endpoint of the same organisation has its own budget.
    assert client.post("/v1/acme/webhook_destination/", json={
        "url": "https://a.example.com", "accepted_types": [TYPE]}).status_code == 201


# -- deliveries ---------------------------------------------------------------


def deliveries(client: httpx.Client, destination_id: str, **params: object) -> dict[str, object]:
    response = client.get(f"/v1/acme/webhook_destination/{destination_id}/delivery", params=params)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    spec.amigo(DELIVERY, "get", "200", response.json())
    return dict(response.json())


def test_real_deliveries_are_signed_and_logged(amigo_server: AmigoServer, client: httpx.Client) -> None:
    with receiver() as hook:
        created = create(client, hook.url + "/hook")
        amigo_server.control("events", {"org": "acme", "type": TYPE})
        amigo_server.control("events", {"org": "acme", "type": "api-key-expiration-soon"})  # not accepted
        amigo_server.control("idle", {})
        [request] = hook.wait_for(1)
    timestamp = request.headers["x-amigo-request-timestamp"]
    assert request.headers["x-amigo-request-signature"] == amigo_signature(created["secret"], timestamp, request.body)
    assert request.json()["type"] == TYPE and request.json()["org_id"] == "acme"
    log = deliveries(client, created["webhook_destination_id"])
    [item] = log["webhook_deliveries"]  # type: ignore[misc]
    assert item["status"] == "success" and item["dual_signed"] is False
    assert item["id"] == request.headers["x-amigo-idempotent-key"]
    assert item["webhook_content"] == request.json()


def test_dual_signing_window(amigo_server: AmigoServer, client: httpx.Client) -> None:
    with receiver() as hook:
        created = create(client, hook.url)
        rotated = client.post(f"/v1/acme/webhook_destination/{created['webhook_destination_id']}/rotate-secret").json()
        amigo_server.control("events", {"org": "acme", "type": TYPE})
        amigo_server.control("idle", {})
        amigo_server.control("clock", {"advance_seconds": 31 * 60})
        amigo_server.control("events", {"org": "acme", "type": TYPE})
        amigo_server.control("idle", {})
        inside, after = hook.wait_for(2)
    ts = inside.headers["x-amigo-request-timestamp"]
    signatures = inside.headers["x-amigo-request-signature"].split(",")
    assert signatures == [amigo_signature(rotated["secret"], ts, inside.body),
                          amigo_signature(created["secret"], ts, inside.body)]
    ts = after.headers["x-amigo-request-timestamp"]
    assert after.headers["x-amigo-request-signature"] == amigo_signature(rotated["secret"], ts, after.body)
    log = deliveries(client, created["webhook_destination_id"], sort_by="+created_at")
    assert [d["dual_signed"] for d in log["webhook_deliveries"]] == [True, False]  # type: ignore[attr-defined]


def test_failed_deliveries_are_retried_with_a_stable_key(amigo_server: AmigoServer, client: httpx.Client) -> None:
    with receiver(status=500) as hook:
        created = create(client, hook.url, retry_attempts=2)
        amigo_server.control("events", {"org": "acme", "type": TYPE})
        amigo_server.control("idle", {})
        attempts = hook.wait_for(3)
    assert len(attempts) == 3
    assert len({a.headers["x-amigo-idempotent-key"] for a in attempts}) == 1
    [item] = deliveries(client, created["webhook_destination_id"])["webhook_deliveries"]  # type: ignore[misc]
    assert item["status"] == "failed"
    assert [a["status_code"] for a in item["delivery_attempts"]] == [500, 500, 500]


def test_delivery_filters_sorting_and_continuation(amigo_server: AmigoServer, client: httpx.Client) -> None:
    amigo_server.control("settings", {"rate_limits": {"deliveries": 100}})
    with receiver() as hook:
        created = create(client, hook.url, accepted_types=[TYPE, "api-key-expiration-soon"])
        for _ in range(3):
            amigo_server.control("events", {"org": "acme", "type": TYPE})
        amigo_server.control("idle", {})
        hook.status = 500
        for _ in range(2):
            amigo_server.control("events", {"org": "acme", "type": "api-key-expiration-soon"})
        amigo_server.control("idle", {})
    destination_id = created["webhook_destination_id"]
    assert len(deliveries(client, destination_id)["webhook_deliveries"]) == 5  # type: ignore[arg-type]
    assert len(deliveries(client, destination_id, status="failed")["webhook_deliveries"]) == 2  # type: ignore[arg-type]
    assert len(deliveries(client, destination_id, type=TYPE)["webhook_deliveries"]) == 3  # type: ignore[arg-type]
    future = (datetime.now() + timedelta(days=1)).isoformat() + "Z"
    assert deliveries(client, destination_id, created_after=future)["webhook_deliveries"] == []
    assert len(deliveries(client, destination_id, created_before=future)["webhook_deliveries"]) == 5  # type: ignore[arg-type]

    seen: list[str] = []
    token = 0
    while True:
        page = deliveries(client, destination_id, limit=2, continuation_token=token)
        seen += [d["id"] for d in page["webhook_deliveries"]]  # type: ignore[attr-defined]
        if not page["has_more"]:
            assert page["continuation_token"] is None
            break
        token = int(page["continuation_token"])  # type: ignore[call-overload]
    assert len(seen) == len(set(seen)) == 5

    ordered = deliveries(client, destination_id, sort_by=["-status", "+created_at"])["webhook_deliveries"]
    statuses = [d["status"] for d in ordered]  # type: ignore[attr-defined]
    assert statuses == ["success"] * 3 + ["failed"] * 2
    assert deliveries(client, destination_id, limit=0)["webhook_deliveries"] == []
    assert client.get(f"/v1/acme/webhook_destination/{destination_id}/delivery", params={"limit": 51}).status_code == 422
    assert client.get(f"/v1/acme/webhook_destination/{destination_id}/delivery",
                      params={"sort_by": "+colour"}).status_code == 422


def test_deliveries_are_limited_to_five_a_minute(client: httpx.Client) -> None:
    destination_id = create(client)["webhook_destination_id"]
    codes = [client.get(f"/v1/acme/webhook_destination/{destination_id}/delivery").status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]

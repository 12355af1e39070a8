"""What a vendor's own client library, or a hostile one, would find different in the emulators.

Each case is one an audit of the emulators against the specs found (after issue 16's strictness
pass): a delivery log holding what its schema does not allow, a delivery listed before it was
tried, a page of zero items promising more, non-JSON bodies read as JSON, errors reported one at
a time, no size limit where Amiqus documents 413, responses the router writes without `Date`, and
HEAD, OPTIONS and PATCH answered as the vendors' frameworks would not. Real HTTP on 127.0.0.1: uvicorn serves the emulators, a `http.server` the receivers.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.support import spec
from tests.support.servers import serve_app
from webhookctl.emulator.amigo import AmigoEmulator, AmigoSettings
from webhookctl.emulator.amigo import create_app as amigo_app
from webhookctl.emulator.amiqus import AmiqusEmulator, AmiqusSettings
from webhookctl.emulator.amiqus import create_app as amiqus_app

ORG = "acme"
TYPE = "conversation-post-processing-complete"
# What a receiver answers, by the last part of the path it was given.
ANSWERS: dict[str, tuple[str, bytes]] = {
    "number": ("application/json", b"123"),
    "true": ("application/json", b"true"),
    "numbers": ("application/json", b"[1,2]"),
    "strings": ("application/json", b'["a","b"]'),
    "object": ("application/json", b'{"ok":true}'),
    "text": ("text/plain", b"thanks"),
}


@pytest.fixture
def receiver_url() -> Iterator[str]:
    """A receiver answering 200 with the body its path names; `/slow/...` answers after 2 s."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            if self.path.startswith("/slow/"):
                time.sleep(2)
            content_type, body = ANSWERS.get(self.path.rsplit("/", 1)[-1], ("application/json", b"{}"))
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("X-Mixed-Case", "Yes")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"  # delivered over plain http (deliver_plain_http)
    finally:
        server.shutdown()
        server.server_close()


def eventually(check: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def post_as(client: httpx.Client, path: str, body: bytes, content_type: str | None) -> httpx.Response:
    """POST `body` with exactly this Content-Type (None: no Content-Type at all)."""
    request = client.build_request("POST", path, content=body)
    request.headers.pop("content-type", None)
    if content_type is not None:
        request.headers["content-type"] = content_type
    return client.send(request)


# -- Amiqus ------------------------------------------------------------------------------------------


@pytest.fixture
def amiqus_emulator() -> AmiqusEmulator:
    emulator = AmiqusEmulator(AmiqusSettings(control=True, time_scale=0.001, deliver_plain_http=True,
                                             max_body_bytes=4096))
    emulator.add_token("token-1", team="team-1")
    emulator.add_token("reader", team="team-1", read_only=True)
    return emulator


@pytest.fixture
def amiqus(amiqus_emulator: AmiqusEmulator) -> Iterator[httpx.Client]:
    with serve_app(amiqus_app(amiqus_emulator)) as url, httpx.Client(
            base_url=url, headers={"authorization": "Bearer token-1"}, timeout=30) as client:
        yield client


def amiqus_hook(client: httpx.Client, url: str) -> dict[str, Any]:
    created = client.post("/api/v2/webhooks", json={"url": url, "events": ["client.created"]})
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


def amiqus_log(client: httpx.Client, hook: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.get(f"/api/v2/webhooks/{hook['id']}/deliveries")
    assert response.status_code == 200, response.text
    spec.amiqus("/webhooks/{id}/deliveries", "get", "200", response.json())
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def fire(client: httpx.Client) -> None:
    client.post("/_emulator/events", json={"token": "token-1", "event": "client.created"}).raise_for_status()


@pytest.mark.parametrize(("answer", "logged"), [
    ("number", "123"), ("true", "true"), ("numbers", "[1,2]"), ("strings", ["a", "b"]), ("object", {"ok": True}),
    ("text", "thanks"),
])
def test_amiqus_logs_a_receivers_body_as_its_schema_allows(amiqus: httpx.Client, receiver_url: str, answer: str,
                                                           logged: object) -> None:
    hook = amiqus_hook(amiqus, f"{receiver_url}/{answer}")
    fire(amiqus)
    eventually(lambda: bool(amiqus_log(amiqus, hook)))
    [delivery] = amiqus_log(amiqus, hook)  # the spec's schema checked on every read
    assert delivery["response"]["body"] == logged


def test_amiqus_logs_response_headers_as_the_receiver_wrote_them(amiqus: httpx.Client, receiver_url: str) -> None:
    hook = amiqus_hook(amiqus, f"{receiver_url}/object")
    fire(amiqus)
    eventually(lambda: bool(amiqus_log(amiqus, hook)))
    headers = amiqus_log(amiqus, hook)[0]["response"]["headers"]
    assert headers["X-Mixed-Case"] == "Yes" and headers["Content-Type"] == "application/json"


def test_amiqus_lists_a_delivery_once_it_was_tried(amiqus: httpx.Client, receiver_url: str) -> None:
    hook = amiqus_hook(amiqus, f"{receiver_url}/slow/object")
    fire(amiqus)
    assert amiqus_log(amiqus, hook) == []  # in flight: nothing the schema's required fields could describe
    eventually(lambda: bool(amiqus_log(amiqus, hook)))
    [delivery] = amiqus_log(amiqus, hook)
    assert delivery["attempts"] == 1 and delivery["last_sent_at"] and delivery["response"]["status_code"] == "200"


def test_amiqus_reports_every_paging_problem_at_once(amiqus: httpx.Client) -> None:
    response = amiqus.get("/api/v2/webhooks", params={"page": "0", "limit": "0", "enabled": "x"})
    assert response.status_code == 422
    assert sorted(response.json()) == ["enabled", "limit", "page"]


def test_amiqus_refuses_a_body_past_its_size_before_anything_else(amiqus: httpx.Client) -> None:
    big = json.dumps({"url": "https://e.example/h", "events": ["*"], "pad": "x" * 5000}).encode()
    declared = amiqus.post("/api/v2/webhooks", content=big, headers={"content-type": "application/json",
                                                                    "authorization": "Bearer nobody"})
    assert declared.status_code == 413 and declared.json() == {"message": "Content Too Large"}
    chunked = amiqus.post("/api/v2/webhooks", content=iter([big[:3000], big[3000:]]),
                          headers={"content-type": "application/json"})
    assert chunked.status_code == 413
    assert amiqus.get("/api/v2/webhooks").json()["total"] == 0


@pytest.mark.parametrize(("content_type", "status"), [
    ("text/plain", 422), ("application/x-www-form-urlencoded", 422), (None, 422),
    ("application/json", 201), ("application/json; charset=utf-8", 201), ("application/vnd.api+json", 201),
])
def test_amiqus_reads_json_only_from_a_json_content_type(amiqus: httpx.Client, content_type: str | None,
                                                         status: int) -> None:
    response = post_as(amiqus, "/api/v2/webhooks", b'{"url":"https://e.example/h","events":["*"]}', content_type)
    assert response.status_code == status, response.text
    if status == 422:
        assert response.json() == {"errors": ["The request body must be sent as application/json."]}


def test_amiqus_binds_the_webhook_before_it_authorises(amiqus: httpx.Client) -> None:
    reader = {"authorization": "Bearer reader"}
    assert amiqus.patch("/api/v2/webhooks/999999", json={"is_enabled": False}, headers=reader).status_code == 404
    hook = amiqus_hook(amiqus, "https://e.example/h")
    assert amiqus.patch(f"/api/v2/webhooks/{hook['id']}", json={"is_enabled": False},
                        headers=reader).status_code == 403


def test_amiqus_update_that_changes_nothing_keeps_updated_at(amiqus: httpx.Client,
                                                            amiqus_emulator: AmiqusEmulator) -> None:
    hook = amiqus_hook(amiqus, "https://e.example/h")
    amiqus_emulator.clock.advance(60)
    same = amiqus.patch(f"/api/v2/webhooks/{hook['id']}", json={"url": hook["url"]}).json()
    assert same["updated_at"] == hook["updated_at"]
    changed = amiqus.patch(f"/api/v2/webhooks/{hook['id']}", json={"url": "https://e.example/other"}).json()
    assert changed["updated_at"] != hook["updated_at"]


def test_amiqus_v1_takes_events_as_a_string_and_updates_by_put(amiqus: httpx.Client) -> None:
    array = amiqus.post("/api/webhooks", json={"url": "https://e.example/h", "events": ["record.*"]})
    assert array.status_code == 422 and array.json() == {"events": ["The events must be a string."]}
    created = amiqus.post("/api/webhooks", json={"url": "https://e.example/h", "events": "record.*"})
    assert created.status_code == 201
    one = f"/api/webhooks/{created.json()['id']}"
    patched = amiqus.patch(one, json={"active": False})
    assert patched.status_code == 405 and patched.headers["allow"] == "GET, HEAD, PUT, DELETE"
    assert amiqus.put(one, json={"active": False}).json()["active"] is False


@pytest.mark.parametrize(("path", "allow"), [
    ("/api/v2/webhooks", "GET,HEAD,POST"),
    ("/api/v2/webhooks/1", "GET,HEAD,PATCH,PUT,DELETE"),
    ("/api/webhooks/1", "GET,HEAD,PUT,DELETE"),
])
def test_amiqus_answers_options_as_laravels_router(amiqus: httpx.Client, path: str, allow: str) -> None:
    options = amiqus.options(path)
    assert (options.status_code, options.content, options.headers["allow"]) == (200, b"", allow)
    assert amiqus.head(path).status_code in (200, 404)  # HEAD wherever GET is


# -- Amigo ---------------------------------------------------------------------------------------------


@pytest.fixture
def amigo_emulator() -> AmigoEmulator:
    emulator = AmigoEmulator(AmigoSettings(control=True, time_scale=0.01, deliver_plain_http=True))
    emulator.provision(ORG, "u-1", "key-1", "key-value-1")
    emulator.settings.rate_limits["deliveries"] = 1000  # these tests poll the log
    return emulator


@pytest.fixture
def amigo(amigo_emulator: AmigoEmulator) -> Iterator[httpx.Client]:
    with serve_app(amigo_app(amigo_emulator)) as url, httpx.Client(base_url=url, timeout=30) as client:
        signed = client.post(f"/v1/{ORG}/user/signin_with_api_key",
                             headers={"x-api-key": "key-value-1", "x-api-key-id": "key-1", "x-user-id": "u-1"})
        client.headers["authorization"] = "Bearer " + signed.json()["id_token"]
        yield client


def amigo_destination(client: httpx.Client, url: str = "https://e.example/h") -> str:
    created = client.post(f"/v1/{ORG}/webhook_destination/", json={"url": url, "accepted_types": [TYPE]})
    assert created.status_code == 201, created.text
    identifier: str = created.json()["webhook_destination_id"]
    return identifier


def amigo_deliveries(client: httpx.Client, destination: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/v1/{ORG}/webhook_destination/{destination}/delivery", params=params)
    assert response.status_code == 200, response.text
    spec.amigo("/v1/{organization}/webhook_destination/{webhook_destination_id}/delivery", "get", "200",
               response.json())
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(("content_type", "status"), [
    ("text/plain", 422), ("application/x-www-form-urlencoded", 422), ("application/xml", 422),
    (None, 201), ("application/json", 201), ("application/merge-patch+json", 201),
])
def test_amigo_reads_json_only_as_fastapi_does(amigo: httpx.Client, content_type: str | None, status: int) -> None:
    body = json.dumps({"url": "https://e.example/h", "accepted_types": [TYPE]}).encode()
    response = post_as(amigo, f"/v1/{ORG}/webhook_destination/", body, content_type)
    assert response.status_code == status, response.text
    if status == 422:
        [problem] = response.json()["detail"]
        assert (problem["type"], problem["loc"]) == ("model_attributes_type", ["body"])


def test_amigo_reports_every_body_problem_at_once(amigo: httpx.Client) -> None:
    missing = amigo.post(f"/v1/{ORG}/webhook_destination/", json={})
    assert [(p["type"], p["loc"]) for p in missing.json()["detail"]] == [
        ("missing", ["body", "url"]), ("missing", ["body", "accepted_types"])]
    wrong = amigo.post(f"/v1/{ORG}/webhook_destination/",
                       json={"url": "http://e.example/h", "accepted_types": ["nope", TYPE, 7], "retry_attempts": 9})
    problems = wrong.json()["detail"]
    assert [p["loc"] for p in problems] == [["body", "url"], ["body", "accepted_types", 0],
                                            ["body", "accepted_types", 2], ["body", "retry_attempts"]]
    expected = ("'conversation-post-processing-complete', 'api-key-expiration-soon' or "
                "'agent-framework-resource-updated'")
    assert problems[1]["msg"] == f"Input should be {expected}" and problems[1]["ctx"] == {"expected": expected}
    assert problems[3]["ctx"] == {"le": 5}


def test_amigo_lists_a_delivery_once_it_was_tried(amigo: httpx.Client, receiver_url: str) -> None:
    destination = amigo_destination(amigo, f"{receiver_url}/slow/object")
    amigo.post("/_emulator/events", json={"org": ORG, "type": TYPE}).raise_for_status()
    assert amigo_deliveries(amigo, destination)["webhook_deliveries"] == []
    assert amigo_deliveries(amigo, destination, status="failed")["webhook_deliveries"] == []
    eventually(lambda: bool(amigo_deliveries(amigo, destination)["webhook_deliveries"]))
    [delivery] = amigo_deliveries(amigo, destination)["webhook_deliveries"]
    assert delivery["status"] == "success" and len(delivery["delivery_attempts"]) == 1


def test_amigo_a_page_of_zero_promises_nothing_more(amigo: httpx.Client, receiver_url: str) -> None:
    destination = amigo_destination(amigo, f"{receiver_url}/object")
    for _ in range(2):
        amigo.post("/_emulator/events", json={"org": ORG, "type": TYPE}).raise_for_status()
    eventually(lambda: len(amigo_deliveries(amigo, destination)["webhook_deliveries"]) == 2)
    assert amigo_deliveries(amigo, destination, limit=0) == {
        "webhook_deliveries": [], "has_more": False, "continuation_token": None}
    first = amigo_deliveries(amigo, destination, limit=1)
    assert first["has_more"] is True and first["continuation_token"] == 1


@pytest.mark.parametrize(("method", "suffix"), [("POST", ""), ("DELETE", ""), ("POST", "/rotate-secret"),
                                                ("GET", "/delivery")])
def test_amigo_checks_credentials_before_the_endpoints_parameters(amigo: httpx.Client, method: str,
                                                                  suffix: str) -> None:
    path = f"/v1/{ORG}/webhook_destination/not-an-id{suffix}"
    anonymous = amigo.request(method, path, headers={"authorization": ""}, json={} if method == "POST" else None)
    assert anonymous.status_code == 401  # FastAPI validates an endpoint's parameters after its dependencies
    assert amigo.request(method, path, json={} if method == "POST" else None).status_code == 422


def test_amigo_serves_head_only_where_declared(amigo: httpx.Client) -> None:
    head = amigo.head(f"/v1/{ORG}/webhook_destination/")
    assert head.status_code == 405 and head.headers["allow"] == "POST, GET"


# -- both ----------------------------------------------------------------------------------------------


def test_every_response_carries_the_emulators_date(amigo: httpx.Client, amiqus: httpx.Client,
                                                   amigo_emulator: AmigoEmulator) -> None:
    amigo_emulator.clock.advance(1800)  # the Date is the emulator's clock, half an hour ahead
    amigo_emulator.settings.rate_limits["list"] = 1
    responses = [
        amigo.get(f"/v1/{ORG}/nowhere"), amigo.put(f"/v1/{ORG}/webhook_destination/"),
        amigo.get(f"/v1/{ORG}/webhook_destination/"), amigo.get(f"/v1/{ORG}/webhook_destination/"),
    ]
    assert [r.status_code for r in responses] == [404, 405, 200, 429]
    for response in responses:
        assert parsedate_to_datetime(response.headers["date"]).timestamp() > time.time() + 1700
    for response in (amiqus.get("/api/v2/nowhere"), amiqus.request("TRACE", "/api/v2/webhooks"),
                     amiqus.options("/api/v2/webhooks")):
        assert abs(parsedate_to_datetime(response.headers["date"]).timestamp() - time.time()) < 60

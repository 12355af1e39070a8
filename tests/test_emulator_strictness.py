"""Both emulators refuse what their specs refuse, with the documented status, never a 500.

Each case is one the emulators once got wrong (issue 16): URLs that are not RFC 3986 URIs,
ids matched with `re.match` and `$` (a trailing newline slipped through), non-ASCII digits
taken for ids or integers, loose booleans, and `Allow` headers naming one method of several.
The apps are served by uvicorn on 127.0.0.1 and called over real HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.servers import serve_app
from webhookctl.emulator.amigo import AmigoEmulator, AmigoSettings
from webhookctl.emulator.amigo import create_app as amigo_app
from webhookctl.emulator.amiqus import AmiqusEmulator, AmiqusSettings
from webhookctl.emulator.amiqus import create_app as amiqus_app

ORG = "acme"
TYPES = ["conversation-post-processing-complete"]
BAD_URLS = [
    "https://[::1",  # urllib raises on it: the 500 of issue 16
    "https://[::1/x",
    "https://exa mple.com/h",  # a space is not allowed anywhere in a URI
    "https://example.com/h\n",
    "https://é.example/h",  # an IRI, not a URI
    "https://example.com/%zz",
    "https://",
    "https:///path",
    "https://[fe80::1%25eth0]/h",  # RFC 3986 has no zone ids
    "https://example.com:44x/h",
    "example.com/h",
]
NOT_HTTPS = ["http://example.com/h", "ftp://example.com/h"]
GOOD_URLS = ["https://[::1]:8443/h", "HTTPS://Example.com/a%20b?x=1&y=2#f", "https://u@10.0.0.1/"]


class Fresh:
    """An ASGI app forwarding to a replaceable one: one server per module, a new emulator per test."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Fresh, str]]:
    front = Fresh()
    with serve_app(front) as url:
        yield front, url


@pytest.fixture
def amigo(served: tuple[Fresh, str]) -> Iterator[httpx.Client]:
    front, url = served
    emulator = AmigoEmulator(AmigoSettings())
    emulator.provision(ORG, "u-1", "key-1", "key-value-1")
    front.app = amigo_app(emulator)
    with httpx.Client(base_url=url, timeout=30) as client:
        signed = client.post(f"/v1/{ORG}/user/signin_with_api_key",
                             headers={"x-api-key": "key-value-1", "x-api-key-id": "key-1", "x-user-id": "u-1"})
        assert signed.status_code == 200, signed.text
        client.headers["authorization"] = "Bearer " + signed.json()["id_token"]
        yield client


@pytest.fixture
def amiqus(served: tuple[Fresh, str]) -> Iterator[httpx.Client]:
    front, url = served
    emulator = AmiqusEmulator(AmiqusSettings())
    emulator.add_token("token-1", team="team-1")
    front.app = amiqus_app(emulator)
    with httpx.Client(
        base_url=url, headers={"authorization": "Bearer token-1"}, timeout=30
    ) as client:
        yield client


def amigo_create(client: httpx.Client, url: str) -> tuple[int, object]:
    response = client.post(f"/v1/{ORG}/webhook_destination/", json={"url": url, "accepted_types": TYPES})
    return response.status_code, response.json()


@pytest.mark.parametrize("url", BAD_URLS + NOT_HTTPS)
def test_amigo_refuses_urls_that_are_not_https_uris(amigo: httpx.Client, url: str) -> None:
    status, body = amigo_create(amigo, url)
    assert status == 422, body
    assert isinstance(body, dict) and body["detail"][0]["loc"] == ["body", "url"]


@pytest.mark.parametrize("url", GOOD_URLS)
def test_amigo_accepts_https_uris(amigo: httpx.Client, url: str) -> None:
    status, body = amigo_create(amigo, url)
    assert status == 201, body


@pytest.mark.parametrize("suffix", ["", "/rotate-secret", "/delivery"])
@pytest.mark.parametrize("bad_id", ["%0A", "%E2%80%8B", "%EF%BC%A1"])
def test_amigo_ids_are_matched_whole(amigo: httpx.Client, suffix: str, bad_id: str) -> None:
    status, body = amigo_create(amigo, "https://example.com/h")
    assert status == 201 and isinstance(body, dict)
    path = f"/v1/{ORG}/webhook_destination/{body['webhook_destination_id']}{bad_id}{suffix}"
    method = "GET" if suffix == "/delivery" else "POST"
    response = amigo.request(method, path, json={} if not suffix else None)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["path", "webhook_destination_id"]
    assert amigo.delete(path.removesuffix(suffix) if suffix else path).status_code == 422


def test_amigo_list_ids_are_matched_whole(amigo: httpx.Client) -> None:
    response = amigo.get(f"/v1/{ORG}/webhook_destination/", params={"id": "a" * 24 + "\n"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "id", 0]


@pytest.mark.parametrize(("name", "value"), [
    ("limit", "٣"), ("limit", " 3"), ("limit", "1_0"), ("continuation_token", "²"),
    ("created_after", "2024-01-01"), ("created_after", "2023-02-30T00:00:00Z"),
    ("created_before", "1700000000"), ("created_before", "2024-01-01T00:00:00"),
    ("status", "pending"), ("sort_by", "++type"),
])
def test_amigo_delivery_query_is_strict(amigo: httpx.Client, name: str, value: str) -> None:
    status, body = amigo_create(amigo, "https://example.com/h")
    assert status == 201
    assert isinstance(body, dict)
    response = amigo.get(f"/v1/{ORG}/webhook_destination/{body['webhook_destination_id']}/delivery",
                         params={name: value})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][:2] == ["query", name]


@pytest.mark.parametrize("raw", [b'{"url":"https://e.com/h","accepted_types":[],"retry_attempts":NaN}',
                                 b'{"url":"https://e.com/h","accepted_types":[],"retry_attempts":1e400}',
                                 b'{"url":"https://e.com/h","accepted_types":[],"retry_attempts":true}',
                                 b"[" * 100_000])
def test_amigo_bodies_are_strict_json(amigo: httpx.Client, raw: bytes) -> None:
    response = amigo.post(f"/v1/{ORG}/webhook_destination/", content=raw,
                          headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(("path", "methods"), [
    (f"/v1/{ORG}/webhook_destination/", {"GET", "POST"}),
    (f"/v1/{ORG}/webhook_destination/{'a' * 24}", {"POST", "DELETE"}),
])
def test_amigo_405_lists_every_method(amigo: httpx.Client, path: str, methods: set[str]) -> None:
    for method in ("PUT", "OPTIONS"):
        response = amigo.request(method, path)
        assert response.status_code == 405
        assert methods <= {m.strip() for m in response.headers["allow"].split(",")}


@pytest.mark.parametrize("url", BAD_URLS + NOT_HTTPS)
def test_amiqus_refuses_urls_that_are_not_https_uris(amiqus: httpx.Client, url: str) -> None:
    response = amiqus.post("/api/v2/webhooks", json={"url": url, "events": ["*"]})
    assert response.status_code == 422, response.text
    assert list(response.json()) == ["url"]


@pytest.mark.parametrize("url", GOOD_URLS)
def test_amiqus_accepts_https_uris(amiqus: httpx.Client, url: str) -> None:
    assert amiqus.post("/api/v2/webhooks", json={"url": url, "events": ["*"]}).status_code == 201


@pytest.mark.parametrize("value", ["1", 0, 1, "FALSE", "true", None, [True]])
def test_amiqus_booleans_are_json_booleans(amiqus: httpx.Client, value: object) -> None:
    created = amiqus.post("/api/v2/webhooks", json={"url": "https://e.com/h", "events": ["*"], "is_enabled": value})
    assert created.status_code == 422, created.text
    assert list(created.json()) == ["is_enabled"]
    hook = amiqus.post("/api/v2/webhooks", json={"url": "https://e.com/h", "events": ["*"]}).json()
    updated = amiqus.patch(f"/api/v2/webhooks/{hook['id']}", json={"is_enabled": value})
    assert updated.status_code == 422, updated.text


@pytest.mark.parametrize("value", ["FALSE", "1", "0", "True", "yes"])
def test_amiqus_enabled_filter_takes_true_or_false(amiqus: httpx.Client, value: str) -> None:
    assert amiqus.get("/api/v2/webhooks", params={"enabled": value}).status_code == 422
    assert amiqus.get("/api/v2/webhooks", params={"enabled": "false"}).status_code == 200


@pytest.mark.parametrize("raw_id", ["²", "٣", "1%0A", "%201", "1.0", "0x1", "%EF%BC%91"])
@pytest.mark.parametrize("suffix", ["", "/deliveries"])
def test_amiqus_ids_are_ascii_integers(amiqus: httpx.Client, raw_id: str, suffix: str) -> None:
    hook = amiqus.post("/api/v2/webhooks", json={"url": "https://e.com/h", "events": ["*"]}).json()
    assert hook["id"] != 1  # so "1" in any disguise names no webhook by accident
    response = amiqus.get(f"/api/v2/webhooks/{raw_id}{suffix}")
    assert response.status_code == 404, response.text
    assert isinstance(response.json()["error"], str)
    assert amiqus.delete(f"/api/v2/webhooks/{raw_id}").status_code == 404


@pytest.mark.parametrize(("name", "value"), [("page", "٣"), ("page", "+"), ("limit", "²"), ("limit", "0"),
                                             ("limit", "101"), ("page", "0")])
def test_amiqus_paging_is_strict(amiqus: httpx.Client, name: str, value: str) -> None:
    response = amiqus.get("/api/v2/webhooks", params={name: value})
    assert response.status_code == 422, response.text
    assert list(response.json()) == [name]


def test_amiqus_json_constants_are_refused(amiqus: httpx.Client) -> None:
    response = amiqus.post("/api/v2/webhooks", content=b'{"url":"https://e.com/h","events":["*"],"x":NaN}',
                           headers={"content-type": "application/json"})
    assert response.status_code == 422


@pytest.mark.parametrize(("path", "methods"), [
    ("/api/v2/webhooks", {"GET", "POST"}),
    ("/api/v2/webhooks/1", {"GET", "PATCH", "DELETE"}),
    ("/api/v2/webhooks/1/deliveries", {"GET"}),
])
def test_amiqus_allow_lists_every_documented_method(amiqus: httpx.Client, path: str, methods: set[str]) -> None:
    options = amiqus.options(path)
    assert options.status_code == 200
    assert methods <= {m.strip() for m in options.headers["allow"].split(",")}
    refused = amiqus.request("TRACE", path)
    assert refused.status_code == 405
    # Laravel joins OPTIONS' Allow with bare commas, a 405's with ", ".
    assert refused.headers["allow"] == options.headers["allow"].replace(",", ", ")

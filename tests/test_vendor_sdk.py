"""The emulators as the vendors' own client libraries see them.

amigo-sdk has no webhook resource, so the webhook paths go through its HTTP client
(sign-in, token refresh, retries), every answer is parsed with its generated
pydantic models, and deliveries are verified with its own webhook parser.
django-amiqus's API wrapper and HMAC check are used as they are.
"""

from __future__ import annotations

import base64
import hmac

import pytest

from tests.conftest import AmigoServer, AmiqusServer
from tests.support.servers import receiver

amigo_sdk = pytest.importorskip("amigo_sdk")

from amigo_sdk.config import AmigoConfig  # noqa: E402
from amigo_sdk.generated import model  # noqa: E402
from amigo_sdk.http_client import AmigoHttpClient  # noqa: E402
from amigo_sdk.webhooks import parse_webhook_event, verify_signature  # noqa: E402

TYPE = "conversation-post-processing-complete"


@pytest.fixture
def sdk(amigo_server: AmigoServer) -> AmigoHttpClient:
    config = AmigoConfig(api_key=amigo_server.api_key, api_key_id=amigo_server.api_key_id,
                         user_id=amigo_server.user_id, organization_id=amigo_server.org, base_url=amigo_server.url)
    return AmigoHttpClient(config)


def test_the_sdk_drives_every_webhook_endpoint(sdk: AmigoHttpClient, amigo_server: AmigoServer) -> None:
    base = f"/v1/{amigo_server.org}/webhook_destination"
    with receiver() as hook:
        created = model.WebhookDestinationCreateWebhookDestinationResponse.model_validate(
            sdk.request("POST", f"{base}/", json={"url": hook.url, "accepted_types": [TYPE]}).json())
        listed = model.WebhookDestinationGetWebhookDestinationsResponse.model_validate(
            sdk.request("GET", f"{base}/").json())
        assert [d.id for d in listed.webhook_destinations] == [created.webhook_destination_id]
        assert sdk.request("POST", f"{base}/{created.webhook_destination_id}",
                           json={"retry_attempts": 5}).status_code == 204

        amigo_server.control("events", {"org": amigo_server.org, "type": TYPE})
        amigo_server.control("idle", {})
        [request] = hook.wait_for(1)
        event = parse_webhook_event(request.body, request.headers["x-amigo-request-signature"],
                                    request.headers["x-amigo-request-timestamp"], created.secret)
        assert event.type == TYPE  # type: ignore[union-attr]

        rotated = model.WebhookDestinationRotateWebhookDestinationSecretResponse.model_validate(
            sdk.request("POST", f"{base}/{created.webhook_destination_id}/rotate-secret").json())
        assert rotated.secret != created.secret
        deliveries = model.WebhookDestinationGetWebhookDeliveriesResponse.model_validate(
            sdk.request("GET", f"{base}/{created.webhook_destination_id}/delivery",
                        params={"limit": 10, "sort_by": "-created_at"}).json())
        assert [d.status.value for d in deliveries.webhook_deliveries] == ["success"]

        # Inside the dual-signing window each of the two signatures verifies with the SDK's own check.
        amigo_server.control("events", {"org": amigo_server.org, "type": TYPE})
        amigo_server.control("idle", {})
        dual = hook.wait_for(2)[1]
        new, old = dual.headers["x-amigo-request-signature"].split(",")
        timestamp = dual.headers["x-amigo-request-timestamp"]
        verify_signature(dual.body.decode(), timestamp, new, rotated.secret)
        verify_signature(dual.body.decode(), timestamp, old, created.secret)

        assert sdk.request("DELETE", f"{base}/{created.webhook_destination_id}").status_code == 204
    sdk.close()


def test_the_sdk_sees_the_documented_errors(sdk: AmigoHttpClient, amigo_server: AmigoServer) -> None:
    from amigo_sdk import errors

    base = f"/v1/{amigo_server.org}/webhook_destination"
    with pytest.raises(errors.AmigoError) as raised:
        sdk.request("POST", f"{base}/", json={"url": "http://insecure.example.com", "accepted_types": [TYPE]})
    assert getattr(raised.value, "status_code", None) == 422
    with pytest.raises(errors.AmigoError) as raised:
        sdk.request("DELETE", f"{base}/{'0' * 24}")
    assert getattr(raised.value, "status_code", None) == 404
    sdk.close()


def test_the_amiqus_client_library_against_the_emulator(amiqus_server: AmiqusServer) -> None:
    """django-amiqus (the vendor-listed Django client): its API wrapper and its signature check."""
    django_conf = pytest.importorskip("django.conf")
    if not django_conf.settings.configured:
        django_conf.settings.configure(AMIQUS_ACCESS_TOKEN=amiqus_server.token,
                                       AMIQUS_WEBHOOK_SECURITY_TOKEN="unused", AMIQUS_TEST_MODE=False)
    # The library reads its token from Django settings when first imported: settings come first.
    from amiqus import api
    from amiqus.decorators import _hmac

    assert amiqus_server.token == api.API_KEY
    api.API_ROOT = f"{amiqus_server.url}/api/v2/"  # the library's production root, pointed here
    with receiver() as hook:
        created = api.post("webhooks", data={"url": hook.url, "events": ["record.*"]})
        assert created["object"] == "webhook" and len(created["secret"]) == 64
        assert api.get(f"webhooks/{created['id']}") == created
        assert api.patch(f"webhooks/{created['id']}", data={"events": ["*"]})["events"] == ["*"]
        assert [w["id"] for w in api.get("webhooks")["data"]] == [created["id"]]
        with pytest.raises(api.ApiError) as raised:
            api.get("webhooks/999999")
        assert raised.value.status_code == 404 and raised.value.error_type == "Webhook not found"

        amiqus_server.control("events", {"team": amiqus_server.team, "event": "record.finished"})
        amiqus_server.control("idle", {})
        [request] = hook.wait_for(1)
    expected = _hmac(created["secret"].encode(), request.body)  # the library's own HMAC
    assert hmac.compare_digest(base64.b64decode(request.headers["x-aqid-signature"]), expected)

"""The shipped verification helper: the NOTES.md vectors, and what it must refuse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from webhookctl.verify import VerificationError, verify_amigo, verify_amiqus

AMIGO_BODY = (b'{"type":"conversation-post-processing-complete","post_processing_type":"extract-memories",'
              b'"conversation_id":"c1","org_id":"o1"}')
AMIGO_SIG = "a41f2f7e770efb9524ae8c748d454a21dbe3df7bdf73d669024a197835a7de89"
SENT = datetime.fromtimestamp(1_700_000_000, tz=UTC)
AMIQUS_BODY = (b'{"webhook":{"uuid":"u","created_at":"2023-02-11T13:01:34Z","events":["*"]},'
               b'"trigger":{"triggered_at":"2023-06-28T16:15:27Z","alias":"ping"},"data":["ping"]}')
AMIQUS_SIG = "FGf/9q492px71N/aO6Ia+NbxWEuTdHum6ZAsLuIuIa8="


def record(current: str, previous: str | None = None, until: datetime | None = None) -> dict[str, object]:
    return {
        "current": {"secret": current, "fingerprint": "x"},
        "previous": {"secret": previous, "fingerprint": "y",
                     "valid_until": until.isoformat().replace("+00:00", "Z") if until else None}
        if previous else None,
    }


def amigo_headers(signature: str = AMIGO_SIG) -> dict[str, str]:
    return {"X-Amigo-Request-Timestamp": "1700000000000", "X-Amigo-Request-Signature": signature}


def test_amigo_vector() -> None:
    assert verify_amigo(AMIGO_BODY, amigo_headers(), record("test-secret"), now=SENT) == "current"


def test_amigo_previous_secret_inside_and_after_the_window() -> None:
    during = record("new-secret", "test-secret", SENT + timedelta(minutes=30))
    assert verify_amigo(AMIGO_BODY, amigo_headers(f"deadbeef,{AMIGO_SIG}"), during, now=SENT) == "previous"
    ended = record("new-secret", "test-secret", SENT - timedelta(seconds=1))
    with pytest.raises(VerificationError, match="no signature matches"):
        verify_amigo(AMIGO_BODY, amigo_headers(), ended, now=SENT)


def test_amigo_rejects_wrong_signature_stale_timestamp_and_tampered_body() -> None:
    with pytest.raises(VerificationError, match="no signature matches"):
        verify_amigo(AMIGO_BODY, amigo_headers("0" * 64), record("test-secret"), now=SENT)
    with pytest.raises(VerificationError, match="away from now"):
        verify_amigo(AMIGO_BODY, amigo_headers(), record("test-secret"), now=SENT + timedelta(minutes=6))
    with pytest.raises(VerificationError, match="no signature matches"):
        verify_amigo(AMIGO_BODY.replace(b"c1", b"c2"), amigo_headers(), record("test-secret"), now=SENT)
    with pytest.raises(VerificationError, match="missing header"):
        verify_amigo(AMIGO_BODY, {}, record("test-secret"), now=SENT)


def test_amiqus_vector_and_refusals() -> None:
    assert verify_amiqus(AMIQUS_BODY, {"X-AQID-Signature": AMIQUS_SIG}, record("test-secret")) == "current"
    with pytest.raises(VerificationError):
        verify_amiqus(AMIQUS_BODY + b" ", {"X-AQID-Signature": AMIQUS_SIG}, record("test-secret"))
    with pytest.raises(VerificationError):
        verify_amiqus(AMIQUS_BODY, {"X-AQID-Signature": AMIQUS_SIG}, record("other"))

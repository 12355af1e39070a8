"""`webhookctl.redact`: URL credentials and known secrets masked, whatever the text."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webhookctl.model import Secret
from webhookctl.redact import MIN_SECRET_CHARS, Redactor, _encodings, mask_url, mask_urls


@pytest.mark.parametrize(("url", "masked"), [
    ("https://user:pass@host.example/p?q=1", "https://***@host.example/p?q=1"),
    ("https://host.example/h?token=abc&x=1", "https://host.example/h?token=***&x=1"),
    ("https://h/?TOKEN=a;Sig=b&Api-Key=c&api_key=d", "https://h/?TOKEN=***;Sig=***&Api-Key=***&api_key=***"),
    ("https://h/?%74oken=abc", "https://h/?%74oken=***"),
    ("https://h/cb#access_token=abc&state=s", "https://h/cb#access_token=***&state=s"),
    ("https://u:p@[::1/x?password=p", "https://***@[::1/x?password=***"),
    ("https://a@b@c/x", "https://***@c/x"),
    ("//u:p@host/x", "//***@host/x"),
    ("https://host.example/webhooks/amigo", "https://host.example/webhooks/amigo"),
    ("https://h/?key", "https://h/?key"),
    ("not a url at all @ ?secret=s", "not a url at all @ ?secret=***"),
    ("", ""),
])
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_mask_urls_in_text() -> None:
    text = "POST https://u:p@h.example/x?sig=abc failed; see 'https://docs.example/?a=1'"
    assert mask_urls(text) == "POST https://***@h.example/x?sig=*** failed; see 'https://docs.example/?a=1'"


@given(st.text())
def test_mask_url_never_raises(url: str) -> None:
    masked = mask_url(url)
    assert mask_url(masked) == masked  # masking is idempotent


_SAFE = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._~", min_size=1, max_size=12)


@given(host=_SAFE, path=_SAFE, user=_SAFE, secret=_SAFE,
       name=st.sampled_from(["token", "Key", "API_KEY", "secret", "signature", "password", "sig", "Access_Token"]),
       userinfo=st.booleans())
def test_mask_url_hides_credentials(host: str, path: str, user: str, secret: str, name: str, userinfo: bool) -> None:
    marked = "SECRETVALUE" + secret.upper()  # cannot occur in the lower-case rest of the URL
    url = (f"https://{user}:{marked}@{host}/{path}?a=1" if userinfo
           else f"https://{host}/{path}?a=1&{name}={marked}")
    masked = mask_url(url)
    assert marked not in masked
    assert host in masked and "a=1" in masked


@given(host=_SAFE, path=_SAFE, query=st.dictionaries(st.sampled_from(["a", "page", "q", "region"]), _SAFE))
def test_mask_url_leaves_other_urls_alone(host: str, path: str, query: dict[str, str]) -> None:
    url = f"https://{host}/{path}" + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    assert mask_url(url) == url


def test_redactor_masks_raw_and_encoded_forms() -> None:
    secret = "whsec_a/b+c=d\"e\\f"
    redact = Redactor([Secret(secret)])
    encoded = [secret, quote(secret, safe=""), json.dumps(secret)[1:-1], repr(secret)[1:-1],
               base64.b64encode(secret.encode()).decode()]
    for form in encoded:
        assert redact(f"helper said: {form}!") == "helper said: ***!"


def test_redactor_ignores_empty_and_short_values() -> None:
    redact = Redactor(["", "ab", None])  # type: ignore[list-item]
    assert len(redact) == 0
    assert redact("a secret-free message about abc") == "a secret-free message about abc"


def test_redactor_masks_the_longest_secret_whole() -> None:
    redact = Redactor(["token-1234", "token-1234-extra"])
    assert redact("x token-1234-extra y token-1234 z") == "x *** y *** z"


def test_redactor_does_not_rebuild_a_secret_from_its_mask() -> None:
    redact = Redactor(["x***"])
    assert "x***" not in redact("xx***")


@settings(max_examples=80)
@given(secrets=st.lists(st.text(min_size=MIN_SECRET_CHARS, max_size=20), min_size=1, max_size=4),
       pieces=st.lists(st.text(max_size=20), max_size=5), data=st.data())
def test_redactor_leaves_no_secret_in_any_text(secrets: list[str], pieces: list[str], data: st.DataObject) -> None:
    text = "".join(piece + data.draw(st.sampled_from(secrets)) for piece in pieces) + "end"
    redacted = Redactor(secrets)(text)
    for secret in secrets:
        assert secret not in redacted


def _one_pattern_reference(secrets: list[str], text: str) -> str:
    """The redactor as it was: one alternation of every form, longest first, until nothing changes."""
    forms = set().union(*(_encodings(secret) for secret in secrets if len(secret) >= MIN_SECRET_CHARS))
    if not forms:
        return text
    pattern = re.compile("|".join(re.escape(form) for form in sorted(forms, key=lambda form: (-len(form), form))))
    while (masked := pattern.sub("***", text)) != text:
        text = masked
    return text


@settings(max_examples=150)
@given(secrets=st.lists(st.text(alphabet="ab*x-", min_size=1, max_size=8), min_size=1, max_size=5),
       text=st.text(alphabet="ab*x- ", max_size=60))
def test_redactor_masks_exactly_as_one_longest_first_pattern(secrets: list[str], text: str) -> None:
    # A small alphabet, so secrets overlap, contain each other and meet their own masks.
    assert Redactor(secrets)(text) == _one_pattern_reference(secrets, text)


def test_redactor_with_thousands_of_secrets_masks_each() -> None:
    secrets = [f"whsec_{n:06d}_{'k' * (n % 7)}" for n in range(3000)]
    redact = Redactor(secrets)
    text = " | ".join(f"created d{n}: {secrets[n]}" for n in range(0, 3000, 97))
    redacted = redact(text)
    assert "whsec_" not in redacted
    assert redacted.count("***") == len(range(0, 3000, 97))

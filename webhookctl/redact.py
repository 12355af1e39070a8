"""Masking of credentials in text meant for people: URLs and known secret values.

This module is at the bottom of the package (it imports nothing else from it
but `model.Secret`), so that every layer that prints, logs or raises can use it.

- `mask_url(url)` hides user info (`https://***@host/`) and the values of query
  (and fragment) parameters that usually carry credentials (`?token=***`). It
  parses by hand and never raises, whatever the text: a URL too malformed for
  `urllib.parse` is exactly the kind that ends up in an error message.
- `mask_urls(text)` does the same for every URL found inside a text.
- `Redactor` holds the secret values a run knows and replaces them, and their
  obvious encodings (percent-encoded, JSON- or repr-escaped, base64), with `***`.
  Values shorter than `MIN_SECRET_CHARS` are not held: masking every `ab` in a
  message would hide the message, and such a value protects nothing anyway.
- `RUN` is the run-wide `Redactor`: every `Secret` made in this process is added to
  it as it is made (`model.witness_secrets`), and `clean(text)` (RUN, then
  `mask_urls`) is what the presenter applies to every line it prints.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Iterable
from urllib.parse import quote, quote_plus, unquote_plus

from webhookctl.secret import Secret, witness_secrets

MASK = "***"
SENSITIVE_PARAMETERS = frozenset({
    "token", "key", "api_key", "apikey", "secret", "signature", "password", "sig", "access_token",
    "client_secret", "refresh_token",
})
MIN_SECRET_CHARS = 4

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# A URL inside free text: a scheme, `//`, and everything up to whitespace or a closing quote/bracket.
_URL_IN_TEXT = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>`]+")


def _sensitive(name: str) -> bool:
    return unquote_plus(name).strip().lower().replace("-", "_") in SENSITIVE_PARAMETERS


def _mask_parameters(text: str) -> str:
    """`a=1&token=x;sig=y` -> `a=1&token=***;sig=***` (both separators are in use)."""
    parts = re.split(r"([&;])", text)
    for index in range(0, len(parts), 2):
        name, equals, _ = parts[index].partition("=")
        if equals and _sensitive(name):
            parts[index] = f"{name}={MASK}"
    return "".join(parts)


def mask_url(url: str) -> str:
    """`url` with its user info and credential-like parameter values replaced by `***`. Never raises."""
    if not isinstance(url, str):
        url = str(url)
    rest, hash_, fragment = url.partition("#")
    rest, question, query = rest.partition("?")
    scheme = _SCHEME.match(rest)
    start = scheme.end() if scheme else 0
    if rest.startswith("//", start):
        authority_start = start + 2
        slash = rest.find("/", authority_start)
        authority_end = len(rest) if slash < 0 else slash
        authority = rest[authority_start:authority_end]
        if "@" in authority:
            host = authority.rpartition("@")[2]
            rest = rest[:authority_start] + f"{MASK}@{host}" + rest[authority_end:]
    masked = rest
    if question:
        masked += "?" + _mask_parameters(query)
    if hash_:
        masked += "#" + (_mask_parameters(fragment) if "=" in fragment else fragment)
    return masked


def mask_urls(text: str) -> str:
    """`text` with every `scheme://...` in it passed through `mask_url`."""
    return _URL_IN_TEXT.sub(lambda match: mask_url(match.group()), text)


def _encodings(value: str) -> set[str]:
    """The value as written raw and as it commonly appears once escaped or encoded."""
    import json  # here, not at the top: `validate` and `--help` print without ever seeing a secret

    raw = value.encode("utf-8", errors="surrogatepass")
    forms = {
        value,
        quote(value, safe="", errors="surrogatepass"),
        quote_plus(value, safe="", errors="surrogatepass"),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        repr(value)[1:-1],
        base64.b64encode(raw).decode("ascii"),
        base64.urlsafe_b64encode(raw).decode("ascii").rstrip("="),
    }
    return {form for form in forms if len(form) >= MIN_SECRET_CHARS}


class Redactor:
    """Replaces every known secret value (and its obvious encodings) in a text with `***`.

    A run can know thousands of secrets (an apply creating 10,000 destinations), and every line
    it prints passes through here. One regular expression of every form, rebuilt after each new
    secret, cost the compile of an ever larger alternation per printed line (and kept each in
    `re`'s cache): quadratic in the secrets, in time and memory. Instead the forms are indexed by
    their first `MIN_SECRET_CHARS` characters (every form has at least that many) and length, so
    `redact` costs about one dictionary lookup per character of text whatever the number of
    secrets, and `add` costs the new forms only. At each position the longest form wins, as the
    one pattern (longest first) did; `tests/test_redact.py` compares the two.
    """

    def __init__(self, secrets: Iterable[str | Secret] = ()) -> None:
        self._forms: set[str] = set()
        # First MIN_SECRET_CHARS characters -> length -> the forms of that length starting so, the
        # lengths longest first. Secrets often share a prefix (`whsec_`), so a bucket can hold most
        # of them: a lookup costs one set probe per distinct length, not one comparison per form.
        self._by_prefix: dict[str, dict[int, set[str]]] = {}
        # Secrets arrive from worker threads (backend calls run off the event loop).
        self._lock = threading.Lock()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | Secret | None) -> None:
        value = secret.reveal() if isinstance(secret, Secret) else secret
        if not isinstance(value, str) or len(value) < MIN_SECRET_CHARS:
            return
        forms = _encodings(value)
        with self._lock:
            for form in forms - self._forms:
                self._forms.add(form)
                key, length = form[:MIN_SECRET_CHARS], len(form)
                bucket = self._by_prefix.get(key, {})
                if length not in bucket:
                    # Longest first, so a secret that contains another is masked whole.
                    bucket = dict(sorted({**bucket, length: set()}.items(), reverse=True))
                    self._by_prefix[key] = bucket
                bucket[length].add(form)

    def __len__(self) -> int:
        return len(self._forms)

    def _mask_once(self, text: str) -> str:
        lookup = self._by_prefix.get
        width = MIN_SECRET_CHARS
        pieces: list[str] = []
        start = index = 0
        end = len(text) - width + 1
        while index < end:
            bucket = lookup(text[index:index + width])
            if bucket is not None:
                for length, forms in bucket.items():
                    if text[index:index + length] in forms:
                        pieces += (text[start:index], MASK)
                        index = start = index + length
                        break
                else:
                    index += 1
            else:
                index += 1
        if not pieces:
            return text
        pieces.append(text[start:])
        return "".join(pieces)

    def redact(self, text: str) -> str:
        if not self._by_prefix:
            return text
        with self._lock:
            return self._redact(text)

    def _redact(self, text: str) -> str:
        # Masking can join the text around a secret into another occurrence (a secret with `***` in
        # it): repeat until none is left. Each pass shortens the text, so this ends.
        while True:
            masked = self._mask_once(text)
            if masked == text:
                return masked
            text = masked

    __call__ = redact


RUN = Redactor()
witness_secrets(RUN.add)


def clean(text: str, redactor: Redactor = RUN) -> str:
    """`text` as it may be shown: every known secret masked, then every URL's credentials."""
    return mask_urls(redactor.redact(text))

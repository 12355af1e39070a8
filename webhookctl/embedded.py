"""`base_url: emulator`: the vendor emulator in-process, behind httpx's ASGI transport.

Its state lives in `<state_dir>/emulator/<vendor>.sqlite`, so separate runs of
webhookctl see the same destinations, and the account named in the provider's
configuration is provisioned on first use. This is wiring only: providers still
speak plain HTTP to it and share no code with it.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from webhookctl.extras import require
from webhookctl.secrets.file import private_dir

EMULATOR_URL = "http://emulator.invalid"


def amigo_transport(state_dir: Path, organization: str, user_id: str, api_key_id: str, api_key: str) -> httpx.AsyncBaseTransport:
    require("emulator")
    from webhookctl.emulator.amigo import AmigoEmulator, create_app
    from webhookctl.emulator.common.store import DocumentStore

    directory = state_dir / "emulator"
    private_dir(directory)
    emulator = AmigoEmulator(store=DocumentStore(directory / "amigo.sqlite"))
    document = emulator.org_document(organization)
    if document is None or api_key_id not in document["api_keys"] or user_id not in document["users"]:
        emulator.provision(organization, user_id, api_key_id, api_key)
    return httpx.ASGITransport(app=create_app(emulator))


def amiqus_transport(state_dir: Path, token: str) -> httpx.AsyncBaseTransport:
    require("emulator")
    from webhookctl.emulator.amiqus import AmiqusEmulator, create_app
    from webhookctl.emulator.common.store import DocumentStore

    directory = state_dir / "emulator"
    private_dir(directory)
    emulator = AmiqusEmulator(store=DocumentStore(directory / "amiqus.sqlite"))
    if token not in (emulator.store.get("__tokens__") or {}):
        emulator.add_token(token)
    return httpx.ASGITransport(app=create_app(emulator))

"""`base_url: emulator` for Amigo: the emulator in-process, behind httpx's ASGI transport.

Wiring only: the client still speaks plain HTTP to it, and the two share no code.
State lives in `<state_dir>/emulator/amigo.sqlite`, so separate runs see the same
destinations; the organisation in the configuration is provisioned on first use.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from webhookctl.vendors.amigo.config import AmigoConfig
from webhookctl.vendors.embedding import emulator_directory, require_emulator


def transport(state_dir: Path, config: AmigoConfig) -> httpx.AsyncBaseTransport:
    require_emulator()
    from webhookctl.emulator.amigo import AmigoEmulator, create_app
    from webhookctl.emulator.common.store import DocumentStore

    auth = config.auth
    emulator = AmigoEmulator(store=DocumentStore(emulator_directory(state_dir) / "amigo.sqlite"))
    document = emulator.org_document(config.organization)
    if document is None or auth.api_key_id not in document["api_keys"] or auth.user_id not in document["users"]:
        emulator.provision(config.organization, auth.user_id, auth.api_key_id, auth.api_key)
    return httpx.ASGITransport(app=create_app(emulator))

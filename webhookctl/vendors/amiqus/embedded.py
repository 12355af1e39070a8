"""`base_url: emulator` for Amiqus: the emulator in-process, behind httpx's ASGI transport.

Wiring only: the client still speaks plain HTTP to it, and the two share no code.
State lives in `<state_dir>/emulator/amiqus.sqlite`; the token is provisioned on first use.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from webhookctl.vendors.embedding import emulator_directory, require_emulator


def transport(state_dir: Path, token: str) -> httpx.AsyncBaseTransport:
    require_emulator()
    from webhookctl.emulator.amiqus import AmiqusEmulator, create_app
    from webhookctl.emulator.common.store import DocumentStore

    emulator = AmiqusEmulator(store=DocumentStore(emulator_directory(state_dir) / "amiqus.sqlite"))
    if token not in (emulator.store.get("__tokens__") or {}):
        emulator.add_token(token)
    return httpx.ASGITransport(app=create_app(emulator))

"""Emulator of the Amiqus ID webhooks API, v1 and v2 over one store (NOTES.md part B)."""

from webhookctl.emulator.amiqus.app import AmiqusEmulator, create_app
from webhookctl.emulator.amiqus.settings import AmiqusSettings

__all__ = ["AmiqusEmulator", "AmiqusSettings", "create_app"]

"""Emulator of the Amigo classic webhook-destination API (NOTES.md part A)."""

from webhookctl.emulator.amigo.app import AmigoEmulator, create_app
from webhookctl.emulator.amigo.settings import AmigoSettings

__all__ = ["AmigoEmulator", "AmigoSettings", "create_app"]

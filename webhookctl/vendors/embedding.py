"""What every vendor's embedded emulator shares: where its state lives, and the extra it needs."""

from __future__ import annotations

from pathlib import Path

from webhookctl.extras import require
from webhookctl.fsafe import private_dir

# The host the client is given for an in-process emulator; nothing resolves it.
EMULATOR_URL = "http://emulator.invalid"


def require_emulator() -> None:
    require("emulator")


def emulator_directory(state_dir: Path) -> Path:
    directory = state_dir / "emulator"
    private_dir(directory)
    return directory

"""Optional dependencies (extras): which backend needs which, and the one line that says so."""

from __future__ import annotations

import importlib.util

from webhookctl.errors import MissingExtraError

# secrets.backend -> (the module it imports, the extra that installs it)
BACKEND_EXTRAS = {"vault": ("hvac", "vault"), "aws-secretsmanager": ("boto3", "aws")}


def missing_extra(backend: str) -> str | None:
    """The message for a backend whose extra is not installed, or None when it is (or needs none)."""
    needed = BACKEND_EXTRAS.get(backend)
    if needed is None:
        return None
    module, extra = needed
    try:
        if importlib.util.find_spec(module) is not None:
            return None
    except ValueError:  # in sys.modules as None: blocked, so missing all the same
        pass
    return f"the {backend} backend needs the {extra} extra ({module} is not installed): pip install 'webhookctl[{extra}]'"


def require_extra(backend: str) -> None:
    message = missing_extra(backend)
    if message:
        raise MissingExtraError(message)

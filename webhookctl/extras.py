"""Optional extras: say which `pip install` brings a missing one, in one line.

The vault and aws secrets backends and the emulators' server stack are extras
(`webhookctl[vault]`, `webhookctl[aws]`, `webhookctl[emulator]`), so a slim
install does not carry them. Asking for one that is not installed is a
configuration mistake, not a crash: `require` raises a WebhookctlError, which
every command prints as one line.
"""

from __future__ import annotations

from importlib.util import find_spec

from webhookctl.errors import MissingExtraError

# What each extra provides, for the message: extra -> (modules, what needs them).
EXTRAS: dict[str, tuple[tuple[str, ...], str]] = {
    "vault": (("hvac",), "the vault secrets backend"),
    "aws": (("boto3",), "the aws-secretsmanager secrets backend"),
    "emulator": (("starlette", "uvicorn"), "the emulator"),
}


def _importable(module: str) -> bool:
    try:
        return find_spec(module) is not None
    except ValueError:  # in sys.modules as None: blocked, so missing all the same
        return False


def missing(extra: str) -> str | None:
    """The one-line message when `extra` is not installed, else None."""
    modules, purpose = EXTRAS[extra]
    absent = [module for module in modules if not _importable(module)]
    if not absent:
        return None
    return (f"{purpose} needs {', '.join(absent)}, which is not installed: "
            f"pip install 'webhookctl[{extra}]'")


def require(extra: str) -> None:
    """Raise MissingExtraError unless every module of `extra` can be imported."""
    message = missing(extra)
    if message is not None:
        raise MissingExtraError(message)


# secrets.backend -> the extra that installs what it imports
BACKEND_EXTRAS = {"vault": "vault", "aws-secretsmanager": "aws"}


def missing_extra(backend: str) -> str | None:
    """The message for a secrets backend whose extra is not installed, or None (installed, or none needed)."""
    extra = BACKEND_EXTRAS.get(backend)
    return missing(extra) if extra is not None else None

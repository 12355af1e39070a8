"""The `Vendor` interface: everything webhookctl needs to know about one vendor.

A vendor package (shipped here under `webhookctl/vendors/<vendor>/`, or installed
separately and registered under the `webhookctl.vendors` entry point group) exposes
one object satisfying `Vendor`. The core never names a vendor: configuration
loading, the session and the CLI ask the registry (`webhookctl.vendors.registry`).

Contract:
- `type` is the `type:` of a `providers:` entry; unique across installed vendors.
- `config_model` validates one `providers:` entry (a `ProviderConfig` subclass whose
  `type` field is `Literal[type]`); `fields_model` validates the vendor's own
  destination fields (a `DestinationFields` subclass, every field optional).
- `destination_fields` is pure: it applies defaults and checks what the models
  cannot (required fields, cross-field rules), returning problems, never raising.
- `account` names the account a provider entry reaches, normalised, so two
  spellings of one account are one account (locks, unmanaged detection, caps).
- `open` builds the API client (`webhookctl.vendors.contract.Provider`); it does no I/O.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Hashable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

from webhookctl.capabilities import Capabilities
from webhookctl.configbase import DestinationFields, ProviderConfig

if TYPE_CHECKING:
    # Annotations only: the registry (validate) needs no client contract, nor its dataclasses.
    from webhookctl.vendors.contract import Provider

T = TypeVar("T")


# NamedTuples, not dataclasses, as in config/problems.py: `validate` defines them for the registry.
class FieldProblem(NamedTuple):
    """A problem with one destination field (`events` or `events[2]`).

    `where` says what to point at: the field's value, its key (a field that should not
    be there), or the mapping that holds it (a required field that is missing).
    """

    field: str
    message: str
    where: Literal["value", "key", "parent"] = "value"


class SharedClients:
    """What every account of one run shares: its HTTP transports (one keep-alive pool per server).

    Keyed by whatever the vendor's client code chooses; the session closes everything at the end.
    """

    def __init__(self) -> None:
        self._items: dict[Hashable, Any] = {}

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        if key not in self._items:
            self._items[key] = build()
        item: T = self._items[key]
        return item

    async def aclose(self) -> None:
        # Imported here: `validate` reads this module for the registry and never runs a loop.
        import asyncio

        items, self._items = list(self._items.values()), {}
        await asyncio.gather(*(item.aclose() for item in items if hasattr(item, "aclose")))


class OpenContext(NamedTuple):
    """What building a client may use: where webhookctl keeps state, the request timeout, and the run's
    shared connection pools (`http`: pass it to `ApiClient(pool=...)`; None builds a client of its own)."""

    state_dir: Path
    timeout: float
    http: SharedClients | None = None


class Vendor(Protocol):
    # Read-only, so that a vendor may narrow them (its own config model, its own fields model).
    @property
    def type(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def capabilities(self) -> Capabilities: ...

    @property
    def config_model(self) -> builtins.type[ProviderConfig]: ...

    @property
    def fields_model(self) -> builtins.type[DestinationFields]: ...

    def destination_fields(
        self, declared: Mapping[str, Any], defaults: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[FieldProblem]]:
        """The destination's vendor fields with defaults applied, and what is wrong with them.

        `declared` and `defaults` hold only the vendor fields that were written (by
        `fields_model`'s names), already type-checked by it.
        """
        ...

    def account(self, config: Any) -> str:
        """The account this provider entry reaches: `<vendor>:<normalised address>/<org or team>`."""
        ...

    def open(self, name: str, config: Any, context: OpenContext) -> Provider:
        """The API client for provider entry `name` (no I/O until it is used)."""
        ...


def normalised_address(url: str) -> str:
    """scheme and host lower-cased, default port and trailing slash dropped.

    `https://API.Amigo.ai:443/` and `https://api.amigo.ai` are one address.
    """
    if url == "emulator":
        return url
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return url.rstrip("/")
    scheme = parts.scheme.lower()
    default = {"https": 443, "http": 80}.get(scheme)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != default:
        netloc += f":{port}"
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), parts.query, ""))

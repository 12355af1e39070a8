"""The composition root: providers, the secrets backend and escrow built from a Config."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TypeVar

from webhookctl.config.desired import Config
from webhookctl.errors import AuthError, ProviderError, TransportError
from webhookctl.secrets.base import SecretsBackend
from webhookctl.secrets.escrow import Escrow, escrow_key
from webhookctl.secrets.factory import open_backend
from webhookctl.snapshot import Snapshot
from webhookctl.vendors import vendor
from webhookctl.vendors.contract import Provider
from webhookctl.vendors.vendor import OpenContext

T = TypeVar("T")


class Session:
    def __init__(self, config: Config, parallelism: int | None = None,
                 watch: Callable[[str, Provider], None] | None = None) -> None:
        self.config = config
        # Told of every provider opened, to announce its rate-limit waits and retries.
        self.watch = watch
        self.state_dir = Path(config.settings.state_dir)
        self.parallelism = parallelism or config.settings.parallelism
        self.backend: SecretsBackend = open_backend(config.secrets)
        self.escrow = Escrow(self.state_dir / "escrow", escrow_key(config.settings.escrow_key))
        self._providers: dict[str, Provider] = {}

    def provider(self, name: str) -> Provider:
        if name not in self._providers:
            self._providers[name] = self._build(name)
            if self.watch is not None:
                self.watch(name, self._providers[name])
        return self._providers[name]

    def _build(self, name: str) -> Provider:
        context = OpenContext(state_dir=self.state_dir, timeout=self.config.settings.request_timeout)
        return vendor(self.config.vendor_type(name)).open(name, self.config.providers[name], context)

    def _hint(self, name: str, error: ProviderError) -> str:
        """Where in the configuration to look, for the errors a configuration causes."""
        if isinstance(error, TransportError):
            return f"; check providers.{name}.base_url"
        if isinstance(error, AuthError):
            variables = self.config.env_references.get(name, [])
            if variables:
                return f"; check the credentials in {', '.join('${' + v + '}' for v in variables)}"
            return f"; check providers.{name}.auth"
        return ""

    async def gather(self, names: Iterable[str], work: Callable[[str], Awaitable[T]]) -> dict[str, T]:
        """Run `work` for each provider, at most `parallelism` at once."""
        limit = asyncio.Semaphore(self.parallelism)

        async def one(name: str) -> tuple[str, T]:
            async with limit:
                return name, await work(name)

        return dict(await asyncio.gather(*(one(name) for name in names)))

    async def snapshot(self, name: str) -> Snapshot:
        provider = self.provider(name)
        try:
            live = await provider.list()
        except ProviderError as error:
            # Say which account: a run reads many.
            raise type(error)(f"{name} ({provider.scope}): {error}{self._hint(name, error)}", error.status) from None
        records = await asyncio.to_thread(self.backend.list_metadata, name)
        return Snapshot(
            provider=name,
            type=self.config.vendor_type(name),
            scope=provider.scope,
            capabilities=provider.capabilities,
            live=live,
            records=records,
            pending_escrow=frozenset(e.name for e in self.escrow.entries() if e.provider == name),
            vendor_now=provider.vendor_now(),
        )

    async def snapshots(self, names: Iterable[str] | None = None) -> dict[str, Snapshot]:
        return await self.gather(sorted(names or self.config.providers), self.snapshot)

    async def aclose(self) -> None:
        await asyncio.gather(*(p.aclose() for p in self._providers.values()))

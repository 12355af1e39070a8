"""The composition root: providers, the secrets backend and the journal built from a Config."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from webhookctl.config.desired import Config
from webhookctl.config.urls import canonical_url
from webhookctl.errors import (
    AuthError,
    DamagedRecordError,
    ForeignEntryError,
    ProviderError,
    SecretsAccessDenied,
    SecretsError,
    TransportError,
)
from webhookctl.iothreads import IoThreads
from webhookctl.model import LiveDestination
from webhookctl.secrets.base import SecretsBackend
from webhookctl.secrets.factory import open_backend
from webhookctl.secrets.journal import Journal, JournalEntry, escrow_key
from webhookctl.secrets.record import SecretRecord
from webhookctl.snapshot import Snapshot
from webhookctl.vendors import vendor
from webhookctl.vendors.contract import Provider
from webhookctl.vendors.vendor import OpenContext, SharedClients

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
        # Set when the backend refused to show secret values, so records could not be checked.
        self.records_unchecked = False
        self.journal = Journal(self.state_dir / "journal", escrow_key(config.settings.escrow_key))
        self._providers: dict[str, Provider] = {}
        # One HTTP transport (a keep-alive pool per server) for every account of the run.
        self.http = SharedClients()
        # Backend and journal I/O (fsyncs) runs here, off the event loop: one worker per account at once
        # for a backend whose calls wait (a network service), fewer for local files behind one lock,
        # where ten threads only took turns at the lock and the GIL (~10% more CPU for 2,000 creates).
        workers = min(self.parallelism, self.backend.io_threads or self.parallelism)
        self._io = IoThreads(workers)

    def provider(self, name: str) -> Provider:
        if name not in self._providers:
            self._providers[name] = self._build(name)
            if self.watch is not None:
                self.watch(name, self._providers[name])
        return self._providers[name]

    def _build(self, name: str) -> Provider:
        context = OpenContext(state_dir=self.state_dir, timeout=self.config.settings.request_timeout,
                              http=self.http)
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

    async def io(self, work: Callable[..., T], *args: Any) -> T:
        """Run blocking backend or journal I/O on the session's I/O threads."""
        return await self._io.run(work, *args)

    async def gather(self, names: Iterable[str], work: Callable[[str], Awaitable[T]]) -> dict[str, T]:
        """Run `work` for each provider, at most `parallelism` at once."""
        limit = asyncio.Semaphore(self.parallelism)

        async def one(name: str) -> tuple[str, T]:
            async with limit:
                return name, await work(name)

        return dict(await asyncio.gather(*(one(name) for name in names)))

    async def snapshot(self, name: str, check_records: bool = False,
                       checked: frozenset[str] = frozenset()) -> Snapshot:
        """One account's live destinations and backend metadata; with `check_records`, full records are
        read and compared with their metadata (apply and drift, which may read secrets), except the
        `checked` names (this run wrote them and read them back moments ago)."""
        provider = self.provider(name)
        try:
            live = await provider.list()
        except ProviderError as error:
            # Say which account: a run reads many.
            raise type(error)(f"{name} ({provider.scope}): {error}{self._hint(name, error)}", error.status) from None
        records, pending, (damaged, foreign) = await self.io(self._stored, name, check_records, checked)
        live = [_canonical(d) for d in live]
        candidates = self._unmanaged_candidates(name, live, records)
        owned_elsewhere = await self.io(self._owned_elsewhere, name, candidates) if candidates else frozenset()
        return Snapshot(
            provider=name,
            type=self.config.vendor_type(name),
            scope=provider.scope,
            capabilities=provider.capabilities,
            live=live,
            records=records,
            pending=tuple(pending),
            vendor_now=provider.vendor_now(),
            damaged=damaged,
            foreign=foreign,
            owned_elsewhere=owned_elsewhere,
        )

    def _stored(self, name: str, check_records: bool, checked: frozenset[str]) -> tuple[
            list[SecretRecord], list[JournalEntry], tuple[dict[str, str], dict[str, str]]]:
        """What the backend and the journal hold for one account: in one trip to the I/O threads."""
        records = self.backend.list_metadata(name)
        pending = self.journal.entries(name)
        if not check_records:
            return records, pending, ({}, {})
        damaged, foreign = self.check_records(r for r in records if r.name not in checked)
        return records, pending, (damaged, {**foreign, **self._foreign_at_free_keys(name, records)})

    def _foreign_at_free_keys(self, name: str, records: list[SecretRecord]) -> dict[str, str]:
        """Each declared name of `name` that has no record of webhookctl's but whose key holds another tool's
        entry, -> what holds it: found before apply creates the destination, whose secret no record could
        then keep (it would wait in escrow until the entry moved)."""
        bound = {record.name for record in records}
        foreign: dict[str, str] = {}
        for wanted in self.config.for_provider(name):
            if wanted.name not in bound:
                try:
                    self.backend.ensure_writable(name, wanted.name)
                except ForeignEntryError as error:
                    foreign[wanted.name] = str(error)
                except SecretsError:
                    pass  # the backend failing there fails that one operation when it writes, as before
        return foreign

    def _unmanaged_candidates(self, name: str, live: list[LiveDestination],
                              records: list[SecretRecord]) -> list[LiveDestination]:
        """What `name` may take for unmanaged and delete: for a provider whose policy deletes the unmanaged,
        the live destinations neither its records bind nor it or a sibling declares."""
        if self.config.providers[name].unmanaged != "delete":
            return []
        mine = {record.destination_id for record in records}
        declared = {d.url for provider in (name, *self.config.siblings(name)) for d in self.config.for_provider(provider)}
        return [d for d in live if d.id not in mine and d.url not in declared]

    def _owned_elsewhere(self, name: str, candidates: list[LiveDestination]) -> frozenset[str]:
        """Those of `candidates` another configured provider's record binds, or another provider's unfinished
        operation names (by id or URL). The other providers' records are read afresh each time (a sibling
        may have bound one earlier in the same run)."""
        others = [provider for provider in self.config.providers if provider != name]
        ids = {record.destination_id for provider in others for record in self.backend.list_metadata(provider)}
        pending = [entry for entry in self.journal.entries() if entry.provider != name]
        ids |= {i for entry in pending for i in (entry.destination_id, entry.retires) if i}
        urls = {canonical_url(entry.url) for entry in pending}
        return frozenset(d.id for d in candidates if d.id in ids or d.url in urls)

    def orphaned(self) -> list[str]:
        """What to say about each journal entry whose provider is no longer configured (nothing finishes it)."""
        return [f"journal entry {e.id} holds the unfinished {e.op} of {e.label}, whose provider {e.provider!r} "
                "is no longer configured, so no run finishes it: configure the provider again to finish it, "
                f"or drop it with 'webhookctl recover --drop {e.id}'"
                + (" (its secret is then lost)" if e.secret is not None else "")
                for e in self.journal.entries() if e.provider not in self.config.providers]

    @property
    def lock_directory(self) -> Path:
        """Where account locks live: with the secrets where the backend is local files (so every checkout
        that shares them shares the locks), else in the state directory."""
        shared = getattr(self.backend, "lock_directory", None)
        return Path(shared) if shared is not None else self.state_dir / "locks"

    def check_records(self, records: Iterable[SecretRecord]) -> tuple[dict[str, str], dict[str, str]]:
        """(damaged, foreign): each record whose full read disagrees with its metadata, and each whose key
        holds an entry webhookctl did not write, by name -> what is wrong.

        Credentials that may not read secret values (a plan or drift job's) check nothing: a
        permission is not damage. `records_unchecked` then says so.
        """
        damaged: dict[str, str] = {}
        foreign: dict[str, str] = {}
        for meta in records:
            if meta.current is None:
                continue  # bound without a secret: the planner repairs that already
            try:
                full = self.backend.read(meta.provider, meta.name)
            except SecretsAccessDenied:
                self.records_unchecked = True
                return {}, {}
            except ForeignEntryError as error:
                foreign[meta.name] = str(error)
                continue
            except (DamagedRecordError, ValueError, KeyError, TypeError) as error:
                # Damage only: a backend that fails (down, a key missing) raises on; its word repairs nothing.
                # A DamagedRecordError says where and what, never the text (it may hold a secret); a parser's
                # own error may quote it, so only its kind is shown.
                damaged[meta.name] = (f"it cannot be read: {error}" if isinstance(error, DamagedRecordError)
                                      else f"it cannot be read ({type(error).__name__})")
                continue
            if full is None:
                damaged[meta.name] = "its metadata is there but the record is gone"
            elif full.destination_id != meta.destination_id:
                damaged[meta.name] = f"it names destination {full.destination_id}, its metadata {meta.destination_id}"
            elif full.current is None or full.current.secret is None:
                damaged[meta.name] = "it holds no secret"
            elif full.current.secret.fingerprint != meta.current.fingerprint:
                damaged[meta.name] = "its secret does not match the fingerprint in its metadata"
        return damaged, foreign

    async def snapshots(self, names: Iterable[str] | None = None, check_records: bool = False) -> dict[str, Snapshot]:
        names = sorted(self.config.providers if names is None else names)
        return await self.gather(names, lambda name: self.snapshot(name, check_records))

    async def aclose(self) -> None:
        try:
            await asyncio.gather(*(p.aclose() for p in self._providers.values()))
            await self.http.aclose()
        finally:
            self._io.close()


def _canonical(destination: LiveDestination) -> LiveDestination:
    """The live destination with its URL as the configuration's are compared (`config.urls.canonical_url`)."""
    url = canonical_url(destination.url)
    return destination if url == destination.url else replace(destination, url=url)

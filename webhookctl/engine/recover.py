"""Finish whatever a previous run left in escrow, before anything else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from webhookctl.engine.custody import finish
from webhookctl.errors import WebhookctlError
from webhookctl.session import Session


@dataclass(frozen=True)
class Recovered:
    provider: str
    name: str
    kind: str
    error: str | None = None


def recover(session: Session) -> list[Recovered]:
    results = []
    for entry in session.escrow.entries():
        config = session.config.providers.get(entry.provider)
        if config is None:
            results.append(Recovered(entry.provider, entry.name, entry.kind,
                                     "its provider is no longer configured; the entry stays in escrow"))
            continue
        provider = session.provider(entry.provider)
        try:
            finish(entry, session.backend, session.escrow, session.config.vendor_type(entry.provider), provider.scope, datetime.now(UTC))
        except WebhookctlError as error:
            results.append(Recovered(entry.provider, entry.name, entry.kind, str(error)))
        else:
            results.append(Recovered(entry.provider, entry.name, entry.kind))
    return results

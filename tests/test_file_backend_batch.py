"""The file backend's batched metadata update (the stamps after an apply): all or nothing per call."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.test_backend_contract import NOW, record
from webhookctl.errors import ForeignEntryError
from webhookctl.model import Secret
from webhookctl.secrets.file import FileBackend
from webhookctl.secrets.record import SecretRecord


def _unstamped(backend: FileBackend, provider: str, name: str) -> SecretRecord:
    written = record(name=name, provider=provider, secret=f"s3cr3t-{provider}-{name}")
    assert written.current is not None
    backend.write(replace(written, current=replace(written.current, generated_at=None)))
    meta = backend.read_metadata(provider, name)
    assert meta is not None and meta.current is not None and meta.current.generated_at is None
    return replace(meta, current=replace(meta.current, generated_at=NOW))


def test_update_metadata_all_stamps_every_record_and_keeps_the_secrets(tmp_path: Path) -> None:
    backend = FileBackend(tmp_path / "secrets")
    stamped = [_unstamped(backend, provider, name) for provider in ("prod", "staging") for name in ("a", "b", "c")]
    backend.update_metadata_all(stamped)
    for provider in ("prod", "staging"):
        for name in ("a", "b", "c"):
            meta = backend.read_metadata(provider, name)
            assert meta is not None and meta.current is not None and meta.current.generated_at == NOW
            full = backend.read(provider, name)
            assert full is not None and full.current is not None
            assert full.current.secret == Secret(f"s3cr3t-{provider}-{name}")
    assert not list((tmp_path / "secrets").rglob("*.tmp"))


def test_update_metadata_all_writes_nothing_when_one_record_is_foreign(tmp_path: Path) -> None:
    backend = FileBackend(tmp_path / "secrets")
    mine = _unstamped(backend, "prod", "a")
    other = _unstamped(backend, "prod", "b")
    record_path = tmp_path / "secrets" / "webhooks" / "prod" / "b.json"
    record_path.write_text('{"owner": "someone else"}\n')
    with pytest.raises(ForeignEntryError):
        backend.update_metadata_all([mine, other])
    meta = backend.read_metadata("prod", "a")
    assert meta is not None and meta.current is not None and meta.current.generated_at is None

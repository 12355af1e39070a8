"""Any other store, through a command (like git credential helpers; docs/exec-backend.md).

Each operation runs `<command...> <operation>` with one JSON request on stdin
and reads one JSON answer from stdout:

    describe {"key", "provider", "name"}      -> {"record": <record without secrets> | null}
    get      {"key", "provider", "name"}      -> {"record": <record> | null}
    list     {"provider"}                     -> {"records": [<record without secrets>, ...]}
    store    {"key", "provider", "name", "record": <record>}    -> {}
    erase    {"key", "provider", "name"}      -> {}

A non-zero exit is an error; its last line of stderr is shown (never stdin), with
every secret the run knows masked (a helper may echo what it was given).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from webhookctl.config.models import ExecSecrets
from webhookctl.errors import ForeignEntryError, SecretsError
from webhookctl.redact import clean
from webhookctl.secrets.record import MANAGED_BY, SecretRecord, with_metadata


class ExecBackend:
    kind = "exec"
    io_threads: int | None = None  # a helper process per call: calls wait, in parallel

    def __init__(self, config: ExecSecrets, cwd: Path) -> None:
        self.config = config
        self.cwd = cwd

    def key_for(self, provider: str, name: str) -> str:
        return self.config.key_template.format(provider=provider, name=name)

    def _run(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        try:
            done = subprocess.run([*self.config.command, operation], input=json.dumps(request).encode(),
                                  capture_output=True, timeout=self.config.timeout, cwd=self.cwd, check=False)
        except FileNotFoundError:
            raise SecretsError(f"exec backend: {self.config.command[0]!r} not found") from None
        except subprocess.TimeoutExpired:
            raise SecretsError(f"exec backend: {operation} timed out after {self.config.timeout:.0f}s") from None
        if done.returncode != 0:
            lines = done.stderr.decode(errors="replace").strip().splitlines() or [f"exit {done.returncode}"]
            # Masked before it is cut: a cut would leave a secret's head that no longer matches it.
            raise SecretsError(f"exec backend: {operation} failed: {clean(lines[-1])[:300]}")
        try:
            answer = json.loads(done.stdout or b"{}")
        except ValueError:
            raise SecretsError(f"exec backend: {operation} did not answer with JSON") from None
        if not isinstance(answer, dict):
            raise SecretsError(f"exec backend: {operation} did not answer with a JSON object")
        return answer

    def _request(self, provider: str, name: str) -> dict[str, Any]:
        return {"key": self.key_for(provider, name), "provider": provider, "name": name}

    def _record(self, answer: dict[str, Any]) -> SecretRecord | None:
        data = answer.get("record")
        if isinstance(data, dict) and data.get("managed_by") == MANAGED_BY:
            return SecretRecord.from_dict(data, "exec backend answer")
        return None

    def read_metadata(self, provider: str, name: str) -> SecretRecord | None:
        record = self._record(self._run("describe", self._request(provider, name)))
        return record.metadata() if record else None

    def list_metadata(self, provider: str) -> list[SecretRecord]:
        answer = self._run("list", {"provider": provider})
        records = answer.get("records", [])
        if not isinstance(records, list):
            raise SecretsError("exec backend: list did not answer with a list of records")
        return [SecretRecord.from_dict(r, "exec backend answer").metadata() for r in records
                if isinstance(r, dict) and r.get("managed_by") == MANAGED_BY and r.get("provider") == provider]

    def read(self, provider: str, name: str) -> SecretRecord | None:
        return self._record(self._run("get", self._request(provider, name)))

    def _owned(self, provider: str, name: str) -> bool:
        data = self._run("describe", self._request(provider, name)).get("record")
        if data is None:
            return False
        if not isinstance(data, dict) or data.get("managed_by") != MANAGED_BY:
            owner = data.get("owner", "someone else") if isinstance(data, dict) else "someone else"
            raise ForeignEntryError(f"exec backend: {self.key_for(provider, name)} was not written by webhookctl "
                                    f"(it seems to belong to {owner})")
        return True

    def ensure_writable(self, provider: str, name: str) -> None:
        self._owned(provider, name)

    def write(self, record: SecretRecord) -> None:
        self._owned(record.provider, record.name)
        self._run("store", {**self._request(record.provider, record.name), "record": record.to_dict(with_secrets=True)})

    def update_metadata(self, record: SecretRecord) -> None:
        # The store keeps metadata beside the secrets: rewrite the record with the new times.
        full = self.read(record.provider, record.name)
        if full is not None:
            self.write(with_metadata(full, record))

    def delete(self, provider: str, name: str) -> None:
        if self._owned(provider, name):
            self._run("erase", self._request(provider, name))

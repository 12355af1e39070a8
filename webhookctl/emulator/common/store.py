"""Documents keyed by name, in memory or in a SQLite file.

Every change happens inside `transaction(key)`, which reads the document,
hands it out for mutation and writes it back. With SQLite, the write lock is
taken first (`BEGIN IMMEDIATE`), so separate processes sharing one `--db`
file (an emulator server and an embedded emulator in a CLI run) never lose an
update.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Document = dict[str, Any]


class DocumentStore:
    def __init__(self, path: str | Path | None = None) -> None:
        self._path = str(path) if path else None
        self._memory: dict[str, str] = {}
        self._lock = threading.RLock()
        if self._path:
            with self._connect() as db:
                db.execute("CREATE TABLE IF NOT EXISTS documents (key TEXT PRIMARY KEY, body TEXT)")

    def _connect(self) -> sqlite3.Connection:
        assert self._path
        db = sqlite3.connect(self._path, timeout=30, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def keys(self) -> list[str]:
        if not self._path:
            with self._lock:
                return sorted(self._memory)
        with self._connect() as db:
            return [row[0] for row in db.execute("SELECT key FROM documents ORDER BY key")]

    def get(self, key: str) -> Document | None:
        if not self._path:
            with self._lock:
                body = self._memory.get(key)
        else:
            db = self._connect()
            try:
                row = db.execute("SELECT body FROM documents WHERE key = ?", (key,)).fetchone()
            finally:
                db.close()
            body = row[0] if row else None
        return json.loads(body) if body is not None else None

    @contextmanager
    def transaction(self, key: str, default: Document | None = None) -> Iterator[Document]:
        """Yield the document (or a copy of `default`) and persist it on success."""
        if not self._path:
            with self._lock:
                body = self._memory.get(key)
                document = json.loads(body) if body is not None else json.loads(json.dumps(default or {}))
                yield document
                self._memory[key] = json.dumps(document)
            return
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT body FROM documents WHERE key = ?", (key,)).fetchone()
            document = json.loads(row[0]) if row else json.loads(json.dumps(default or {}))
            try:
                yield document
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute(
                "INSERT INTO documents(key, body) VALUES(?, ?) "
                "ON CONFLICT(key) DO UPDATE SET body = excluded.body",
                (key, json.dumps(document)),
            )
            db.execute("COMMIT")
        finally:
            db.close()

#!/usr/bin/env python3
"""A worked example of an `exec` secrets backend: records as JSON files in a directory.

webhookctl runs `json-store.py <operation>` with one JSON request on stdin and
reads one JSON answer on stdout (see docs/exec-backend.md). Replace the four
functions at the bottom with calls to your own store.

Configure it as:

    secrets:
      backend: exec
      command: [python3, examples/exec-backend/json-store.py]

The directory is $JSON_STORE_DIR (default ./.json-store).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(os.environ.get("JSON_STORE_DIR", ".json-store"))


def path_of(key: str) -> Path:
    return ROOT / (hashlib.sha256(key.encode()).hexdigest() + ".json")


def load(key: str) -> dict | None:
    try:
        return json.loads(path_of(key).read_text())["record"]
    except FileNotFoundError:
        return None


def without_secrets(record: dict) -> dict:
    strip = lambda version: {k: v for k, v in version.items() if k != "secret"} if version else version  # noqa: E731
    return {**record, "current": strip(record.get("current")), "previous": strip(record.get("previous"))}


def store(key: str, record: dict) -> None:
    ROOT.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=ROOT)
    with os.fdopen(descriptor, "w") as handle:
        json.dump({"key": key, "record": record}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path_of(key))


def main() -> int:
    operation = sys.argv[1]
    request = json.load(sys.stdin)
    ROOT.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(ROOT / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if operation == "get":
            answer = {"record": load(request["key"])}
        elif operation == "describe":
            record = load(request["key"])
            answer = {"record": without_secrets(record) if record else None}
        elif operation == "list":
            records = [json.loads(p.read_text())["record"] for p in ROOT.glob("*.json")]
            answer = {"records": [without_secrets(r) for r in records if r.get("provider") == request["provider"]]}
        elif operation == "store":
            store(request["key"], request["record"])
            answer = {}
        elif operation == "erase":
            path_of(request["key"]).unlink(missing_ok=True)
            answer = {}
        else:
            print(f"unknown operation {operation}", file=sys.stderr)
            return 2
    json.dump(answer, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())

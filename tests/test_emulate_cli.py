"""`webhookctl emulate` as a user runs it: a process that prints its URL, keeps --db state, stops cleanly."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import yaml

BIN = Path(sys.executable).parent / "webhookctl"


def start(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([str(BIN), "emulate", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    assert " listening on http://127.0.0.1:" in line, line + (process.stderr.read() if process.stderr else "")
    return process, line.split(" listening on ")[1].split()[0]


def stop(process: subprocess.Popen[str], how: signal.Signals) -> int:
    process.send_signal(how)
    return process.wait(15)


def test_amigo_seed_db_and_clean_stops(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(yaml.safe_dump({"organizations": [
        {"id": f"org-{n}", "user_id": "u", "api_key_id": "k", "api_key": f"key-{n}"} for n in range(1000)]}))
    db = tmp_path / "state.sqlite"
    process, url = start("amigo", "--port", "0", "--seed", str(seed), "--db", str(db),
                         "--org", "solo", "--user-id", "u1", "--api-key-id", "k1", "--api-key", "v1")
    try:
        with httpx.Client(base_url=url) as client:
            token = client.post("/v1/org-999/user/signin_with_api_key",
                                headers={"x-api-key": "key-999", "x-api-key-id": "k", "x-user-id": "u"}).json()
            auth = {"authorization": f"Bearer {token['id_token']}"}
            created = client.post("/v1/org-999/webhook_destination/", headers=auth, json={
                "url": "https://a.example.com", "accepted_types": ["api-key-expiration-soon"]})
            assert created.status_code == 201
            assert client.post("/v1/solo/user/signin_with_api_key", headers={
                "x-api-key": "v1", "x-api-key-id": "k1", "x-user-id": "u1"}).status_code == 200
            assert client.post("/_emulator/clock", json={}).status_code == 404  # no --control, no control API
    finally:
        assert stop(process, signal.SIGTERM) == 0

    process, url = start("amigo", "--port", "0", "--db", str(db), "--control")
    try:
        with httpx.Client(base_url=url) as client:
            token = client.post("/v1/org-999/user/signin_with_api_key",
                                headers={"x-api-key": "key-999", "x-api-key-id": "k", "x-user-id": "u"}).json()
            listed = client.get("/v1/org-999/webhook_destination/",
                                headers={"authorization": f"Bearer {token['id_token']}"}).json()
            assert [d["url"] for d in listed["webhook_destinations"]] == ["https://a.example.com"]
            assert client.post("/_emulator/clock", json={}).status_code == 200
    finally:
        assert stop(process, signal.SIGINT) == 0


def test_amiqus_tokens_and_db(tmp_path: Path) -> None:
    db = tmp_path / "amiqus.sqlite"
    process, url = start("amiqus", "--port", "0", "--token", "t1", "--token", "t2", "--db", str(db),
                         "--rate-limit", "50")
    try:
        with httpx.Client(base_url=url) as client:
            created = client.post("/api/v2/webhooks", headers={"authorization": "Bearer t1"},
                                  json={"url": "https://a.example.com", "events": ["*"]})
            assert created.status_code == 201 and created.headers["x-ratelimit-limit"] == "50"
            assert client.get("/api/webhooks", headers={"authorization": "Bearer t2"}).json()["data"] == []
    finally:
        assert stop(process, signal.SIGTERM) == 0
    process, url = start("amiqus", "--port", "0", "--token", "t1", "--db", str(db))
    try:
        listed = httpx.get(f"{url}/api/v2/webhooks", headers={"authorization": "Bearer t1"}).json()
        assert [w["url"] for w in listed["data"]] == ["https://a.example.com"]
    finally:
        assert stop(process, signal.SIGTERM) == 0

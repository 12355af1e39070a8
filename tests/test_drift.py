"""drift, deliveries, import and dump against both emulators over real HTTP."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.conftest import AmigoServer, AmiqusServer
from tests.support.servers import receiver
from tests.support.workspace import TYPE, Team, Workspace
from webhookctl.config.load import load_config
from webhookctl.engine.drift import detect
from webhookctl.secrets.record import SecretRecord
from webhookctl.session import Session
from webhookctl.vendors.amigo.client import AmigoClient


def drift(workspace: Workspace, *args: str) -> tuple[int, dict[str, Any]]:
    result = workspace.run("drift", "--format", "json", *args)
    assert result.exit_code in (0, 2), result.output
    return result.exit_code, json.loads(result.stdout)


def kinds(report: dict[str, Any]) -> dict[tuple[str, str | None], set[str]]:
    found: dict[tuple[str, str | None], set[str]] = {}
    for finding in report["findings"]:
        found.setdefault((finding["kind"], finding["destination"]), set()).add(finding["provider"])
    return found


def amigo_api(server: AmigoServer) -> httpx.Client:
    client = httpx.Client(base_url=f"{server.url}/v1/{server.org}")
    token = client.post("/user/signin_with_api_key", headers={
        "x-api-key": server.api_key, "x-api-key-id": server.api_key_id, "x-user-id": server.user_id}).json()
    client.headers["authorization"] = f"Bearer {token['id_token']}"
    return client


def test_amigo_findings_from_real_situations(workspace: Workspace, amigo_server: AmigoServer) -> None:
    amigo_server.control("settings", {"rate_limits": {"deliveries": 1000}})
    with receiver(status=500) as broken:
        workspace.add("changed", "https://changed.example.com/")
        workspace.add("lost", "https://lost.example.com/")
        workspace.add("aging", "https://aging.example.com/", rotation={"max_age": "30d"})
        workspace.add("failing", broken.url, retry_attempts=1)
        assert workspace.run("apply", "--auto-approve").exit_code == 0
        code, report = drift(workspace)
        assert (code, report["findings"]) == (0, [])
        assert workspace.run("drift").stdout.strip().endswith("No drift: the live destinations, secrets and "
                                                              "deliveries match the configuration.")

        api = amigo_api(amigo_server)
        changed = workspace.record("changed")
        assert changed is not None
        api.post(f"/webhook_destination/{changed['destination_id']}", json={"retry_attempts": 5}).raise_for_status()
        api.post("/webhook_destination/", json={"url": "https://stray.example.com/", "accepted_types": [TYPE]})
        (workspace.root / "secrets" / "webhooks" / "prod" / "lost.json").unlink()
        (workspace.root / "secrets" / "webhooks" / "prod" / "lost.meta.json").unlink()
        for _ in range(3):
            amigo_server.control("events", {"org": amigo_server.org, "type": TYPE})
        amigo_server.control("idle", {})
        amigo_server.control("clock", {"advance_seconds": 31 * 86400})

        code, report = drift(workspace, "--since", "1000d")
    assert code == 2
    found = kinds(report)
    assert ("config-drift", "changed") in found
    assert ("unmanaged", None) in found
    assert ("secret-drift", "lost") in found and ("config-drift", "lost") in found  # adopt + repair
    assert ("rotation-due", "aging") in found
    assert ("delivery-health", "failing") in found
    [health] = [f for f in report["findings"] if f["kind"] == "delivery-health" and f["destination"] == "failing"]
    assert health["details"] == {"failed": 3, "total": 3, "failure_rate": 1.0}
    assert report["summary"]["unmanaged"] == 1
    [drifted] = [f for f in report["findings"] if f["kind"] == "config-drift" and f["destination"] == "changed"]
    assert drifted["details"]["fields"] == {"retry_attempts": {"live": 5, "config": 3}}

    # --fail-on narrows what turns the exit code to 2
    code, _ = drift(workspace, "--fail-on", "subscription-disabled,dual-signing-window")
    assert code == 0
    code, _ = drift(workspace, "--fail-on", "unmanaged")
    assert code == 2
    bad = workspace.run("drift", "--fail-on", "everything")
    assert bad.exit_code == 1 and "unknown kind everything" in bad.stderr


def test_dual_signing_window_is_reported_but_not_drift_by_default(workspace: Workspace,
                                                                 amigo_server: AmigoServer) -> None:
    workspace.add("a", "https://a.example.com/")
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    assert workspace.run("rotate", "a", "--auto-approve").exit_code == 0
    code, report = drift(workspace)
    assert code == 0 and set(kinds(report)) == {("dual-signing-window", "a")}
    assert drift(workspace, "--fail-on", "dual-signing-window")[0] == 2
    amigo_server.control("clock", {"advance_seconds": 31 * 60})
    assert drift(workspace, "--fail-on", "dual-signing-window")[0] == 0
    assert drift(workspace)[1]["findings"] == []


def test_an_unreadable_account_is_a_finding_and_the_others_are_still_checked(
        workspace: Workspace, amigo_server: AmigoServer, amiqus_server: AmiqusServer) -> None:
    workspace.orgs["kyc"] = Team(amiqus_server.url, amiqus_server.token)
    workspace.add("a", "https://a.example.com/")
    headers = {"authorization": f"Bearer {amiqus_server.token}"}
    httpx.post(f"{amiqus_server.url}/api/v2/webhooks", headers=headers,
               json={"url": "https://stray.example.com/", "events": ["*"]}).raise_for_status()
    amigo_server.control("faults", {"maintenance": True})
    code, report = drift(workspace)
    assert code == 2
    assert [(f["kind"], f["provider"], f["message"]) for f in report["findings"]] == [
        ("plan-error", "prod", f"could not be read: prod (amigo:{amigo_server.url}/acme): "
                               "The service is going through temporary maintenance."),
        ("unmanaged", "kyc", "https://stray.example.com/ is declared by no configuration"),
    ]


def test_amiqus_findings(tmp_path: Path, amiqus_server: AmiqusServer) -> None:
    workspace = Workspace(tmp_path, {"kyc": Team(amiqus_server.url, amiqus_server.token, "v2")})
    with receiver(status=500) as broken:
        workspace.add("flaky", broken.url)
        workspace.add("tampered", "https://tampered.example.com/")
        assert workspace.run("apply", "--auto-approve").exit_code == 0
        for _ in range(10):
            amiqus_server.control("events", {"team": amiqus_server.team, "event": "client.updated"})
        amiqus_server.control("idle", {})
    meta = workspace.root / "secrets" / "webhooks" / "kyc" / "tampered.meta.json"
    data = json.loads(meta.read_text())
    data["current"]["fingerprint"] = "sha256:ffffffffffffffff"
    meta.write_text(json.dumps(data))
    code, report = drift(workspace)
    assert code == 2
    found = kinds(report)
    assert ("subscription-disabled", "flaky") in found
    assert ("delivery-health", "flaky") in found
    assert ("secret-drift", "tampered") in found
    assert ("config-drift", "flaky") not in found  # disabled by the vendor is its own kind


class ReadOnlyBackend:
    """Wraps the real file backend; any write is a test failure (a stand-in, not a mock of reads)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.kind = inner.kind

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def write(self, record: SecretRecord) -> None:
        raise AssertionError(f"drift wrote {record.name} to the backend")

    def delete(self, provider: str, name: str) -> None:
        raise AssertionError(f"drift deleted {name} from the backend")


class ReadOnlyTransport(httpx.AsyncBaseTransport):
    """Real HTTP to the emulator; any write is a test failure (sign-in issues a token, it is allowed)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.seen: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(f"{request.method} {request.url.path}")
        if request.method != "GET" and not request.url.path.endswith("/user/signin_with_api_key"):
            raise AssertionError(f"drift sent {request.method} {request.url.path}")
        return await self.inner.handle_async_request(request)


def test_drift_is_strictly_read_only(workspace: Workspace, amigo_server: AmigoServer,
                                     monkeypatch: Any) -> None:
    amigo_server.control("settings", {"rate_limits": {"deliveries": 1000}})
    workspace.add("a", "https://a.example.com/", rotation={"max_age": "1d"})
    workspace.add("b", "https://b.example.com/")
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    assert workspace.run("rotate", "b", "--auto-approve").exit_code == 0
    amigo_api(amigo_server).post("/webhook_destination/", json={"url": "https://stray.example.com/",
                                                                "accepted_types": [TYPE]})
    workspace.unmanaged = "delete"  # a plan would delete it; drift must only report it
    amigo_server.control("clock", {"advance_seconds": 2 * 86400})
    workspace.write()
    for key, value in workspace.env().items():
        monkeypatch.setenv(key, value)
    config = load_config([workspace.config_path])
    escrow_before = sorted((workspace.root / "state").rglob("*"))
    transport = ReadOnlyTransport()

    async def check() -> Any:
        session = Session(config)
        session.backend = ReadOnlyBackend(session.backend)  # type: ignore[assignment]
        session._providers["prod"] = AmigoClient(
            "prod", scope=session.config.account_of("prod"), base_url=amigo_server.url,
            organization=amigo_server.org, api_key=amigo_server.api_key,
            api_key_id=amigo_server.api_key_id, user_id=amigo_server.user_id, transport=transport)
        try:
            return await detect(session, timedelta(days=1), datetime.now(UTC))
        finally:
            await session.aclose()

    report = asyncio.run(check())
    assert {f.kind for f in report.findings} >= {"unmanaged", "rotation-due"}
    assert any(line.startswith("GET /v1/acme/webhook_destination/") for line in transport.seen)
    assert any(line.endswith("/delivery") for line in transport.seen)
    assert sorted((workspace.root / "state").rglob("*")) == escrow_before


def test_deliveries_command(workspace: Workspace, amigo_server: AmigoServer) -> None:
    amigo_server.control("settings", {"rate_limits": {"deliveries": 1000}})
    with receiver() as hook:
        workspace.add("a", hook.url, accepted_types=[TYPE, "api-key-expiration-soon"], retry_attempts=1)
        assert workspace.run("apply", "--auto-approve").exit_code == 0
        for _ in range(3):
            amigo_server.control("events", {"org": amigo_server.org, "type": TYPE})
        amigo_server.control("idle", {})
        hook.status = 500
        for _ in range(2):
            amigo_server.control("events", {"org": amigo_server.org, "type": "api-key-expiration-soon"})
        amigo_server.control("idle", {})
    listed = json.loads(workspace.run("deliveries", "a", "--format", "json", "--limit", "100").stdout)["deliveries"]
    assert len(listed) == 5
    failed = json.loads(workspace.run("deliveries", "a", "--status", "failed", "--format", "json").stdout)["deliveries"]
    assert [d["status"] for d in failed] == ["failed", "failed"] and all(d["attempts"] == 2 for d in failed)
    typed = json.loads(workspace.run("deliveries", "a", "--type", TYPE, "--format", "json").stdout)["deliveries"]
    assert len(typed) == 3
    limited = json.loads(workspace.run("deliveries", "a", "--limit", "2", "--format", "json").stdout)["deliveries"]
    assert len(limited) == 2
    ordered = json.loads(workspace.run("deliveries", "a", "--sort", "-status,+created_at", "--format", "json").stdout)["deliveries"]
    assert [d["status"] for d in ordered] == ["success"] * 3 + ["failed"] * 2
    since = json.loads(workspace.run("deliveries", "a", "--since", "1h", "--format", "json").stdout)["deliveries"]
    assert len(since) == 5
    text = workspace.run("deliveries", "a")
    assert text.exit_code == 0 and text.stderr == "5 deliveries\n"
    assert workspace.run("deliveries", "nope").stderr == "error: no destination named nope in the configuration\n"


def test_dump_then_import_then_plan_shows_no_changes(workspace: Workspace, amigo_server: AmigoServer) -> None:
    api = amigo_api(amigo_server)
    for path, retries in (("/orders", 3), ("/orders/", 5), ("/billing", 2)):
        api.post("/webhook_destination/", json={"url": f"https://hooks.example.com{path}", "accepted_types": [TYPE],
                                                "retry_attempts": retries}).raise_for_status()
    dumped = workspace.root / "dumped.yaml"
    result = workspace.run("dump", "--provider", "prod", "-o", str(dumped))
    assert result.exit_code == 0 and result.stderr == f"Wrote 3 destinations to {dumped}.\n"
    document = yaml.safe_load(dumped.read_text())
    assert [d["name"] for d in document["destinations"]] == [
        "hooks-example-com-billing", "hooks-example-com-orders", "hooks-example-com-orders-2"]
    assert "secret" not in dumped.read_text()
    workspace.destinations = document["destinations"]

    imported = workspace.run("import", "--auto-approve")
    assert imported.exit_code == 0, imported.output
    assert imported.stderr.count("is unknown (the vendor shows it only once)") == 3
    assert workspace.run("plan", "--detailed-exitcode").exit_code == 2  # the secrets still need a repair
    imported = workspace.run("import", "--rotate-secrets", "--auto-approve")
    assert imported.exit_code == 0, imported.output
    assert workspace.run("plan", "--detailed-exitcode").exit_code == 0
    for name in ("hooks-example-com-billing", "hooks-example-com-orders"):
        record = workspace.record(name)
        assert record is not None and record["current"] is not None


def test_dump_and_import_on_amiqus(tmp_path: Path, amiqus_server: AmiqusServer) -> None:
    headers = {"authorization": f"Bearer {amiqus_server.token}"}
    for url, events in (("https://kyc.example.com/a", ["record.*"]), ("https://kyc.example.com/b", ["*"])):
        httpx.post(f"{amiqus_server.url}/api/v2/webhooks", headers=headers,
                   json={"url": url, "events": events, "is_enabled": url.endswith("a")}).raise_for_status()
    workspace = Workspace(tmp_path, {"kyc": Team(amiqus_server.url, amiqus_server.token, "v1")})
    dumped = workspace.run("dump", "--provider", "kyc")
    document = yaml.safe_load(dumped.stdout)
    assert document["destinations"][1] == {"name": "kyc-example-com-b", "provider": "kyc",
                                           "url": "https://kyc.example.com/b", "events": ["*"], "enabled": False}
    workspace.destinations = document["destinations"]
    imported = workspace.run("import", "--auto-approve")
    assert imported.exit_code == 0 and "unknown" not in imported.stderr
    assert workspace.run("plan", "--detailed-exitcode").exit_code == 0


def test_deliveries_wait_visibly_for_the_rate_limit_on_a_terminal(workspace: Workspace,
                                                                  amigo_server: AmigoServer) -> None:
    import os
    import pty
    import select
    import subprocess
    import sys
    import time

    with receiver() as hook:
        workspace.add("a", hook.url)
        assert workspace.run("apply", "--auto-approve").exit_code == 0
        for _ in range(60):  # more than one page of 50
            amigo_server.control("events", {"org": amigo_server.org, "type": TYPE})
        amigo_server.control("idle", {})
    # One deliveries call per 6-second window, so the second page has to wait. The emulator's windows are
    # aligned on the epoch (as fixed windows are), so the run starts just after one turns: both pages then
    # fall in the same window however slowly a loaded machine starts the CLI (it used to start anywhere
    # in a window, and the rare first page answered just before the turn let the second one pass unpaced).
    window = 6.0
    amigo_server.control("settings", {"rate_limits": {"deliveries": 1}, "rate_window_seconds": window})
    leader, follower = pty.openpty()
    workspace.write()
    time.sleep(window - time.time() % window + 0.05)
    done = subprocess.run([sys.executable, "-m", "webhookctl", "deliveries", "a", "--limit", "60", "--format", "json",
                           "-c", str(workspace.config_path)], env={**os.environ, **workspace.env()},
                          stdout=subprocess.PIPE, stderr=follower, timeout=60)
    # Read what the run wrote while this side of the terminal is still open: once every follower is
    # closed, Linux answers a read of the leader with EIO.
    seen = b""
    while select.select([leader], [], [], 0.2)[0]:
        seen += os.read(leader, 65536)
    os.close(follower)
    os.close(leader)
    terminal = seen.decode()
    assert done.returncode == 0
    assert len(json.loads(done.stdout)["deliveries"]) == 60
    assert terminal.startswith("waiting ") and "s for prod's deliveries limit\r\n" in terminal

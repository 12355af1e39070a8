"""`--shard K/N`: four shards in parallel processes converge exactly as one run does.

One emulator serves two fleets of the same shape: fleet `one` is applied by a single run, fleet
`four` by four `apply` processes (one per shard, started together, sharing the journal, the locks
and the file backend as a CI matrix sharing a state store would). Afterwards both fleets hold the
same live destinations and the same records, and an unsharded plan of `four` shows no changes.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AmigoServer
from tests.support.workspace import Org, Team, Workspace
from webhookctl.config.load import load_config
from webhookctl.engine.shard import Shard, ShardError, select
from webhookctl.vendors.amigo.client import AmigoClient

ORGS = 12
PER_ORG = 3
SHARDS = 4


def make_fleet(root: Path, server: AmigoServer, prefix: str) -> Workspace:
    """ORGS organisations `<prefix>-NNN` x PER_ORG destinations (as tests.support.fleet, own names)."""
    accounts: dict[str, Org | Team] = {}
    for n in range(ORGS):
        org = f"{prefix}-{n:03d}"
        server.emulator.provision(org, "deployer", "key-id", f"key-{org}")
        accounts[org] = Org(server.url, org, "deployer", "key-id", f"key-{org}")
    root.mkdir()
    workspace = Workspace(root, accounts)
    for org in accounts:
        for d in range(PER_ORG):
            workspace.add(f"{org}-d{d}", f"https://hooks.{org}.example.com/{d}", provider=org)
    return workspace


def live_state(workspace: Workspace, prefix: str) -> dict[str, list[tuple[str, tuple[str, ...], int]]]:
    """Per organisation (prefix removed): its live destinations, as (url, types, retries), sorted."""

    async def read() -> dict[str, list[tuple[str, tuple[str, ...], int]]]:
        found = {}
        for name, org in workspace.orgs.items():
            assert isinstance(org, Org)
            client = AmigoClient(name, scope=name, base_url=org.url, organization=org.org, api_key=org.api_key,
                                 api_key_id=org.api_key_id, user_id=org.user_id)
            try:
                live = await client.list()
            finally:
                await client.aclose()
            found[name.replace(prefix, "org")] = sorted(
                (d.url.replace(prefix, "org"), tuple(d.fields["accepted_types"]), int(d.fields["retry_attempts"]))
                for d in live)
        return found

    return asyncio.run(read())


def records(workspace: Workspace, prefix: str) -> dict[str, tuple[str, bool]]:
    """Each record (prefix removed) -> (its URL, whether it holds a secret), checked against live ids."""
    found = {}
    for path in sorted((workspace.root / "secrets").rglob("*.json")):
        if path.name.endswith(".meta.json"):
            continue
        data = json.loads(path.read_text())
        found[data["name"].replace(prefix, "org")] = (data["url"].replace(prefix, "org"),
                                                      bool(data["current"] and data["current"]["secret"]))
    return found


def processes(workspace: Workspace, commands: list[list[str]]) -> list[subprocess.CompletedProcess[str]]:
    """Start every command at once (a CI matrix), then wait for all."""
    workspace.write()
    env = {**os.environ, **workspace.env()}
    started = [subprocess.Popen([sys.executable, "-m", "webhookctl", *args, "-c", str(workspace.config_path)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                stdin=subprocess.DEVNULL) for args in commands]
    done = []
    for process in started:
        out, err = process.communicate(timeout=180)
        done.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return done


@pytest.mark.slow
def test_four_shards_in_parallel_converge_as_one_run(tmp_path: Path, amigo_server: AmigoServer) -> None:
    amigo_server.control("settings", {"rate_limits": {e: 100000 for e in
                                                      ("signin", "list", "create", "update", "delete", "rotate")}})
    one, four = make_fleet(tmp_path / "one", amigo_server, "one"), make_fleet(tmp_path / "four", amigo_server, "four")

    # The shards partition the accounts.
    four.write()
    config = load_config([str(four.config_path)], four.env())
    parts = [select(config, config.providers, f"{k}/{SHARDS}") for k in range(1, SHARDS + 1)]
    assert sorted(p for part in parts for p in part) == sorted(config.providers)
    # The accounts name the emulator's port, so which shard is empty (if one is) varies by run.
    assert sum(1 for part in parts if part) >= 2, "the hash spreads 12 accounts over the shards"

    planned = processes(four, [["plan", "--shard", f"{k}/{SHARDS}", "--out", str(tmp_path / f"plan{k}.json")]
                               for k in range(1, SHARDS + 1)])
    assert [p.returncode for p in planned] == [0] * SHARDS, [p.stderr for p in planned]
    for k, process in enumerate(planned, 1):
        assert f"Shard {k}/{SHARDS}" in process.stdout
        saved = json.loads((tmp_path / f"plan{k}.json").read_text())
        assert saved["request"]["shard"] == f"{k}/{SHARDS}"
        assert sorted(s["name"] for s in saved["providers"]) == parts[k - 1]

    # One view of the four saved plans: every change, once.
    shown = subprocess.run([sys.executable, "-m", "webhookctl", "show",
                            *(str(tmp_path / f"plan{k}.json") for k in range(1, SHARDS + 1)), "--format", "json"],
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    merged: dict[str, Any] = json.loads(shown.stdout)
    assert len(merged["changes"]) == ORGS * PER_ORG
    assert {c["action"] for c in merged["changes"]} == {"create"}

    applied = processes(four, [["apply", str(tmp_path / f"plan{k}.json")] for k in range(1, SHARDS + 1)])
    assert [p.returncode for p in applied] == [0] * SHARDS, [p.stdout + p.stderr for p in applied]
    single = one.run_process("apply", "--auto-approve")
    assert single.returncode == 0, single.stdout + single.stderr

    assert live_state(four, "four") == live_state(one, "one")
    assert records(four, "four") == records(one, "one")
    assert len(records(four, "four")) == ORGS * PER_ORG
    assert not list((four.root / "state" / "journal").glob("*.json"))
    again = four.run_process("plan", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "No changes" in again.stdout


def test_shard_is_stable_and_checked() -> None:
    shard = Shard.parse("2/4")
    assert str(shard) == "2/4"
    account = "amigo:https://api.amigo.ai/acme"
    # Which shard an account is in depends on the account and N only.
    assert [Shard(k, 4).holds(account) for k in range(1, 5)].count(True) == 1
    for text in ("0/4", "5/4", "4", "a/b", "1/0", "-1/4"):
        with pytest.raises(ShardError):
            Shard.parse(text)


def test_show_refuses_plans_that_are_not_one_split(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from click.testing import CliRunner

    from webhookctl.cli import cli
    from webhookctl.engine.plan import Plan, Request

    def saved(name: str, shard: str | None) -> str:
        path = tmp_path / name
        path.write_text(Plan(created_at=datetime.now(UTC), request=Request(shard=shard)).sealed().to_json())
        return str(path)

    runner = CliRunner()
    whole, first, again, other = saved("a.json", None), saved("b.json", "1/2"), saved("c.json", "1/2"), \
        saved("d.json", "1/3")
    for paths, message in (([whole, first], "only plans of shards"), ([first, again], "twice"),
                           ([first, other], "different splits")):
        result = runner.invoke(cli, ["show", *paths])
        assert result.exit_code == 1 and message in result.output + result.stderr
    one_half = runner.invoke(cli, ["show", first, "--format", "markdown"])
    assert one_half.exit_code == 0 and "Shard 1/2" in one_half.stdout
    half = runner.invoke(cli, ["show", first, saved("e.json", "2/2"), "--format", "markdown"])
    assert half.exit_code == 0 and "Shard 1/2,2/2" in half.stdout
    assert "webhookctl-plan" in half.stdout
    bad = runner.invoke(cli, ["plan", "--shard", "5/4"])
    assert bad.exit_code == 1 and "K/N" in bad.stderr  # a usage error: exit 1, as every error

"""The crash matrix: a mixed plan across two Amigo organisations, killed at every failpoint and at random.

The plan holds a create, an update, a replace in both orders (create-before-delete; delete-before-create
where the organisation is full at 10 destinations), a delete, a rotation and an adoption. After a SIGKILL
the next `apply` must converge: every declared destination live exactly once, nothing left at a retired
URL, every record's secret verifying a real signed delivery, an empty journal and a quiet plan. The one
loss that cannot be undone at once (a rotation's answer) must be reported until the repair is done.
Everything is real: the CLI in a subprocess, the emulator over HTTP on 127.0.0.1, the kill.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.amigo_helpers import live, verify
from tests.conftest import AmigoServer
from tests.support.servers import Receiver, receiver
from tests.support.workspace import TYPE, Org, Workspace
from webhookctl.emulator.amigo.app import ORG_PREFIX, new_object_id, new_secret
from webhookctl.emulator.common.clock import isoformat

pytestmark = pytest.mark.slow

KILLED = -signal.SIGKILL
FAILPOINTS = ["after-intent", "after-create-response", "after-rotate-response", "after-escrow-write",
              "after-backend-write", "before-retire", "after-retire", "after-delete-response"]
SECOND = Org("", "second", "u-2", "key-2", "key-value-2")


def create_directly(server: AmigoServer, org: str, url: str) -> None:
    """A destination someone made in the vendor's dashboard (the emulator's own bookkeeping)."""
    now = isoformat(server.emulator.clock.now())
    with server.emulator.store.transaction(ORG_PREFIX + org) as document:
        destination_id = new_object_id()
        document["destinations"][destination_id] = {
            "id": destination_id, "url": url, "accepted_types": [TYPE], "retry_attempts": None,
            "secret": new_secret(), "secret_generated_at": now, "previous_secret": None,
            "dual_signing_stops_at": None, "last_rotated_at": None, "created_at": now}


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as server:
        yield server


@pytest.fixture
def mixed(tmp_path: Path, amigo_server: AmigoServer, hook: Receiver) -> Workspace:
    """Both organisations applied once; the configuration then edited into the mixed plan."""
    amigo_server.control("settings", {"rate_limits": {"signin": 1000}})
    amigo_server.emulator.provision(SECOND.org, SECOND.user_id, SECOND.api_key_id, SECOND.api_key)
    prod = Org(amigo_server.url, amigo_server.org, amigo_server.user_id, amigo_server.api_key_id,
               amigo_server.api_key)
    second = Org(amigo_server.url, SECOND.org, SECOND.user_id, SECOND.api_key_id, SECOND.api_key)
    workspace = Workspace(tmp_path, {"prod": prod, "second": second})
    for index in range(10):  # prod is full: its replace must delete before it creates
        workspace.add(f"p{index}", f"{hook.url}/prod/p{index}", provider="prod")
    for name in ("s-update", "s-replace", "s-delete", "s-rotate"):
        workspace.add(name, f"{hook.url}/second/{name}", provider="second")
    first = workspace.run_process("apply", "--auto-approve")
    assert first.returncode == 0, first.stdout + first.stderr

    workspace.set("p0", retry_attempts=3)                       # update
    workspace.set("p1", url=f"{hook.url}/prod/p1-v2")           # replace, delete-before-create (full org)
    workspace.set("s-update", retry_attempts=2)                 # update
    workspace.set("s-replace", url=f"{hook.url}/second/s-replace-v2")  # replace, create-before-delete
    workspace.remove("s-delete")                                # delete
    workspace.add("s-create", f"{hook.url}/second/s-create", provider="second")  # create
    workspace.add("s-adopt", f"{hook.url}/second/s-adopt", provider="second")    # adopt
    create_directly(amigo_server, SECOND.org, f"{hook.url}/second/s-adopt")
    # The matrix is only worth its plan: check that it holds every kind of step, both replace orders.
    planned = workspace.run_process("plan", "--rotate", "s-rotate", "--out", str(tmp_path / "plan.json"))
    assert planned.returncode == 0, planned.stdout + planned.stderr
    changes = json.loads((tmp_path / "plan.json").read_text())["changes"]
    steps = {(c["action"], c["order"]) for c in changes}
    assert {("create", None), ("update", None), ("delete", None), ("rotate", None), ("adopt", None),
            ("replace", "create-before-delete"), ("replace", "delete-before-create")} <= steps, steps
    return workspace


RETIRED = ("/prod/p1", "/second/s-replace", "/second/s-delete")


def assert_converged(workspace: Workspace, server: AmigoServer, hook: Receiver) -> None:
    declared = {(d["provider"], d["url"]) for d in workspace.destinations}
    live_urls: list[tuple[str, str]] = []
    for provider, org in (("prod", server.org), ("second", SECOND.org)):
        live_urls += [(provider, d["url"]) for d in live(server, org)]
    assert sorted(live_urls) == sorted(declared), "each declared destination live exactly once, nothing else"
    assert not [url for _, url in live_urls if url.endswith(RETIRED)]
    assert not list((workspace.root / "state" / "journal").glob("*.json"))
    plan = workspace.run_process("plan", "--detailed-exitcode")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    # Every record's secret verifies a real delivery.
    for provider, org in (("prod", server.org), ("second", SECOND.org)):
        for destination in live(server, org):
            name = destination["url"].rsplit("/", 1)[1].removesuffix("-v2")
            record = workspace.record(name, provider)
            assert record is not None and record["destination_id"] == destination["id"], name
    hook.requests.clear()
    for org in (server.org, SECOND.org):
        server.control("events", {"org": org, "type": TYPE})
    server.control("idle", {})
    requests = hook.wait_for(len(declared))
    assert len(requests) == len(declared)
    for request in requests:
        provider, name = request.path.strip("/").split("/")
        record = workspace.record(name.removesuffix("-v2"), provider)
        assert record is not None and verify(record["current"]["secret"], request.headers, request.body), name


@pytest.mark.parametrize("failpoint", FAILPOINTS)
def test_killed_at_every_failpoint(mixed: Workspace, amigo_server: AmigoServer, hook: Receiver,
                                   failpoint: str) -> None:
    killed = mixed.run_process("apply", "--auto-approve", "--rotate", "s-rotate",
                               extra_env={"WEBHOOKCTL_FAILPOINTS": failpoint})
    assert killed.returncode == KILLED, killed.stdout + killed.stderr
    again = mixed.run_process("apply", "--auto-approve")
    if failpoint == "after-rotate-response":
        assert again.returncode == 1, again.stdout + again.stderr
        assert "second/s-rotate" in again.stderr
        plan = mixed.run_process("plan", "--detailed-exitcode")
        assert plan.returncode == 2 and "rotation is possible after" in plan.stdout, plan.stdout + plan.stderr
        amigo_server.control("clock", {"advance_seconds": 3601})
        repaired = mixed.run_process("apply", "--auto-approve")
        assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    else:
        assert again.returncode == 0, again.stdout + again.stderr
    assert_converged(mixed, amigo_server, hook)


# Fixed seeds keep CI reproducible; WEBHOOKCTL_CRASH_SEEDS=7,8,9 tries others (before changing the engine).
SEEDS = [int(s) for s in os.environ.get("WEBHOOKCTL_CRASH_SEEDS", "1,2,3").split(",") if s.strip()]


@pytest.mark.parametrize("seed", SEEDS)
def test_killed_at_a_random_moment(mixed: Workspace, amigo_server: AmigoServer, hook: Receiver, seed: int) -> None:
    delay = random.Random(seed).uniform(0.3, 1.5)  # bounded: somewhere between start-up and the end of the run
    mixed.write()
    process = subprocess.Popen([sys.executable, "-m", "webhookctl", "apply", "--auto-approve", "--rotate",
                                "s-rotate", "-c", str(mixed.config_path)],
                               env={**os.environ, **mixed.env()}, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    again = mixed.run_process("apply", "--auto-approve")
    if again.returncode == 1 and "rotation is possible after" in again.stderr + again.stdout:
        amigo_server.control("clock", {"advance_seconds": 3601})  # the kill landed on a rotation's answer
        again = mixed.run_process("apply", "--auto-approve")
    assert again.returncode == 0, again.stdout + again.stderr
    assert_converged(mixed, amigo_server, hook)

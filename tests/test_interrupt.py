"""Ctrl-C during apply: what was in flight finishes (or, at a second Ctrl-C, is left to the journal),
nothing else starts, and the run says what was done, what failed and what did not start.

Real SIGINTs to a real CLI process; the emulator answers creates slowly so that a create is in
flight when the signal comes.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

import pytest

from tests.amigo_helpers import live
from tests.conftest import AmigoServer
from tests.support.workspace import Workspace

NAMES = ["a", "b", "c", "d"]
pytestmark = pytest.mark.slow


def start(workspace: Workspace) -> subprocess.Popen[str]:
    for name in NAMES:
        workspace.add(name, f"https://{name}.example.com/")
    workspace.write()
    return subprocess.Popen([sys.executable, "-m", "webhookctl", "apply", "--auto-approve", "-c",
                             str(workspace.config_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, **workspace.env(), "PYTHONUNBUFFERED": "1"})


def wait_for(process: subprocess.Popen[str], text: str) -> str:
    """Read stdout until `text` appears (bounded, so that a hung run fails instead of hanging)."""
    assert process.stdout is not None
    seen = ""
    deadline = time.monotonic() + 120
    while text not in seen and time.monotonic() < deadline:
        if select.select([process.stdout], [], [], 1)[0]:
            line = process.stdout.readline()
            if not line:
                break
            seen += line
    assert text in seen, seen
    return seen


def test_a_first_ctrl_c_finishes_what_is_in_flight_and_starts_nothing_else(
        workspace: Workspace, amigo_server: AmigoServer) -> None:
    amigo_server.control("faults", {"latency_ms": 1500, "latency_endpoints": ["create"]})
    process = start(workspace)
    before = wait_for(process, "✓ create prod/a done")
    process.send_signal(signal.SIGINT)  # the create of b is in flight
    out, err = process.communicate(timeout=120)
    out = before + out
    assert process.returncode == 1, out + err
    assert "Interrupted: the operations in flight finish" in err
    assert "✓ create prod/b done" in out  # it was in flight: it finished, its secret stored
    assert "- create prod/c not started: interrupted" in out
    assert "Apply interrupted: 2 done, 0 failed, 2 not started." in out
    assert sorted(d["url"] for d in live(amigo_server)) == ["https://a.example.com/", "https://b.example.com/"]
    assert workspace.record("b") is not None
    assert not list((workspace.root / "state" / "journal").glob("*.json"))

    amigo_server.control("faults", {"latency_ms": 0})
    again = workspace.run_process("apply", "--auto-approve")
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(live(amigo_server)) == 4
    assert workspace.run_process("plan", "--detailed-exitcode").returncode == 0


def test_a_second_ctrl_c_abandons_to_the_journal(workspace: Workspace, amigo_server: AmigoServer) -> None:
    amigo_server.control("faults", {"latency_ms": 3000, "latency_endpoints": ["create"]})
    process = start(workspace)
    before = wait_for(process, "✓ create prod/a done")
    process.send_signal(signal.SIGINT)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)  # abandon the create of b, in flight
    out, err = process.communicate(timeout=120)
    out = before + out
    assert process.returncode == 1, out + err
    assert "Apply interrupted: 1 done, 0 failed, 3 not started." in out
    assert "Traceback" not in err

    amigo_server.control("faults", {"latency_ms": 0})
    again = workspace.run_process("apply", "--auto-approve")
    assert again.returncode == 0, again.stdout + again.stderr
    urls = [d["url"] for d in live(amigo_server)]
    assert sorted(urls) == sorted(f"https://{n}.example.com/" for n in NAMES)  # b once, whatever its create did
    assert not list((workspace.root / "state" / "journal").glob("*.json"))
    assert workspace.run_process("plan", "--detailed-exitcode").returncode == 0

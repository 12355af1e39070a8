"""30 organisations x 10 destinations at 3 requests per 5 s window: apply, re-plan, tear down.

The emulator runs as its own process (`webhookctl emulate amigo --seed ...`), as a
vendor would; the CLI runs in this process. Reports each phase's wall time against
the floor the rate limits impose, and the API calls made against the minimum (one
list per organisation per plan, one call per change). Target: within 5% of the floor,
with no request throttled.

The floor. The emulator's windows are fixed and aligned to the clock, per organisation
and endpoint. Each phase starts at a window boundary (the benchmark waits for one, outside
the timing), and one organisation's calls form a chain: sign-in, list, its writes, then
the list of the post-apply check. `forced_windows` replays that chain against the limits
with every call free: each time an endpoint has used its limit in the current window, the
chain can only go on in the next one. A phase that needs b more windows cannot finish
before b window lengths after its start, whatever the client does: that is its floor.
Windows (5 s) are long against a CLI's start-up (~0.3 s), so start-up falls inside the first
window instead of being counted as pacing, and the floor is all waiting.

Run: python -m bench.apply_rate_limited [--orgs 30] [--per-org 10] [--limit 3] [--window 5]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import yaml

from tests.support.workspace import Org, Workspace

ENDPOINTS = ("signin", "create", "list", "update", "delete", "rotate", "deliveries")


def forced_windows(calls: list[str], limit: int) -> int:
    """How many window boundaries a chain of calls must wait for (all counts restart each window)."""
    windows, used = 0, Counter[str]()
    for endpoint in calls:
        if used[endpoint] >= limit:
            windows, used = windows + 1, Counter()
        used[endpoint] += 1
    return windows


def chain(write: str | None, count: int) -> list[str]:
    """One organisation's calls in one CLI run: sign in, list, the writes, and apply's check."""
    return ["signin", "list"] + ([write] * count + ["list"] if write else [])


def to_boundary(window: float) -> None:
    """Sleep to the next window boundary of the emulator's clock-aligned windows."""
    time.sleep(window - time.time() % window + 0.01)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orgs", type=int, default=30)
    parser.add_argument("--per-org", type=int, default=10)
    parser.add_argument("--limit", type=int, default=3)
    parser.add_argument("--window", type=int, default=5, help="Seconds (whole: the windows are epoch-aligned).")
    args = parser.parse_args()
    calls = {"apply": chain("create", args.per_org), "plan": chain(None, 0),
             "teardown": chain("delete", args.per_org)}
    floors = {phase: forced_windows(c, args.limit) * args.window for phase, c in calls.items()}
    phases: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        seed = root / "seed.yaml"
        orgs = [{"id": f"org-{n:03d}", "user_id": "deployer", "api_key_id": "key-id", "api_key": f"key-{n}"}
                for n in range(args.orgs)]
        seed.write_text(yaml.safe_dump({"organizations": orgs}))
        command = [sys.executable, "-m", "webhookctl", "emulate", "amigo", "--port", "0", "--seed", str(seed),
                   "--control", "--rate-window", str(args.window),
                   *[f"--rate-limit={endpoint}={args.limit}" for endpoint in ENDPOINTS]]
        emulator = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        try:
            assert emulator.stdout is not None
            url = emulator.stdout.readline().split(" listening on ")[1].split()[0]
            accounts = {o["id"]: Org(url, o["id"], o["user_id"], o["api_key_id"], o["api_key"]) for o in orgs}
            workspace = Workspace(root / "work", dict(accounts))
            workspace.root.mkdir()
            for org in accounts:
                for d in range(args.per_org):
                    workspace.add(f"{org}-d{d}", f"https://hooks.{org}.example.com/{d}", provider=org)
            workspace.settings = {"max_deletes": args.orgs * args.per_org, "parallelism": args.orgs}
            for phase, cli in (("apply", ("apply", "--auto-approve")), ("plan", ("plan",)),
                               ("teardown", ("apply", "--auto-approve"))):
                if phase == "teardown":
                    workspace.destinations = []
                to_boundary(args.window)
                started = time.perf_counter()
                result = workspace.run(*cli)
                phases[phase] = round(time.perf_counter() - started, 3)
                if result.exit_code != 0:
                    raise SystemExit(f"{phase} failed:\n{result.output[-3000:]}")
            stats = httpx.get(f"{url}/_emulator/stats").json()
        finally:
            emulator.terminate()
            emulator.wait(10)
    changes = args.orgs * args.per_org
    floor = sum(floors.values())
    total = sum(phases.values())
    print(json.dumps({
        "benchmark": "apply_rate_limited", "organisations": args.orgs, "destinations": changes,
        "limit_per_window": args.limit, "window_seconds": args.window,
        "phases_seconds": phases, "floor_seconds_by_phase": floors, "total_seconds": round(total, 3),
        "floor_seconds": floor, "over_floor": round(total / floor - 1, 3) if floor else None,
        "target_over_floor": 0.05,
        "api_calls": stats["requests"],
        "minimum_api_calls": dict(Counter(call for c in calls.values() for call in c * args.orgs)),
        "throttled": stats["throttled"],
    }, indent=2))


if __name__ == "__main__":
    main()

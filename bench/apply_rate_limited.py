"""30 organisations x 10 destinations at 3 requests per window: apply, re-plan, tear down.

The emulator runs as its own process (`webhookctl emulate amigo --seed ...`), as a
vendor would; the CLI runs in this process. Reports each phase's wall time against
the floor the rate limits impose, and the API calls made against the minimum (one
list per organisation per plan, one call per change). Target: within 15% of the floor.

Run: python -m bench.apply_rate_limited [--orgs 30] [--per-org 10] [--limit 3] [--window 1.0]
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

from tests.support.workspace import Org, Workspace

ENDPOINTS = ("signin", "create", "list", "update", "delete", "rotate", "deliveries")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orgs", type=int, default=30)
    parser.add_argument("--per-org", type=int, default=10)
    parser.add_argument("--limit", type=int, default=3)
    parser.add_argument("--window", type=float, default=1.0)
    args = parser.parse_args()
    # Each write phase makes `per_org` calls on one endpoint per organisation: the last can start no
    # earlier than ceil(n / limit) - 1 window boundaries after the first.
    floor_per_phase = (math.ceil(args.per_org / args.limit) - 1) * args.window
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
    floor = 2 * floor_per_phase
    total = sum(phases.values())
    print(json.dumps({
        "benchmark": "apply_rate_limited", "organisations": args.orgs, "destinations": changes,
        "limit_per_window": args.limit, "window_seconds": args.window,
        "phases_seconds": phases, "total_seconds": round(total, 3), "floor_seconds": floor,
        "over_floor": round(total / floor - 1, 3) if floor else None, "target_over_floor": 0.15,
        "api_calls": stats["requests"], "minimum_api_calls": {"list": args.orgs * 3, "create": changes,
                                                               "delete": changes},
        "throttled": stats["throttled"],
    }, indent=2))


if __name__ == "__main__":
    main()

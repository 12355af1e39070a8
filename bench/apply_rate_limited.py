"""30 organisations x 10 destinations at 3 requests per window: apply, re-plan, tear down.

Reports each phase's wall time against the floor the rate limits impose, and the
API calls made against the minimum (one list per organisation per plan, one call
per change). Target: total within 15% of the floor.

Run: python -m bench.apply_rate_limited [--orgs 30] [--per-org 10] [--limit 3] [--window 1.0]
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path

from tests.support.fleet import fleet
from tests.support.servers import serve_app
from webhookctl.emulator.amigo import AmigoEmulator, AmigoSettings, create_app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orgs", type=int, default=30)
    parser.add_argument("--per-org", type=int, default=10)
    parser.add_argument("--limit", type=int, default=3)
    parser.add_argument("--window", type=float, default=1.0)
    args = parser.parse_args()

    settings = AmigoSettings(rate_window_seconds=args.window)
    settings.rate_limits = {name: args.limit for name in settings.rate_limits}
    emulator = AmigoEmulator(settings)
    # Each phase makes `per_org` writes on one endpoint per organisation: the last can start no
    # earlier than ceil(n / limit) - 1 window boundaries after the first.
    floor_per_phase = (math.ceil(args.per_org / args.limit) - 1) * args.window
    phases: dict[str, float] = {}
    with serve_app(create_app(emulator)) as url, tempfile.TemporaryDirectory() as tmp:
        workspace = fleet(Path(tmp), url, emulator, args.orgs, args.per_org)
        for phase, command in (("apply", ("apply", "--auto-approve")), ("plan", ("plan",)),
                               ("teardown", ("apply", "--auto-approve"))):
            if phase == "teardown":
                workspace.destinations = []
            started = time.perf_counter()
            result = workspace.run(*command)
            phases[phase] = round(time.perf_counter() - started, 3)
            if result.exit_code != 0:
                raise SystemExit(f"{phase} failed:\n{result.output[-3000:]}")
    changes = args.orgs * args.per_org
    floor = 2 * floor_per_phase
    total = sum(phases.values())
    minimum_calls = {"list": args.orgs * 3, "create": changes, "delete": changes}
    print(json.dumps({
        "benchmark": "apply_rate_limited", "organisations": args.orgs, "destinations": changes,
        "limit_per_window": args.limit, "window_seconds": args.window,
        "phases_seconds": phases, "total_seconds": round(total, 3), "floor_seconds": floor,
        "over_floor": round(total / floor - 1, 3) if floor else None, "target_over_floor": 0.15,
        "api_calls": dict(emulator.requests), "minimum_api_calls": minimum_calls,
        "throttled": dict(emulator.throttled),
    }, indent=2))


if __name__ == "__main__":
    main()

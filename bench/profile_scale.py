"""Where `apply` (creating destinations) and `plan` (no changes) spend their CPU: cProfile of each.

The same set-up as bench/scale.py at a smaller size: one emulator process, --orgs organisations x
10 destinations; `apply` creates them all under the profiler, then `plan` runs under it. Prints
the top functions by own time and by cumulative time of each, and keeps the .prof files where
--out says (for snakeviz or pstats).

Run: python -m bench.profile_scale [--orgs 200] [--top 25] [--out DIR]
"""

from __future__ import annotations

import argparse
import io
import os
import pstats
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from bench.scale import ENDPOINTS, ROOT, seed_orgs, write_config


def profile(out: Path, args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(out), "-m", "webhookctl", *args],
                          env={**os.environ, "PYTHONPATH": str(ROOT), **env}, capture_output=True, text=True)
    if done.returncode not in (0, 2):
        raise SystemExit(f"{args[0]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


def top(path: Path, count: int) -> str:
    text = io.StringIO()
    stats = pstats.Stats(str(path), stream=text)
    stats.sort_stats("tottime").print_stats(count)
    stats.sort_stats("cumulative").print_stats(count)
    return text.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orgs", type=int, default=200)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--out", type=Path, help="Directory for apply.prof and plan.prof (default: a temporary one).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        out = args.out or root
        out.mkdir(parents=True, exist_ok=True)
        orgs = seed_orgs("org", args.orgs)
        seed = root / "seed.yaml"
        seed.write_text(yaml.safe_dump({"organizations": orgs}))
        emulator = subprocess.Popen(
            [sys.executable, "-m", "webhookctl", "emulate", "amigo", "--port", "0", "--seed", str(seed), "--control",
             *[f"--rate-limit={endpoint}=1000000000" for endpoint in ENDPOINTS]],
            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            assert emulator.stdout is not None
            url = emulator.stdout.readline().split(" listening on ")[1].split()[0]
            config, env = write_config(root / "work", url, orgs)
            profile(out / "apply.prof", ["apply", "--auto-approve", "-c", str(config)], env)
            profile(out / "plan.prof", ["plan", "--detailed-exitcode", "-c", str(config)], env)
        finally:
            emulator.terminate()
            emulator.wait(30)
        for name in ("apply", "plan"):
            print(f"==== {name}, {args.orgs} organisations x 10 destinations")
            print(top(out / f"{name}.prof", args.top))


if __name__ == "__main__":
    main()

"""`validate` on hostile files of up to 10 MB: CPU seconds and peak memory of each, in a fresh process.

Targets (issue 16): under 2 s and 200 MB per file; every file answered with exit 0 or 1.
Run: python bench/validate_hostile.py [--megabytes 10]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

# Runs in the child: validate through the CLI, then report its own CPU time and peak RSS.
CHILD = """
import resource, sys
from click.testing import CliRunner
from webhookctl.cli import cli
result = CliRunner().invoke(cli, ["validate", "--no-env", "-c", sys.argv[1]])
usage = resource.getrusage(resource.RUSAGE_SELF)
first = (result.stdout.splitlines() or [""])[0]
print(result.exit_code, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024, first[:120], sep="\\t")
"""


def cases(size: int) -> dict[str, str]:
    head = "version: 1\n"
    laughs = "x-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"x-{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(9))
    destination = ("  - name: d{n}\n    provider: p{o}\n    url: https://h{n}.example.com/hook\n"
                   "    accepted_types: [conversation-post-processing-complete]\n")
    providers = "".join(f"  p{o}:\n    type: amigo\n    organization: o{o}\n"
                        "    auth: {{api_key: k, api_key_id: i, user_id: u}}\n".replace("{{", "{").replace("}}", "}")
                        for o in range(size // 1700))
    valid = head + "providers:\n" + providers + "destinations:\n"
    count = (size - len(valid)) // 130
    valid += "".join(destination.format(n=n, o=n // 10) for n in range(count))
    valid = valid[: valid.rfind("\n  - ", 0, size) + 1]
    return {
        "valid-destinations": valid,
        "flat-list": head + "x-list: [" + "1, " * ((size - 40) // 3) + "1]\n",
        "long-string": head + "x-s: " + "a" * (size - 20) + "\n",
        "many-keys": head + "x-m:\n" + "".join(f"  k{n}: v\n" for n in range(size // 14)),
        "deep-repeated": head + "".join(f"x-{n}: " + "[" * 99 + "]" * 99 + "\n" for n in range(size // 210)),
        "alias-fanout": head + "x-a: &a {k: v}\nx-list: [" + "*a, " * ((size - 40) // 4) + "*a]\n",
        "billion-laughs": head + laughs,
        "bad-names": head + "destinations:\n" + "".join(
            f"  - {{name: ../{n}, provider: p, url: 'https://[::1/{n}'}}\n" for n in range(size // 70)),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=float, default=10)
    args = parser.parse_args()
    size = int(args.megabytes * 1024 * 1024)
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in cases(size).items():
            path = Path(tmp) / f"{name}.yaml"
            path.write_text(text, encoding="utf-8")
            out = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=False)
            fields = out.stdout.strip().split("\t")
            if out.returncode != 0 or len(fields) != 4:
                print(json.dumps({"case": name, "crashed": out.returncode, "stderr": out.stderr[-300:]}))
                continue
            code, cpu, rss, first = fields
            print(json.dumps({
                "benchmark": "validate_hostile", "case": name, "bytes": path.stat().st_size,
                "exit": int(code), "cpu_seconds": round(float(cpu), 2), "peak_mb": int(rss),
                "within_target": float(cpu) < 2.0 and int(rss) < 200 and code in ("0", "1"), "first_line": first,
            }))


if __name__ == "__main__":
    main()

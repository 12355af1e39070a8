"""Validation of a 1,000-organisation, 10,000-destination tree (target: under 2 s on one core).

Run: python bench/validate_large.py [--orgs 1000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from webhookctl.config.load import load_config


def write_tree(root: Path, orgs: int, per_org: int = 10) -> None:
    (root / "webhookctl.yaml").write_text("version: 1\ndefaults:\n  retry_attempts: 3\n  rotation: {max_age: 90d}\n")
    for n in range(orgs):
        lines = [
            "version: 1", "providers:", f"  org-{n}:", "    type: amigo", f"    organization: org-{n}",
            "    auth: {api_key: key, api_key_id: kid, user_id: uid}", "destinations:",
        ]
        for d in range(per_org):
            lines += [
                f"  - name: org-{n}-d{d}", f"    provider: org-{n}", f"    url: https://h{d}.org-{n}.example.com/hook",
                "    accepted_types: [conversation-post-processing-complete]",
            ]
        (root / f"org-{n:04d}.yaml").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orgs", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_tree(root, args.orgs)
        started = time.process_time()
        wall = time.perf_counter()
        config = load_config([root], {})
        cpu = time.process_time() - started
        elapsed = time.perf_counter() - wall
    print(json.dumps({
        "benchmark": "validate_large", "organisations": len(config.providers),
        "destinations": len(config.destinations), "cpu_seconds": round(cpu, 3),
        "wall_seconds": round(elapsed, 3), "target_seconds": 2.0, "within_target": cpu < 2.0,
    }))


if __name__ == "__main__":
    main()

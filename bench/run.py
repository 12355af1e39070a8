"""Run every benchmark and print their JSON reports (`make bench`)."""

from __future__ import annotations

import subprocess
import sys

for module in ("bench.validate_large", "bench.validate_hostile", "bench.apply_rate_limited", "bench.scale"):
    subprocess.run([sys.executable, "-m", module], check=True)

"""Named crash points for crash-safety tests.

`WEBHOOKCTL_FAILPOINTS=after-create-response,after-backend-write` makes the
process SIGKILL itself when it reaches one of those points, exactly as a power
cut or an OOM kill would. Unset (always, outside tests) this does nothing.
"""

from __future__ import annotations

import os
import signal


def hit(name: str) -> None:
    armed = os.environ.get("WEBHOOKCTL_FAILPOINTS", "")
    if armed and name in armed.split(","):
        os.kill(os.getpid(), signal.SIGKILL)

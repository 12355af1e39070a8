"""Who holds a lock: "<host> pid <n>", and whether that process is still there."""

from __future__ import annotations

import os
import socket


def lock_owner() -> str:
    return f"{socket.gethostname()} pid {os.getpid()}"


def process_gone(owner: str) -> bool:
    """True when `owner` names a process of this host that no longer runs."""
    host, _, pid = owner.partition(" pid ")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False

"""Run an ASGI app on a loopback socket until SIGINT/SIGTERM."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import uvicorn


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def serve(app: Any, sock: socket.socket, on_ready: Callable[[str], None]) -> None:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False,
                            date_header=False)
    server = uvicorn.Server(config)
    on_ready(f"http://{shown}:{port}")
    # uvicorn installs its own SIGINT/SIGTERM handlers and shuts down gracefully.
    server.run(sockets=[sock])

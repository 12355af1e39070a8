"""Real secrets backends for tests: an OpenBao dev server, moto's server, sops with age, an exec helper.

Each server is started on a free loopback port by the test session and stopped at its end.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.servers import free_port

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]


def binary(name: str) -> str:
    found = BIN / name
    return str(found) if found.exists() else (shutil.which(name) or name)


def _wait(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


@dataclass
class Bao:
    address: str
    token: str
    process: subprocess.Popen[bytes]

    def env(self) -> dict[str, str]:
        return {"VAULT_ADDR": self.address, "VAULT_TOKEN": self.token}

    def pause(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)


@contextmanager
def openbao() -> Iterator[Bao]:
    port = free_port()
    process = subprocess.Popen(
        [binary("bao"), "server", "-dev", "-dev-root-token-id=root", f"-dev-listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "HOME": str(Path.home())},
    )
    try:
        address = f"http://127.0.0.1:{port}"
        _wait(f"{address}/v1/sys/health", process)
        yield Bao(address, "root", process)
    finally:
        process.send_signal(signal.SIGCONT)
        process.terminate()
        process.wait(10)


@dataclass
class Moto:
    endpoint: str

    def env(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-1",
                "AWS_EC2_METADATA_DISABLED": "true"}


@contextmanager
def moto() -> Iterator[Moto]:
    port = free_port()
    process = subprocess.Popen([binary("moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        _wait(f"{endpoint}/moto-api/", process)
        yield Moto(endpoint)
    finally:
        process.terminate()
        process.wait(10)


@dataclass
class Age:
    key_file: Path
    recipient: str

    def env(self) -> dict[str, str]:
        return {"SOPS_AGE_KEY_FILE": str(self.key_file), "SOPS_DISABLE_VERSION_CHECK": "1"}


def age_identity(directory: Path) -> Age:
    from pyrage import x25519

    identity = x25519.Identity.generate()
    key_file = directory / "age.key"
    key_file.write_text(f"# public key: {identity.to_public()}\n{identity}\n")
    key_file.chmod(0o600)
    return Age(key_file, str(identity.to_public()))


EXEC_HELPER = ROOT / "examples" / "exec-backend" / "json-store.py"

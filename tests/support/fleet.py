"""Many organisations on one emulator, as a platform team's repository would have them."""

from __future__ import annotations

from pathlib import Path

from tests.support.workspace import Org, Workspace
from webhookctl.emulator.amigo import AmigoEmulator


def fleet(root: Path, url: str, emulator: AmigoEmulator, orgs: int, per_org: int) -> Workspace:
    accounts = {}
    for n in range(orgs):
        org = f"org-{n:03d}"
        emulator.provision(org, "deployer", "key-id", f"key-{n}")
        accounts[org] = Org(url, org, "deployer", "key-id", f"key-{n}")
    workspace = Workspace(root, accounts)
    for org in accounts:
        for d in range(per_org):
            workspace.add(f"{org}-d{d}", f"https://hooks.{org}.example.com/{d}", provider=org)
    workspace.settings = {"max_deletes": orgs * per_org, "parallelism": orgs}
    return workspace

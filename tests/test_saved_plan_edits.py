"""A saved plan is an approval, not an instruction: every edit is refused before any write.

Each edit is applied twice: as written, and re-sealed (its digest recomputed, as a careful forger
would), so the refusal cannot rest on the digest alone: apply re-plans from the configuration and live
state and carries out only the plan that was approved. A refused apply makes no vendor call that
writes (the emulator counts them) and writes no file in the secrets directory or outside it.
Real CLI processes, a real emulator on 127.0.0.1.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.amigo_helpers import live
from tests.conftest import AmigoServer
from tests.support.workspace import Org, Workspace

pytestmark = pytest.mark.slow

WRITES = ("create", "update", "delete", "rotate")
Edit = Callable[[dict[str, Any], dict[str, str]], None]


def _change(plan: dict[str, Any], action: str) -> dict[str, Any]:
    return next(c for c in plan["changes"] if c["action"] == action)


def delete_protected(plan: dict[str, Any], ids: dict[str, str]) -> None:
    change = copy.deepcopy(_change(plan, "delete"))
    change.update(name="a", destination_id=ids["prod/a"], url="https://a.example.com/a")
    plan["changes"].append(change)
    plan["deletes"] = 2
    plan["max_deletes"] = 0


def other_providers_destination(plan: dict[str, Any], ids: dict[str, str]) -> None:
    change = copy.deepcopy(_change(plan, "delete"))
    change.update(provider="other", name="o", destination_id=ids["other/o"], url="https://o.example.com/o")
    plan["changes"].append(change)


def foreign_url_under_existing_name(plan: dict[str, Any], ids: dict[str, str]) -> None:
    change = _change(plan, "create")
    change.update(name="a", url="https://foreign.example.com/steal")
    change["after"]["url"] = change["url"]
    change["secret"]["key"] = "webhooks/prod/a"


def dot_dot_name(plan: dict[str, Any], ids: dict[str, str]) -> None:
    change = _change(plan, "create")
    change["name"] = "../../escaped"
    change["secret"]["key"] = "webhooks/prod/../../escaped"


def provider_twice(plan: dict[str, Any], ids: dict[str, str]) -> None:
    plan["providers"].append(copy.deepcopy(plan["providers"][-1]))
    plan["changes"] += copy.deepcopy(plan["changes"])


def deletes_fields(plan: dict[str, Any], ids: dict[str, str]) -> None:
    plan["deletes"] = 0
    plan["max_deletes"] = 100


def flipped_action(plan: dict[str, Any], ids: dict[str, str]) -> None:
    _change(plan, "create")["action"] = "delete"


def unchanged_but_unsealed(plan: dict[str, Any], ids: dict[str, str]) -> None:
    plan["warnings"].append("looks fine to me")


def unmanaged_policy_shown_otherwise(plan: dict[str, Any], ids: dict[str, str]) -> None:
    plan["providers"][0]["unmanaged_policy"] = "delete"  # what the approver is shown, not what runs


# What the approver is shown of where the plan came from: covered by the digest, so an edit not resealed is
# refused; a forger who reseals changes only what is shown (apply plans again from the configuration).
def config_files_forged(plan: dict[str, Any], ids: dict[str, str]) -> None:
    plan["config_files"] = ["/etc/passwd"]


def created_at_moved(plan: dict[str, Any], ids: dict[str, str]) -> None:
    plan["created_at"] = "2020-01-01T00:00:00Z"


def version_changed(plan: dict[str, Any], ids: dict[str, str]) -> None:
    plan["webhookctl_version"] = "99.0.0"


EDITS: dict[str, Edit] = {f.__name__: f for f in (
    delete_protected, other_providers_destination, foreign_url_under_existing_name, dot_dot_name, provider_twice,
    deletes_fields, flipped_action, unchanged_but_unsealed, unmanaged_policy_shown_otherwise, config_files_forged,
    created_at_moved, version_changed)}
# Edits that change nothing apply does: only the unsealed file is an alteration to refuse.
SHOWN_ONLY = ("unchanged_but_unsealed", "config_files_forged", "created_at_moved", "version_changed")


def reseal(plan: dict[str, Any]) -> None:
    """The digest recomputed as webhookctl computes it (engine/plan.py: Plan.content_digest)."""
    data = {k: v for k, v in plan.items() if k != "digest"}
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    plan["digest"] = "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def files(root: Path) -> dict[str, bytes]:
    """Every file under root but the state directory (journal, lock bookkeeping) and plan files."""
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*")
            if p.is_file() and "state" not in p.relative_to(root).parts and not p.name.startswith("plan")
            and ".locks" not in p.parts}


def writes(server: AmigoServer) -> dict[str, int]:
    requests = httpx.get(f"{server.url}/_emulator/stats", timeout=30).json()["requests"]
    return {k: v for k, v in requests.items() if k in WRITES}


@pytest.fixture
def saved(tmp_path: Path, workspace: Workspace, amigo_server: AmigoServer) -> tuple[Workspace, Path, dict[str, str]]:
    amigo_server.emulator.provision("two", "u-2", "key-2", "key-value-2")
    workspace.orgs["other"] = Org(amigo_server.url, "two", "u-2", "key-2", "key-value-2")
    workspace.defaults = {}
    workspace.add("a", "https://a.example.com/a", protect=True)
    workspace.add("b", "https://b.example.com/b")
    workspace.add("o", "https://o.example.com/o", provider="other")
    assert workspace.run_process("apply", "--auto-approve").returncode == 0
    ids = {f"prod/{d['url'].rsplit('/', 1)[1]}": d["id"] for d in live(amigo_server)}
    ids |= {f"other/{d['url'].rsplit('/', 1)[1]}": d["id"] for d in live(amigo_server, "two")}
    workspace.remove("b")
    workspace.add("c", "https://c.example.com/c")
    plan_path = tmp_path / "plan.json"
    made = workspace.run_process("plan", "--out", str(plan_path))
    assert made.returncode == 0, made.stdout + made.stderr
    return workspace, plan_path, ids


CASES = [(edit, sealed) for edit in sorted(EDITS) for sealed in (False, True) if not (sealed and edit in SHOWN_ONLY)]


@pytest.mark.parametrize(("edit", "sealed"), CASES, ids=[f"{e}-{'resealed' if s else 'as-edited'}" for e, s in CASES])
def test_an_edited_plan_is_refused(saved: tuple[Workspace, Path, dict[str, str]], amigo_server: AmigoServer,
                                   edit: str, sealed: bool) -> None:
    workspace, plan_path, ids = saved
    plan = json.loads(plan_path.read_text())
    EDITS[edit](plan, ids)
    if sealed:
        reseal(plan)
    edited = plan_path.with_name("plan-edited.json")
    edited.write_text(json.dumps(plan))
    before = (live(amigo_server), live(amigo_server, "two"), writes(amigo_server), files(workspace.root))

    refused = workspace.run_process("apply", str(edited), "--auto-approve")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    after = (live(amigo_server), live(amigo_server, "two"), writes(amigo_server), files(workspace.root))
    assert after == before

    approved = workspace.run_process("apply", str(plan_path), "--auto-approve")
    assert approved.returncode == 0, approved.stdout + approved.stderr
    assert sorted(d["url"] for d in live(amigo_server)) == ["https://a.example.com/a", "https://c.example.com/c"]


def test_a_stale_plan_is_refused(saved: tuple[Workspace, Path, dict[str, str]], amigo_server: AmigoServer) -> None:
    workspace, plan_path, ids = saved
    with amigo_server.emulator.store.transaction("org:" + amigo_server.org) as document:
        document["destinations"][ids["prod/a"]]["retry_attempts"] = 1  # someone changed it in the dashboard
    before = (writes(amigo_server), files(workspace.root))
    refused = workspace.run_process("apply", str(plan_path), "--auto-approve")
    assert refused.returncode == 1 and "stale" in refused.stderr, refused.stdout + refused.stderr
    assert (writes(amigo_server), files(workspace.root)) == before


def test_a_plan_made_with_another_configuration_is_refused(saved: tuple[Workspace, Path, dict[str, str]],
                                                           amigo_server: AmigoServer) -> None:
    workspace, plan_path, _ = saved
    workspace.set("a", retry_attempts=2)
    workspace.write()
    before = (writes(amigo_server), files(workspace.root))
    refused = workspace.run_process("apply", str(plan_path), "--auto-approve")
    assert refused.returncode == 1 and "configuration changed" in refused.stderr, refused.stdout + refused.stderr
    assert (writes(amigo_server), files(workspace.root)) == before

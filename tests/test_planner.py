"""The planner is pure: table tests on in-memory snapshots, one per invariant of docs/invariants.md.

No server, no file but the configuration: `build_plan(config, snapshots, now)` alone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from webhookctl.config.desired import Config
from webhookctl.config.load import load_config
from webhookctl.engine.account import PlanOptions
from webhookctl.engine.approval import check_approved
from webhookctl.engine.planner import build_plan
from webhookctl.errors import StalePlanError
from webhookctl.model import LiveDestination
from webhookctl.secrets.journal import JournalEntry
from webhookctl.secrets.record import SecretRecord, SecretVersion
from webhookctl.snapshot import Snapshot
from webhookctl.vendors import vendor

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TYPE = "conversation-post-processing-complete"
AMIGO = vendor("amigo").capabilities


def config(tmp_path: Path, destinations: list[dict[str, Any]], **providers: dict[str, Any]) -> Config:
    base = {"type": "amigo", "base_url": "https://api.amigo.example", "organization": "acme",
            "auth": {"api_key": "k", "api_key_id": "i", "user_id": "u"}}
    document = {
        "version": 1,
        "providers": {name: {**base, **extra} for name, extra in (providers or {"prod": {}}).items()},
        "destinations": [{"provider": "prod", "accepted_types": [TYPE], **d} for d in destinations],
    }
    path = tmp_path / "webhookctl.yaml"
    path.write_text(yaml.safe_dump(document))
    return load_config([path])


def live(id_: str, url: str, generated: datetime = NOW - timedelta(days=1), retry: int = 3) -> LiveDestination:
    return LiveDestination(id=id_ * 24 if len(id_) == 1 else id_, url=url,
                           fields={"accepted_types": [TYPE], "retry_attempts": retry}, secret_generated_at=generated)


def record(name: str, destination: LiveDestination | str, *, generated: datetime | None = NOW - timedelta(days=1),
           protected: bool = False, provider: str = "prod") -> SecretRecord:
    destination_id = destination if isinstance(destination, str) else destination.id
    url = "" if isinstance(destination, str) else destination.url
    return SecretRecord(provider=provider, name=name, vendor="amigo", scope="amigo:x/acme",
                        destination_id=destination_id, url=url,
                        current=SecretVersion(secret=None, fingerprint="sha256:0000", generated_at=generated,
                                              issued_at=generated),
                        protected=protected)


def snapshot(live_: list[LiveDestination], records: list[SecretRecord], provider: str = "prod",
             now: datetime = NOW, **extra: Any) -> Snapshot:
    return Snapshot(provider=provider, type="amigo", scope="amigo:https://api.amigo.example/acme", capabilities=AMIGO,
                    live=live_, records=records, vendor_now=now, **extra)


def actions(plan: Any) -> list[tuple[str, str | None]]:
    return [(c.action, c.name) for c in plan.changes]


# -- 1. One identity ------------------------------------------------------------------


def test_a_second_destination_at_a_declared_url_is_a_duplicate_never_unmanaged(tmp_path: Path) -> None:
    desired = config(tmp_path, [{"name": "a", "url": "https://a.example/h"}])
    first, second = live("a", "https://a.example/h"), live("b", "https://a.example/h")
    plan = build_plan(desired, [snapshot([first, second], [record("a", first)])], NOW)
    assert plan.changes == []
    assert [(b.kind, b.name, b.destination_id) for b in plan.blocked] == [("duplicate", "a", second.id)]
    assert plan.providers[0].unmanaged == []
    assert plan.has_changes  # plan --detailed-exitcode exits 2


def test_what_a_duplicate_costs_until_it_is_deleted_depends_on_whether_it_delivers(tmp_path: Path) -> None:
    desired = config(tmp_path, [{"name": "a", "url": "https://a.example/h"}])
    first = live("a", "https://a.example/h")
    for enabled, says in ((None, "every event to this URL is delivered twice until then"),
                          (True, "every event to this URL is delivered twice until then"),
                          (False, "it is disabled, so nothing is delivered to it meanwhile")):
        fields = {"accepted_types": [TYPE], "retry_attempts": 3} | ({} if enabled is None else {"enabled": enabled})
        second = LiveDestination(id="b" * 24, url=first.url, fields=fields, secret_generated_at=NOW)
        [blocked] = build_plan(desired, [snapshot([first, second], [record("a", first)])], NOW).blocked
        assert blocked.fix == f"delete destination {second.id} at the vendor if nothing else uses it ({says})"


def test_a_duplicate_an_interrupted_run_explains_is_left_to_recovery(tmp_path: Path) -> None:
    desired = config(tmp_path, [{"name": "a", "url": "https://a.example/h"}])
    first, second = live("a", "https://a.example/h"), live("b", "https://a.example/h")
    entry = JournalEntry(provider="prod", account="x", op="create", name="a", url="https://a.example/h",
                         started_at=NOW - timedelta(minutes=1), id="e1")
    plan = build_plan(desired, [snapshot([first, second], [record("a", first)], pending=(entry,))], NOW)
    assert plan.blocked == [] and plan.providers[0].unmanaged == []
    assert [(p.op, p.name) for p in plan.pending] == [("create", "a")]
    assert plan.has_changes


def test_two_records_naming_one_destination_bind_it_once(tmp_path: Path) -> None:
    desired = config(tmp_path, [{"name": "a", "url": "https://a.example/h"},
                                {"name": "b", "url": "https://b.example/h"}])
    a, b = live("a", "https://a.example/h"), live("b", "https://b.example/h")
    # b's metadata was bound to a's destination: it must not replace a, nor delete anything.
    plan = build_plan(desired, [snapshot([a, b], [record("a", a), record("b", a)])], NOW)
    # b adopts its own destination (whose secret, shown once, is then repaired by rotation).
    assert actions(plan) == [("adopt", "b"), ("repair-secret", "b")]
    assert plan.changes[0].destination_id == b.id and plan.changes[0].carry_from is None
    assert any("is bound anew" in w for w in plan.warnings)


def test_a_record_pointing_at_another_declared_destination_is_not_obeyed(tmp_path: Path) -> None:
    desired = config(tmp_path, [{"name": "a", "url": "https://a.example/h"},
                                {"name": "b", "url": "https://b.example/h"}])
    a, b = live("a", "https://a.example/h"), live("b", "https://b.example/h")
    plan = build_plan(desired, [snapshot([a, b], [record("a", b)])], NOW)  # b has no record at all
    assert [a for a in actions(plan) if a[0] == "adopt"] == [("adopt", "a"), ("adopt", "b")]
    assert not [c for c in plan.changes if c.action in ("replace", "delete")]
    # a's record names b's destination, but a is declared: its secret is not carried over to b.
    assert [c.carry_from for c in plan.changes if c.action == "adopt"] == [None, None]


def test_providers_sharing_an_account_never_call_each_other_unmanaged(tmp_path: Path) -> None:
    desired = config(tmp_path, [{"name": "a", "url": "https://a.example/h"},
                                {"name": "b", "url": "https://b.example/h", "provider": "other"}],
                     prod={"unmanaged": "delete"},
                     other={"base_url": "https://API.Amigo.example/", "unmanaged": "delete"})
    assert desired.account_of("prod") == desired.account_of("other")
    a, b = live("a", "https://a.example/h"), live("b", "https://b.example/h")
    plan = build_plan(desired, [snapshot([a, b], [record("a", a)]),
                                snapshot([a, b], [record("b", b, provider="other")], provider="other")], NOW)
    assert [c for c in plan.changes if c.action == "delete"] == []


# -- 3. Losses are reported ---------------------------------------------------------------


def test_a_lost_rotation_blocks_until_the_next_allowed_rotation(tmp_path: Path) -> None:
    desired = config(tmp_path, [{"name": "a", "url": "https://a.example/h"}])
    rotated = live("a", "https://a.example/h", generated=NOW - timedelta(minutes=5))
    plan = build_plan(desired, [snapshot([rotated], [record("a", rotated.id, generated=NOW - timedelta(days=2))])],
                      NOW)
    assert plan.changes == []
    [blocked] = plan.blocked
    assert blocked.kind == "lost-secret" and blocked.name == "a"
    assert "rotation is possible after 2026-12-01T12:55:00Z" in blocked.reason
    later = build_plan(desired, [snapshot([rotated], [record("a", rotated.id, generated=NOW - timedelta(days=2))],
                                          now=NOW + timedelta(hours=1))], NOW)
    assert [(c.action, c.secret_source) for c in later.changes] == [("repair-secret", "rotate")]


def test_an_unstamped_record_still_sees_a_newer_live_secret(tmp_path: Path) -> None:
    desired = config(tmp_path, [{"name": "a", "url": "https://a.example/h"}])
    rotated = live("a", "https://a.example/h", generated=NOW - timedelta(minutes=5))
    stale = record("a", rotated.id, generated=None)
    stale = SecretRecord(**{**stale.__dict__, "current": SecretVersion(
        secret=None, fingerprint="sha256:0000", issued_at=NOW - timedelta(hours=3))})
    plan = build_plan(desired, [snapshot([rotated], [stale])], NOW)
    assert [b.kind for b in plan.blocked] == ["lost-secret"]


# -- 6. Records are checked -----------------------------------------------------------------


def test_a_damaged_record_is_repaired(tmp_path: Path) -> None:
    desired = config(tmp_path, [{"name": "a", "url": "https://a.example/h"}])
    a = live("a", "https://a.example/h", generated=NOW - timedelta(days=2))
    plan = build_plan(desired, [snapshot([a], [record("a", a, generated=a.secret_generated_at)],
                                         damaged={"a": "its metadata is there but the record is gone"})], NOW)
    [change] = plan.changes
    assert (change.action, change.secret_source) == ("repair-secret", "rotate")
    assert change.reason == "the record is damaged: its metadata is there but the record is gone"


# -- protection survives the removal of a declaration --------------------------------------


@pytest.mark.parametrize(("protected", "expected"), [(True, []), (False, [("delete", "a")])])
def test_a_removed_declaration_deletes_only_what_was_not_protected(
        tmp_path: Path, protected: bool, expected: list[tuple[str, str]]) -> None:
    desired = config(tmp_path, [])
    a = live("a", "https://a.example/h")
    plan = build_plan(desired, [snapshot([a], [record("a", a, protected=protected)])], NOW)
    assert actions(plan) == expected
    assert bool(plan.skipped) is protected


# -- typed actions, set once -----------------------------------------------------------------


def test_a_replace_without_a_free_slot_deletes_first(tmp_path: Path) -> None:
    desired = config(tmp_path, [{"name": f"d{n}", "url": f"https://d{n}.example/h"} for n in range(9)]
                     + [{"name": "moved", "url": "https://new.example/h"}])
    lives = [live(f"{n:024d}", f"https://d{n}.example/h") for n in range(9)] + [live("m", "https://old.example/h")]
    records = [record(f"d{n}", lives[n]) for n in range(9)] + [record("moved", lives[9])]
    plan = build_plan(desired, [snapshot(lives, records)], NOW)
    [change] = plan.changes
    assert (change.action, change.order) == ("replace", "delete-before-create")
    roomy = build_plan(desired, [snapshot(lives[8:], records[8:])], NOW)
    assert [(c.action, c.order) for c in roomy.changes if c.name == "moved"] == [("replace", "create-before-delete")]


# -- 5. A saved plan is an approval ------------------------------------------------------------


def test_a_saved_plan_is_refused_unless_it_is_the_plan_of_now(tmp_path: Path) -> None:
    desired = config(tmp_path, [{"name": "a", "url": "https://a.example/h"}])
    state = [snapshot([], [])]
    saved = build_plan(desired, state, NOW)
    assert check_approved(saved, build_plan(desired, state, NOW), recovered=False).changes == saved.changes
    edited = saved.model_copy(update={"deletes": 7})
    with pytest.raises(StalePlanError, match="altered"):
        check_approved(edited, build_plan(desired, state, NOW), recovered=False)
    resealed = saved.model_copy(update={"changes": []}).sealed()
    with pytest.raises(StalePlanError, match="does not match"):
        check_approved(resealed, build_plan(desired, state, NOW), recovered=False)
    other = build_plan(desired, state, NOW, PlanOptions(targets=frozenset({"a"})))
    with pytest.raises(StalePlanError, match="other options"):
        check_approved(other, build_plan(desired, state, NOW), recovered=False)
    moved_on = config(tmp_path, [{"name": "a", "url": "https://a.example/h"},
                                 {"name": "b", "url": "https://b.example/h"}])
    with pytest.raises(StalePlanError, match="configuration changed"):
        check_approved(saved, build_plan(moved_on, state, NOW), recovered=False)
    behind_the_back = [snapshot([live("z", "https://z.example/h")], [])]
    with pytest.raises(StalePlanError, match="stale"):
        check_approved(saved, build_plan(desired, behind_the_back, NOW), recovered=False)


# -- 7. After apply, the whole account is judged ----------------------------------------------


def test_after_apply_the_whole_account_is_judged(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from webhookctl.engine.settle import judge

    desired = config(tmp_path, [{"name": "a", "url": "https://a.example/h"},
                                {"name": "b", "url": "https://b.example/h"}])
    a, extra = live("a", "https://a.example/h"), live("c", "https://a.example/h")
    # b is missing, a has a duplicate, and a second record (of a removed name) names a's destination.
    state = snapshot([a, extra], [record("a", a), record("old", a)])
    errors = judge(SimpleNamespace(config=desired), state, frozenset(), frozenset())  # type: ignore[arg-type]
    assert any(e.startswith("duplicate prod/a: a second live destination") for e in errors)
    assert f"destination {a.id} is bound to more than one name" in errors
    assert any(e.startswith("create b is still needed") for e in errors)
    # Names outside --target are not this run's to judge; what blocks the account still is.
    targeted = judge(SimpleNamespace(config=desired), state, frozenset({"a"}), frozenset())  # type: ignore[arg-type]
    assert not any("create b" in e for e in targeted) and any(e.startswith("duplicate") for e in targeted)


def test_a_secretless_record_rotated_moments_ago_is_blocked_not_rotated_again(tmp_path: Path) -> None:
    # An adopted destination (no secret yet) whose repairing rotation's answer was lost: recovery
    # notes when it happened, and the planner waits for the next allowed rotation.
    desired = config(tmp_path, [{"name": "a", "url": "https://a.example/h"}])
    rotated = live("a", "https://a.example/h", generated=NOW - timedelta(minutes=10))
    bound = SecretRecord(provider="prod", name="a", vendor="amigo", scope="x", destination_id=rotated.id,
                         url=rotated.url, current=None, last_rotated_at=rotated.secret_generated_at)
    plan = build_plan(desired, [snapshot([rotated], [bound])], NOW)
    assert plan.changes == [] and [b.kind for b in plan.blocked] == ["lost-secret"]
    assert "rotation is possible after 2026-12-01T12:50:00Z" in plan.blocked[0].reason

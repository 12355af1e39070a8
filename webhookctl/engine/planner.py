"""Desired state + live state -> a plan. Pure: no I/O, the clock is an argument.

Identity (one name <-> at most one live destination, `binding.py`) comes first;
then each declared destination is compared with its live one (`_plan_existing`),
its secret judged (`secretplan.py`), records of removed names deleted, and the
unmanaged policy applied. Within an account, changes run in levels: adopt,
delete, replace, update, create, then secret work, so that deletes free slots
before creates need them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from webhookctl.capabilities import Capabilities
from webhookctl.config.desired import Config, DesiredDestination
from webhookctl.engine.account import Account, KeyFor, PlanOptions, replace_or_skip
from webhookctl.engine.binding import Binding, bind
from webhookctl.engine.canonical import canonical_parts
from webhookctl.engine.plan import (
    Blocked,
    Change,
    FieldChange,
    PendingOperation,
    Plan,
    ProviderState,
    Skipped,
    UnmanagedDestination,
)
from webhookctl.engine.secretplan import SecretJudge
from webhookctl.errors import PlanError
from webhookctl.model import LiveDestination
from webhookctl.snapshot import Snapshot

LEVELS = {"adopt": 0, "delete": 1, "replace": 2, "update": 3, "create": 4, "repair-secret": 5, "rotate": 5}


def state_of(destination: LiveDestination | DesiredDestination, set_fields: frozenset[str]) -> dict[str, Any]:
    """The URL and the fields, set fields sorted (`snapshot.normalized`). A list already in order is
    kept, not copied: a plan holds one state per change, and its lists are never changed."""
    state: dict[str, Any] = {"url": destination.url}
    for name, value in destination.fields.items():
        if name in set_fields and isinstance(value, list) and any(b < a for a, b in itertools.pairwise(value)):
            value = sorted(value)
        state[name] = value
    return state


def field_diff(before: dict[str, Any], after: dict[str, Any], caps: Capabilities) -> tuple[FieldChange, ...]:
    """Differences in the fields the configuration declares; one the vendor cannot update forces a replace."""
    return tuple(
        FieldChange(field=name, before=before.get(name), after=after[name],
                    forces_replace=name in caps.replace_fields or name not in caps.updatable_fields)
        for name in sorted(after) if before.get(name) != after[name]
    )


def config_digest(config: Config) -> str:
    """Of the desired state (what a plan was made from); any change to it changes the digest.

    Computed once per Config (it is frozen): it serialises every destination.
    """
    cached: str | None = config.__dict__.get("_digest")
    if cached is None:
        cached = config.__dict__["_digest"] = _config_digest(config)
    return cached


def _config_digest(config: Config) -> str:
    head = {
        "providers": {name: provider.model_dump(mode="json") for name, provider in sorted(config.providers.items())},
        "secrets": config.secrets.model_dump(mode="json"),
        "settings": config.settings.model_dump(mode="json", exclude={"parallelism"}),
    }
    destinations = (
        {"name": d.name, "provider": d.provider, "url": d.url, "fields": d.fields, "protect": d.protect,
         "rotation_max_age": d.rotation_max_age.total_seconds() if d.rotation_max_age else None}
        for d in config.destinations
    )
    # Hashed as it is written, one destination at a time (canonical.py).
    digest = hashlib.sha256()
    for part in canonical_parts(head, "destinations", destinations, default=str):
        digest.update(part.encode())
    return "sha256:" + digest.hexdigest()


def build_plan(
    config: Config,
    snapshots: Iterable[Snapshot],
    now: datetime,
    options: PlanOptions | None = None,
    key_for: KeyFor | None = None,
) -> Plan:
    options = options or PlanOptions()
    key_for = key_for or default_key_for(config)
    check_targets(config, options)
    states: list[ProviderState] = []
    changes: list[Change] = []
    blocked: list[Blocked] = []
    pending: list[PendingOperation] = []
    skipped: list[Skipped] = []
    warnings: list[str] = []
    failures: list[str] = []
    for snapshot in sorted(snapshots, key=lambda s: s.provider):
        # Secret ages and rotation windows are measured on the vendor's clock.
        account = Account(config, snapshot, options, snapshot.vendor_now or now, key_for)
        states.append(plan_account(account))
        changes += sorted(account.changes, key=lambda c: LEVELS[c.action])
        blocked += account.blocked
        skipped += account.skipped
        warnings += account.warnings
        failures += account.errors
        pending += [PendingOperation(op=e.op, provider=e.provider, name=e.name, url=e.url, stage=e.stage,
                                     started_at=e.started_at) for e in snapshot.pending]
    if failures:
        raise PlanError("\n".join(failures))
    deletes = sum(1 for c in changes if c.action == "delete" or c.replaces)
    if deletes > config.settings.max_deletes:
        warnings.append(f"this plan deletes {deletes} destinations, more than max_deletes "
                        f"({config.settings.max_deletes}); apply needs --allow-deletes")
    return Plan(
        created_at=now, config_files=list(config.files), config_digest=config_digest(config),
        request=options.request(), providers=states, changes=changes, blocked=blocked, pending=pending,
        skipped=skipped, warnings=warnings, deletes=deletes,
    ).sealed()


def default_key_for(config: Config) -> KeyFor:
    template = config.secrets.key_template
    return lambda provider, name: template.format(provider=provider, name=name)


def check_targets(config: Config, options: PlanOptions) -> None:
    unknown = {n for n in options.targets | options.rotate if config.destination(n) is None}
    if unknown:
        raise PlanError(f"no destination named {', '.join(sorted(unknown))} in the configuration")


def plan_one(config: Config, snapshot: Snapshot, now: datetime, options: PlanOptions) -> Account:
    """One account planned on its own, without building a Plan: what settle judges after apply
    (a whole `build_plan` per account digested the whole configuration each time)."""
    check_targets(config, options)
    account = Account(config, snapshot, options, snapshot.vendor_now or now, default_key_for(config))
    plan_account(account)
    if account.errors:
        raise PlanError("\n".join(account.errors))
    return account


def plan_account(account: Account) -> ProviderState:
    snapshot, config = account.snapshot, account.config
    caps = snapshot.capabilities
    desired = config.for_provider(snapshot.provider)
    siblings = {d.url for other in config.siblings(snapshot.provider) for d in config.for_provider(other)}
    binding = bind(desired, snapshot, siblings)
    account.blocked += binding.blocked
    account.warnings += binding.warnings
    judge = SecretJudge(account)

    for wanted in desired:
        if not account.targeted(wanted.name):
            continue
        live = binding.live.get(wanted.name)
        foreign = snapshot.foreign.get(wanted.name)
        if live is None and foreign is not None:
            # Never created: the secret the vendor would issue could not be kept at its key.
            account.blocked.append(Blocked(
                kind="record", provider=wanted.provider, name=wanted.name, destination_id=None, reason=foreign,
                fix="move that entry away (webhookctl never overwrites what it did not write), or change "
                    "secrets.key_template"))
        elif live is None:
            account.changes.append(Change(
                action="create", provider=wanted.provider, name=wanted.name, url=wanted.url,
                after=state_of(wanted, caps.set_fields), reason="declared in the configuration, not found live",
                secret=account.secret(wanted.name, "issued on apply")))
        else:
            _plan_existing(account, binding, wanted, live, judge)

    if not account.options.targets:
        account.changes += _removed(account, binding)
    policy = config.providers[snapshot.provider].unmanaged
    unmanaged = binding.unmanaged
    if policy == "delete" and not account.options.targets:
        account.changes += [
            Change(action="delete", provider=snapshot.provider, name=None, destination_id=d.id, url=d.url,
                   before=state_of(d, caps.set_fields), reason="unmanaged (declared by no configuration); "
                   "the provider's policy is unmanaged: delete")
            for d in unmanaged
        ]
    elif policy == "report" and unmanaged:
        account.warnings.append(
            f"{snapshot.provider}: {len(unmanaged)} unmanaged destination(s) count against the cap: "
            + ", ".join(d.url for d in unmanaged)
        )
    slots_before, slots_after = _order_for_cap(account)
    return ProviderState(
        name=snapshot.provider, type=snapshot.type, scope=snapshot.scope,
        state_fingerprint=snapshot.fingerprint(), unmanaged_policy=policy, cap=caps.max_destinations,
        slots_before=slots_before, slots_after=slots_after,
        unmanaged=[UnmanagedDestination(id=d.id, url=d.url) for d in unmanaged] if policy != "ignore" else [],
    )


def _removed(account: Account, binding: Binding) -> list[Change]:
    """Records of names no longer declared whose destination still exists: delete, unless protected."""
    changes = []
    caps = account.caps
    for record, live in binding.removed:
        if record.protected:
            account.skipped.append(Skipped(
                provider=record.provider, name=record.name, action="delete",
                reason="protected (protect: true when it was last applied); declare it with protect: false "
                       "and apply, then remove it, to delete it"))
            continue
        changes.append(Change(
            action="delete", provider=record.provider, name=record.name, destination_id=live.id, url=live.url,
            before=state_of(live, caps.set_fields), after=None, reason="removed from the configuration"))
    return changes


def _plan_existing(account: Account, binding: Binding, wanted: DesiredDestination, live: LiveDestination,
                   judge: SecretJudge) -> None:
    caps = account.caps
    before, after = state_of(live, caps.set_fields), state_of(wanted, caps.set_fields)
    diff = field_diff(before, after, caps)
    base: dict[str, Any] = {"provider": wanted.provider, "name": wanted.name, "destination_id": live.id,
                            "url": wanted.url, "before": before, "after": after}
    if any(change.forces_replace for change in diff):
        fields = ", ".join(c.field for c in diff if c.forces_replace)
        replace_or_skip(account, wanted, Change(
            action="replace", diff=diff, reason=f"{fields} cannot change in place",
            secret=account.secret(wanted.name, "issued on apply"), **base))
        return

    adopting = wanted.name in binding.adopted
    id_record = binding.id_records.get(live.id)
    carry = None
    if adopting:
        # A renamed destination keeps its secret: the record of a name no longer declared that names it.
        renamed = id_record is not None and id_record.name != wanted.name \
            and account.config.destination(id_record.name) is None
        if renamed and id_record is not None and id_record.has_secret:
            carry = id_record.name
        reason = f"a live destination has this URL (id {live.id}) and is not yet bound"
        if id_record is not None and id_record.name != wanted.name:
            reason += f"; it was bound to {id_record.name!r}"
        account.changes.append(Change(action="adopt", diff=diff, reason=reason, carry_from=carry, **base))
    elif diff:
        reason = "differs from the configuration: " + ", ".join(c.field for c in diff)
        if any(c.field == "enabled" and c.before is False and c.after is True for c in diff):
            reason = ("the vendor disabled this subscription (after repeated delivery failures, or by hand); "
                      "re-enabling it. " + reason)
        account.changes.append(Change(action="update", diff=diff, reason=reason, **base))
    record = id_record if carry else (None if adopting else binding.records.get(wanted.name))
    judge.judge(wanted, live, record, base)


def _order_for_cap(account: Account) -> tuple[int, int]:
    """Choose each replace's order and check that no step passes the cap."""
    snapshot = account.snapshot
    cap = snapshot.capabilities.max_destinations
    count = before = len(snapshot.live)
    count -= sum(1 for c in account.changes if c.action == "delete")
    ordered = []
    for change in account.changes:
        if change.replaces:
            if cap is None or count < cap:
                change = dataclasses.replace(change, order="create-before-delete")
            else:
                change = dataclasses.replace(change, order="delete-before-create", warnings=(
                    *change.warnings, "the account has no free slot, so the old destination is deleted before its "
                    "replacement is created: deliveries to it stop briefly"))
        ordered.append(change)
    account.changes = ordered
    creates = [c for c in ordered if c.action == "create"]
    count += len(creates)
    if cap is not None and count > cap:
        account.errors.append(
            f"{snapshot.provider} ({snapshot.scope}) would have {count} destinations, more than its cap of {cap}: "
            f"creating {', '.join(str(c.name) for c in creates)} needs "
            f"{count - cap} more free slot(s); remove destinations from the configuration or set "
            "'unmanaged: delete' for unmanaged ones"
        )
    return before, count

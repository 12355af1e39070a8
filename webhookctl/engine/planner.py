"""Desired state + live state -> a plan. Pure: no I/O, the clock is an argument.

Matching: a live destination is the one bound by id in the backend, else the
one with the declared URL (adopted). Live destinations matched by nothing are
unmanaged, handled by the provider's policy and always counted against the cap.
Within an account, changes run in levels: adopt, delete, replace, update,
create, then secret work, so that deletes free slots before creates need them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from deepdiff import DeepDiff

from webhookctl.config.desired import Config, DesiredDestination
from webhookctl.durations import format_duration
from webhookctl.engine.plan import (
    Action,
    Change,
    FieldChange,
    Plan,
    ProviderState,
    SecretPlan,
    Skipped,
    UnmanagedDestination,
)
from webhookctl.errors import PlanError
from webhookctl.model import Capabilities, LiveDestination
from webhookctl.secrets.record import SecretRecord
from webhookctl.snapshot import Snapshot, normalized
from webhookctl.timefmt import format_time

KeyFor = Callable[[str, str], str]  # (provider, name) -> the backend key of its secret
LEVELS = {"adopt": 0, "delete": 1, "replace": 2, "update": 3, "create": 4, "repair-secret": 5, "rotate": 5}


@dataclass(frozen=True)
class PlanOptions:
    targets: frozenset[str] = frozenset()
    rotate: frozenset[str] = frozenset()
    rotate_by_replace: bool = False


@dataclass
class _Account:
    config: Config
    snapshot: Snapshot
    options: PlanOptions
    now: datetime
    key_for: KeyFor
    changes: list[Change] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    siblings_urls: set[str] = field(default_factory=set)


def _state(destination: LiveDestination | DesiredDestination, set_fields: frozenset[str]) -> dict[str, Any]:
    return {"url": destination.url, **normalized(dict(destination.fields), set_fields)}


def _field_diff(before: dict[str, Any], after: dict[str, Any], caps: Capabilities) -> list[FieldChange]:
    """Field-level differences (deepdiff), only for fields the config declares.

    A field the vendor cannot update in place forces a replacement.
    """
    diff = DeepDiff({k: before.get(k) for k in after}, after, ignore_order=False, view="tree")
    changed = sorted({node.path(output_format="list")[0] for kind in diff for node in diff[kind]})
    return [
        FieldChange(field=name, before=before.get(name), after=after[name],
                    forces_replace=name in caps.replace_fields or name not in caps.updatable_fields)
        for name in changed
    ]


def _targeted(options: PlanOptions, name: str | None) -> bool:
    return not options.targets or (name is not None and name in options.targets)


def build_plan(
    config: Config,
    snapshots: Iterable[Snapshot],
    now: datetime,
    options: PlanOptions = PlanOptions(),
    key_for: KeyFor | None = None,
) -> Plan:
    template = config.secrets.key_template
    key_for = key_for or (lambda provider, name: template.format(provider=provider, name=name))
    plan = Plan(created_at=now, config_files=list(config.files), max_deletes=config.settings.max_deletes,
                targets=sorted(options.targets))
    unknown = (options.targets | options.rotate) - {d.name for d in config.destinations}
    if unknown:
        raise PlanError(f"no destination named {', '.join(sorted(unknown))} in the configuration")
    failures: list[str] = []
    ordered = sorted(snapshots, key=lambda s: s.provider)
    for snapshot in ordered:
        # Secret ages and rotation windows are measured on the vendor's clock.
        account = _Account(config, snapshot, options, snapshot.vendor_now or now, key_for)
        # Another provider on the same account (same scope) declares these: they are not unmanaged.
        account.siblings_urls = {d.url for other in ordered if other.scope == snapshot.scope
                                 and other.provider != snapshot.provider for d in config.for_provider(other.provider)}
        state = _plan_account(account)
        plan.providers.append(state)
        plan.changes += sorted(account.changes, key=lambda c: LEVELS[c.action])
        plan.skipped += account.skipped
        plan.warnings += account.warnings
        failures += account.errors
    if failures:
        raise PlanError("\n".join(failures))
    plan.deletes = sum(1 for c in plan.changes if c.action in ("delete", "replace")
                       or (c.action == "repair-secret" and c.via == "replace"))
    if plan.deletes > config.settings.max_deletes:
        plan.warnings.append(
            f"this plan deletes {plan.deletes} destinations, more than max_deletes ({config.settings.max_deletes}); "
            "apply needs --allow-deletes"
        )
    return plan


def _plan_account(account: _Account) -> ProviderState:
    snapshot, config, options = account.snapshot, account.config, account.options
    caps = snapshot.capabilities
    provider_config = config.providers[snapshot.provider]
    desired = config.for_provider(snapshot.provider)
    live_by_id = {d.id: d for d in snapshot.live}
    live_by_url = {d.url: d for d in snapshot.live}
    records = {r.name: r for r in snapshot.records}
    record_by_id = {r.destination_id: r for r in snapshot.records}
    claimed: set[str] = set()
    pairs: list[tuple[DesiredDestination, LiveDestination | None, SecretRecord | None, str]] = []

    for wanted in desired:
        record = records.get(wanted.name)
        if record and record.destination_id in live_by_id:
            claimed.add(record.destination_id)
            pairs.append((wanted, live_by_id[record.destination_id], record, "bound"))
        else:
            pairs.append((wanted, None, record, "unbound"))
    for index, (wanted, _, record, how) in enumerate(pairs):
        if how == "unbound":
            match = live_by_url.get(wanted.url)
            if match is not None and match.id not in claimed:
                claimed.add(match.id)
                pairs[index] = (wanted, match, record, "adopt")

    for wanted, match, record, how in pairs:
        if not _targeted(options, wanted.name):
            continue
        if match is None:
            account.changes.append(_create(account, wanted))
        else:
            _plan_existing(account, wanted, match, record, how, record_by_id.get(match.id))

    declared = {d.name for d in desired}
    deletes_for_removed = []
    for record in snapshot.records:
        live = live_by_id.get(record.destination_id)
        if record.name in declared or live is None or live.id in claimed:
            continue
        claimed.add(live.id)
        if options.targets:
            continue
        deletes_for_removed.append(Change(
            action="delete", provider=snapshot.provider, name=record.name, destination_id=live.id, url=live.url,
            before=_state(live, caps.set_fields), after=None, reason="removed from the configuration",
        ))
    account.changes += deletes_for_removed

    unmanaged = [d for d in snapshot.live if d.id not in claimed and d.url not in account.siblings_urls]
    policy = provider_config.unmanaged
    if policy == "delete" and not options.targets:
        account.changes += [
            Change(action="delete", provider=snapshot.provider, name=None, destination_id=d.id, url=d.url,
                   before=_state(d, caps.set_fields), reason="unmanaged (declared by no configuration); "
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


def _secret(account: _Account, name: str, note: str) -> SecretPlan:
    return SecretPlan(key=account.key_for(account.snapshot.provider, name), note=note)


def _create(account: _Account, wanted: DesiredDestination) -> Change:
    caps = account.snapshot.capabilities
    return Change(
        action="create", provider=wanted.provider, name=wanted.name, url=wanted.url,
        after=_state(wanted, caps.set_fields), reason="declared in the configuration, not found live",
        secret=_secret(account, wanted.name, "issued on apply"),
    )


def _plan_existing(
    account: _Account,
    wanted: DesiredDestination,
    live: LiveDestination,
    record: SecretRecord | None,
    how: str,
    id_record: SecretRecord | None,
) -> None:
    caps = account.snapshot.capabilities
    before, after = _state(live, caps.set_fields), _state(wanted, caps.set_fields)
    diff = _field_diff(before, after, caps)
    base: dict[str, Any] = {"provider": wanted.provider, "name": wanted.name, "destination_id": live.id, "url": wanted.url,
            "before": before, "after": after}
    if any(change.forces_replace for change in diff):
        fields = ", ".join(c.field for c in diff if c.forces_replace)
        _replace(account, wanted, Change(
            action="replace", diff=diff, reason=f"{fields} cannot change in place",
            secret=_secret(account, wanted.name, "issued on apply"), **base))
        return

    carry = None
    if how == "adopt":
        if id_record is not None and id_record.name != wanted.name and id_record.has_secret:
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
    secret_record = id_record if carry else (record if how == "bound" else None)
    _plan_secret(account, wanted, live, secret_record, base)


def _replace(account: _Account, wanted: DesiredDestination, change: Change) -> None:
    if wanted.protect:
        account.skipped.append(Skipped(provider=wanted.provider, name=wanted.name, action="replace",
                                       reason=f"protected: {change.reason}"))
        account.warnings.append(f"{wanted.provider}/{wanted.name} is protected; skipped replace ({change.reason})")
        return
    account.changes.append(change)


def _last_rotation(live: LiveDestination, record: SecretRecord | None) -> datetime | None:
    last = record.last_rotated_at if record else None
    current = record.current if record else None
    if record and live.secret_generated_at and current and current.generated_at \
            and live.secret_generated_at > current.generated_at:
        last = live.secret_generated_at  # rotated behind webhookctl's back
    return last


def _plan_secret(
    account: _Account,
    wanted: DesiredDestination,
    live: LiveDestination,
    record: SecretRecord | None,
    base: dict[str, Any],
) -> None:
    caps, now, options = account.snapshot.capabilities, account.now, account.options
    key = account.key_for(wanted.provider, wanted.name)

    if caps.secret_readable:
        stored = record.current.fingerprint if record and record.current else None
        if live.secret is not None and live.secret.fingerprint != stored:
            reason = "the backend lacks the secret" if stored is None else "the backend's secret differs from the live one"
            account.changes.append(Change(action="repair-secret", via="write-live", reason=reason,
                                          secret=SecretPlan(key=key, note="copied from the vendor on apply"), **base))
        issued = record.current.issued_at if record and record.current else None
        age = now - issued if issued else None
        due = None
        if wanted.name in options.rotate:
            due = "rotation requested"
        elif wanted.rotation_max_age and age is not None and age > wanted.rotation_max_age:
            due = f"secret is {format_duration(age)} old; rotation max_age is {format_duration(wanted.rotation_max_age)}"
        if due is None:
            return
        if options.rotate_by_replace:
            _replace(account, wanted, Change(action="replace", via="rotate-by-replace",
                                             reason=f"{due}; {caps.vendor} rotates only by replacement",
                                             secret=SecretPlan(key=key, note="issued on apply"), **base))
        elif wanted.name in options.rotate:
            raise PlanError(f"{wanted.provider}/{wanted.name}: {caps.vendor} has no rotate API; "
                            "use --rotate-by-replace to rotate by replacing the destination")
        else:
            account.warnings.append(f"{wanted.provider}/{wanted.name}: {due}, but {caps.vendor} has no rotate "
                                    "API; run with --rotate-by-replace to rotate by replacing the destination")
        return

    repair = None
    if record is None or record.current is None:
        repair = "the backend has no secret for this destination"
    elif record.current.generated_at and live.secret_generated_at \
            and record.current.generated_at < live.secret_generated_at:
        repair = "the live secret is newer than the backend's (rotated outside webhookctl)"
    rotate = None
    if repair is None:
        age = now - live.secret_generated_at if live.secret_generated_at else None
        if wanted.name in options.rotate:
            rotate = "rotation requested"
        elif wanted.rotation_max_age and age is not None and age > wanted.rotation_max_age:
            rotate = f"secret is {format_duration(age)} old; rotation max_age is {format_duration(wanted.rotation_max_age)}"
    if repair is None and rotate is None:
        return
    action: Action = "repair-secret" if repair else "rotate"
    reason = repair or rotate or ""
    explicit = wanted.name in options.rotate

    if not caps.can_rotate:
        if options.rotate_by_replace or repair:
            _replace(account, wanted, Change(action="replace" if not repair else "repair-secret",
                                             via="replace" if repair else "rotate-by-replace", reason=reason,
                                             secret=SecretPlan(key=key, note="issued on apply"), **base))
            return
        raise PlanError(f"{wanted.provider}/{wanted.name}: {caps.vendor} has no rotate API; "
                        "use --rotate-by-replace to rotate by replacing the destination")

    if wanted.name in account.snapshot.pending_escrow:
        message = (f"{wanted.provider}/{wanted.name}: a previous rotation is unfinished (its secret is in escrow); "
                   "run 'webhookctl recover' first")
        if explicit:
            account.errors.append(message)
        else:
            account.skipped.append(Skipped(provider=wanted.provider, name=wanted.name, action=action, reason=message))
        return
    last = _last_rotation(live, record)
    if last and caps.rotation_min_interval and now - last < caps.rotation_min_interval:
        allowed = last + caps.rotation_min_interval
        message = (f"{wanted.provider}/{wanted.name}: the secret was rotated less than "
                   f"{format_duration(caps.rotation_min_interval)} ago; rotation is possible after "
                   f"{format_time(allowed, 'seconds')}")
        if explicit:
            account.errors.append(message)
        else:
            account.skipped.append(Skipped(provider=wanted.provider, name=wanted.name, action=action, reason=message))
            account.warnings.append(message)
        return
    account.changes.append(Change(action=action, via="rotate" if repair else None, reason=reason,
                                  secret=SecretPlan(key=key, note="rotated on apply; the old secret keeps signing "
                                                    "during the dual-signing window" if not repair else
                                                    "issued by a rotation on apply"), **base))


def _order_for_cap(account: _Account) -> tuple[int, int]:
    """Choose each replace's order and check that no step passes the cap."""
    snapshot = account.snapshot
    cap = snapshot.capabilities.max_destinations
    count = len(snapshot.live)
    before = count
    changes = account.changes
    count -= sum(1 for c in changes if c.action == "delete")
    for change in changes:
        if change.action == "replace" or (change.action == "repair-secret" and change.via == "replace"):
            if cap is None or count < cap:
                change.via = change.via if change.via in ("rotate-by-replace",) else "create-before-delete"
            else:
                change.via = "delete-before-create"
                change.warnings.append(
                    "the account has no free slot, so the old destination is deleted before its replacement "
                    "is created: deliveries to it stop briefly")
    creates = [c for c in changes if c.action == "create"]
    count += len(creates)
    if cap is not None and count > cap:
        account.errors.append(
            f"{snapshot.provider} ({snapshot.scope}) would have {count} destinations, more than its cap of {cap}: "
            f"creating {', '.join(str(c.name) for c in creates)} needs "
            f"{count - cap} more free slot(s); remove destinations from the configuration or set "
            "'unmanaged: delete' for unmanaged ones"
        )
    return before, count

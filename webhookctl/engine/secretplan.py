"""Is a bound destination's secret in custody, and is it due for rotation? Pure.

One decision, in order: (1) is the backend's secret the live one (a repair if not:
missing, damaged, older than the vendor's, or different from a readable one);
(2) otherwise, is a rotation due (requested, or older than `max_age`); (3) how can
it be done: rotate, replace (vendors without a rotate API), copy (readable
secrets), or not yet (the vendor's rotation interval), which blocks a repair and
skips a routine rotation.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from webhookctl.config.desired import DesiredDestination
from webhookctl.durations import format_duration
from webhookctl.engine.account import Account, replace_or_skip
from webhookctl.engine.plan import Blocked, Change, Skipped
from webhookctl.errors import PlanError
from webhookctl.model import LiveDestination
from webhookctl.secrets.record import SecretRecord
from webhookctl.timefmt import format_time

# The vendor's clock is read from whole-second Date headers; closer than this is the same moment.
CLOCK_SLACK = timedelta(seconds=2)


def _stale(live: LiveDestination, record: SecretRecord) -> bool:
    """Whether the vendor made a secret after the one the backend holds (a lost or outside rotation)."""
    current = record.current
    if current is None or live.secret_generated_at is None:
        return False
    if current.generated_at is not None:
        return live.secret_generated_at > current.generated_at
    # Not yet stamped with the vendor's time: it was issued no earlier than it was generated.
    return current.issued_at is not None and live.secret_generated_at > current.issued_at + CLOCK_SLACK


def _last_rotation(live: LiveDestination, record: SecretRecord | None) -> datetime | None:
    last = record.last_rotated_at if record else None
    if record is not None and _stale(live, record):
        last = live.secret_generated_at  # rotated behind webhookctl's back, or its answer was lost
    return last


class SecretJudge:
    def __init__(self, account: Account) -> None:
        self.account = account
        # A rotation whose answer never came holds nothing to finish: its secret is judged (and found lost).
        self.pending = {e.name for e in account.snapshot.pending
                        if e.name and not (e.op == "rotate" and e.stage == "intent")}

    def judge(self, wanted: DesiredDestination, live: LiveDestination, record: SecretRecord | None,
              base: dict[str, Any]) -> None:
        foreign = self.account.snapshot.foreign.get(wanted.name)
        if foreign is not None:
            # Never overwritten, so no new secret could be kept there: nothing to do until it moves.
            self.account.blocked.append(Blocked(
                kind="record", provider=wanted.provider, name=wanted.name, destination_id=live.id, reason=foreign,
                fix="move that entry away (webhookctl never overwrites what it did not write), or change "
                    "secrets.key_template"))
            return
        if wanted.name in self.pending:
            # An unfinished operation holds this secret; apply finishes it before planning.
            if wanted.name in self.account.options.rotate:
                self.account.errors.append(
                    f"{wanted.provider}/{wanted.name}: a previous operation on it is unfinished (in the journal); "
                    "run 'webhookctl recover' (or apply) first")
            return
        if self.account.caps.secret_readable:
            self._readable(wanted, live, record, base)
        else:
            self._one_view(wanted, live, record, base)

    def _due(self, wanted: DesiredDestination, age: timedelta | None) -> str | None:
        if wanted.name in self.account.options.rotate:
            return "rotation requested"
        if wanted.rotation_max_age and age is not None and age > wanted.rotation_max_age:
            return f"secret is {format_duration(age)} old; rotation max_age is {format_duration(wanted.rotation_max_age)}"
        return None

    def _readable(self, wanted: DesiredDestination, live: LiveDestination, record: SecretRecord | None,
                  base: dict[str, Any]) -> None:
        account, caps = self.account, self.account.caps
        stored = record.current.fingerprint if record and record.current else None
        damage = account.snapshot.damaged.get(wanted.name)
        if live.secret is not None and (live.secret.fingerprint != stored or damage):
            reason = (f"the record is damaged: {damage}" if damage else "the backend lacks the secret"
                      if stored is None else "the backend's secret differs from the live one")
            account.changes.append(Change(action="repair-secret", secret_source="write-live", reason=reason,
                                          secret=account.secret(wanted.name, "copied from the vendor on apply"),
                                          **base))
        issued = record.current.issued_at if record and record.current else None
        due = self._due(wanted, account.now - issued if issued else None)
        if due is None:
            return
        if account.options.rotate_by_replace:
            replace_or_skip(account, wanted, Change(
                action="replace", reason=f"{due}; {caps.vendor} rotates only by replacement",
                secret=account.secret(wanted.name, "issued on apply"), **base))
        elif wanted.name in account.options.rotate:
            raise PlanError(f"{wanted.provider}/{wanted.name}: {caps.vendor} has no rotate API; "
                            "use --rotate-by-replace to rotate by replacing the destination")
        else:
            # A rotation skipped, not a warning: drift reports it (rotation-due) as it does a rotation the
            # vendor's interval holds back.
            account.skipped.append(Skipped(
                provider=wanted.provider, name=wanted.name, action="rotate",
                reason=f"{due}, but {caps.vendor} has no rotate API; run with --rotate-by-replace to rotate by "
                       "replacing the destination"))

    def _one_view(self, wanted: DesiredDestination, live: LiveDestination, record: SecretRecord | None,
                  base: dict[str, Any]) -> None:
        account, caps, now = self.account, self.account.caps, self.account.now
        damage = account.snapshot.damaged.get(wanted.name)
        repair = None
        if damage:
            repair = f"the record is damaged: {damage}"
        elif record is None or record.current is None:
            repair = "the backend has no secret for this destination"
        elif _stale(live, record):
            repair = ("the live secret is newer than the backend's (a rotation whose answer was lost, or one made "
                      "outside webhookctl): the backend's secret stops verifying when its dual-signing window ends")
        rotate = None
        if repair is None:
            rotate = self._due(wanted, now - live.secret_generated_at if live.secret_generated_at else None)
            if rotate is None:
                return
        reason = repair or rotate or ""
        if not caps.can_rotate:
            if not (account.options.rotate_by_replace or repair):
                raise PlanError(f"{wanted.provider}/{wanted.name}: {caps.vendor} has no rotate API; "
                                "use --rotate-by-replace to rotate by replacing the destination")
            replace_or_skip(account, wanted, Change(
                action="repair-secret" if repair else "replace", secret_source="replace" if repair else None,
                reason=reason, secret=account.secret(wanted.name, "issued on apply"), **base))
            return
        last = _last_rotation(live, record)
        interval = caps.rotation_min_interval
        if last and interval and now - last < interval:
            allowed = format_time(last + interval, "seconds")
            message = (f"{wanted.provider}/{wanted.name}: the secret was rotated less than "
                       f"{format_duration(interval)} ago; rotation is possible after {allowed}")
            if repair:
                account.blocked.append(Blocked(
                    kind="lost-secret", provider=wanted.provider, name=wanted.name, destination_id=live.id,
                    reason=f"{repair}; {message}",
                    fix=f"run apply after {allowed}: it rotates the secret and stores the new one"))
            elif wanted.name in account.options.rotate:
                account.errors.append(message)
            else:
                account.skipped.append(Skipped(provider=wanted.provider, name=wanted.name, action="rotate",
                                               reason=message))
                account.warnings.append(message)
            return
        note = ("issued by a rotation on apply" if repair else
                "rotated on apply; the old secret keeps signing during the dual-signing window")
        account.changes.append(Change(action="repair-secret" if repair else "rotate",
                                      secret_source="rotate" if repair else None, reason=reason,
                                      secret=account.secret(wanted.name, note), **base))

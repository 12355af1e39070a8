"""A saved plan is an approval, not an instruction.

`apply PLAN` plans again from the current configuration and live state and carries
out that plan only if it is the one that was approved: same request, same
accounts, same configuration, same changes. The file is never executed: nothing
in it (names, keys, guards) reaches an API or the backend.
"""

from __future__ import annotations

from webhookctl.engine.plan import CHANGE, Change, Plan
from webhookctl.errors import StalePlanError


def _changes(plan: Plan) -> list[dict[str, object]]:
    return [CHANGE.dump_python(c, mode="json", exclude={"warnings"}) for c in plan.changes]


def _accounts(plan: Plan) -> list[dict[str, object]]:
    """What the plan says of each account besides the state it read (compared on its own, as staleness)."""
    return [state.model_dump(mode="json", exclude={"state_fingerprint"}) for state in plan.providers]


def _repairs_record(change: Change) -> bool:
    """A record found damaged at apply (plans read metadata only, so they cannot see it)."""
    return change.action == "repair-secret" and change.reason.startswith("the record is damaged")


def check_approved(saved: Plan, fresh: Plan, recovered: bool) -> Plan:
    """The plan to carry out: `fresh`, when it is what `saved` approved; else StalePlanError, before any write.

    After the journal was recovered, `fresh` may do less than `saved` (recovery did part of it), never more.
    """
    refuse = "nothing was applied; make a new plan"
    live = fresh
    fresh = fresh.masked()  # what was saved is the masked form (URL credentials); compare like with like
    if saved.digest != saved.content_digest():
        raise StalePlanError(f"the saved plan was altered after it was made (its digest does not match); {refuse}")
    if saved.request != fresh.request:
        raise StalePlanError(f"the saved plan was made with other options ({saved.request.model_dump()}); {refuse}")
    if saved.config_digest != fresh.config_digest:
        raise StalePlanError(f"the configuration changed since the plan was made; {refuse}")
    saved_accounts = [(s.name, s.scope) for s in saved.providers]
    fresh_accounts = [(s.name, s.scope) for s in fresh.providers]
    if saved_accounts != fresh_accounts:
        raise StalePlanError(f"the saved plan covers other accounts than the configuration; {refuse}")
    stale = [s.name for s, f in zip(saved.providers, fresh.providers, strict=True)
             if s.state_fingerprint != f.state_fingerprint]
    repairs = [f"{c.provider}/{c.name}" for c in fresh.changes if _repairs_record(c)]
    if repairs:
        # A repair rotates the secret its receivers verify with: it is a change like any other, and no
        # saved plan can hold it. Carrying out the rest would leave the damage; carrying it out would
        # do what nobody approved.
        raise StalePlanError(f"the secret records of {', '.join(repairs)} were found damaged; a saved plan cannot "
                             f"approve their repair (a plan reads no records); nothing was applied; run "
                             f"`webhookctl apply` to review the repair")
    approved, wanted = _changes(saved), _changes(fresh)
    if wanted == approved and _accounts(saved) == _accounts(fresh) and not stale:
        return live
    if recovered and all(change in approved for change in wanted):
        return live
    if stale:
        raise StalePlanError(f"the saved plan is stale: live state changed since it was made for "
                             f"{', '.join(stale)}; {refuse}")
    raise StalePlanError(f"the saved plan does not match what the configuration and live state call for now "
                         f"({len(approved)} approved change(s), {len(wanted)} now); {refuse}")

"""Carry out a plan: account by account, change by change, through `operations.OPERATIONS`.

A failed operation stops what depends on it (the rest of its account), never
another account. Afterwards each account is read again and judged as a whole
(`settle`); anything that still differs is reported as an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from webhookctl.engine.operations import OPERATIONS, Context
from webhookctl.engine.plan import Change, Plan
from webhookctl.engine.settle import settle
from webhookctl.errors import WebhookctlError
from webhookctl.session import Session

Status = Literal["done", "failed", "skipped", "not-started"]


@dataclass(frozen=True)
class Outcome:
    change: Change
    status: Status
    detail: str = ""

    @property
    def label(self) -> str:
        return f"{self.change.provider}/{self.change.name or self.change.destination_id}"

    def describe(self) -> str:
        if self.status == "failed":
            return f"{self.change.action} {self.label} failed: {self.detail}"
        if self.status == "skipped":
            return f"{self.change.action} {self.label} skipped: {self.detail}"
        if self.status == "not-started":
            return f"{self.change.action} {self.label} not started: {self.detail}"
        return f"{self.change.action} {self.label} done" + (f" ({self.detail})" if self.detail else "")


@dataclass
class ApplyReport:
    outcomes: list[Outcome] = field(default_factory=list)
    verify_errors: list[str] = field(default_factory=list)
    housekeeping: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)  # what the plan could not do, with what to do about it
    interrupted: bool = False  # Ctrl-C: operations in flight finished (or were abandoned), the rest not started

    @property
    def ok(self) -> bool:
        return all(o.status == "done" for o in self.outcomes) and not self.verify_errors and not self.blocked \
            and not self.interrupted


class Applier:
    def __init__(
        self,
        session: Session,
        plan: Plan,
        progress: Callable[[Outcome], None] | None = None,
        tolerate: frozenset[str] = frozenset(),
    ) -> None:
        self.session = session
        self.plan = plan
        self.progress = progress or (lambda outcome: None)
        # Actions that may legitimately remain afterwards (import leaves unknown secrets to repair).
        self.tolerate = tolerate
        # Set by a first Ctrl-C: no operation starts after it; those in flight finish.
        self.stopping = False
        self.finished: list[Outcome] = []  # as they happen, for a report of an abandoned run

    async def run(self) -> ApplyReport:
        report = ApplyReport(blocked=[f"{b.provider}/{b.name or b.destination_id}: {b.reason}; {b.fix}"
                                      for b in self.plan.blocked])
        names = [state.name for state in self.plan.providers]
        results = await self.session.gather(names, self._account)
        for name in names:
            outcomes, errors, notes = results[name]
            report.outcomes += outcomes
            report.verify_errors += errors
            report.housekeeping += notes
        report.interrupted = self.stopping
        return report

    def abandoned(self) -> ApplyReport:
        """The report of a run abandoned mid-operation (a second Ctrl-C): what finished, and the rest.

        An operation abandoned in flight is in the journal; the next run finishes it.
        """
        finished = {id(o.change) for o in self.finished}
        rest = [Outcome(c, "not-started", "interrupted; an operation in flight is finished by the next run")
                for c in self.plan.changes if id(c) not in finished]
        for outcome in rest:
            self.progress(outcome)
        return ApplyReport(outcomes=[*self.finished, *rest], interrupted=True)

    async def _account(self, name: str) -> tuple[list[Outcome], list[str], list[str]]:
        outcomes: list[Outcome] = []
        failed = False
        ctx = Context(self.session, self.session.provider(name))
        for change in self.plan.for_provider(name):
            if self.stopping:
                outcome = Outcome(change, "not-started", "interrupted")
            elif failed:
                outcome = Outcome(change, "skipped", "an earlier operation on this account failed")
            else:
                try:
                    outcome = Outcome(change, "done", await OPERATIONS[change.action](ctx, change))
                except WebhookctlError as error:
                    failed = True
                    outcome = Outcome(change, "failed", str(error) or type(error).__name__)
            outcomes.append(outcome)
            self.finished.append(outcome)
            self.progress(outcome)
        if failed or self.stopping:
            return outcomes, [], []
        # What the plan already reported as blocked is not reported again; settle judges the rest.
        known = frozenset((b.kind, b.name, b.destination_id) for b in self.plan.blocked if b.provider == name)
        errors, notes = await settle(self.session, name, frozenset(self.plan.targets), self.tolerate, known,
                                     checked=frozenset(o.change.name or "" for o in outcomes if _read_back(o)))
        return outcomes, errors, notes


def _read_back(outcome: Outcome) -> bool:
    """Whether the operation's custody read its record back and checked it (a new secret, stored)."""
    change = outcome.change
    if outcome.status != "done" or change.name is None:
        return False
    if change.action == "repair-secret":
        return change.secret_source != "write-live"  # write-live stores what the vendor shows, unchecked
    return change.action in ("create", "replace", "rotate")

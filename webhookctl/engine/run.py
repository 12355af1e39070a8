"""The run sequence of every command that changes anything (apply, rotate, import).

    lock the accounts -> finish the journal -> read (records checked) -> plan
    -> check it against the approved plan (a saved one) or ask -> guards -> apply -> settle

One place, so that no command skips a step (a lock, the journal, a guard).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from webhookctl.engine.account import PlanOptions
from webhookctl.engine.apply import Applier, ApplyReport, Outcome
from webhookctl.engine.approval import check_approved
from webhookctl.engine.lock import account_locks, remote_locks
from webhookctl.engine.plan import Plan
from webhookctl.engine.planner import build_plan
from webhookctl.engine.recover import Recovered, recover
from webhookctl.engine.shard import select
from webhookctl.errors import PlanError
from webhookctl.session import Session


@dataclass(frozen=True)
class RunRequest:
    options: PlanOptions
    providers: list[str]  # the provider entries this run covers
    saved: Plan | None = None  # apply PLAN: the approval
    allow_deletes: bool = False
    lock_timeout: float = 0.0
    # import: keep only part of the plan; and what may legitimately remain afterwards.
    select: Callable[[Plan], Plan] | None = None
    tolerate: frozenset[str] = frozenset()


@dataclass
class Hooks:
    """How the run talks to the person: show a plan, ask, report progress (the CLI's presenter)."""

    recovered: Callable[[Recovered], None] = lambda item: None
    show: Callable[[Plan], None] = lambda plan: None
    confirm: Callable[[Plan], bool] = lambda plan: True
    progress: Callable[[Outcome], None] = lambda outcome: None
    interrupted: Callable[[], None] = lambda: None  # a first Ctrl-C during apply


@dataclass
class RunResult:
    plan: Plan | None = None
    report: ApplyReport = field(default_factory=ApplyReport)
    cancelled: bool = False


async def converge(session: Session, request: RunRequest, hooks: Hooks) -> RunResult:
    config = session.config
    # --shard: only this shard's accounts (a saved plan's shard comes back through its request).
    names = select(config, request.providers, request.options.shard)
    # Every provider that reaches one of these accounts is locked with it (they share the account).
    accounts = sorted({config.account_of(n) for n in names})
    remote = bool(getattr(config.secrets, "lock", False))
    with account_locks(session.lock_directory, accounts, request.lock_timeout), \
            remote_locks(session.backend, remote, accounts):
        recovered = await recover(session, names)
        for item in recovered:
            hooks.recovered(item)
        failures = [item for item in recovered if item.error]
        if failures:
            raise PlanError("\n".join(f"could not finish the interrupted {item.op} of {item.provider}/"
                                      f"{item.name or '?'}: {item.error}" for item in failures))
        snapshots = await session.snapshots(names, check_records=True)
        plan = build_plan(config, snapshots.values(), datetime.now(UTC), request.options,
                          key_for=session.backend.key_for)
        if request.saved is not None:
            plan = check_approved(request.saved, plan, recovered=bool(recovered))
        if request.select is not None:
            plan = request.select(plan)
        hooks.show(plan)
        deletes = sum(1 for c in plan.changes if c.action == "delete" or c.replaces)
        limit = config.settings.max_deletes  # from the configuration, never from a plan file
        if deletes > limit and not request.allow_deletes:
            raise PlanError(f"the plan deletes {deletes} destinations, more than max_deletes ({limit}); "
                            "pass --allow-deletes to go ahead")
        if plan.changes and request.saved is None and not hooks.confirm(plan):
            return RunResult(plan, cancelled=True)
        applier = Applier(session, plan, hooks.progress, request.tolerate)
        try:
            with _interruptible(applier, hooks):
                report = await applier.run()
        except asyncio.CancelledError:
            # A second Ctrl-C abandoned the operations in flight; each is journaled.
            return RunResult(plan, applier.abandoned())
        return RunResult(plan, report)


@contextmanager
def _interruptible(applier: Applier, hooks: Hooks) -> Iterator[None]:
    """Ctrl-C during apply: the first lets the operations in flight finish and starts no more; a
    second abandons them (each is in the journal, which the next run finishes)."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()

    def on_interrupt() -> None:
        if applier.stopping and task is not None:
            task.cancel()
            return
        applier.stopping = True
        hooks.interrupted()

    previous = signal.getsignal(signal.SIGINT)  # asyncio.run's own, restored afterwards
    try:
        loop.add_signal_handler(signal.SIGINT, on_interrupt)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        signal.signal(signal.SIGINT, previous if callable(previous) else signal.default_int_handler)

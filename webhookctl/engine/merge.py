"""Several saved plans (one per shard of a CI matrix) as one plan, for one view and one comment.

The merged plan is a view: it is never applied (each shard applies its own saved plan), so
its `request.shard` lists the shards it holds ("1/4,2/4,...") and does not parse as one.
"""

from __future__ import annotations

from webhookctl.engine.plan import Plan, Request
from webhookctl.errors import PlanError


def merge(plans: list[Plan]) -> Plan:
    if not plans:
        raise PlanError("no plan to show")
    if len(plans) == 1:
        return plans[0]
    shards = [p.request.shard for p in plans]
    warnings: list[str] = []
    if None in shards:
        raise PlanError("only plans of shards (plan --shard K/N) can be shown together; "
                        "one of these covers every account")
    counts = {s.split("/")[1] for s in shards if s}
    if len(counts) > 1:
        raise PlanError(f"these plans are shards of different splits ({', '.join(sorted(counts))} shards)")
    if len(set(shards)) < len(shards):
        raise PlanError("the same shard is given twice")
    first = plans[0]
    for other in plans[1:]:
        if (other.request.targets, other.request.rotate, other.request.rotate_by_replace) != \
                (first.request.targets, first.request.rotate, first.request.rotate_by_replace):
            raise PlanError("these plans were asked for different things (--target, --rotate)")
    if len({p.config_digest for p in plans}) > 1:
        warnings.append("these plans were made from different configurations (their config digests differ)")
    count = int(counts.pop())
    order = sorted(plans, key=lambda p: int(str(p.request.shard).split("/")[0]))
    present = {int(str(p.request.shard).split("/")[0]) for p in plans}
    missing = [f"{k}/{count}" for k in range(1, count + 1) if k not in present]
    if missing:
        warnings.append(f"shard(s) {', '.join(missing)} are not shown: this view covers part of the accounts")
    seen: set[str] = set()
    for plan in order:
        for state in plan.providers:
            if state.name in seen:
                raise PlanError(f"provider {state.name} is in more than one of these plans")
            seen.add(state.name)
    return Plan(
        created_at=max(p.created_at for p in plans),
        config_files=sorted({f for p in plans for f in p.config_files}),
        config_digest=first.config_digest,
        request=Request(targets=first.request.targets, rotate=first.request.rotate,
                        rotate_by_replace=first.request.rotate_by_replace,
                        shard=",".join(str(p.request.shard) for p in order)),
        providers=sorted((s for p in order for s in p.providers), key=lambda s: s.name),
        changes=[c for p in order for c in p.changes],
        blocked=[b for p in order for b in p.blocked],
        pending=[e for p in order for e in p.pending],
        skipped=[s for p in order for s in p.skipped],
        warnings=warnings + [w for p in order for w in p.warnings],
        deletes=sum(p.deletes for p in order),
    ).sealed()

"""Which live destination each declared name is, and what the rest are. Pure.

Invariant: each live destination is bound to at most one name, and each name to at
most one live destination.

1. A name is bound to the live destination its record names, unless another
   declared name of the account has that destination's URL (a record pointing at
   someone else's destination is misbound, never obeyed), or another record with
   a better claim (the same URL) names it too.
2. A name left unbound adopts an unclaimed live destination at its URL.
3. Records of names no longer declared whose destination is still unclaimed are
   removed from the configuration (deleted, unless protected).
4. Unclaimed live destinations at a URL this provider declares are duplicates:
   blocked (never called unmanaged), unless an unfinished journal entry explains
   them (apply's recovery settles those first).
5. Whatever is left, at a URL no provider of the account declares, is unmanaged.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from webhookctl.config.desired import DesiredDestination
from webhookctl.config.urls import canonical_url
from webhookctl.engine.plan import Blocked
from webhookctl.model import LiveDestination
from webhookctl.secrets.record import SecretRecord
from webhookctl.snapshot import Snapshot


@dataclass
class Binding:
    live: dict[str, LiveDestination] = field(default_factory=dict)  # declared name -> its live destination
    adopted: set[str] = field(default_factory=set)  # names bound by URL in this plan
    records: dict[str, SecretRecord] = field(default_factory=dict)  # declared name -> its record (bound)
    id_records: dict[str, SecretRecord] = field(default_factory=dict)  # live id -> the record that names it
    removed: list[tuple[SecretRecord, LiveDestination]] = field(default_factory=list)
    unmanaged: list[LiveDestination] = field(default_factory=list)
    blocked: list[Blocked] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def bind(desired: list[DesiredDestination], snapshot: Snapshot, sibling_urls: set[str]) -> Binding:
    result = Binding()
    provider = snapshot.provider
    live_by_id = {d.id: d for d in snapshot.live}
    wanted_by_name = {d.name: d for d in desired}
    declared_urls = {d.url: d.name for d in desired}
    claims: dict[str, list[SecretRecord]] = defaultdict(list)
    for record in snapshot.records:
        if record.destination_id in live_by_id:
            claims[record.destination_id].append(record)
    claimed: set[str] = set()

    for destination_id, records in claims.items():
        live = live_by_id[destination_id]
        owner = declared_urls.get(live.url)
        candidates = [r for r in records if r.name in wanted_by_name and (owner is None or owner == r.name)]
        # The same URL is the best claim; then the first name (a stable, reviewable choice).
        candidates.sort(key=lambda r: (wanted_by_name[r.name].url != live.url, r.name))
        chosen = candidates[0] if candidates else None
        result.id_records[destination_id] = chosen or sorted(records, key=lambda r: r.name)[0]
        if chosen is not None:
            result.live[chosen.name] = live
            result.records[chosen.name] = chosen
            claimed.add(destination_id)
        for other in records:
            if other is not chosen and other.name in wanted_by_name:
                why = (f"its URL is declared for {owner!r}" if owner and owner != other.name
                       else f"the record of {chosen.name!r} names it too" if chosen else "")
                result.warnings.append(f"{provider}/{other.name}: its record names destination {destination_id}, "
                                       f"which is not bound to it ({why}); it is bound anew")

    for wanted in desired:
        if wanted.name in result.live:
            continue
        match = next((d for d in snapshot.live if d.url == wanted.url and d.id not in claimed), None)
        if match is not None:
            claimed.add(match.id)
            result.live[wanted.name] = match
            result.adopted.add(wanted.name)

    for destination_id, records in sorted(claims.items()):
        if destination_id in claimed:
            continue
        removed = [r for r in records if r.name not in wanted_by_name]
        if removed:
            claimed.add(destination_id)
            result.removed.append((sorted(removed, key=lambda r: r.name)[0], live_by_id[destination_id]))

    # Journal entries written before URLs were compared canonically hold the URL as declared.
    explained = {canonical_url(e.url) for e in snapshot.pending} | {e.retires for e in snapshot.pending if e.retires} \
        | {e.destination_id for e in snapshot.pending if e.destination_id}
    for live in snapshot.live:
        if live.id in claimed or live.url in sibling_urls or live.id in snapshot.owned_elsewhere:
            continue
        if live.url in explained or live.id in explained:
            continue  # an interrupted operation's; apply finishes it before planning
        name = declared_urls.get(live.url)
        if name is None:
            result.unmanaged.append(live)
            continue
        bound = result.live.get(name)
        result.blocked.append(Blocked(
            kind="duplicate", provider=provider, name=name, destination_id=live.id,
            reason=f"a second live destination (id {live.id}) has the URL of {name!r}"
                   + (f", which is bound to id {bound.id}" if bound else "")
                   + "; nothing in the journal says webhookctl made it, so apply does not delete it",
            fix=f"delete destination {live.id} at the vendor if nothing else uses it ("
                + ("it is disabled, so nothing is delivered to it meanwhile)" if live.fields.get("enabled") is False
                   else "every event to this URL is delivered twice until then)")))
    return result

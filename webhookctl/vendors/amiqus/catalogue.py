"""What the Amiqus ID webhooks API accepts and promises, as data (v1 and v2).

The one place each Amiqus fact is written: the configuration model, the client and
the capabilities all read it from here.
"""

from __future__ import annotations

from webhookctl.capabilities import Capabilities

PRODUCTION_URLS = {"v2": "https://id.amiqus.co/api/v2", "v1": "https://id.amiqus.co/api"}

EVENTS: tuple[str, ...] = (
    "case.approved", "case.archived", "case.created", "case.item_added", "case.item_removed",
    "case.rejected", "case.status", "case.unarchived", "case.updated",
    "client.archived", "client.created", "client.deleted", "client.organisations", "client.record",
    "client.status", "client.unarchived", "client.updated", "client.deletion_reminder_updated",
    "client.deletion_reminder_deleted", "client.deletion_reminder_due",
    "form.attached", "form.deleted", "form.modified", "form.sent", "form.submitted", "form.updated",
    "record.bounced", "record.created", "record.finished", "record.reviewed", "record.unreviewed",
    "record.updated",
    "watchlist.updated",
)

# Subscribable: every alias plus the documented wildcards (there is no `watchlist.*`).
SUBSCRIBABLE: tuple[str, ...] = ("*", "case.*", "client.*", "form.*", "record.*", *EVENTS)

CAPABILITIES = Capabilities(
    vendor="amiqus",
    updatable_fields=frozenset({"url", "events", "enabled"}),
    replace_fields=frozenset(),
    set_fields=frozenset({"events"}),
    max_destinations=None,
    secret_readable=True,
    can_rotate=False,
    server_side_delivery_filters=False,
)

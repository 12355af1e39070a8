"""What each vendor accepts, as data (from the vendors' OpenAPI specs)."""

from __future__ import annotations

AMIGO_WEBHOOK_TYPES = (
    "conversation-post-processing-complete",
    "api-key-expiration-soon",
    "agent-framework-resource-updated",
)

AMIQUS_EVENTS = (
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
AMIQUS_SUBSCRIBABLE = ("*", "case.*", "client.*", "form.*", "record.*", *AMIQUS_EVENTS)

AMIGO_PRODUCTION_URL = "https://api.amigo.ai"
AMIQUS_PRODUCTION_URLS = {"v2": "https://id.amiqus.co/api/v2", "v1": "https://id.amiqus.co/api"}
AMIGO_MAX_DESTINATIONS = 10

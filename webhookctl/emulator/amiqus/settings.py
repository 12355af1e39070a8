"""Every number the Amiqus emulator plays by; defaults from the spec and NOTES.md B.

The event lists are written here from the spec on purpose, apart from
`webhookctl.vendors.amiqus.catalogue`: a misreading on the provider side must not hide here.
"""

from __future__ import annotations

from dataclasses import dataclass

CATEGORY_WILDCARDS = ("*", "case.*", "client.*", "form.*", "record.*")
EVENTS = (
    "case.approved", "case.archived", "case.created", "case.item_added", "case.item_removed",
    "case.rejected", "case.status", "case.unarchived", "case.updated",
    "client.archived", "client.created", "client.deleted", "client.organisations", "client.record",
    "client.status", "client.unarchived", "client.updated", "client.deletion_reminder_updated",
    "client.deletion_reminder_deleted", "client.deletion_reminder_due",
    "form.attached", "form.deleted", "form.modified", "form.sent", "form.submitted", "form.updated",
    "record.bounced", "record.created", "record.finished", "record.reviewed", "record.unreviewed",
    "record.updated", "watchlist.updated",
)
SUBSCRIBABLE = (*CATEGORY_WILDCARDS, *EVENTS)
DELIVERABLE = (*EVENTS, "ping")


@dataclass
class AmiqusSettings:
    # B9: per user per team; the window is unknown, a minute is our default.
    rate_limit: int = 200
    rate_window_seconds: float = 60.0
    # B7 (2026): 5 attempts in all, redeliveries at +60 s, +120 s, +600 s, +900 s.
    retry_schedule_seconds: tuple[float, ...] = (60.0, 120.0, 600.0, 900.0)
    time_scale: float = 1.0
    delivery_timeout_seconds: float = 5.0
    disable_after_failed_payloads: int = 10
    # B3: Amiqus documents 413 API-wide without a size; 1 MiB is nginx's default client_max_body_size.
    max_body_bytes: int = 1024 * 1024
    default_page_size: int = 100
    v1_page_size: int = 25
    build: str = "8927532"
    deliver_anywhere: bool = False
    deliver_plain_http: bool = False
    control: bool = False

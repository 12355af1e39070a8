"""What a vendor can and cannot do, as data: the engine plans by these, never by a vendor's name.

A NamedTuple rather than a dataclass: every command's vendor registry builds one per vendor at
import, and a dataclass costs ~1 ms to define in Python 3.11 (a NamedTuple a tenth of that).
"""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple


class Capabilities(NamedTuple):
    vendor: str
    updatable_fields: frozenset[str]
    replace_fields: frozenset[str]
    # Fields whose order does not matter (compared as sets).
    set_fields: frozenset[str]
    max_destinations: int | None
    secret_readable: bool
    can_rotate: bool
    rotation_min_interval: timedelta | None = None
    dual_signing_window: timedelta | None = None
    # Whether the vendor filters and sorts deliveries itself; otherwise the CLI sorts what it read.
    server_side_delivery_filters: bool = False

"""The vendor registry: every vendor webhookctl can talk to, by its configuration `type`.

The shipped vendors live in `webhookctl.vendors.<vendor>`; others come from installed
packages that declare an entry point in the `webhookctl.vendors` group pointing at
an object satisfying `webhookctl.vendors.vendor.Vendor`:

    [project.entry-points."webhookctl.vendors"]
    acme = "webhookctl_acme:VENDOR"

Configuration loading, the session and the CLI consult this registry; none of them
names a vendor. examples/vendor-plugin/ is such a package.
"""

from __future__ import annotations

import functools
from importlib.metadata import EntryPoint, distributions, entry_points

from webhookctl.vendors.vendor import Vendor

ENTRY_POINT_GROUP = "webhookctl.vendors"


class UnknownVendorError(LookupError):
    pass


@functools.cache
def registry() -> dict[str, Vendor]:
    """Every installed vendor by type: the shipped ones first, then entry points in name order."""
    from webhookctl.vendors.amigo import VENDOR as AMIGO
    from webhookctl.vendors.amiqus import VENDOR as AMIQUS

    found: dict[str, Vendor] = {AMIGO.type: AMIGO, AMIQUS.type: AMIQUS}
    for point in sorted(_entry_points(), key=lambda p: p.name):
        vendor = point.load()
        # A shipped vendor cannot be replaced by a package that happens to reuse its name.
        found.setdefault(vendor.type, vendor)
    return found


def _entry_points() -> list[EntryPoint]:
    """The group's entry points, as `entry_points(group=...)` gives them.

    That call parses every installed distribution's entry points (some 3-7 ms here, on every
    start); a look for the group's name in their raw text first is a third of that, and when
    no distribution names the group (no third-party vendor installed) there is nothing to parse.
    """
    if not any(ENTRY_POINT_GROUP in (dist.read_text("entry_points.txt") or "") for dist in distributions()):
        return []
    return list(entry_points(group=ENTRY_POINT_GROUP))


def vendor(kind: str) -> Vendor:
    try:
        return registry()[kind]
    except KeyError:
        raise UnknownVendorError(kind) from None

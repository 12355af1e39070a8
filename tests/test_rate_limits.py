"""No 429 reaches the vendor's refusal counter, let alone the user, at 3 requests a window."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fleet import fleet
from tests.support.servers import serve_app
from webhookctl.emulator.amigo import AmigoEmulator, AmigoSettings, create_app


@pytest.fixture
def limited() -> Iterator[tuple[str, AmigoEmulator]]:
    settings = AmigoSettings(rate_window_seconds=1.0)
    settings.rate_limits = {name: 3 for name in settings.rate_limits}
    emulator = AmigoEmulator(settings)
    with serve_app(create_app(emulator)) as url:
        yield url, emulator


@pytest.mark.slow
def test_thirty_organisations_apply_replan_and_teardown_without_429(
    tmp_path: Path, limited: tuple[str, AmigoEmulator]
) -> None:
    url, emulator = limited
    workspace = fleet(tmp_path, url, emulator, orgs=30, per_org=10)

    applied = workspace.run("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output[-2000:]
    assert "Apply complete: 300 done, 0 failed, 0 skipped." in applied.stdout
    assert sum(len((emulator.org_document(org) or {})["destinations"]) for org in workspace.orgs) == 300

    replan = workspace.run("plan", "--detailed-exitcode")
    assert replan.exit_code == 0, replan.output[-2000:]

    workspace.destinations = []
    torn_down = workspace.run("apply", "--auto-approve")
    assert torn_down.exit_code == 0, torn_down.output[-2000:]
    assert all(not (emulator.org_document(org) or {})["destinations"] for org in workspace.orgs)

    assert emulator.throttled == {}, f"the vendor refused {dict(emulator.throttled)}"
    assert "rate limit" not in workspace.written_text().lower()
    # the minimum: one list per organisation per plan (three plans, plus a check after each apply)
    assert emulator.requests["create"] == 300 and emulator.requests["delete"] == 300
    assert emulator.requests["list"] == 30 * 5

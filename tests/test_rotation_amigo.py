"""Secret rotation on the Amigo emulator, moving its clock instead of waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.amigo_helpers import live
from tests.conftest import AmigoServer
from tests.support.servers import receiver
from tests.support.workspace import TYPE, Workspace
from webhookctl.verify import VerificationError, verify_amigo

DAY = 86400


def emulator_now(server: AmigoServer) -> datetime:
    return server.emulator.clock.now()


def deliver(server: AmigoServer) -> None:
    server.control("events", {"org": server.org, "type": TYPE})
    server.control("idle", {})


def test_policy_rotation_and_the_dual_signing_window(workspace: Workspace, amigo_server: AmigoServer) -> None:
    with receiver() as hook:
        workspace.add("orders", hook.url, rotation={"max_age": "90d"})
        assert workspace.run("apply", "--auto-approve").exit_code == 0
        first = workspace.record("orders")
        assert first is not None
        assert workspace.run("plan", "--detailed-exitcode").exit_code == 0

        amigo_server.control("clock", {"advance_seconds": 91 * DAY + 1800})
        plan = workspace.run("plan", "--detailed-exitcode")
        assert plan.exit_code == 2
        assert "# prod/orders will have its secret rotated" in plan.stdout
        assert "reason: secret is 91d old; rotation max_age is 90d" in plan.stdout
        assert workspace.run("apply", "--auto-approve").exit_code == 0

        record = workspace.record("orders")
        assert record is not None
        assert record["previous"]["secret"] == first["current"]["secret"]
        assert record["current"]["secret"] == live(amigo_server)[0]["secret"] != first["current"]["secret"]
        stops = datetime.fromisoformat(record["previous"]["valid_until"].replace("Z", "+00:00"))
        assert timedelta(minutes=29) < stops - emulator_now(amigo_server) <= timedelta(minutes=30)

        # inside the window: two signatures, each verifying with one of the backend's secrets
        deliver(amigo_server)
        [inside] = hook.wait_for(1)
        now = emulator_now(amigo_server)
        assert len(inside.headers["x-amigo-request-signature"].split(",")) == 2
        assert verify_amigo(inside.body, inside.headers, record, now=now) == "current"
        old_only = {"current": record["previous"] | {"valid_until": None}, "previous": None}
        assert verify_amigo(inside.body, inside.headers, old_only, now=now) == "current"

        # after the window: only the new secret signs, and the next run drops the previous one
        amigo_server.control("clock", {"advance_seconds": 31 * 60})
        deliver(amigo_server)
        after = hook.wait_for(2)[1]
        now = emulator_now(amigo_server)
        assert "," not in after.headers["x-amigo-request-signature"]
        assert verify_amigo(after.body, after.headers, record, now=now) == "current"
        with pytest.raises(VerificationError):
            verify_amigo(after.body, after.headers, old_only, now=now)
        applied = workspace.run("apply", "--auto-approve")
        assert "prod/orders: dropped the previous secret (its dual-signing window ended)" in applied.stdout
        final = workspace.record("orders")
        assert final is not None and final["previous"] is None
        assert final["current"]["secret"] == record["current"]["secret"]
        assert first["current"]["secret"] not in workspace.written_text()
        assert final["current"]["secret"] not in workspace.written_text()


def test_a_second_rotation_inside_the_hour_is_refused_at_plan_time(
    workspace: Workspace, amigo_server: AmigoServer
) -> None:
    workspace.add("orders", "https://orders.example.com/")
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    rotated = workspace.run("rotate", "orders", "--auto-approve")
    assert rotated.exit_code == 0, rotated.output
    assert "✓ rotate prod/orders done" in rotated.stdout
    rotated_at = datetime.fromisoformat(str(live(amigo_server)[0]["last_rotated_at"]).replace("Z", "+00:00"))

    calls_before = len(live(amigo_server))
    refused = workspace.run("plan", "--rotate", "orders")
    assert refused.exit_code == 1
    allowed = (rotated_at + timedelta(hours=1)).astimezone(UTC)
    assert "prod/orders: the secret was rotated less than 1h ago; rotation is possible after " in refused.stderr
    stamp = refused.stderr.split("possible after ")[1].strip()
    assert abs(datetime.fromisoformat(stamp.replace("Z", "+00:00")) - allowed) <= timedelta(seconds=2)
    assert workspace.run("rotate", "orders", "--auto-approve").exit_code == 1
    assert len(live(amigo_server)) == calls_before

    amigo_server.control("clock", {"advance_seconds": 3601})
    assert workspace.run("rotate", "orders", "--auto-approve").exit_code == 0


def test_rotation_for_an_unknown_name_is_an_error(workspace: Workspace, amigo_server: AmigoServer) -> None:
    workspace.add("orders", "https://orders.example.com/")
    result = workspace.run("plan", "--rotate", "ordres")
    assert result.exit_code == 1
    assert result.stderr == "error: no destination named ordres in the configuration\n"


def test_no_rotation_while_the_previous_one_is_unfinished(workspace: Workspace, amigo_server: AmigoServer) -> None:
    workspace.add("orders", "https://orders.example.com/")
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    killed = workspace.run_process("rotate", "orders", "--auto-approve",
                                   extra_env={"WEBHOOKCTL_FAILPOINTS": "after-escrow-write"})
    assert killed.returncode < 0
    amigo_server.control("clock", {"advance_seconds": 3601})
    refused = workspace.run("plan", "--rotate", "orders")
    assert refused.exit_code == 1
    assert "prod/orders: a previous operation on it is unfinished (in the journal); run 'webhookctl recover'" \
        in refused.stderr
    assert workspace.run("recover").exit_code == 0
    assert workspace.run("plan", "--rotate", "orders").exit_code == 0

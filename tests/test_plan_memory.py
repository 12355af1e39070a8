"""What keeps a large plan small gives the same answers: digests written piece by piece, shared
field sets, the text rendered in pieces (bench/RESULTS.md, "Scale, fifth pass: memory")."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.test_planner import NOW, TYPE, config, live, record, snapshot
from webhookctl.engine.canonical import canonical_parts
from webhookctl.engine.plan import CHANGE, Change, Plan, SecretPlan
from webhookctl.engine.planner import build_plan, config_digest
from webhookctl.presenter import Presenter
from webhookctl.render import render


def whole_digest(data: object) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def a_plan(tmp_path: Path) -> Plan:
    desired = config(tmp_path, [
        {"name": "new", "url": "https://a.example/new"},
        {"name": "kept", "url": "https://a.example/kept", "retry_attempts": 5},
        {"name": "odd", "url": "https://user:pw@a.example/x?token=1#f"},
    ])
    kept = live("k", "https://a.example/kept")
    return build_plan(desired, [snapshot([kept], [record("kept", kept)])], NOW)


def test_canonical_parts_are_json_dumps_of_the_whole() -> None:
    head = {"z": [1, 2.5, None], "a": {"b": "é", "a": True}, "m": "x"}
    for items in ([], [{"b": 1, "a": [2]}], [{"k": "v"}, 3, "s"]):
        expected = json.dumps({**head, "list": items}, sort_keys=True, separators=(",", ":"))
        assert "".join(canonical_parts(head, "list", items)) == expected


def test_plan_digest_is_the_digest_of_its_whole_dump(tmp_path: Path) -> None:
    plan = a_plan(tmp_path)
    data = plan.model_dump(mode="json", exclude={"digest"})
    assert len(plan.changes) == 3
    assert plan.digest == plan.content_digest() == whole_digest(data)


def test_config_digest_is_the_digest_of_its_whole_dump(tmp_path: Path) -> None:
    desired = config(tmp_path, [{"name": "a", "url": "https://a.example/1"}, {"name": "b", "url": "https://a.example/2"}])
    data = {
        "providers": {name: p.model_dump(mode="json") for name, p in sorted(desired.providers.items())},
        "secrets": desired.secrets.model_dump(mode="json"),
        "settings": desired.settings.model_dump(mode="json", exclude={"parallelism"}),
        "destinations": [{"name": d.name, "provider": d.provider, "url": d.url, "fields": d.fields,
                          "protect": d.protect, "rotation_max_age": None} for d in desired.destinations],
    }
    assert config_digest(desired) == whole_digest(data)


def test_a_change_keeps_no_dict_and_no_empty_lists_of_its_own() -> None:
    """A plan holds one change per destination: slotted, with empty lists shared, and still validated and
    frozen as a model was; a copy with one field changed leaves the original as it was."""
    def create(name: str) -> Change:
        return Change(action="create", provider="p", name=name, url=f"https://a.example/{name}",
                      reason="r", secret=SecretPlan(key=f"k/{name}", note="n"))

    first, second = create("a"), create("b")
    assert not hasattr(first, "__dict__") and first.secret is not None and not hasattr(first.secret, "__dict__")
    assert first.diff is second.diff and first.warnings is second.warnings
    ordered = dataclasses.replace(first, order="create-before-delete")
    assert ordered.order == "create-before-delete" and first.order is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.order = "create-before-delete"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="pattern"):
        create("not a name")
    assert CHANGE.dump_python(first, mode="json") == {
        "action": "create", "provider": "p", "name": "a", "destination_id": None, "url": "https://a.example/a",
        "before": None, "after": None, "diff": [], "reason": "r", "order": None, "secret_source": None,
        "secret": {"key": "k/a", "note": "n"}, "carry_from": None, "warnings": []}


def test_masking_still_finds_a_url_with_credentials_in_one_change(tmp_path: Path) -> None:
    plan = a_plan(tmp_path)
    masked = plan.masked()
    assert masked is not plan
    assert "pw" not in masked.model_dump_json() and "token=1" not in masked.model_dump_json()
    assert masked.digest == masked.content_digest() != plan.digest


def test_the_plan_written_in_pieces_is_the_plan_rendered_whole(tmp_path: Path) -> None:
    plan = a_plan(tmp_path)
    out = io.StringIO()
    Presenter(out=out, err=io.StringIO()).plan(plan, "text")
    assert out.getvalue() == render(plan.masked(), "text")
    assert "+ destination" in out.getvalue() and "pw" not in out.getvalue()
    assert TYPE in out.getvalue()

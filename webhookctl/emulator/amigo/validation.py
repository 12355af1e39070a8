"""Request validation with FastAPI/pydantic-shaped 422 bodies (NOTES.md A3)."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request

from webhookctl.emulator.amigo.settings import WEBHOOK_TYPES
from webhookctl.emulator.common.http import HTTPError
from webhookctl.emulator.common.strict import json_value
from webhookctl.emulator.common.uri import https_url_problem

# The spec's `^[a-f0-9]{24}$`, matched whole and ASCII-only (no trailing newline slips through).
ID_PATTERN = re.compile(r"[a-f0-9]{24}", re.ASCII)
ID_PATTERN_TEXT = "^[a-f0-9]{24}$"


def valid_id(value: str) -> bool:
    return ID_PATTERN.fullmatch(value) is not None


def detail(message: str) -> dict[str, Any]:
    return {"detail": message}


def validation_error(loc: list[Any], msg: str, kind: str, value: Any = None) -> HTTPError:
    return HTTPError(422, {"detail": [{"type": kind, "loc": loc, "msg": msg, "input": value}]})


async def read_json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        raise validation_error(["body"], "Field required", "missing")
    try:
        return json_value(raw)
    except ValueError as error:  # also bad UTF-8, NaN/Infinity and absurd nesting
        raise validation_error(["body", 0], f"JSON decode error: {error}", "json_invalid") from None


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise validation_error(["body"], "Input should be a valid dictionary", "dict_type", body)
    return body


def _retry_attempts(value: Any) -> int:
    # pydantic's lax mode takes 3.0 as 3 (JSON Schema calls it an integer too), never true or "3".
    if isinstance(value, bool) or not isinstance(value, int | float) or (
        isinstance(value, float) and not value.is_integer()
    ):
        raise validation_error(
            ["body", "retry_attempts"], "Input should be a valid integer", "int_type", value
        )
    if value <= 0:
        raise validation_error(
            ["body", "retry_attempts"], "Input should be greater than 0", "greater_than", value
        )
    if value > 5:
        raise validation_error(
            ["body", "retry_attempts"], "Input should be less than or equal to 5", "less_than_equal", value
        )
    return int(value)


def _accepted_types(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise validation_error(["body", "accepted_types"], "Input should be a valid list", "list_type", value)
    for index, item in enumerate(value):
        if item not in WEBHOOK_TYPES:
            expected = ", ".join(f"'{name}'" for name in WEBHOOK_TYPES)
            raise validation_error(
                ["body", "accepted_types", index], f"Input should be {expected}", "enum", item
            )
    return list(value)


def _url(value: Any) -> str:
    if not isinstance(value, str):
        raise validation_error(["body", "url"], "Input should be a valid string", "string_type", value)
    if not value:
        raise validation_error(
            ["body", "url"], "String should have at least 1 character", "string_too_short", value
        )
    problem = https_url_problem(value)
    if problem == "not a URI":
        raise validation_error(["body", "url"], "Input should be a valid URL", "url_parsing", value)
    if problem is not None:
        raise validation_error(["body", "url"], "URL must be in HTTPS.", "value_error", value)
    return value


def parse_create(body: Any) -> dict[str, Any]:
    body = _object(body)
    for field in ("url", "accepted_types"):
        if field not in body:
            raise validation_error(["body", field], "Field required", "missing", body)
    retry = body.get("retry_attempts", 3)
    return {
        "url": _url(body["url"]),
        "accepted_types": _accepted_types(body["accepted_types"]),
        "retry_attempts": _retry_attempts(retry),
    }


def parse_update(body: Any) -> dict[str, Any]:
    """Only the fields that change: absent and null mean "leave as is"; others are ignored."""
    body = _object(body)
    changes: dict[str, Any] = {}
    if body.get("retry_attempts") is not None:
        changes["retry_attempts"] = _retry_attempts(body["retry_attempts"])
    if body.get("accepted_types") is not None:
        changes["accepted_types"] = _accepted_types(body["accepted_types"])
    return changes

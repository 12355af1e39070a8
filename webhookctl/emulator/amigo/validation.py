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
    return HTTPError(422, {"detail": [error(loc, msg, kind, value)]})


def error(loc: list[Any], msg: str, kind: str, value: Any = None, ctx: dict[str, Any] | None = None) -> dict[str, Any]:
    """One entry of a 422's `detail`, as pydantic v2 writes it (`ctx` where pydantic gives one)."""
    entry = {"type": kind, "loc": loc, "msg": msg, "input": value}
    return {**entry, "ctx": ctx} if ctx is not None else entry


def _is_json(content_type: str | None) -> bool:
    """FastAPI reads a body as JSON without a Content-Type, or with application/json or application/*+json."""
    if content_type is None:
        return True
    media_type = content_type.split(";")[0].strip().lower()
    main, _, sub = media_type.partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


async def read_json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        raise validation_error(["body"], "Field required", "missing")
    if not _is_json(request.headers.get("content-type")):
        # FastAPI hands any other type's bytes to the model as they are, which no object model accepts.
        text = raw.decode("utf-8", "replace")
        raise validation_error(["body"], "Input should be a valid dictionary or object to extract fields from",
                               "model_attributes_type", text)
    try:
        return json_value(raw)
    except ValueError as problem:  # also bad UTF-8, NaN/Infinity and absurd nesting
        raise validation_error(["body", 0], f"JSON decode error: {problem}", "json_invalid") from None


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise validation_error(["body"], "Input should be a valid dictionary", "dict_type", body)
    return body


def _retry_attempts(value: Any) -> list[dict[str, Any]]:
    loc = ["body", "retry_attempts"]
    # The spec's `type: integer`: 3.0 is one (JSON Schema says so), true and "3" are not. Stricter than
    # pydantic's lax mode (which FastAPI validates with, and which takes both): the spec is the contract.
    if isinstance(value, bool) or not isinstance(value, int | float) or (
        isinstance(value, float) and not value.is_integer()
    ):
        return [error(loc, "Input should be a valid integer", "int_type", value)]
    if value <= 0:
        return [error(loc, "Input should be greater than 0", "greater_than", value, {"gt": 0})]
    if value > 5:
        return [error(loc, "Input should be less than or equal to 5", "less_than_equal", value, {"le": 5})]
    return []


# pydantic's enum message: "'a', 'b' or 'c'".
_EXPECTED_TYPES = ", ".join(f"'{name}'" for name in WEBHOOK_TYPES[:-1]) + f" or '{WEBHOOK_TYPES[-1]}'"


def _accepted_types(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return [error(["body", "accepted_types"], "Input should be a valid list", "list_type", value)]
    return [error(["body", "accepted_types", index], f"Input should be {_EXPECTED_TYPES}", "enum", item,
                  {"expected": _EXPECTED_TYPES})
            for index, item in enumerate(value) if item not in WEBHOOK_TYPES]


def _url(value: Any) -> list[dict[str, Any]]:
    loc = ["body", "url"]
    if not isinstance(value, str):
        return [error(loc, "Input should be a valid string", "string_type", value)]
    if not value:
        return [error(loc, "String should have at least 1 character", "string_too_short", value, {"min_length": 1})]
    problem = https_url_problem(value)
    if problem == "not a URI":
        return [error(loc, "Input should be a valid URL", "url_parsing", value)]
    if problem is not None:
        return [error(loc, "URL must be in HTTPS.", "value_error", value)]
    return []


def _refuse(errors: list[dict[str, Any]]) -> None:
    """Every problem of the body at once, as pydantic reports them."""
    if errors:
        raise HTTPError(422, {"detail": errors})


def parse_create(body: Any) -> dict[str, Any]:
    body = _object(body)
    errors = [error(["body", field], "Field required", "missing", body)
              for field in ("url", "accepted_types") if field not in body]
    if "url" in body:
        errors += _url(body["url"])
    if "accepted_types" in body:
        errors += _accepted_types(body["accepted_types"])
    retry = body.get("retry_attempts", 3)
    errors += _retry_attempts(retry)
    _refuse(errors)
    return {"url": body["url"], "accepted_types": list(body["accepted_types"]), "retry_attempts": int(retry)}


def parse_update(body: Any) -> dict[str, Any]:
    """Only the fields that change: absent and null mean "leave as is"; others are ignored."""
    body = _object(body)
    changes = {name: body[name] for name in ("retry_attempts", "accepted_types") if body.get(name) is not None}
    _refuse([*(_retry_attempts(changes["retry_attempts"]) if "retry_attempts" in changes else []),
             *(_accepted_types(changes["accepted_types"]) if "accepted_types" in changes else [])])
    if "retry_attempts" in changes:
        changes["retry_attempts"] = int(changes["retry_attempts"])
    return changes

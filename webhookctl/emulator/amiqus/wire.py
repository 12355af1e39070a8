"""Amiqus wire shapes: v2 and v1 webhook objects, delivery records, pagination, validation."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import URL

from webhookctl.emulator.amiqus.settings import SUBSCRIBABLE
from webhookctl.emulator.common.http import HTTPError
from webhookctl.emulator.common.strict import integer
from webhookctl.emulator.common.uri import https_url_problem


def v2_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def v1_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def webhook_v2(hook: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "object": "webhook", "id": hook["id"], "uuid": hook["uuid"], "url": hook["url"], "secret": hook["secret"],
        "events": list(hook["events"]), "is_enabled": hook["is_enabled"],
        "created_at": v2_time(hook["created_at"]), "updated_at": v2_time(hook["updated_at"]),
    }


def webhook_v1(hook: Mapping[str, Any]) -> dict[str, Any]:
    # v1 carries events as one string; several are joined with commas (the encoding is undocumented).
    return {
        "id": hook["id"], "url": hook["url"], "events": ",".join(hook["events"]), "active": hook["is_enabled"],
        "secret": hook["secret"], "created_at": v1_time(hook["created_at"]), "updated_at": v1_time(hook["updated_at"]),
    }


def delivery_v2(item: Mapping[str, Any]) -> dict[str, Any]:
    request = item["request"]
    return {
        "object": "webhook_delivery", "id": item["id"], "uuid": item["uuid"], "event": item["event"],
        "attempts": item["attempts"],
        "request": {"url": request["url"], "method": "POST", "headers": request["headers"], "body": request["body"]},
        "response": {"status_code": str(item["response"]["status_code"]), "headers": item["response"]["headers"],
                     "body": item["response"]["body"]},
        "last_sent_at": v2_time(item["last_sent_at"]) if item["last_sent_at"] else None,
    }


def delivery_v1(item: Mapping[str, Any]) -> dict[str, Any]:
    request = item["request"]
    return {
        "id": item["id"], "uuid": item["uuid"], "status": str(item["response"]["status_code"]),
        "failed": item["failed"],
        "request": {"headers": {"Request URL": request["url"], "Request method": "POST", **request["headers"]},
                    "body": request["body"]},
        "response": {"headers": item["response"]["headers"], "body": item["response"]["body"]},
        "attempts": item["attempts"],
        "last_delivered_at": v1_time(item["last_sent_at"]) if item["last_sent_at"] else None,
    }


def invalid(errors: dict[str, list[str]]) -> HTTPError:
    return HTTPError(422, errors)


def _int(params: Mapping[str, str], name: str, default: int, low: int, high: int | None) -> tuple[int, list[str]]:
    """The parameter's value (the default when absent or invalid) and what is wrong with it."""
    raw = params.get(name)
    if raw is None:
        return default, []
    value = integer(raw)
    if value is None:
        return default, [f"The {name} must be an integer."]
    if value < low:
        return default, [f"The {name} must be at least {low}."]
    if high is not None and value > high:
        return default, [f"The {name} must not be greater than {high}."]
    return value, []


def page_params(params: Mapping[str, str], default_limit: int) -> tuple[int, int, dict[str, list[str]]]:
    """`page` and `limit`, and every problem with them (Laravel's validator reports each field)."""
    # No upper bound: the spec gives `page` none (Laravel's would stop at PHP's 2^63 - 1, but a valid
    # request by the spec is answered as one).
    page, page_errors = _int(params, "page", 1, 1, None)
    limit, limit_errors = _int(params, "limit", default_limit, 1, 100)
    return page, limit, {name: errors for name, errors in (("page", page_errors), ("limit", limit_errors)) if errors}


def boolean(value: Any) -> bool | None:
    """A JSON boolean, else None: the spec's `type: boolean` takes no "1", 0 or "FALSE"."""
    return value if isinstance(value, bool) else None


def query_boolean(text: str) -> bool | None:
    """A boolean query parameter as OpenAPI serialises one: exactly "true" or "false"."""
    return {"true": True, "false": False}.get(text)


def paginate_v2(items: list[Any], page: int, limit: int, url: URL) -> dict[str, Any]:
    total_pages = max(1, math.ceil(len(items) / limit))
    data = items[(page - 1) * limit : page * limit]
    links = None
    if total_pages > 1:
        links = {
            "next": str(url.include_query_params(page=page + 1)) if page < total_pages else None,
            "previous": str(url.include_query_params(page=page - 1)) if page > 1 else None,
        }
    return {"object": "paginated_list", "data": data, "total": len(items), "count": len(data), "limit": limit,
            "current_page": page, "total_pages": total_pages, "links": links}


def paginate_v1(items: list[Any], page: int, per_page: int, url: URL) -> dict[str, Any]:
    total_pages = max(1, math.ceil(len(items) / per_page))
    data = items[(page - 1) * per_page : page * per_page]
    links: dict[str, str] | list[Any] = []
    if total_pages > 1:
        links = {}
        if page < total_pages:
            links["next"] = str(url.include_query_params(page=page + 1))
        if page > 1:
            links["previous"] = str(url.include_query_params(page=page - 1))
    return {"data": data, "meta": {"pagination": {"total": len(items), "count": len(data), "per_page": per_page,
                                                   "current_page": page, "total_pages": total_pages, "links": links}}}


def _url_errors(value: Any) -> list[str]:
    if not isinstance(value, str) or not value:
        return ["The url field is required."] if value in (None, "") else ["The url must be a string."]
    problem = https_url_problem(value)
    if problem == "not a URI":
        return ["The url must be a valid URL."]
    if problem is not None:
        return ["The url must start with https://."]
    return []


def _events_errors(events: Any, key: str = "events") -> dict[str, list[str]]:
    if not isinstance(events, list):
        return {key: [f"The {key} must be an array."]}
    if not events:
        return {key: [f"The {key} must have at least 1 items."]}
    errors: dict[str, list[str]] = {}
    for index, event in enumerate(events):
        if event not in SUBSCRIBABLE:
            errors[f"{key}.{index}"] = [f"The selected {key}.{index} is invalid."]
        elif events.index(event) != index:
            errors[f"{key}.{index}"] = [f"The {key}.{index} field has a duplicate value."]
    return errors


def parse_v2(body: Any, partial: bool) -> dict[str, Any]:
    """Validated fields of a v2 create (partial=False) or update body."""
    if not isinstance(body, dict):
        raise invalid({"errors": ["The request body must be a JSON object."]})
    known = {k: body[k] for k in ("url", "events", "is_enabled") if k in body}
    if partial and not known:
        raise HTTPError(422, {"errors": ["At least one property is required"]})
    errors: dict[str, list[str]] = {}
    if ("url" in known or not partial) and (problems := _url_errors(known.get("url"))):
        errors["url"] = problems
    if "events" in known or not partial:
        errors.update(_events_errors(known.get("events")) if "events" in known else
                      {"events": ["The events field is required."]})
    if "is_enabled" in known and boolean(known["is_enabled"]) is None:
        errors["is_enabled"] = ["The is enabled field must be true or false."]
    if errors:
        raise invalid(errors)
    if "is_enabled" in known:
        known["is_enabled"] = boolean(known["is_enabled"])
    return known


def parse_v1(body: Any, partial: bool) -> dict[str, Any]:
    """v1 bodies: `events` is a string (comma-separated for several), `active` is the flag."""
    if not isinstance(body, dict):
        raise invalid({"errors": ["The request body must be a JSON object."]})
    translated: dict[str, Any] = {}
    if "url" in body:
        translated["url"] = body["url"]
    if "events" in body:
        events = body["events"]
        if not isinstance(events, str):  # v1's events are one string (B5), never an array
            raise invalid({"events": ["The events must be a string."]})
        translated["events"] = [e.strip() for e in events.split(",") if e.strip()]
    if "active" in body:
        translated["is_enabled"] = body["active"]
    try:
        return parse_v2(translated, partial)
    except HTTPError as error:
        if isinstance(error.body, dict):
            error.body = {k.replace("is_enabled", "active"): [m.replace("is enabled", "active") for m in v]
                          for k, v in error.body.items()}
        raise

"""Validate bodies against the vendors' OpenAPI schemas (copies in tests/specs/)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SPECS = Path(__file__).resolve().parents[1] / "specs"


@cache
def _document(name: str) -> dict[str, Any]:
    return dict(json.loads((SPECS / name).read_text()))


def response_schema(name: str, path: str, method: str, status: str) -> dict[str, Any]:
    document = _document(name)
    response = document["paths"][path][method]["responses"][status]
    if "$ref" in response:
        response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    schema = response["content"]["application/json"]["schema"]
    return {**schema, "components": document["components"]}


def validate(name: str, path: str, method: str, status: str, body: Any) -> None:
    schema = response_schema(name, path, method, status)
    Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(body)


def amigo(path: str, method: str, status: str, body: Any) -> None:
    validate("amigo.openapi.json", path, method, status, body)


def documented_statuses(name: str, path: str, method: str) -> set[str]:
    return set(_document(name)["paths"][path][method]["responses"])


def amiqus(path: str, method: str, status: str, body: Any) -> None:
    validate("amiqus-v2.openapi.json", path, method, status, body)

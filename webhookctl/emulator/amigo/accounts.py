"""Organisations, users and API keys: provisioned from flags or a seed file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from webhookctl.emulator.amigo.settings import ALL_PERMISSIONS
from webhookctl.emulator.common.store import Document


def new_org_document(org: str) -> Document:
    return {"org": org, "users": {}, "api_keys": {}, "destinations": {}, "deliveries": []}


def add_account(
    document: Document,
    user_id: str,
    api_key_id: str,
    api_key: str,
    permissions: list[str] | None = None,
) -> None:
    document["users"][user_id] = {"permissions": list(permissions or ALL_PERMISSIONS)}
    document["api_keys"][api_key_id] = {"key": api_key}


def read_seed(path: str | Path) -> list[dict[str, Any]]:
    """Organisations from a YAML/JSON seed file.

    organizations:
      - id: acme
        users: [{id: u1, permissions: [Webhook:GetWebhookDestination]}]   # optional
        api_keys: [{id: k1, key: s3cr3t}]
    A shorthand entry `{id, user_id, api_key_id, api_key}` provisions one of each.
    """
    data = yaml.safe_load(Path(path).read_text()) or {}
    organizations = data.get("organizations", [])
    if not isinstance(organizations, list):
        raise ValueError(f"{path}: 'organizations' must be a list")
    return [dict(entry) for entry in organizations]


def seed_documents(entries: list[dict[str, Any]]) -> dict[str, Document]:
    documents: dict[str, Document] = {}
    for entry in entries:
        document = new_org_document(str(entry["id"]))
        if "user_id" in entry:
            add_account(document, str(entry["user_id"]), str(entry["api_key_id"]), str(entry["api_key"]))
        for user in entry.get("users", []):
            document["users"][str(user["id"])] = {
                "permissions": list(user.get("permissions", ALL_PERMISSIONS))
            }
        for key in entry.get("api_keys", []):
            document["api_keys"][str(key["id"])] = {"key": str(key["key"])}
        documents[document["org"]] = document
    return documents

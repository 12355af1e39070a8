"""`webhookctl schema`: the JSON Schema of a configuration file."""

from __future__ import annotations

import json
from typing import Any

import click

from webhookctl.config.models import ConfigFile
from webhookctl.presenter import Presenter

SCHEMA_ID = "https://webhookctl.dev/schemas/webhookctl.schema.json"


def config_schema() -> dict[str, Any]:
    schema = ConfigFile.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def schema_text() -> str:
    return json.dumps(config_schema(), indent=2, sort_keys=True) + "\n"


@click.command("schema")
def schema() -> None:
    """Print the JSON Schema of webhookctl configuration files."""
    Presenter().out.write(schema_text())

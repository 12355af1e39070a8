"""`webhookctl schema`: the JSON Schema of a configuration file."""

from __future__ import annotations

import json
from typing import Any

import click

from webhookctl.config.models import config_file_model
from webhookctl.engine.plan import Plan
from webhookctl.presenter import Presenter

SCHEMA_ID = "https://webhookctl.dev/schemas/webhookctl.schema.json"
PLAN_SCHEMA_ID = "https://webhookctl.dev/schemas/plan.schema.json"


def config_schema() -> dict[str, Any]:
    schema = config_file_model().model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def plan_schema() -> dict[str, Any]:
    schema = Plan.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": PLAN_SCHEMA_ID, **schema}


def schema_text(plan: bool = False) -> str:
    return json.dumps(plan_schema() if plan else config_schema(), indent=2, sort_keys=True) + "\n"


@click.command("schema")
@click.option("--plan", "plan", is_flag=True, help="The schema of saved plans (plan --out, --format json) instead.")
def schema(plan: bool) -> None:
    """Print the JSON Schema of webhookctl configuration files (schemas/webhookctl.schema.json)."""
    Presenter().out.write(schema_text(plan))

"""`webhookctl schema [KIND]`: the JSON Schemas of configuration files and of every JSON output."""

from __future__ import annotations

import json
from typing import Any

import click

from webhookctl.config.models import config_file_model
from webhookctl.engine.plan import Plan
from webhookctl.outputs import MODELS
from webhookctl.presenter import Presenter

SCHEMA_BASE = "https://webhookctl.dev/schemas/"
SCHEMA_ID = SCHEMA_BASE + "webhookctl.schema.json"
PLAN_SCHEMA_ID = SCHEMA_BASE + "plan.schema.json"
# KIND -> the file under schemas/ (and the last part of its $id).
FILES = {"config": "webhookctl.schema.json", "plan": "plan.schema.json",
         **{kind: f"{kind}.schema.json" for kind in MODELS}}


def schema_of(kind: str) -> dict[str, Any]:
    if kind == "config":
        schema = config_file_model().model_json_schema()
    elif kind == "plan":
        schema = Plan.model_json_schema()
    else:
        schema = MODELS[kind].model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_BASE + FILES[kind], **schema}


def config_schema() -> dict[str, Any]:
    return schema_of("config")


def plan_schema() -> dict[str, Any]:
    return schema_of("plan")


def schema_text(plan: bool = False, kind: str | None = None) -> str:
    return json.dumps(schema_of(kind or ("plan" if plan else "config")), indent=2, sort_keys=True) + "\n"


@click.command("schema")
@click.argument("kind", required=False, type=click.Choice(list(FILES)))
@click.option("--plan", "plan", is_flag=True, help="The schema of saved plans (same as KIND plan).")
def schema(kind: str | None, plan: bool) -> None:
    """Print a JSON Schema: of configuration files (default), or of a JSON output.

    \b
    config      configuration files          schemas/webhookctl.schema.json
    plan        plan --out, --format json     schemas/plan.schema.json
    validate    validate --format json        schemas/validate.schema.json
    drift       drift --format json           schemas/drift.schema.json
    deliveries  deliveries --format json      schemas/deliveries.schema.json
    error       any --format json on failure  schemas/error.schema.json
    """
    Presenter().out.write(schema_text(plan, kind))

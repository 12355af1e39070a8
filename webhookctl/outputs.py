"""The documents `--format json` prints, besides the plan (`webhookctl.engine.plan.Plan`).

Each has `format_version`, and a JSON Schema checked in under `schemas/`
(`webhookctl schema drift|validate|deliveries|error`). When a command fails, its
JSON output is an `ErrorOutput` on stdout, whatever the command: usage errors,
configuration problems (each located) and runtime errors alike.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FORMAT_VERSION: Literal[1] = 1


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProblemOut(_Data):
    """A located configuration problem."""

    file: str
    line: int
    column: int
    message: str
    field: str = Field(description="The field's path (providers.prod.base_url), empty for a whole file.")


class ErrorDetail(_Data):
    kind: Literal["usage", "config", "runtime"] = Field(
        description="usage: the command line; config: the configuration (see problems); runtime: anything else.")
    message: str
    problems: list[ProblemOut] = Field(default_factory=list)


class ErrorOutput(_Data):
    """What any `--format json` command prints when it fails (exit code 1)."""

    model_config = ConfigDict(extra="forbid", title="webhookctl error")

    format_version: Literal[1] = FORMAT_VERSION
    ok: Literal[False] = False
    error: ErrorDetail


class ValidateOutput(_Data):
    """`webhookctl validate --format json`."""

    model_config = ConfigDict(extra="forbid", title="webhookctl validate")

    format_version: Literal[1] = FORMAT_VERSION
    valid: bool
    problems: list[ProblemOut] = Field(default_factory=list)
    files: int | None = None
    providers: int | None = None
    destinations: int | None = None


class FindingOut(_Data):
    kind: str = Field(description="config-drift, unmanaged, secret-drift, rotation-due, dual-signing-window, "
                                  "delivery-health, subscription-disabled or plan-error.")
    provider: str
    destination: str | None
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class DriftOutput(_Data):
    """`webhookctl drift --format json`."""

    model_config = ConfigDict(extra="forbid", title="webhookctl drift")

    format_version: Literal[1] = FORMAT_VERSION
    checked_at: str
    since_seconds: int
    summary: dict[str, int] = Field(description="Findings per kind (kinds without findings left out).")
    findings: list[FindingOut]
    notes: list[str] = Field(default_factory=list, description="What could not be checked, and why.")


class DeliveryOut(_Data):
    id: str
    type: str
    status: str
    created_at: str
    attempts: int
    last_status_code: int | None
    dual_signed: bool | None = Field(description="None when the vendor does not say.")


class DeliveriesOutput(_Data):
    """`webhookctl deliveries NAME --format json`."""

    model_config = ConfigDict(extra="forbid", title="webhookctl deliveries")

    format_version: Literal[1] = FORMAT_VERSION
    provider: str
    destination: str
    deliveries: list[DeliveryOut]


MODELS: dict[str, type[BaseModel]] = {
    "validate": ValidateOutput,
    "drift": DriftOutput,
    "deliveries": DeliveriesOutput,
    "error": ErrorOutput,
}

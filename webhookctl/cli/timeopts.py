"""Times on the command line: a duration back from now (`24h`) or an ISO 8601 moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import click

from webhookctl.durations import parse_duration


class Moment(click.ParamType[datetime]):
    name = "TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return datetime.now(UTC) - parse_duration(str(value))
        except ValueError:
            pass
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            self.fail(f"{value!r} is neither a duration (24h, 7d) nor an ISO 8601 time", param, ctx)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Duration(click.ParamType[timedelta]):
    name = "DURATION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> timedelta:
        if isinstance(value, timedelta):
            return value
        try:
            return parse_duration(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)

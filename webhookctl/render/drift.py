"""Drift reports as text, markdown (for an issue or a step summary) or JSON."""

from __future__ import annotations

import json

from webhookctl.durations import format_duration
from webhookctl.engine.drift import DriftReport


def render_drift(report: DriftReport, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report.as_dict(), indent=2) + "\n"
    counts = report.counts()
    headline = ("No drift: the live destinations, secrets and deliveries match the configuration."
                if not report.findings else
                "Drift: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()) + ".")
    if report.shard:
        headline = f"Shard {report.shard}: {headline}"
    window = format_duration(report.since)
    if fmt == "markdown":
        lines = ["<!-- webhookctl-drift -->", "### webhookctl drift", "", f"**{headline}**", "",
                 f"Deliveries checked over the last {window}.", ""]
        if report.findings:
            lines += ["| kind | destination | finding |", "|---|---|---|"]
            lines += [f"| `{f.kind}` | {f.provider}/{f.destination or '-'} | {f.message.replace('|', '/')} |"
                      for f in report.findings]
        return "\n".join(lines) + "\n"
    lines = [f"{f.kind:<22} {f.provider}/{f.destination or '-'}: {f.message}" for f in report.findings]
    if lines:
        lines.append("")
    lines.append(headline)
    return "\n".join(lines) + "\n"

"""Drift reports as text, markdown (for an issue or a step summary) or JSON."""

from __future__ import annotations

from webhookctl import outputs
from webhookctl.durations import format_duration
from webhookctl.engine.drift import DriftReport


def render_drift(report: DriftReport, fmt: str) -> str:
    if fmt == "json":
        return outputs.DriftOutput.model_validate(report.as_dict()).model_dump_json(indent=2) + "\n"
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
        lines += [f"> {note}" for note in report.notes]
        return "\n".join(lines) + "\n"
    lines = [f"{f.kind:<22} {f.provider}/{f.destination or '-'}: {f.message}" for f in report.findings]
    lines += [f"note: {note}" for note in report.notes]
    if lines:
        lines.append("")
    lines.append(headline)
    return "\n".join(lines) + "\n"

"""All printing goes through here: commands hand over data and a format.

Every line is cleaned before it is written (`webhookctl.redact.clean`): each secret
the run has seen is masked, and so are credentials in URLs (user info, `?token=`),
whoever wrote the text (a vendor's error, a backend helper's stderr, a plan).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

import click

from webhookctl.config.problems import Problem, field_path
from webhookctl.redact import RUN, Redactor, clean
from webhookctl.terminal import color_for, is_closed_pipe, output_format, silence
from webhookctl.wording import count, seconds

if TYPE_CHECKING:
    # Only for annotations: `validate` and `completion` print through here without the engine.
    from webhookctl.engine.apply import ApplyReport, Outcome
    from webhookctl.engine.drift import DriftReport
    from webhookctl.engine.plan import Plan
    from webhookctl.vendors.contract import Provider


def _github_escape(text: str, property_value: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def error_document(kind: str, message: str, problems: Sequence[Problem] = ()) -> str:
    """The JSON a failed `--format json` command prints on stdout (schemas/error.schema.json)."""
    from webhookctl import outputs

    detail = outputs.ErrorDetail.model_validate({"kind": kind, "message": message,
                                                 "problems": [p.as_dict() for p in problems]})
    return outputs.ErrorOutput(error=detail).model_dump_json(indent=2)


class Presenter:
    def __init__(self, out: TextIO | None = None, err: TextIO | None = None, color: bool | None = None,
                 fmt: str | None = None, redactor: Redactor = RUN) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.redactor = redactor
        self.color = color_for(self.out) if color is None else color
        # The command's --format, so that its errors stay in that format.
        self.fmt = fmt or output_format() or "text"

    # -- primitives -----------------------------------------------------------

    def clean(self, text: str) -> str:
        return clean(text, self.redactor)

    def echo(self, text: str = "") -> None:
        with self._reader_may_leave(self.out):
            click.echo(self.clean(text), file=self.out, color=self.color)

    def write(self, text: str | Iterable[str]) -> None:
        """`text` as is (no newline added), cleaned like every other line; or pieces of it, each
        ending a line, cleaned and written as they come (URLs never span lines; a secret that did
        would be masked only within a piece: the text written this way is a plan's, which holds none)."""
        with self._reader_may_leave(self.out):
            for part in [text] if isinstance(text, str) else text:
                self.out.write(self.clean(part))
            self.out.flush()

    @staticmethod
    @contextlib.contextmanager
    def _reader_may_leave(stream: TextIO) -> Iterator[None]:
        """A reader that went away (`| head -1`) stops the output, never the run: an apply cut off
        mid-way by its pager would leave work half done, and a plan's exit code would be lost."""
        try:
            yield
        except OSError as error:
            if not is_closed_pipe(error):
                raise
            silence(stream)

    def style(self, text: str, **styles: Any) -> str:
        return click.style(text, **styles) if self.color else text

    def note(self, text: str) -> None:
        with self._reader_may_leave(self.err):
            click.echo(self.clean(text), file=self.err)

    def warning(self, text: str) -> None:
        self.note(f"warning: {text}")

    def error(self, text: str) -> None:
        self.note(f"error: {text}")

    def json(self, data: Any) -> None:
        import json  # JSON output only

        self.echo(json.dumps(data, indent=2, sort_keys=False))

    def fail(self, message: str, kind: str = "runtime") -> NoReturn:
        """One clear line on stderr and exit 1; with --format json, also the error document on stdout."""
        if self.fmt == "json":
            self.echo(error_document(kind, message))
        self.error(message)
        sys.exit(1)

    def config_failed(self, problems: Sequence[Problem]) -> NoReturn:
        if self.fmt == "json":
            self.echo(error_document("config", f"the configuration has {count(len(problems), 'problem')}",
                                     problems))
        else:
            self.problems(problems, "text")
        sys.exit(1)

    # -- progress, on stderr whether or not it is a terminal (CI logs too) -----

    def watch(self, name: str, provider: Provider) -> None:
        """Announce `provider`'s rate-limit waits and retries."""
        attempts = getattr(getattr(getattr(provider, "api", None), "retry", None), "attempts", None)

        def waiting(endpoint: str, wait: float) -> None:
            self.note(f"waiting {seconds(wait)} for {name}'s {endpoint} limit")

        def retrying(endpoint: str, cause: str, attempt: int, delay: float) -> None:
            of = f"/{attempts - 1}" if isinstance(attempts, int) else ""
            pause = f" in {seconds(delay)}" if delay else ""
            self.note(f"{name}: {endpoint}: {cause}, retry {attempt}{of}{pause}")

        provider.on_rate_wait(waiting)
        provider.on_retry(retrying)

    def interrupted(self) -> None:
        self.note("Interrupted: the operations in flight finish, no other starts (Ctrl-C again to abandon "
                  "them; the next run finishes what the journal holds).")

    def still_working(self, elapsed: float) -> None:
        self.note(f"still working... [{elapsed:.0f} s elapsed]")

    def step_summary(self, markdown: str | Callable[[], str]) -> None:
        """Inside GitHub Actions, append to the job's step summary (no flag needed).

        `markdown` may be a function making it: then it is only made inside Actions (a plan's
        markdown is another copy of the plan's text, ~2 KB per change)."""
        path = os.environ.get("GITHUB_STEP_SUMMARY")
        if os.environ.get("GITHUB_ACTIONS") == "true" and path:
            text = markdown if isinstance(markdown, str) else markdown()
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(self.clean(text.rstrip("\n")) + "\n\n")

    def plan(self, plan: Plan, fmt: str) -> None:
        from webhookctl.render import render
        from webhookctl.render.text import TextRenderer

        plan = plan.masked()  # the URLs' credentials, in every format (a plan is posted to pull requests)
        color = self.color and fmt == "text"
        self.write(TextRenderer(color=color).parts(plan) if fmt == "text" else render(plan, fmt, color=color))
        self.step_summary(lambda: render(plan, "markdown"))

    def drift(self, report: DriftReport, fmt: str) -> None:
        from webhookctl.render.drift import render_drift

        self.write(render_drift(report, fmt))
        self.step_summary(lambda: render_drift(report, "markdown"))

    def outcome(self, outcome: Outcome) -> None:
        marks = {"done": ("✓", "green"), "failed": ("✗", "red"), "skipped": ("-", "yellow"),
                 "not-started": ("-", "yellow")}
        mark, colour = marks[outcome.status]
        self.echo(self.style(f"{mark} {outcome.describe()}", fg=colour))

    def apply_report(self, report: ApplyReport) -> None:
        for note in report.housekeeping:
            self.echo(f"  {note}")
        for error in report.verify_errors:
            self.error(error)
        for blocked in report.blocked:
            self.error(f"blocked: {blocked}")
        counts = {status: sum(1 for o in report.outcomes if o.status == status)
                  for status in ("done", "failed", "skipped", "not-started")}
        if report.interrupted:
            line = (f"Apply interrupted: {counts['done']} done, {counts['failed']} failed, "
                    f"{counts['skipped'] + counts['not-started']} not started.")
        else:
            line = (f"Apply {'complete' if report.ok else 'failed'}: {counts['done']} done, "
                    f"{counts['failed']} failed, {counts['skipped']} skipped.")
        self.echo(line)
        summary = ["### webhookctl apply", "", f"**{line}**", ""]
        summary += [f"- {o.describe()}" for o in report.outcomes]
        summary += [f"- error: {e}" for e in report.verify_errors]
        summary += [f"- blocked: {b}" for b in report.blocked]
        self.step_summary("\n".join(summary))

    # -- configuration problems ------------------------------------------------

    def problems(self, problems: Sequence[Problem], fmt: str) -> None:
        if fmt == "json":
            from webhookctl import outputs  # its models are built only for JSON output

            self.echo(outputs.ValidateOutput.model_validate(
                {"valid": False, "problems": [p.as_dict() for p in problems]}).model_dump_json(indent=2,
                                                                                exclude_none=True))
            return
        if fmt == "github":
            for p in problems:
                field = f" ({field_path(p.path)})" if p.path else ""
                self.echo(
                    f"::error file={_github_escape(p.location.file, True)},line={p.location.line},"
                    f"col={p.location.column},title=webhookctl::{_github_escape(p.message + field)}"
                )
            return
        for problem in problems:
            self.echo(str(problem))
        files = len({p.location.file for p in problems})
        self.note(f"{count(len(problems), 'problem')} in {count(files, 'file')}")

    def valid(self, files: int, providers: int, destinations: int, fmt: str) -> None:
        if fmt == "json":
            from webhookctl import outputs

            self.echo(outputs.ValidateOutput(valid=True, files=files, providers=providers,
                                             destinations=destinations).model_dump_json(indent=2))
        elif fmt == "text":
            self.echo(f"Configuration valid: {count(files, 'file')}, {count(providers, 'provider')}, "
                      f"{count(destinations, 'destination')}.")


"""`webhookctl apply` and `webhookctl rotate`: carry out a plan (the run sequence is `engine.run`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from pydantic import ValidationError

from webhookctl.cli.options import config_option, lock_timeout_option, shard_option
from webhookctl.cli.plan import plan_options
from webhookctl.cli.prompt import approve
from webhookctl.cli.runtime import fail, load, run
from webhookctl.engine.account import PlanOptions
from webhookctl.engine.plan import Plan
from webhookctl.engine.recover import Recovered
from webhookctl.engine.run import Hooks, RunRequest, RunResult, converge
from webhookctl.errors import PlanError
from webhookctl.presenter import Presenter
from webhookctl.session import Session


def _confirm(presenter: Presenter, auto_approve: bool) -> bool:
    if auto_approve:
        return True
    if not sys.stdin.isatty():
        fail(presenter, "refusing to ask for approval: standard input is not a terminal "
                        "(pass --auto-approve, or apply a saved plan)")
    approve("Do you want to apply these changes?", "apply")
    return True


EXTRA = "Extra inputs are not permitted"


def read_saved(path: Path) -> Plan:
    """A saved plan, parsed as strictly as a configuration (names, keys, types); PlanError if it is not one."""
    try:
        return Plan.from_json(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise PlanError(f"{path}: cannot read the plan ({getattr(error, 'strerror', None) or type(error).__name__})") \
            from None
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "the document"
        # A change is a dataclass: pydantic words its unknown key as a function's; one wording for every part.
        message = EXTRA if problem["type"] == "unexpected_keyword_argument" else problem["msg"]
        # The field and what is wrong with it, never the value (a plan may have been edited to hold anything).
        raise PlanError(f"{path}: not a webhookctl plan: {where}: {message} "
                        f"({error.error_count()} problem{'s' if error.error_count() != 1 else ''})") from None
    except ValueError:
        raise PlanError(f"{path}: not a webhookctl plan (not JSON)") from None


def recovered_line(presenter: Presenter, item: Recovered) -> None:
    if not item.error:
        presenter.echo(f"Finished the interrupted {item.op} of {item.provider}/{item.name or '?'}: {item.done}.")


def execute(presenter: Presenter, config_paths: tuple[str, ...], plan_file: Path | None, options: PlanOptions,
            auto_approve: bool, allow_deletes: bool, parallelism: int | None, lock_timeout: float) -> None:
    config = load(presenter, config_paths)
    try:
        saved = read_saved(plan_file) if plan_file is not None else None
    except PlanError as error:
        fail(presenter, str(error))
    if saved is not None:
        options = PlanOptions.of(saved.request)
    request = RunRequest(options=options, providers=sorted(config.providers), saved=saved,
                         allow_deletes=allow_deletes, lock_timeout=lock_timeout)
    hooks = Hooks(recovered=lambda item: recovered_line(presenter, item),
                  show=lambda plan: presenter.plan(plan, "text"),
                  confirm=lambda plan: _confirm(presenter, auto_approve), progress=presenter.outcome,
                  interrupted=presenter.interrupted)

    async def work(session: Session) -> RunResult:
        for orphan in session.orphaned():
            presenter.warning(orphan)
        return await converge(session, request, hooks)

    result = run(presenter, config, parallelism, work)
    if result.cancelled:
        fail(presenter, "apply cancelled; nothing was changed")
    presenter.apply_report(result.report)
    if not result.report.ok:
        sys.exit(1)


@click.command("apply")
@click.argument("plan_file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@config_option
@click.option("--auto-approve", is_flag=True, help="Apply without asking.")
@click.option("--allow-deletes", is_flag=True, help="Allow more deletes than settings.max_deletes.")
@click.option("--target", "targets", multiple=True, metavar="NAME", help="Only these destinations (repeatable).")
@click.option("--rotate", multiple=True, metavar="NAME", help="Rotate these destinations' secrets (repeatable).")
@click.option("--rotate-by-replace", is_flag=True, help="Rotate by replacing where a vendor cannot rotate.")
@click.option("--parallelism", type=click.IntRange(1, 100), help="Accounts worked on at once (default 10).")
@lock_timeout_option
@shard_option
def apply(plan_file: Path | None, config_paths: tuple[str, ...], auto_approve: bool, allow_deletes: bool,
          targets: tuple[str, ...], rotate: tuple[str, ...], rotate_by_replace: bool,
          parallelism: int | None, lock_timeout: float, shard: str | None) -> None:
    """Apply a saved PLAN_FILE (refused when stale), or plan, show and ask first.

    A saved plan is an approval: apply plans again and goes ahead only if the result is the approved plan.
    Inside GitHub Actions a summary is also appended to $GITHUB_STEP_SUMMARY.
    """
    presenter = Presenter()
    if plan_file is not None and (targets or rotate or rotate_by_replace or shard):
        fail(presenter, "--target, --rotate, --rotate-by-replace and --shard cannot be given with a saved plan: "
                        "the plan already says what it covers (make a new plan with them instead)")
    execute(presenter, config_paths, plan_file, plan_options(targets, rotate, rotate_by_replace, shard),
            auto_approve, allow_deletes, parallelism, lock_timeout)


@click.command("rotate")
@click.argument("names", nargs=-1, required=True)
@config_option
@click.option("--auto-approve", is_flag=True, help="Rotate without asking.")
@click.option("--rotate-by-replace", is_flag=True, help="Rotate by replacing where a vendor cannot rotate.")
@lock_timeout_option
def rotate(names: tuple[str, ...], config_paths: tuple[str, ...], auto_approve: bool, rotate_by_replace: bool,
           lock_timeout: float) -> None:
    """Rotate the signing secrets of NAMES now, through a plan."""
    execute(Presenter(), config_paths, None, plan_options(names, names, rotate_by_replace), auto_approve,
            False, None, lock_timeout)

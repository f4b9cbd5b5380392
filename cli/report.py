"""`python main.py report`: what runway decided over a window, read back from its decision log (docs/design.md §6).

Reading the log: `cli.report_read`; summarizing it (pure): `cli.report_summary` and `cli.report_findings`; the
data shapes and the JSON contract: `cli.report_model`; the formats: `cli.report_sections`, `cli.report_format`,
`cli.report_html`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from cli.projects import service_project_option
from cli.report_format import render
from cli.report_model import FORMATS, rfc3339
from cli.report_projects import only_projects
from cli.report_read import fetch_decisions, parse_when
from cli.report_summary import summarize
from shared.errors import API_ERRORS


class LoggingReadError(click.ClickException):
    """The Logging API could not be read: exit 3, apart from 1 (findings) and 2 (usage)."""

    exit_code = 3


@click.command("report")
@click.option(
    "--since",
    "since_text",
    default="24h",
    show_default=True,
    metavar="WHEN",
    help="Start of the window: a duration back from now (30m, 24h, 7d) or an RFC3339 timestamp.",
)
@click.option(
    "--until",
    "until_text",
    default=None,
    metavar="WHEN",
    help="End of the window (exclusive), same forms as --since. Default: now.",
)
@click.option("--project", default=None, help="Project whose decision log to read. Default: RUNWAY_PROJECT.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table for a terminal, json for machines, csv one row per decision, markdown for a ticket, "
    "html one self-contained page.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write the report to this file instead of stdout.",
)
@service_project_option("the decisions and posture")
@click.pass_context
def report(
    ctx: click.Context,
    since_text: str,
    until_text: str | None,
    project: str | None,
    fmt: str,
    output: Path | None,
    service_projects: tuple[str, ...],
) -> None:
    """Summarize runway's decisions from its decision log: remediations, routes, conflicts, invalid routes,
    errors, each service's route findings (open or resolved, with their age), all of it per service project, and
    the posture of the latest sweep (services private, published, exempt and open per project; the URL map's
    budgets and budget warnings).

    Exit status: 0 no findings; 1 the window holds findings (route conflicts, invalid route labels, unreachable
    routes, API errors, malformed events); 2 usage or configuration error; 3 the Logging API could not be read.
    """
    from shared.clients import logging_client
    from shared.config import ConfigError, load_config

    # The window ends at the next whole second, not the last one: a decision logged a moment ago belongs in it.
    now = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    try:
        since = parse_when(since_text, now)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    try:
        until = parse_when(until_text, now) if until_text else now
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--until") from None
    if since >= until:
        raise click.BadParameter(
            f"{rfc3339(since)} is not before the end of the window, {rfc3339(until)}", param_hint="--since"
        )
    try:
        config = load_config()
    except ConfigError as exc:
        raise click.UsageError(str(exc), ctx) from None
    project = project or config.project
    if not project:
        raise click.UsageError("RUNWAY_PROJECT is not set: set it or pass --project", ctx)

    try:
        client = logging_client(project, config.api_endpoint)
        decisions = fetch_decisions(client, project, since, until)
    except API_ERRORS as exc:
        where = config.api_endpoint or "logging.googleapis.com"
        raise LoggingReadError(f"could not read the decision log of {project} from {where}: {exc}") from exc

    summary = summarize(only_projects(decisions, service_projects), since=since, until=until, project=project)
    text = render(summary, fmt)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
    if summary.findings.total:
        ctx.exit(1)

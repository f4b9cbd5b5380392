"""`python main.py <command>`: run, inspect and demo runway from a terminal.

Exit codes everywhere: 0 ok, 1 findings (conflicts, invalid labels, unreachable routes, drift, errors in the log;
for `explain` a service not published and reachable, for `doctor` a failed check), 2 usage or configuration error
(3: `report` could not read the log).
"""

from __future__ import annotations

import contextlib
import io
import json
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

import click

from shared.config import ConfigError

from .common import ConfigProblem, check_scope, load
from .doctor import doctor
from .explain import explain
from .projects import service_project_option
from .report import report

__all__ = ["ConfigProblem", "cli", "load", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
def cli() -> None:
    """runway keeps Cloud Run services private and publishes labeled ones on a shared load balancer.

    Configuration comes from RUNWAY_* environment variables (see README); RUNWAY_API_ENDPOINT points every
    command at a local emulator instead of Google Cloud.
    """


cli.add_command(report)
cli.add_command(explain)
cli.add_command(doctor)


@cli.command()
@click.option("--keep-going", is_flag=True, help="Leave the stack up at the end (Ctrl-C to stop).")
@click.option(
    "--org",
    is_flag=True,
    help="The organization story instead: three projects in two folders behind one sink, one load balancer.",
)
def demo(keep_going: bool, org: bool) -> None:
    """Play the whole story on the embedded emulator: remediation, routes, a gcloud relabel, a conflict,
    cleanup, a sweep, then the routing table and the report."""
    from .demo import run_demo

    sys.exit(run_demo(keep_going=keep_going, org=org))


@cli.command()
@click.option("--port", type=int, default=8900, show_default=True, help="Port of the emulator.")
@click.option("--logs/--no-logs", default=False, help="Echo the functions' decision log here as it happens.")
@click.option(
    "--sample/--no-sample",
    default=True,
    show_default=True,
    help="Deploy a service `hello` (open to all, so you see it remediated) to try labels on.",
)
def up(port: int, logs: bool, sample: bool) -> None:
    """Start the local stack and keep it up: the emulator, the three functions, triggers, load balancer."""
    import shutil
    import signal
    import tempfile
    import time

    from devstack.stack import LocalStack

    config_dir = Path(tempfile.mkdtemp(prefix="runway-gcloud-"))
    try:
        with LocalStack(emulator_port=port, echo=sys.stdout if logs else None) as stack:
            if sample:
                _deploy_sample(stack.url, stack.project, stack.region)
            click.echo(f"Local stack up. Emulator: {stack.url}  (project {stack.project}, region {stack.region})")
            for name, fn in stack.functions.items():
                click.echo(f"  function {name}: {fn.url}")
            _print_exports(stack.function_env(), stack.gcloud_env(config_dir))
            click.echo("\nThen, for example:")
            if not sample:
                click.echo("  gcloud run deploy hello --image us-docker.pkg.dev/cloudrun/container/hello")
            click.echo("  gcloud run services update hello --update-labels public-route=true")
            click.echo("  python main.py reconcile --dry-run")
            click.echo("  python main.py routes")
            click.echo("  python main.py report --since 1h")
            # Both signals stop the stack cleanly (the functions are child processes that must not outlive it);
            # the handlers are in place before the line that tells a user (or a script) it may send them.
            # The handler only records the signal: taking a lock in it (Event.set) can deadlock against the main
            # thread holding that very lock when the signal lands.
            signals: list[int] = []
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda signum, _frame: signals.append(signum))
            click.echo("\nCtrl-C to stop.")
            while not signals:
                time.sleep(0.2)
            click.echo("Stopping.")
    finally:
        shutil.rmtree(config_dir, ignore_errors=True)


def _print_exports(runway_env: Mapping[str, str], gcloud_env: Mapping[str, str]) -> None:
    """Every variable the CLI and gcloud need against the stack, one `export` a line, quoted for the shell: runway's
    are the functions' own configuration (so `reconcile` plans what the functions do), gcloud's point every API it
    calls at the emulator."""
    click.echo("\nFor runway's CLI and the Google client libraries (the functions' configuration):")
    for key, value in sorted(runway_env.items()):
        click.echo(f"  export {key}={shlex.quote(value)}")
    click.echo("\nFor gcloud (the emulator is also its HTTP proxy; the token file names you in audit logs):")
    for key, value in gcloud_env.items():
        click.echo(f"  export {key}={shlex.quote(value)}")


def _deploy_sample(endpoint: str, project: str, region: str) -> None:
    from google.cloud import run_v2

    from shared import clients

    service = run_v2.Service(template=run_v2.RevisionTemplate(containers=[run_v2.Container(image="hello")]))
    clients.run_services(endpoint).create_service(
        parent=f"projects/{project}/locations/{region}", service_id="hello", service=service
    ).result(timeout=60)


@cli.command()
@click.option("--dry-run", is_flag=True, help="Plan and print; change nothing.")
@click.option("--project", help="runway's and the load balancer's project (default RUNWAY_PROJECT).")
@click.option(
    "--scope",
    callback=check_scope,
    help="Projects to sweep: organizations/N, folders/N or comma-separated project ids (default RUNWAY_SCOPE, "
    "else the project alone).",
)
@click.option("--regions", help="Comma-separated regions (default RUNWAY_REGIONS).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--log", "show_log", is_flag=True, help="Also print the decision log lines (JSON).")
def reconcile(
    dry_run: bool, project: str | None, scope: str | None, regions: str | None, fmt: str, show_log: bool
) -> None:
    """Sweep every service in scope: enforce ingress, plan the whole load balancer, apply unless --dry-run.

    A backfill for services that existed before runway, and a drift check: in dry run, exit 1 when the plan
    is not empty. Over several projects, the plan is also counted per project, with the total.
    """
    from shared import clients
    from shared.decision_log import DecisionLog
    from shared.errors import RunwayApiError
    from shared.flow_sweep import sweep

    from . import plan_view
    from .plan_rollup import by_project

    config = load(
        {
            "RUNWAY_PROJECT": project,
            "RUNWAY_SCOPE": scope,
            "RUNWAY_REGIONS": regions,
            "RUNWAY_DRY_RUN": "true" if dry_run else None,
        }
    )
    log = DecisionLog(
        function="cli.reconcile", dry_run=config.dry_run, stream=sys.stderr if show_log else io.StringIO()
    )
    try:
        bar: Any = None

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if total < 20 or not sys.stdout.isatty():
                return
            if bar is None:
                bar = click.progressbar(length=total, label="Services").__enter__()
            bar.update(1)

        result = sweep(
            config=config,
            log=log,
            run=clients.run_services(config.api_endpoint, config.api_principal),
            compute=clients.compute(config.api_endpoint, config.api_principal),
            progress=progress,
        )
        if bar is not None:
            bar.__exit__(None, None, None)
    except ConfigError as exc:
        raise ConfigProblem(str(exc)) from exc
    except RunwayApiError as exc:
        raise click.ClickException(f"sweep failed: {exc}") from exc
    # Every project the scope lists by id is shown, services or not; of an organization or folder, those swept.
    rows = by_project(result, lb_project=config.require_project(), covered=result.projects)
    render = plan_view.as_json if fmt == "json" else plan_view.as_text
    click.echo(render(result, dry_run=config.dry_run, by_project=rows))
    drift = config.dry_run and (result.changes or result.ingress_changes())
    if drift or result.findings() or result.failures:
        sys.exit(1)


@cli.command()
@click.option("--project", help="Project of the load balancer (default RUNWAY_PROJECT).")
@click.option("--url-map", help="The shared URL map (default RUNWAY_URL_MAP).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "mermaid"]), default="table", show_default=True)
@service_project_option("the routes")
def routes(project: str | None, url_map: str | None, fmt: str, service_projects: tuple[str, ...]) -> None:
    """The live routing table: host → path → service → regions, read from the URL map and the backends, with
    the routes counted per service project."""
    from shared import clients
    from shared.errors import RunwayApiError

    from . import routes_view

    config = load({"RUNWAY_PROJECT": project, "RUNWAY_URL_MAP": url_map})
    if not config.project:
        raise ConfigProblem("RUNWAY_PROJECT: not set: expected the load balancer's project (or --project)")
    try:
        name = config.require_url_map()
        rows, default = routes_view.read_routes(
            clients.compute(config.api_endpoint, config.api_principal), config.project, name
        )
    except ConfigError as exc:
        raise ConfigProblem(str(exc)) from exc
    except RunwayApiError as exc:
        raise click.ClickException(str(exc)) from exc
    rows = routes_view.only_projects(rows, service_projects)
    if fmt == "json":
        click.echo(routes_view.as_json(rows, default))
    elif fmt == "mermaid":
        click.echo(routes_view.as_mermaid(rows, default, name))
    else:
        click.echo(routes_view.as_table(rows, default, lb_project=config.project))


@cli.command()
@click.argument("event_file", type=click.File("r"))
@click.option(
    "--function",
    "functions",
    type=click.Choice(["enforce_ingress", "sync_routes", "all"]),
    default="all",
    show_default=True,
)
@click.option("--dry-run", is_flag=True, help="Decide and print; change nothing.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def replay(event_file: TextIO, functions: str, dry_run: bool, fmt: str) -> None:
    """Run captured audit-log events through the functions locally and print their decisions.

    EVENT_FILE holds an Eventarc delivery (`{"headers": {...}, "body": {...}}`), an audit LogEntry as
    exported from Cloud Logging, or a JSON list of either.
    """
    from shared.errors import RunwayApiError
    from shared.event_replay import event_from_http, event_from_log_entry

    try:
        data = json.load(event_file)
    except ValueError as exc:
        raise click.UsageError(f"{event_file.name}: not JSON: {exc}") from exc
    items = data if isinstance(data, list) else [data]
    events = []
    for item in items:
        if isinstance(item, dict) and "headers" in item:
            events.append(event_from_http(item["headers"], item.get("body")))
        elif isinstance(item, dict) and "protoPayload" in item:
            events.append(event_from_log_entry(item))
        else:
            raise click.UsageError(f"{event_file.name}: neither an Eventarc delivery nor an audit LogEntry")
    config = load({"RUNWAY_DRY_RUN": "true" if dry_run else None})
    targets = ["enforce_ingress", "sync_routes"] if functions == "all" else [functions]
    findings = False
    for event in events:
        for target in targets:
            module = __import__(f"functions.{target}", fromlist=["handle"])
            quiet = io.StringIO()  # the decision line is printed below, formatted
            try:
                with contextlib.redirect_stdout(quiet):
                    record = module.handle(event, config=config)
            except ConfigError as exc:
                raise ConfigProblem(str(exc)) from exc
            except RunwayApiError as exc:
                record = json.loads(quiet.getvalue().splitlines()[-1]) if quiet.getvalue() else {"error": str(exc)}
            findings |= record.get("severity") in ("WARNING", "ERROR") or "error" in record
            if fmt == "json":
                click.echo(json.dumps(record))
            else:
                click.echo(f"{target}: {record.get('action')}  {record.get('service') or ''}")
                click.echo(f"  {record.get('message')}")
    if findings:
        sys.exit(1)


def main() -> None:
    cli(prog_name="python main.py")

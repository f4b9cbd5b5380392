"""`python main.py explain SERVICE`: why a service is or is not published and reachable, link by link.

The reads are `cli.explain_read`, the checks (pure) `cli.explain_checks` and `cli.explain_route`; this module is
the command and its two formats.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click

from cli.common import ConfigProblem, load
from cli.explain_checks import explain as evaluate
from cli.explain_model import Check, Explanation
from cli.report_model import rfc3339
from shared.config import ConfigError
from shared.errors import RunwayApiError

STATUS = {"pass": "pass", "fail": "FAIL", "skip": "skip", "info": "info"}


@click.command("explain")
@click.argument("service")
@click.option("--region", help="Region of the service (default: every region of RUNWAY_REGIONS it exists in).")
@click.option("--project", help="Project of the service (default RUNWAY_PROJECT).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def explain(service: str, region: str | None, project: str | None, fmt: str) -> None:
    """Why SERVICE is, or is not, published and reachable: each link of the chain checked against live state.

    SERVICE is a Cloud Run service name, or projects/P/locations/R/services/S. In order: the public-route label
    (and runway.dev/paths, runway-owner), the public-host alias in RUNWAY_HOSTS, the settled ingress, who may
    invoke it (allUsers, IAP, or the IAM check disabled), runway's NEG in each region, its backend service (with
    the RUNWAY_SECURITY_POLICY Cloud Armor policy), the URL-map rule on each host of the alias, and when it is not
    routed what runway would decide now (the holder of its path, a shadowing /x/* rule, a limit); then the route
    status on the service and runway's latest decisions about it (last 24 h). The first failure says what to do.

    Exit status: 0 published and reachable; 1 not; 2 usage or configuration error (no such service, bad
    RUNWAY_* variable, missing URL map).
    """
    from cli.explain_read import UnknownService, observe, service_key

    config = load({"RUNWAY_PROJECT": None})
    project = project or config.project
    if not project and not service.startswith("projects/"):
        raise ConfigProblem("RUNWAY_PROJECT: not set: expected the service's project (or --project)")
    regions = (region,) if region else config.regions
    if not regions and not service.startswith("projects/"):
        raise ConfigProblem("RUNWAY_REGIONS: not set: expected the regions to look for the service in (or --region)")
    try:
        key = service_key(service, project or "", regions[0] if regions else "")
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="SERVICE") from None
    if service.startswith("projects/"):
        regions = (key.region,)
    try:
        observation = observe(config, key.ref, regions, now=datetime.now(UTC))
    except UnknownService as exc:
        raise ConfigProblem(str(exc)) from exc
    except ConfigError as exc:
        raise ConfigProblem(str(exc)) from exc
    except RunwayApiError as exc:
        raise click.ClickException(str(exc)) from exc
    result = evaluate(observation)
    click.echo(as_json(result) if fmt == "json" else as_text(result), nl=False)
    raise SystemExit(result.exit_code)


def _verdict(result: Explanation) -> str:
    published = "published" if result.published else "not published"
    reachable = "reachable" if result.reachable else "not reachable"
    return f"{published}, {reachable}"


def as_text(result: Explanation) -> str:
    """One line per check (evidence indented under it), then what to do about the first failure."""
    width = max(len(c.name) for c in result.checks)
    lines = [f"runway explain {result.ref} ({', '.join(result.regions)}): {_verdict(result)}"]
    for check in result.checks:
        lines.append(f"  {STATUS[check.status]}  {check.name.ljust(width)}  {check.summary}")
        lines += [f"  {'':4}  {'':{width}}    {line}" for line in check.evidence]
    first = result.first_failure
    if first is not None:
        lines += ["", f"First failure: {first.name}: {first.summary}"]
        if first.fix:
            lines.append(f"What to do: {first.fix}")
    return "\n".join(lines) + "\n"


def _check(check: Check) -> dict[str, Any]:
    return {
        "name": check.name,
        "status": check.status,
        "summary": check.summary,
        "evidence": list(check.evidence),
        "fix": check.fix,
    }


def _decision(decision: Any) -> dict[str, Any]:
    moment = decision.get("timestamp")
    return {
        "time": rfc3339(moment) if isinstance(moment, datetime) else moment,
        **{k: decision.get(k) for k in ("function", "action", "severity", "principal", "message")},
    }


def as_json(result: Explanation) -> str:
    """`{service, project, regions, published, reachable, exit_code, first_failure, checks, decisions}`; each
    check `{name, status, summary, evidence, fix}`; `decisions` newest first, or `{"error": ...}`."""
    first = result.first_failure
    body = {
        "service": result.ref.service,
        "project": result.ref.project,
        "regions": list(result.regions),
        "published": result.published,
        "reachable": result.reachable,
        "exit_code": result.exit_code,
        "first_failure": _check(first) if first else None,
        "checks": [_check(c) for c in result.checks],
        "decisions": (
            {"error": result.decisions}
            if isinstance(result.decisions, str)
            else [_decision(d) for d in result.decisions]
        ),
    }
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"

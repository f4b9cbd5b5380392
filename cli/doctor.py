"""`python main.py doctor`: is this installation ready? The reads are `cli.doctor_read`, the checks (pure)
`cli.doctor_checks`; this module is the command and its two formats."""

from __future__ import annotations

import json

import click

from cli.common import ConfigProblem, load
from cli.explain_model import FAIL, Check
from shared.config import ConfigError
from shared.methods import METHODS_BY_FUNCTION
from shared.permissions import FUNCTIONS

# infra/iam.tf: `${var.name_prefix}-<short>` service accounts; infra/functions.tf: `${var.name_prefix}-<function>`.
SHORT = {"enforce_ingress": "enforce", "sync_routes": "sync", "reconcile_all": "reconcile"}
STATUS = {"pass": "pass", "fail": "FAIL", "warn": "warn", "skip": "skip"}


def _pairs(values: tuple[str, ...], option: str, known: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for value in values:
        function, sep, target = value.partition("=")
        if not sep or function not in known or not target:
            raise click.BadParameter(
                f"{value!r}: expected FUNCTION=VALUE, FUNCTION one of {', '.join(known)}", param_hint=option
            )
        found[function] = target
    return found


@click.command("doctor")
@click.option(
    "--identity",
    "identities",
    multiple=True,
    metavar="FUNCTION=EMAIL",
    help="A function's service account (repeatable). Default: <prefix>-enforce, -sync, -reconcile "
    "@RUNWAY_PROJECT.iam.gserviceaccount.com, as infra/iam.tf names them.",
)
@click.option(
    "--destination",
    "destinations",
    multiple=True,
    metavar="FUNCTION=TARGET",
    help="What an event function's triggers must deliver to (repeatable): its Cloud Run service, or an HTTP "
    "endpoint's URL. Default: <prefix>-enforce-ingress, <prefix>-sync-routes, as infra/functions.tf names them.",
)
@click.option("--prefix", default="runway", show_default=True, help="infra's name_prefix.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def doctor(identities: tuple[str, ...], destinations: tuple[str, ...], prefix: str, fmt: str) -> None:
    """Preflight for the platform team: is everything runway needs in place? Each failure names its fix.

    Checks that the configuration parses; that the URL map (RUNWAY_URL_MAP in RUNWAY_PROJECT) and the Cloud
    Armor policy (RUNWAY_SECURITY_POLICY, in every project in scope) exist; that each function's identity holds
    the permissions its calls need on every project in scope (and, for an organization or folder RUNWAY_SCOPE,
    there), asking testIamPermissions as that identity (impersonated credentials: whoever
    runs doctor needs roles/iam.serviceAccountTokenCreator on the three service accounts; against the emulator the
    identity is sent as the caller); that Compute's BACKEND_SERVICES (per project) and NETWORK_ENDPOINT_GROUPS (per
    region of RUNWAY_REGIONS) quotas and the URL map's budgets (bytes against RUNWAY_URL_MAP_MAX_BYTES) are at
    most 80 % used; and that an Eventarc trigger (location global) exists for every audit-log method each event
    function handles, delivering to it.

    Exit status: 0 everything passes (warnings allowed); 1 a check failed; 2 usage or configuration error.
    """
    from cli.doctor_checks import doctor as evaluate
    from cli.doctor_read import observe

    config = load({})
    if not config.project:
        raise ConfigProblem("RUNWAY_PROJECT: not set: expected the load balancer's project")
    project = config.project
    emails = {fn: f"{prefix}-{SHORT[fn]}@{project}.iam.gserviceaccount.com" for fn in FUNCTIONS}
    emails |= _pairs(identities, "--identity", tuple(FUNCTIONS))
    targets = {fn: f"{prefix}-{fn.replace('_', '-')}" for fn in METHODS_BY_FUNCTION}
    targets |= _pairs(destinations, "--destination", tuple(METHODS_BY_FUNCTION))
    try:
        checks = evaluate(observe(config, project, emails, targets))
    except ConfigError as exc:
        raise ConfigProblem(str(exc)) from exc
    click.echo(as_json(checks) if fmt == "json" else as_text(checks, project), nl=False)
    raise SystemExit(1 if any(c.status == FAIL for c in checks) else 0)


def as_text(checks: list[Check], project: str) -> str:
    """A table of checks: status, name, result; the evidence and the fix of each failure under it."""
    width = max(len(c.name) for c in checks)
    failed = sum(1 for c in checks if c.status == FAIL)
    lines = [f"runway doctor for {project}: {len(checks)} checks, {failed} failed", ""]
    lines.append(f"  {'status':6}  {'check'.ljust(width)}  result")
    for check in checks:
        lines.append(f"  {STATUS[check.status]:6}  {check.name.ljust(width)}  {check.summary}")
        if check.status == FAIL:
            lines += [f"  {'':6}  {'':{width}}    {line}" for line in check.evidence]
            if check.fix:
                lines.append(f"  {'':6}  {'':{width}}    fix: {check.fix}")
    return "\n".join(lines) + "\n"


def as_json(checks: list[Check]) -> str:
    """`{ok, failed, checks: [{name, status, summary, evidence, fix}]}`."""
    failed = [c.name for c in checks if c.status == FAIL]
    body = {
        "ok": not failed,
        "failed": failed,
        "checks": [
            {"name": c.name, "status": c.status, "summary": c.summary, "evidence": list(c.evidence), "fix": c.fix}
            for c in checks
        ],
    }
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"

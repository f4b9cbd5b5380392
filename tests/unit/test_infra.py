"""Static checks of infra/, the Terraform that deploys runway, without a Terraform binary.

Every `.tf` file is parsed with python-hcl2 (8.x: blocks are lists of dicts, expressions are strings wrapped in
`${...}`; with `strip_string_quotes` plain strings lose their quotes). The checks hold the configuration to the
code it deploys (trigger methods per function, entry points, configuration names, the permission table of
shared.permissions, the decision log's actions and severities, the URL-map budgets) and to its security contract
(who is bound to what, exact custom-role permissions, what ships in the source archive). Organization mode (org.tf)
is checked the same way: the sink's filter against shared.methods with the emulator's Logging query evaluator, the
publisher binding, the Pub/Sub triggers, the organization roles against shared.permissions (FUNCTIONS and SCOPE).
"""

from __future__ import annotations

import ast
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest
from hcl2 import SerializationOptions

from shared.api_run import SETTLE_TIMEOUT
from shared.config import VARIABLES, Config, ConfigError
from shared.decision_log import ACTIONS, COMPONENT, REQUIRED_FIELDS
from shared.flow_sweep import CONCURRENCY as SWEEP_CONCURRENCY
from shared.methods import (
    EVENT_TYPE,
    HANDLED_METHODS,
    INGRESS_METHODS,
    PUBSUB_EVENT_TYPE,
    ROUTE_METHODS,
    SERVICE_NAME,
)
from shared.permissions import ACT_AS, FUNCTIONS, SCOPE
from shared.plan_limits import Limits, usage

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
MAIN = ROOT / "main.py"
TF_FILES = sorted(INFRA.glob("*.tf"))
OPTIONS = SerializationOptions(with_comments=False, explicit_blocks=False, strip_string_quotes=True)

ENTRY_POINTS = {"enforce_ingress", "sync_routes", "reconcile_all"}
CLOUDEVENT_ENTRY_POINTS = {"enforce_ingress", "sync_routes"}

# docs/design.md §5, as shared.config reads them. The emulator-only ones must never be deployed.
EMULATOR_ONLY = {"RUNWAY_API_ENDPOINT", "RUNWAY_API_PRINCIPAL"}
# Set per function (local.function_env), not in the environment the three share (local.runway_env).
PER_FUNCTION = {"RUNWAY_IDENTITY"}
DESIGN_ENV = set(VARIABLES) - EMULATOR_ONLY - PER_FUNCTION

# What each CloudEvent function is triggered by (one Eventarc trigger per function and method).
TRIGGER_METHODS = {"enforce_ingress": INGRESS_METHODS, "sync_routes": ROUTE_METHODS}

# The custom roles: shared.permissions.FUNCTIONS without actAs, which is the separate `act_as` role.
EXPECTED_PERMISSIONS = {name: set(permissions) - {ACT_AS} for name, permissions in FUNCTIONS.items()} | {
    "act_as": {ACT_AS}
}
ACTS_AS = {name for name, permissions in FUNCTIONS.items() if ACT_AS in permissions}

# Event-driven functions answer within Pub/Sub's push deadline; HTTP functions may run an hour.
MAX_EVENT_TIMEOUT, MAX_HTTP_TIMEOUT = 540, 3600

# Log severities in Cloud Logging's order.
SEVERITIES = ("DEFAULT", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY")
# runway's own failures: the only ERROR decisions, the only ones that page (docs/design.md §6).
OWN_FAILURES = {"api_error", "event_invalid"}
FINDINGS = {"route_conflict", "route_invalid", "route_unreachable", "budget_warning"}
URL_MAP_BUDGETS = set(usage({}, Limits()))

# Service account -> every (role, binding resource type) it may hold. "custom:X" is google_project_iam_custom_role.X.
PROJECT, SA_LEVEL, BUCKET, RUN_SERVICE = (
    "google_project_iam_member",
    "google_service_account_iam_member",
    "google_storage_bucket_iam_member",
    "google_cloud_run_v2_service_iam_member",
)
ORG, FOLDER = "google_organization_iam_member", "google_folder_iam_member"
LOG_WRITER = ("roles/logging.logWriter", PROJECT)
ACT_AS_BINDINGS = {("custom:act_as", PROJECT), ("custom:act_as", SA_LEVEL)}
# Organization mode: each function's organization role (`org:fn`, keyed by function) and act_as, at the scope.
SCOPE_BINDINGS = {(role, kind) for role in ("org:fn", "org:act_as") for kind in (ORG, FOLDER)}
EXPECTED_BINDINGS = {
    **{
        name: {(f"custom:{name}", PROJECT), LOG_WRITER, *(ACT_AS_BINDINGS if name in ACTS_AS else ()), *SCOPE_BINDINGS}
        for name in FUNCTIONS
    },
    "build": {LOG_WRITER, ("roles/artifactregistry.writer", PROJECT), ("roles/storage.objectViewer", BUCKET)},
    "trigger": {("roles/eventarc.eventReceiver", PROJECT), ("roles/run.invoker", RUN_SERVICE)},
    "scheduler": {("roles/run.invoker", RUN_SERVICE)},
}
# The one binding to a principal that is not ours: the default service's static 404 page, readable by anyone.
PUBLIC_BINDINGS = {("default_public", "allUsers", "roles/storage.legacyObjectReader")}
# The one binding to a Google-managed identity: organization mode's sink publishes to runway's topic as its writer.
SERVICE_AGENT_BINDINGS = {("sink_publisher", "${local.sink_writer_identity}", "roles/pubsub.publisher")}

# Deployed source: what the functions need, and what must never ship.
SOURCE_ROOTS = {"main.py", "requirements.txt", "functions", "shared"}
NEVER_DEPLOYED = {"tests", "infra", "emulator", "bench", "docs", "scripts", ".venv", ".venv-checkov", ".git"}


@cache
def tf() -> dict[str, list[Any]]:
    """All of infra/*.tf, top-level block lists concatenated across files."""
    merged: dict[str, list[Any]] = {}
    for path in TF_FILES:
        for key, blocks in hcl2.loads(path.read_text(), serialization_options=OPTIONS).items():
            merged.setdefault(key, []).extend(blocks)
    return merged


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {name: body for blk in tf().get("resource", []) for name, body in blk.get(kind, {}).items()}


def all_resources() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (kind, name, body) for blk in tf().get("resource", []) for kind, by in blk.items() for name, body in by.items()
    ]


@cache
def tf_locals() -> dict[str, Any]:
    return {k: v for blk in tf().get("locals", []) for k, v in blk.items()}


def variables() -> dict[str, dict[str, Any]]:
    return {name: body for blk in tf().get("variable", []) for name, body in blk.items()}


def expand_locals(value: Any) -> str:
    """`value` as text with every `local.NAME` replaced by that local's own text, to a fixed point."""
    text = json.dumps(value)
    for _ in range(5):
        expanded = re.sub(r"\blocal\.(\w+)", lambda m: json.dumps(tf_locals().get(m.group(1), m.group(0))), text)
        if expanded == text:
            break
        text = expanded
    return text


def role_of(role: str) -> str:
    custom = re.fullmatch(r"\$\{google_project_iam_custom_role\.(\w+)\.(?:id|name)\}", role)
    if custom:
        return f"custom:{custom.group(1)}"
    org = re.fullmatch(r'\$\{google_organization_iam_custom_role\.fn\[(each\.key|"(\w+)")\]\.id\}', role)
    if org:
        return f"org:{org.group(2) or 'fn'}"
    return role


def block(body: dict[str, Any], name: str) -> dict[str, Any]:
    """The single nested block `name` of `body`."""
    blocks = body[name]
    assert isinstance(blocks, list) and len(blocks) == 1, f"expected one {name} block, got {blocks!r}"
    return blocks[0]


def main_functions() -> dict[str, ast.FunctionDef]:
    assert MAIN.exists(), "main.py holds the entry points the functions are deployed with"
    tree = ast.parse(MAIN.read_text(), filename=str(MAIN))
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def test_infra_has_terraform_files() -> None:
    assert TF_FILES, "infra/*.tf is missing"


@pytest.mark.parametrize("path", TF_FILES, ids=lambda p: p.name)
def test_every_tf_file_parses(path: Path) -> None:
    assert isinstance(hcl2.loads(path.read_text(), serialization_options=OPTIONS), dict)


def test_provider_is_google_6() -> None:
    required = tf()["terraform"][0]["required_providers"][0]
    assert required["google"]["source"] == "hashicorp/google"
    assert required["google"]["version"] == "~> 6.0"


def local_list(reference: str) -> list[str]:
    """The list literal of the local named by `${local.NAME}`."""
    match = re.fullmatch(r"\$\{local\.(\w+)\}", reference)
    assert match, f"expected a reference to a local list, got {reference!r}"
    value = tf_locals()[match.group(1)]
    assert isinstance(value, list), f"local.{match.group(1)} must be a list literal"
    return value


def test_trigger_methods_per_function_are_the_codes() -> None:
    """enforce_ingress gets shared.methods.INGRESS_METHODS, sync_routes ROUTE_METHODS: nothing more, nothing less."""
    by_function = tf_locals()["trigger_methods"]
    assert set(by_function) == set(tf_locals()["event_functions"]) == CLOUDEVENT_ENTRY_POINTS
    for function, reference in by_function.items():
        methods = local_list(reference)
        assert len(methods) == len(set(methods)), f"duplicate method in {reference}"
        assert set(methods) == TRIGGER_METHODS[function], function
    assert tf_locals()["audit_event_type"] == EVENT_TYPE
    assert tf_locals()["audit_service_name"] == SERVICE_NAME
    triggers = tf_locals()["triggers"]
    assert "for function, methods in local.trigger_methods" in triggers
    assert "for method in methods" in triggers


def test_trigger_names_are_distinct_and_valid() -> None:
    """Names as locals.tf builds them (<prefix>-<short>-<v1|v2>-<verb>), with the longest name_prefix allowed."""
    triggers = tf_locals()["triggers"]
    template = '${var.name_prefix}-${local.functions[pair.function].short}-${split(".", pair.method)[3]}-'
    assert template + '${lower(split(".", pair.method)[5])}' in triggers
    shorts = {name: fn["short"] for name, fn in tf_locals()["functions"].items()}
    names = [
        f"{'p' * 16}-{shorts[function]}-{method.split('.')[3]}-{method.split('.')[5].lower()}"
        for function, methods in TRIGGER_METHODS.items()
        for method in methods
    ]
    assert len(names) == len(set(names))
    for name in names:
        assert re.fullmatch(r"[a-z][a-z0-9-]{0,62}", name), name


def test_one_global_trigger_per_method_and_function() -> None:
    trigger = resources("google_eventarc_trigger")["audit"]
    assert trigger["for_each"] == "${local.org_mode ? {} : local.triggers}"  # organization mode: org.tf instead
    assert trigger["location"] == "global"
    criteria = {c["attribute"]: c["value"] for c in trigger["matching_criteria"]}
    assert criteria == {
        "type": "${local.audit_event_type}",
        "serviceName": "${local.audit_service_name}",
        "methodName": "${each.value.method}",
    }
    run = block(block(trigger, "destination"), "cloud_run_service")
    assert run["service"] == "${google_cloudfunctions2_function.fn[each.value.function].name}"
    assert trigger["service_account"] == "${google_service_account.trigger.email}"


def test_functions_and_entry_points() -> None:
    (fn,) = resources("google_cloudfunctions2_function").values()
    assert fn["for_each"] == "${local.functions}"
    assert set(tf_locals()["functions"]) == ENTRY_POINTS
    build = block(fn, "build_config")
    assert build["runtime"] == "python311"
    assert build["entry_point"] == "${each.key}"
    service = block(fn, "service_config")
    assert service["ingress_settings"] == "ALLOW_INTERNAL_ONLY"
    assert service["service_account_email"] == "${each.value.sa_email}"
    # Retries come from the separate Eventarc triggers (eventarc.tf): no function-managed trigger.
    assert "event_trigger" not in fn


def test_entry_points_are_top_level_functions_of_main() -> None:
    missing = ENTRY_POINTS - set(main_functions())
    assert not missing, f"main.py lacks top-level functions {sorted(missing)} that infra deploys as entry points"


def test_cloudevent_entry_points_declare_their_signature() -> None:
    """Deployed without event_trigger, the CloudEvent functions get their signature type from the decorator."""
    functions = main_functions()
    for name in sorted(CLOUDEVENT_ENTRY_POINTS & set(functions)):
        decorators = {ast.unparse(d) for d in functions[name].decorator_list}
        assert decorators & {"functions_framework.cloud_event", "cloud_event"}, (
            f"main.{name} must be decorated with @functions_framework.cloud_event: infra deploys it with a separate"
            " Eventarc trigger, so the platform would otherwise call it with the HTTP signature"
        )


def test_function_environment_covers_the_configuration() -> None:
    env = tf_locals()["runway_env"]
    assert set(env) >= DESIGN_ENV, f"missing {sorted(DESIGN_ENV - set(env))}"
    (fn,) = resources("google_cloudfunctions2_function").values()
    assert block(fn, "service_config")["environment_variables"] == "${local.function_env[each.key]}"
    # Per function: runway's environment plus the server's one process and as many threads as concurrent requests.
    function_env = tf_locals()["function_env"]
    assert function_env.startswith("${{for name, fn in local.functions : name => merge(local.runway_env, {")
    added = dict(re.findall(r"(\w+) = ([^,}]+)", function_env.split("merge(local.runway_env, ", 1)[1]))
    assert added == {"RUNWAY_IDENTITY": "fn.sa_email", "WORKERS": '"1"', "THREADS": "tostring(fn.sizing.concurrency)"}
    assert set(added) & set(VARIABLES) == PER_FUNCTION
    for name, fn in tf_locals()["functions"].items():
        assert fn["sa_email"] == f"${{google_service_account.{name}.email}}"
    assert env["RUNWAY_URL_MAP"] == "${google_compute_url_map.https.name}"
    assert env["RUNWAY_SECURITY_POLICY"] == "${google_compute_security_policy.edge.name}"


def test_emulator_only_variables_are_never_deployed() -> None:
    env = tf_locals()["runway_env"]
    assert not EMULATOR_ONLY & set(env)
    text = json.dumps(tf())  # every value of every .tf file, comments excluded
    for name in sorted(EMULATOR_ONLY):
        assert name not in text, f"{name} is for the emulator only and must not appear in infra"


def rendered_env(values: dict[str, Any]) -> dict[str, str]:
    """The functions' environment as Terraform renders local.runway_env for these variable values."""
    var: dict[str, Any] = {name: values.get(name, body.get("default")) for name, body in variables().items()}

    def name_of(kind: str, name: str) -> str:
        return resources(kind)[name]["name"].replace("${var.name_prefix}", var["name_prefix"])

    return {
        "RUNWAY_URL_MAP": name_of("google_compute_url_map", "https"),
        "RUNWAY_PROJECT": var["project_id"],
        "RUNWAY_HOSTS": var["hosts_json"],
        "RUNWAY_SECURITY_POLICY": name_of("google_compute_security_policy", "edge"),
        "RUNWAY_EXEMPT": ",".join(var["exempt"]),
        "RUNWAY_OWNER_ID": var["owner_id"],
        "RUNWAY_REGIONS": ",".join(var["regions"] or [var["region"]]),
        "RUNWAY_DRY_RUN": str(var["dry_run"]).lower(),
        "RUNWAY_STATUS": var["route_status"],
        "RUNWAY_SCOPE": ",".join(var["scope"]) or var["project_id"],
        "RUNWAY_URL_MAP_MAX_BYTES": str(var["url_map_max_bytes"]),
        "RUNWAY_REPEAT_FINDINGS": var["repeat_findings"],
        "GOOGLE_CLOUD_PROJECT": var["project_id"],
    }


# What rendered_env assumes of each entry of local.runway_env (the resource names are checked above).
RENDERED_FROM = {
    "RUNWAY_PROJECT": "${var.project_id}",
    "RUNWAY_HOSTS": "${var.hosts_json}",
    "RUNWAY_EXEMPT": '${join(",", var.exempt)}',
    "RUNWAY_OWNER_ID": "${var.owner_id}",
    "RUNWAY_REGIONS": '${join(",", local.regions)}',
    "RUNWAY_DRY_RUN": "${tostring(var.dry_run)}",
    "RUNWAY_STATUS": "${var.route_status}",
    "RUNWAY_SCOPE": '${length(var.scope) > 0 ? join(",", var.scope) : var.project_id}',
    "RUNWAY_URL_MAP_MAX_BYTES": "${tostring(var.url_map_max_bytes)}",
    "RUNWAY_REPEAT_FINDINGS": "${var.repeat_findings}",
    "GOOGLE_CLOUD_PROJECT": "${var.project_id}",
}
# Values other than the example's and the defaults, each of which shared.config must accept.
OTHER_VALUES: dict[str, dict[str, Any]] = {
    "scope_folder": {
        "scope": ["folders/123456789012"],
        "organization_id": "42",
        "route_status": "off",
        "repeat_findings": "0",
    },
    "scope_projects": {"scope": ["team-a-prod", "team-b-prod"], "url_map_max_bytes": 1048576},
    "scope_organization": {"scope": ["organizations/42"], "repeat_findings": "90m", "url_map_max_bytes": 1024},
}


def test_rendered_env_follows_the_locals() -> None:
    env = tf_locals()["runway_env"]
    for name, expression in RENDERED_FROM.items():
        assert env[name] == expression, name
    assert tf_locals()["regions"] == "${length(var.regions) > 0 ? var.regions : [var.region]}"


def example_tfvars() -> dict[str, Any]:
    return hcl2.loads((INFRA / "terraform.tfvars.example").read_text(), serialization_options=OPTIONS)


@pytest.mark.parametrize("tfvars", ["example", "defaults", *OTHER_VALUES])
def test_rendered_configuration_is_valid_for_runway(tfvars: str) -> None:
    """The example values, the defaults and a few others give an environment shared.config accepts."""
    example = example_tfvars()
    required = {name: example[name] for name, body in variables().items() if "default" not in body}
    values = example if tfvars == "example" else {**required, **OTHER_VALUES.get(tfvars, {})}
    env = rendered_env(values)
    assert set(env) == set(tf_locals()["runway_env"])
    for function in sorted(ENTRY_POINTS):
        own = {**env, "RUNWAY_IDENTITY": account_email(values, function)}  # local.function_env's addition
        config = Config.from_env(own)  # raises ConfigError naming every bad variable
        assert config.url_map_max_bytes == int(env["RUNWAY_URL_MAP_MAX_BYTES"])
        assert config.own_identity == own["RUNWAY_IDENTITY"]
        scope = values.get("scope") or []
        if len(scope) == 1 and scope[0].startswith(("organizations/", "folders/")):
            assert config.effective_scope().parent == scope[0]  # organization mode
        else:
            assert config.effective_scope().projects == tuple(scope or [values["project_id"]])


def account_email(values: dict[str, Any], function: str) -> str:
    """The email of a function's service account for these variable values."""
    prefix = values.get("name_prefix", variables()["name_prefix"]["default"])
    account_id = resources("google_service_account")[function]["account_id"].replace("${var.name_prefix}", prefix)
    return f"{account_id}@{values['project_id']}.iam.gserviceaccount.com"


def test_configuration_defaults_are_runways() -> None:
    """Left at their defaults, the new settings deploy what runway would assume unset (docs/design.md §5)."""
    example = example_tfvars()
    required = {name: example[name] for name, body in variables().items() if "default" not in body}
    deployed = Config.from_env(rendered_env(required))
    unset = Config.from_env({"RUNWAY_PROJECT": required["project_id"]})
    assert deployed.status == unset.status
    assert deployed.url_map_max_bytes == unset.url_map_max_bytes
    assert deployed.repeat_findings == unset.repeat_findings
    assert deployed.effective_scope() == unset.effective_scope()


def validation_regex(variable: str) -> str:
    (pattern,) = re.findall(r'regex\("([^"]+)"', variables()[variable]["validation"][0]["condition"])
    return pattern.replace("\\\\", "\\")


@pytest.mark.parametrize("value", ["24h", "90m", "2d", "30s", "0", "0h", "10", "999999h", "1.5h", "-1h", "24H", "1w"])
def test_repeat_findings_validation_agrees_with_runway(value: str) -> None:
    terraform_accepts = re.fullmatch(validation_regex("repeat_findings"), value) is not None
    try:
        Config.from_env({"RUNWAY_REPEAT_FINDINGS": value})
        runway_accepts = True
    except ConfigError:
        runway_accepts = False
    assert terraform_accepts == runway_accepts, value


def test_url_map_leaves_runway_rules_alone() -> None:
    url_map = resources("google_compute_url_map")["https"]
    assert {"host_rule", "path_matcher"} <= set(block(url_map, "lifecycle")["ignore_changes"])
    assert url_map["default_service"] == "${google_compute_backend_bucket.default.id}"


def test_load_balancer_is_global_external_managed() -> None:
    rules = resources("google_compute_global_forwarding_rule")
    assert {r["port_range"] for r in rules.values()} == {"443", "80"}
    assert {r["load_balancing_scheme"] for r in rules.values()} == {"EXTERNAL_MANAGED"}


def test_security_policy_has_waf_rate_ban_and_default_allow() -> None:
    policy = resources("google_compute_security_policy")["edge"]
    assert policy["type"] == "CLOUD_ARMOR"
    rules = {r["priority"]: r for r in policy["rule"]}
    expressions = " ".join(json.dumps(r["match"]) for r in rules.values())
    for ruleset in ("sqli-v33-stable", "xss-v33-stable", "cve-canary"):
        assert f"evaluatePreconfiguredWaf('{ruleset}'" in expressions
    assert any(r["action"] == "rate_based_ban" for r in rules.values())
    assert rules[2147483647]["action"] == "allow"


def test_scheduler_invokes_reconcile_all_with_oidc() -> None:
    (job,) = resources("google_cloud_scheduler_job").values()
    target = block(job, "http_target")
    uri = '${google_cloudfunctions2_function.fn["reconcile_all"].service_config[0].uri}'
    assert target["uri"] == uri
    token = block(target, "oidc_token")
    assert token == {"service_account_email": "${google_service_account.scheduler.email}", "audience": uri}


def test_custom_roles_hold_exactly_the_code_permissions() -> None:
    """Each custom role is shared.permissions.FUNCTIONS[function] without actAs; act_as is actAs alone."""
    roles = resources("google_project_iam_custom_role")
    assert set(roles) == set(EXPECTED_PERMISSIONS)
    readme = (INFRA / "README.md").read_text()
    for name, role in roles.items():
        permissions = role["permissions"]
        assert len(permissions) == len(set(permissions)), f"duplicate permission in role {name}"
        assert set(permissions) == EXPECTED_PERMISSIONS[name], name
        undocumented = [p for p in permissions if f"`{p}`" not in readme]
        assert not undocumented, f"infra/README.md does not document {undocumented}"


def readme_permission_table() -> dict[str, set[str]]:
    """infra/README.md's "Permissions, call by call": function -> every permission of a row ticked for it."""
    lines = (INFRA / "README.md").read_text().splitlines()
    header = "| API call | permission | enforce_ingress | sync_routes | reconcile_all |"
    start = lines.index(header)
    columns = [c.strip() for c in header.strip("|").split("|")][2:]
    table: dict[str, set[str]] = {column: set() for column in columns}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        permission = re.match(r"`([a-zA-Z]+(?:\.[a-zA-Z]+)+)`", cells[-4])
        assert permission, f"no permission in the README row {line!r}"
        for column, mark in zip(columns, cells[-3:], strict=True):
            if mark == "✓":
                table[column].add(permission.group(1))
    return table


def test_readme_permission_table_is_the_codes() -> None:
    """One row per call; the ticks per function add up to exactly shared.permissions.FUNCTIONS."""
    assert readme_permission_table() == {name: set(permissions) for name, permissions in FUNCTIONS.items()}


def test_act_as_is_bound_to_every_function_that_updates_services() -> None:
    principals = tf_locals()["act_as_principals"]
    assert set(principals) == ACTS_AS
    for name, email in principals.items():
        assert email == f"${{google_service_account.{name}.email}}"


def test_service_accounts_are_bound_only_to_their_roles() -> None:
    kinds = {kind for kind, _, _ in all_resources()}
    authoritative = sorted(k for k in kinds if k.endswith(("_iam_binding", "_iam_policy")))
    assert not authoritative, f"authoritative IAM resources would drop others' grants: {authoritative}"

    granted: dict[str, set[tuple[str, str]]] = {sa: set() for sa in resources("google_service_account")}
    for kind, name, body in all_resources():
        if not kind.endswith("_iam_member"):
            continue
        role = role_of(body["role"])
        accounts = set(
            re.findall(r"\bgoogle_service_account\.(\w+)\b", expand_locals([body["member"], body.get("for_each")]))
        )
        if not accounts:
            allowed = PUBLIC_BINDINGS | SERVICE_AGENT_BINDINGS
            assert (name, body["member"], role) in allowed, f"{kind}.{name} grants {role} to {body['member']}"
            continue
        for account in accounts:
            granted[account].add((role, kind))
    assert granted == EXPECTED_BINDINGS


def test_invoker_bindings_target_only_their_functions() -> None:
    invokers = resources(RUN_SERVICE)
    assert invokers["trigger_invoker"]["for_each"] == "${toset(local.event_functions)}"
    assert invokers["trigger_invoker"]["name"] == "${google_cloudfunctions2_function.fn[each.key].name}"
    assert invokers["scheduler_invoker"]["name"] == '${google_cloudfunctions2_function.fn["reconcile_all"].name}'


def test_every_variable_is_described_and_validated() -> None:
    for name, var in variables().items():
        assert str(var.get("description", "")).strip(), f"variable {name} has no description"
        if var.get("type") != "bool":
            assert var.get("validation"), f"variable {name} has no validation block"


def filter_matches(query: str, entry: dict[str, str]) -> bool:
    """Whether a Cloud Logging query of the subset infra uses (comparisons joined by AND) matches a flat entry.

    Comparisons: `field="v"`, `field=("v1" OR "v2")`, `field:*` (presence) and `severity>=LEVEL`. Anything else
    fails the test, so a new kind of filter gets this evaluator extended rather than silently unchecked.
    """
    query = query.replace('\\"', '"')
    query = re.sub(r"\$\{local\.(\w+)\}", lambda m: tf_locals()[m.group(1)], query)
    for comparison in query.split(" AND "):
        comparison = comparison.strip()
        if match := re.fullmatch(r'([\w.]+)="([^"]*)"', comparison):
            ok = entry.get(match[1]) == match[2]
        elif match := re.fullmatch(r"([\w.]+)=\(((?:\"[^\"]*\"(?: OR )?)+)\)", comparison):
            ok = entry.get(match[1]) in re.findall(r'"([^"]*)"', match[2])
        elif match := re.fullmatch(r"([\w.]+):\*", comparison):
            ok = match[1] in entry
        elif match := re.fullmatch(r"severity>=([A-Z]+)", comparison):
            ok = SEVERITIES.index(entry["severity"]) >= SEVERITIES.index(match[1])
        else:
            raise AssertionError(f"filter_matches does not know the comparison {comparison!r}")
        if not ok:
            return False
    return True


def decision_entry(action: str) -> dict[str, str]:
    """The fields of a decision's log entry that the metric filters look at (shared.decision_log)."""
    return {
        "resource.type": "cloud_run_revision",
        "jsonPayload.component": COMPONENT,
        "jsonPayload.action": action,
        "severity": ACTIONS[action],
    }


def counted_actions(query: str) -> set[str]:
    return {action for action in ACTIONS if filter_matches(query, decision_entry(action))}


def test_filter_evaluator_refuses_what_it_does_not_know() -> None:
    assert filter_matches('jsonPayload.action=("a" OR "b")', {"jsonPayload.action": "b"})
    assert not filter_matches("jsonPayload.action:*", {})
    with pytest.raises(AssertionError):
        filter_matches('jsonPayload.action=~"route_.*"', decision_entry("route_conflict"))


def test_decision_log_severities_are_as_the_alert_assumes() -> None:
    """ERROR is runway's own failure only; the findings are WARNING (docs/design.md §6)."""
    errors = {action for action, severity in ACTIONS.items() if SEVERITIES.index(severity) >= SEVERITIES.index("ERROR")}
    assert errors == OWN_FAILURES
    assert {ACTIONS[action] for action in FINDINGS} == {"WARNING"}


def test_log_metrics_count_every_action() -> None:
    assert f'jsonPayload.component="{COMPONENT}"' in tf_locals()["decision_filter"]
    metrics = tf_locals()["decision_metrics"]
    for name, metric in metrics.items():
        assert metric["filter"].startswith("${local.decision_filter} AND "), name
        assert counted_actions(metric["filter"]), f"metric {name} counts no decision"
    # One counter sees every action of shared.decision_log, whatever it is.
    assert counted_actions(metrics["decisions"]["filter"]) == set(ACTIONS)
    assert set(metrics["decisions"]["labels"]) == {"action", "function"}
    # The per-action counters, the new actions included.
    per_action = {
        "ingress_remediations": "ingress_remediated",
        "routes_registered": "route_registered",
        "routes_removed": "route_removed",
        "route_conflicts": "route_conflict",
        "routes_invalid": "route_invalid",
        "routes_unreachable": "route_unreachable",
        "budget_warnings": "budget_warning",
        "sweeps": "sweep_summary",
    }
    for name, action in per_action.items():
        assert counted_actions(metrics[name]["filter"]) == {action}, name
    assert set(metrics) == {"decisions", "errors", *per_action}


def test_log_metric_labels_are_extracted() -> None:
    labels = tf_locals()["metric_labels"]
    for name, metric in tf_locals()["decision_metrics"].items():
        assert "action" in metric["labels"], name
        assert set(metric["labels"]) <= set(labels), name
    for name, label in labels.items():
        assert label["extractor"] == f"EXTRACT(jsonPayload.{name})"
    (metric,) = [m for n, m in resources("google_logging_metric").items() if n == "decision"]
    assert metric["for_each"] == "${local.decision_metrics}"
    assert (
        metric["label_extractors"]
        == "${{for label in each.value.labels : label => local.metric_labels[label].extractor}}"
    )
    # Every field a label extracts is one the decision log writes.
    budget_fields = set(REQUIRED_FIELDS["budget_warning"])
    assert "budget" in budget_fields and "fraction" in budget_fields


def test_alert_fires_on_runways_own_failures_only() -> None:
    metrics = tf_locals()["decision_metrics"]
    assert metrics["errors"]["filter"] == "${local.decision_filter} AND severity>=ERROR"
    assert counted_actions(metrics["errors"]["filter"]) == OWN_FAILURES
    assert not counted_actions(metrics["errors"]["filter"]) & FINDINGS
    (alert,) = resources("google_monitoring_alert_policy").values()
    (condition,) = [c["condition_threshold"][0] for c in alert["conditions"]]
    assert 'logging.googleapis.com/user/${google_logging_metric.decision["errors"].name}' in condition["filter"]
    assert "logging.googleapis.com/user/" in condition["filter"]
    assert condition["filter"].count("metric.type=") == 1
    documentation = block(alert, "documentation")["content"]
    for action in OWN_FAILURES:
        assert f"`{action}`" in documentation


def test_url_map_budgets_have_gauges() -> None:
    """A distribution of the fraction used per budget from sweep_summary, and one from budget_warning."""
    assert set(tf_locals()["url_map_budgets"]) == URL_MAP_BUDGETS
    metrics = resources("google_logging_metric")
    per_budget = metrics["url_map_budget"]
    assert per_budget["for_each"] == "${toset(local.url_map_budgets)}"
    assert counted_actions(per_budget["filter"]) == {"sweep_summary"}
    assert per_budget["value_extractor"] == "EXTRACT(jsonPayload.budgets.${each.key}.fraction)"
    assert set(REQUIRED_FIELDS["sweep_summary"]) >= {"budgets"}
    warning = metrics["budget_fraction"]
    assert counted_actions(warning["filter"]) == {"budget_warning"}
    assert warning["value_extractor"] == "EXTRACT(jsonPayload.fraction)"
    assert set(warning["label_extractors"]) == {"budget"}
    for metric in (per_budget, warning):
        descriptor = block(metric, "metric_descriptor")
        assert (descriptor["metric_kind"], descriptor["value_type"]) == ("DELTA", "DISTRIBUTION")
        buckets = block(block(metric, "bucket_options"), "linear_buckets")
        top = buckets["offset"] + buckets["num_finite_buckets"] * buckets["width"]
        assert buckets["offset"] == 0 and top >= 1.2
        assert abs(0.8 / buckets["width"] - round(0.8 / buckets["width"])) < 1e-9, "80 % on a bucket bound"


def sizing(function: str) -> dict[str, Any]:
    """The default sizing of a function: the optional() defaults of var.<function>_sizing's object type."""
    variable = variables()[f"{function}_sizing"]
    assert variable["default"] == {}, "every field's default lives in the type, so a caller may set only some"
    fields = re.findall(r'(\w+) = optional\((number|string), ("[^"]*"|[0-9.]+)\)', variable["type"])
    values = {name: value.strip('"') if kind == "string" else float(value) for name, kind, value in fields}
    assert set(values) == {"max_instances", "concurrency", "cpu", "memory", "timeout_seconds"}, function
    return values


def test_functions_take_their_sizing_from_variables() -> None:
    for name, fn in tf_locals()["functions"].items():
        assert fn["sizing"] == f"${{var.{name}_sizing}}"
    (fn,) = resources("google_cloudfunctions2_function").values()
    service = block(fn, "service_config")
    assert service["available_cpu"] == "${each.value.sizing.cpu}"
    assert service["available_memory"] == "${each.value.sizing.memory}"
    assert service["max_instance_request_concurrency"] == "${each.value.sizing.concurrency}"
    assert service["max_instance_count"] == "${each.value.sizing.max_instances}"
    assert service["timeout_seconds"] == "${each.value.sizing.timeout_seconds}"


@pytest.mark.parametrize("function", sorted(ENTRY_POINTS))
def test_default_sizing_is_deployable(function: str) -> None:
    size = sizing(function)
    assert size["max_instances"] >= 1 and size["concurrency"] >= 1
    if size["concurrency"] > 1:
        assert float(size["cpu"]) >= 1, "more than one concurrent request per instance needs at least 1 vCPU"
    assert re.fullmatch(r"[1-9][0-9]*(Mi|Gi)", size["memory"])
    limit = MAX_EVENT_TIMEOUT if function in CLOUDEVENT_ENTRY_POINTS else MAX_HTTP_TIMEOUT
    assert 60 <= size["timeout_seconds"] <= limit
    # The variable's own validation carries the same limits, so an override cannot break them either.
    condition = variables()[f"{function}_sizing"]["validation"][0]["condition"]
    assert f"var.{function}_sizing.timeout_seconds <= {limit}" in condition
    assert f"(var.{function}_sizing.concurrency == 1 || try(tonumber(var.{function}_sizing.cpu) >= 1, false))" in (
        condition
    )


def test_sizing_serves_the_code() -> None:
    sync, enforce, sweep = sizing("sync_routes"), sizing("enforce_ingress"), sizing("reconcile_all")
    # One URL-map writer per instance commits the claims of all its concurrent requests: few instances, many each.
    assert sync["concurrency"] > 1 and sync["max_instances"] <= 2 and sync["concurrency"] >= 10 * sync["max_instances"]
    # enforce_ingress waits for a rollout to settle, then reads and updates: its timeout must outlast the wait.
    assert enforce["timeout_seconds"] > SETTLE_TIMEOUT + 60
    # One sweep at a time, its own threads (shared.flow_sweep.CONCURRENCY) on a whole vCPU.
    assert (sweep["max_instances"], sweep["concurrency"]) == (1, 1)
    assert SWEEP_CONCURRENCY > 1 and float(sweep["cpu"]) >= 1
    # Cloud Scheduler waits at most 30 minutes for an HTTP target.
    (job,) = resources("google_cloud_scheduler_job").values()
    assert job["attempt_deadline"] == "${min(local.functions.reconcile_all.sizing.timeout_seconds + 60, 1800)}s"


def test_readme_sizing_table_is_the_defaults() -> None:
    readme = (INFRA / "README.md").read_text()
    for function in sorted(ENTRY_POINTS):
        size = sizing(function)
        pattern = rf"^\| `{function}` \| (\d+) \u00d7 (\d+) \|[^|]*\| ([\d.]+) \| (\w+) \| (\d+) s \|$"
        row = re.search(pattern, readme, re.M)
        assert row, f"infra/README.md has no Sizing row for {function}"
        documented = (float(row[1]), float(row[2]), row[3], row[4], float(row[5]))
        expected = (size["max_instances"], size["concurrency"], size["cpu"], size["memory"], size["timeout_seconds"])
        assert documented == expected, function


def test_deployed_source_is_the_allowlist() -> None:
    globs = tf_locals()["source_globs"]
    assert {g.removesuffix("/**") for g in globs} == SOURCE_ROOTS

    rules = [line.strip() for line in (ROOT / ".gcloudignore").read_text().splitlines()]
    rules = [r for r in rules if r and not r.startswith("#")]
    assert rules[0] == "/*", ".gcloudignore must start by ignoring every top-level entry"
    kept = {r.removeprefix("!/").rstrip("/") for r in rules if r.startswith("!")}
    assert kept == SOURCE_ROOTS, "infra/source.tf and .gcloudignore must keep the same files"
    assert not kept & NEVER_DEPLOYED
    for root in SOURCE_ROOTS - {"main.py"}:
        assert (ROOT / root).exists(), f"{root} is deployed but missing"


def test_checkov_skips_carry_a_reason() -> None:
    for path in TF_FILES:
        for line in path.read_text().splitlines():
            if "checkov:skip" not in line:
                continue
            skip = re.fullmatch(r"\s*#checkov:skip=(CKV2?_[A-Z]+_\d+):(.{20,})", line)
            assert skip, f"{path.name}: a checkov skip needs the form #checkov:skip=CKV_ID:<reason>: {line.strip()}"


# --- organization mode (org.tf) ------------------------------------------------------------------------------

ORG_TF = INFRA / "org.tf"
SINK_FILTER = (
    '${join(" AND ", ["log_id(\\"cloudaudit.googleapis.com/activity\\")", '
    '"protoPayload.serviceName=\\"${local.audit_service_name}\\"", '
    '"protoPayload.methodName=(${join(" OR ", formatlist("\\"%s\\"", local.sink_methods))})"])}'
)
TOPIC_ID = "${google_pubsub_topic.run_audit[0].id}"


def org_resources() -> list[tuple[str, str, dict[str, Any]]]:
    parsed = hcl2.loads(ORG_TF.read_text(), serialization_options=OPTIONS)
    return [(kind, name, body) for blk in parsed["resource"] for kind, by in blk.items() for name, body in by.items()]


def org_mode_of(scope: list[str]) -> tuple[bool, bool]:
    """(local.org_scope, local.folder_scope) for a value of var.scope, as their expressions (checked below) say."""
    one = len(scope) == 1
    return one and re.search("^organizations/", scope[0]) is not None, one and re.search(
        "^folders/", scope[0]
    ) is not None


def rendered_sink_filter() -> str:
    """local.sink_filter as Terraform renders it (its expression is pinned in the test below)."""
    methods = sorted(set(local_list("${local.ingress_methods}")) | set(local_list("${local.route_methods}")))
    quoted = " OR ".join(f'"{m}"' for m in methods)
    return " AND ".join(
        [
            'log_id("cloudaudit.googleapis.com/activity")',
            f'protoPayload.serviceName="{tf_locals()["audit_service_name"]}"',
            f"protoPayload.methodName=({quoted})",
        ]
    )


def audit_entry(method: str, service: str = SERVICE_NAME, log: str = "activity") -> dict[str, Any]:
    return {
        "logName": f"projects/team-a/logs/cloudaudit.googleapis.com%2F{log}",
        "timestamp": "2026-01-01T00:00:00Z",
        "protoPayload": {"serviceName": service, "methodName": method},
    }


def test_organization_mode_is_the_scope_and_excludes_the_audit_triggers() -> None:
    """An organization or folder in var.scope switches org.tf on and the per-project audit-log triggers off."""
    assert tf_locals()["org_scope"] == '${length(var.scope) == 1 && can(regex("^organizations/", var.scope[0]))}'
    assert tf_locals()["folder_scope"] == '${length(var.scope) == 1 && can(regex("^folders/", var.scope[0]))}'
    assert tf_locals()["org_mode"] == "${local.org_scope || local.folder_scope}"
    scope_regex = validation_regex_of("scope")
    for scope, expected in (
        ([], (False, False)),
        (["team-a-prod", "team-b-prod"], (False, False)),
        (["organizations/42"], (True, False)),
        (["folders/4242"], (False, True)),
    ):
        assert org_mode_of(scope) == expected
        assert all(any(re.fullmatch(r, s) for r in scope_regex) for s in scope)
    assert resources("google_eventarc_trigger")["audit"]["for_each"] == "${local.org_mode ? {} : local.triggers}"
    # Every resource of org.tf exists in organization mode only.
    for kind, name, body in org_resources():
        gate = str(body.get("count") or body.get("for_each"))
        assert re.match(r"\$\{local\.(org_mode|org_scope|folder_scope)[ ?&]", gate), (
            f"{kind}.{name} is not gated: {gate}"
        )


def validation_regex_of(variable: str) -> list[str]:
    return [
        p.replace("\\\\", "\\")
        for p in re.findall(r'regex\("([^"]+)"', variables()[variable]["validation"][0]["condition"])
    ]


def test_sink_routes_exactly_the_handled_methods() -> None:
    """The aggregated sink's filter, evaluated by the emulator's Cloud Logging query evaluator, lets through the
    Admin Activity entries of Cloud Run's handled methods (shared.methods.HANDLED_METHODS) and nothing else."""
    from emulator.logging.query import compile_filter

    assert tf_locals()["sink_methods"] == "${sort(distinct(concat(local.ingress_methods, local.route_methods)))}"
    assert tf_locals()["sink_filter"] == SINK_FILTER
    methods = re.findall(r'"(google\.cloud\.run\.[^"]+)"', rendered_sink_filter())
    assert set(methods) == HANDLED_METHODS and len(methods) == len(HANDLED_METHODS)
    matches = compile_filter(rendered_sink_filter())
    for method in sorted(HANDLED_METHODS):
        assert matches(audit_entry(method)), method
    assert not matches(audit_entry("google.cloud.run.v2.Jobs.CreateJob"))
    assert not matches(audit_entry("google.cloud.run.v2.Services.CreateService", service="compute.googleapis.com"))
    assert not matches(audit_entry("google.cloud.run.v2.Services.CreateService", log="data_access"))
    org_sink = resources("google_logging_organization_sink")["run_audit"]
    folder_sink = resources("google_logging_folder_sink")["run_audit"]
    for sink in (org_sink, folder_sink):
        assert sink["filter"] == "${local.sink_filter}"
        assert sink["include_children"] is True
        assert sink["destination"] == f"pubsub.googleapis.com/{TOPIC_ID}"
    assert org_sink["org_id"] == "${local.organization_id}" and org_sink["count"] == "${local.org_scope ? 1 : 0}"
    assert folder_sink["folder"] == "${var.scope[0]}" and folder_sink["count"] == "${local.folder_scope ? 1 : 0}"


def test_sink_writer_identity_may_publish_to_the_topic() -> None:
    binding = resources("google_pubsub_topic_iam_member")["sink_publisher"]
    assert binding["member"] == "${local.sink_writer_identity}"
    assert binding["role"] == "roles/pubsub.publisher"
    assert binding["topic"] == "${google_pubsub_topic.run_audit[0].name}"
    assert tf_locals()["sink_writer_identity"] == (
        "${one(concat(google_logging_organization_sink.run_audit[*].writer_identity, "
        "google_logging_folder_sink.run_audit[*].writer_identity))}"
    )
    topic = resources("google_pubsub_topic")["run_audit"]
    assert topic["project"] == "${var.project_id}" and topic["count"] == "${local.org_mode ? 1 : 0}"


def test_pubsub_triggers_feed_the_two_event_functions_from_the_topic() -> None:
    trigger = resources("google_eventarc_trigger")["pubsub"]
    assert trigger["for_each"] == "${local.org_mode ? toset(local.event_functions) : toset([])}"
    assert set(tf_locals()["event_functions"]) == CLOUDEVENT_ENTRY_POINTS
    assert {c["attribute"]: c["value"] for c in trigger["matching_criteria"]} == {"type": "${local.pubsub_event_type}"}
    assert tf_locals()["pubsub_event_type"] == PUBSUB_EVENT_TYPE
    assert block(block(trigger, "transport"), "pubsub") == {"topic": TOPIC_ID}
    run = block(block(trigger, "destination"), "cloud_run_service")
    assert run == {"service": "${google_cloudfunctions2_function.fn[each.key].name}", "region": "${var.region}"}
    assert trigger["location"] == "${var.region}"  # Pub/Sub triggers are regional
    assert trigger["service_account"] == "${google_service_account.trigger.email}"
    assert trigger["name"] == "${var.name_prefix}-${local.functions[each.key].short}-pubsub"
    shorts = {tf_locals()["functions"][f]["short"] for f in CLOUDEVENT_ENTRY_POINTS}
    assert len(shorts) == len(CLOUDEVENT_ENTRY_POINTS)
    for short in shorts:
        assert re.fullmatch(r"[a-z][a-z0-9-]{0,62}", f"{'p' * 16}-{short}-pubsub")


def test_organization_roles_are_the_permission_table() -> None:
    """Each organization role is the function's project role plus shared.permissions.SCOPE; act_as is actAs."""
    scope_permissions = tf_locals()["scope_permissions"]
    assert {name: set(perms) for name, perms in scope_permissions.items()} == {n: set(p) for n, p in SCOPE.items()}
    org_roles = tf_locals()["org_roles"]
    assert set(org_roles) == set(FUNCTIONS) | {"act_as"}
    project_roles = resources("google_project_iam_custom_role")
    for name in FUNCTIONS:
        assert org_roles[name] == (
            f"${{sort(distinct(concat(google_project_iam_custom_role.{name}.permissions, "
            f"local.scope_permissions.{name})))}}"
        )
        granted = set(project_roles[name]["permissions"]) | set(scope_permissions[name])
        assert granted == (set(FUNCTIONS[name]) - {ACT_AS}) | set(SCOPE[name]), name
    assert org_roles["act_as"] == "${google_project_iam_custom_role.act_as.permissions}"
    role = resources("google_organization_iam_custom_role")["fn"]
    assert role["for_each"] == "${local.org_mode ? local.org_roles : {}}"
    assert (role["org_id"], role["permissions"]) == ("${local.organization_id}", "${each.value}")
    assert role["role_id"] == '${replace(var.name_prefix, "-", "_")}_${each.key}'
    assert tf_locals()["organization_id"] == (
        '${local.org_scope ? trimprefix(var.scope[0], "organizations/") : var.organization_id}'
    )
    readme = (INFRA / "README.md").read_text()
    for permission in sorted(set().union(*SCOPE.values())):
        assert f"`{permission}`" in readme, f"infra/README.md does not document {permission}"
    assert "`roles/compute.loadBalancerServiceUser`" in readme


def test_organization_bindings_give_each_function_its_own_role_at_the_scope() -> None:
    assert tf_locals()["function_accounts"] == "${{for name, fn in local.functions : name => fn.sa_email}}"
    for kind, gate, node in (
        (ORG, "org_scope", ("org_id", "${local.organization_id}")),
        (FOLDER, "folder_scope", ("folder", "${var.scope[0]}")),
    ):
        own, act_as = resources(kind)["fn"], resources(kind)["act_as"]
        assert own["for_each"] == f"${{local.{gate} ? local.function_accounts : {{}}}}"
        assert own["role"] == "${google_organization_iam_custom_role.fn[each.key].id}"
        assert act_as["for_each"] == (
            f"${{local.{gate} && length(var.act_as_service_accounts) == 0 ? local.act_as_principals : {{}}}}"
        )
        assert act_as["role"] == '${google_organization_iam_custom_role.fn["act_as"].id}'
        for binding in (own, act_as):
            assert binding["member"] == "serviceAccount:${each.value}"
            assert binding[node[0]] == node[1]


def test_service_projects_get_the_same_cloud_armor_policy() -> None:
    """runway attaches RUNWAY_SECURITY_POLICY of the backend service's own project: each service project gets a
    copy of edge, same name, same rules."""
    policies = resources("google_compute_security_policy")
    edge, copies = policies["edge"], policies["service_project"]
    assert copies["for_each"] == "${toset(var.service_projects)}" and copies["project"] == "${each.key}"
    assert copies["name"] == edge["name"]
    for field in ("description", "type", "rule", "advanced_options_config"):
        assert copies[field] == edge[field], field

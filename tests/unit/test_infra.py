"""Static checks of infra/, the Terraform that deploys runway, without a Terraform binary.

Every `.tf` file is parsed with python-hcl2 (8.x: blocks are lists of dicts, expressions are strings wrapped in
`${...}`; with `strip_string_quotes` plain strings lose their quotes). The checks hold the configuration to the
code it deploys (trigger methods, entry points, configuration names) and to its security contract (who is bound
to what, exact custom-role permissions, what ships in the source archive).
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

from shared.config import VARIABLES, Config
from shared.decision_log import ACTIONS, COMPONENT
from shared.methods import EVENT_TYPE, HANDLED_METHODS, SERVICE_NAME

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
MAIN = ROOT / "main.py"
TF_FILES = sorted(INFRA.glob("*.tf"))
OPTIONS = SerializationOptions(with_comments=False, explicit_blocks=False, strip_string_quotes=True)

ENTRY_POINTS = {"enforce_ingress", "sync_routes", "reconcile_all"}
CLOUDEVENT_ENTRY_POINTS = {"enforce_ingress", "sync_routes"}

# docs/design.md §5, as shared.config reads them. RUNWAY_API_ENDPOINT (emulator only) must never be deployed.
EMULATOR_ONLY = "RUNWAY_API_ENDPOINT"
DESIGN_ENV = set(VARIABLES) - {EMULATOR_ONLY}

# The documented permission sets (infra/README.md, "Permissions, call by call").
ENFORCE_PERMISSIONS = {"run.services.get", "run.services.update"}
SYNC_PERMISSIONS = {
    "run.services.get",
    "compute.regionNetworkEndpointGroups.create",
    "compute.regionNetworkEndpointGroups.delete",
    "compute.regionNetworkEndpointGroups.get",
    "compute.regionNetworkEndpointGroups.use",
    "compute.regionOperations.get",
    "compute.backendServices.create",
    "compute.backendServices.delete",
    "compute.backendServices.get",
    "compute.backendServices.update",
    "compute.backendServices.use",
    "compute.backendServices.setSecurityPolicy",
    "compute.securityPolicies.use",
    "compute.globalOperations.get",
    "compute.urlMaps.get",
    "compute.urlMaps.update",
    "compute.backendServices.list",
    "compute.securityPolicies.get",
}
SWEEP_PERMISSIONS = {"run.services.list", "compute.regionNetworkEndpointGroups.list"}
EXPECTED_PERMISSIONS = {
    "enforce_ingress": ENFORCE_PERMISSIONS,
    "sync_routes": SYNC_PERMISSIONS,
    "reconcile_all": ENFORCE_PERMISSIONS | SYNC_PERMISSIONS | SWEEP_PERMISSIONS,
    "act_as": {"iam.serviceAccounts.actAs"},
}

# Service account -> every (role, binding resource type) it may hold. "custom:X" is google_project_iam_custom_role.X.
PROJECT, SA_LEVEL, BUCKET, RUN_SERVICE = (
    "google_project_iam_member",
    "google_service_account_iam_member",
    "google_storage_bucket_iam_member",
    "google_cloud_run_v2_service_iam_member",
)
LOG_WRITER = ("roles/logging.logWriter", PROJECT)
ACT_AS = {("custom:act_as", PROJECT), ("custom:act_as", SA_LEVEL)}
EXPECTED_BINDINGS = {
    "enforce_ingress": {("custom:enforce_ingress", PROJECT), LOG_WRITER, *ACT_AS},
    "sync_routes": {("custom:sync_routes", PROJECT), LOG_WRITER},
    "reconcile_all": {("custom:reconcile_all", PROJECT), LOG_WRITER, *ACT_AS},
    "build": {LOG_WRITER, ("roles/artifactregistry.writer", PROJECT), ("roles/storage.objectViewer", BUCKET)},
    "trigger": {("roles/eventarc.eventReceiver", PROJECT), ("roles/run.invoker", RUN_SERVICE)},
    "scheduler": {("roles/run.invoker", RUN_SERVICE)},
}
# The one binding to a principal that is not ours: the default service's static 404 page, readable by anyone.
PUBLIC_BINDINGS = {("default_public", "allUsers", "roles/storage.legacyObjectReader")}

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
    return f"custom:{custom.group(1)}" if custom else role


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


def test_trigger_methods_are_the_handled_methods() -> None:
    methods = tf_locals()["audit_methods"]
    assert len(methods) == len(set(methods)), "duplicate method in local.audit_methods"
    assert set(methods) == HANDLED_METHODS
    assert tf_locals()["audit_event_type"] == EVENT_TYPE
    assert tf_locals()["audit_service_name"] == SERVICE_NAME
    assert set(tf_locals()["event_functions"]) == CLOUDEVENT_ENTRY_POINTS
    assert "setproduct(local.event_functions, local.audit_methods)" in tf_locals()["triggers"]


def test_one_global_trigger_per_method_and_function() -> None:
    (trigger,) = resources("google_eventarc_trigger").values()
    assert trigger["for_each"] == "${local.triggers}"
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
    assert EMULATOR_ONLY not in env, "the emulator endpoint must never be deployed"
    (fn,) = resources("google_cloudfunctions2_function").values()
    assert block(fn, "service_config")["environment_variables"] == "${local.runway_env}"
    assert env["RUNWAY_URL_MAP"] == "${google_compute_url_map.https.name}"
    assert env["RUNWAY_SECURITY_POLICY"] == "${google_compute_security_policy.edge.name}"


def rendered_env(values: dict[str, Any]) -> dict[str, str]:
    """The functions' environment as Terraform renders local.runway_env for these variable values."""
    var = {name: values.get(name, body.get("default")) for name, body in variables().items()}

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
        "GOOGLE_CLOUD_PROJECT": var["project_id"],
    }


@pytest.mark.parametrize("tfvars", ["example", "defaults"])
def test_rendered_configuration_is_valid_for_runway(tfvars: str) -> None:
    """The example values, and the defaults, give an environment shared.config accepts."""
    example = hcl2.loads((INFRA / "terraform.tfvars.example").read_text(), serialization_options=OPTIONS)
    required = {name: example[name] for name, body in variables().items() if "default" not in body}
    env = rendered_env(example if tfvars == "example" else required)
    assert set(env) == set(tf_locals()["runway_env"])
    Config.from_env(env)  # raises ConfigError naming every bad variable


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


def test_custom_roles_hold_exactly_the_documented_permissions() -> None:
    roles = resources("google_project_iam_custom_role")
    assert set(roles) == set(EXPECTED_PERMISSIONS)
    readme = (INFRA / "README.md").read_text()
    for name, role in roles.items():
        permissions = role["permissions"]
        assert len(permissions) == len(set(permissions)), f"duplicate permission in role {name}"
        assert set(permissions) == EXPECTED_PERMISSIONS[name], name
        undocumented = [p for p in permissions if f"`{p}`" not in readme]
        assert not undocumented, f"infra/README.md does not document {undocumented}"


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
            assert (name, body["member"], role) in PUBLIC_BINDINGS, f"{kind}.{name} grants {role} to {body['member']}"
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


def test_log_metrics_count_decisions_by_action_and_service() -> None:
    assert f'jsonPayload.component="{COMPONENT}"' in tf_locals()["decision_filter"]
    metrics = tf_locals()["decision_metrics"]
    for name, metric in metrics.items():
        assert metric["filter"].startswith("${local.decision_filter} AND "), name
    actions = set(re.findall(r'jsonPayload\.action="(\w+)"', " ".join(m["filter"] for m in metrics.values())))
    assert actions == {"ingress_remediated", "route_registered", "route_removed", "route_conflict"}
    assert actions <= set(ACTIONS), f"not decision-log actions: {sorted(actions - set(ACTIONS))}"
    # The errors metric counts by severity, which covers every ERROR action of shared.decision_log.
    assert "severity>=ERROR" in metrics["errors"]["filter"]
    assert "ERROR" in ACTIONS.values()
    (metric,) = resources("google_logging_metric").values()
    assert metric["for_each"] == "${local.decision_metrics}"
    assert metric["label_extractors"] == {
        "action": "EXTRACT(jsonPayload.action)",
        "service": "EXTRACT(jsonPayload.service)",
    }
    (alert,) = resources("google_monitoring_alert_policy").values()
    condition = block(block(alert, "conditions"), "condition_threshold")
    assert 'logging.googleapis.com/user/${google_logging_metric.decision["errors"].name}' in condition["filter"]


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

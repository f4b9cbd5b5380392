"""What the least-privilege test is made of (tests/e2e/test_least_privilege.py).

- **infra's IAM, read from the Terraform** (`infra/*.tf`, python-hcl2): the custom roles' permissions and every
  project-level binding of the three functions' service accounts, rendered with the variables' defaults (a
  single-project installation), and seeded into the emulator with the developers as owners. The whole-stack run
  binds them to the identities the local stack runs the functions as (`LocalStack.identity`), the in-process runs
  to Terraform's own account emails: the same roles and bindings either way, only the account's name differs. An
  expression this reader does not know fails the test, so a new kind of binding gets the reader taught rather than
  silently skipped.
- **the story**: developer actions (alice, bob, mallory) and the outcome each must have, read from runway's
  decisions and from the live load balancer.
- **two drivers** of the same story: `WholeStack` (functions as processes, events from the emulator's Eventarc,
  `reconcile_all` over HTTP, `python main.py reconcile --dry-run` as a process) and `InProcess` (the same entry
  points called in this process with a configuration naming the function's identity, fed the CloudEvents
  Eventarc makes of the emulator's own audit entries): fast enough to play once per permission.
- **`Checks`**, installed on a running emulator: records every permission it granted to whom, and can hold one
  caller's request at a given permission check until released (a race, played deterministically).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import copy
import io
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from unittest import mock

import hcl2
import requests
from hcl2 import SerializationOptions

from emulator import EmulatorServer
from shared import clients
from shared.config import Config
from shared.methods import METHODS_BY_FUNCTION, V2_CREATE
from shared.naming import backend_service_name

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
OPTIONS = SerializationOptions(with_comments=False, explicit_blocks=False, strip_string_quotes=True)

PROJECT = "runway-demo"
REGION = "us-central1"
OTHER_REGION = "europe-west1"
URL_MAP = "runway-lb"
FUNCTIONS = ("enforce_ingress", "sync_routes", "reconcile_all")
EVENT_FUNCTIONS = ("enforce_ingress", "sync_routes")
# The in-process functions' configuration: the local stack's (devstack/stack.py `function_env`).
ENV = {
    "RUNWAY_URL_MAP": URL_MAP,
    "RUNWAY_PROJECT": PROJECT,
    "RUNWAY_SECURITY_POLICY": "runway-edge",
    "RUNWAY_REGIONS": f"{REGION},{OTHER_REGION}",
    "RUNWAY_HOSTS": '{"default": ["*"], "shop": ["shop.example.com", "www.shop.example.com"]}',
}
ALICE, BOB, MALLORY = "alice@example.com", "bob@example.com", "mallory@example.com"
# Who the test reads as (routing table, decision log), who bootstraps the Terraform-owned load balancer and the
# triggers, and who the local stack's log agent ships the functions' output as (Cloud Run's logging agent).
OPERATOR = "developer@example.com"
OWNERS = (ALICE, BOB, MALLORY, OPERATOR)
IMAGE = "us-docker.pkg.dev/cloudrun/container/hello"
PRIVATE = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"  # internal and Cloud Load Balancing: what a published service needs
ACTIVITY_LOG = "cloudaudit.googleapis.com%2Factivity"
# In the steps that make or remove Compute objects, operations run this long, so runway waits on them as it does in
# production (where they take seconds); elsewhere they are done when created, which keeps the story fast (a Cloud
# Run rollout in flight makes enforce_ingress wait a quarter of a second before it reads again).
OPERATION_DELAY = 0.05
ERRORS = ("api_error", "event_invalid", "raised")


# --- infra's IAM, read from the Terraform ---------------------------------------------------------------------


class Unsupported(AssertionError):
    """An expression of infra/ this reader does not evaluate: teach it, do not skip it."""


@cache
def terraform() -> dict[str, list[Any]]:
    merged: dict[str, list[Any]] = {}
    for path in sorted(INFRA.glob("*.tf")):
        for key, blocks in hcl2.loads(path.read_text(), serialization_options=OPTIONS).items():
            merged.setdefault(key, []).extend(blocks)
    return merged


def tf_resources(kind: str) -> dict[str, dict[str, Any]]:
    return {name: body for blk in terraform().get("resource", []) for name, body in blk.get(kind, {}).items()}


def tf_members() -> list[tuple[str, dict[str, Any]]]:
    """Every `*_iam_member` resource: (kind, body)."""
    return [
        (kind, body)
        for blk in terraform().get("resource", [])
        for kind, by_name in blk.items()
        if kind.endswith("_iam_member")
        for body in by_name.values()
    ]


def tf_locals() -> dict[str, Any]:
    return {k: v for blk in terraform().get("locals", []) for k, v in blk.items()}


def tf_defaults() -> dict[str, Any]:
    return {name: body.get("default") for blk in terraform().get("variable", []) for name, body in blk.items()}


@dataclass(frozen=True)
class InfraIam:
    """The custom roles infra/ makes and its bindings of the three functions' accounts, by the node they are on."""

    project: str
    roles: Mapping[str, frozenset[str]]  # "projects/P/roles/ID" or "organizations/N/roles/ID" -> permissions
    bindings: tuple[tuple[str, str, str], ...]  # (node, role, member); node: projects/P, organizations/N, folders/N
    identities: Mapping[str, str]  # function -> the account it runs as

    def custom_roles_of(self, function: str) -> list[str]:
        member = f"serviceAccount:{self.identities[function]}"
        return sorted({role for _, role, who in self.bindings if who == member and role in self.roles})

    def holders(self, role: str) -> list[str]:
        """The functions bound to `role`."""
        return [f for f in FUNCTIONS if role in self.custom_roles_of(f)]

    def policies(self, owners: Sequence[str] = OWNERS) -> dict[str, list[dict[str, Any]]]:
        """Node -> its policy's bindings; the owners own the project (and the scope, in organization mode)."""
        nodes = {node for node, _, _ in self.bindings} | {f"projects/{self.project}"}
        by_node = {node: {"roles/owner": [f"user:{who}" for who in owners]} for node in sorted(nodes)}
        for node, role, member in self.bindings:
            by_node[node].setdefault(role, []).append(member)
        return {node: [{"role": r, "members": m} for r, m in roles.items()] for node, roles in by_node.items()}


class _Renderer:
    """Evaluates the expressions of infra's IAM resources, for one set of variable values. What it does not know
    raises `Unsupported`."""

    def __init__(self, variables: Mapping[str, Any], accounts: Mapping[str, str]) -> None:
        self.var = dict(variables)
        self.accounts = accounts  # google_service_account resource name -> email

    def role_id(self, body: Mapping[str, Any], key: str | None = None) -> str:
        text = str(body["role_id"])
        prefix = '${replace(var.name_prefix, "-", "_")}'
        rest = text[len(prefix) :].replace("${each.key}", key) if key is not None else text[len(prefix) :]
        if not text.startswith(prefix) or "${" in rest:
            raise Unsupported(f"role_id {text!r}")
        return str(self.var["name_prefix"]).replace("-", "_") + rest

    def organization(self) -> str:
        return str(self.expression(tf_locals()["organization_id"]))

    def value(self, text: str, each: tuple[str, Any] | None) -> str:
        def term(match: re.Match[str]) -> str:
            expr = match.group(1).strip()
            if found := re.fullmatch(r"var\.(\w+)(\[0\])?", expr):
                value = self.var[found[1]]
                return str(value[0] if found[2] else value)
            if expr in ("each.value", "each.key") and each is not None:
                return self.value(str(each[1] if expr == "each.value" else each[0]), None)
            if found := re.fullmatch(r"local\.(\w+)", expr):
                return str(self.expression(tf_locals()[found[1]]))
            if found := re.fullmatch(r"google_service_account\.(\w+)\.email", expr):
                return self.accounts[found[1]]
            if found := re.fullmatch(r"google_project_iam_custom_role\.(\w+)\.(?:id|name)", expr):
                role = tf_resources("google_project_iam_custom_role")[found[1]]
                return f"projects/{self.var['project_id']}/roles/{self.role_id(role)}"
            if found := re.fullmatch(r'google_organization_iam_custom_role\.(\w+)\[(each\.key|"\w+")\]\.id', expr):
                key = each[0] if found[2] == "each.key" and each is not None else found[2].strip('"')
                role = tf_resources("google_organization_iam_custom_role")[found[1]]
                return f"organizations/{self.organization()}/roles/{self.role_id(role, key)}"
            raise Unsupported(f"interpolation ${{{expr}}} in {text!r}")

        return re.sub(r"\$\{([^{}]+)\}", term, text)

    def instances(self, body: Mapping[str, Any]) -> list[tuple[str, Any] | None]:
        """One entry per instance: None without count or for_each, (key, raw value) with for_each."""
        if "count" in body:
            return [None] * int(self.expression(body["count"]))
        if "for_each" not in body:
            return [None]
        found = self.expression(body["for_each"])
        if isinstance(found, dict):
            return list(found.items())
        raise Unsupported(f"for_each {body['for_each']!r}")

    def expression(self, raw: Any) -> Any:
        if isinstance(raw, dict | int | bool):
            return raw
        text = str(raw)
        if not (text.startswith("${") and text.endswith("}")):
            raise Unsupported(f"expression {text!r}")
        inner = text[2:-1].strip()
        if inner in ("{}", "toset([])"):
            return {}
        if re.fullmatch(r"\d+", inner):
            return int(inner)
        if found := re.fullmatch(r"var\.(\w+)", inner):
            return self.var[found[1]]
        if found := re.fullmatch(r'trimprefix\(var\.(\w+)\[0\], "([^"]*)"\)', inner):
            return str(self.var[found[1]][0]).removeprefix(found[2])
        if found := re.fullmatch(r"local\.(\w+)", inner):
            return self.expression(tf_locals()[found[1]])
        if inner == "{for name, fn in local.functions : name => fn.sa_email}":
            return {name: fn["sa_email"] for name, fn in tf_locals()["functions"].items()}
        if found := re.fullmatch(r"([^?]+) \? ([^:]+) : (.+)", inner):
            return self.expression("${" + (found[2] if self.condition(found[1]) else found[3]) + "}")
        if found := re.fullmatch(r"\{for pair in setproduct\(keys\(local\.\w+\), var\.(\w+)\) : .*\}", inner, re.S):
            if self.var[found[1]]:
                raise Unsupported(f"for_each over a non-empty var.{found[1]}")
            return {}
        raise Unsupported(f"expression {text!r}")

    def permissions(self, raw: Any) -> frozenset[str]:
        """An organization role's permissions: a project role's, and with them a list of local.scope_permissions."""
        text = str(raw)
        project_role = r"google_project_iam_custom_role\.(\w+)\.permissions"
        if found := re.fullmatch(rf"\$\{{{project_role}\}}", text):
            return frozenset(tf_resources("google_project_iam_custom_role")[found[1]]["permissions"])
        union = rf"\$\{{sort\(distinct\(concat\({project_role}, local\.scope_permissions\.(\w+)\)\)\)\}}"
        if found := re.fullmatch(union, text):
            own = tf_resources("google_project_iam_custom_role")[found[1]]["permissions"]
            return frozenset(own) | frozenset(tf_locals()["scope_permissions"][found[2]])
        raise Unsupported(f"permissions {text!r}")

    def condition(self, text: str) -> bool:
        """`a || b`, `a && b` and their atoms: `local.NAME`, `length(var.NAME) == N`, `can(regex("R", var.NAME[0]))`."""
        text = text.strip()
        for operator, combine in ((" || ", any), (" && ", all)):
            parts = _top_level_split(text, operator)
            if len(parts) > 1:
                return combine(self.condition(part) for part in parts)
        if found := re.fullmatch(r"local\.(\w+)", text):
            local = str(tf_locals()[found[1]])
            if not (local.startswith("${") and local.endswith("}")):
                raise Unsupported(f"condition local.{found[1]} = {local!r}")
            return self.condition(local[2:-1])
        if found := re.fullmatch(r"length\(var\.(\w+)\) == (\d+)", text):
            return len(self.var[found[1]]) == int(found[2])
        if found := re.fullmatch(r'can\(regex\("(.+)", var\.(\w+)\[0\]\)\)', text):
            values = self.var[found[2]]
            return bool(values) and re.search(found[1], values[0]) is not None
        raise Unsupported(f"condition {text!r}")


def _top_level_split(text: str, operator: str) -> list[str]:
    """`text` split at `operator` outside parentheses and quotes."""
    parts, depth, quoted, start, i = [], 0, False, 0, 0
    while i < len(text):
        char = text[i]
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "([{":
            depth += 1
        elif not quoted and char in ")]}":
            depth -= 1
        elif not quoted and depth == 0 and text.startswith(operator, i):
            parts.append(text[start:i])
            start = i = i + len(operator)
            continue
        i += 1
    return [*parts, text[start:]]


# The node a binding resource is on, by kind.
_NODE = {
    "google_project_iam_member": ("project", "projects/{}"),
    "google_organization_iam_member": ("org_id", "organizations/{}"),
    "google_folder_iam_member": ("folder", "{}"),
}


def read_infra_iam(
    project: str = PROJECT, identities: Mapping[str, str] | None = None, variables: Mapping[str, Any] | None = None
) -> InfraIam:
    """infra/'s custom roles and its bindings of the functions' accounts, for `project` and `variables` (default: a
    single-project installation), with the functions' accounts renamed to `identities` (function -> email;
    default: the accounts' own emails)."""
    values = {**tf_defaults(), "project_id": project, **(variables or {})}
    accounts: dict[str, str] = {}
    for name, body in tf_resources("google_service_account").items():
        account_id = str(body["account_id"]).replace("${var.name_prefix}", str(values["name_prefix"]))
        if "${" in account_id:
            raise Unsupported(f"account_id {body['account_id']!r}")
        accounts[name] = f"{account_id}@{project}.iam.gserviceaccount.com"
    identities = dict(identities or {function: accounts[function] for function in FUNCTIONS})
    render = _Renderer(values, {**accounts, **identities})

    roles = {
        f"projects/{project}/roles/{render.role_id(body)}": frozenset(body["permissions"])
        for body in tf_resources("google_project_iam_custom_role").values()
    }
    for body in tf_resources("google_organization_iam_custom_role").values():
        for each in render.instances(body):
            assert each is not None and body["permissions"] == "${each.value}", body
            role = f"organizations/{render.organization()}/roles/{render.role_id(body, each[0])}"
            roles[role] = render.permissions(each[1])

    functions = {f"serviceAccount:{identities[function]}" for function in FUNCTIONS}
    bindings: list[tuple[str, str, str]] = []
    for kind, body in tf_members():
        text = str(body["member"])
        mentioned = set(re.findall(r"google_service_account\.(\w+)\.email", text))
        if not (mentioned & set(FUNCTIONS) or "each." in text):
            continue  # another account's, or a service agent's (the sink's writer): nothing of the story
        for each in render.instances(body):
            member = render.value(text, each)
            if member not in functions:
                continue
            if kind not in _NODE:
                raise Unsupported(f"a {kind} of a function's account")
            field, node = _NODE[kind]
            bindings.append(
                (node.format(render.value(str(body[field]), each)), render.value(str(body["role"]), each), member)
            )
    return InfraIam(project, roles, tuple(bindings), identities)


def seed_iam(server: EmulatorServer, infra: InfraIam, owners: Sequence[str] = OWNERS) -> None:
    """infra's custom roles, its bindings and the owners as policies: enforcement on from now."""
    iam = server.emulator.iam
    for name, permissions in infra.roles.items():
        parent, _, role_id = name.rpartition("/roles/")
        iam.add_role(parent, role_id, sorted(permissions), title=role_id, stage="GA")
    for node, bindings in infra.policies(owners).items():
        iam.set_policy(node, bindings)


def set_role_permissions(server: EmulatorServer, role: str, permissions: Sequence[str]) -> None:
    server.emulator.iam.patch_role(role, {"includedPermissions": sorted(permissions)}, "includedPermissions")


def set_operation_delay(server: EmulatorServer, seconds: float) -> None:
    requests.post(f"{server.url}/_emulator/faults", json={"operationDelay": seconds}, timeout=10).raise_for_status()


def forbidden(server: EmulatorServer, identities: Sequence[str]) -> list[tuple[str, str, str]]:
    """Every call of these identities the emulator answered 403: (principal, method, path)."""
    calls = requests.get(f"{server.url}/_emulator/requests", timeout=30).json()["requests"]
    who = {i.lower() for i in identities}
    return [(c["principal"], c["method"], c["path"]) for c in calls if c["status"] == 403 and c["principal"] in who]


class Checks:
    """Installed on a running emulator, around its own permission decision (`IamApi.holds`), changing none:
    records every `(who, permission)` it granted, and can hold a caller's request at one permission check until
    released."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.granted: set[tuple[str, str]] = set()
        self._gates: dict[tuple[str, str], tuple[threading.Event, threading.Event]] = {}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def installed(self) -> Iterator[Checks]:
        iam = self.server.emulator.iam
        decide = iam.holds

        def holds(who: str, permission: str, scope: str, resource: str | None = None) -> bool:
            key = (who.lower(), permission)
            with self._lock:
                gate = self._gates.pop(key, None)
            if gate is not None:
                gate[0].set()
                gate[1].wait(timeout=120)
            held = decide(who, permission, scope, resource)
            if held:
                with self._lock:
                    self.granted.add(key)
            return held

        iam.holds = holds  # type: ignore[method-assign]
        try:
            yield self
        finally:
            del iam.holds  # the class's method again
            for reached, release in self._gates.values():
                reached.set()
                release.set()

    @contextlib.contextmanager
    def hold(self, who: str, permission: str) -> Iterator[threading.Event]:
        """The first request of `who` that needs `permission` waits, inside the block, until the block ends; the
        event yielded is set once it waits."""
        reached, release = threading.Event(), threading.Event()
        with self._lock:
            self._gates[(who.lower(), permission)] = (reached, release)
        try:
            yield reached
        finally:
            release.set()
            with self._lock:
                self._gates.pop((who.lower(), permission), None)

    def granted_to(self, who: str) -> set[str]:
        return {permission for caller, permission in self.granted if caller == who.lower()}


# --- developer actions, with the real client library as the named developer ------------------------------------


def _fast_polling() -> Any:
    from google.api_core.future.polling import DEFAULT_POLLING

    return DEFAULT_POLLING.with_delay(initial=0.01, maximum=0.1, multiplier=1.5)


def _who(principal: str) -> list[tuple[str, str]]:
    return [("x-emulator-principal", principal)]


def service_name(name: str, region: str = REGION, project: str = PROJECT) -> str:
    return f"projects/{project}/locations/{region}/services/{name}"


def create_service(
    endpoint: str,
    name: str,
    *,
    principal: str,
    labels: Mapping[str, str] | None = None,
    region: str = REGION,
    public: bool = False,
    project: str = PROJECT,
    ingress: str = "INGRESS_TRAFFIC_ALL",
) -> None:
    """A v2 create, by default open to all traffic (what a developer gets by default). `public`: anyone may invoke
    it (`invokerIamDisabled`); otherwise only members granted roles/run.invoker."""
    from google.cloud import run_v2

    service = run_v2.Service(
        ingress=getattr(run_v2.IngressTraffic, ingress),
        labels=dict(labels or {}),
        invoker_iam_disabled=public,
        template=run_v2.RevisionTemplate(containers=[run_v2.Container(image=IMAGE)]),
    )
    operation = clients.run_services(endpoint).create_service(
        parent=f"projects/{project}/locations/{region}", service_id=name, service=service, metadata=_who(principal)
    )
    operation.result(timeout=30, polling=_fast_polling())


def set_labels(endpoint: str, name: str, labels: Mapping[str, str], *, principal: str, region: str = REGION) -> None:
    """The developer's labels replaced; runway's own (its route status) left as they are."""
    from google.cloud import run_v2
    from google.protobuf import field_mask_pb2

    run = clients.run_services(endpoint)
    current = run.get_service(name=service_name(name, region), metadata=_who(principal))
    kept = {k: v for k, v in current.labels.items() if k.startswith("runway")}
    service = run_v2.Service(name=service_name(name, region), labels={**kept, **labels})
    operation = run.update_service(
        service=service, update_mask=field_mask_pb2.FieldMask(paths=["labels"]), metadata=_who(principal)
    )
    operation.result(timeout=30, polling=_fast_polling())


def delete_service(endpoint: str, name: str, *, principal: str, region: str = REGION) -> None:
    operation = clients.run_services(endpoint).delete_service(name=service_name(name, region), metadata=_who(principal))
    operation.result(timeout=30, polling=_fast_polling())


def allow_all_users(endpoint: str, name: str, *, principal: str, region: str = REGION) -> None:
    """`gcloud run services add-iam-policy-binding NAME --member=allUsers --role=roles/run.invoker`, in v2."""
    from google.iam.v1 import iam_policy_pb2, policy_pb2

    run = clients.run_services(endpoint)
    resource = service_name(name, region)
    policy = run.get_iam_policy(request=iam_policy_pb2.GetIamPolicyRequest(resource=resource), metadata=_who(principal))
    policy.bindings.append(policy_pb2.Binding(role="roles/run.invoker", members=["allUsers"]))
    request = iam_policy_pb2.SetIamPolicyRequest(resource=resource, policy=policy)
    run.set_iam_policy(request=request, metadata=_who(principal))


def routes(endpoint: str, host: str = "*") -> dict[str, str]:
    """path -> backend service name, for the default host's path rules on the shared URL map (read as the
    operator)."""
    from shared.api_compute import get_url_map

    umap = get_url_map(clients.compute(endpoint), PROJECT, URL_MAP)
    matchers = {rule["pathMatcher"] for rule in umap.get("hostRules", []) if host in rule["hosts"]}
    return {
        path: rule["service"].rsplit("/", 1)[1]
        for matcher in umap.get("pathMatchers", [])
        if matcher["name"] in matchers
        for rule in matcher.get("pathRules", [])
        for path in rule["paths"]
    }


def backend_regions(endpoint: str, service: str) -> list[str]:
    from shared.api_compute import get_backend_service

    found = get_backend_service(clients.compute(endpoint), PROJECT, backend_service_name("runway", PROJECT, service))
    return sorted(str(b["group"]).split("/")[-3] for b in (found or {}).get("backends", []))


def route_status(endpoint: str, name: str, region: str = REGION) -> str | None:
    """The route status runway writes on the service (label `runway-route`, shared/plan_status.py)."""
    return clients.run_services(endpoint).get_service(name=service_name(name, region)).labels.get("runway-route")


def ingress_of(endpoint: str, name: str, region: str = REGION) -> str:
    return str(clients.run_services(endpoint).get_service(name=service_name(name, region)).ingress.name)


# --- drivers --------------------------------------------------------------------------------------------------


def _decision_lines(text: str) -> list[dict[str, Any]]:
    found = []
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict) and record.get("component") == "runway":
                found.append(record)
    return found


class Driver:
    """How the story's events reach the functions, how the sweep is run, and where decisions are read."""

    server: EmulatorServer
    endpoint: str
    identities: Mapping[str, str]
    checks: Checks | None = None  # installed on the emulator by the test: the race step holds a request with it

    def settle(self) -> None:
        raise NotImplementedError

    def outage(self) -> contextlib.AbstractContextManager[None]:
        """Writes made inside never reach the functions as events (a trigger deleted for a while)."""
        raise NotImplementedError

    def sweep(self) -> tuple[int, dict[str, Any]]:
        """reconcile_all: (HTTP status, its JSON summary)."""
        raise NotImplementedError

    def dry_run(self) -> tuple[int, dict[str, Any]]:
        """`python main.py reconcile --dry-run` as the sweep's identity: (exit status, the JSON summary)."""
        raise NotImplementedError

    def decisions(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def plays(self, step: Step) -> bool:
        return True


class InProcess(Driver):
    """The functions' entry points in this process (`functions.enforce_ingress.handle`,
    `functions.sync_routes.handle`, `functions.reconcile_all.handle`), each with a configuration whose
    `RUNWAY_API_PRINCIPAL` is its identity. Events: every new Admin Activity entry of the emulator's Logging, as the
    CloudEvent Eventarc makes of it (`emulator.eventarc.cloudevent.binary_request`, read back with
    `shared.event_replay.event_from_http`, as functions-framework does), handed to each event function whose
    triggers match it (`shared.methods.METHODS_BY_FUNCTION`, what infra's triggers are tested against), in the
    order the entries were written, until no new one comes. Decisions: the lines the functions print (use it
    `with driver:`, which captures them)."""

    def __init__(self, server: EmulatorServer, identities: Mapping[str, str], env: Mapping[str, str] = ENV) -> None:
        self.server = server
        self.endpoint = server.url
        self.identities = dict(identities)
        self.env = {**env, "RUNWAY_API_ENDPOINT": server.url}
        self.overrides: dict[str, str] = {}  # configuration every function runs with for now
        self._seen = len(server.emulator.logging.store.all())
        self._out = io.StringIO()
        self._capture: contextlib.AbstractContextManager[Any] | None = None
        # A new function instance: nothing cached from an earlier run (a project's ancestry is kept ten minutes).
        from shared import api_resources

        api_resources._ancestry.cache_clear()

    def __enter__(self) -> InProcess:
        self._capture = contextlib.redirect_stdout(self._out)
        self._capture.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._capture is not None
        self._capture.__exit__(None, None, None)

    def function_env(self, function: str, **extra: str) -> dict[str, str]:
        return {**self.env, **self.overrides, "RUNWAY_API_PRINCIPAL": self.identities[function], **extra}

    def _new_audit_entries(self) -> list[dict[str, Any]]:
        self.server.emulator.eventarc.drain(timeout=60)  # the last entries of operations still running
        entries = self.server.emulator.logging.store.all()
        new, self._seen = entries[self._seen :], len(entries)
        return [e for e in new if str(e.get("logName", "")).endswith(ACTIVITY_LOG)]

    def deliver(self, entry: Mapping[str, Any]) -> None:
        """Hand one audit entry's CloudEvent to every event function whose triggers match it."""
        from emulator.eventarc.cloudevent import binary_request
        from functions import enforce_ingress, sync_routes
        from shared.event_replay import event_from_http

        headers, body = binary_request(dict(entry))
        method = str(entry.get("protoPayload", {}).get("methodName", ""))
        for function, module in (("enforce_ingress", enforce_ingress), ("sync_routes", sync_routes)):
            if method not in METHODS_BY_FUNCTION[function]:
                continue
            config = Config.from_env(self.function_env(function))
            try:
                module.handle(event_from_http(headers, body), headers, config=config)
            except Exception as exc:  # answered non-2xx: Eventarc would redeliver; to the story, a failure
                record = {"component": "runway", "function": function, "action": "raised", "reason": repr(exc)}
                print(json.dumps(record))

    def settle(self) -> None:
        for _ in range(20):
            entries = self._new_audit_entries()
            if not entries:
                return
            for entry in entries:
                self.deliver(entry)
        raise AssertionError("events kept coming: the story did not settle")

    @contextlib.contextmanager
    def outage(self) -> Iterator[None]:
        self.settle()
        yield
        self._new_audit_entries()  # never delivered

    def _reconcile(self, **extra: str) -> tuple[int, dict[str, Any]]:
        from functions import reconcile_all

        request = mock.NonCallableMock(method="POST", headers={})  # what functions-framework hands it
        env = {k: v for k, v in os.environ.items() if not k.startswith("RUNWAY_")}
        with mock.patch.dict(os.environ, {**env, **self.function_env("reconcile_all", **extra)}, clear=True):
            summary, status = reconcile_all.handle(request)
        return status, summary

    def sweep(self) -> tuple[int, dict[str, Any]]:
        return self._reconcile()

    def dry_run(self) -> tuple[int, dict[str, Any]]:
        """The sweep in dry run, answered as the CLI exits: 1 for drift, findings or failures."""
        status, summary = self._reconcile(RUNWAY_DRY_RUN="true")
        drift = summary.get("changes") or summary.get("ingress") or summary.get("findings") or summary.get("failures")
        return (0 if status == 200 and not drift else 1), summary

    def decisions(self) -> list[dict[str, Any]]:
        return _decision_lines(self._out.getvalue())


class WholeStack(Driver):
    """The local stack: the functions are processes running as their identities, fed by the emulator's Eventarc;
    `reconcile_all` is POSTed to; the dry run is `python main.py reconcile --dry-run` as the sweep's identity."""

    def __init__(self, stack: Any) -> None:
        self.stack = stack
        self.server = stack.server
        self.endpoint = stack.url
        self.identities = {function: stack.identity(function) for function in FUNCTIONS}

    def settle(self) -> None:
        self.stack.settle()

    @contextlib.contextmanager
    def outage(self) -> Iterator[None]:
        from google.auth.credentials import AnonymousCredentials
        from googleapiclient.discovery import build

        from devstack.bootstrap import create_triggers

        self.stack.settle()
        options = {"api_endpoint": self.endpoint}
        eventarc = build(
            "eventarc", "v1", credentials=AnonymousCredentials(), static_discovery=True, client_options=options
        )
        triggers = eventarc.projects().locations().triggers()
        parent = f"projects/{PROJECT}/locations/global"
        for trigger in triggers.list(parent=parent).execute().get("triggers", []):
            triggers.delete(name=trigger["name"]).execute()
        try:
            yield
        finally:
            self.stack.drain()
            for function in EVENT_FUNCTIONS:
                create_triggers(self.endpoint, PROJECT, function, self.stack.functions[function].url)

    def sweep(self) -> tuple[int, dict[str, Any]]:
        reply = requests.post(self.stack.functions["reconcile_all"].url, timeout=300)
        return reply.status_code, reply.json()

    def dry_run(self) -> tuple[int, dict[str, Any]]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RUNWAY_")}
        env |= self.stack.function_env() | {"RUNWAY_API_PRINCIPAL": self.identities["reconcile_all"]}
        done = subprocess.run(
            [sys.executable, "main.py", "reconcile", "--dry-run", "--format", "json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        try:
            summary = json.loads(done.stdout)
        except ValueError:
            summary = {"stdout": done.stdout, "stderr": done.stderr}
        return done.returncode, summary

    def decisions(self) -> list[dict[str, Any]]:
        from .support import decisions

        return decisions(self.stack)

    def plays(self, step: Step) -> bool:
        return not step.in_process_only


# --- the story ----------------------------------------------------------------------------------------------------


Expect = Callable[[Driver, list[dict[str, Any]], Any], None]


@dataclass(frozen=True)
class Step:
    name: str
    act: Callable[[Driver], Any]  # its result goes to `expect`
    expect: Expect  # raises AssertionError when the outcome is missing
    in_process_only: bool = False  # needs another configuration, or an event the emulator never writes
    errors_expected: bool = False  # `expect` judges the step's api_error decisions itself
    operations_take_time: bool = False  # operations run OPERATION_DELAY in this step (see there)


@dataclass(frozen=True)
class StepFailed:
    step: str
    why: str

    def __str__(self) -> str:
        why = self.why if len(self.why) <= 400 else self.why[:400] + "…"
        return f"{self.step}: {why}"


def play(driver: Driver, steps: Sequence[Step], *, stop_at_first_failure: bool = True) -> list[StepFailed]:
    """Each step: act, let every event be answered, then no error decision and the expected outcome. A developer
    action that fails (a refused call, say) fails its step too."""
    failures: list[StepFailed] = []
    for step in steps:
        if not driver.plays(step):
            continue
        before = len(driver.decisions())
        try:
            set_operation_delay(driver.server, OPERATION_DELAY if step.operations_take_time else 0.0)
            result = step.act(driver)
            driver.settle()
            new = driver.decisions()[before:]
            errors = [d for d in new if d["action"] in ERRORS]
            if errors and not step.errors_expected:
                raise AssertionError(f"{[(d['function'], d['action'], d.get('reason')) for d in errors]}")
            step.expect(driver, new, result)
        except Exception as exc:
            failures.append(StepFailed(step.name, f"{type(exc).__name__}: {exc}"))
            if stop_at_first_failure:
                break
    return failures


def require(condition: bool, why: str) -> None:
    if not condition:
        raise AssertionError(why)


def decided(new: list[dict[str, Any]], function: str, action: str, service: str, region: str = REGION) -> bool:
    name = service_name(service, region)
    return any(d["function"] == function and d["action"] == action and d.get("service") == name for d in new)


def require_routes(driver: Driver, expected: Mapping[str, str]) -> None:
    want = {p: backend_service_name("runway", PROJECT, s) for path, s in expected.items() for p in (path, f"{path}/*")}
    got = routes(driver.endpoint)
    require(got == want, f"the default host routes {got}, expected {want}")


def story() -> list[Step]:
    """The story, in order. Services are v2 creates open to all traffic; alice, bob and mallory own the project.

    1. create: `open` (no label) is remediated by enforce_ingress.
    2. label: `shop`, labeled `public-route=true` and public, is published at /shop.
    3. relabel: `public-route=store` moves it to /store.
    4. second region: a copy of `shop` in europe-west1 joins its backend service (a NEG more, a backend patched).
    5. conflict: bob's `rival` claims /store too and is refused (route_conflict).
    6. unlabel: mallory's `cart` is published, then unlabeled: its route and objects go.
    7. delete: mallory's `gone` is published, then deleted: the same.
    8. published, not public: `private` (no allUsers invoker, checked with getIamPolicy) is route_unreachable.
    9. made public: alice grants allUsers roles/run.invoker on `private`; its SetIamPolicy event has the route
       status rechecked: published.
    10. events lost (the triggers gone a while): `legacy` is created open; `late` is created labeled in two regions
        and made public; `shop`'s europe-west1 copy and `private` are deleted; no function hears of it.
    11. sweep: reconcile_all remediates `legacy`, publishes `late`, follows `shop` back to one region, collects
        `private`'s route and objects.
    12. a race: an event publishes `racer` while a sweep runs, after the sweep listed runway's objects: the sweep's
        creates meet them, it reads them back (its own), and goes on.
    13. conflict resolved: `rival` is deleted.
    14. dry run: `python main.py reconcile --dry-run` has nothing to do.
    15. (in process) an event naming its project by number: resolved with Resource Manager.
    16. (in process) a Cloud Armor policy that does not exist: named as the configuration error it is.
    """
    return [
        Step("create", lambda d: create_service(d.endpoint, "open", principal=ALICE), _expect_open),
        Step("label", _label, _expect_shop, operations_take_time=True),
        Step("relabel", lambda d: set_labels(d.endpoint, "shop", {"public-route": "store"}, principal=ALICE), _moved),
        Step("second region", _second_region, _expect_two_regions),
        Step("conflict", _conflict, _expect_conflict),
        Step("unlabel", _unlabel, _expect_unlabeled),
        Step("delete", _delete, _expect_deleted),
        Step("published, not public", _private, _expect_unreachable),
        Step("made public", lambda d: allow_all_users(d.endpoint, "private", principal=ALICE), _expect_reachable),
        Step("events lost", _outage, _expect_nothing),
        Step("sweep", lambda d: d.sweep(), _expect_swept, operations_take_time=True),
        Step("a sweep races an event", _race, _expect_race),
        Step("conflict resolved", lambda d: delete_service(d.endpoint, "rival", principal=BOB), _expect_resolved),
        Step("dry run", lambda d: d.dry_run(), _expect_dry_run),
        Step("an event naming its project by number", _numbered_event, _expect_numbered, in_process_only=True),
        Step(
            "a Cloud Armor policy that does not exist",
            _missing_policy,
            _expect_missing_policy,
            in_process_only=True,
            errors_expected=True,
        ),
    ]


def _expect_open(d: Driver, new: list[dict[str, Any]], _: Any) -> None:
    require(decided(new, "enforce_ingress", "ingress_remediated", "open"), "open was not remediated")
    require(ingress_of(d.endpoint, "open") == PRIVATE, "open is still open")


def _label(d: Driver) -> None:
    create_service(d.endpoint, "shop", principal=ALICE, labels={"public-route": "true"}, public=True)


def _expect_shop(d: Driver, new: list[dict[str, Any]], _: Any) -> None:
    require(decided(new, "sync_routes", "route_registered", "shop"), "shop was not registered")
    require_routes(d, {"/shop": "shop"})


def _moved(d: Driver, new: list[dict[str, Any]], _: Any) -> None:
    require(decided(new, "sync_routes", "route_updated", "shop"), "shop's route did not move")
    require_routes(d, {"/store": "shop"})


def _second_region(d: Driver) -> None:
    labels = {"public-route": "store"}
    create_service(d.endpoint, "shop", principal=ALICE, labels=labels, public=True, region=OTHER_REGION)


def _expect_two_regions(d: Driver, new: list[dict[str, Any]], _: Any) -> None:
    require(backend_regions(d.endpoint, "shop") == [OTHER_REGION, REGION], "shop's backend is not in two regions")
    require_routes(d, {"/store": "shop"})


def _conflict(d: Driver) -> None:
    create_service(d.endpoint, "rival", principal=BOB, labels={"public-route": "store"}, public=True)


def _expect_conflict(d: Driver, new: list[dict[str, Any]], _: Any) -> None:
    require(decided(new, "sync_routes", "route_conflict", "rival"), "rival's claim was not refused")
    require_routes(d, {"/store": "shop"})


def _unlabel(d: Driver) -> None:
    create_service(d.endpoint, "cart", principal=MALLORY, labels={"public-route": "true"}, public=True)
    d.settle()
    set_labels(d.endpoint, "cart", {}, principal=MALLORY)


def _expect_unlabeled(d: Driver, new: list[dict[str, Any]], _: Any) -> None:
    require(decided(new, "sync_routes", "route_registered", "cart"), "cart was not registered")
    require(decided(new, "sync_routes", "route_removed", "cart"), "cart's route was not removed")
    require(backend_regions(d.endpoint, "cart") == [], "cart's objects are left")
    require_routes(d, {"/store": "shop"})


def _delete(d: Driver) -> None:
    create_service(d.endpoint, "gone", principal=MALLORY, labels={"public-route": "true"}, public=True)
    d.settle()
    delete_service(d.endpoint, "gone", principal=MALLORY)


def _expect_deleted(d: Driver, new: list[dict[str, Any]], _: Any) -> None:
    require(decided(new, "sync_routes", "route_registered", "gone"), "gone was not registered")
    require(decided(new, "sync_routes", "route_removed", "gone"), "gone's route was not removed")
    require(backend_regions(d.endpoint, "gone") == [], "gone's objects are left")
    require_routes(d, {"/store": "shop"})


def _private(d: Driver) -> None:
    create_service(d.endpoint, "private", principal=ALICE, labels={"public-route": "true"})


def _expect_unreachable(d: Driver, new: list[dict[str, Any]], _: Any) -> None:
    require(decided(new, "sync_routes", "route_unreachable", "private"), "private was not found unreachable")
    require(route_status(d.endpoint, "private") == "unreachable", "private's route status does not say so")
    require_routes(d, {"/store": "shop", "/private": "private"})


def _expect_reachable(d: Driver, new: list[dict[str, Any]], _: Any) -> None:
    rechecked = [x for x in new if x["function"] == "sync_routes" and x.get("service") == service_name("private")]
    require(bool(rechecked), "private's SetIamPolicy event was not handled")
    require(all(x["action"] != "route_unreachable" for x in rechecked), f"private is still unreachable: {rechecked}")
    require(route_status(d.endpoint, "private") == "published", "private's route status was not brought up to date")


def _outage(d: Driver) -> None:
    """`legacy` is open to all; `late`, labeled in two regions, already has the ingress it needs (so the sweep's only
    write on it is its status, after the load balancer is done: through the whole stack, no event of the sweep's own
    writes races it to make late's objects)."""
    with d.outage():
        create_service(d.endpoint, "legacy", principal=BOB)
        for region in (REGION, OTHER_REGION):
            labels = {"public-route": "true"}
            create_service(d.endpoint, "late", principal=MALLORY, labels=labels, region=region, ingress=PRIVATE)
            allow_all_users(d.endpoint, "late", principal=MALLORY, region=region)
        delete_service(d.endpoint, "shop", principal=ALICE, region=OTHER_REGION)
        delete_service(d.endpoint, "private", principal=ALICE)


def _expect_nothing(d: Driver, new: list[dict[str, Any]], _: Any) -> None:
    require(new == [], f"decisions while the events were lost: {new}")


def _expect_swept(d: Driver, new: list[dict[str, Any]], result: Any) -> None:
    status, summary = result
    require(status == 200, f"reconcile_all answered {status}: {summary}")
    require(decided(new, "reconcile_all", "ingress_remediated", "legacy"), "legacy is still open")
    # The sweep's own writes are events again: through the whole stack, sync_routes may act on one of these first.
    either = ("reconcile_all", "sync_routes")
    require(any(decided(new, f, "route_registered", "late") for f in either), "late was not published")
    require(any(decided(new, f, "route_updated", "shop") for f in either), "shop's lost region was not followed")
    require(any(x["function"] in either and x["action"] == "route_removed" for x in new), "private stays")
    require(backend_regions(d.endpoint, "late") == [OTHER_REGION, REGION], "late's backend is not in two regions")
    require(backend_regions(d.endpoint, "shop") == [REGION], "shop's backend still has europe-west1")
    require(backend_regions(d.endpoint, "private") == [], "private's objects are left")
    require_routes(d, {"/store": "shop", "/late": "late"})


def _race(d: Driver) -> tuple[int, dict[str, Any]]:
    """The sweep lists runway's objects, then the services. Held at its first services listing (the emulator's
    permission check of run.services.list for its identity), it waits while `racer` is created and its events
    publish it (NEG, backend service, URL-map rule); then the listing returns `racer`, labeled and without objects
    as the sweep saw them: the sweep's creates meet the ones just made, it reads them back, finds its own marker,
    and goes on."""
    checks = d.checks
    assert checks is not None, "the race needs Checks installed on the emulator"
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        with checks.hold(d.identities["reconcile_all"], "run.services.list") as listing:
            sweeping = pool.submit(d.sweep)
            require(listing.wait(timeout=120), "the sweep never listed services")
            create_service(d.endpoint, "racer", principal=BOB, labels={"public-route": "true"}, public=True)
            d.settle()
        return sweeping.result(timeout=300)


def _expect_race(d: Driver, new: list[dict[str, Any]], result: Any) -> None:
    status, summary = result
    require(status == 200, f"reconcile_all answered {status}: {summary}")
    require(decided(new, "sync_routes", "route_registered", "racer"), "racer's event did not publish it")
    require(
        any(x["function"] == "reconcile_all" and x.get("service") == service_name("racer") for x in new),
        "the sweep did not see racer",
    )
    require_routes(d, {"/store": "shop", "/late": "late", "/racer": "racer"})


def _expect_resolved(d: Driver, new: list[dict[str, Any]], _: Any) -> None:
    require_routes(d, {"/store": "shop", "/late": "late", "/racer": "racer"})


def _expect_dry_run(d: Driver, new: list[dict[str, Any]], result: Any) -> None:
    status, summary = result
    require(status == 0, f"the dry run exited {status}: {summary}")
    require(summary.get("changes") == [] and summary.get("ingress") == [], f"the dry run planned {summary}")


def _numbered_event(d: Driver) -> None:
    """Cloud Run's audit entries name the project by id (docs/google-apis.md §2.1), and so do the emulator's;
    runway also takes one naming it by number without the `project_id` label (shared/events.py) and asks Resource
    Manager for the id (shared/flow_scope.py). Here: both audit entries of `open`'s create, re-addressed that way."""
    assert isinstance(d, InProcess)
    numbered = str(clients.resource_manager(d.endpoint).projects.get_project(name=f"projects/{PROJECT}").name)
    for entry in d.server.emulator.logging.store.all():
        payload = entry.get("protoPayload", {})
        if payload.get("resourceName") == service_name("open") and payload.get("methodName") == V2_CREATE:
            entry = copy.deepcopy(entry)
            entry["protoPayload"]["resourceName"] = f"{numbered}/locations/{REGION}/services/open"
            entry["resource"]["labels"].pop("project_id")
            d.deliver(entry)


def _expect_numbered(d: Driver, new: list[dict[str, Any]], _: Any) -> None:
    judged = {(x["function"], x["action"]) for x in new if str(x.get("service", "")).endswith("/services/open")}
    require(("enforce_ingress", "ingress_compliant") in judged, f"enforce_ingress did not judge it: {new}")
    require(("sync_routes", "route_unchanged") in judged, f"sync_routes did not judge it: {new}")


MISSING_POLICY = {"RUNWAY_SECURITY_POLICY": "runway-missing"}


def _missing_policy(d: Driver) -> tuple[int, dict[str, Any]]:
    """The platform team names a Cloud Armor policy that does not exist: attaching it fails as if the backend
    service were gone, so runway reads the policy to tell which, and names the variable to fix."""
    assert isinstance(d, InProcess)
    d.overrides = dict(MISSING_POLICY)
    try:
        create_service(d.endpoint, "armor", principal=ALICE, labels={"public-route": "true"}, public=True)
        d.settle()
        return d.sweep()
    finally:
        d.overrides = {}


def _expect_missing_policy(d: Driver, new: list[dict[str, Any]], result: Any) -> None:
    # The sweep holds each service the missing policy stops (its own api_error) and sweeps the rest.
    status, summary = result
    failures = summary.get("failures") or []
    swept = any(d["function"] == "reconcile_all" and d["action"] == "sweep_summary" for d in new)
    require(status == 500 and bool(failures) and swept, f"the sweep: {summary}")
    require(any(f["service"].endswith("/services/armor") for f in failures), f"armor was not held: {failures}")
    missing = "Cloud Armor policy 'runway-missing' does not exist"
    require(all(missing in f["error"] for f in failures), f"not the missing policy: {failures}")
    require(decided(new, "sync_routes", "api_error", "armor"), "sync_routes did not name it")
    for error in (x for x in new if x["action"] == "api_error"):
        require(error.get("variables") == ["RUNWAY_SECURITY_POLICY"], f"not the configuration's error: {error}")


# --- organization mode ------------------------------------------------------------------------------------------

TEAM = "team-a"  # a service project two levels below the organization (devstack.org.Org's default hierarchy)


def org_story() -> list[Step]:
    """Organization mode, in short: a labeled service created in a service project (under a folder of the
    organization) is remediated and published on runway's load balancer across projects, then the sweep walks the
    organization's projects and finds nothing to change."""
    return [
        Step("create under the organization", _create_in_team, _expect_team_published, operations_take_time=True),
        Step("sweep the organization", lambda d: d.sweep(), _expect_org_swept),
    ]


def _create_in_team(d: Driver) -> None:
    create_service(d.endpoint, "hello", principal=ALICE, labels={"public-route": "true"}, public=True, project=TEAM)


def _expect_team_published(d: Driver, new: list[dict[str, Any]], _: Any) -> None:
    name = service_name("hello", project=TEAM)
    judged = {(x["function"], x["action"]) for x in new if x.get("service") == name}
    require(("enforce_ingress", "ingress_remediated") in judged, f"hello was not remediated: {judged}")
    require(("sync_routes", "route_registered") in judged, f"hello was not published: {judged}")
    backend = backend_service_name("runway", TEAM, "hello")
    require(routes(d.endpoint) == {"/hello": backend, "/hello/*": backend}, "hello's route is missing")


def _expect_org_swept(d: Driver, new: list[dict[str, Any]], result: Any) -> None:
    status, summary = result
    require(status == 200 and summary.get("services") == 1, f"reconcile_all answered {status}: {summary}")
    require(summary.get("changes") == [] and summary.get("failures") == [], f"the sweep: {summary}")

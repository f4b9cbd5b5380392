"""The command line through click's runner, against the emulator (no triggers: events never flow here, so
what the commands do is all that happens)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from google.cloud import run_v2

from cli.main import cli
from devstack.bootstrap import create_load_balancer
from emulator import EmulatorServer
from shared import clients
from shared.naming import backend_service_name

P = "runway-demo"
R = "us-central1"
EVENTS = Path(__file__).parents[1] / "testdata" / "events"


@pytest.fixture
def env(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    for name in ("RUNWAY_EXEMPT", "RUNWAY_DRY_RUN", "RUNWAY_OWNER_ID", "RUNWAY_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    values = {
        "RUNWAY_API_ENDPOINT": emulator.url,
        "RUNWAY_PROJECT": P,
        "RUNWAY_URL_MAP": "runway-lb",
        "RUNWAY_REGIONS": f"{R},europe-west1",
        "RUNWAY_SECURITY_POLICY": "runway-edge",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    create_load_balancer(emulator.url, P)
    yield values


def deploy(
    emulator: EmulatorServer,
    name: str,
    labels: dict[str, str] | None = None,
    project: str = P,
    ingress: str = "INGRESS_TRAFFIC_ALL",
    public: bool = True,
) -> None:
    """`public`: anyone may invoke it (the IAM check disabled), so a route to it is reachable."""
    service = run_v2.Service(
        ingress=run_v2.IngressTraffic[ingress],
        labels=labels or {},
        invoker_iam_disabled=public,
        template=run_v2.RevisionTemplate(containers=[run_v2.Container(image="hello")]),
    )
    clients.run_services(emulator.url).create_service(
        parent=f"projects/{project}/locations/{R}", service_id=name, service=service
    ).result()


def writes(emulator: EmulatorServer) -> list[dict]:
    return [c for c in emulator.emulator.calls.since(0) if c["write"] and not c["path"].startswith("/v2/entries")]


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_reconcile_dry_run_prints_the_plan_writes_nothing_and_exits_1(
    emulator: EmulatorServer, env: dict[str, str]
) -> None:
    deploy(emulator, "legacy-app")
    deploy(emulator, "shop", labels={"public-route": "true"}, ingress="INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER")
    before = len(writes(emulator))
    code, out = invoke("reconcile", "--dry-run")
    assert code == 1, out
    assert f"~ projects/{P}/locations/{R}/services/legacy-app: all -> internal-and-cloud-load-balancing" in out
    assert re.search(r"\+ neg runway-shop-[0-9a-f]{8} \(us-central1\)", out)
    assert f"+ backend_service {backend_service_name('runway', P, 'shop')}" in out
    assert "~ url_map runway-lb" in out
    assert "Plan: 1 ingress to fix, 2 to create, 2 to update, 0 to destroy." in out
    assert len(writes(emulator)) == before


def test_an_open_finding_keeps_reconcile_at_exit_1_on_every_sweep(
    emulator: EmulatorServer, env: dict[str, str]
) -> None:
    deploy(emulator, "private-api", labels={"public-route": "true"}, public=False)
    code, out = invoke("reconcile")
    assert code == 1, out
    assert f"! route_unreachable projects/{P}/locations/{R}/services/private-api: allUsers does not hold" in out
    # Recorded on the service now, so not logged again; still open, so still a finding.
    code, out = invoke("reconcile", "--dry-run")
    assert code == 1, out
    assert f"! unreachable (already on the service) projects/{P}/locations/{R}/services/private-api:" in out
    assert "No changes." in out


def test_reconcile_applies_then_finds_nothing_and_routes_shows_the_table(
    emulator: EmulatorServer, env: dict[str, str]
) -> None:
    deploy(emulator, "shop", labels={"public-route": "store"})
    code, out = invoke("reconcile")
    assert code == 0, out
    assert "Applied: 1 ingress to fix" in out
    code, out = invoke("reconcile", "--dry-run", "--format", "json")
    assert code == 0, out
    assert json.loads(out)["changes"] == [] and json.loads(out)["ingress"] == []

    code, out = invoke("routes")
    assert code == 0
    backend = backend_service_name("runway", P, "shop")
    assert re.search(rf"^\*\s+/store\s+{P}/shop\s+us-central1\s+{backend}$", out, re.M), out
    code, out = invoke("routes", "--format", "json")
    routes = json.loads(out)["routes"]
    assert [(r["host"], r["path"], r["service"]) for r in routes] == [
        ("*", "/store", f"{P}/shop"),
        ("*", "/store/*", f"{P}/shop"),
    ]
    code, out = invoke("routes", "--format", "mermaid")
    assert out.startswith("flowchart LR") and '"/store, /store/*"' in out


def test_sweep_collects_what_a_deleted_service_left_behind(emulator: EmulatorServer, env: dict[str, str]) -> None:
    deploy(emulator, "ghost", labels={"public-route": "true"})
    assert invoke("reconcile")[0] == 0
    # Deleted while no event reached runway (a trigger was missing): only the sweep can notice.
    clients.run_services(emulator.url).delete_service(name=f"projects/{P}/locations/{R}/services/ghost").result()
    code, out = invoke("reconcile")
    assert code == 0, out
    assert f"- backend_service {backend_service_name('runway', P, 'ghost')}" in out
    code, out = invoke("routes", "--format", "json")
    assert json.loads(out)["routes"] == []


def test_replay_runs_a_captured_event_through_the_functions(
    emulator: EmulatorServer, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNWAY_SCOPE", f"{P},example-proj")  # the captured events are about example-proj
    deploy(emulator, "hello", project="example-proj")
    before = len(writes(emulator))
    # The capture is the first audit entry of a v2 create: enforce_ingress acts on the last one, when the rollout
    # is done; its last entry is the same entry with `operation.last`.
    first = json.loads((EVENTS / "v2-create-service.json").read_text())
    code, out = invoke("replay", str(EVENTS / "v2-create-service.json"), "--function", "enforce_ingress", "--dry-run")
    assert code == 0, out
    assert "enforce_ingress: event_ignored" in out and "acting on its last" in out
    last = tmp_path / "last.json"
    first["body"]["operation"] = {**first["body"]["operation"], "first": False, "last": True}
    last.write_text(json.dumps(first))
    code, out = invoke("replay", str(last), "--function", "enforce_ingress", "--dry-run")
    assert code == 0, out
    assert "enforce_ingress: ingress_remediated" in out and "would set hello ingress all" in out
    assert len(writes(emulator)) == before  # the dry run wrote nothing

    code, out = invoke("replay", str(EVENTS / "v1-replace-service.json"), "--format", "json")
    assert code == 0, out
    records = [json.loads(line) for line in out.splitlines()]
    assert [(r["function"], r["action"]) for r in records] == [
        ("enforce_ingress", "ingress_remediated"),
        ("sync_routes", "route_unchanged"),
    ]
    assert records[0]["principal"] == "dev@example.com"
    # The event's payload carries public-route=true, but the live service has no label: the event is a
    # pointer, the live state decides.
    assert "not published" in records[1]["message"]


def test_replay_of_a_file_that_is_not_an_event_is_a_usage_error(tmp_path: Path, env: dict[str, str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    code, out = invoke("replay", str(bad))
    assert code == 2 and "neither an Eventarc delivery nor an audit LogEntry" in out


def test_bad_configuration_exits_2_naming_the_variable(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNWAY_HOSTS", "{not json")
    code, out = invoke("reconcile", "--dry-run")
    assert code == 2 and "RUNWAY_HOSTS" in out
    code, out = invoke("routes")
    assert code == 2 and "RUNWAY_HOSTS" in out


def test_replay_with_a_configuration_the_functions_refuse_exits_2(
    emulator: EmulatorServer, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUNWAY_URL_MAP")
    monkeypatch.setenv("RUNWAY_SCOPE", f"{P},example-proj")
    deploy(emulator, "hello", project="example-proj")
    code, out = invoke("replay", str(EVENTS / "v1-replace-service.json"), "--function", "sync_routes")
    assert code == 2 and "RUNWAY_URL_MAP" in out and "Traceback" not in out

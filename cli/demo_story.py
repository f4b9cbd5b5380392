"""The story `make demo` tells, step by step: each step acts as a user would, then reads the outcome back from the
emulated APIs (the service, its route status, the URL map, the decision log) and checks it."""

from __future__ import annotations

from typing import Any

import click

from cli.demo_actor import Story


def play(s: Story) -> None:
    s.step("A developer deploys `hello` open to all traffic (ingress ALL), with the v2 API")
    s.deploy("hello", principal="alice@example.com")
    ingress = s.ingress("hello")
    s.show(f"hello's ingress now: {ingress}")
    s.expect(
        ingress == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
        "enforce_ingress set it to internal-and-cloud-load-balancing",
    )
    for d in [d for d in s.decisions("enforce_ingress", "hello") if d["action"] == "ingress_remediated"][:1]:
        s.show(
            f"decision log: {d['action']} {d.get('before')} -> {d.get('after')}, principal {d.get('principal')}, "
            f"{d.get('seconds_to_remediate')} s after the change"
        )

    s.step("`catalog` is deployed public (anyone may invoke it), labeled public-route=true")
    s.deploy("catalog", labels={"public-route": "true"}, principal="bob@example.com", public=True)
    routes = s.routes_of("catalog")
    s.show(f"routes of catalog on the shared URL map: {routes}")
    s.expect(routes == [("*", "/catalog"), ("*", "/catalog/*")], "catalog is published at /catalog and /catalog/*")
    label, status = s.status("catalog")
    s.show(f"on the service: label runway-route={label}, urls {status.get('urls')}")
    s.expect(label == "published", "the service says it is published, and where")

    s.step("`storefront` asks for the `shop` host alias: public-route=store, public-host=shop")
    s.deploy(
        "storefront",
        labels={"public-route": "store", "public-host": "shop"},
        principal="carol@example.com",
        public=True,
    )
    routes = s.routes_of("storefront")
    s.show(f"routes of storefront: {routes}")
    s.expect(
        {h for h, _ in routes} == {"shop.example.com", "www.shop.example.com"}
        and {p for _, p in routes} == {"/store", "/store/*"},
        "storefront is on the shop hosts at /store",
    )
    _play_reachability(s)
    _play_changes(s)


def _play_reachability(s: Story) -> None:
    s.step("`reports` is labeled public-route=true but only its team may invoke it")
    s.deploy("reports", labels={"public-route": "true"}, principal="erin@example.com")
    label, status = s.status("reports")
    s.show(f"on the service: runway-route={label}; {status.get('reason', '')[:110]}...")
    s.expect(label == "unreachable", "published, but the service says the load balancer would get 403")
    result = s.explain("reports")
    first = next((c for c in result.checks if c.status == "fail"), None)
    s.show(
        f"$ python main.py explain reports  -> exit {result.exit_code}; first failure: {first.name if first else '-'}"
    )
    s.expect(result.exit_code == 1 and first is not None, "explain points at the invoker check")
    s.show("its owner allows unauthenticated calls (allUsers gets roles/run.invoker)")
    s.allow_all_users("reports", principal="erin@example.com")
    label, _ = s.status("reports")
    s.expect(label == "published", "the SetIamPolicy event rechecked it: now published and reachable")


def _play_changes(s: Story) -> None:
    """The second half of the story: a relabel, a conflict, an unlabel, then the sweep."""
    s.step("A developer renames catalog's route to `products` with gcloud")
    how = s.gcloud_relabel("catalog", "public-route=products")
    routes = s.routes_of("catalog")
    s.show(f"relabelled through {how}; routes of catalog now: {routes}")
    s.expect(routes == [("*", "/products"), ("*", "/products/*")], "the route moved to /products")
    updated = [d for d in s.decisions("sync_routes", "catalog") if d["action"] == "route_updated"]
    if updated:
        s.show(f"decision log: route_updated by {updated[-1].get('principal')} ({updated[-1].get('method')})")

    s.step("`intruder` claims the path /products that catalog holds")
    s.deploy("intruder", labels={"public-route": "products"}, principal="mallory@example.com", public=True)
    conflicts = [d for d in s.decisions("sync_routes", "intruder") if d["action"] == "route_conflict"]
    s.expect(bool(conflicts) and s.routes_of("intruder") == [], "intruder got no route")
    label, status = s.status("intruder")
    s.show(f"on the service: runway-route={label}, holder {status.get('holder')}")
    s.expect(label == "conflict", "the service says who holds its path")
    s.expect(s.routes_of("catalog") == [("*", "/products"), ("*", "/products/*")], "catalog kept /products")

    s.step("storefront's public-route label is removed")
    before = s.owned_objects()
    s.set_labels("storefront", {}, principal="carol@example.com")
    after = s.owned_objects()
    s.show(
        f"runway-owned backend services: {len(before[0])} -> {len(after[0])}; NEGs: {len(before[1])} -> {len(after[1])}"
    )
    s.expect(
        s.routes_of("storefront") == [] and len(after[0]) == len(before[0]) - 1,
        "its routes, backend service and NEG are gone",
    )
    s.expect(s.status("storefront") == (None, {}), "and so is its route status")

    s.step("The scheduled sweep (reconcile_all) runs over every service and region")
    import requests

    reply = requests.post(s.stack.functions["reconcile_all"].url, json={}, timeout=120)
    body = reply.json()
    s.show(f"HTTP {reply.status_code}: {body['services']} services, changes: {body['changes'] or 'none'}")
    s.show(f"posture: {body['posture']}")
    s.expect(reply.status_code == 200 and body["changes"] == [], "the sweep found nothing left to do")


def checkup(s: Story) -> None:
    """The platform team's preflight, as `python main.py doctor` runs it."""
    from cli.doctor import as_text
    from cli.doctor_checks import doctor
    from cli.doctor_read import observe
    from cli.explain_model import FAIL

    s.step("The platform team's preflight: python main.py doctor")
    identities = {name: s.stack.identity(name) for name in ("enforce_ingress", "sync_routes", "reconcile_all")}
    targets = {name: s.stack.functions[name].url for name in ("enforce_ingress", "sync_routes")}
    checks: Any = doctor(observe(s.config, s.config.project or "", identities, targets))
    click.echo("\n".join(f"    {line}" for line in as_text(checks, s.config.project or "").splitlines()[2:]))
    s.expect(not any(c.status == FAIL for c in checks), "every check passes")

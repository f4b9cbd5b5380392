"""The live routing table of the shared load balancer: host → path → service → regions, read from the URL map
and the backend services (`python main.py routes`), with the routes counted per service project.

The URL map is in the load balancer's project; each backend service (and so each route) is in its service's
project, which the table shows in a column of its own once any differs from the load balancer's.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from shared.api_compute import get_url_map, list_backend_services
from shared.clients import ComputeClients
from shared.naming import last_segment, parse_marker, relative_name
from shared.plan_objects import neg_regions


@dataclass(frozen=True)
class Route:
    host: str
    path: str
    service: str  # project/service for runway's routes; the backend's name otherwise
    regions: tuple[str, ...]
    backend: str
    owner: str  # the runway owner id, or "" for what runway does not manage
    project: str = ""  # the service's project (of the backend service, for what runway does not manage)


def read_routes(compute: ComputeClients, project: str, url_map: str) -> tuple[list[Route], str]:
    """Every path rule of the URL map, one row per host and path, and the map's default backend."""
    umap = get_url_map(compute, project, url_map)
    matchers = {m.get("name"): m for m in umap.get("pathMatchers", [])}
    # Backend services live in their services' projects: list each project the map references once.
    paths = {
        relative_name(str(rule.get("service", "")), project)
        for m in matchers.values()
        for rule in m.get("pathRules", [])
    }
    backends = {
        f"projects/{p}/global/backendServices/{b['name']}": b
        for p in sorted({path.split("/")[1] for path in paths if path.startswith("projects/")})
        for b in list_backend_services(compute, p)
    }
    rows: list[Route] = []
    for host_rule in umap.get("hostRules", []):
        matcher = matchers.get(host_rule.get("pathMatcher"), {})
        for rule in matcher.get("pathRules", []):
            path_of = relative_name(str(rule.get("service", "")), project)
            backend = last_segment(path_of)
            marker = parse_marker(backends.get(path_of, {}).get("description"))
            regions = tuple(sorted(neg_regions(backends.get(path_of))))
            parts = path_of.split("/")
            owner_project = marker.ref.project if marker else parts[1] if parts[0] == "projects" else project
            for host in host_rule.get("hosts", []):
                for path in rule.get("paths", []):
                    rows.append(
                        Route(
                            host,
                            path,
                            str(marker.ref) if marker else backend,
                            regions,
                            backend,
                            marker.owner if marker else "",
                            owner_project,
                        )
                    )
    rows.sort(key=lambda r: (r.host, r.path))
    return rows, last_segment(str(umap.get("defaultService", "")))


def only_projects(rows: Sequence[Route], projects: Collection[str]) -> list[Route]:
    """The routes of services in `projects` (all of them when it is empty)."""
    return [r for r in rows if not projects or r.project in projects]


def by_project(rows: Sequence[Route]) -> list[dict[str, Any]]:
    """Per service project, sorted: its routes (host and path pairs) and the services they reach."""
    routes = Counter(r.project for r in rows)
    services = Counter(project for project, _ in {(r.project, r.service) for r in rows})
    return [{"project": p, "routes": routes[p], "services": services[p]} for p in sorted(routes)]


def as_table(rows: list[Route], default: str, *, lb_project: str | None = None) -> str:
    """The table; a PROJECT column when some route's project is not `lb_project`; routes per project below."""
    wide = any(r.project != lb_project for r in rows) if lb_project else False
    header = ("HOST", "PATH", *(("PROJECT",) if wide else ()), "SERVICE", "REGIONS", "BACKEND")
    lines = [header] + [
        (r.host, r.path, *((r.project,) if wide else ()), r.service, ",".join(r.regions) or "-", r.backend)
        for r in rows
    ]
    lines.append(("*", "(anything else)", *(("-",) if wide else ()), "-", "-", default))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    table = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in lines]
    footer = [
        f"  {c['project']}: {_count(c['routes'], 'route')} to {_count(c['services'], 'service')}"
        for c in by_project(rows)
    ]
    return "\n".join([*table, "", "Routes per project:", *(footer or ["  none"])])


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def as_json(rows: list[Route], default: str) -> str:
    return json.dumps(
        {"default_backend": default, "routes": [asdict(r) for r in rows], "by_project": by_project(rows)}, indent=2
    )


def as_mermaid(rows: list[Route], default: str, url_map: str) -> str:
    """A flowchart: the URL map, its hosts, and the services each path reaches (paste into any Markdown)."""
    lines = ["flowchart LR", f'  lb["URL map {url_map}"]']
    hosts = sorted({r.host for r in rows})
    services = sorted({(r.service, r.regions) for r in rows})
    host_id = {h: f"h{i}" for i, h in enumerate(hosts)}
    service_id = {s: f"s{i}" for i, s in enumerate(services)}
    for host, hid in host_id.items():
        lines.append(f'  lb --> {hid}["{host}"]')
    for (service, regions), sid in service_id.items():
        lines.append(f'  {sid}["{service}<br/>{", ".join(regions) or "no NEG"}"]')
    edges: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        edges.setdefault((host_id[r.host], service_id[(r.service, r.regions)]), []).append(r.path)
    for (hid, sid), paths in sorted(edges.items()):
        lines.append(f'  {hid} -->|"{", ".join(paths)}"| {sid}')
    lines.append(f'  lb -.->|"default"| d["{default}"]')
    return "\n".join(lines)

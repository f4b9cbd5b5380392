"""What goes wrong in an organization, done through the real APIs: the sink paused (its entries lost, as in an
outage), and a project outside the organization whose own sink feeds runway's topic (someone's mistake). The
organization-mode demo and e2e tests use them to show what the sweep and the scope check are for."""

from __future__ import annotations

from .org import OrgSetup, _api, sink_filter


def pause_sink(endpoint: str, setup: OrgSetup, paused: bool) -> None:
    """Disable (or enable again) the organization's sink: while it is disabled, entries are not routed, ever."""
    logging = _api(endpoint, "logging", "v2")
    parents = logging.folders() if setup.scope.startswith("folders/") else logging.organizations()
    name = f"{setup.scope}/sinks/{setup.sink['name']}"
    parents.sinks().patch(sinkName=name, updateMask="disabled", body={"disabled": paused}).execute()


def misroute_project(endpoint: str, setup: OrgSetup, project: str) -> str:
    """A project-level sink in `project` (outside the scope) to runway's topic, its writer allowed to publish.
    Returns the sink's writer identity."""
    sink = (
        _api(endpoint, "logging", "v2")
        .projects()
        .sinks()
        .create(
            parent=f"projects/{project}",
            uniqueWriterIdentity=True,
            body={"name": "to-runway", "destination": f"pubsub.googleapis.com/{setup.topic}", "filter": sink_filter()},
        )
        .execute()
    )
    writer = str(sink["writerIdentity"])
    topics = _api(endpoint, "pubsub", "v1").projects().topics()
    policy = topics.getIamPolicy(resource=setup.topic).execute()
    bindings = [*policy.get("bindings", []), {"role": "roles/pubsub.publisher", "members": [writer]}]
    topics.setIamPolicy(resource=setup.topic, body={"policy": {"bindings": bindings}}).execute()
    return writer

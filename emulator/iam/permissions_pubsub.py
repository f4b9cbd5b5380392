"""The permissions of Pub/Sub and of Logging's sinks (inferred from each API's permission naming: `pubsub.topics.*`,
`pubsub.subscriptions.*`, `logging.sinks.*`; docs/google-apis.md §9.5 for what the sinks are for).

A topic's or subscription's own IAM policy grants too (the resource of each need), as Pub/Sub's resource-level
policies do; a sink's permission is checked on its parent (project, folder or organization).
"""

from __future__ import annotations

from collections.abc import Callable

from .needs import Check, Ctx, Need, project_scope, rpc_denied

Needs = Callable[[Ctx], list[Need]]
TOPICS = "/v1/projects/<project>/topics"
TOPIC = f"{TOPICS}/<pubsub_id:topic>"
SUBSCRIPTIONS = "/v1/projects/<project>/subscriptions"
SUBSCRIPTION = f"{SUBSCRIPTIONS}/<pubsub_id:subscription>"
_SOURCE = "inferred (Pub/Sub's permission names)"


def _pubsub(permission: str, kind: str | None = None) -> Needs:
    """`permission` in the path's project; on the topic or subscription itself when `kind` names one."""

    def needs(ctx: Ctx) -> list[Need]:
        project = ctx.args["project"]
        name = f"projects/{project}/{kind}s/{ctx.args[kind]}" if kind else f"projects/{project}"
        resource = name if kind else None
        return [Need(permission, project_scope(project), rpc_denied(permission, name), resource=resource)]

    return needs


def _check(method: str, permission: str, kind: str | None, also: str = "") -> Check:
    return Check(method, (permission,), _pubsub(permission, kind), also, _SOURCE)


PUBSUB: dict[tuple[str, str], Check] = {
    ("PUT", TOPIC): _check("pubsub.projects.topics.create", "pubsub.topics.create", "topic"),
    ("GET", TOPIC): _check("pubsub.projects.topics.get", "pubsub.topics.get", "topic"),
    ("DELETE", TOPIC): _check("pubsub.projects.topics.delete", "pubsub.topics.delete", "topic"),
    ("GET", TOPICS): _check("pubsub.projects.topics.list", "pubsub.topics.list", None),
    ("POST", f"{TOPIC}:publish"): _check("pubsub.projects.topics.publish", "pubsub.topics.publish", "topic"),
    ("GET", f"{TOPIC}/subscriptions"): _check(
        "pubsub.projects.topics.subscriptions.list", "pubsub.topics.get", "topic"
    ),
    ("GET", f"{TOPIC}:getIamPolicy"): _check(
        "pubsub.projects.topics.getIamPolicy", "pubsub.topics.getIamPolicy", "topic"
    ),
    ("POST", f"{TOPIC}:setIamPolicy"): _check(
        "pubsub.projects.topics.setIamPolicy", "pubsub.topics.setIamPolicy", "topic"
    ),
    ("POST", f"{TOPIC}:testIamPermissions"): Check(
        "pubsub.projects.topics.testIamPermissions", (), lambda ctx: [], source=_SOURCE
    ),
    ("PUT", SUBSCRIPTION): _check(
        "pubsub.projects.subscriptions.create", "pubsub.subscriptions.create", "subscription",
        "`pubsub.topics.attachSubscription` on the topic (not checked)",
    ),
    ("GET", SUBSCRIPTION): _check("pubsub.projects.subscriptions.get", "pubsub.subscriptions.get", "subscription"),
    ("DELETE", SUBSCRIPTION): _check(
        "pubsub.projects.subscriptions.delete", "pubsub.subscriptions.delete", "subscription"
    ),
    ("GET", SUBSCRIPTIONS): _check("pubsub.projects.subscriptions.list", "pubsub.subscriptions.list", None),
    **{
        ("POST", f"{SUBSCRIPTION}:{verb}"): _check(
            f"pubsub.projects.subscriptions.{verb}", "pubsub.subscriptions.consume", "subscription"
        )
        for verb in ("pull", "acknowledge", "modifyAckDeadline")
    },
}  # fmt: skip


def _sinks(permission: str, kind: str) -> Needs:
    def needs(ctx: Ctx) -> list[Need]:
        parent = f"{kind}/{ctx.args['parent_id']}"
        return [Need(permission, parent, rpc_denied(permission, parent))]

    return needs


SINKS: dict[tuple[str, str], Check] = {
    key: Check(method, (permission,), _sinks(permission, kind), source="inferred (Logging's permission names)")
    for kind in ("projects", "folders", "organizations")
    for key, method, permission in (
        (("POST", f"/v2/{kind}/<parent_id>/sinks"), f"logging.{kind}.sinks.create", "logging.sinks.create"),
        (("GET", f"/v2/{kind}/<parent_id>/sinks"), f"logging.{kind}.sinks.list", "logging.sinks.list"),
        (("GET", f"/v2/{kind}/<parent_id>/sinks/<sink_id>"), f"logging.{kind}.sinks.get", "logging.sinks.get"),
        (("PUT", f"/v2/{kind}/<parent_id>/sinks/<sink_id>"), f"logging.{kind}.sinks.update", "logging.sinks.update"),
        (("PATCH", f"/v2/{kind}/<parent_id>/sinks/<sink_id>"), f"logging.{kind}.sinks.patch", "logging.sinks.update"),
        (("DELETE", f"/v2/{kind}/<parent_id>/sinks/<sink_id>"), f"logging.{kind}.sinks.delete", "logging.sinks.delete"),
    )
}

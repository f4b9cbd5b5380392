"""The Pub/Sub v1 route table: REST paths of the pubsub.v1 discovery document → `PubSubApi` calls."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import BaseConverter

from ..http import arg, principal, request_json
from ..routing import Route, RouteTable
from .api import PubSubApi

TOPIC = "/v1/projects/<project>/topics/<pubsub_id:topic>"
SUBSCRIPTION = "/v1/projects/<project>/subscriptions/<pubsub_id:subscription>"


class PubSubIdConverter(BaseConverter):
    """A topic or subscription id: never holds `:`, so `T:publish` is the publish method of topic T, not a topic."""

    regex = r"[^/:]+"


def create_topic(api: PubSubApi, project: str, topic: str) -> Any:
    return api.create_topic(project, topic, request_json())


def get_topic(api: PubSubApi, project: str, topic: str) -> Any:
    return api.get_topic(project, topic)


def list_topics(api: PubSubApi, project: str) -> Any:
    return api.list_topics(project, arg("pageSize"), arg("pageToken"))


def delete_topic(api: PubSubApi, project: str, topic: str) -> Any:
    return api.delete_topic(project, topic)


def publish(api: PubSubApi, project: str, topic: str) -> Any:
    return api.publish(project, topic, request_json())


def list_topic_subscriptions(api: PubSubApi, project: str, topic: str) -> Any:
    return api.list_topic_subscriptions(project, topic, arg("pageSize"), arg("pageToken"))


def get_iam_policy(api: PubSubApi, project: str, topic: str) -> Any:
    return api.get_iam_policy(project, topic)


def set_iam_policy(api: PubSubApi, project: str, topic: str) -> Any:
    return api.set_iam_policy(project, topic, request_json())


def test_iam_permissions(api: PubSubApi, project: str, topic: str) -> Any:
    return api.test_iam_permissions(project, topic, request_json(), principal())


def create_subscription(api: PubSubApi, project: str, subscription: str) -> Any:
    return api.create_subscription(project, subscription, request_json())


def get_subscription(api: PubSubApi, project: str, subscription: str) -> Any:
    return api.get_subscription(project, subscription)


def list_subscriptions(api: PubSubApi, project: str) -> Any:
    return api.list_subscriptions(project, arg("pageSize"), arg("pageToken"))


def delete_subscription(api: PubSubApi, project: str, subscription: str) -> Any:
    return api.delete_subscription(project, subscription)


def pull(api: PubSubApi, project: str, subscription: str) -> Any:
    return api.pull(project, subscription, request_json())


def acknowledge(api: PubSubApi, project: str, subscription: str) -> Any:
    return api.acknowledge(project, subscription, request_json())


def modify_ack_deadline(api: PubSubApi, project: str, subscription: str) -> Any:
    return api.modify_ack_deadline(project, subscription, request_json())


TABLE = RouteTable(
    "pubsub",
    (
        Route("PUT", TOPIC, create_topic),
        Route("GET", TOPIC, get_topic),
        Route("DELETE", TOPIC, delete_topic),
        Route("GET", "/v1/projects/<project>/topics", list_topics),
        Route("POST", f"{TOPIC}:publish", publish),
        Route("GET", f"{TOPIC}/subscriptions", list_topic_subscriptions),
        Route("GET", f"{TOPIC}:getIamPolicy", get_iam_policy),
        Route("POST", f"{TOPIC}:setIamPolicy", set_iam_policy),
        Route("POST", f"{TOPIC}:testIamPermissions", test_iam_permissions),
        Route("PUT", SUBSCRIPTION, create_subscription),
        Route("GET", SUBSCRIPTION, get_subscription),
        Route("DELETE", SUBSCRIPTION, delete_subscription),
        Route("GET", "/v1/projects/<project>/subscriptions", list_subscriptions),
        Route("POST", f"{SUBSCRIPTION}:pull", pull),
        Route("POST", f"{SUBSCRIPTION}:acknowledge", acknowledge),
        Route("POST", f"{SUBSCRIPTION}:modifyAckDeadline", modify_ack_deadline),
    ),
    converters={"pubsub_id": PubSubIdConverter},
)

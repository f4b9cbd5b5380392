"""Pub/Sub resource names and the errors Pub/Sub answers about them."""

from __future__ import annotations

import re
from typing import Any

from ..errors import ApiError, invalid

# Topic and subscription ids: start with a letter, 3 to 255 characters of letters, digits and `-_.~+%`, and not
# start with `goog` (Pub/Sub resource-name rules).
_RESOURCE_ID = re.compile(r"[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}")
TOPIC_NAME = re.compile(r"projects/(?P<project>[^/]+)/topics/(?P<id>[^/]+)")
SUBSCRIPTION_NAME = re.compile(r"projects/(?P<project>[^/]+)/subscriptions/(?P<id>[^/]+)")
DELETED_TOPIC = "_deleted-topic_"  # what a subscription's `topic` becomes when its topic is deleted
NAMING_RULES = "https://cloud.google.com/pubsub/docs/pubsub-basics#resource_names"


def bad_name(name: str) -> ApiError:
    return invalid(f"Invalid resource name given (name={name}). Refer to {NAMING_RULES} for more information.")


def not_found(name: str) -> ApiError:
    return ApiError(404, f"Resource not found (resource={name.rsplit('/', 1)[-1]}).")


def already_exists(name: str) -> ApiError:
    return ApiError(409, f"Resource already exists in the project (resource={name.rsplit('/', 1)[-1]}).")


def _check(name: str, pattern: re.Pattern[str]) -> str:
    match = pattern.fullmatch(name)
    if match is None:
        raise bad_name(name)
    ident = match.group("id")
    if not _RESOURCE_ID.fullmatch(ident) or ident.lower().startswith("goog"):
        raise bad_name(name)
    return name


def topic_name(project: str, topic: str) -> str:
    return _check(f"projects/{project}/topics/{topic}", TOPIC_NAME)


def subscription_name(project: str, subscription: str) -> str:
    return _check(f"projects/{project}/subscriptions/{subscription}", SUBSCRIPTION_NAME)


def check_topic(name: str) -> str:
    """A full topic name (`projects/P/topics/T`), as subscriptions and Eventarc transports give it."""
    return _check(name, TOPIC_NAME)


def check_labels(labels: Any) -> None:
    if labels is not None and (not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values())):
        raise invalid("labels must be a map of strings")

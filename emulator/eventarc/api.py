"""Eventarc v1: projects.locations.triggers and .operations, and delivery of audit-log CloudEvents.

Only `destination.httpEndpoint` triggers receive events: `cloudRun`, `cloudFunction`, `gke` and `workflow`
destinations are validated and stored, but the emulator has nothing to push to (each skipped delivery is recorded).
"""

from __future__ import annotations

import copy
import secrets
import threading
import time
from typing import Any

from ..clock import monotonic, now, rfc3339
from ..errors import ApiError, invalid
from ..paging import list_page
from ..runtime import Runtime
from .cloudevent import binary_request, event_attributes, event_locations
from .delivery import Dispatcher
from .matching import filters_match, location_matches
from .pubsub_triggers import PubSubTransport, is_pubsub_trigger
from .triggers import TRIGGER_TYPE, build_trigger, check_location, check_trigger_id, not_found

OPERATION_METADATA_TYPE = "type.googleapis.com/google.cloud.eventarc.v1.OperationMetadata"
_ORDER_KEYS = {
    "name": "name",
    "create_time": "createTime",
    "createtime": "createTime",
    "update_time": "updateTime",
    "updatetime": "updateTime",
    "trigger_id": "name",
}


class EventarcApi:
    name = "eventarc"

    def __init__(self, emu: Runtime) -> None:
        self.emu = emu
        self._lock = threading.Lock()
        self._triggers: dict[str, dict[str, Any]] = {}
        self._operations: dict[str, dict[str, Any]] = {}
        self.dispatcher = Dispatcher(lambda: self.emu.settings)
        self.transport = PubSubTransport()  # Pub/Sub triggers' topics and subscriptions; the emulator connects it

    # ------------------------------------------------------------------------------------------ the emulator seam

    def deliver_audit_entry(self, entry: dict[str, Any]) -> None:
        """Queue the entry's CloudEvent for every matching trigger of its project, to be pushed after the audit
        delivery delay (`auditDeliveryDelay`); never waits for delivery."""
        attributes = event_attributes(entry)
        project = str(entry["logName"]).split("/")[1]
        locations = event_locations(entry)
        with self._lock:
            triggers = [copy.deepcopy(t) for t in self._triggers.values() if t["name"].split("/")[1] == project]
        headers, body = binary_request(entry)
        copies = 1 + self.emu.faults.duplicate_deliveries
        for trigger in triggers:
            location = trigger["name"].split("/")[3]
            if not location_matches(location, locations) or not filters_match(trigger["eventFilters"], attributes):
                continue
            endpoint = trigger["destination"].get("httpEndpoint")
            if not endpoint:
                kind = next(iter(trigger["destination"]))
                self.dispatcher.record(
                    trigger=trigger["name"],
                    eventId=attributes["id"],
                    outcome="not_delivered",
                    reason=f"destination {kind} is not emulated; only httpEndpoint receives events",
                )
                continue
            max_attempts = (
                1 if trigger.get("retryPolicy", {}).get("maxAttempts") else self.emu.settings.delivery_max_attempts
            )
            self.dispatcher.submit(
                trigger=trigger["name"],
                uri=endpoint["uri"],
                headers=headers,
                body=body,
                event_id=attributes["id"],
                copies=copies,
                max_attempts=max_attempts,
                delay=self.emu.audit_delivery_delay,
            )

    def drain(self, timeout: float | None) -> bool:
        """Wait until every event is delivered or dropped, those still to be written included (the last audit
        entries of operations still running, `runtime.scheduler`) and Pub/Sub's pushes (Eventarc's transport, and
        what log sinks publish); False if `timeout` passed first."""
        deadline = None if timeout is None else monotonic() + timeout

        def left() -> float | None:
            return None if deadline is None else max(0.0, deadline - monotonic())

        waits = [self.emu.scheduler.wait_idle, self.dispatcher.drain]
        if self.transport.pubsub is not None:
            waits.append(self.transport.pubsub.drain)
        while True:  # one quiet pass over all of them: a push may cause a write that schedules or queues more
            if not all(wait(left()) for wait in waits):
                return False
            if all(wait(0) for wait in waits):
                return True

    def close(self) -> None:
        self.dispatcher.close()

    def reset(self) -> None:
        with self._lock:
            self._triggers.clear()
            self._operations.clear()
        self.dispatcher.reset()
        self.transport.reset()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            triggers = [copy.deepcopy(t) for t in self._triggers.values()]
            operations = [copy.deepcopy(o) for o in self._operations.values()]
        return {"triggers": triggers, "operations": operations, "deliveries": self.dispatcher.snapshot()}

    def deliveries(self) -> list[dict[str, Any]]:
        """Every push attempt recorded since the last reset (trigger, eventId, copy, attempt, status/error...)."""
        return self.dispatcher.attempts()

    # ------------------------------------------------------------------------------------------ the REST methods

    def create_trigger(
        self, project: str, location: str, trigger_id: str | None, body: dict[str, Any], *, validate_only: bool
    ) -> dict[str, Any]:
        check_location(location)
        trigger_id = check_trigger_id(trigger_id)
        trigger = build_trigger(project, location, trigger_id, body, rfc3339(now()))
        pubsub = is_pubsub_trigger(trigger)
        if pubsub:
            self.transport.prepare(trigger, body)
        if validate_only:
            return self._operation(project, location, "create", trigger, store=False)
        with self._lock:
            if trigger["name"] in self._triggers:
                raise ApiError(409, f"Resource '{trigger['name']}' already exists")
            self._triggers[trigger["name"]] = trigger
        if pubsub:
            try:
                self.transport.provision(trigger, body)
            except ApiError:
                with self._lock:
                    self._triggers.pop(trigger["name"], None)
                raise
        return self._operation(project, location, "create", trigger)

    def get_trigger(self, project: str, location: str, trigger_id: str) -> dict[str, Any]:
        name = f"projects/{project}/locations/{location}/triggers/{trigger_id}"
        with self._lock:
            trigger = self._triggers.get(name)
            if trigger is None:
                raise not_found(name)
            return copy.deepcopy(trigger)

    def list_triggers(
        self,
        project: str,
        location: str,
        filter_text: str | None,
        order_by: str | None,
        page_size: Any,
        page_token: Any,
    ) -> dict[str, Any]:
        if location != "-":
            check_location(location)
        if filter_text:
            raise ApiError(501, "The emulator does not implement ListTriggers filter; filter on the client side")
        prefix = f"projects/{project}/locations/{location}/" if location != "-" else f"projects/{project}/"
        with self._lock:
            triggers = [copy.deepcopy(t) for n, t in self._triggers.items() if n.startswith(prefix)]
        key, descending = self._order(order_by)
        triggers.sort(key=lambda t: t[key], reverse=descending)
        return list_page(triggers, "triggers", page_size, page_token, default=100, maximum=1000)

    @staticmethod
    def _order(order_by: str | None) -> tuple[str, bool]:
        if not order_by:
            return "name", False
        first = order_by.split(",")[0].split()
        key = _ORDER_KEYS.get(first[0].lower()) if first else None
        if key is None or len(first) > 2 or (len(first) == 2 and first[1].lower() not in ("asc", "desc")):
            raise invalid(f"Invalid orderBy '{order_by}': order by name, create_time or update_time, with desc")
        return key, len(first) == 2 and first[1].lower() == "desc"

    def delete_trigger(
        self,
        project: str,
        location: str,
        trigger_id: str,
        etag: str | None,
        *,
        validate_only: bool,
        allow_missing: bool,
    ) -> dict[str, Any]:
        name = f"projects/{project}/locations/{location}/triggers/{trigger_id}"
        with self._lock:
            trigger = self._triggers.get(name)
            if trigger is not None and etag and etag != trigger["etag"]:
                raise ApiError(
                    409, f"The etag '{etag}' of trigger '{name}' does not match its current etag", status="ABORTED"
                )
            if trigger is not None and not validate_only:
                del self._triggers[name]
        if trigger is None and not allow_missing:
            raise not_found(name)
        if trigger is not None and not validate_only and is_pubsub_trigger(trigger):
            self.transport.deprovision(trigger)
        return self._operation(project, location, "delete", trigger, target=name, store=not validate_only)

    def _operation(
        self,
        project: str,
        location: str,
        verb: str,
        trigger: dict[str, Any] | None,
        *,
        target: str | None = None,
        store: bool = True,
    ) -> dict[str, Any]:
        """A done google.longrunning.Operation: Eventarc's trigger writes finish before the emulator answers."""
        stamp = rfc3339(now())
        op_id = (
            f"operation-{int(time.time() * 1000)}-{secrets.token_hex(7)[:13]}-{secrets.token_hex(4)}-"
            f"{secrets.token_hex(4)}"
        )
        name = f"projects/{project}/locations/{location}/operations/{op_id}"
        operation: dict[str, Any] = {
            "name": name,
            "metadata": {
                "@type": OPERATION_METADATA_TYPE,
                "createTime": stamp,
                "endTime": stamp,
                "target": target or (trigger or {}).get("name"),
                "verb": verb,
                "requestedCancellation": False,
                "apiVersion": "v1",
            },
            "done": True,
        }
        if trigger is not None:
            operation["response"] = {"@type": TRIGGER_TYPE, **copy.deepcopy(trigger)}
        else:
            operation["response"] = {"@type": "type.googleapis.com/google.protobuf.Empty"}
        if store:
            with self._lock:
                self._operations[name] = operation
        return copy.deepcopy(operation)

    def get_operation(self, project: str, location: str, operation_id: str) -> dict[str, Any]:
        name = f"projects/{project}/locations/{location}/operations/{operation_id}"
        with self._lock:
            operation = self._operations.get(name)
            if operation is None:
                raise not_found(name)
            return copy.deepcopy(operation)

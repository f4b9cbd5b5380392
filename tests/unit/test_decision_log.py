"""The decision log: the line shape for every action, severities, trace fields, one line per call."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from shared.decision_log import (
    ACTION_NAMES,
    ACTIONS,
    COMMON_FIELDS,
    Action,
    DecisionLog,
    TraceContext,
)
from shared.model import ServiceKey

KEY = ServiceKey("my-proj", "us-central1", "hello")
NOW = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
TRACE = TraceContext("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", True)


def make_log(stream: io.StringIO, **context) -> DecisionLog:
    defaults = dict(
        function="enforce_ingress",
        event_id="ev-1",
        principal="dev@example.com",
        method="google.cloud.run.v1.Services.ReplaceService",
        dry_run=False,
        stream=stream,
        clock=lambda: NOW,
    )
    return DecisionLog(**(defaults | context))


def lines(stream: io.StringIO) -> list[dict]:
    text = stream.getvalue()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_action_table_is_the_design_table() -> None:
    assert dict(ACTIONS) == {
        "ingress_remediated": "NOTICE",
        "ingress_compliant": "DEBUG",
        "ingress_exempt": "WARNING",
        "route_registered": "NOTICE",
        "route_updated": "NOTICE",
        "route_removed": "NOTICE",
        "route_unchanged": "DEBUG",
        "route_conflict": "WARNING",
        "route_invalid": "WARNING",
        "route_unreachable": "WARNING",
        "event_ignored": "DEBUG",
        "event_invalid": "ERROR",
        "api_error": "ERROR",
        "sweep_summary": "INFO",
        "budget_warning": "WARNING",
    }
    assert tuple(ACTIONS) == ACTION_NAMES
    assert {a.value for a in Action} == set(ACTION_NAMES)


ACTION_CASES = [
    pytest.param(
        "ingress_remediated", {"before": "INGRESS_TRAFFIC_ALL", "after": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"}
    ),
    pytest.param("ingress_compliant", {}),
    pytest.param("ingress_exempt", {"reason": "RUNWAY_EXEMPT my-proj/*/*"}),
    pytest.param(
        "route_registered", {"host": "*", "paths": ["/hello", "/hello/*"], "backend": "runway-hello-1a2b3c4d"}
    ),
    pytest.param("route_updated", {"host": "*", "paths": ["/hi", "/hi/*"], "backend": "runway-hello-1a2b3c4d"}),
    pytest.param("route_removed", {"paths": ["/hello", "/hello/*"]}),
    pytest.param("route_unchanged", {}),
    pytest.param("route_conflict", {"host": "*", "paths": ["/hello"], "holder": "runway-other-00000000"}),
    pytest.param("route_invalid", {"reason": "label public-route='Bad' is not a slug"}),
    pytest.param("event_ignored", {"reason": "method SetIamPolicy is not one runway handles"}),
    pytest.param("event_invalid", {"reason": "data is not JSON"}),
    pytest.param("api_error", {"reason": "503 UNAVAILABLE"}),
]


@pytest.mark.parametrize(("action", "fields"), ACTION_CASES, ids=[p.values[0] for p in ACTION_CASES])
def test_line_shape_per_action(action: str, fields: dict) -> None:
    stream = io.StringIO()
    record = make_log(stream).decide(action, service=KEY, message=f"{action} for hello", **fields)
    [written] = lines(stream)
    assert written == record
    assert record == {
        "severity": ACTIONS[action],
        "message": f"{action} for hello",
        "component": "runway",
        "function": "enforce_ingress",
        "action": action,
        "service": "projects/my-proj/locations/us-central1/services/hello",
        "principal": "dev@example.com",
        "event_id": "ev-1",
        "method": "google.cloud.run.v1.Services.ReplaceService",
        "dry_run": False,
        **fields,
        "time": "2026-01-02T03:04:05.123456Z",
        "logging.googleapis.com/labels": {"runway_action": action},
    }
    assert list(record)[: len(COMMON_FIELDS)] == list(COMMON_FIELDS)


def test_unknown_action_is_a_programming_error() -> None:
    stream = io.StringIO()
    with pytest.raises(ValueError, match="unknown decision action 'ingress_fixed'"):
        make_log(stream).decide("ingress_fixed", service=KEY, message="x")
    assert stream.getvalue() == ""


@pytest.mark.parametrize(
    ("action", "fields", "missing"),
    [
        pytest.param("ingress_remediated", {"before": "INGRESS_TRAFFIC_ALL"}, "after", id="remediated-after"),
        pytest.param("route_conflict", {}, "holder", id="conflict-holder"),
        pytest.param("route_invalid", {}, "reason", id="route-invalid-reason"),
        pytest.param("event_invalid", {}, "reason", id="event-invalid-reason"),
    ],
)
def test_required_fields(action: str, fields: dict, missing: str) -> None:
    with pytest.raises(ValueError, match=f"needs fields \\['{missing}'\\]"):
        make_log(io.StringIO()).decide(action, service=KEY, message="x", **fields)


@pytest.mark.parametrize("field", ["severity", "component", "time", "logging.googleapis.com/labels", "principal"])
def test_common_fields_cannot_be_overridden(field: str) -> None:
    with pytest.raises(ValueError, match="are set by DecisionLog"):
        make_log(io.StringIO()).decide("route_unchanged", service=KEY, message="x", **{field: "y"})


def test_action_enum_and_string_service() -> None:
    stream = io.StringIO()
    record = make_log(stream).decide(Action.ROUTE_UNCHANGED, service="projects/p/locations/r/services/s", message="m")
    assert record["action"] == "route_unchanged"
    assert record["service"] == "projects/p/locations/r/services/s"
    assert record["logging.googleapis.com/labels"] == {"runway_action": "route_unchanged"}


def test_event_invalid_without_service() -> None:
    record = make_log(io.StringIO(), principal=None, method=None).decide(
        "event_invalid", message="bad event", reason="data is not JSON"
    )
    assert (record["service"], record["principal"], record["method"]) == (None, None, None)


def test_bind_changes_context_and_keeps_the_rest() -> None:
    stream = io.StringIO()
    base = make_log(stream, event_id=None, principal=None, method=None)
    bound = base.bind(event_id="ev-9", principal="ci@p.iam.gserviceaccount.com", dry_run=True)
    record = bound.decide("ingress_compliant", service=KEY, message="ok")
    assert (record["event_id"], record["principal"], record["dry_run"]) == (
        "ev-9",
        "ci@p.iam.gserviceaccount.com",
        True,
    )
    assert record["function"] == "enforce_ingress"
    assert base.event_id is None


def test_one_line_per_call_even_with_newlines_in_values() -> None:
    stream = io.StringIO()
    log = make_log(stream)
    for index in range(3):
        log.decide("route_invalid", service=KEY, message=f"line\n{index}", reason="a\nb")
    assert len(stream.getvalue().splitlines()) == 3
    assert [line["message"] for line in lines(stream)] == ["line\n0", "line\n1", "line\n2"]


def test_values_json_cannot_encode_are_converted() -> None:
    record = make_log(io.StringIO()).decide(
        "route_removed",
        service=KEY,
        message="m",
        paths={"/b", "/a"},
        key=KEY,
        when=datetime(2026, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=1))),
        other=object,
    )
    assert record["paths"] == ["/a", "/b"]
    assert record["key"] == KEY.name
    assert record["when"] == "2026-01-01T00:00:00.000000Z"
    assert record["other"] == "<class 'object'>"


def test_default_stream_is_stdout_at_write_time(capsys: pytest.CaptureFixture[str]) -> None:
    log = DecisionLog(function="reconcile_all", clock=lambda: NOW)
    record = log.decide("route_unchanged", service=KEY, message="m")
    out = capsys.readouterr().out
    assert json.loads(out) == record
    assert log.stream is None and sys.stdout is not None


def test_flushes_every_line() -> None:
    class Recording(io.StringIO):
        flushes = 0

        def flush(self) -> None:
            self.flushes += 1
            super().flush()

    stream = Recording()
    make_log(stream).decide("route_unchanged", service=KEY, message="m")
    assert stream.flushes == 1


def test_threads_never_interleave_lines() -> None:
    class Slow(io.StringIO):
        def write(self, text: str) -> int:  # write char by char: interleaving would show without the lock
            for char in text:
                super().write(char)
            return len(text)

    stream = Slow()
    log = make_log(stream)
    threads = [
        threading.Thread(
            target=lambda n=n: [log.decide("route_unchanged", service=KEY, message=f"t{n}") for _ in range(20)]
        )
        for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(lines(stream)) == 80


def test_real_clock_is_rfc3339_utc() -> None:
    record = DecisionLog(function="f", stream=io.StringIO()).decide("route_unchanged", service=KEY, message="m")
    parsed = datetime.fromisoformat(record["time"])
    assert record["time"].endswith("Z")
    assert abs(parsed - datetime.now(UTC)) < timedelta(minutes=1)


# --- trace ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param(
            {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
            TraceContext("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", True),
            id="traceparent-sampled",
        ),
        pytest.param(
            {"Traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"},
            TraceContext("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", False),
            id="traceparent-case-insensitive-not-sampled",
        ),
        pytest.param(
            {"traceparent": "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future"},
            TraceContext("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", True),
            id="traceparent-future-version",
        ),
        pytest.param(
            {"X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1;o=1"},
            TraceContext("105445aa7843bc8bf206b12000100000", "0000000000000001", True),
            id="xcloud",
        ),
        pytest.param(
            {"x-cloud-trace-context": "105445AA7843BC8BF206B12000100000/18446744073709551615;o=0"},
            TraceContext("105445aa7843bc8bf206b12000100000", "ffffffffffffffff", False),
            id="xcloud-max-span-uppercase",
        ),
        pytest.param(
            {"X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000"},
            TraceContext("105445aa7843bc8bf206b12000100000", None, False),
            id="xcloud-trace-only",
        ),
        pytest.param(
            {
                "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1;o=1",
            },
            TraceContext("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", True),
            id="traceparent-wins",
        ),
        pytest.param(
            {
                "traceparent": "garbage",
                "X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1;o=1",
            },
            TraceContext("105445aa7843bc8bf206b12000100000", "0000000000000001", True),
            id="bad-traceparent-falls-back",
        ),
        pytest.param({}, None, id="none"),
        pytest.param(None, None, id="no-headers"),
        pytest.param({"traceparent": "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, None, id="version-ff"),
        pytest.param(
            {"traceparent": "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}, None, id="zero-trace-id"
        ),
        pytest.param(
            {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"}, None, id="zero-span-id"
        ),
        pytest.param(
            {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"}, None, id="v00-extra"
        ),
        pytest.param(
            {"traceparent": "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"}, None, id="uppercase-hex"
        ),
        pytest.param({"X-Cloud-Trace-Context": "not-a-trace/1;o=1"}, None, id="xcloud-garbage"),
    ],
)
def test_trace_from_headers(headers, expected) -> None:
    assert TraceContext.from_headers(headers) == expected


def test_trace_fields_in_the_line() -> None:
    stream = io.StringIO()
    record = make_log(stream, trace=TRACE, project="fn-proj").decide("route_unchanged", service=KEY, message="m")
    assert record["logging.googleapis.com/trace"] == "projects/fn-proj/traces/4bf92f3577b34da6a3ce929d0e0e4736"
    assert record["logging.googleapis.com/spanId"] == "00f067aa0ba902b7"
    assert record["logging.googleapis.com/trace_sampled"] is True


def test_no_trace_fields_without_project_or_trace() -> None:
    no_project = make_log(io.StringIO(), trace=TRACE).decide("route_unchanged", service=KEY, message="m")
    no_trace = make_log(io.StringIO(), project="fn-proj").decide("route_unchanged", service=KEY, message="m")
    for record in (no_project, no_trace):
        assert not any(key.startswith("logging.googleapis.com/trace") for key in record)
        assert "logging.googleapis.com/spanId" not in record


def test_trace_without_span() -> None:
    trace = TraceContext("105445aa7843bc8bf206b12000100000")
    record = make_log(io.StringIO(), trace=trace, project="p").decide("route_unchanged", service=KEY, message="m")
    assert "logging.googleapis.com/spanId" not in record
    assert record["logging.googleapis.com/trace_sampled"] is False


def test_special_fields_match_structured_log_handler() -> None:
    # Every special key we write is one Cloud Logging lifts (the StructuredLogHandler's set, docs/google-apis.md §5.4).
    lifted = {
        "severity",
        "time",
        "logging.googleapis.com/labels",
        "logging.googleapis.com/spanId",
        "logging.googleapis.com/trace",
        "logging.googleapis.com/trace_sampled",
    }
    record = make_log(io.StringIO(), trace=TRACE, project="p").decide("route_unchanged", service=KEY, message="m")
    assert {k for k in record if k.startswith("logging.googleapis.com/")} | {"severity", "time"} == lifted


def test_importing_shared_logging_modules_stays_light() -> None:
    # google.cloud.logging costs ~0.8 s of cold start; the decision log and event decoding must not pull it in.
    code = (
        "import sys, shared.decision_log, shared.events, shared.config; "
        "heavy = [m for m in ('google.cloud.logging', 'google.cloud.logging_v2', 'google.cloud.compute_v1') "
        "if m in sys.modules]; print(heavy)"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert done.stdout.strip() == "[]"

"""Error classification: Google's exceptions (built with the library's own constructors) to runway's kinds."""

from __future__ import annotations

import json

import pytest
import requests
from google.api_core import exceptions as gexc
from google.api_core.retry import Retry
from google.auth import exceptions as auth_exc

from shared import errors
from shared.errors import (
    Conflict,
    InvalidRequest,
    NotFound,
    PermanentError,
    PermissionDenied,
    PreconditionFailed,
    RateLimited,
    ResourceInUse,
    ResourceNotReady,
    ServerError,
    TemporaryError,
    classify,
    is_transient,
)


def reason(value: str) -> list[dict[str, str]]:
    return [{"reason": value, "domain": "global", "message": "m"}]


def http_response(status: int, body: dict) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode()
    return response


STATUS_CASES = [
    pytest.param(400, {}, InvalidRequest, PermanentError, id="400"),
    pytest.param(
        400,
        {"errors": reason("resourceInUseByAnotherResource")},
        ResourceInUse,
        TemporaryError,
        id="400-in-use",
    ),
    pytest.param(401, {}, PermissionDenied, PermanentError, id="401"),
    pytest.param(403, {}, PermissionDenied, PermanentError, id="403"),
    pytest.param(403, {"errors": reason("forbidden")}, PermissionDenied, PermanentError, id="403-forbidden"),
    pytest.param(403, {"errors": reason("quotaExceeded")}, PermissionDenied, PermanentError, id="403-quota-count"),
    pytest.param(403, {"errors": reason("rateLimitExceeded")}, RateLimited, TemporaryError, id="403-rate-limit"),
    pytest.param(403, {"errors": reason("userRateLimitExceeded")}, RateLimited, TemporaryError, id="403-user-rate"),
    pytest.param(
        403,
        {"error_info": {"reason": "RATE_LIMIT_EXCEEDED", "domain": "googleapis.com"}},
        RateLimited,
        TemporaryError,
        id="403-error-info-rate",
    ),
    pytest.param(404, {"errors": reason("notFound")}, NotFound, PermanentError, id="404"),
    pytest.param(400, {"errors": reason("resourceNotReady")}, ResourceNotReady, TemporaryError, id="400-not-ready"),
    pytest.param(408, {}, ServerError, TemporaryError, id="408"),
    pytest.param(409, {}, Conflict, TemporaryError, id="409"),
    pytest.param(409, {"errors": reason("alreadyExists")}, Conflict, TemporaryError, id="409-already-exists"),
    pytest.param(412, {"errors": reason("conditionNotMet")}, PreconditionFailed, TemporaryError, id="412"),
    pytest.param(413, {}, InvalidRequest, PermanentError, id="413"),
    pytest.param(429, {}, RateLimited, TemporaryError, id="429"),
    pytest.param(499, {}, ServerError, TemporaryError, id="499-cancelled"),
    pytest.param(500, {}, ServerError, TemporaryError, id="500"),
    pytest.param(502, {}, ServerError, TemporaryError, id="502"),
    pytest.param(503, {}, ServerError, TemporaryError, id="503"),
    pytest.param(504, {}, ServerError, TemporaryError, id="504"),
]


@pytest.mark.parametrize(("status", "kwargs", "kind", "family"), STATUS_CASES)
def test_http_status(status: int, kwargs: dict, kind: type, family: type) -> None:
    original = gexc.from_http_status(status, "boom", **kwargs)
    classified = classify(original, method="urlMaps.patch", resource="projects/p/global/urlMaps/lb")
    assert type(classified) is kind
    assert isinstance(classified, family)
    assert classified.temporary is (family is TemporaryError)
    assert classified.code == status
    assert type(classified.code) is int
    assert classified.message == "boom"
    assert classified.method == "urlMaps.patch"
    assert classified.resource == "projects/p/global/urlMaps/lb"
    assert str(classified).startswith(str(status))
    assert str(classified).endswith("[urlMaps.patch projects/p/global/urlMaps/lb]")


@pytest.mark.parametrize(
    ("original", "status"),
    [
        pytest.param(gexc.from_http_status(409, "x"), "ABORTED", id="bare-409-is-aborted"),
        pytest.param(gexc.Aborted("stale etag"), "ABORTED", id="aborted-class"),
        pytest.param(gexc.AlreadyExists("x"), "ALREADY_EXISTS", id="already-exists-class"),
        pytest.param(
            gexc.from_http_status(409, "x", errors=reason("alreadyExists")), "ALREADY_EXISTS", id="compute-reason"
        ),
        pytest.param(
            gexc.from_http_status(409, "The resource 'projects/p/global/backendServices/bs' already exists"),
            "ALREADY_EXISTS",
            id="message-only",
        ),
        pytest.param(
            gexc.from_http_status(
                409,
                "x",
                response=http_response(409, {"error": {"code": 409, "message": "x", "status": "ALREADY_EXISTS"}}),
            ),
            "ALREADY_EXISTS",
            id="envelope-status",
        ),
        pytest.param(
            gexc.from_http_status(
                409,
                "Conflict for resource 'hello': version '1' was specified but current version is '2'.",
                response=http_response(409, {"error": {"code": 409, "message": "x", "status": "ABORTED"}}),
            ),
            "ABORTED",
            id="cloud-run-stale-version",
        ),
    ],
)
def test_conflict_keeps_which(original: gexc.GoogleAPICallError, status: str) -> None:
    classified = classify(original)
    assert isinstance(classified, Conflict)
    assert classified.status == status
    assert classified.already_exists is (status == "ALREADY_EXISTS")


def test_reason_is_kept() -> None:
    classified = classify(gexc.from_http_status(412, "stale", errors=reason("conditionNotMet")))
    assert classified.reason == "conditionNotMet"


def test_grpc_style_errors_without_http_code() -> None:
    assert type(classify(gexc.ResourceExhausted("quota"))) is RateLimited
    assert type(classify(gexc.ServiceUnavailable("down"))) is ServerError
    assert type(classify(gexc.DeadlineExceeded("slow"))) is ServerError
    assert type(classify(gexc.FailedPrecondition("bad"))) is InvalidRequest


def test_extended_operation_errors_with_code_items() -> None:
    class Item:  # the shape of a compute_v1 `Errors` proto: `code`, no `reason`
        code = "RESOURCE_IN_USE_BY_ANOTHER_RESOURCE"
        message = "in use"

    original = gexc.from_http_status(400, "in use", errors=[Item()])
    classified = classify(original)
    assert type(classified) is ResourceInUse
    assert classified.reason == "RESOURCE_IN_USE_BY_ANOTHER_RESOURCE"


TRANSPORT_CASES = [
    pytest.param(requests.exceptions.ConnectionError("refused"), ServerError, id="requests-connection"),
    pytest.param(requests.exceptions.ReadTimeout("slow"), ServerError, id="requests-read-timeout"),
    pytest.param(requests.exceptions.ConnectTimeout("slow"), ServerError, id="requests-connect-timeout"),
    pytest.param(requests.exceptions.ChunkedEncodingError("cut"), ServerError, id="requests-chunked"),
    pytest.param(requests.exceptions.MissingSchema("no scheme"), InvalidRequest, id="requests-missing-schema"),
    pytest.param(ConnectionResetError("reset"), ServerError, id="builtin-connection-reset"),
    pytest.param(TimeoutError("operation wait"), ServerError, id="builtin-timeout"),
    pytest.param(auth_exc.TransportError("metadata server"), ServerError, id="auth-transport"),
    pytest.param(auth_exc.RefreshError("invalid_grant"), PermissionDenied, id="auth-refresh"),
    pytest.param(auth_exc.RefreshError("flaky", retryable=True), ServerError, id="auth-refresh-retryable"),
    pytest.param(auth_exc.DefaultCredentialsError("no adc"), PermissionDenied, id="auth-no-credentials"),
    pytest.param(gexc.RetryError("gave up", cause=gexc.ServiceUnavailable("down")), ServerError, id="retry-error"),
    pytest.param(
        gexc.RetryError("gave up", cause=gexc.TooManyRequests("slow down")), RateLimited, id="retry-error-rate"
    ),
    pytest.param(gexc.RetryError("gave up", cause=None), ServerError, id="retry-error-no-cause"),
    pytest.param(gexc.DuplicateCredentialArgs("both"), InvalidRequest, id="client-construction"),
]


@pytest.mark.parametrize(("original", "kind"), TRANSPORT_CASES)
def test_transport_and_auth(original: BaseException, kind: type) -> None:
    classified = classify(original, method="services.get")
    assert type(classified) is kind
    cause = getattr(original, "cause", None)
    assert classified.code == (cause.code if cause is not None else None)
    assert classified.method == "services.get"


def test_requests_http_error_uses_the_envelope() -> None:
    response = http_response(
        403, {"error": {"code": 403, "message": "slow", "errors": reason("rateLimitExceeded"), "status": "x"}}
    )
    classified = classify(requests.exceptions.HTTPError("403", response=response))
    assert type(classified) is RateLimited
    assert classified.code == 403


def test_chaining_is_preserved() -> None:
    original = gexc.from_http_status(503, "unavailable")
    with pytest.raises(ServerError) as caught:
        try:
            raise original
        except errors.API_ERRORS as exc:
            raise classify(exc, method="urlMaps.get") from exc
    assert caught.value.__cause__ is original


def test_classified_errors_pass_through() -> None:
    already = NotFound("gone", code=404)
    assert classify(already) is already


def test_non_api_errors_are_not_classified() -> None:
    with pytest.raises(TypeError, match="not an API or transport error: KeyError"):
        classify(KeyError("bug"))


@pytest.mark.parametrize(
    ("original", "transient"),
    [
        pytest.param(gexc.from_http_status(429, "x"), True, id="429"),
        pytest.param(gexc.from_http_status(503, "x"), True, id="503"),
        pytest.param(gexc.from_http_status(403, "x", errors=reason("rateLimitExceeded")), True, id="403-rate"),
        pytest.param(requests.exceptions.ConnectionError("x"), True, id="connection"),
        pytest.param(gexc.from_http_status(409, "x"), False, id="409-needs-replan"),
        pytest.param(gexc.from_http_status(412, "x"), False, id="412-needs-replan"),
        pytest.param(gexc.from_http_status(404, "x"), False, id="404"),
        pytest.param(gexc.from_http_status(400, "x"), False, id="400"),
        pytest.param(gexc.from_http_status(403, "x"), False, id="403"),
        pytest.param(gexc.RetryError("x", cause=None), False, id="retry-error"),
        pytest.param(KeyError("bug"), False, id="bug"),
    ],
)
def test_is_transient(original: BaseException, transient: bool) -> None:
    assert is_transient(original) is transient


def test_retry_predicate_retries_only_transient() -> None:
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise gexc.from_http_status(503, "unavailable")
        return "ok"

    retry = Retry(predicate=is_transient, initial=0.001, maximum=0.002, timeout=5)
    assert retry(flaky)() == "ok"
    assert len(calls) == 3

    def stale() -> None:
        calls.append(1)
        raise gexc.from_http_status(412, "stale")

    calls.clear()
    with pytest.raises(gexc.PreconditionFailed):
        retry(stale)()
    assert len(calls) == 1


def test_default_retry_uses_the_predicate() -> None:
    retry = errors.default_retry(timeout=10)
    assert retry._predicate is is_transient

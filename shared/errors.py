"""API and transport failures mapped to the few kinds runway decides on.

Two families decide what a handler does with a failure:

- `TemporaryError`: rate limited, server errors, connection failures and timeouts, and a conflict or stale
  fingerprint (409/412) or a resource still in use that outlived the caller's bounded re-plan. The function
  raises, functions-framework answers 500, Eventarc redelivers (docs/google-apis.md §2.3).
- `PermanentError`: invalid request, permission denied, not found. Redelivery would fail the same way,
  so the handler logs the decision and acknowledges.

`classify(exc)` maps a google-api-core, requests or google-auth exception to one of the concrete types;
callers chain the original (`raise classify(e, method=…) from e`) so the transport's exception is kept
for debugging but never leaks into decisions. `is_transient` is the predicate for
`google.api_core.retry.Retry`: it retries only what a blind retry can fix (not 409/412, which need a
re-read and a new plan).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import requests
from google.api_core import exceptions as gexc
from google.auth import exceptions as auth_exc

if TYPE_CHECKING:
    from google.api_core.retry import Retry

T = TypeVar("T")

# Reasons from Google's error envelope (`errors[].reason`, ErrorInfo.reason) that change the kind.
# Compute's `quotaExceeded` is deliberately absent: it is a resource-count quota, which waiting does not fix.
_RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"})
_NOT_READY_REASONS = frozenset({"resourceNotReady", "RESOURCE_NOT_READY"})
_IN_USE_REASONS = frozenset({"resourceInUseByAnotherResource", "RESOURCE_IN_USE_BY_ANOTHER_RESOURCE"})
_ALREADY_EXISTS_REASONS = frozenset({"alreadyExists", "ALREADY_EXISTS", "RESOURCE_ALREADY_EXISTS"})


class RunwayApiError(Exception):
    """A classified API failure. `temporary` says whether redelivery can fix it."""

    temporary: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        status: str | None = None,
        reason: str | None = None,
        method: str | None = None,
        resource: str | None = None,
    ) -> None:
        self.message = message
        self.code = int(code) if code is not None else None  # HTTP status (a plain int), None for transport
        self.status = status  # canonical status name (NOT_FOUND, ABORTED, ALREADY_EXISTS, ...) when known
        self.reason = reason  # the envelope's reason (rateLimitExceeded, conditionNotMet, ...) when given
        self.method = method  # what runway was calling, e.g. "urlMaps.patch"
        self.resource = resource  # the resource it was called on
        super().__init__(str(self))

    def __str__(self) -> str:
        head = " ".join(str(part) for part in (self.code, self.status, self.reason) if part)
        context = " ".join(part for part in (self.method, self.resource) if part)
        text = f"{head}: {self.message}" if head else self.message
        return f"{text} [{context}]" if context else text


class TemporaryError(RunwayApiError):
    """Raise it: the function returns non-2xx and Eventarc redelivers."""

    temporary = True


class PermanentError(RunwayApiError):
    """Log it and acknowledge: redelivery would fail the same way."""


class NotFound(PermanentError):
    """404. Success when deleting; otherwise the thing referred to does not exist."""


class InvalidRequest(PermanentError):
    """400 and other 4xx without a more specific kind: runway sent something wrong."""


class PermissionDenied(PermanentError):
    """401/403 other than rate limits, and credentials that cannot be obtained."""


class Conflict(TemporaryError):
    """409: `ABORTED` (stale etag, concurrent write) or `ALREADY_EXISTS`; `status` says which."""

    @property
    def already_exists(self) -> bool:
        return self.status == "ALREADY_EXISTS"


class PreconditionFailed(TemporaryError):
    """412: the fingerprint sent is stale (Compute `conditionNotMet`)."""


class ResourceInUse(TemporaryError):
    """400 `resourceInUseByAnotherResource`: a delete raced a reference that will go away (docs/design.md §4)."""


class ResourceNotReady(TemporaryError):
    """400 `resourceNotReady`: a reference to an object whose own create is still running (a concurrent
    invocation made it a moment ago). Waiting fixes it."""


class RateLimited(TemporaryError):
    """429, RESOURCE_EXHAUSTED, or 403 with a rate-limit reason."""


class ServerError(TemporaryError):
    """5xx, connection failures and timeouts."""


# The exceptions `classify` understands: catch these, then classify.
API_ERRORS: tuple[type[BaseException], ...] = (
    gexc.GoogleAPIError,
    requests.exceptions.RequestException,
    auth_exc.GoogleAuthError,
    ConnectionError,
    TimeoutError,
)


def classify(exc: BaseException, *, method: str | None = None, resource: str | None = None) -> RunwayApiError:
    """Map an API or transport exception to a RunwayApiError (not raised, not chained: the caller does both).

    Raises TypeError for anything not in `API_ERRORS`: a programming error must not be mistaken for an
    outage or a bad request.
    """
    if isinstance(exc, RunwayApiError):
        return exc
    if isinstance(exc, gexc.RetryError):
        # api_core's Retry gave up; what it retried was transient by construction.
        if exc.cause is not None and isinstance(exc.cause, API_ERRORS):
            inner = classify(exc.cause, method=method, resource=resource)
            if inner.temporary:
                return inner
        return ServerError(f"retries exhausted: {exc.message}", method=method, resource=resource)
    if isinstance(exc, gexc.GoogleAPICallError):
        return _from_call_error(exc, method=method, resource=resource)
    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        return _from_status(
            exc.response.status_code, str(exc), _envelope(exc.response), method=method, resource=resource
        )
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return InvalidRequest(f"bad URL: {exc}", method=method, resource=resource)
    if isinstance(exc, auth_exc.TransportError):
        return ServerError(f"credentials transport failed: {exc}", method=method, resource=resource)
    if isinstance(exc, auth_exc.RefreshError) and getattr(exc, "retryable", False):
        return ServerError(f"credentials refresh failed: {exc}", method=method, resource=resource)
    if isinstance(exc, auth_exc.GoogleAuthError):
        return PermissionDenied(f"no usable credentials: {exc}", method=method, resource=resource)
    if isinstance(exc, requests.exceptions.RequestException | ConnectionError | TimeoutError):
        kind = "timed out" if isinstance(exc, requests.exceptions.Timeout | TimeoutError) else "transport failed"
        return ServerError(f"{kind}: {type(exc).__name__}: {exc}", method=method, resource=resource)
    if isinstance(exc, gexc.GoogleAPIError):
        # DuplicateCredentialArgs and the like: how the client was built, not what the server said.
        return InvalidRequest(f"{type(exc).__name__}: {exc}", method=method, resource=resource)
    raise TypeError(f"not an API or transport error: {type(exc).__name__}: {exc}")


def call(method: str, resource: str | None, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call a client method; an API or transport failure comes out classified, the original chained.

    The one place where client exceptions turn into runway's kinds: callers above the API modules only ever
    see RunwayApiError.
    """
    try:
        return fn(*args, **kwargs)
    except API_ERRORS as exc:
        raise classify(exc, method=method, resource=resource) from exc


def is_transient(exc: BaseException) -> bool:
    """Retry predicate for `google.api_core.retry.Retry`: rate limits, server and transport failures only."""
    if not isinstance(exc, API_ERRORS) or isinstance(exc, gexc.RetryError):
        return False
    return isinstance(classify(exc), RateLimited | ServerError)


def default_retry(timeout: float = 60.0) -> Retry:
    """A `Retry` for idempotent calls: exponential backoff with jitter on transient failures only."""
    from google.api_core.retry import Retry

    return Retry(predicate=is_transient, initial=0.5, maximum=8.0, multiplier=2.0, timeout=timeout)


# --- the envelope ------------------------------------------------------------------------------------


def _from_call_error(exc: gexc.GoogleAPICallError, *, method: str | None, resource: str | None) -> RunwayApiError:
    envelope = _envelope(exc.response)
    status = envelope.get("status") or (exc.grpc_status_code.name if exc.grpc_status_code is not None else None)
    reasons = [exc.reason, *_reasons(exc.errors)]
    info = {"status": status, "reasons": [r for r in reasons if r]}
    code = exc.code if exc.code is not None else _GRPC_TO_HTTP.get(status or "")
    return _from_status(code, exc.message or str(exc), info, method=method, resource=resource)


def _from_status(
    code: int | None, message: str, info: dict[str, Any], *, method: str | None, resource: str | None
) -> RunwayApiError:
    status = info.get("status")
    reasons: list[str] = list(info.get("reasons") or [])
    reason = reasons[0] if reasons else None

    def make(kind: type[RunwayApiError], why: str | None = reason, status: str | None = status) -> RunwayApiError:
        return kind(message, code=code, status=status, reason=why, method=method, resource=resource)

    rate_reason = next((r for r in reasons if r in _RATE_LIMIT_REASONS), None)
    if code == 429 or status == "RESOURCE_EXHAUSTED" or rate_reason:
        return make(RateLimited, rate_reason or reason)
    if code == 404:
        return make(NotFound)
    if code == 409:
        exists = status == "ALREADY_EXISTS" or any(r in _ALREADY_EXISTS_REASONS for r in reasons)
        if not exists and not status:
            exists = "already exists" in message.lower()
        return make(Conflict, status="ALREADY_EXISTS" if exists else (status or "ABORTED"))
    if code == 412:
        return make(PreconditionFailed)
    in_use = next((r for r in reasons if r in _IN_USE_REASONS), None)
    if in_use:
        return make(ResourceInUse, in_use)
    not_ready = next((r for r in reasons if r in _NOT_READY_REASONS), None)
    if not_ready:
        return make(ResourceNotReady, not_ready)
    if code in (401, 403):
        return make(PermissionDenied)
    if code == 501:
        return make(InvalidRequest)  # not implemented: no retry will change that
    if code in (408, 499) or (code is not None and code >= 500):
        return make(ServerError)
    if code is not None and 400 <= code < 500:
        return make(InvalidRequest)
    # No status at all (or a redirect): nothing says it is the request's fault, so let redelivery try again.
    return make(ServerError)


def _envelope(response: Any) -> dict[str, Any]:
    """`status` and `reasons` from Google's JSON error body, when the response is a requests.Response."""
    if not isinstance(response, requests.Response):
        return {}
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return {}
    if not isinstance(error, dict):
        return {}
    status = error.get("status") if isinstance(error.get("status"), str) else None
    reasons = _reasons(error.get("errors") or [])
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and isinstance(detail.get("reason"), str):
            reasons.append(detail["reason"])
    return {"status": status, "reasons": reasons}


def _reasons(errors: Iterable[Any]) -> list[str]:
    # Items are dicts from JSON bodies, or compute_v1 `Errors` protos (with `code`) from extended operations.
    found = []
    for item in errors if isinstance(errors, list | tuple) else []:
        for name in ("reason", "code"):
            value = item.get(name) if isinstance(item, dict) else getattr(item, name, None)
            if isinstance(value, str) and value:
                found.append(value)
                break
    return found


_GRPC_TO_HTTP = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ABORTED": 409,
    "ALREADY_EXISTS": 409,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INTERNAL": 500,
    "DATA_LOSS": 500,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}

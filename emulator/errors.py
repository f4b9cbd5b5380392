"""API errors that carry their wire format.

Google has two error envelopes. Cloud Run, Logging and Eventarc answer in the google.rpc.Status form
(`{"error": {"code", "message", "status", "details"}}`); Compute keeps its legacy form
(`{"error": {"code", "message", "errors": [{"domain", "reason", "message"}]}}`). The client libraries
parse each form differently (docs/google-apis.md §1.4, §3.5), so every error knows how to render both and the
app picks by path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

RPC_STATUS_BY_HTTP = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

COMPUTE_REASON_BY_HTTP = {
    400: "invalid",
    403: "forbidden",
    404: "notFound",
    409: "alreadyExists",
    412: "conditionNotMet",
    413: "fieldSizeTooLarge",
    429: "rateLimitExceeded",
    500: "backendError",
    503: "backendError",
}

DEFAULT_MESSAGE_BY_HTTP = {
    429: "Quota exceeded.",
    500: "Internal error. Please try again.",
    503: "The service is currently unavailable.",
    504: "The request timed out.",
}


class ApiError(Exception):
    """An error answer of an emulated API.

    `status` is the google.rpc code name (Run, Logging, Eventarc); `reason` the Compute reason string.
    Both default from the HTTP code, so callers only name them where Google uses a specific one.
    """

    def __init__(
        self,
        code: int,
        message: str | None = None,
        *,
        status: str | None = None,
        reason: str | None = None,
        details: list[dict[str, Any]] | None = None,
        location: str | None = None,
        location_type: str | None = None,
        more: Sequence[str] = (),
    ) -> None:
        message = message or DEFAULT_MESSAGE_BY_HTTP.get(code, "Error")
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or RPC_STATUS_BY_HTTP.get(code, "UNKNOWN")
        self.reason = reason or COMPUTE_REASON_BY_HTTP.get(code, "invalid")
        self.details = details or []
        self.location = location
        self.location_type = location_type
        # Further problems of the same request and reason: Compute lists each in `errors` (production's 413
        # fieldSizeTooLarge names every list that is too long); google.rpc shows only the first.
        self.more = list(more)

    @property
    def messages(self) -> list[str]:
        return [self.message, *self.more]

    def rpc_body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}

    def compute_error_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {"message": self.message, "domain": "global", "reason": self.reason}
        if self.location:
            item["location"] = self.location
            item["locationType"] = self.location_type or "parameter"
        return item

    def compute_body(self) -> dict[str, Any]:
        items = [self.compute_error_item()]
        items += [{"message": message, "domain": "global", "reason": self.reason} for message in self.more]
        return {"error": {"code": self.code, "message": self.message, "errors": items}}

    def body_for_path(self, path: str) -> dict[str, Any]:
        return self.compute_body() if path.startswith("/compute/") else self.rpc_body()


def not_found(message: str, **kw: Any) -> ApiError:
    return ApiError(404, message, **kw)


def invalid(message: str, **kw: Any) -> ApiError:
    return ApiError(400, message, **kw)

"""List paging shared by every emulated API: page tokens, page sizes and the list envelope.

Tokens are opaque to clients. The last page carries no token at all: the HTTP iterators of
google-cloud-logging loop forever on `"nextPageToken": ""` (docs/google-apis.md §5.2).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .errors import invalid

T = TypeVar("T")


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _decode(token: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        kind, _, value = raw.partition(":")
        if kind != "o":
            raise ValueError(raw)
        return int(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid(f"Invalid page token: {token!r}") from exc


def page(
    items: Sequence[T], page_size: Any, page_token: Any, *, default: int, maximum: int
) -> tuple[list[T], str | None]:
    """One page of `items` and the token of the next one (None on the last page)."""
    try:
        size = int(page_size) if page_size not in (None, "", 0, "0") else default
    except (TypeError, ValueError) as exc:
        raise invalid(f"Invalid page size: {page_size!r}") from exc
    if size < 0:
        raise invalid(f"Invalid page size: {page_size!r}")
    size = min(size or default, maximum)
    start = _decode(page_token) if page_token else 0
    chunk = list(items[start : start + size])
    end = start + len(chunk)
    return chunk, (_encode(end) if end < len(items) else None)


def list_page(
    items: Sequence[T],
    key: str,
    page_size: Any,
    page_token: Any,
    *,
    default: int,
    maximum: int,
    render: Callable[[T], Any] | None = None,
) -> dict[str, Any]:
    """The list envelope of one page: `{key: [...], "nextPageToken": ...}`, each only when there is something in it.

    `render` turns the page's items into JSON, so a list renders only what it answers with.
    """
    chunk, token = page(items, page_size, page_token, default=default, maximum=maximum)
    body: dict[str, Any] = {}
    if chunk:
        body[key] = [render(item) for item in chunk] if render else chunk
    if token:
        body["nextPageToken"] = token
    return body

"""Fixtures of the emulator's own tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A live HTTP endpoint for triggers to deliver to."""
    with Receiver() as server:
        yield server

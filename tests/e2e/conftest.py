"""End-to-end fixtures: the whole local system (emulator, functions as processes, triggers, load balancer)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.stack import LocalStack

EXEMPT = "runway-demo/*/legacy-*"


@pytest.fixture(scope="package")
def stack_server() -> Iterator[LocalStack]:
    with LocalStack(env={"RUNWAY_EXEMPT": EXEMPT}) as stack:
        yield stack


@pytest.fixture
def stack(stack_server: LocalStack) -> Iterator[LocalStack]:
    """The running stack, back to freshly bootstrapped: no services, no routes, empty logs, no faults."""
    stack_server.drain()
    stack_server.reset()
    yield stack_server

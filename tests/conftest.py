"""Shared fixtures: real loopback servers, never mocks of our own sockets."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from monitor.simulator import SimulatedFleet, seed_fleet


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def fleet() -> AsyncIterator[SimulatedFleet]:
    """The seed's fleet, answering on loopback ports chosen by the OS."""
    async with SimulatedFleet(seed_fleet()) as running:
        yield running

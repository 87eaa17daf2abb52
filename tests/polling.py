"""Waiting on a condition in tests: poll with a deadline, never sleep a guessed time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def until(
    predicate: Callable[[], object],
    timeout: float = 10.0,
    every: float = 0.01,
    what: str = "condition",
) -> float:
    """Wait until `predicate()` is true; fail after `timeout` s naming `what`. Returns the
    seconds it took."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what} not met within {timeout} s")
        await asyncio.sleep(every)
    return time.monotonic() - start


async def until_value(
    check: Callable[[], Awaitable[T]],
    timeout: float = 10.0,
    every: float = 0.05,
    what: str = "condition",
) -> T:
    """Await `check()` until it returns something true, and return that; fail after `timeout` s
    naming `what`. For conditions that need I/O (another process's /status, a database row)."""
    start = time.monotonic()
    while not (value := await check()):
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what} not met within {timeout} s")
        await asyncio.sleep(every)
    return value

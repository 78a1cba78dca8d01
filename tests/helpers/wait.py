"""Waiting for a condition without bare sleeps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(
    fn: Callable[[], T], timeout: float = 10.0, interval: float = 0.02, what: str = ""
) -> T:
    """Call ``fn`` until it returns a truthy value without raising; return that value.

    Raises AssertionError with the last error or value when ``timeout`` passes.
    """
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = fn()
            if value:
                return value
            last = value
        except (AssertionError, LookupError, ValueError, OSError) as exc:
            last = exc
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"not true within {timeout}s{' (' + what + ')' if what else ''}: last={last!r}"
            )
        time.sleep(interval)


async def aeventually(
    fn: Callable[[], Awaitable[T]], timeout: float = 10.0, interval: float = 0.02, what: str = ""
) -> T:
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = await fn()
            if value:
                return value
            last = value
        except (AssertionError, LookupError, ValueError, OSError) as exc:
            last = exc
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"not true within {timeout}s{' (' + what + ')' if what else ''}: last={last!r}"
            )
        await asyncio.sleep(interval)

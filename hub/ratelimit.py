"""A brake on guessing enrollment tokens: failed attempts per peer address in a window.

A token's secret has 256 bits, so guessing is hopeless anyway; the brake keeps a
misconfigured or hostile client from turning the hub into a hashing service and makes
brute force show up in the logs. State is in memory, per hub process: a restart forgives,
which is fine for a brake.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_PEERS = 100_000
"""Peers tracked at most; the least recently failing are forgotten first."""


def peer_host(peer: str) -> str:
    """The address part of grpc's ``context.peer()`` (``ipv4:1.2.3.4:5``, ``ipv6:[::1]:5``)."""
    kind, _, rest = peer.partition(":")
    if kind == "ipv4":
        return rest.rpartition(":")[0] or rest
    if kind == "ipv6":
        host = rest.rpartition(":")[0] or rest
        return host.strip("[]")
    return peer


class FailureLimiter:
    """At most ``max_failures`` failures per peer within ``window_seconds``."""

    def __init__(
        self,
        max_failures: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, peer: str, now: float) -> deque[float] | None:
        times = self._failures.get(peer)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[peer]
            return None
        return times

    def retry_after(self, peer: str) -> float | None:
        """Seconds until ``peer`` may try again, None if it may now."""
        now = self._clock()
        times = self._recent(peer, now)
        if times is None or len(times) < self.max_failures:
            return None
        return max(0.0, times[0] + self.window - now)

    def failed(self, peer: str) -> None:
        now = self._clock()
        times = self._recent(peer, now) or deque()
        times.append(now)
        # Only the newest max_failures matter for the decision.
        while len(times) > self.max_failures:
            times.popleft()
        self._failures[peer] = times
        self._failures.move_to_end(peer)
        while len(self._failures) > MAX_PEERS:
            self._failures.popitem(last=False)

"""The serving hub's fleet health, read from the database at most every ``cache_seconds``.

``/metrics`` and the dashboard poll it; with many operators, browsers and Prometheus
servers watching, the database still sees one ``center_statuses`` read per interval.
Concurrent callers wait for the same read instead of starting their own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from hub.config import HubConfig
from hub.health.report import FleetReport, assess_fleet

if TYPE_CHECKING:
    from hub.server import StoreAccess


class FleetHealth:
    """``await report()``: the fleet's health, at most ``[ops] cache_seconds`` old."""

    def __init__(
        self, access: StoreAccess, config: HubConfig, clock: Callable[[], float] = time.time
    ) -> None:
        self._access = access
        self._config = config
        self._clock = clock
        self._lock = asyncio.Lock()
        self._read_at: float | None = None
        self.latest: FleetReport | None = None
        """The last report read (what the metrics collector exports)."""

    async def report(self) -> FleetReport:
        async with self._lock:
            fresh = (
                self.latest is not None
                and self._read_at is not None
                and time.monotonic() - self._read_at < self._config.ops.cache_seconds
            )
            if not fresh:
                now = int(self._clock())
                store = self._access.store
                statuses = await self._access.read(store.center_statuses, now)
                self.latest = assess_fleet(statuses, now, self._config.sync, self._config.ops)
                self._read_at = time.monotonic()
            assert self.latest is not None
            return self.latest

"""FeedFollower: one poller per hub process that wakes every feed reader when changes commit.

Readers (gRPC Watch streams, SSE streams) read pages of the change log; when they have
caught up they wait here instead of polling the database each. The follower reads the
log's head (one row of ``feed_state``) every ``[feed] poll_seconds`` and wakes the
waiters when it moved. Polling a row works the same whether the change was committed by
this process or by another hub sharing the PostgreSQL database; at 4 reads a second it
costs nothing next to ingest.

The same loop announces center freshness transitions (``stale``/``fresh`` events, once a
second) and prunes the log past ``[feed] retention_seconds`` (every ten minutes). Both are
idempotent across hub processes (see :mod:`hub.store.changelog`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from hub import logs
from hub.config import FeedSettings
from hub.errors import StoreError

if TYPE_CHECKING:
    from hub.server import StoreAccess

log = logging.getLogger("hub.feed")

FRESHNESS_SECONDS = 1.0
PRUNE_SECONDS = 600.0


class FeedFollower:
    """``await start()``, then readers call :meth:`wait_beyond`; ``await close()`` ends it."""

    def __init__(
        self,
        access: StoreAccess,
        settings: FeedSettings,
        stale_after: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._access = access
        self._settings = settings
        self._stale_after = stale_after
        self._clock = clock
        self._head = 0
        self._changed = asyncio.Event()
        self._closed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_freshness = 0.0
        self._last_prune = 0.0

    @property
    def head(self) -> int:
        """The newest committed position this process has seen."""
        return self._head

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    async def start(self) -> None:
        head = await self._access.read(self._access.store.feed_head)
        self._head = head.last_id
        self._task = asyncio.create_task(self._run(), name="feed-follower")

    async def close(self) -> None:
        """Wake every waiter (they see ``closed``) and stop polling; idempotent."""
        self._closed.set()
        self._wake()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def wait_beyond(self, position: int, timeout: float) -> bool:
        """Wait until the head passes ``position``; False on timeout or close."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self._head <= position and not self._closed.is_set():
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return False
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)
        return self._head > position

    def _wake(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def _run(self) -> None:
        while not self._closed.is_set():
            try:
                await self.poll_once()
            except StoreError as exc:
                logs.event(log, "feed_poll_failed", logging.WARNING, error=str(exc))
            except Exception:
                # Every feed reader of this process depends on this loop: outlive one bug.
                log.exception("feed_poll_crashed")
            await asyncio.sleep(self._settings.poll_seconds)

    async def poll_once(self) -> None:
        store = self._access.store
        now = self._clock()
        if now - self._last_freshness >= FRESHNESS_SECONDS:
            self._last_freshness = now
            changed = await self._access.write(
                store.announce_freshness, int(now), self._stale_after
            )
            for center_id, stale in changed:
                logs.event(log, "center_stale" if stale else "center_fresh", center_id=center_id)
        retention = self._settings.retention_seconds
        if retention and now - self._last_prune >= PRUNE_SECONDS:
            self._last_prune = now
            removed = await self._access.write(store.prune_feed, int(now) - retention)
            if removed:
                logs.event(log, "feed_pruned", rows=removed, retention_seconds=retention)
        head = await self._access.read(store.feed_head)
        if head.last_id != self._head:
            self._head = head.last_id
            self._wake()

"""Router: the async face of :class:`~hub.routing.requests.Requests` for the server.

Every method runs the blocking operation on the store's worker threads (reads through
``access.read``; changes through ``access.write``, which serialises writers on SQLite) and
then wakes the delivery pump of every center that got a delivery (``notify``, set by the
server to :meth:`hub.routing.dispatch.Dispatcher.wake`). A notify only shortens the wait:
pumps also poll, so deliveries committed by another process (the CLI, another replica)
go out within ``[routing] delivery_poll_seconds``. Return values and errors are those of
:class:`Requests`.

``run_sweeper`` expires overdue items every ``[routing] sweep_seconds`` (jittered, so
replicas sharing a database do not sweep in lockstep).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import traceback
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from hub import logs
from hub.errors import StoreError
from hub.routing.guide import StageGuide
from hub.routing.model import (
    Answer,
    AnswerResult,
    DemandSignal,
    Draft,
    ItemView,
    Plan,
    RequestView,
)
from hub.routing.requests import Requests

if TYPE_CHECKING:
    from hub.server import StoreAccess

log = logging.getLogger("hub.routing")

# The class defines a method named ``list``: annotations inside it use these names.
Changed = tuple[RequestView, tuple[str, ...]]
Views = list[RequestView]
Items = list[ItemView]
Deliveries = list[tuple[int, bytes]]
Signals = list[DemandSignal]


class Router:
    """Async routing operations; ``notify(center_id)`` is called for every woken center."""

    def __init__(self, requests: Requests, access: StoreAccess) -> None:
        self.requests = requests
        self._access = access
        self.notify: Callable[[str], None] = _ignore
        """Wakes a center's delivery pump; the server sets it to the dispatcher's."""

    @property
    def guide(self) -> StageGuide:
        return self.requests.guide

    def _wake(self, centers: Iterable[str]) -> None:
        for center_id in centers:
            self.notify(center_id)

    async def _changed(self, result: Changed, what: str, actor: str) -> Changed:
        view, centers = result
        self._wake(centers)
        # The request's history is in its events; the log tells operators grepping by
        # center which centers got something to do, one line each.
        logs.event(log, f"request_{what}", request_id=view.id, state=view.state, actor=actor)
        for center_id in centers:
            logs.event(
                log, "deliveries_queued", center_id=center_id, request_id=view.id, cause=what
            )
        return result

    # -- portals and operators ------------------------------------------------------------

    async def preview(self, draft: Draft) -> Plan:
        return await self._access.read(self.requests.preview, draft)

    async def submit(self, draft: Draft, *, actor: str, client_request_id: str = "") -> Changed:
        return await self._changed(
            await self._access.write(
                self.requests.submit, draft, actor=actor, client_request_id=client_request_id
            ),
            "submitted",
            actor,
        )

    async def get(self, request_id: str, *, submitted_by: str | None = None) -> RequestView:
        return await self._access.read(self.requests.get, request_id, submitted_by=submitted_by)

    async def list(
        self,
        *,
        state: str | None = None,
        center_id: str | None = None,
        submitted_by: str | None = None,
        limit: int = 20,
        before: str | None = None,
    ) -> tuple[Views, str | None]:
        return await self._access.read(
            self.requests.list,
            state=state,
            center_id=center_id,
            submitted_by=submitted_by,
            limit=limit,
            before=before,
        )

    async def respond_to_proposal(
        self,
        request_id: str,
        item_id: str,
        accept: bool,
        *,
        actor: str,
        submitted_by: str | None = None,
    ) -> Changed:
        return await self._changed(
            await self._access.write(
                self.requests.respond_to_proposal,
                request_id,
                item_id,
                accept,
                actor=actor,
                submitted_by=submitted_by,
            ),
            "proposal_accepted" if accept else "proposal_rejected",
            actor,
        )

    async def cancel(
        self, request_id: str, *, actor: str, reason: str = "", submitted_by: str | None = None
    ) -> Changed:
        return await self._changed(
            await self._access.write(
                self.requests.cancel,
                request_id,
                actor=actor,
                reason=reason,
                submitted_by=submitted_by,
            ),
            "cancelled",
            actor,
        )

    async def reassign(
        self,
        request_id: str,
        item_id: str,
        target: tuple[str, str] | None,
        *,
        actor: str,
        reason: str = "",
    ) -> Changed:
        return await self._changed(
            await self._access.write(
                self.requests.reassign, request_id, item_id, target, actor=actor, reason=reason
            ),
            "reassigned",
            actor,
        )

    async def demand(
        self, *, since: int | None = None, category: str | None = None, center_id: str | None = None
    ) -> Signals:
        return await self._access.read(
            self.requests.demand, since=since, category=category, center_id=center_id
        )

    async def record_demand(self, kind: str, category: str, center_id: str = "") -> None:
        await self._access.write(self.requests.record_demand, kind, category, center_id)

    async def queue(self, limit: int = 50) -> Items:
        return await self._access.read(self.requests.queue, limit)

    async def counts(self) -> dict[str, int]:
        return await self._access.read(self.requests.counts)

    # -- centers (the Sync stream) --------------------------------------------------------

    async def answer(self, center_id: str, answer: Answer) -> AnswerResult:
        result = await self._access.write(self.requests.answer, center_id, answer)
        self._wake(result.center_ids_to_notify)
        return result

    async def delivered(self, center_id: str, seq: int) -> int:
        return await self._access.write(self.requests.delivered, center_id, seq)

    async def pending_deliveries(
        self, center_id: str, after_seq: int = 0, limit: int = 100
    ) -> Deliveries:
        return await self._access.read(
            self.requests.pending_deliveries, center_id, after_seq, limit
        )

    async def delivery_heads(self) -> dict[str, int]:
        return await self._access.read(self.requests.delivery_heads)

    # -- the sweeper ------------------------------------------------------------------------

    async def sweep(self) -> tuple[str, ...]:
        centers = await self._access.write(self.requests.sweep)
        self._wake(centers)
        return centers

    async def run_sweeper(self, stop: asyncio.Event) -> None:
        """Sweep every ``sweep_seconds`` (±20% jitter) until ``stop`` is set. A database
        failure is logged and retried at the next round, never ends the loop."""
        interval = self.requests.settings.sweep_seconds
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval * random.uniform(0.8, 1.2))
            if stop.is_set():
                return
            try:
                centers = await self.sweep()
            except StoreError as exc:
                logs.event(log, "sweep_failed", logging.WARNING, error=str(exc))
                continue
            except Exception as exc:
                # A bug must not stop expiry for the life of the process: log, go on.
                logs.event(
                    log,
                    "sweep_crashed",
                    logging.ERROR,
                    error=f"{type(exc).__name__}: {exc}",
                    traceback=traceback.format_exc(),
                )
                continue
            for center_id in centers:
                # Expired items are withdrawn at one center and routed to another.
                logs.event(log, "deliveries_queued", center_id=center_id, cause="deadline")


def _ignore(_center_id: str) -> None:
    return None

"""Deliveries on the Sync stream: one pump per session, and the agent's acks and answers.

The pump of a session sends the center's unacknowledged deliveries in seq order, starting
above the acknowledged seq (so a new stream resends whatever the last one did not get
acknowledged: at least once), then waits until it is woken and sends what is new. It
remembers the highest seq it sent, so nothing is sent twice on one stream. Two things wake
it: :meth:`Dispatcher.wake` when this process committed something for the center, and one
poller per hub that reads, every poll interval, the highest seq of each center with
unacknowledged deliveries (committed by the CLI or another replica, which have no local
wake-up) and wakes the pumps that are behind: one small query per interval, however many
streams are open.

:mod:`hub.sync_service` calls :meth:`Dispatcher.start` after Welcome, hands it the
``delivery_ack`` and ``item_answer`` messages, and calls :meth:`Dispatcher.stop` when the
session ends. Writes go through ``session.send`` (its lock keeps them from interleaving
with the stream loop's Acks).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import grpc
from grpc._cython import cygrpc

from hub import logs
from hub.errors import StoreError
from hub.routing import convert
from hub.routing.errors import DeliveryAhead
from hub.sync_service import _Abort
from proto import pb

if TYPE_CHECKING:
    from hub.routing.router import Router
    from hub.sync_service import Session

log = logging.getLogger("hub.routing")

BATCH = 100
"""Deliveries read per query; a longer backlog is read again at once, not after a wait."""
SEND_ERRORS = (grpc.RpcError, grpc.aio.UsageError, cygrpc.BaseError)
"""What a write to a stream that ended meanwhile raises (see SyncService.push)."""


@dataclass(eq=False)
class Pump:
    """The delivery pump of one session."""

    session: Session
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    highest_sent: int = 0
    """The highest seq sent on this stream (0: none yet)."""
    task: asyncio.Task[None] | None = None


class Dispatcher:
    """Delivery pumps for the open sessions, and the handlers of acks and answers."""

    def __init__(self, router: Router, poll_seconds: float) -> None:
        self._router = router
        self._poll = poll_seconds
        self._pumps: dict[int, Pump] = {}
        """By id(session): sessions are compared by identity (a superseded stream of the
        same center may still be ending while its successor pumps)."""
        self._poller: asyncio.Task[None] | None = None

    def wake(self, center_id: str) -> None:
        """Something was committed for ``center_id``: its pumps look now."""
        for pump in list(self._pumps.values()):
            if pump.session.center_id == center_id:
                pump.wakeup.set()

    def pump_of(self, session: Session) -> Pump | None:
        return self._pumps.get(id(session))

    def start(self, session: Session) -> Pump:
        pump = Pump(session)
        self._pumps[id(session)] = pump
        pump.task = asyncio.create_task(self._run(pump), name=f"deliveries-{session.center_id}")
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll_heads(), name="delivery-poller")
        return pump

    def stop(self, session: Session) -> None:
        """End the session's pump (idempotent); it stops at its next await."""
        pump = self._pumps.pop(id(session), None)
        if pump is not None and pump.task is not None:
            pump.task.cancel()

    async def close(self) -> None:
        """Stop every pump and wait for them (hub shutdown)."""
        pumps = list(self._pumps.values())
        self._pumps.clear()
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        for pump in pumps:
            if pump.task is not None:
                pump.task.cancel()
        for pump in pumps:
            if pump.task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await pump.task

    # -- the pump --------------------------------------------------------------------------

    async def _run(self, pump: Pump) -> None:
        try:
            await self._pump(pump)
        except Exception as exc:
            # A bug must not pass silently: the center gets its deliveries again from the
            # next stream (nothing acknowledged is lost), and the operator sees why.
            logs.event(
                log,
                "delivery_pump_failed",
                logging.ERROR,
                center_id=pump.session.center_id,
                error=f"{type(exc).__name__}: {exc}",
                traceback=traceback.format_exc(),
            )

    async def _pump(self, pump: Pump) -> None:
        session = pump.session
        center_id = session.center_id
        while not session.closing.is_set():
            # Cleared before reading: a wake-up during the read is not lost.
            pump.wakeup.clear()
            try:
                rows = await self._router.pending_deliveries(center_id, pump.highest_sent, BATCH)
            except StoreError as exc:
                logs.event(
                    log,
                    "deliveries_unreadable",
                    logging.WARNING,
                    center_id=center_id,
                    error=str(exc),
                )
                rows = []
            for seq, payload in rows:
                response = pb.SyncResponse(delivery=pb.Delivery.FromString(payload))
                try:
                    await session.send(response)
                except SEND_ERRORS:
                    return  # the stream ended; the stream's loop reports why
                pump.highest_sent = seq
                logs.event(log, "delivery_sent", logging.DEBUG, center_id=center_id, seq=seq)
            if len(rows) == BATCH:
                continue
            await _first(pump.wakeup.wait(), session.closing.wait())

    async def _poll_heads(self) -> None:
        """Wake the pumps behind the committed deliveries, every poll interval."""
        while True:
            await asyncio.sleep(self._poll)
            if not self._pumps:
                continue
            try:
                heads = await self._router.delivery_heads()
            except StoreError as exc:
                logs.event(log, "deliveries_unreadable", logging.WARNING, error=str(exc))
                continue
            except Exception as exc:
                # Pumps still wake on local commits; the next round may succeed.
                logs.event(
                    log,
                    "delivery_poll_failed",
                    logging.ERROR,
                    error=f"{type(exc).__name__}: {exc}",
                    traceback=traceback.format_exc(),
                )
                continue
            for pump in list(self._pumps.values()):
                if heads.get(pump.session.center_id, 0) > pump.highest_sent:
                    pump.wakeup.set()

    # -- what the agent sends ------------------------------------------------------------

    async def delivery_ack(self, session: Session, ack: Any) -> None:
        """Deliveries up to ``ack.seq`` are stored at the center. A seq the hub never
        allocated aborts the stream (INVALID_ARGUMENT), nothing applied."""
        try:
            marked = await self._router.delivered(session.center_id, ack.seq)
        except DeliveryAhead as exc:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc)) from None
        logs.event(
            log,
            "deliveries_acked",
            logging.DEBUG,
            center_id=session.center_id,
            seq=ack.seq,
            items_delivered=marked,
        )

    async def item_answer(self, session: Session, message: Any) -> None:
        """Apply the center's answer and reply AnswerAck, whatever the outcome: a rejected
        answer is acknowledged too, so the agent stops resending it."""
        answer = convert.answer_from_pb(message)
        result = await self._router.answer(session.center_id, answer)
        ack = pb.AnswerAck(
            answer_seq=message.answer_seq,
            item_id=message.item_id,
            outcome=convert.ANSWER_OUTCOME.value(result.outcome),
            message=result.message,
            item_state=convert.ITEM_STATE.value(result.item_state) if result.item_state else 0,
        )
        await session.send(pb.SyncResponse(answer_ack=ack))
        logs.event(
            log,
            "item_answer",
            logging.WARNING if result.outcome == "rejected" else logging.INFO,
            center_id=session.center_id,
            item_id=message.item_id[:80],
            kind=answer.kind,
            outcome=result.outcome,
            item_state=result.item_state,
            reason=result.message,
        )


async def _first(*waits: Any) -> None:
    """Wait until one of the awaitables finishes."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()

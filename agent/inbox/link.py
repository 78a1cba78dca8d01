"""The inbox half of a sync session: what :class:`agent.client.Session` calls.

- ``on_delivery``: store the Delivery durably, show it in the sink, then DeliveryAck(seq).
  The hub sends deliveries in seq order and resends every unacknowledged one on a new
  stream, so acknowledging the seq just handled is cumulative for everything before it.
  The seq acknowledged is always one the hub sent on this stream: a hub restored from a
  backup (lower seqs) is never told about seqs it does not have.
- ``on_answer_ack``: the hub's verdict on an answer, stored and shown.
- ``run_answers``: a task beside sender, heartbeats and reconciler. After Welcome it sends
  every answer the hub has not acknowledged (the hub applies them idempotently), then each
  new one: at once when the pump queued it, within ``recheck_seconds`` when the CLI (another
  process) did.

Errors of the state file end the session (StateError, like the change outbox); the sink's
never do (see :mod:`agent.inbox.inbox`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from agent import logs
from agent.channel import Message, wait_event
from agent.inbox.inbox import Inbox
from proto import pb

log = logging.getLogger(__name__)
_ANSWER_PAGE = 100


class InboxLink:
    def __init__(
        self,
        inbox: Inbox,
        send: Callable[[Message], Awaitable[None]],
        stopping: Callable[[], bool],
    ) -> None:
        self._inbox = inbox
        self._send = send
        self._stopping = stopping
        self._sent_answer_seq = 0

    async def on_delivery(self, delivery: Message) -> None:
        await asyncio.to_thread(self._inbox.receive, delivery)
        if not self._stopping():
            ack = pb.DeliveryAck(seq=delivery.seq)
            await self._send(pb.SyncRequest(delivery_ack=ack))

    async def on_answer_ack(self, ack: Message) -> None:
        await asyncio.to_thread(self._inbox.record_ack, ack)

    async def run_answers(self, recheck_seconds: float) -> None:
        # Items a crash left stored but not shown (the daemon's pump does this too; here
        # for sessions run without it).
        await asyncio.to_thread(self._inbox.handover_pending)
        kick = self._inbox.kick
        while not self._stopping():
            # Cleared before reading: an answer queued after the read sets it again.
            kick.clear()
            answers = await asyncio.to_thread(
                self._inbox.store.unacked_answers, self._sent_answer_seq, _ANSWER_PAGE
            )
            for answer in answers:
                if self._stopping():
                    break
                await self._send(pb.SyncRequest(item_answer=answer))
                self._sent_answer_seq = int(answer.answer_seq)
                logs.event(
                    log,
                    "answer_sent",
                    answer_seq=int(answer.answer_seq),
                    item_id=answer.item_id,
                )
            if len(answers) < _ANSWER_PAGE:
                await wait_event(kick, recheck_seconds)
        await asyncio.Event().wait()  # stopping: park until the session ends

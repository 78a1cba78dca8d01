"""One agent's inbox: the durable store and the sink, and the daemon's pump between them.

:class:`Inbox` is blocking and thread-safe (the session's receiver and the pump call it from
worker threads; sink calls are serialised by a lock, so two writers never race on one file
or row). The sink may fail (folder unwritable, database down): the failure is logged once
with what to do, the item stays marked "not handed over" in the state file, and the pump
tries again every ``poll_seconds`` (the receive path leaves a failing sink to the pump).
The hub still gets its DeliveryAck once the state file holds the item: it is durable at
the center, only the display of it waits.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from agent import logs
from agent.channel import jittered, wait_event
from agent.errors import InboxError, StateError
from agent.inbox.answers import AnswerInvalid, parse_answer
from agent.inbox.sinks import Found, Sink, build_sink
from agent.inbox.store import InboxItem, InboxStore, Queued, Stored

if TYPE_CHECKING:
    from agent.config import AgentConfig
    from agent.state import AgentState

log = logging.getLogger(__name__)
_HANDOVER_PAGE = 100
# How long the receive path waits for the sink while the pump uses it.
INLINE_WAIT_SECONDS = 1.0


class Inbox:
    """Made once per daemon run: ``kick`` belongs to the event loop that first waits on it."""

    def __init__(self, config: AgentConfig, state: AgentState, sink: Sink | None = None) -> None:
        self.config = config
        self.store = InboxStore(state)
        self.sink = sink if sink is not None else build_sink(config)
        # Set (in the event loop) when answers were queued: the session sends them at once.
        self.kick = asyncio.Event()
        self._lock = threading.Lock()
        self._prepared = False
        self._sink_problem = ""
        self._told: dict[str, str] = {}

    def close(self) -> None:
        with self._lock:
            self.sink.close()

    # -- the sink's health ------------------------------------------------------------

    def _ensure_prepared(self) -> bool:
        if not self._prepared:
            try:
                self.sink.prepare()
            except InboxError as exc:
                self._sink_failed(exc)
                return False
            self._prepared = True
        return True

    def _sink_failed(self, exc: InboxError) -> None:
        if str(exc) != self._sink_problem:
            self._sink_problem = str(exc)
            logs.event(
                log,
                "inbox_sink_failed",
                logging.ERROR,
                sink=self.sink.kind,
                error=str(exc),
                action="fix the inbox folder or database; the agent retries every poll",
            )

    def _sink_ok(self) -> None:
        if self._sink_problem:
            self._sink_problem = ""
            logs.event(log, "inbox_sink_recovered", sink=self.sink.kind)

    # -- deliveries -------------------------------------------------------------------

    def receive(self, delivery: Any) -> Stored:
        """Store a Delivery, then show it in the sink; afterwards it may be acknowledged."""
        stored = self.store.store_delivery(delivery)
        logs.event(
            log,
            "inbox_" + (stored.body or "empty_delivery"),
            logging.INFO if stored.changed else logging.DEBUG,
            seq=int(delivery.seq),
            item_id=stored.item_id,
            new=stored.changed,
            known=stored.known,
        )
        if stored.known:
            item = self.store.item(stored.item_id)
            if item is not None and not item.handed_over:
                with self._inline() as usable:
                    if usable:
                        self._hand_over_locked([item])
        elif stored.body == "withdrawal":
            with self._inline() as usable:
                try:
                    if usable and self._ensure_prepared():
                        self.sink.withdraw_unknown(stored.item_id, delivery.withdrawal.reason)
                except InboxError as exc:
                    self._sink_failed(exc)
        return stored

    @contextmanager
    def _inline(self) -> Iterator[bool]:
        """The sink for a write on the receive path, if it can be had at once (True).

        Not while it is known to fail, nor for long while the pump uses it: the receiver
        must not wait out a database's connect timeout per delivery (acks for the change
        outbox queue up behind it). The pump shows the item within ``poll_seconds``.
        """
        if self._sink_problem or not self._lock.acquire(timeout=INLINE_WAIT_SECONDS):
            yield False
            return
        try:
            yield True
        finally:
            self._lock.release()

    def handover_pending(self) -> int:
        """Show every item the sink does not show yet (a crash, a sink outage, a change)."""
        total = 0
        while True:
            items = self.store.pending_handover(_HANDOVER_PAGE)
            done = self._hand_over(items) if items else 0
            total += done
            if done < _HANDOVER_PAGE:
                return total

    def _hand_over(self, items: list[InboxItem]) -> int:
        with self._lock:
            return self._hand_over_locked(items)

    def _hand_over_locked(self, items: list[InboxItem]) -> int:
        if not self._ensure_prepared():
            return 0
        done = 0
        for item in items:
            try:
                self.sink.put(item)
            except InboxError as exc:
                self._sink_failed(exc)
                return done
            # False when the item changed meanwhile: the next round shows the newer one.
            done += self.store.mark_handed_over(item.item_id, item.revision)
        self._sink_ok()
        return done

    # -- answers ----------------------------------------------------------------------

    def pick_up(self) -> list[Queued]:
        """Queue the answers staff left in the sink; bounce the ones that cannot be sent."""
        queued: list[Queued] = []
        with self._lock:
            if not self._ensure_prepared():
                return queued
            try:
                for found in self.sink.pick_up():
                    q = self._take(found)
                    if q is not None and not q.repeat:
                        queued.append(q)
            except InboxError as exc:
                self._sink_failed(exc)
        return queued

    def _take(self, found: Found) -> Queued | None:
        try:
            q = self.store.queued_origin(found.origin)
            if q is None:
                if found.raw is None:
                    raise AnswerInvalid("", found.problems)
                answer = parse_answer(found.raw, self.config.zone)
                q = self.store.queue_answer(answer, origin=found.origin)
        except AnswerInvalid as exc:
            text = "; ".join(exc.problems)
            if self._told.get(found.origin) != text:
                if len(self._told) > 1000:
                    self._told.clear()
                self._told[found.origin] = text
                logs.event(
                    log,
                    "inbox_answer_refused",
                    logging.WARNING,
                    where=found.where,
                    item_id=exc.item_id,
                    problems=exc.problems,
                    action="the sink says what to fix; nothing was sent",
                )
            self.sink.reject(found, exc.problems)
            return None
        self.sink.done(found, q.seq)
        if not q.repeat:
            logs.event(
                log, "inbox_answer_queued", where=found.where, item_id=q.item_id, answer_seq=q.seq
            )
        return q

    def record_ack(self, ack: Any) -> InboxItem | None:
        """The hub's verdict on an answer: store it, then show it."""
        item = self.store.ack_answer(ack)
        if item is None:
            logs.event(
                log, "inbox_unknown_answer_ack", logging.WARNING, answer_seq=int(ack.answer_seq)
            )
            return None
        rejected = item.hub_outcome == "rejected" and item.answer is not None
        logs.event(
            log,
            "inbox_answer_acked",
            logging.WARNING if rejected else logging.INFO,
            answer_seq=int(ack.answer_seq),
            item_id=item.item_id,
            outcome=item.hub_outcome,
            hub_state=item.hub_state,
            message=ack.message,
        )
        if not item.handed_over:
            with self._inline() as usable:
                if usable:
                    self._hand_over_locked([item])
        return item

    def poll(self) -> int:
        """One pump round: pick answers up, show what changed; how many answers were queued."""
        queued = len(self.pick_up())
        self.handover_pending()
        return queued


async def run_pump(inbox: Inbox, stop: asyncio.Event) -> None:
    """The daemon's inbox loop: every ``poll_seconds``, whether connected to the hub or not."""
    while not stop.is_set():
        try:
            if await asyncio.to_thread(inbox.poll):
                inbox.kick.set()
        except StateError as exc:
            logs.event(log, "inbox_state_error", logging.ERROR, error=str(exc))
        await wait_event(stop, jittered(inbox.config.inbox.poll_seconds))

"""The inbox tables of the agent's state file: items the hub routed here, and answers.

Every method is one transaction on :class:`agent.state.AgentState`'s connection (WAL,
``synchronous=FULL``), so the CLI process answering and the daemon receiving use the same
file with the same guarantees.

Why deliveries cannot reach the center twice, even with ``kill -9`` at any instant:

1. :meth:`InboxStore.store_delivery` inserts the item keyed by ``item_id`` (a repeat of the
   delivery changes nothing) and records the seq, in one transaction;
2. the sink is written (:meth:`pending_handover`), by item_id, so writing it again replaces
   the same file or finds the same primary key;
3. :meth:`mark_handed_over` records that the sink shows this revision of the item;
4. only then the hub gets DeliveryAck.

A crash before 1: the hub resends. Between 1 and 3: the daemon hands over every item not
marked at its next start. Between 3 and 4: the hub resends, step 1 finds the item.

Answers get their ``answer_seq`` from a counter in meta and stay in ``answer_outbox`` until
the hub's AnswerAck (kept afterwards, with the verdict, as the record of what was sent).
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from agent import state_schema as sch
from agent.inbox.answers import OUTCOME, Answer, AnswerInvalid, item_problems
from agent.state import AgentState
from proto import pb, timeconv

NEW, ANSWERED, WITHDRAWN = "new", "answered", "withdrawn"
STATES = (NEW, ANSWERED, WITHDRAWN)

_ITEM_COLUMNS = (
    "item_id, delivery_seq, request_id, payload, received_at, state, withdrawn_reason, "
    "revision, handed_over, answer_seq, answer_kind, answer_start, answer_end, answer_reason, "
    "answer_message, answered_by, answered_at, hub_outcome, hub_message, hub_state"
)
# "ITEM_STATE_DELIVERED" -> "delivered"
_ITEM_STATE = {
    value.number: value.name.removeprefix("ITEM_STATE_").lower()
    for value in pb.ItemState.DESCRIPTOR.values
}


@dataclass(frozen=True)
class AnswerSummary:
    """The latest answer to an item, as queued."""

    seq: int
    kind: str
    start: int | None
    end: int | None
    reason: str
    message: str
    by: str
    at: float


@dataclass(frozen=True)
class InboxItem:
    item_id: str
    delivery_seq: int
    request_id: str
    work: Any
    """The pb.WorkItem as the hub sent it."""
    received_at: float
    state: str
    """new, answered or withdrawn."""
    withdrawn_reason: str
    revision: int
    handed_over: bool
    """The sink shows this revision."""
    answer: AnswerSummary | None
    hub_outcome: str
    """The hub's verdict on the latest answer: applied, duplicate, rejected ('' = none yet)."""
    hub_message: str
    hub_state: str
    """The item's state at the hub after that answer (accepted, proposed, declined...)."""

    @property
    def answer_pending(self) -> bool:
        """Answered, and the hub has not said what it made of the answer yet."""
        return self.answer is not None and not self.hub_outcome


@dataclass(frozen=True)
class Stored:
    """What :meth:`InboxStore.store_delivery` did."""

    item_id: str
    body: str
    """item, withdrawal or confirmation ('' for a delivery with none of them)."""
    changed: bool
    """False for a repeat (or a withdrawal of an unknown or already withdrawn item)."""
    known: bool
    """The item is in the inbox now."""


@dataclass(frozen=True)
class Queued:
    seq: int
    item_id: str
    repeat: bool
    """The same origin (file or row) was queued before: nothing new was queued."""


@dataclass(frozen=True)
class InboxCounts:
    waiting: int
    """Items that need the center's answer."""
    unacked: int
    """Answers the hub has not acknowledged yet."""
    rejected: int
    """Items whose latest answer the hub rejected."""


class InboxStore:
    """Blocking operations on the inbox tables; thread-safe like AgentState."""

    def __init__(self, state: AgentState) -> None:
        self.state = state

    def _tx(self, immediate: bool = True) -> AbstractContextManager[sqlite3.Connection]:
        return self.state.transaction(immediate)

    # -- deliveries -------------------------------------------------------------------

    def store_delivery(self, delivery: Any, now: float | None = None) -> Stored:
        """Keep a Delivery durably (idempotent by item_id) and record its seq."""
        now = time.time() if now is None else now
        body = delivery.WhichOneof("body") or ""
        seq = int(delivery.seq)
        with self._tx() as conn:
            if body == "item":
                work = delivery.item
                changed = (
                    conn.execute(
                        "INSERT INTO inbox_items (item_id, delivery_seq, request_id, payload, "
                        "received_at, state) VALUES (?, ?, ?, ?, ?, 'new') "
                        "ON CONFLICT (item_id) DO NOTHING",
                        (work.item_id, seq, work.request_id, work.SerializeToString(), now),
                    ).rowcount
                    == 1
                )
                item_id, known = work.item_id, True
            elif body == "withdrawal":
                item_id = delivery.withdrawal.item_id
                changed = (
                    conn.execute(
                        "UPDATE inbox_items SET state = 'withdrawn', withdrawn_reason = ?, "
                        "revision = revision + 1, handed_over = 0 "
                        "WHERE item_id = ? AND state != 'withdrawn'",
                        (delivery.withdrawal.reason, item_id),
                    ).rowcount
                    == 1
                )
                known = changed or _exists(conn, item_id)
            elif body == "confirmation":
                # The company took the time this center proposed: the item is agreed.
                item_id = delivery.confirmation.item_id
                start = timeconv.iso(timeconv.to_epoch(delivery.confirmation.start))
                end = timeconv.iso(timeconv.to_epoch(delivery.confirmation.end))
                changed = (
                    conn.execute(
                        "UPDATE inbox_items SET hub_state = 'accepted', hub_message = ?, "
                        "revision = revision + 1, handed_over = 0 "
                        "WHERE item_id = ? AND hub_state != 'accepted' AND state != 'withdrawn'",
                        (f"the company accepted the proposed time {start}..{end}", item_id),
                    ).rowcount
                    == 1
                )
                known = changed or _exists(conn, item_id)
            else:
                item_id, changed, known = "", False, False
            conn.execute("UPDATE meta SET value = ? WHERE key = ?", (str(seq), sch.K_DELIVERY_SEQ))
        return Stored(item_id, body, changed, known)

    def pending_handover(self, limit: int = 100) -> list[InboxItem]:
        """Items whose latest revision the sink does not show yet, oldest first."""
        with self._tx(immediate=False) as conn:
            rows = conn.execute(
                f"SELECT {_ITEM_COLUMNS} FROM inbox_items WHERE handed_over = 0 "
                "ORDER BY received_at, item_id LIMIT ?",
                (limit,),
            ).fetchall()
        return [_item(row) for row in rows]

    def mark_handed_over(self, item_id: str, revision: int) -> bool:
        """The sink shows ``revision``; False if the item changed meanwhile (hand over again)."""
        with self._tx() as conn:
            return (
                conn.execute(
                    "UPDATE inbox_items SET handed_over = 1 WHERE item_id = ? AND revision = ?",
                    (item_id, revision),
                ).rowcount
                == 1
            )

    def last_delivery_seq(self) -> int:
        with self._tx(immediate=False) as conn:
            return _meta_int(conn, sch.K_DELIVERY_SEQ)

    # -- reading ----------------------------------------------------------------------

    def item(self, item_id: str) -> InboxItem | None:
        with self._tx(immediate=False) as conn:
            return _get(conn, item_id)

    def items(self, state: str | None = None) -> list[InboxItem]:
        """Items in ``state`` (None: all): new first by deadline, then the newest first."""
        with self._tx(immediate=False) as conn:
            if state is None:
                rows = conn.execute(f"SELECT {_ITEM_COLUMNS} FROM inbox_items").fetchall()
            else:
                rows = conn.execute(
                    f"SELECT {_ITEM_COLUMNS} FROM inbox_items WHERE state = ?", (state,)
                ).fetchall()
        items = [_item(row) for row in rows]
        order = {s: i for i, s in enumerate(STATES)}
        return sorted(
            items,
            key=lambda i: (
                order[i.state],
                int(i.work.deadline.seconds) if i.state == NEW else -i.received_at,
                i.item_id,
            ),
        )

    def open_ids(self) -> list[str]:
        return [i.item_id for i in self.items(NEW)]

    def counts(self) -> InboxCounts:
        with self._tx(immediate=False) as conn:
            waiting = conn.execute(
                "SELECT count(*) FROM inbox_items WHERE state = 'new'"
            ).fetchone()[0]
            unacked = conn.execute(
                "SELECT count(*) FROM answer_outbox WHERE acked_at IS NULL"
            ).fetchone()[0]
            rejected = conn.execute(
                "SELECT count(*) FROM inbox_items WHERE hub_outcome = 'rejected' "
                "AND state != 'withdrawn'"
            ).fetchone()[0]
        return InboxCounts(int(waiting), int(unacked), int(rejected))

    # -- answers ----------------------------------------------------------------------

    def queued_origin(self, origin: str) -> Queued | None:
        """The answer queued before from ``origin`` (the same file or row), if any."""
        with self._tx(immediate=False) as conn:
            row = conn.execute(
                "SELECT answer_seq, item_id FROM answer_outbox WHERE origin = ?", (origin,)
            ).fetchone()
        return None if row is None else Queued(int(row[0]), str(row[1]), repeat=True)

    def queue_answer(self, answer: Answer, origin: str | None = None) -> Queued:
        """Number and queue ``answer`` for the hub; AnswerInvalid if the item cannot take it.

        ``origin`` (file name + content hash, SQL row + answer) makes a second pick-up of
        the same answer return the first one instead of queueing it again.
        """
        with self._tx() as conn:
            if origin is not None:
                row = conn.execute(
                    "SELECT answer_seq, item_id FROM answer_outbox WHERE origin = ?", (origin,)
                ).fetchone()
                if row is not None:
                    return Queued(int(row[0]), str(row[1]), repeat=True)
            item = _get(conn, answer.item_id)
            open_ids: list[str] = []
            if item is None:
                open_ids = [
                    r[0]
                    for r in conn.execute(
                        "SELECT item_id FROM inbox_items WHERE state = 'new' ORDER BY item_id"
                    )
                ]
            problems = item_problems(item, answer.item_id, open_ids)
            if problems:
                raise AnswerInvalid(answer.item_id, problems)
            seq = _meta_int(conn, sch.K_ANSWER_SEQ) + 1
            conn.execute("UPDATE meta SET value = ? WHERE key = ?", (str(seq), sch.K_ANSWER_SEQ))
            conn.execute(
                "INSERT INTO answer_outbox (answer_seq, item_id, payload, origin, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    seq,
                    answer.item_id,
                    answer.to_message(seq).SerializeToString(),
                    origin,
                    answer.answered_at,
                ),
            )
            conn.execute(
                "UPDATE inbox_items SET state = 'answered', answer_seq = ?, answer_kind = ?, "
                "answer_start = ?, answer_end = ?, answer_reason = ?, answer_message = ?, "
                "answered_by = ?, answered_at = ?, hub_outcome = '', hub_message = '', "
                "hub_state = '', revision = revision + 1, handed_over = 0 WHERE item_id = ?",
                (
                    seq,
                    answer.kind,
                    answer.start,
                    answer.end,
                    answer.reason,
                    answer.message,
                    answer.by,
                    answer.answered_at,
                    answer.item_id,
                ),
            )
        return Queued(seq, answer.item_id, repeat=False)

    def unacked_answers(self, after_seq: int, limit: int = 100) -> list[Any]:
        """pb.ItemAnswer not acknowledged yet with answer_seq > ``after_seq``, in order."""
        with self._tx(immediate=False) as conn:
            rows = conn.execute(
                "SELECT payload FROM answer_outbox WHERE acked_at IS NULL AND answer_seq > ? "
                "ORDER BY answer_seq LIMIT ?",
                (after_seq, limit),
            ).fetchall()
        return [pb.ItemAnswer.FromString(row[0]) for row in rows]

    def ack_answer(self, ack: Any, now: float | None = None) -> InboxItem | None:
        """Record the hub's AnswerAck; the item it concerns, or None for an unknown seq.

        The verdict is shown on the item only if the answer is still the item's latest
        (an older answer's late ack must not overwrite a newer answer's state).
        """
        now = time.time() if now is None else now
        outcome = OUTCOME.get(int(ack.outcome), "")
        hub_state = _ITEM_STATE.get(int(ack.item_state), "")
        if hub_state == "unspecified":
            hub_state = ""
        seq = int(ack.answer_seq)
        with self._tx() as conn:
            row = conn.execute(
                "SELECT item_id FROM answer_outbox WHERE answer_seq = ?", (seq,)
            ).fetchone()
            if row is None:
                return None
            first = conn.execute(
                "UPDATE answer_outbox SET acked_at = ?, outcome = ?, message = ? "
                "WHERE answer_seq = ? AND acked_at IS NULL",
                (now, outcome, ack.message, seq),
            ).rowcount
            if first:
                conn.execute(
                    "UPDATE inbox_items SET hub_outcome = ?, hub_message = ?, hub_state = ?, "
                    "revision = revision + 1, handed_over = 0 "
                    "WHERE item_id = ? AND answer_seq = ?",
                    (outcome, ack.message, hub_state, row[0], seq),
                )
            return _get(conn, str(row[0]))

    def answers_of(self, item_id: str) -> list[dict[str, Any]]:
        """Every answer queued for ``item_id``, oldest first, with the hub's verdicts."""
        with self._tx(immediate=False) as conn:
            rows = conn.execute(
                "SELECT answer_seq, created_at, acked_at, outcome, message FROM answer_outbox "
                "WHERE item_id = ? ORDER BY answer_seq",
                (item_id,),
            ).fetchall()
        return [
            {"seq": s, "queued_at": c, "acked_at": a, "outcome": o, "message": m}
            for s, c, a, o, m in rows
        ]


def _meta_int(conn: sqlite3.Connection, key: str) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return int(row[0]) if row else 0


def _exists(conn: sqlite3.Connection, item_id: str) -> bool:
    row = conn.execute("SELECT 1 FROM inbox_items WHERE item_id = ?", (item_id,)).fetchone()
    return row is not None


def _get(conn: sqlite3.Connection, item_id: str) -> InboxItem | None:
    row = conn.execute(
        f"SELECT {_ITEM_COLUMNS} FROM inbox_items WHERE item_id = ?", (item_id,)
    ).fetchone()
    return None if row is None else _item(row)


def _item(row: tuple[Any, ...]) -> InboxItem:
    (item_id, dseq, request_id, payload, received, state, reason, revision, handed, aseq,
     akind, astart, aend, areason, amessage, aby, aat, outcome, message, hstate) = row  # fmt: skip
    answer = (
        None
        if aseq is None
        else AnswerSummary(
            int(aseq), akind, astart, aend, areason, amessage, aby, float(aat or 0.0)
        )
    )
    return InboxItem(
        item_id=item_id,
        delivery_seq=int(dseq),
        request_id=request_id,
        work=pb.WorkItem.FromString(payload),
        received_at=float(received),
        state=state,
        withdrawn_reason=reason,
        revision=int(revision),
        handed_over=bool(handed),
        answer=answer,
        hub_outcome=outcome,
        hub_message=message,
        hub_state=hstate,
    )

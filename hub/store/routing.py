"""Writes of one-stop routing: requests, items, events, deliveries and demand signals.

The functions take the caller's write transaction (``write_tx``) so an operation of
:mod:`hub.routing.requests` (a submit, an answer, a re-route) commits as one unit or not
at all. Two rules keep several hub processes on one PostgreSQL database correct:

- item state changes are conditional (``UPDATE ... WHERE state IN (...)``): of two hubs
  expiring or answering the same item, exactly one sees its row change and goes on;
- delivery seqs are allocated under the center's ``delivery_cursor`` row lock, held to
  commit, so seqs of one center become visible in the order they were allocated and a
  delivery pump reading "after seq N" never skips one that commits late;
- locks are taken in one order so PostgreSQL transactions cannot deadlock: the request
  row, then the cursors of every center the transaction will deliver to, sorted
  (:func:`lock_cursors`, before anything else is written), then item rows; demand signal
  rows last, in (kind, category, center) order. An acknowledgement takes its cursor,
  then item rows.

Reads live in :mod:`hub.store.routing_read`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from hub.routing.errors import DeliveryAhead
from hub.routing.model import (
    ITEM_ACCEPTED,
    ITEM_DELIVERED,
    ITEM_PROPOSED,
    ITEM_ROUTED,
    REQUEST_ACCEPTED,
    REQUEST_CANCELLED,
    REQUEST_IN_PROGRESS,
    REQUEST_PARTIALLY_SERVED,
    REQUEST_UNSERVED,
    Candidate,
    Need,
)
from hub.store import routing_read as read
from hub.store.schema import (
    center_deliveries,
    delivery_cursor,
    demand_signals,
    request_events,
    request_items,
    request_needs,
    service_requests,
)

DELIVERY_ITEM = "item"
DELIVERY_WITHDRAWAL = "withdrawal"
DELIVERY_CONFIRMATION = "confirmation"

# Need outcomes, from which the request's state follows.
NEED_ACCEPTED = "accepted"
NEED_WAITING = "waiting"
NEED_UNSERVED = "unserved"


def _insert(conn: Connection) -> Any:
    """The dialect's INSERT, which has ON CONFLICT on both backends we support."""
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


# -- requests, needs, items, events ------------------------------------------------------


def insert_request(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(insert(service_requests).values(**values))


def insert_need(
    conn: Connection,
    request_id: str,
    index: int,
    need: Need,
    plan: Sequence[Candidate],
    unserved_reason: str,
) -> None:
    conn.execute(
        insert(request_needs).values(
            request_id=request_id,
            need_index=index,
            stage=need.stage,
            category=need.category,
            capabilities=read.strings_text(need.capabilities),
            service=need.service,
            hours=need.hours,
            earliest=need.earliest,
            latest=need.latest,
            region=need.region,
            note=need.note,
            origin=need.origin,
            plan=read.candidates_text(plan),
            unserved_reason=unserved_reason,
            tried_centers="[]",
        )
    )


def update_need(conn: Connection, request_id: str, index: int, **values: Any) -> None:
    n = request_needs.c
    conn.execute(
        update(request_needs)
        .where(n.request_id == request_id, n.need_index == index)
        .values(**values)
    )


def add_tried(conn: Connection, request_id: str, index: int, center_id: str) -> None:
    """Remember that ``center_id`` got this need, so re-routing skips it."""
    row = read.need_row(conn, request_id, index)
    if row is None:
        return
    tried = list(read.strings(row.tried_centers))
    if center_id not in tried:
        tried.append(center_id)
        update_need(conn, request_id, index, tried_centers=read.strings_text(tried))


def insert_item(
    conn: Connection,
    *,
    item_id: str,
    request_id: str,
    need_index: int,
    attempt: int,
    candidate: Candidate,
    routed_at: int,
    deadline: int,
) -> None:
    conn.execute(
        insert(request_items).values(
            item_id=item_id,
            request_id=request_id,
            need_index=need_index,
            attempt=attempt,
            center_id=candidate.center_id,
            equipment_id=candidate.equipment_id,
            candidate=json.dumps(read.candidate_json(candidate), ensure_ascii=False),
            state=ITEM_ROUTED,
            routed_at=routed_at,
            deadline=deadline,
        )
    )
    add_tried(conn, request_id, need_index, candidate.center_id)


def update_item(conn: Connection, item_id: str, states: Iterable[str], **values: Any) -> bool:
    """Set ``values`` on the item if it is in one of ``states``; False if it was not.

    The condition is what makes a transition happen once across hub processes.
    """
    i = request_items.c
    result = conn.execute(
        update(request_items)
        .where(i.item_id == item_id, i.state.in_(list(states)))
        .values(**values)
    )
    return result.rowcount == 1


def add_event(
    conn: Connection,
    request_id: str,
    at: int,
    actor: str,
    kind: str,
    *,
    item_id: str = "",
    detail: str = "",
) -> None:
    conn.execute(
        insert(request_events).values(
            request_id=request_id, at=at, actor=actor, kind=kind, item_id=item_id, detail=detail
        )
    )


def derive_state(outcomes: Iterable[str], cancelled: bool) -> str:
    """The request's state from its needs' outcomes (routing.proto RequestState)."""
    if cancelled:
        return REQUEST_CANCELLED
    seen = list(outcomes)
    if seen and all(o == NEED_ACCEPTED for o in seen):
        return REQUEST_ACCEPTED
    if any(o == NEED_WAITING for o in seen):
        return REQUEST_IN_PROGRESS
    if any(o == NEED_ACCEPTED for o in seen):
        return REQUEST_PARTIALLY_SERVED
    return REQUEST_UNSERVED


def need_outcome(latest_state: str | None) -> str:
    if latest_state == ITEM_ACCEPTED:
        return NEED_ACCEPTED
    if latest_state in (ITEM_ROUTED, ITEM_DELIVERED, ITEM_PROPOSED):
        return NEED_WAITING
    # Declined, expired or withdrawn with no newer attempt: nothing left to try (the
    # transaction that ended the item routed the need again when it could).
    return NEED_UNSERVED


def refresh_state(conn: Connection, request_id: str, now: int) -> str:
    """Recompute and store the request's state (and updated_at); returns the state."""
    head = read.request_row(conn, request_id)
    if head is None:
        raise LookupError(request_id)
    latest: dict[int, str] = {}
    for row in read.items_of(conn, request_id):
        latest[int(row.need_index)] = row.state
    n = request_needs.c
    needs = conn.execute(select(n.need_index).where(n.request_id == request_id)).scalars()
    state = derive_state(
        (need_outcome(latest.get(int(i))) for i in needs),
        head.state == REQUEST_CANCELLED,
    )
    conn.execute(
        update(service_requests)
        .where(service_requests.c.id == request_id)
        .values(state=state, updated_at=now)
    )
    return state


def set_cancelled(conn: Connection, request_id: str, now: int) -> None:
    conn.execute(
        update(service_requests)
        .where(service_requests.c.id == request_id)
        .values(state=REQUEST_CANCELLED, updated_at=now)
    )


# -- deliveries --------------------------------------------------------------------------


def lock_cursors(conn: Connection, center_ids: Iterable[str]) -> None:
    """Create (if needed) and lock the cursors of ``center_ids``, in id order."""
    ids = sorted(set(center_ids))
    for center_id in ids:
        # A concurrent creator is not an error; an existing row is left as it is.
        conn.execute(
            _insert(conn)(delivery_cursor).values(center_id=center_id).on_conflict_do_nothing()
        )
    if ids:
        d = delivery_cursor.c
        conn.execute(
            select(d.center_id).where(d.center_id.in_(ids)).order_by(d.center_id).with_for_update()
        ).all()


def add_delivery(
    conn: Connection,
    center_id: str,
    kind: str,
    item_id: str,
    payload: Callable[[int], bytes],
    now: int,
) -> int:
    """Allocate the center's next seq and store ``payload(seq)``; returns the seq."""
    d = delivery_cursor.c
    lock_cursors(conn, [center_id])  # a no-op when the caller locked it first, as it should
    last, _ = read.cursor(conn, center_id)
    seq = last + 1
    conn.execute(update(delivery_cursor).where(d.center_id == center_id).values(last_seq=seq))
    conn.execute(
        insert(center_deliveries).values(
            center_id=center_id,
            seq=seq,
            kind=kind,
            item_id=item_id,
            payload=payload(seq),
            created_at=now,
        )
    )
    return seq


def acknowledge(conn: Connection, center_id: str, seq: int, now: int) -> list[tuple[str, str]]:
    """The agent stored every delivery up to ``seq``: routed items become delivered.

    Returns (request_id, item_id) of the items newly marked delivered. Raises
    DeliveryAhead (nothing changed) if ``seq`` was never allocated; an old ``seq`` is a
    harmless replay.
    """
    last, acked = read.cursor(conn, center_id, lock=True)
    if seq > last:
        raise DeliveryAhead(center_id, seq, last)
    if seq <= acked:
        return []
    d, i = center_deliveries.c, request_items.c
    stored = conn.execute(
        select(d.item_id).where(d.center_id == center_id, d.seq <= seq, d.kind == DELIVERY_ITEM)
    ).scalars()
    delivered: list[tuple[str, str]] = []
    item_ids = sorted(set(stored))
    if item_ids:
        rows = conn.execute(
            select(i.item_id, i.request_id)
            .where(i.item_id.in_(item_ids), i.center_id == center_id, i.state == ITEM_ROUTED)
            .order_by(i.item_id)
        ).all()
        # An item answered before this ack is not "routed" any more: its answer set
        # delivered_at already (the answer implied delivery).
        for item_id, request_id in rows:
            if update_item(conn, item_id, (ITEM_ROUTED,), state=ITEM_DELIVERED, delivered_at=now):
                delivered.append((request_id, item_id))
    conn.execute(delete(center_deliveries).where(d.center_id == center_id, d.seq <= seq))
    conn.execute(
        update(delivery_cursor)
        .where(delivery_cursor.c.center_id == center_id)
        .values(acked_seq=seq)
    )
    return delivered


# -- demand signals ----------------------------------------------------------------------


def bump_demand(conn: Connection, kind: str, category: str, center_id: str, now: int) -> None:
    """Count one more signal of ``kind`` for (category, center)."""
    s = demand_signals.c
    stmt = _insert(conn)(demand_signals).values(
        kind=kind, category=category, center_id=center_id, count=1, first_at=now, last_at=now
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[s.kind, s.category, s.center_id],
            set_={"count": s.count + 1, "last_at": stmt.excluded.last_at},
        )
    )

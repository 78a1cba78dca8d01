"""Reads of one-stop routing: requests as portals see them, queues, counts, deliveries.

Every function takes the caller's :class:`Connection`, so a read can share the snapshot
(``read_tx``) or the write transaction of the operation it belongs to. Rows become the
value types of :mod:`hub.routing.model`; candidates are stored as JSON objects with the
field names of :class:`~hub.routing.model.Candidate`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Row, and_, func, or_, select

from hub.routing.model import (
    OPEN_ITEM_STATES,
    WAITING_ITEM_STATES,
    Candidate,
    Company,
    Coordinator,
    DemandSignal,
    EventView,
    ItemView,
    Need,
    NeedStatus,
    PlannedNeed,
    RequestView,
)
from hub.store.schema import (
    center_deliveries,
    delivery_cursor,
    demand_signals,
    request_events,
    request_items,
    request_needs,
    service_requests,
)

# -- JSON columns ------------------------------------------------------------------------


def candidate_json(c: Candidate) -> dict[str, Any]:
    return dataclasses.asdict(c)


def candidate_from(d: dict[str, Any]) -> Candidate:
    return Candidate(**d)


def candidates_text(cs: Iterable[Candidate]) -> str:
    return json.dumps([candidate_json(c) for c in cs], ensure_ascii=False)


def strings(text: str) -> tuple[str, ...]:
    return tuple(str(v) for v in json.loads(text))


def strings_text(values: Iterable[str]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


# -- rows -> model -----------------------------------------------------------------------


def need_from_row(r: Any) -> Need:
    return Need(
        stage=r.stage,
        category=r.category,
        capabilities=strings(r.capabilities),
        service=r.service,
        hours=float(r.hours),
        earliest=int(r.earliest),
        latest=int(r.latest),
        region=r.region,
        note=r.note,
        origin=r.origin,
    )


def item_from_row(r: Any) -> ItemView:
    return ItemView(
        item_id=r.item_id,
        request_id=r.request_id,
        need_index=int(r.need_index),
        attempt=int(r.attempt),
        state=r.state,
        candidate=candidate_from(json.loads(r.candidate)),
        routed_at=int(r.routed_at),
        deadline=int(r.deadline),
        delivered_at=r.delivered_at,
        answered_at=r.answered_at,
        start=r.start_at,
        end=r.end_at,
        decline_reason=r.decline_reason,
        message=r.message,
    )


def company_of(r: Any) -> Company:
    return Company(
        name=r.company_name,
        business_number=r.business_number,
        contact_name=r.contact_name,
        contact_email=r.contact_email,
        contact_phone=r.contact_phone,
    )


def coordinator_of(r: Any) -> Coordinator | None:
    if r.coordinator_center_id is None:
        return None
    return Coordinator(r.coordinator_center_id, r.coordinator_name, r.industry)


# -- requests ----------------------------------------------------------------------------


def request_row(conn: Connection, request_id: str, *, lock: bool = False) -> Row[Any] | None:
    """The request's row; ``lock`` takes its row lock (PostgreSQL) for a state change.

    FOR NO KEY UPDATE: an acknowledgement inserting an event of this request (its
    foreign key takes FOR KEY SHARE) is not blocked by it.
    """
    stmt = select(service_requests).where(service_requests.c.id == request_id)
    if lock:
        stmt = stmt.with_for_update(key_share=True)
    return conn.execute(stmt).first()


def find_client_request(conn: Connection, submitted_by: str, client_request_id: str) -> str | None:
    r = service_requests.c
    return conn.execute(
        select(r.id).where(r.submitted_by == submitted_by, r.client_request_id == client_request_id)
    ).scalar_one_or_none()


def load_requests(conn: Connection, ids: Sequence[str]) -> list[RequestView]:
    """The requests ``ids`` in that order (missing ones left out), each with its needs,
    items and events: four queries whatever the number of requests."""
    if not ids:
        return []
    wanted = list(dict.fromkeys(ids))
    heads = {
        r.id: r
        for r in conn.execute(select(service_requests).where(service_requests.c.id.in_(wanted)))
    }
    needs: dict[str, list[Any]] = {}
    n = request_needs.c
    for r in conn.execute(
        select(request_needs).where(n.request_id.in_(wanted)).order_by(n.request_id, n.need_index)
    ):
        needs.setdefault(r.request_id, []).append(r)
    items: dict[tuple[str, int], list[ItemView]] = {}
    i = request_items.c
    for r in conn.execute(
        select(request_items)
        .where(i.request_id.in_(wanted))
        .order_by(i.request_id, i.need_index, i.attempt)
    ):
        items.setdefault((r.request_id, r.need_index), []).append(item_from_row(r))
    events: dict[str, list[EventView]] = {}
    e = request_events.c
    for r in conn.execute(
        select(request_events).where(e.request_id.in_(wanted)).order_by(e.request_id, e.id)
    ):
        events.setdefault(r.request_id, []).append(
            EventView(at=r.at, actor=r.actor, kind=r.kind, item_id=r.item_id, detail=r.detail)
        )
    out: list[RequestView] = []
    for rid in wanted:
        head = heads.get(rid)
        if head is None:
            continue
        statuses = tuple(
            NeedStatus(
                plan=PlannedNeed(
                    index=nr.need_index,
                    need=need_from_row(nr),
                    candidates=tuple(candidate_from(d) for d in json.loads(nr.plan)),
                    unserved_reason=nr.unserved_reason,
                ),
                items=tuple(items.get((rid, nr.need_index), ())),
            )
            for nr in needs.get(rid, ())
        )
        out.append(
            RequestView(
                id=head.id,
                state=head.state,
                company=company_of(head),
                project_title=head.project_title,
                technology_area=head.technology_area,
                industry=head.industry,
                goal=head.goal,
                coordinator=coordinator_of(head),
                needs=statuses,
                events=tuple(events.get(rid, ())),
                created_at=head.created_at,
                updated_at=head.updated_at,
                submitted_by=head.submitted_by,
                client_request_id=head.client_request_id,
            )
        )
    return out


def list_ids(
    conn: Connection,
    *,
    state: str | None,
    center_id: str | None,
    submitted_by: str | None,
    limit: int,
    before: tuple[int, str] | None,
) -> list[tuple[int, str]]:
    """(created_at, id) of the newest requests matching, strictly before ``before``."""
    r = service_requests.c
    stmt = select(r.created_at, r.id)
    if state is not None:
        stmt = stmt.where(r.state == state)
    if submitted_by is not None:
        stmt = stmt.where(r.submitted_by == submitted_by)
    if center_id is not None:
        stmt = stmt.where(
            r.id.in_(
                select(request_items.c.request_id).where(request_items.c.center_id == center_id)
            )
        )
    if before is not None:
        at, rid = before
        stmt = stmt.where(or_(r.created_at < at, and_(r.created_at == at, r.id < rid)))
    stmt = stmt.order_by(r.created_at.desc(), r.id.desc()).limit(limit)
    return [(int(a), str(b)) for a, b in conn.execute(stmt)]


# -- needs and items ---------------------------------------------------------------------


def need_row(conn: Connection, request_id: str, need_index: int) -> Row[Any] | None:
    n = request_needs.c
    return conn.execute(
        select(request_needs).where(n.request_id == request_id, n.need_index == need_index)
    ).first()


def item_row(conn: Connection, item_id: str, *, lock: bool = False) -> Row[Any] | None:
    stmt = select(request_items).where(request_items.c.item_id == item_id)
    if lock:
        stmt = stmt.with_for_update()
    return conn.execute(stmt).first()


def latest_item(conn: Connection, request_id: str, need_index: int) -> Row[Any] | None:
    i = request_items.c
    return conn.execute(
        select(request_items)
        .where(i.request_id == request_id, i.need_index == need_index)
        .order_by(i.attempt.desc())
        .limit(1)
    ).first()


def items_of(conn: Connection, request_id: str) -> list[Row[Any]]:
    i = request_items.c
    return list(
        conn.execute(
            select(request_items)
            .where(i.request_id == request_id)
            .order_by(i.need_index, i.attempt)
        )
    )


def open_counts(conn: Connection, center_ids: Iterable[str]) -> dict[str, int]:
    """Open (routed or delivered) items per center: the planner's load."""
    ids = sorted(set(center_ids))
    if not ids:
        return {}
    i = request_items.c
    rows = conn.execute(
        select(i.center_id, func.count())
        .where(i.center_id.in_(ids), i.state.in_(OPEN_ITEM_STATES))
        .group_by(i.center_id)
    )
    return {str(c): int(n) for c, n in rows}


def overdue(conn: Connection, now: int, limit: int) -> list[str]:
    """Items waiting past their deadline (for the center's answer, or for the company's
    answer to a proposed time), earliest deadline first."""
    i = request_items.c
    return list(
        conn.execute(
            select(i.item_id)
            .where(i.state.in_(WAITING_ITEM_STATES), i.deadline <= now)
            .order_by(i.deadline, i.item_id)
            .limit(limit)
        ).scalars()
    )


def queue(conn: Connection, limit: int) -> list[ItemView]:
    i = request_items.c
    rows = conn.execute(
        select(request_items)
        .where(i.state.in_(WAITING_ITEM_STATES))
        .order_by(i.routed_at, i.item_id)
        .limit(limit)
    )
    return [item_from_row(r) for r in rows]


def counts(conn: Connection) -> dict[str, int]:
    i = request_items.c
    return {
        str(s): int(n) for s, n in conn.execute(select(i.state, func.count()).group_by(i.state))
    }


# -- deliveries and demand ---------------------------------------------------------------


def cursor(conn: Connection, center_id: str, *, lock: bool = False) -> tuple[int, int]:
    """(highest seq allocated, highest seq acknowledged) of the center; (0, 0) if none."""
    d = delivery_cursor.c
    stmt = select(d.last_seq, d.acked_seq).where(d.center_id == center_id)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    return (int(row.last_seq), int(row.acked_seq)) if row is not None else (0, 0)


def heads(conn: Connection) -> dict[str, int]:
    """Highest seq allocated of every center with unacknowledged deliveries (one row per
    center: cheap however many centers there are)."""
    d = delivery_cursor.c
    rows = conn.execute(select(d.center_id, d.last_seq).where(d.last_seq > d.acked_seq))
    return {str(c): int(s) for c, s in rows}


def pending(conn: Connection, center_id: str, after: int, limit: int) -> list[tuple[int, bytes]]:
    d = center_deliveries.c
    rows = conn.execute(
        select(d.seq, d.payload)
        .where(d.center_id == center_id, d.seq > after)
        .order_by(d.seq)
        .limit(limit)
    )
    return [(int(s), bytes(p)) for s, p in rows]


def demand(
    conn: Connection, since: int | None, category: str | None, center_id: str | None
) -> list[DemandSignal]:
    s = demand_signals.c
    stmt = select(demand_signals)
    if since is not None:
        stmt = stmt.where(s.last_at >= since)
    if category:
        stmt = stmt.where(s.category == category)
    if center_id:
        stmt = stmt.where(s.center_id == center_id)
    stmt = stmt.order_by(s.count.desc(), s.kind, s.category, s.center_id)
    # Mappings: a Row's ``count`` is the tuple method, not the column.
    return [
        DemandSignal(
            r["kind"], r["category"], r["center_id"], r["count"], r["first_at"], r["last_at"]
        )
        for r in conn.execute(stmt).mappings()
    ]

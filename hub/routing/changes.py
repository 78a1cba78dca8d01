"""What the company, operators and the sweeper change on a stored request.

Each change plans first (a search, outside any transaction) and then writes in one
transaction that re-checks the item it started from: if another process changed it in
between, the change is refused (RoutingConflict) or skipped (the sweep), never half done.
Functions of :class:`hub.routing.requests.Requests`, kept here so each module holds one
concern.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.routing import deliveries, planner
from hub.routing import transitions as tr
from hub.routing.errors import RoutingConflict
from hub.routing.model import (
    ITEM_ACCEPTED,
    ITEM_PROPOSED,
    REQUEST_CANCELLED,
    WAITING_ITEM_STATES,
    PlannedNeed,
    RequestView,
)
from hub.store import routing as store
from hub.store import routing_read as read
from hub.store.engine import read_tx, write_tx

if TYPE_CHECKING:
    from hub.routing.requests import Requests

SWEEP_BATCH = 100
"""Overdue items handled per sweep; the rest wait for the next one."""


def _item_of(rq: Requests, request_id: str, item_id: str, submitted_by: str | None) -> Any:
    view = rq.get(request_id, submitted_by=submitted_by)
    with read_tx(rq.engine) as conn:
        item = read.item_row(conn, item_id)
    if item is None or item.request_id != view.id:
        raise RoutingConflict(
            f"item {item_id!r} is not part of request {request_id}; use an item id from "
            "the request's needs"
        )
    return item


def replan(rq: Requests, item: Any, now: int) -> PlannedNeed:
    """Fresh candidates for the item's need, excluding every center already tried."""
    with read_tx(rq.engine) as conn:
        row = read.need_row(conn, item.request_id, item.need_index)
    assert row is not None
    tried = frozenset(read.strings(row.tried_centers)) | {item.center_id}
    return rq.plan_need(item.need_index, read.need_from_row(row), now, tried)


def respond_to_proposal(
    rq: Requests,
    request_id: str,
    item_id: str,
    accept: bool,
    *,
    actor: str,
    submitted_by: str | None = None,
) -> tuple[RequestView, tuple[str, ...]]:
    """The company takes the proposed time, or rejects it (the need is re-routed)."""
    item = _item_of(rq, request_id, item_id, submitted_by)
    if item.state != ITEM_PROPOSED:
        raise RoutingConflict(
            f"item {item_id} is {item.state}, not proposed: only a time a center proposed "
            "can be accepted or rejected"
        )
    now = rq.now()
    planned = None if accept else replan(rq, item, now)
    centers: list[str] = []
    with write_tx(rq.engine) as conn:
        head = read.request_row(conn, request_id, lock=True)
        if accept:
            changed = store.update_item(conn, item_id, (ITEM_PROPOSED,), state=ITEM_ACCEPTED)
            if changed:
                when = f"{tr.when(item.start_at)}..{tr.when(item.end_at)}"
                store.add_event(
                    conn, request_id, now, actor, "proposal-accepted", item_id=item_id, detail=when
                )
                # The center's inbox still shows its proposal: tell it the time is agreed.
                tr.lock_centers(conn, item.center_id)
                store.add_delivery(
                    conn,
                    item.center_id,
                    store.DELIVERY_CONFIRMATION,
                    item_id,
                    lambda seq: deliveries.confirmation(seq, item_id, item.start_at, item.end_at),
                    now,
                )
                centers.append(item.center_id)
        else:
            tr.lock_centers(conn, item.center_id, tr.first_choice(planned))
            reason = "the company rejected the proposed time"
            changed = tr.take_back(
                conn,
                item,
                now,
                actor,
                reason,
                kind="proposal-rejected",
                from_states=(ITEM_PROPOSED,),
            )
            if changed:
                centers.append(item.center_id)
                assert planned is not None
                new = tr.reroute(conn, rq.policy, head, item.need_index, planned, now, reason)
                centers.extend([new] if new else [])
        if not changed:
            raise RoutingConflict(
                f"item {item_id} changed meanwhile; read the request again and retry"
            )
        store.refresh_state(conn, request_id, now)
    return rq.get(request_id), tuple(dict.fromkeys(centers))


def cancel(
    rq: Requests, request_id: str, *, actor: str, reason: str = "", submitted_by: str | None = None
) -> tuple[RequestView, tuple[str, ...]]:
    """Withdraw every waiting item; accepted items stay accepted. Idempotent."""
    view = rq.get(request_id, submitted_by=submitted_by)
    if view.state == REQUEST_CANCELLED:
        return view, ()
    now = rq.now()
    why = "the company cancelled the request" + (f": {reason}" if reason else "")
    centers: list[str] = []
    with write_tx(rq.engine) as conn:
        read.request_row(conn, request_id, lock=True)
        waiting = [i for i in read.items_of(conn, request_id) if i.state in WAITING_ITEM_STATES]
        tr.lock_centers(conn, *(i.center_id for i in waiting))
        for item in waiting:
            if tr.take_back(conn, item, now, actor, why):
                centers.append(item.center_id)
        store.set_cancelled(conn, request_id, now)
        store.add_event(conn, request_id, now, actor, "cancelled", detail=reason)
    return rq.get(request_id), tuple(dict.fromkeys(centers))


def reassign(
    rq: Requests,
    request_id: str,
    item_id: str,
    target: tuple[str, str] | None,
    *,
    actor: str,
    reason: str = "",
) -> tuple[RequestView, tuple[str, ...]]:
    """Operators: move the need of ``item_id`` to ``target`` (center, equipment) or, with
    None, to the next candidate. The old item is withdrawn if it still waits."""
    item = _item_of(rq, request_id, item_id, None)
    with read_tx(rq.engine) as conn:
        head = read.request_row(conn, request_id)
        latest = read.latest_item(conn, request_id, item.need_index)
        need_row = read.need_row(conn, request_id, item.need_index)
    assert head is not None and latest is not None and need_row is not None
    if head.state == REQUEST_CANCELLED:
        raise RoutingConflict(f"request {request_id} is cancelled; nothing can be reassigned")
    if latest.item_id != item_id:
        raise RoutingConflict(
            f"item {item_id} is not the current item of need {item.need_index + 1}; "
            f"reassign {latest.item_id} instead"
        )
    if item.state == ITEM_ACCEPTED:
        raise RoutingConflict(
            f"item {item_id} was accepted by {item.center_id}; reassigning would drop an "
            "agreed booking: settle it with the center, then cancel the request if needed"
        )
    now = rq.now()
    need = read.need_from_row(need_row)
    if target is not None:
        center_id, equipment_id = target
        candidate = planner.candidate_at(
            rq.store, need, center_id, equipment_id, now, rq.stale_after
        )
        if candidate is None:
            raise RoutingConflict(
                f"{center_id}/{equipment_id} cannot serve need {item.need_index + 1} "
                f"({planner.describe(need)}): no such equipment, or it does not match the "
                "need's category, capabilities or service; pick one with `iplat-hub search`"
            )
    else:
        planned = replan(rq, item, now)
        if not planned.candidates:
            raise RoutingConflict(
                f"no other candidate for need {item.need_index + 1}: "
                f"{planned.unserved_reason}; name a target CENTER/EQUIPMENT"
            )
        candidate = planned.candidates[0]
    to = f"{candidate.center_id}/{candidate.equipment_id}"
    detail = f"from {item.center_id}/{item.equipment_id} to {to}" + (
        f": {reason}" if reason else ""
    )
    centers = [candidate.center_id]
    with write_tx(rq.engine) as conn:
        head = read.request_row(conn, request_id, lock=True)
        tr.lock_centers(conn, item.center_id, candidate.center_id)
        current = read.item_row(conn, item_id, lock=True)
        if current is None or current.state != item.state:
            raise RoutingConflict(
                f"item {item_id} changed meanwhile; read the request again and retry"
            )
        if current.state in WAITING_ITEM_STATES:
            why = f"reassigned by an operator to another center{': ' + reason if reason else ''}"
            tr.take_back(conn, current, now, actor, why)
            centers.append(item.center_id)
        store.add_event(conn, request_id, now, actor, "reassigned", item_id=item_id, detail=detail)
        attempt = int(item.attempt) + 1
        tr.route(conn, rq.policy, head, item.need_index, need, attempt, candidate, now, actor)
        store.refresh_state(conn, request_id, now)
    return rq.get(request_id), tuple(dict.fromkeys(centers))


def sweep(rq: Requests) -> tuple[str, ...]:
    """Expire items waiting past their deadline (open items, and proposals the company
    did not answer) and re-route their needs; returns the
    centers that got deliveries (withdrawals and new items). Safe to run on every hub
    process at once: each item is expired by exactly one of them."""
    now = rq.now()
    with read_tx(rq.engine) as conn:
        due = [read.item_row(conn, i) for i in read.overdue(conn, now, SWEEP_BATCH)]
    centers: list[str] = []
    for item in due:
        if item is None:
            continue
        planned = replan(rq, item, now)
        with write_tx(rq.engine) as conn:
            head = read.request_row(conn, item.request_id, lock=True)
            tr.lock_centers(conn, item.center_id, tr.first_choice(planned))
            if not tr.expire(conn, item, now):
                continue
            centers.append(item.center_id)
            who = "the company" if item.state == ITEM_PROPOSED else item.center_id
            cause = f"{who} did not answer by {tr.when(item.deadline)}"
            new = tr.reroute(conn, rq.policy, head, item.need_index, planned, now, cause)
            centers.extend([new] if new else [])
            store.refresh_state(conn, item.request_id, now)
    return tuple(dict.fromkeys(centers))

"""The state changes of routed items, each inside the caller's write transaction.

Every change writes its request event (time and actor) and, when the center must learn of
it, its delivery, in the same transaction: a committed change is always announced and an
announcement never describes something that rolled back. Planning (a search) happens
before the transaction; these functions only write.

Actors: ``"hub"`` for what the hub does on its own (expiry, re-routing after a decline,
an expiry or a rejected proposal), ``"center:<id>"`` for a center's answers and
acknowledgements, the caller's actor for API calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection

from hub.routing import deliveries
from hub.routing.deadlines import DeadlineRule, deadline
from hub.routing.model import (
    ITEM_EXPIRED,
    ITEM_PROPOSED,
    ITEM_WITHDRAWN,
    OPEN_ITEM_STATES,
    SIGNAL_UNSERVED,
    WAITING_ITEM_STATES,
    Candidate,
    Need,
    PlannedNeed,
)
from hub.store import routing as store
from hub.store import routing_read as read
from proto import timeconv

HUB = "hub"


def center_actor(center_id: str) -> str:
    return f"center:{center_id}"


def when(t: int | None) -> str:
    return timeconv.iso(t) or "-"


def item_id_of(request_id: str, need_index: int, attempt: int) -> str:
    return f"{request_id}-{need_index + 1}-{attempt}"


def demand_category(need: Need) -> str:
    """The demand signal's category: the need's category, or its capabilities."""
    if need.category:
        return need.category[:200]
    return ("capabilities:" + ",".join(need.capabilities))[:200]


@dataclass(frozen=True)
class Policy:
    """How long centers have to answer, and companies to answer a proposed time."""

    rule: DeadlineRule
    holidays: frozenset[date]
    proposal_rule: DeadlineRule
    """For the company's answer to a proposed time."""


def first_choice(planned: PlannedNeed | None) -> str | None:
    """The center a re-route will deliver to (None: no candidate, or no re-route)."""
    return planned.candidates[0].center_id if planned and planned.candidates else None


def lock_centers(conn: Connection, *center_ids: str | None) -> None:
    """Lock the delivery cursors a transaction will use, before it touches items (the
    lock order of :mod:`hub.store.routing`)."""
    store.lock_cursors(conn, [c for c in center_ids if c])


def envelope_of(head: Any) -> deliveries.Envelope:
    """The request-level part of work items, from a ``service_requests`` row."""
    return deliveries.Envelope(
        request_id=head.id,
        company=read.company_of(head),
        project_title=head.project_title,
        technology_area=head.technology_area,
        goal=head.goal,
        coordinator=read.coordinator_of(head),
    )


def route(
    conn: Connection,
    policy: Policy,
    head: Any,
    need_index: int,
    need: Need,
    attempt: int,
    candidate: Candidate,
    now: int,
    actor: str,
    *,
    kind: str = "routed",
    detail: str = "",
) -> str:
    """Create the item of ``need`` at ``candidate`` and its delivery; returns the item id."""
    item_id = item_id_of(head.id, need_index, attempt)
    due = deadline(now, candidate.time_zone, policy.rule, policy.holidays)
    store.insert_item(
        conn,
        item_id=item_id,
        request_id=head.id,
        need_index=need_index,
        attempt=attempt,
        candidate=candidate,
        routed_at=now,
        deadline=due,
    )
    store.update_need(conn, head.id, need_index, unserved_reason="")
    text = f"to {candidate.center_id}/{candidate.equipment_id}; answer due {when(due)}"
    store.add_event(
        conn,
        head.id,
        now,
        actor,
        kind,
        item_id=item_id,
        detail=f"{detail}; {text}" if detail else text,
    )
    envelope = envelope_of(head)
    store.add_delivery(
        conn,
        candidate.center_id,
        store.DELIVERY_ITEM,
        item_id,
        lambda seq: deliveries.work_item(
            seq, envelope, item_id, attempt, need, candidate, now, due
        ),
        now,
    )
    return item_id


def unserved(
    conn: Connection, head: Any, need_index: int, need: Need, reason: str, now: int, actor: str
) -> None:
    """No candidate is left for the need: say why, count the demand signal."""
    store.update_need(conn, head.id, need_index, unserved_reason=reason)
    store.add_event(
        conn, head.id, now, actor, "unserved", detail=f"need {need_index + 1}: {reason}"
    )
    store.bump_demand(conn, SIGNAL_UNSERVED, demand_category(need), "", now)


def reroute(
    conn: Connection,
    policy: Policy,
    head: Any,
    need_index: int,
    planned: PlannedNeed,
    now: int,
    cause: str,
) -> str | None:
    """Route the need to its best remaining candidate (or mark it unserved); returns the
    center that got a delivery, if any."""
    latest = read.latest_item(conn, head.id, need_index)
    attempt = int(latest.attempt) + 1 if latest is not None else 1
    if not planned.candidates:
        unserved(conn, head, need_index, planned.need, planned.unserved_reason, now, HUB)
        return None
    best = planned.candidates[0]
    route(
        conn,
        policy,
        head,
        need_index,
        planned.need,
        attempt,
        best,
        now,
        HUB,
        kind="rerouted",
        detail=cause,
    )
    return best.center_id


def take_back(
    conn: Connection,
    item: Any,
    now: int,
    actor: str,
    reason: str,
    *,
    state: str = ITEM_WITHDRAWN,
    kind: str = "withdrawn",
    from_states: tuple[str, ...] = WAITING_ITEM_STATES,
) -> bool:
    """Withdraw (or expire) a waiting item and tell its center; False if it was no longer
    in ``from_states`` (another process got there first): nothing written then."""
    if not store.update_item(
        conn, item.item_id, from_states, state=state, closed_at=now, closed_reason=reason
    ):
        return False
    store.add_event(conn, item.request_id, now, actor, kind, item_id=item.item_id, detail=reason)
    store.add_delivery(
        conn,
        item.center_id,
        store.DELIVERY_WITHDRAWAL,
        item.item_id,
        lambda seq: deliveries.withdrawal(seq, item.item_id, reason),
        now,
    )
    return True


def expire(conn: Connection, item: Any, now: int) -> bool:
    """An item passed its deadline unanswered (by the center, or by the company for a
    proposed time); False if it changed meanwhile."""
    if item.state == ITEM_PROPOSED:
        reason = (
            f"the company did not take the proposed time by {when(item.deadline)}; the "
            "offer is withdrawn and the need goes to the next candidate"
        )
        return take_back(
            conn,
            item,
            now,
            HUB,
            reason,
            state=ITEM_EXPIRED,
            kind="proposal-expired",
            from_states=(ITEM_PROPOSED,),
        )
    reason = f"no answer by the deadline {when(item.deadline)}; the need goes to the next candidate"
    return take_back(
        conn,
        item,
        now,
        HUB,
        reason,
        state=ITEM_EXPIRED,
        kind="expired",
        from_states=OPEN_ITEM_STATES,
    )

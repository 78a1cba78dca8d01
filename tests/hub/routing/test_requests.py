"""Requests end to end on a real store (SQLite and PostgreSQL): submit, answers, re-routes,
proposals, cancel, reassign, the sweep, deliveries and demand signals."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hub.routing import deliveries as wire
from hub.routing.errors import DeliveryAhead, RequestNotFound, RoutingConflict
from hub.routing.model import RequestInvalid
from hub.routing.requests import Requests
from hub.store import routing as store_routing
from proto import pb, timeconv
from tests.helpers.availability import World
from tests.helpers.routing_world import (
    DAY,
    HOUR,
    MONDAY,
    NOW,
    PORTAL,
    Clock,
    accept,
    count,
    decline,
    deliveries,
    draft,
    need,
    propose,
    representative,
    requests_on,
    rows,
)

A, B, C = "KR-A-0001", "KR-B-0002", "KR-C-0003"


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    w = World.open(db_url)
    # A's cycler is free first (B's is booked at the window start), so A ranks first.
    for center in (A, B):
        w.center(center)
        w.equipment(center, "cyc-1")
    w.entry(B, "cyc-1", MONDAY, MONDAY + 2 * DAY)
    yield w
    w.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def rq(world: World, clock: Clock) -> Requests:
    return requests_on(world.store, clock)


def test_submit_stores_routes_and_builds_the_delivery(world: World, rq: Requests) -> None:
    representative(world.store, "KR-E-0009")
    view, centers = rq.submit(draft(), actor=PORTAL, client_request_id="c-1")
    assert centers == (A,)
    assert view.id.startswith("RQ-") and len(view.id) == 13
    assert view.state == "in-progress"
    assert view.coordinator is not None and view.coordinator.center_id == "KR-E-0009"
    [status] = view.needs
    assert [c.center_id for c in status.plan.candidates] == [A, B]
    [item] = status.items
    assert item.item_id == f"{view.id}-1-1"
    assert (item.state, item.candidate.center_id, item.attempt) == ("routed", A, 1)
    assert item.deadline == NOW + 4 * HOUR
    assert [e.kind for e in view.events] == ["submitted", "routed"]
    assert all(e.actor == PORTAL for e in view.events)
    [delivery] = deliveries(rq, A)
    assert delivery.seq == 1
    work = delivery.item
    assert (work.item_id, work.request_id, work.equipment_id) == (item.item_id, view.id, "cyc-1")
    assert work.company.business_number == "124-81-00998"
    assert work.coordinator.center_id == "KR-E-0009"
    assert work.need.category == "battery-cycler"
    assert work.slot_start.seconds == MONDAY
    assert work.deadline.seconds == NOW + 4 * HOUR
    assert deliveries(rq, B) == []


def test_submit_stores_nothing_when_a_later_step_fails(
    world: World, rq: Requests, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(store_routing, "add_delivery", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        rq.submit(draft(need(), need(hours=2)), actor=PORTAL, client_request_id="c-1")
    for table in (
        "service_requests",
        "request_needs",
        "request_items",
        "request_events",
        "center_deliveries",
        "delivery_cursor",
        "demand_signals",
    ):
        assert count(world.store, table) == 0, table


def test_invalid_draft_is_refused_with_field_errors(world: World, rq: Requests) -> None:
    with pytest.raises(RequestInvalid) as info:
        rq.submit(draft(need(hours=0)), actor=PORTAL)
    assert any(e.field.startswith("needs[0]") for e in info.value.errors)
    assert count(world.store, "service_requests") == 0


def test_client_request_id_makes_submit_idempotent_per_caller(world: World, rq: Requests) -> None:
    first, centers = rq.submit(draft(), actor=PORTAL, client_request_id="k-1")
    again, again_centers = rq.submit(draft(), actor=PORTAL, client_request_id="k-1")
    assert again.id == first.id and again_centers == () and centers == (A,)
    other, _ = rq.submit(draft(), actor="portal:other", client_request_id="k-1")
    assert other.id != first.id
    assert count(world.store, "service_requests") == 2
    # One delivery per stored request (load sent the second one to B).
    assert len(deliveries(rq, A)) + len(deliveries(rq, B)) == 2


def test_decline_reroutes_to_the_next_candidate(world: World, rq: Requests) -> None:
    view, _ = rq.submit(draft(), actor=PORTAL)
    item = view.needs[0].items[0].item_id
    result = rq.answer(A, decline(item, "no-capacity"))
    assert (result.outcome, result.item_state, result.center_ids_to_notify) == (
        "applied",
        "declined",
        (B,),
    )
    view = rq.get(view.id)
    old, new = view.needs[0].items
    assert (old.state, old.decline_reason) == ("declined", "no-capacity")
    assert (new.item_id, new.attempt, new.candidate.center_id) == (f"{view.id}-1-2", 2, B)
    assert view.state == "in-progress"
    kinds = [(e.kind, e.actor) for e in view.events]
    assert ("declined", f"center:{A}") in kinds and ("rerouted", "hub") in kinds
    # The declining center gets no withdrawal: it knows.
    assert [d.WhichOneof("body") for d in deliveries(rq, A)] == ["item"]
    assert [d.item.item_id for d in deliveries(rq, B)] == [new.item_id]
    [signal] = rq.demand()
    assert (signal.kind, signal.category, signal.center_id, signal.count) == (
        "declined-no-capacity",
        "battery-cycler",
        A,
        1,
    )


def test_no_candidate_left_makes_the_need_unserved(world: World, rq: Requests) -> None:
    view, _ = rq.submit(draft(), actor=PORTAL)
    rq.answer(A, decline(view.needs[0].items[0].item_id, "out-of-scope"))
    second = rq.get(view.id).needs[0].items[1].item_id
    result = rq.answer(B, decline(second, "other"))
    assert result.center_ids_to_notify == ()
    view = rq.get(view.id)
    assert view.state == "unserved"
    reason = view.needs[0].plan.unserved_reason
    assert "already tried" in reason and A in reason and B in reason
    assert [s.kind for s in rq.demand()] == ["unserved"]


def test_unserved_at_submit_keeps_the_other_needs_routed(world: World, rq: Requests) -> None:
    view, centers = rq.submit(draft(need(), need("tem")), actor=PORTAL)
    assert centers == (A,)
    first, second = view.needs
    assert second.items == () and "no equipment on the platform offers" in (
        second.plan.unserved_reason
    )
    rq.answer(A, accept(first.items[0].item_id))
    assert rq.get(view.id).state == "partially-served"


def test_accepting_every_need_accepts_the_request(world: World, rq: Requests) -> None:
    view, _ = rq.submit(draft(need(), need(hours=2)), actor=PORTAL)
    ids = [n.items[0].item_id for n in view.needs]
    assert rq.answer(A, accept(ids[0])).item_state == "accepted"
    assert rq.get(view.id).state == "in-progress"
    rq.answer(A, accept(ids[1], start=MONDAY + DAY, end=MONDAY + DAY + 2 * HOUR))
    view = rq.get(view.id)
    assert view.state == "accepted"
    first, second = (n.items[0] for n in view.needs)
    assert (first.start, first.end) == (MONDAY, MONDAY + 4 * HOUR)  # the suggested slot
    assert (second.start, second.end) == (MONDAY + DAY, MONDAY + DAY + 2 * HOUR)
    assert first.delivered_at is not None  # answering implies delivery


def test_proposal_accepted_by_the_company(world: World, rq: Requests) -> None:
    view, _ = rq.submit(draft(), actor=PORTAL)
    item = view.needs[0].items[0].item_id
    with pytest.raises(RoutingConflict, match="not proposed"):
        rq.respond_to_proposal(view.id, item, True, actor=PORTAL)
    assert rq.answer(A, propose(item, MONDAY + 3 * DAY, MONDAY + 3 * DAY + 4 * HOUR)).outcome == (
        "applied"
    )
    assert rq.get(view.id).needs[0].items[0].state == "proposed"
    view, centers = rq.respond_to_proposal(view.id, item, True, actor=PORTAL)
    assert centers == (A,)
    assert view.state == "accepted"
    assert view.needs[0].items[0].start == MONDAY + 3 * DAY
    assert "proposal-accepted" in [e.kind for e in view.events]
    # The center hears that its time was agreed (its inbox still shows the proposal).
    last = pb.Delivery.FromString(rq.pending_deliveries(A)[-1][1])
    assert last.WhichOneof("body") == "confirmation"
    assert last.confirmation.item_id == item
    assert timeconv.to_epoch(last.confirmation.start) == MONDAY + 3 * DAY


def test_proposal_rejected_withdraws_and_reroutes(world: World, rq: Requests) -> None:
    view, _ = rq.submit(draft(), actor=PORTAL)
    item = view.needs[0].items[0].item_id
    rq.answer(A, propose(item, MONDAY + 3 * DAY, MONDAY + 3 * DAY + 4 * HOUR))
    with pytest.raises(RequestNotFound):
        rq.respond_to_proposal(view.id, item, False, actor="portal:x", submitted_by="portal:x")
    view, centers = rq.respond_to_proposal(view.id, item, False, actor=PORTAL, submitted_by=PORTAL)
    assert centers == (A, B)
    old, new = view.needs[0].items
    assert old.state == "withdrawn" and new.candidate.center_id == B
    [_, withdrawal] = deliveries(rq, A)
    assert withdrawal.withdrawal.item_id == item
    assert "rejected" in withdrawal.withdrawal.reason


def test_cancel_withdraws_open_items_and_keeps_accepted_ones(world: World, rq: Requests) -> None:
    view, _ = rq.submit(draft(need(), need(hours=2)), actor=PORTAL)
    kept, open_ = (n.items[0].item_id for n in view.needs)
    rq.answer(A, accept(kept))
    view, centers = rq.cancel(view.id, actor=PORTAL, reason="budget cut")
    assert centers == (A,)
    assert view.state == "cancelled"
    assert [n.items[0].state for n in view.needs] == ["accepted", "withdrawn"]
    assert [d.withdrawal.item_id for d in deliveries(rq, A) if d.HasField("withdrawal")] == [open_]
    again, again_centers = rq.cancel(view.id, actor=PORTAL)
    assert again.state == "cancelled" and again_centers == ()
    late = rq.answer(A, accept(open_))
    assert late.outcome == "rejected" and "withdrawn" in late.message
    with pytest.raises(RoutingConflict, match="cancelled"):
        rq.reassign(view.id, open_, None, actor="operator:op")


def test_reassign_to_a_named_equipment_and_to_the_next_candidate(
    world: World, rq: Requests
) -> None:
    world.center(C, region="부산")
    world.equipment(C, "cyc-9")
    world.equipment(C, "xrd-1", category="xrd")
    view, _ = rq.submit(draft(), actor=PORTAL)
    first = view.needs[0].items[0].item_id
    with pytest.raises(RoutingConflict, match="cannot serve"):
        rq.reassign(view.id, first, (C, "xrd-1"), actor="operator:op")
    with pytest.raises(RoutingConflict, match="cannot serve"):
        rq.reassign(view.id, first, (C, "nope"), actor="operator:op")
    view, centers = rq.reassign(view.id, first, (C, "cyc-9"), actor="operator:op", reason="VIP")
    assert centers == (C, A)
    old, new = view.needs[0].items
    assert old.state == "withdrawn" and (new.candidate.center_id, new.attempt) == (C, 2)
    assert new.candidate.equipment_id == "cyc-9"
    assert any(e.kind == "reassigned" and "VIP" in e.detail for e in view.events)
    with pytest.raises(RoutingConflict, match="not the current item"):
        rq.reassign(view.id, first, None, actor="operator:op")
    # Next candidate: A and C were tried, B is left.
    view, centers = rq.reassign(view.id, new.item_id, None, actor="operator:op")
    assert view.needs[0].items[-1].candidate.center_id == B
    rq.answer(B, accept(view.needs[0].items[-1].item_id))
    with pytest.raises(RoutingConflict, match="accepted"):
        rq.reassign(view.id, view.needs[0].items[-1].item_id, None, actor="operator:op")


def test_sweep_expires_overdue_items_and_reroutes(world: World, rq: Requests, clock: Clock) -> None:
    view, _ = rq.submit(draft(), actor=PORTAL)
    item = view.needs[0].items[0]
    assert rq.sweep() == ()
    clock.advance(4 * HOUR)
    assert rq.sweep() == (A, B)
    view = rq.get(view.id)
    old, new = view.needs[0].items
    assert old.state == "expired" and new.candidate.center_id == B
    assert new.deadline == clock.now + 4 * HOUR
    assert [e.actor for e in view.events if e.kind in ("expired", "rerouted")] == ["hub", "hub"]
    [_, withdrawal] = deliveries(rq, A)
    assert withdrawal.withdrawal.item_id == item.item_id
    assert rq.sweep() == ()
    late = rq.answer(A, accept(item.item_id))
    assert late.outcome == "rejected" and "deadline passed" in late.message


def test_a_proposal_the_company_leaves_unanswered_expires_and_reroutes(
    world: World, clock: Clock
) -> None:
    rq = requests_on(world.store, clock, proposal_deadline="1 hours")
    view, _ = rq.submit(draft(), actor=PORTAL)
    item = view.needs[0].items[0].item_id
    offered = (MONDAY + 2 * DAY, MONDAY + 2 * DAY + 4 * HOUR)
    assert rq.answer(A, propose(item, *offered)).outcome == "applied"
    proposed = rq.get(view.id).needs[0].items[0]
    # The company's hour runs from the proposal, not from the routing.
    assert proposed.state == "proposed" and proposed.deadline == clock.now + HOUR
    clock.advance(HOUR - 1)
    assert rq.sweep() == ()
    clock.advance(1)
    assert rq.sweep() == (A, B)
    view = rq.get(view.id)
    old, new = view.needs[0].items
    assert old.state == "expired" and new.candidate.center_id == B
    kinds = [(e.kind, e.actor) for e in view.events]
    assert ("proposal-expired", "hub") in kinds
    withdrawal = deliveries(rq, A)[-1]
    assert withdrawal.withdrawal.item_id == item
    assert "did not take the proposed time" in withdrawal.withdrawal.reason
    with pytest.raises(RoutingConflict, match="not proposed"):
        rq.respond_to_proposal(view.id, item, True, actor=PORTAL)


def test_a_second_hub_cannot_expire_the_same_item_twice(
    world: World, rq: Requests, clock: Clock
) -> None:
    from hub.routing import transitions
    from hub.store import routing_read
    from hub.store.engine import write_tx

    view, _ = rq.submit(draft(), actor=PORTAL)
    clock.advance(5 * HOUR)
    with write_tx(world.store.engine) as conn:
        item = routing_read.item_row(conn, view.needs[0].items[0].item_id)
    with write_tx(world.store.engine) as conn:
        assert transitions.expire(conn, item, clock.now)
    with write_tx(world.store.engine) as conn:
        assert not transitions.expire(conn, item, clock.now)
    assert [r[0] for r in rows(world.store, "SELECT kind FROM request_events")].count(
        "expired"
    ) == 1


def test_answers_that_cannot_apply_are_rejected(world: World, rq: Requests) -> None:
    view, _ = rq.submit(draft(), actor=PORTAL)
    item = view.needs[0].items[0].item_id
    other = rq.answer(B, accept(item))
    assert (other.outcome, other.item_state) == ("rejected", "")
    assert "not routed to this center" in other.message
    assert rq.answer(A, accept("RQ-NOPE-1-1")).outcome == "rejected"
    bad = rq.answer(A, propose(item, MONDAY + HOUR, MONDAY))
    assert bad.outcome == "rejected" and "after start" in bad.message
    assert rq.answer(A, accept(item)).outcome == "applied"
    assert rq.answer(A, accept(item, seq=2)).outcome == "duplicate"
    different = rq.answer(A, decline(item))
    assert different.outcome == "rejected" and "already answered" in different.message
    assert rq.get(view.id).needs[0].items[0].state == "accepted"


def test_delivery_acks_mark_items_delivered(world: World, rq: Requests) -> None:
    # Two needs planned together both go to A (load counts what was stored before).
    view, _ = rq.submit(draft(need(), need(hours=2)), actor=PORTAL)
    assert [s for s, _ in rq.pending_deliveries(A)] == [1, 2]
    with pytest.raises(DeliveryAhead, match="above the highest"):
        rq.delivered(A, 3)
    assert rq.delivered(A, 1) == 1
    assert rq.delivered(A, 1) == 0  # a replay
    assert [s for s, _ in rq.pending_deliveries(A)] == [2]
    assert rq.pending_deliveries(A, after_seq=2) == []
    view = rq.get(view.id)
    item = view.needs[0].items[0]
    assert item.state == "delivered" and item.delivered_at == NOW
    assert ("delivered", f"center:{A}") in [(e.kind, e.actor) for e in view.events]
    with pytest.raises(DeliveryAhead):
        rq.delivered(B, 1)  # nothing was ever allocated for B


def test_get_list_and_paging(world: World, rq: Requests, clock: Clock) -> None:
    made = []
    for i in range(5):
        clock.advance(60)
        made.append(rq.submit(draft(title=f"p{i}"), actor=PORTAL if i % 2 else "portal:z")[0].id)
    page, key = rq.list(limit=2)
    assert [v.id for v in page] == made[:-3:-1] and key is not None
    page2, key2 = rq.list(limit=2, before=key)
    page3, key3 = rq.list(limit=2, before=key2)
    assert [v.id for v in page + page2 + page3] == made[::-1] and key3 is None
    mine, _ = rq.list(submitted_by=PORTAL)
    assert [v.id for v in mine] == [made[3], made[1]]
    # Load spreads the requests over A and B.
    at_b = [r for r in made if rq.get(r).needs[0].items[0].candidate.center_id == B]
    assert at_b and [v.id for v in rq.list(center_id=B)[0]] == at_b[::-1]
    assert len(rq.list(state="in-progress")[0]) == 5
    with pytest.raises(RequestNotFound):
        rq.get(made[0], submitted_by=PORTAL)
    with pytest.raises(ValueError, match="unknown request state"):
        rq.list(state="done")
    with pytest.raises(ValueError, match="page key"):
        rq.list(before="garbage")


def test_queue_counts_and_demand(world: World, rq: Requests) -> None:
    view, _ = rq.submit(draft(need(), need(hours=2)), actor=PORTAL)
    rq.answer(A, accept(view.needs[0].items[0].item_id))
    assert [i.item_id for i in rq.queue()] == [view.needs[1].items[0].item_id]
    counts = rq.counts()
    assert counts["accepted"] == 1 and counts["routed"] == 1 and counts["expired"] == 0
    rq.record_demand("search-none-free", "tem")
    rq.record_demand("search-none-free", "tem")
    [signal] = rq.demand(category="tem")
    assert signal.count == 2 and signal.center_id == ""
    assert rq.demand(since=NOW + 1) == []
    with pytest.raises(ValueError, match="unknown demand signal"):
        rq.record_demand("wish", "tem")


def test_withdrawal_payload_round_trips() -> None:
    from proto import pb

    message = pb.Delivery.FromString(wire.withdrawal(7, "RQ-X-1-1", "cancelled"))
    assert (message.seq, message.withdrawal.item_id) == (7, "RQ-X-1-1")


@pytest.mark.postgres
def test_concurrent_changes_on_postgresql_do_not_deadlock(pg_url: str) -> None:
    """Cancels touching centers in opposite orders, submits and acks, all at once: the
    lock order of hub.store.routing keeps PostgreSQL from aborting any as a deadlock."""
    import threading

    w = World.open(pg_url)
    try:
        for center, category in ((A, "cat-a"), (B, "cat-b")):
            w.center(center)
            w.equipment(center, "eq", category=category)
        rq = requests_on(w.store, Clock(NOW))
        orders = [("cat-a", "cat-b"), ("cat-b", "cat-a")]
        ids = [
            rq.submit(draft(*(need(c) for c in orders[i % 2])), actor=PORTAL)[0].id
            for i in range(12)
        ]
        errors: list[BaseException] = []

        def guarded(fn: object) -> None:
            try:
                fn()  # type: ignore[operator]
            except BaseException as exc:  # reported below
                errors.append(exc)

        def cancel_some(part: list[str]) -> None:
            for request_id in part:
                rq.cancel(request_id, actor=PORTAL)

        def submit_more(order: tuple[str, str]) -> None:
            for _ in range(4):
                rq.submit(draft(*(need(c) for c in order)), actor=PORTAL)

        def ack(center: str) -> None:
            for _ in range(20):
                highest = max((s for s, _ in rq.pending_deliveries(center)), default=0)
                rq.delivered(center, highest)

        jobs = [
            lambda: cancel_some(ids[0::2]),
            lambda: cancel_some(ids[1::2]),
            lambda: submit_more(orders[0]),
            lambda: submit_more(orders[1]),
            lambda: ack(A),
            lambda: ack(B),
        ]
        threads = [threading.Thread(target=guarded, args=(job,)) for job in jobs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert {rq.get(i).state for i in ids} == {"cancelled"}
    finally:
        w.close()

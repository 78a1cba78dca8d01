"""Routed items over the Sync stream of a real hub process, driven by a raw grpc.aio client.

Requests are submitted from the test process on the hub's database (as ``iplat-hub
requests submit`` would): the hub's pump finds them by polling, sends them in seq order,
resends them on every new stream until acknowledged, and answers ItemAnswers with
AnswerAcks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import grpc
import pytest

from hub import config
from hub.routing.requests import Requests
from hub.server import HubServer
from hub.store import Store
from proto import pb, timeconv
from tests.helpers.hubenv import (
    RunningHub,
    SyncSession,
    add_center,
    equipment_change,
    init_hub,
    running_hub,
)
from tests.helpers.routing_world import GUIDE, PORTAL, draft, need, settings
from tests.helpers.wait import eventually
from tests.hub.test_server_inprocess import FakeClock
from tests.hub.test_server_inprocess import _creds as hub_credentials

DAY = 86400
READ_TIMEOUT = 15.0
_ids = count(1)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    data_dir = init_hub(
        tmp_path_factory.mktemp("dispatch") / "hub", settings={"delivery_poll_seconds": 0.2}
    )
    with running_hub(data_dir) as running:
        yield running


@pytest.fixture(scope="module")
def requests(hub: RunningHub) -> Iterator[Requests]:
    """Requests on the hub's own database, from this (another) process."""
    cfg = hub.config
    store = Store.open(cfg.database_url)
    yield Requests(store, GUIDE, settings(answer_deadline="2 business days"), 30)
    store.close()


class Center:
    """A freshly registered center with one equipment of its own category, so tests
    sharing the hub never route to each other's centers."""

    def __init__(self, hub: RunningHub, category: str | None = None) -> None:
        self.id = f"KR-D-{next(_ids):04d}"
        self.category = category or f"cycler-{self.id.lower()}"
        self.hub = hub
        add_center(hub.data_dir, self.id)

    def session(self) -> SyncSession:
        return SyncSession(self.hub.address, self.hub.credentials(self.id))

    async def connect(self, equipment: bool = False) -> SyncSession:
        s = self.session()
        await s.hello(self.id)
        if equipment:
            change = equipment_change(self.id, 1, "EQ-1", category=self.category)
            ack = await s.batch(self.id, 0, [change])
            assert ack.applied == 1
        return s


def submit(requests: Requests, category: str, needs: int = 1) -> Any:
    now = int(time.time())
    window = {"earliest": now + DAY, "latest": now + 8 * DAY}
    items = [need(category, hours=1 + i, **window) for i in range(needs)]
    view, _ = requests.submit(draft(*items), actor=PORTAL)
    return view


async def read(s: SyncSession, kind: str) -> Any:
    """The next response of ``kind`` (others, e.g. deliveries while waiting for an
    AnswerAck, are skipped)."""
    while True:
        response = await asyncio.wait_for(s.call.read(), READ_TIMEOUT)
        assert response is not grpc.aio.EOF, f"stream ended while waiting for {kind}"
        if response.WhichOneof("msg") == kind:
            return getattr(response, kind)


def test_deliveries_arrive_in_seq_order_and_are_resent_until_acked(
    hub: RunningHub, requests: Requests
) -> None:
    center = Center(hub)

    async def run() -> None:
        async with await center.connect(equipment=True) as s:
            view = submit(requests, center.category, needs=2)
            first, second = await read(s, "delivery"), await read(s, "delivery")
            assert (first.seq, second.seq) == (1, 2)
            ids = [n.items[0].item_id for n in view.needs]
            assert [first.item.item_id, second.item.item_id] == ids
            assert first.item.company.business_number == "124-81-00998"
            assert first.item.equipment_id == "EQ-1"
        # Not acknowledged: a new stream gets both again, in order.
        async with await center.connect() as s:
            assert [(await read(s, "delivery")).seq for _ in range(2)] == [1, 2]
            await s.send(delivery_ack=pb.DeliveryAck(seq=2))

            def delivered() -> bool:
                items = [n.items[0] for n in requests.get(view.id).needs]
                return all(i.state == "delivered" and i.delivered_at for i in items)

            await asyncio.to_thread(eventually, delivered)
            submit(requests, center.category)
            third = await read(s, "delivery")
            assert third.seq == 3
            await s.send(delivery_ack=pb.DeliveryAck(seq=3))
            await asyncio.to_thread(
                eventually, lambda: requests.pending_deliveries(center.id) == []
            )
        # Everything acknowledged: the next stream gets only what is new.
        async with await center.connect() as s:
            submit(requests, center.category)
            assert (await read(s, "delivery")).seq == 4

    asyncio.run(run())


def test_a_delivery_ack_ahead_of_the_hub_aborts_the_stream(
    hub: RunningHub, requests: Requests
) -> None:
    center = Center(hub)

    async def run() -> tuple[grpc.StatusCode, str]:
        async with await center.connect() as s:
            # The offending message goes last; the status is read without writing more.
            await s.send(delivery_ack=pb.DeliveryAck(seq=99))
            return await s.status()

    code, details = asyncio.run(run())
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "above the highest delivery seq 0" in details
    assert "session_aborted" in hub.log_text()


def test_answers_get_answer_acks(hub: RunningHub, requests: Requests) -> None:
    center = Center(hub)

    def answer(seq: int, item_id: str, **fields: Any) -> Any:
        return pb.ItemAnswer(answer_seq=seq, item_id=item_id, answered_by="이담당", **fields)

    async def run() -> list[Any]:
        acks = []
        async with await center.connect(equipment=True) as s:
            view = submit(requests, center.category)
            item = (await read(s, "delivery")).item
            assert item.request_id == view.id
            start = item.slot_start.seconds
            for msg in (
                answer(1, item.item_id, kind=pb.ANSWER_KIND_ACCEPT),
                answer(2, item.item_id, kind=pb.ANSWER_KIND_ACCEPT),
                answer(3, item.item_id, kind=pb.ANSWER_KIND_DECLINE),
                answer(4, "RQ-NOT-THERE-1-1", kind=pb.ANSWER_KIND_ACCEPT),
                answer(
                    5,
                    item.item_id,
                    kind=pb.ANSWER_KIND_PROPOSE,
                    start=timeconv.from_epoch(start + 3600),
                    end=timeconv.from_epoch(start),
                ),
            ):
                await s.send(item_answer=msg)
                acks.append(await read(s, "answer_ack"))
        stored = requests.get(view.id).needs[0].items[0]
        assert (stored.state, stored.start) == ("accepted", start)
        return acks

    acks = asyncio.run(run())
    assert [a.answer_seq for a in acks] == [1, 2, 3, 4, 5]
    assert [a.outcome for a in acks] == [
        pb.ANSWER_OUTCOME_APPLIED,
        pb.ANSWER_OUTCOME_DUPLICATE,
        pb.ANSWER_OUTCOME_REJECTED,
        pb.ANSWER_OUTCOME_REJECTED,
        pb.ANSWER_OUTCOME_REJECTED,
    ]
    assert acks[0].item_state == pb.ITEM_STATE_ACCEPTED
    assert "already answered" in acks[2].message
    assert "not routed to this center" in acks[3].message
    assert "after start" in acks[4].message


def test_a_decline_reroutes_to_the_next_center_s_stream(
    hub: RunningHub, requests: Requests
) -> None:
    first = Center(hub)
    second = Center(hub, category=first.category)

    async def run() -> None:
        async with (
            await first.connect(equipment=True) as a,
            await second.connect(equipment=True) as b,
        ):
            view = submit(requests, first.category)
            item = (await read(a, "delivery")).item
            await a.send(
                item_answer=pb.ItemAnswer(
                    answer_seq=1,
                    item_id=item.item_id,
                    kind=pb.ANSWER_KIND_DECLINE,
                    decline_reason=pb.DECLINE_REASON_NO_CAPACITY,
                )
            )
            ack = await read(a, "answer_ack")
            assert (ack.outcome, ack.item_state) == (
                pb.ANSWER_OUTCOME_APPLIED,
                pb.ITEM_STATE_DECLINED,
            )
            moved = (await read(b, "delivery")).item
            assert (moved.request_id, moved.attempt) == (view.id, 2)
            assert moved.item_id == f"{view.id}-1-2"

    asyncio.run(run())


def test_in_process_hub_wakes_streams_and_sweeps_overdue_items(tmp_path: Path) -> None:
    """No polling here (30 s): the router's notify wakes the pumps, and the sweeper
    (every 0.1 s) expires the item once the clock passes its deadline."""
    a, b = "KR-W-0001", "KR-W-0002"
    data_dir = init_hub(
        tmp_path / "hub",
        centers=[a, b],
        settings={
            "delivery_poll_seconds": 30,
            "sweep_seconds": 0.1,
            "answer_deadline": "1 hour",
        },
    )
    clock = FakeClock(time.time())

    async def run() -> None:
        hub = HubServer(config.load(data_dir), listen="127.0.0.1:0", clock=clock)
        address = await hub.start()
        assert hub.router is not None
        try:
            async with (
                SyncSession(address, hub_credentials(data_dir, a)) as sa,
                SyncSession(address, hub_credentials(data_dir, b)) as sb,
            ):
                for center, s in ((a, sa), (b, sb)):
                    await s.hello(center)
                    await s.batch(center, 0, [equipment_change(center, 1, "EQ-1")])
                now = int(clock.now)
                window = {"earliest": now + DAY, "latest": now + 8 * DAY}
                view, centers = await hub.router.submit(
                    draft(need("battery-cycler", **window)), actor=PORTAL
                )
                assert centers == (a,)
                item = (await read(sa, "delivery")).item
                clock.now += 3600
                withdrawal = (await read(sa, "delivery")).withdrawal
                assert withdrawal.item_id == item.item_id
                assert "no answer by the deadline" in withdrawal.reason
                moved = (await read(sb, "delivery")).item
                assert moved.item_id == f"{view.id}-1-2"
                stored = await hub.router.get(view.id)
                assert [i.state for i in stored.needs[0].items] == ["expired", "routed"]
        finally:
            await hub.shutdown()

    asyncio.run(run())

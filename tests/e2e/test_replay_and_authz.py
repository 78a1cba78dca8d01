"""A raw Sync client against a real hub process on each database:

- replaying any batch changes nothing (DESIGN.md 5.2): the same batch twice, an old batch
  after newer ones, a batch replayed on a new stream, a batch half replay and half new;
- per-center order (5.3): an older change never overwrites a newer one, a gap is refused;
- identity from the certificate (5.1): a center's certificate sending another center's
  records is refused with PERMISSION_DENIED and nothing of the batch is applied.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import grpc
import pytest
from iplatform.v1 import message_pb2
from sqlalchemy import text

from proto import pb
from tests.helpers.e2e import HubDb, Procs, hub_db, hub_view
from tests.helpers.hubenv import (
    RunningHub,
    SyncSession,
    entry_change,
    equipment_change,
    init_hub,
)

A, B = "KR-MR-0001", "KR-BI-0001"
START = 1_795_748_400  # 2026-11-27T00:00:00Z


def _rows(db: HubDb, center: str) -> tuple[Any, ...]:
    """Everything the hub stores of a center, versions and timestamps included."""
    with db.engine.connect() as conn:
        out: list[Any] = []
        for table in ("equipment", "entries"):
            sql = f"SELECT * FROM {table} WHERE center_id = :c ORDER BY id"
            out.append([tuple(r) for r in conn.execute(text(sql), {"c": center})])
        # Hello and heartbeat bookkeeping (last_seen, connected) is not content.
        sync = conn.execute(
            text("SELECT hwm, last_sync FROM center_sync WHERE center_id = :c"), {"c": center}
        ).one()
    return (*out, tuple(sync))


def _first_batch(center: str) -> list[message_pb2.Change]:
    """Seqs 1..100: 50 equipment, 50 bookings."""
    changes = [equipment_change(center, i + 1, f"EQ-{i:02d}") for i in range(50)]
    changes += [
        entry_change(center, 51 + i, f"BK-{i:02d}", f"EQ-{i:02d}", START + i * 3600,
                     START + i * 3600 + 1800)
        for i in range(50)
    ]  # fmt: skip
    return changes


def _second_batch(center: str) -> list[message_pb2.Change]:
    """Seqs 101..150: 25 equipment renamed and retired, 25 bookings deleted."""
    changes = [
        equipment_change(center, 101 + i, f"EQ-{i:02d}", name_ko=f"새 장비 {i}",
                         status=pb.EQUIPMENT_STATUS_RETIRED)
        for i in range(25)
    ]  # fmt: skip
    changes += [
        pb.Change(
            key=pb.RecordKey(kind=pb.RECORD_KIND_ENTRY, id=f"BK-{i:02d}"),
            seq=126 + i,
            center_id=center,
            deleted=True,
        )
        for i in range(25)
    ]
    return changes


@pytest.fixture
def hub(tmp_path: Path, db_url: str, procs: Procs) -> RunningHub:
    return procs.hub(init_hub(tmp_path / "hub", centers=[A, B], db_url=db_url))


def test_replaying_batches_changes_nothing(hub: RunningHub, db_url: str) -> None:
    first, second = _first_batch(A), _second_batch(A)

    async def run(db: HubDb) -> None:
        async with SyncSession(hub.address, hub.credentials(A)) as s:
            assert (await s.hello(A)).high_water_mark == 0
            ack = await s.batch(A, 0, first)
            assert (ack.applied, ack.duplicates, ack.high_water_mark) == (100, 0, 100)
            after_first = _rows(db, A)
            view_first = hub_view(hub.data_dir, A)["equipment"]

            # The same batch again, as an agent does after a lost Ack.
            ack = await s.batch(A, 0, first)
            assert (ack.applied, ack.duplicates, ack.high_water_mark) == (0, 100, 100)
            assert _rows(db, A) == after_first
            assert hub_view(hub.data_dir, A)["equipment"] == view_first

            ack = await s.batch(A, 100, second)
            assert (ack.applied, ack.duplicates, ack.high_water_mark) == (50, 0, 150)
            after_second = _rows(db, A)

            # The first batch once more, now older than what is stored: it must neither
            # bring back the old names nor resurrect the deleted bookings.
            ack = await s.batch(A, 0, first)
            assert (ack.applied, ack.duplicates, ack.high_water_mark) == (0, 100, 150)
            assert _rows(db, A) == after_second

        # A new stream (a reconnect) gets the committed hwm and replays are still no-ops.
        async with SyncSession(hub.address, hub.credentials(A)) as s:
            assert (await s.hello(A, last_acked_seq=100)).high_water_mark == 150
            ack = await s.batch(A, 100, second)
            assert (ack.applied, ack.duplicates, ack.high_water_mark) == (0, 50, 150)
            assert _rows(db, A) == after_second

            # Half replay, half new: only the new half is applied.
            tail = second[-10:]  # seqs 141..150, deletions already applied
            new = [equipment_change(A, 151 + i, f"EQ-{40 + i:02d}", name_ko="갱신")
                   for i in range(10)]  # fmt: skip
            ack = await s.batch(A, 140, tail + new)
            assert (ack.applied, ack.duplicates, ack.high_water_mark) == (10, 10, 160)
            after_mixed = _rows(db, A)

            # A gap (the hub has not committed up to prev_seq) is refused, not applied.
            gap = [equipment_change(A, 200, "EQ-00", name_ko="건너뜀")]
            ack = await s.batch(A, 190, gap)
            assert ack.rewind and (ack.applied, ack.high_water_mark) == (0, 160)
            assert _rows(db, A) == after_mixed

    with hub_db(db_url) as db:
        asyncio.run(run(db))
    eq = {e["id"]: e for e in hub_view(hub.data_dir, A)["equipment"]}
    assert len(eq) == 50
    assert eq["EQ-00"]["name_ko"] == "새 장비 0" and eq["EQ-00"]["status"] == "retired"
    assert eq["EQ-45"]["name_ko"] == "갱신"
    assert sum(len(e["entries"]) for e in eq.values()) == 25


async def _refused(
    hub: RunningHub, cert_of: str, hello_as: str, *batches: Any
) -> tuple[grpc.StatusCode, str]:
    """Open a stream with ``cert_of``'s certificate, say Hello as ``hello_as`` and, once
    welcomed, send the batches; the status the stream ended with."""
    async with SyncSession(hub.address, hub.credentials(cert_of)) as s:
        await s.send(hello=pb.Hello(center_id=hello_as, agent_version="test/1"))
        try:
            first = await s.call.read()
        except grpc.aio.AioRpcError as exc:
            return exc.code(), exc.details() or ""
        assert first.WhichOneof("msg") == "welcome", first
        for batch in batches:
            await s.send(batch=batch)
        return await s.status()


def test_cross_center_writes_are_refused_and_nothing_is_applied(
    hub: RunningHub, db_url: str
) -> None:
    async def seed_b() -> None:
        async with SyncSession(hub.address, hub.credentials(B)) as s:
            await s.hello(B)
            ack = await s.batch(B, 0, _first_batch(B))
            assert ack.applied == 100

    asyncio.run(seed_b())
    with hub_db(db_url) as db:
        b_before, a_before = _rows(db, B), _rows(db, A)
        b_view = hub_view(hub.data_dir, B)
        assert a_before[:2] == ([], []) and a_before[2][0] == 0

        # A's certificate claiming to be B.
        code, details = asyncio.run(_refused(hub, A, B))
        assert code == grpc.StatusCode.PERMISSION_DENIED, details

        # A's certificate, honest Hello, batch addressed to B with B's records.
        hostile = [equipment_change(B, 101 + i, f"EQ-{i:02d}", name_ko="탈취") for i in range(5)]
        to_b = pb.ChangeBatch(center_id=B, prev_seq=0, changes=hostile)
        code, details = asyncio.run(_refused(hub, A, A, to_b))
        assert code == grpc.StatusCode.PERMISSION_DENIED, details

        # A's own batch with one of B's records smuggled in: all of it is refused, A's
        # valid changes included.
        mixed = [equipment_change(A, 1 + i, f"EQ-{i:02d}") for i in range(5)]
        mixed.append(equipment_change(B, 6, "EQ-07", name_ko="탈취"))
        code, details = asyncio.run(
            _refused(hub, A, A, pb.ChangeBatch(center_id=A, prev_seq=0, changes=mixed))
        )
        assert code == grpc.StatusCode.PERMISSION_DENIED, details
        assert "nothing" in details

        # A portal's certificate may not sync at all. The hub refuses it as the call
        # starts; nothing is written (a grpc.aio client write racing a server's early
        # status turns that status into INTERNAL on the client: grpc/grpc#36066).
        async def portal() -> tuple[grpc.StatusCode, str]:
            async with SyncSession(hub.address, hub.credentials("web", "portal")) as s:
                return await s.status()

        code, details = asyncio.run(portal())
        assert code == grpc.StatusCode.PERMISSION_DENIED, details

        assert _rows(db, B) == b_before
        assert hub_view(hub.data_dir, B)["equipment"] == b_view["equipment"]
        assert _rows(db, A) == a_before

        # Record ids are per center: A's EQ-00 is A's own and leaves B's EQ-00 alone.
        async def a_writes_same_ids() -> None:
            async with SyncSession(hub.address, hub.credentials(A)) as s:
                await s.hello(A)
                ack = await s.batch(A, 0, [equipment_change(A, 1, "EQ-00", name_ko="A의 장비")])
                assert ack.applied == 1

        asyncio.run(a_writes_same_ids())
        assert _rows(db, B) == b_before
        [a_eq] = hub_view(hub.data_dir, A)["equipment"]
        assert (a_eq["id"], a_eq["name_ko"]) == ("EQ-00", "A의 장비")

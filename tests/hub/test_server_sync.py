"""The Sync stream of a real hub process, driven by a raw grpc.aio client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from iplatform.v1 import message_pb2, sync_pb2

from proto import pb, records
from tests.helpers.hubenv import (
    RunningHub,
    SyncSession,
    add_center,
    entry_change,
    equipment_change,
    init_hub,
    run_cli,
    running_hub,
)

START = 1_795_748_400  # 2026-11-27T03:00:00Z


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    data_dir = init_hub(tmp_path_factory.mktemp("sync") / "hub")
    with running_hub(data_dir) as running:
        yield running


_counter = iter(range(1, 10_000))


@pytest.fixture
def center(hub: RunningHub) -> str:
    """A freshly registered center, so tests sharing the hub do not see each other's data."""
    center_id = f"KR-T-{next(_counter):04d}"
    add_center(hub.data_dir, center_id)
    return center_id


def _view(hub: RunningHub, center_id: str) -> dict[str, Any]:
    code, out = run_cli("view", "--data-dir", str(hub.data_dir), "--json", "--center", center_id)
    assert code == 0, out
    [center] = json.loads(out)["centers"]
    return dict(center)


def _session(hub: RunningHub, center_id: str) -> SyncSession:
    return SyncSession(hub.address, hub.credentials(center_id))


def test_hello_batch_ack_and_view(hub: RunningHub, center: str) -> None:
    async def run() -> tuple[sync_pb2.Welcome, sync_pb2.Ack]:
        async with _session(hub, center) as s:
            welcome = await s.hello(center)
            ack = await s.batch(
                center,
                0,
                [
                    equipment_change(center, 1, "EQ-1"),
                    entry_change(center, 2, "BK-1", "EQ-1", START, START + 7200),
                ],
            )
            return welcome, ack

    welcome, ack = asyncio.run(run())
    assert welcome.high_water_mark == 0
    assert welcome.settings.heartbeat_seconds == 5
    assert welcome.settings.max_batch_changes == 1000
    assert welcome.settings.max_inflight_batches == 4
    assert welcome.HasField("server_time")
    assert (ack.high_water_mark, ack.applied, ack.duplicates, ack.rewind) == (2, 2, 0, False)
    view = _view(hub, center)
    assert view["hwm"] == 2 and view["stale"] is False
    [eq] = view["equipment"]
    assert eq["id"] == "EQ-1"
    assert eq["entries"] == [
        {
            "id": "BK-1",
            "start": "2026-11-27T03:00:00Z",
            "end": "2026-11-27T05:00:00Z",
            "kind": "booked",
        }
    ]


def test_replayed_batch_is_acked_as_duplicates_and_changes_nothing(
    hub: RunningHub, center: str
) -> None:
    changes = [equipment_change(center, 1, "EQ-1"), equipment_change(center, 2, "EQ-2")]

    async def run() -> tuple[sync_pb2.Ack, sync_pb2.Ack, int]:
        async with _session(hub, center) as s:
            await s.hello(center)
            first = await s.batch(center, 0, changes)
        before = _view(hub, center)
        async with _session(hub, center) as s:
            welcome = await s.hello(center, last_acked_seq=2, last_assigned_seq=2)
            again = await s.batch(center, 0, changes)
        assert _view(hub, center)["equipment"] == before["equipment"]
        return first, again, welcome.high_water_mark

    first, again, hwm = asyncio.run(run())
    assert (first.applied, first.duplicates) == (2, 0)
    assert hwm == 2
    assert (again.high_water_mark, again.applied, again.duplicates) == (2, 0, 2)


def test_gap_in_sequence_asks_for_rewind(hub: RunningHub, center: str) -> None:
    async def run() -> sync_pb2.Ack:
        async with _session(hub, center) as s:
            await s.hello(center)
            return await s.batch(center, 5, [equipment_change(center, 6, "EQ-1")])

    ack = asyncio.run(run())
    assert ack.rewind and ack.high_water_mark == 0 and ack.applied == 0
    assert _view(hub, center)["equipment"] == []


def _refused(
    hub: RunningHub, cert_center: str, hello_center: str, *messages: sync_pb2.SyncRequest
) -> tuple[grpc.StatusCode, str]:
    async def run() -> tuple[grpc.StatusCode, str]:
        async with _session(hub, cert_center) as s:
            if hello_center:
                await s.hello(hello_center)
            for message in messages:
                await s.send_request(message)
            return await s.status()

    return asyncio.run(run())


def test_batch_with_another_centers_id_is_denied_and_nothing_applied(
    hub: RunningHub, center: str
) -> None:
    other = f"{center}-X"
    add_center(hub.data_dir, other)
    mixed = pb.ChangeBatch(
        center_id=center,
        prev_seq=0,
        changes=[equipment_change(center, 1, "EQ-1"), equipment_change(other, 2, "EQ-2")],
    )
    code, details = _refused(hub, center, center, pb.SyncRequest(batch=mixed))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert other in details and "nothing" in details
    foreign = pb.ChangeBatch(
        center_id=other, prev_seq=0, changes=[equipment_change(other, 1, "EQ-9")]
    )
    code, _ = _refused(hub, center, center, pb.SyncRequest(batch=foreign))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    for c in (center, other):
        view = _view(hub, c)
        assert view["hwm"] == 0 and view["equipment"] == []


def test_invalid_record_is_refused_naming_it_and_nothing_applied(
    hub: RunningHub, center: str
) -> None:
    batch = pb.ChangeBatch(
        center_id=center,
        prev_seq=0,
        changes=[
            equipment_change(center, 1, "EQ-1"),
            entry_change(center, 2, "BK-BAD", "EQ-1", START + 3600, START),
        ],
    )
    code, details = _refused(hub, center, center, pb.SyncRequest(batch=batch))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "entry 'BK-BAD' (seq 2)" in details and "end is not after start" in details
    view = _view(hub, center)
    assert view["hwm"] == 0 and view["equipment"] == []


def test_hello_for_another_center_is_denied(hub: RunningHub, center: str) -> None:
    other = f"{center}-Y"
    add_center(hub.data_dir, other)
    hello = pb.SyncRequest(hello=pb.Hello(center_id=other))
    code, details = _refused(hub, center, "", hello)
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert f"certificate is for {center!r}" in details


def test_unregistered_center_is_denied(hub: RunningHub) -> None:
    hello = pb.SyncRequest(hello=pb.Hello(center_id="KR-GHOST-1"))
    code, details = _refused(hub, "KR-GHOST-1", "", hello)
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert "center not registered: run iplat-hub center add" in details


def test_first_message_must_be_hello(hub: RunningHub, center: str) -> None:
    hb = pb.SyncRequest(heartbeat=pb.Heartbeat(backlog=1))
    code, details = _refused(hub, center, "", hb)
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert "Hello" in details


def test_heartbeat_is_recorded(hub: RunningHub, center: str) -> None:
    async def run() -> None:
        async with _session(hub, center) as s:
            await s.hello(center)
            await s.send(heartbeat=pb.Heartbeat(backlog=7, quarantined_deletes=2))
            # The stream handles messages in order: once this Ack arrives, the heartbeat
            # before it has been recorded.
            await s.batch(center, 0, [])

    asyncio.run(run())
    from hub import config
    from hub.store import Store

    with Store.open(config.load(hub.data_dir).database_url) as store:
        state = store.sync_state(center)
    assert (state.backlog, state.quarantined_deletes) == (7, 2)


def test_reconcile_digest_returns_only_differing_buckets(hub: RunningHub, center: str) -> None:
    count = 256
    shared = [equipment_change(center, i + 1, f"EQ-{i}") for i in range(20)]
    hub_only = equipment_change(center, 21, "EQ-HUB-ONLY")
    agent_only = equipment_change(center, 22, "EQ-AGENT-ONLY")

    def items(changes: list[message_pb2.Change]) -> list[tuple[records.Key, bytes]]:
        return [(records.key_of(c.equipment), records.record_hash(c.equipment)) for c in changes]

    agent_digests = records.bucket_digests(items([*shared, agent_only]), count)

    async def run() -> tuple[sync_pb2.ReconcileBuckets, grpc.StatusCode]:
        async with _session(hub, center) as s:
            await s.hello(center)
            await s.batch(center, 0, [*shared, hub_only])
            digest = pb.ReconcileDigest(
                round=3,
                bucket_count=count,
                digests=records.pack_digests(agent_digests),
                as_of_seq=21,
            )
            await s.send(reconcile_digest=digest)
            answer = await s.call.read()
            await s.send(
                reconcile_report=pb.ReconcileReport(round=3, buckets_differing=2, upserts_queued=1)
            )
            await s.send(reconcile_digest=pb.ReconcileDigest(round=4, bucket_count=0))
            code, _ = await s.status()
            return answer.reconcile_buckets, code

    answer, bad_count_code = asyncio.run(run())
    assert answer.round == 3 and answer.buckets_compared == count
    hub_key = records.key_of(hub_only.equipment)
    agent_key = records.key_of(agent_only.equipment)
    expected = {records.bucket_of(hub_key, count), records.bucket_of(agent_key, count)}
    assert {b.index for b in answer.buckets} == expected
    listed = {records.key_from_message(e.key): e.hash for b in answer.buckets for e in b.entries}
    assert listed[hub_key] == records.record_hash(hub_only.equipment)
    assert agent_key not in listed
    assert bad_count_code == grpc.StatusCode.INVALID_ARGUMENT


def test_sigterm_stops_the_hub_gracefully(tmp_path: Path) -> None:
    data_dir = init_hub(tmp_path / "hub", centers=["KR-MR-0001"])
    with running_hub(data_dir) as running:
        assert running.stop() == 0
        assert not (data_dir / "serve.json").exists()
        events = [
            json.loads(ln)["event"] for ln in running.log_text().splitlines() if ln.startswith("{")
        ]
        assert events[-2:] == ["shutting_down", "stopped"]


def test_second_center_added_while_serving_can_sync(hub: RunningHub) -> None:
    center_id = "KR-LATE-0001"
    add_center(hub.data_dir, center_id)

    async def run() -> sync_pb2.Ack:
        async with _session(hub, center_id) as s:
            await s.hello(center_id)
            return await s.batch(center_id, 0, [equipment_change(center_id, 1, "EQ-1")])

    assert asyncio.run(run()).applied == 1

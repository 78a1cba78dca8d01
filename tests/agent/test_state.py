from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from iplatform.v1.message_pb2 import CalendarEntry, Change, Equipment

from agent import state_schema
from agent.errors import StateError
from agent.state import AgentState, HeldInfo
from proto import pb, records

CENTER = "KR-MR-0001"
EQ = int(pb.RECORD_KIND_EQUIPMENT)
EN = int(pb.RECORD_KIND_ENTRY)


def eq(i: int, name: str = "cycler") -> Equipment:
    return pb.Equipment(
        id=f"eq-{i}", name_ko="충방전기", name_en=name, status=pb.EQUIPMENT_STATUS_AVAILABLE
    )


def entry(i: int, start: int = 1_800_000_000) -> CalendarEntry:
    return pb.CalendarEntry(
        id=f"en-{i}",
        equipment_id="eq-0",
        start={"seconds": start},
        end={"seconds": start + 3600},
        kind=pb.ENTRY_KIND_BOOKED,
    )


@pytest.fixture
def state(tmp_path: Path) -> Iterator[AgentState]:
    s = AgentState(tmp_path / "state.db", CENTER)
    yield s
    s.close()


def body(ch: Change) -> object:
    which = ch.WhichOneof("body")
    return "deleted" if which == "deleted" else getattr(ch, which)


# -- opening ---------------------------------------------------------------------------


def test_file_is_wal_with_full_sync_and_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with AgentState(path, CENTER) as s:
        s.apply_snapshot("csv", [eq(1)], max_delete_share=0.5)
        assert s._conn is not None
        assert s._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    with AgentState(path, CENTER) as s:
        assert s._conn is not None
        assert s._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert s.record_count() == 1
        assert s.backlog() == 1
        assert s.last_assigned_seq() == 1


def test_newer_format_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    AgentState(path, CENTER).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'format_version'")
    with pytest.raises(StateError, match=r"format version 99.*newer agent"):
        AgentState(path, CENTER)


def test_state_of_another_center_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    AgentState(path, CENTER).close()
    with pytest.raises(StateError, match=r"belongs to center 'KR-MR-0001'.*fix center_id"):
        AgentState(path, "KR-BIO-0002")


def test_foreign_or_damaged_files_are_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(StateError, match="not an agent state file"):
        AgentState(other, CENTER)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StateError, match="move it aside"):
        AgentState(garbage, CENTER)
    with pytest.raises(StateError, match="does not exist"):
        AgentState(tmp_path / "missing" / "state.db", CENTER)


def test_a_closed_state_says_so(state: AgentState) -> None:
    state.close()
    state.close()  # idempotent
    with pytest.raises(StateError, match="closed"):
        state.backlog()


def test_a_writer_lock_held_too_long_becomes_a_state_error(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    AgentState(path, CENTER).close()
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with AgentState(path, CENTER, busy_timeout_s=0.1) as s:
            with pytest.raises(StateError, match="another agent"):
                s.apply_snapshot("csv", [eq(1)], max_delete_share=0.5)
            assert s.backlog() == 0  # readers are not blocked by a writer (WAL)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


# -- snapshots -------------------------------------------------------------------------


def test_snapshot_changes_become_pending_changes(state: AgentState) -> None:
    r = state.apply_snapshot("csv", [eq(2), eq(1), entry(1)], max_delete_share=0.5)
    assert (r.upserts, r.deletes, r.unchanged, r.held, r.conflicts) == (3, 0, 0, False, [])
    changes = state.pending(0, 100)
    assert [c.seq for c in changes] == [1, 2, 3]
    assert [records.key_from_message(c.key) for c in changes] == [
        (EQ, "eq-1"),
        (EQ, "eq-2"),
        (EN, "en-1"),
    ]
    assert {c.center_id for c in changes} == {CENTER}
    assert body(changes[0]) == eq(1)
    assert body(changes[2]) == entry(1)

    again = state.apply_snapshot("csv", [eq(1), eq(2), entry(1)], max_delete_share=0.5)
    assert (again.upserts, again.deletes, again.unchanged) == (0, 0, 3)
    assert state.last_assigned_seq() == 3

    state.ack(3)
    r = state.apply_snapshot("csv", [eq(1, "renamed"), eq(2)], max_delete_share=0.5)
    assert (r.upserts, r.deletes, r.unchanged) == (1, 1, 1)
    changes = state.pending(3, 100)
    assert [(c.seq, body(c)) for c in changes] == [(4, eq(1, "renamed")), (5, "deleted")]
    assert records.key_from_message(changes[1].key) == (EN, "en-1")
    assert state.load_records() == {(EQ, "eq-1"): eq(1, "renamed"), (EQ, "eq-2"): eq(2)}


def test_a_newer_change_replaces_the_pending_one(state: AgentState) -> None:
    state.apply_snapshot("csv", [eq(1), eq(2)], max_delete_share=1.0)
    state.apply_snapshot("csv", [eq(1, "v2"), eq(2)], max_delete_share=1.0)
    state.apply_snapshot("csv", [eq(2)], max_delete_share=1.0)
    changes = state.pending(0, 100)
    assert [(c.seq, c.key.id, body(c)) for c in changes] == [
        (2, "eq-2", eq(2)),
        (4, "eq-1", "deleted"),
    ]
    assert state.backlog() == 2


def test_pending_pages_in_seq_order(state: AgentState) -> None:
    state.apply_snapshot("csv", [eq(i) for i in range(10)], max_delete_share=0.5)
    first = state.pending(0, 4)
    rest = state.pending(first[-1].seq, 100)
    assert [c.seq for c in first + rest] == list(range(1, 11))
    assert state.pending(10, 100) == []


def test_sources_own_their_records_and_conflicts_are_reported(state: AgentState) -> None:
    state.apply_snapshot("a", [eq(1), eq(2)], max_delete_share=0.5)
    r = state.apply_snapshot("b", [eq(2, "other"), eq(3), eq(3, "dup")], max_delete_share=0.5)
    assert r.upserts == 1
    assert len(r.conflicts) == 2
    assert "appears twice" in r.conflicts[0]
    assert "already provided by source 'a'" in r.conflicts[1]
    # b's snapshot neither deleted a's records nor overwrote eq-2.
    assert state.load_records()[(EQ, "eq-2")] == eq(2)
    assert state.load_records()[(EQ, "eq-3")] == eq(3, "dup")
    assert state.record_count() == 3
    state.apply_snapshot("b", [], max_delete_share=0.5)  # 1 of 3: within the limit
    assert state.record_count() == 2


# -- safety valve ----------------------------------------------------------------------


def test_a_mass_deletion_is_held_whole_and_reported(state: AgentState) -> None:
    state.apply_snapshot("csv", [eq(i) for i in range(10)], max_delete_share=0.3)
    state.ack(10)
    truncated = [eq(0, "changed"), *[eq(i) for i in range(1, 6)]]  # deletes 4 of 10
    r = state.apply_snapshot("csv", truncated, max_delete_share=0.3)
    assert r.held and r.held_deletes == 4 and (r.upserts, r.deletes) == (0, 0)
    assert state.backlog() == 0  # not even the upsert of eq-0 was applied
    assert state.record_count() == 10
    held = state.held()
    assert held is not None and (held.source, held.deletes, held.total) == ("csv", 4, 10)

    r = state.apply_snapshot("csv", truncated, max_delete_share=0.3)  # still held
    assert r.held
    assert state.holds() == [held]  # first-held time kept

    assert state.approve_deletes() == [held]
    r = state.apply_snapshot("csv", truncated, max_delete_share=0.3)
    assert not r.held and (r.upserts, r.deletes) == (1, 4)
    assert state.held() is None
    # The approval was consumed: the next mass deletion is held again.
    assert state.apply_snapshot("csv", [], max_delete_share=0.3).held


def test_an_approval_covers_only_as_many_deletions_as_reported(state: AgentState) -> None:
    state.apply_snapshot("csv", [eq(i) for i in range(10)], max_delete_share=0.2)
    assert state.apply_snapshot("csv", [eq(i) for i in range(5)], max_delete_share=0.2).held
    state.approve_deletes("csv")
    worse = state.apply_snapshot("csv", [eq(0)], max_delete_share=0.2)
    assert worse.held and worse.held_deletes == 9
    assert state.record_count() == 10


def test_a_snapshot_within_the_limit_clears_the_hold(state: AgentState) -> None:
    state.apply_snapshot("csv", [eq(i) for i in range(10)], max_delete_share=0.2)
    assert state.apply_snapshot("csv", [], max_delete_share=0.2).held
    r = state.apply_snapshot("csv", [eq(i) for i in range(9)], max_delete_share=0.2)
    assert not r.held and r.deletes == 1
    assert state.held() is None


def test_approved_flag_bypasses_the_valve(state: AgentState) -> None:
    state.apply_snapshot("csv", [eq(i) for i in range(10)], max_delete_share=0.1)
    r = state.apply_snapshot("csv", [], max_delete_share=0.1, approved=True)
    assert not r.held and r.deletes == 10
    assert state.record_count() == 0


def test_the_share_is_of_the_whole_center(state: AgentState) -> None:
    state.apply_snapshot("big", [eq(i) for i in range(8)], max_delete_share=0.5)
    state.apply_snapshot("small", [entry(1), entry(2)], max_delete_share=0.5)
    # small loses 100% of its own records but only 2 of the center's 10.
    assert not state.apply_snapshot("small", [], max_delete_share=0.5).held


def test_valve_edges(tmp_path: Path) -> None:
    with AgentState(tmp_path / "a.db", CENTER) as s:
        # An empty previous state never trips, even at share 0.
        assert not s.apply_snapshot("csv", [eq(1)], max_delete_share=0.0).held
        # Deleting the only record is a share of 1.0.
        assert s.apply_snapshot("csv", [], max_delete_share=0.99).held
        # 1.0 switches the valve off.
        assert not s.apply_snapshot("csv", [], max_delete_share=1.0).held
        with pytest.raises(ValueError, match=r"within 0\.\.1"):
            s.apply_snapshot("csv", [], max_delete_share=1.5)


def test_hold_and_approval_cross_processes_and_restarts(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    agent = AgentState(path, CENTER)
    agent.apply_snapshot("csv", [eq(i) for i in range(4)], max_delete_share=0.25)
    assert agent.apply_snapshot("csv", [eq(0)], max_delete_share=0.25).held
    # The CLI opens the same file while the agent runs.
    with AgentState(path, CENTER) as cli:
        held = cli.held()
        assert held is not None and held.deletes == 3
        assert cli.approve_deletes() == [held]
        assert cli.approve_deletes("nope") == []
    assert not agent.apply_snapshot("csv", [eq(0)], max_delete_share=0.25).held
    agent.close()
    with AgentState(path, CENTER) as again:
        assert again.held() is None
        assert again.record_count() == 1


# -- ack and sequence numbers ----------------------------------------------------------


def test_ack_removes_up_to_hwm_and_never_lowers_last_acked(state: AgentState) -> None:
    state.apply_snapshot("csv", [eq(i) for i in range(5)], max_delete_share=0.5)
    assert state.ack(3) == 3
    assert [c.seq for c in state.pending(0, 10)] == [4, 5]
    assert state.ack(2) == 0
    assert state.last_acked_seq() == 3
    assert state.ack(5) == 2
    assert state.backlog() == 0 and state.last_acked_seq() == 5


def test_ack_of_a_superseded_seq_keeps_the_newer_change(state: AgentState) -> None:
    state.apply_snapshot("csv", [eq(1)], max_delete_share=0.5)  # seq 1, sent
    state.apply_snapshot("csv", [eq(1, "v2")], max_delete_share=0.5)  # seq 2 replaces it
    assert state.ack(1) == 0
    [change] = state.pending(0, 10)
    assert (change.seq, body(change)) == (2, eq(1, "v2"))


def test_ensure_seq_above_renumbers_pending_in_order(state: AgentState) -> None:
    state.apply_snapshot("csv", [eq(i) for i in range(3)], max_delete_share=0.5)
    state.apply_snapshot("csv", [eq(0, "v2"), eq(1), eq(2)], max_delete_share=0.5)
    order = [c.key.id for c in state.pending(0, 10)]
    assert order == ["eq-1", "eq-2", "eq-0"]
    assert state.ensure_seq_above(100) == 3
    changes = state.pending(0, 10)
    assert [c.seq for c in changes] == [101, 102, 103]
    assert [c.key.id for c in changes] == order
    assert state.last_assigned_seq() == 103
    assert state.ensure_seq_above(50) == 0  # all pending already above: nothing to do
    assert state.last_assigned_seq() == 103
    state.apply_snapshot("csv", [eq(0), eq(1), eq(2)], max_delete_share=0.5)
    assert [c.seq for c in state.pending(103, 10)] == [104]


def test_ensure_seq_above_with_empty_outbox_raises_the_counter(state: AgentState) -> None:
    assert state.ensure_seq_above(7) == 0
    state.apply_snapshot("csv", [eq(1)], max_delete_share=0.5)
    assert [c.seq for c in state.pending(0, 10)] == [8]


def test_an_ack_beyond_anything_assigned_renumbers_instead_of_dropping(state: AgentState) -> None:
    # The state file was lost; the hub remembers seqs up to 500 from the earlier life.
    state.apply_snapshot("csv", [eq(1), eq(2)], max_delete_share=0.5)
    assert state.ack(500) == 0
    assert [c.seq for c in state.pending(0, 10)] == [501, 502]
    assert state.last_acked_seq() == 500


# -- reconciliation --------------------------------------------------------------------


def test_digests_match_the_shared_helper(state: AgentState) -> None:
    recs = [eq(i) for i in range(20)] + [entry(i) for i in range(20)]
    state.apply_snapshot("csv", recs, max_delete_share=0.5)
    items = [(records.key_of(r), records.record_hash(r)) for r in recs]
    assert sorted(state.digest_items()) == sorted(items)
    assert state.bucket_digests(16) == records.bucket_digests(items, 16)
    assert state.digests_as_of(16) == (40, records.bucket_digests(items, 16))


def test_queue_repair_queues_only_the_differences_in_listed_buckets(state: AgentState) -> None:
    recs = [eq(i) for i in range(30)]
    state.apply_snapshot("csv", recs, max_delete_share=0.5)
    state.ack(state.last_assigned_seq())
    n = 4
    by_bucket: dict[int, list[tuple[records.Key, bytes]]] = {b: [] for b in range(n)}
    for r in recs:
        by_bucket[records.bucket_of(records.key_of(r), n)].append(
            (records.key_of(r), records.record_hash(r))
        )
    hub = {b: list(v) for b, v in by_bucket.items()}
    missing, wrong = hub[0].pop(), hub[1][0]
    hub[1][0] = (wrong[0], b"\0" * 8)
    extra = (EQ, "eq-ghost")
    hub[records.bucket_of(extra, n)].append((extra, b"\1" * 8))
    unlisted = hub.pop(3)  # buckets the hub did not list are not touched
    assert unlisted

    ups, dels = state.queue_repair(hub, n)
    want_ups = {missing[0], wrong[0]}
    want_dels = {extra} if records.bucket_of(extra, n) != 3 else set()
    assert (ups, dels) == (len(want_ups), len(want_dels))
    changes = state.pending(0, 100)
    assert {records.key_from_message(c.key) for c in changes if not c.deleted} == want_ups
    assert {records.key_from_message(c.key) for c in changes if c.deleted} == want_dels
    assert all(body(c) in recs for c in changes if not c.deleted)

    state.ack(state.last_assigned_seq())
    assert state.queue_repair(by_bucket, n) == (0, 0)  # an equal hub needs nothing
    with pytest.raises(ValueError, match="outside"):
        state.queue_repair({9: []}, n)


def test_requeue_all_queues_every_record(state: AgentState) -> None:
    state.apply_snapshot("csv", [eq(i) for i in range(5)], max_delete_share=0.5)
    state.ack(5)
    assert state.requeue_all() == 5
    assert [c.seq for c in state.pending(0, 10)] == [6, 7, 8, 9, 10]


# -- meta and source health ------------------------------------------------------------


def test_meta_round_trip_and_reserved_keys(state: AgentState) -> None:
    assert state.get_meta("agent_version") is None
    state.set_meta("agent_version", "0.1.0")
    state.set_meta_many({"a": "1", "b": "2"})
    assert (state.get_meta("agent_version"), state.get_meta("b")) == ("0.1.0", "2")
    for key in state_schema.RESERVED_META:
        with pytest.raises(ValueError, match="managed by AgentState"):
            state.set_meta(key, "0")


def test_source_health_round_trip(state: AgentState) -> None:
    state.set_source_health("csv", ok=True, records=3, problems=0, first_problem="", at=1.5)
    state.set_source_health("ical", ok=False, records=0, problems=2, first_problem="x:1", at=2.0)
    state.set_source_health("csv", ok=False, records=2, problems=1, first_problem="y:4", at=3.0)
    assert state.source_health() == [
        {
            "name": "csv",
            "ok": False,
            "records": 2,
            "problems": 1,
            "first_problem": "y:4",
            "at": 3.0,
        },
        {
            "name": "ical",
            "ok": False,
            "records": 0,
            "problems": 2,
            "first_problem": "x:1",
            "at": 2.0,
        },
    ]


# -- threads and volume ----------------------------------------------------------------


def test_worker_threads_can_share_one_state(state: AgentState) -> None:
    def source_loop(name: str, offset: int) -> None:
        for round_ in range(20):
            recs = [eq(offset + i, f"r{round_}") for i in range(10)]
            state.apply_snapshot(name, recs, max_delete_share=1.0)

    def acker() -> None:
        for _ in range(40):
            state.ack(state.last_assigned_seq() // 2)
            state.pending(0, 50)

    threads = [threading.Thread(target=source_loop, args=(f"s{n}", n * 100)) for n in range(3)]
    threads.append(threading.Thread(target=acker))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert state.record_count() == 30
    assert state.last_assigned_seq() == 3 * 20 * 10
    seqs = [c.seq for c in state.pending(0, 1000)]
    assert seqs == sorted(set(seqs)) and len(seqs) == state.backlog() <= 30


@pytest.mark.parametrize("n,budget", [(2_000, 1.0), (100_000, 8.0)])
def test_snapshots_are_fast(state: AgentState, n: int, budget: float) -> None:
    recs = [eq(i) for i in range(n)]
    t0 = time.perf_counter()
    assert state.apply_snapshot("csv", recs, max_delete_share=0.5).upserts == n
    state.ack(n)
    recs[::100] = [eq(i, "changed") for i in range(0, n, 100)]
    r = state.apply_snapshot("csv", recs, max_delete_share=0.5)
    elapsed = time.perf_counter() - t0
    assert (r.upserts, state.backlog()) == (n // 100, n // 100)
    assert elapsed < budget, f"initial + 1% snapshot of {n} records took {elapsed:.2f}s"


def test_held_info_is_a_value() -> None:
    assert HeldInfo("a", 1, 2, 3.0) == HeldInfo("a", 1, 2, 3.0)

"""The change log behind the feed, on SQLite and PostgreSQL: appended by the apply in the same
transaction, read back with the records' current state, pruned, and center freshness events.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command

from hub.errors import UnknownCenter
from hub.store import FeedPositionAhead, FeedPositionGone, Store, engine
from proto import pb
from tests.helpers.portal import T0, Seeder, change, entry, equipment
from tests.hub.test_store_builders import sql

A, B = "KR-MR-0001", "KR-BI-0002"
STALE_AFTER = 30


@pytest.fixture
def seeder(db_url: str) -> Iterator[Seeder]:
    store = Store.open(db_url)
    s = Seeder(store)
    s.add_center(A)
    s.add_center(B, industry="bio")
    yield s
    store.close()


def _ops(store: Store, after: int = 0) -> list[tuple[int, str, str, str, str]]:
    page = store.read_feed(after, 1000, T0, STALE_AFTER)
    return [(e.position, e.center_id, e.kind, e.record_id, e.op) for e in page.events]


def test_apply_appends_one_event_per_written_record_in_position_order(seeder: Seeder) -> None:
    store = seeder.store
    seeder.apply(A, equipment("EQ-1"), entry("BK-1", "EQ-1", T0, T0 + 3600))
    seeder.apply(B, equipment("EQ-9"))
    assert _ops(store) == [
        (1, A, "equipment", "EQ-1", "upsert"),
        (2, A, "entry", "BK-1", "upsert"),
        (3, B, "equipment", "EQ-9", "upsert"),
    ]
    seeder.apply(A, deletes=[(pb.RECORD_KIND_ENTRY, "BK-1")])
    # Read now, BK-1's upsert reads as a delete too: every event says how the record is.
    assert _ops(store) == [
        (1, A, "equipment", "EQ-1", "upsert"),
        (2, A, "entry", "BK-1", "delete"),
        (3, B, "equipment", "EQ-9", "upsert"),
        (4, A, "entry", "BK-1", "delete"),
    ]
    assert store.feed_head().last_id == 4
    # Resuming after a position continues exactly there.
    assert [p for p, *_ in _ops(store, after=2)] == [3, 4]


def test_replays_rewinds_and_failed_applies_append_nothing(seeder: Seeder) -> None:
    store = seeder.store
    first = [change(A, 1, equipment("EQ-1")), change(A, 2, equipment("EQ-2"))]
    store.apply_batch(A, 0, first, T0)
    store.apply_batch(A, 0, first, T0)  # replay: duplicates only
    assert store.apply_batch(A, 7, [change(A, 8, equipment("EQ-3"))], T0).rewind
    with pytest.raises(UnknownCenter):
        store.apply_batch("KR-NO-0000", 0, [change("KR-NO-0000", 1, equipment("X"))], T0)
    assert store.feed_head().last_id == 2
    assert [p for p, *_ in _ops(store)] == [1, 2]


def test_events_carry_the_current_record_and_a_deleted_one_reads_as_delete(seeder: Seeder) -> None:
    store = seeder.store
    seeder.apply(A, equipment("EQ-1", name_en="first"), equipment("EQ-2"))
    seeder.apply(A, equipment("EQ-1", name_en="second"))
    seeder.apply(A, deletes=[(pb.RECORD_KIND_EQUIPMENT, "EQ-2")])
    page = store.read_feed(0, 10, T0, STALE_AFTER)
    by_pos = {e.position: e for e in page.events}
    # Position 1 was "first", but a reader now gets the record as it is: "second".
    assert by_pos[1].equipment is not None and by_pos[1].equipment.name_en == "second"
    assert by_pos[3].equipment is not None and by_pos[3].equipment.name_en == "second"
    # EQ-2's upsert (position 2) is delivered as a delete: it no longer exists.
    assert (by_pos[2].op, by_pos[2].equipment) == ("delete", None)
    assert by_pos[4].op == "delete"
    assert page.next_position == 4 and page.head == 4
    # Each event carries its center's freshness as of the read.
    assert not page.centers[A].stale and page.centers[A].last_sync == T0
    later = store.read_feed(0, 10, T0 + STALE_AFTER + 1, STALE_AFTER)
    assert later.centers[A].stale


def test_a_position_behind_the_pruned_log_or_ahead_of_it_must_resync(seeder: Seeder) -> None:
    store = seeder.store
    seeder.apply(A, equipment("EQ-1"), now=T0)
    seeder.apply(A, equipment("EQ-2"), now=T0 + 100)
    assert store.prune_feed(before=T0 + 50) == 1
    assert store.feed_head().pruned_through == 1
    with pytest.raises(FeedPositionGone, match="resync from a snapshot"):
        store.read_feed(0, 10, T0, STALE_AFTER)
    assert [e.position for e in store.read_feed(1, 10, T0, STALE_AFTER).events] == [2]
    with pytest.raises(FeedPositionAhead, match="resync from a snapshot"):
        store.read_feed(99, 10, T0, STALE_AFTER)
    # Pruning again finds nothing older; the head is unchanged.
    assert store.prune_feed(before=T0 + 50) == 0
    assert store.feed_head().last_id == 2


def test_freshness_transitions_are_announced_once(db_url: str, seeder: Seeder) -> None:
    store = seeder.store
    assert store.announce_freshness(T0, STALE_AFTER) == []  # never seen: stale, as announced
    store.record_hello(A, "agent/1", T0)
    # Two hub processes sharing the database: exactly one announces the transition.
    other = Store.open(db_url)
    try:
        assert store.announce_freshness(T0 + 1, STALE_AFTER) == [(A, False)]
        assert other.announce_freshness(T0 + 1, STALE_AFTER) == []
        later = T0 + STALE_AFTER + 5
        assert other.announce_freshness(later, STALE_AFTER) == [(A, True)]
        assert store.announce_freshness(later, STALE_AFTER) == []
    finally:
        other.close()
    events = store.read_feed(0, 10, later, STALE_AFTER).events
    assert [(e.kind, e.record_id, e.op) for e in events] == [
        ("center", A, "fresh"),
        ("center", A, "stale"),
    ]


def test_upgrading_a_database_with_records_seeds_the_log(db_url: str) -> None:
    store = Store.open(db_url)
    s = Seeder(store)
    s.add_center(A)
    s.apply(A, equipment("EQ-1"), equipment("EQ-2"), entry("BK-1", "EQ-1", T0, T0 + 60))
    cfg = engine.alembic_config()
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
    store.close()
    upgraded = Store.open(db_url)
    try:
        assert sql(upgraded, "SELECT last_id, pruned_through FROM feed_state") == [(3, 0)]
        assert _ops(upgraded) == [
            (1, A, "equipment", "EQ-1", "upsert"),
            (2, A, "equipment", "EQ-2", "upsert"),
            (3, A, "entry", "BK-1", "upsert"),
        ]
    finally:
        upgraded.close()

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hub.errors import UnknownCenter
from hub.store import ApplyResult, Store
from proto import pb, timeconv
from tests.hub.test_store_builders import (
    CENTER,
    OTHER,
    T0,
    center,
    entry,
    equipment,
    gone,
    opened,
    sql,
    up,
    view_of,
)

EQ = pb.RECORD_KIND_EQUIPMENT
EN = pb.RECORD_KIND_ENTRY


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = opened(db_url, center(), center(OTHER, industry="bio"))
    yield s
    s.close()


def first_batch() -> list[Any]:
    return [
        up(1, equipment("cycler-1")),
        up(2, equipment("sem-1", category="sem", capabilities=[])),
        up(3, entry("b1", "cycler-1", T0 + 7200)),
        up(4, entry("b0", "cycler-1", T0)),
        up(5, entry("m1", "sem-1", T0, kind=pb.ENTRY_KIND_MAINTENANCE)),
    ]


def counts(store: Store) -> tuple[int, int]:
    (eq,) = sql(store, "SELECT count(*) FROM equipment")
    (en,) = sql(store, "SELECT count(*) FROM entries")
    return eq[0], en[0]


def test_upserts_and_deletes_show_in_the_national_view(store: Store) -> None:
    result = store.apply_batch(CENTER, 0, first_batch(), T0)
    assert result == ApplyResult(hwm=5, applied=5, duplicates=0, rewind=False)
    view = view_of(store)
    assert sorted(view) == ["cycler-1", "sem-1"]
    cycler, busy = view["cycler-1"]
    assert cycler == equipment("cycler-1")
    assert [e.id for e in busy] == ["b0", "b1"]  # by start
    assert view["sem-1"][1] == [entry("m1", "sem-1", T0, kind=pb.ENTRY_KIND_MAINTENANCE)]

    second = [
        up(6, equipment("cycler-1", status=pb.EQUIPMENT_STATUS_MAINTENANCE)),
        gone(7, EN, "b0"),
        gone(8, EQ, "sem-1"),
    ]
    assert store.apply_batch(CENTER, 5, second, T0 + 60).hwm == 8
    view = view_of(store)
    assert sorted(view) == ["cycler-1"]
    assert view["cycler-1"][0].status == pb.EQUIPMENT_STATUS_MAINTENANCE
    assert [e.id for e in view["cycler-1"][1]] == ["b1"]
    state = store.sync_state(CENTER)
    assert (state.hwm, state.last_sync, state.last_seen) == (8, T0 + 60, T0 + 60)
    # Stored as readable codes and versions = seq.
    assert sql(store, "SELECT status, stages, version FROM equipment") == [
        ("maintenance", '["validation"]', 6)
    ]


def test_replaying_a_batch_changes_nothing(store: Store) -> None:
    store.apply_batch(CENTER, 0, first_batch(), T0)
    before = (
        sql(store, "SELECT * FROM equipment ORDER BY id"),
        sql(store, "SELECT * FROM entries ORDER BY id"),
    )
    state = store.sync_state(CENTER)
    again = store.apply_batch(CENTER, 0, first_batch(), T0 + 999)
    assert again == ApplyResult(hwm=5, applied=0, duplicates=5, rewind=False)
    after = (
        sql(store, "SELECT * FROM equipment ORDER BY id"),
        sql(store, "SELECT * FROM entries ORDER BY id"),
    )
    assert after == before
    assert store.sync_state(CENTER) == state


def test_a_partly_replayed_batch_applies_only_the_new_changes(store: Store) -> None:
    store.apply_batch(CENTER, 0, first_batch()[:3], T0)
    result = store.apply_batch(CENTER, 0, first_batch(), T0)
    assert result == ApplyResult(hwm=5, applied=2, duplicates=3, rewind=False)
    assert counts(store) == (2, 3)


def test_a_gap_applies_nothing_and_asks_for_a_rewind(store: Store) -> None:
    store.apply_batch(CENTER, 0, first_batch()[:2], T0)
    result = store.apply_batch(CENTER, 4, [up(5, equipment("late"))], T0 + 5)
    assert result == ApplyResult(hwm=2, applied=0, duplicates=0, rewind=True)
    assert counts(store) == (2, 0)
    assert store.sync_state(CENTER).last_sync == T0


def test_an_empty_batch_is_acknowledged(store: Store) -> None:
    assert store.apply_batch(CENTER, 0, [], T0) == ApplyResult(0, 0, 0, False)


def test_an_older_version_never_overwrites_a_newer_one(store: Store) -> None:
    store.apply_batch(
        CENTER, 0, [up(10, equipment("x", name_en="new")), up(11, entry("e", "x", T0))], T0
    )
    # As if the hub had been restored from an old backup: hwm back to 0, rows still newer.
    sql(store, "UPDATE center_sync SET hwm = 0")
    result = store.apply_batch(
        CENTER,
        0,
        [up(3, equipment("x", name_en="old")), gone(4, EN, "e"), up(5, equipment("y"))],
        T0 + 1,
    )
    assert result == ApplyResult(hwm=5, applied=3, duplicates=0, rewind=False)
    view = view_of(store)
    assert view["x"][0].name_en == "new"
    assert [e.id for e in view["x"][1]] == ["e"]
    assert "y" in view
    assert sql(store, "SELECT id, version FROM equipment ORDER BY id") == [("x", 10), ("y", 5)]


def test_the_higher_seq_wins_when_a_key_appears_twice(store: Store) -> None:
    batch = [
        up(1, equipment("x", name_en="first")),
        up(2, equipment("x", name_en="second")),
        up(3, entry("e", "x", T0)),
        gone(4, EN, "e"),
        gone(5, EQ, "z"),
        up(6, equipment("z")),
    ]
    store.apply_batch(CENTER, 0, batch, T0)
    view = view_of(store)
    assert view["x"] == (equipment("x", name_en="second"), [])
    assert "z" in view
    assert sql(store, "SELECT id, version FROM equipment ORDER BY id") == [("x", 2), ("z", 6)]


def test_a_batch_with_another_centers_change_applies_nothing(store: Store) -> None:
    batch = [up(1, equipment("mine")), up(2, equipment("theirs"), center_id=OTHER)]
    with pytest.raises(ValueError, match=f"belongs to center '{OTHER}'.*nothing of this batch"):
        store.apply_batch(CENTER, 0, batch, T0)
    assert counts(store) == (0, 0)
    assert store.sync_state(CENTER).hwm == 0
    assert store.sync_state(OTHER).hwm == 0


def test_an_unknown_center_is_refused(store: Store) -> None:
    with pytest.raises(UnknownCenter, match="KR-XX-0000"):
        store.apply_batch("KR-XX-0000", 0, [up(1, equipment("x"), center_id="KR-XX-0000")], T0)
    assert counts(store) == (0, 0)


def _entry_with_nanos() -> Any:
    en = entry("e", "x", T0)
    en.start.nanos = 5
    return en


BAD_CHANGES = [
    (lambda: up(2, _entry_with_nanos()), "fractions of a second"),
    (lambda: up(2, equipment("x", name_en="a\x00b")), "NUL character"),
    (lambda: up(2, equipment("x", status=pb.EQUIPMENT_STATUS_UNSPECIFIED)), "status"),
    (lambda: up(2, pb.CalendarEntry(id="e", equipment_id="x", kind=1)), "no start"),
    (
        lambda: pb.Change(
            key=pb.RecordKey(kind=EN, id="x"), seq=2, center_id=CENTER, equipment=equipment("x")
        ),
        "key does not match",
    ),
    (lambda: pb.Change(key=pb.RecordKey(kind=EQ, id="x"), seq=2, center_id=CENTER), "no body"),
    (lambda: gone(2, pb.RECORD_KIND_UNSPECIFIED, "x"), "unspecified record kind"),
]


def test_a_change_the_store_cannot_hold_exactly_fails_the_whole_batch(store: Store) -> None:
    for bad, match in BAD_CHANGES:
        with pytest.raises(ValueError, match=match):
            store.apply_batch(CENTER, 0, [up(1, equipment("ok")), bad()], T0)
        assert counts(store) == (0, 0)
        assert store.sync_state(CENTER).hwm == 0


def test_entry_times_are_stored_as_epoch_seconds(store: Store) -> None:
    store.apply_batch(CENTER, 0, [up(1, entry("e", "x", T0, hours=3))], T0)
    assert sql(store, "SELECT start_at, end_at, kind FROM entries") == [
        (T0, T0 + 3 * 3600, "booked")
    ]
    assert timeconv.to_epoch(timeconv.from_epoch(T0)) == T0


def test_centers_are_isolated(store: Store) -> None:
    store.apply_batch(CENTER, 0, [up(1, equipment("x"))], T0)
    store.apply_batch(OTHER, 0, [up(1, equipment("x", name_en="bio x"), center_id=OTHER)], T0)
    store.apply_batch(CENTER, 1, [gone(2, EQ, "x")], T0)
    assert view_of(store) == {}
    assert view_of(store, OTHER)["x"][0].name_en == "bio x"
    assert (store.sync_state(CENTER).hwm, store.sync_state(OTHER).hwm) == (2, 1)

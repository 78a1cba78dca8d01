from __future__ import annotations

from collections.abc import Iterator

import pytest

from hub.errors import UnknownCenter
from hub.store import Store
from proto import pb
from tests.hub.test_store_builders import CENTER, OTHER, T0, center, entry, equipment, opened, up

THIRD = "KR-AA-0003"
STALE_AFTER = 30


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = opened(db_url, center(OTHER, industry="bio"), center(), center(THIRD, role="operating"))
    s.apply_batch(
        CENTER,
        0,
        [
            up(1, equipment("z-eq")),
            up(2, equipment("a-eq")),
            up(3, entry("late", "a-eq", T0 + 10_000)),
            up(4, entry("early", "a-eq", T0)),
            up(5, entry("mid", "a-eq", T0 + 5_000)),
            up(6, entry("orphan", "never-sent", T0)),
        ],
        T0,
    )
    yield s
    s.close()


def test_centers_equipment_and_entries_are_ordered(store: Store) -> None:
    view = store.national_view(T0, STALE_AFTER)
    assert [c.center.id for c in view] == [THIRD, OTHER, CENTER]
    mine = view[2]
    assert [e.equipment.id for e in mine.equipment] == ["a-eq", "z-eq"]
    assert [x.id for x in mine.equipment[0].entries] == ["early", "mid", "late"]
    assert mine.equipment[1].entries == []
    # An entry for equipment the hub does not hold is not served.
    assert all(x.id != "orphan" for e in mine.equipment for x in e.entries)
    assert mine.state.hwm == 6
    assert mine.center.industry == "machinery-robotics"


def test_without_entries_and_for_chosen_centers(store: Store) -> None:
    view = store.national_view(T0, STALE_AFTER, center_ids=[CENTER, OTHER], include_entries=False)
    assert [c.center.id for c in view] == [OTHER, CENTER]
    assert [e.equipment.id for e in view[1].equipment] == ["a-eq", "z-eq"]
    assert all(e.entries == [] for e in view[1].equipment)
    assert view[0].equipment == []


def test_asking_for_an_unknown_center_raises(store: Store) -> None:
    with pytest.raises(UnknownCenter, match="KR-XX-0009"):
        store.national_view(T0, STALE_AFTER, center_ids=[CENTER, "KR-XX-0009"])


def test_staleness_follows_last_seen(store: Store) -> None:
    def stale(now: int) -> dict[str, bool]:
        return {c.center.id: c.stale for c in store.national_view(now, STALE_AFTER)}

    # Never seen is stale; the batch at T0 counts as seen.
    assert stale(T0) == {THIRD: True, OTHER: True, CENTER: False}
    store.record_hello(OTHER, "0.1.0", T0 + 10)
    assert stale(T0 + 30) == {THIRD: True, OTHER: False, CENTER: False}
    assert stale(T0 + 31) == {THIRD: True, OTHER: False, CENTER: True}
    store.record_heartbeat(CENTER, T0 + 35, backlog=0, quarantined_deletes=0, sources=[])
    assert stale(T0 + 41) == {THIRD: True, OTHER: True, CENTER: False}
    store.record_disconnect(CENTER, T0 + 50)
    assert stale(T0 + 80) == {THIRD: True, OTHER: True, CENTER: False}
    assert stale(T0 + 81)[CENTER] is True


def test_equipment_in_the_view_is_the_proto_that_was_sent(store: Store) -> None:
    sent = equipment("rich", stages=[pb.RD_STAGE_DESIGN, pb.RD_STAGE_PROTOTYPE], year_acquired=2019)
    sent.booking_rules.lead_time_minutes = 1440
    sent.operating_hours.add(weekday=5, start_minute=540, end_minute=1020)
    store.apply_batch(CENTER, 6, [up(7, sent)], T0)
    (snap,) = store.national_view(T0, STALE_AFTER, center_ids=[CENTER])
    got = {e.equipment.id: e.equipment for e in snap.equipment}["rich"]
    assert got == sent


def test_negative_stale_after_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="stale_after"):
        store.national_view(T0, -1)

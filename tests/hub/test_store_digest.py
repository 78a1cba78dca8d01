from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.errors import UnknownCenter
from hub.store import Store, convert
from proto import pb, records, timeconv
from tests.hub.test_store_builders import (
    CENTER,
    OTHER,
    T0,
    center,
    entry,
    equipment,
    opened,
    sql,
    up,
)

BUCKETS = 16
EQ = pb.RECORD_KIND_EQUIPMENT
EN = pb.RECORD_KIND_ENTRY


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = opened(db_url, center(), center(OTHER, industry="bio"))
    yield s
    s.close()


def agent_records() -> list[Any]:
    eqs = [equipment(f"eq-{i}", year_acquired=2010 + i) for i in range(6)]
    eqs[0].booking_rules.min_slot_minutes = 60
    eqs[1].operating_hours.add(weekday=1, start_minute=540, end_minute=1080)
    ens = [entry(f"en-{i}", f"eq-{i % 6}", T0 + i * 3600) for i in range(20)]
    return eqs + ens


def load(store: Store, recs: list[Any], center_id: str = CENTER) -> None:
    changes = [up(seq, r, center_id) for seq, r in enumerate(recs, start=1)]
    store.apply_batch(center_id, 0, changes, T0)


def agent_digests(recs: list[Any]) -> list[bytes]:
    return records.bucket_digests(
        ((records.key_of(r), records.record_hash(r)) for r in recs), BUCKETS
    )


def test_digests_equal_the_agents_for_equal_content(store: Store) -> None:
    recs = agent_records()
    load(store, recs)
    assert store.bucket_digests(CENTER, BUCKETS) == agent_digests(recs)
    # Another center with nothing has the empty digests.
    assert store.bucket_digests(OTHER, BUCKETS) == agent_digests([])


def differing(store: Store, recs: list[Any]) -> list[int]:
    ours = store.bucket_digests(CENTER, BUCKETS)
    return [i for i, (a, b) in enumerate(zip(ours, agent_digests(recs), strict=True)) if a != b]


def bucket(kind: int, rid: str) -> int:
    return records.bucket_of((kind, rid), BUCKETS)


EDITS = [
    ("UPDATE equipment SET name_en = 'edited' WHERE id = 'eq-2'", EQ, "eq-2"),
    ("UPDATE equipment SET stages = '[]' WHERE id = 'eq-3'", EQ, "eq-3"),
    ("UPDATE equipment SET min_slot_minutes = NULL WHERE id = 'eq-0'", EQ, "eq-0"),
    ("UPDATE entries SET end_at = end_at + 1 WHERE id = 'en-7'", EN, "en-7"),
    ("UPDATE entries SET kind = 'tentative' WHERE id = 'en-8'", EN, "en-8"),
    ("DELETE FROM entries WHERE id = 'en-9'", EN, "en-9"),
    ("DELETE FROM equipment WHERE id = 'eq-5'", EQ, "eq-5"),
]


def test_a_row_changed_behind_the_hubs_back_changes_exactly_its_bucket(store: Store) -> None:
    recs = agent_records()
    for statement, kind, rid in EDITS:
        sql(store, "DELETE FROM equipment")
        sql(store, "DELETE FROM entries")
        sql(store, "UPDATE center_sync SET hwm = 0")
        load(store, recs)
        assert differing(store, recs) == []
        sql(store, statement)
        assert differing(store, recs) == [bucket(kind, rid)], statement


def test_version_and_timestamps_are_not_part_of_the_hash(store: Store) -> None:
    recs = agent_records()
    load(store, recs)
    sql(store, "UPDATE equipment SET version = version + 100, updated_at = 0")
    assert differing(store, recs) == []


def test_bucket_contents_are_exactly_the_hubs_keys_in_those_buckets(store: Store) -> None:
    recs = agent_records()
    load(store, recs)
    sql(store, "DELETE FROM entries WHERE id = 'en-1'")
    held = [r for r in recs if r.id != "en-1"]
    wanted = {0, 3, bucket(pb.RECORD_KIND_ENTRY, "en-1")}
    got = store.bucket_contents(CENTER, BUCKETS, wanted)
    assert set(got) == wanted
    for b in wanted:
        expected = sorted(
            (records.key_of(r), records.record_hash(r))
            for r in held
            if records.bucket_of(records.key_of(r), BUCKETS) == b
        )
        assert got[b] == expected
    assert store.bucket_contents(CENTER, BUCKETS, []) == {}


def test_bad_bucket_requests_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match=r"outside 0\.\.15"):
        store.bucket_contents(CENTER, BUCKETS, [16])
    with pytest.raises(ValueError, match="at least 1"):
        store.bucket_digests(CENTER, 0)
    with pytest.raises(UnknownCenter):
        store.bucket_digests("KR-XX-0000", BUCKETS)


# -- exact round trip, property-tested -------------------------------------------------

_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20
)
_u32 = st.integers(min_value=0, max_value=2**32 - 1)
_id = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True)


def _values(enum: Any) -> st.SearchStrategy[int]:
    return st.sampled_from([v for v in enum.values() if v != 0])


@st.composite
def equipments(draw: st.DrawFn, eid: st.SearchStrategy[str] = _id) -> Any:
    eq = pb.Equipment(
        id=draw(eid),
        name_ko=draw(_text),
        name_en=draw(_text),
        category=draw(_text),
        capabilities=draw(st.lists(_text, max_size=4)),
        manufacturer=draw(_text),
        model=draw(_text),
        year_acquired=draw(_u32),
        status=draw(_values(pb.EquipmentStatus)),
        stages=draw(st.lists(_values(pb.RdStage), max_size=8)),
        services=draw(st.lists(_values(pb.ServiceKind), max_size=5)),
        location=draw(_text),
        fee_note=draw(_text),
    )
    if draw(st.booleans()):
        eq.booking_rules.SetInParent()
        eq.booking_rules.min_slot_minutes = draw(_u32)
        eq.booking_rules.max_slot_minutes = draw(_u32)
        eq.booking_rules.lead_time_minutes = draw(_u32)
    for w, s, e in draw(st.lists(st.tuples(_u32, _u32, _u32), max_size=4)):
        eq.operating_hours.add(weekday=w, start_minute=s, end_minute=e)
    return eq


_epoch = st.integers(min_value=-(2**40), max_value=2**40)


@st.composite
def calendar_entries(draw: st.DrawFn, enid: st.SearchStrategy[str] = _id) -> Any:
    return pb.CalendarEntry(
        id=draw(enid),
        equipment_id=draw(_id),
        start=timeconv.from_epoch(draw(_epoch)),
        end=timeconv.from_epoch(draw(_epoch)),
        kind=draw(_values(pb.EntryKind)),
    )


@settings(max_examples=300, deadline=None)
@given(equipments())
def test_equipment_row_round_trip_keeps_the_hash(eq: Any) -> None:
    back = convert.equipment_from_row(convert.equipment_row(CENTER, eq, 1, T0))
    assert records.record_hash(back) == records.record_hash(eq)
    assert back == eq


@settings(max_examples=300, deadline=None)
@given(calendar_entries())
def test_entry_row_round_trip_keeps_the_hash(en: Any) -> None:
    back = convert.entry_from_row(convert.entry_row(CENTER, en, 1, T0))
    assert records.record_hash(back) == records.record_hash(en)


_serial = itertools.count(1)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.one_of(equipments(), calendar_entries()), min_size=1, max_size=6))
def test_records_round_trip_through_the_database(store: Store, recs: list[Any]) -> None:
    # Fresh ids per example: the store fixture is shared by all examples of one test.
    n = next(_serial)
    for i, r in enumerate(recs):
        r.id = f"r{n}-{i}"
    hwm = store.sync_state(CENTER).hwm
    changes = [up(hwm + i + 1, r) for i, r in enumerate(recs)]
    store.apply_batch(CENTER, hwm, changes, T0)
    wanted = {records.bucket_of(records.key_of(r), BUCKETS) for r in recs}
    stored = {
        key: h
        for content in store.bucket_contents(CENTER, BUCKETS, wanted).values()
        for key, h in content
    }
    for r in recs:
        assert stored[records.key_of(r)] == records.record_hash(r)

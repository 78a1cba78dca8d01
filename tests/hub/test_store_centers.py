from __future__ import annotations

from collections.abc import Iterator

import pytest

from hub.errors import CenterExists, UnknownCenter
from hub.store import CenterInfo, Store
from tests.hub.test_store_builders import CENTER, OTHER, T0, center, opened, sql


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = opened(db_url)
    yield s
    s.close()


def test_add_get_and_list_centers(store: Store) -> None:
    added = store.add_center(center(OTHER, industry="Bio", role="PARTICIPATING", time_zone="UTC"))
    store.add_center(center())
    assert added.industry == "bio"
    assert added.role == "participating"
    assert [c.id for c in store.list_centers()] == [OTHER, CENTER]
    got = store.get_center(CENTER)
    assert got == center()
    assert got is not None and got.time_zone == "Asia/Seoul"
    assert store.get_center("KR-XX-9999") is None
    # Codes are stored as the readable text codes.
    assert sql(store, "SELECT industry, role FROM centers WHERE id = :i", i=OTHER) == [
        ("bio", "participating")
    ]


def test_a_new_center_starts_with_an_empty_sync_state(store: Store) -> None:
    store.add_center(center())
    state = store.sync_state(CENTER)
    assert (state.hwm, state.last_sync, state.last_seen, state.connected) == (0, None, None, False)
    assert (state.backlog, state.quarantined_deletes, state.sources) == (0, 0, [])
    assert state.last_reconcile is None


def test_adding_a_center_twice_raises_center_exists(store: Store) -> None:
    store.add_center(center())
    with pytest.raises(CenterExists, match=f"{CENTER} is already registered"):
        store.add_center(center(name_en="Another"))
    assert store.get_center(CENTER) == center()


BAD_CENTERS = [
    ({"industry": "mining"}, "unknown industry 'mining'; use one of: machinery-robotics"),
    ({"role": "boss"}, "unknown center role 'boss'; use one of: representative"),
    ({"id": "KR MR/1"}, "invalid center id"),
    ({"id": ""}, "invalid center id"),
    ({"name_ko": " ", "name_en": ""}, "Korean or an English name"),
    ({"time_zone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
    ({"region": "a\x00b"}, "without NUL"),
]


def test_bad_centers_are_refused_and_nothing_is_stored(store: Store) -> None:
    # One database for all cases: a fresh PostgreSQL database per case is slow.
    for overrides, match in BAD_CENTERS:
        with pytest.raises(ValueError, match=match):
            store.add_center(center(**overrides))
    assert store.list_centers() == []


def test_certificates_are_recorded_once_per_serial(store: Store) -> None:
    store.add_center(center())
    store.record_certificate(CENTER, "0xAB12", T0 + 86400, issued_at=T0)
    store.record_certificate(CENTER, "ab12", T0 + 86400, issued_at=T0)
    store.record_certificate(CENTER, "cd34", T0 + 2 * 86400, issued_at=T0 + 10)
    certs = store.list_certificates(CENTER)
    assert [(c.serial, c.not_after) for c in certs] == [
        ("cd34", T0 + 2 * 86400),
        ("ab12", T0 + 86400),
    ]
    with pytest.raises(UnknownCenter):
        store.record_certificate(OTHER, "ef56", T0)
    with pytest.raises(ValueError, match="not hexadecimal"):
        store.record_certificate(CENTER, "xyz", T0)


def test_hello_heartbeat_disconnect_and_reconcile_state(store: Store) -> None:
    store.add_center(center())
    store.record_hello(CENTER, "0.1.0", T0)
    state = store.sync_state(CENTER)
    assert (state.connected, state.last_seen, state.agent_version) == (True, T0, "0.1.0")

    sources = [{"name": "equipment.csv", "ok": True, "records": 12, "problems": 0}]
    store.record_heartbeat(CENTER, T0 + 5, backlog=7, quarantined_deletes=2, sources=sources)
    state = store.sync_state(CENTER)
    assert (state.last_seen, state.backlog, state.quarantined_deletes) == (T0 + 5, 7, 2)
    assert state.sources == sources

    store.record_reconcile(CENTER, T0 + 6, {"round": 3, "buckets_differing": 1})
    store.record_disconnect(CENTER, T0 + 9)
    state = store.sync_state(CENTER)
    assert (state.connected, state.last_seen) == (False, T0 + 9)
    assert state.last_reconcile == {"round": 3, "buckets_differing": 1}
    assert state.last_reconcile_at == T0 + 6
    assert state.hwm == 0  # liveness never touches the high-water mark


def test_sync_state_calls_for_an_unknown_center_raise(store: Store) -> None:
    with pytest.raises(UnknownCenter, match="iplat-hub center add"):
        store.sync_state(CENTER)
    with pytest.raises(UnknownCenter):
        store.record_hello(CENTER, "0.1.0", T0)
    with pytest.raises(UnknownCenter):
        store.record_heartbeat(CENTER, T0, backlog=0, quarantined_deletes=0, sources=[])
    with pytest.raises(UnknownCenter):
        store.record_disconnect(CENTER, T0)


def test_bad_heartbeat_values_are_refused_and_state_kept(store: Store) -> None:
    store.add_center(center())
    store.record_heartbeat(CENTER, T0, backlog=1, quarantined_deletes=0, sources=[])
    with pytest.raises(ValueError, match="backlog must not be negative"):
        store.record_heartbeat(CENTER, T0 + 1, backlog=-1, quarantined_deletes=0, sources=[])
    with pytest.raises(ValueError, match="JSON-serialisable"):
        store.record_heartbeat(
            CENTER, T0 + 1, backlog=0, quarantined_deletes=0, sources=[{"x": object()}]
        )
    state = store.sync_state(CENTER)
    assert (state.last_seen, state.backlog) == (T0, 1)


def test_center_info_defaults_to_seoul() -> None:
    info = CenterInfo("KR-1", "가", "A", "bio", "Seoul", "operating")
    assert info.time_zone == "Asia/Seoul"

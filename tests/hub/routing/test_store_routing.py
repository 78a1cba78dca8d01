"""The routing tables and their operations (hub.store.routing, routing_read) on SQLite and
PostgreSQL: seq allocation, acknowledgements, conditional updates, derived state, demand."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import inspect

from hub.routing.errors import DeliveryAhead
from hub.routing.model import Candidate
from hub.store import CenterInfo, Store
from hub.store import routing as sr
from hub.store import routing_read as read
from hub.store.engine import read_tx, write_tx
from tests.helpers.routing_world import count, rows
from tests.hub.routing.test_planner import need

CENTER = "KR-A-0001"
NOW = 1_800_000_000


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    for center_id in (CENTER, "KR-B-0002"):
        s.add_center(
            CenterInfo(center_id, "센터", "Center", "bio", "대전", "participating"), now=NOW
        )
    yield s
    s.close()


def _request(conn: object, request_id: str = "RQ-0000000001", at: int = NOW) -> None:
    sr.insert_request(
        conn,  # type: ignore[arg-type]
        {
            "id": request_id,
            "state": "in-progress",
            "submitted_by": "portal:p",
            "company_name": "c",
            "business_number": "124-81-00998",
            "contact_name": "k",
            "project_title": "t",
            "technology_area": "biologics",
            "industry": "bio",
            "created_at": at,
            "updated_at": at,
        },
    )


def test_migration_creates_the_routing_tables(store: Store) -> None:
    names = set(inspect(store.engine).get_table_names())
    assert {
        "service_requests",
        "request_needs",
        "request_items",
        "request_events",
        "center_deliveries",
        "delivery_cursor",
        "demand_signals",
    } <= names


def test_seqs_are_per_center_and_consecutive(store: Store) -> None:
    with write_tx(store.engine) as conn:
        seqs = [
            sr.add_delivery(conn, CENTER, sr.DELIVERY_ITEM, f"i{n}", lambda s: b"%d" % s, NOW)
            for n in range(3)
        ]
        other = sr.add_delivery(conn, "KR-B-0002", sr.DELIVERY_ITEM, "x", lambda s: b"", NOW)
    assert seqs == [1, 2, 3] and other == 1
    with read_tx(store.engine) as conn:
        assert read.cursor(conn, CENTER) == (3, 0)
        assert read.pending(conn, CENTER, 1, 10) == [(2, b"2"), (3, b"3")]


def test_acknowledge_deletes_what_was_stored_and_refuses_a_seq_ahead(store: Store) -> None:
    with write_tx(store.engine) as conn:
        for n in range(2):
            sr.add_delivery(conn, CENTER, sr.DELIVERY_WITHDRAWAL, f"i{n}", lambda s: b"w", NOW)
    with pytest.raises(DeliveryAhead), write_tx(store.engine) as conn:
        sr.acknowledge(conn, CENTER, 3, NOW)
    assert count(store, "center_deliveries") == 2
    with write_tx(store.engine) as conn:
        assert sr.acknowledge(conn, CENTER, 1, NOW) == []  # withdrawals mark no item
        assert sr.acknowledge(conn, CENTER, 1, NOW) == []  # replay
    with read_tx(store.engine) as conn:
        assert read.cursor(conn, CENTER) == (2, 1)
        assert [s for s, _ in read.pending(conn, CENTER, 0, 10)] == [2]


def test_update_item_is_conditional_on_the_state(store: Store) -> None:
    cand = Candidate(
        CENTER, "c", "eq", "e", "대전", "Asia/Seoul", 1, 2, 1, 0.35, 0.3, 0.15, 0.2, 0, False
    )
    with write_tx(store.engine) as conn:
        _request(conn)
        sr.insert_need(conn, "RQ-0000000001", 0, need(), [cand], "")
        sr.insert_item(
            conn,
            item_id="RQ-0000000001-1-1",
            request_id="RQ-0000000001",
            need_index=0,
            attempt=1,
            candidate=cand,
            routed_at=NOW,
            deadline=NOW + 10,
        )
    with write_tx(store.engine) as conn:
        assert sr.update_item(conn, "RQ-0000000001-1-1", ("routed",), state="expired")
        assert not sr.update_item(conn, "RQ-0000000001-1-1", ("routed",), state="withdrawn")
        assert sr.refresh_state(conn, "RQ-0000000001", NOW + 5) == "unserved"
    with read_tx(store.engine) as conn:
        [view] = read.load_requests(conn, ["RQ-0000000001", "RQ-missing"])
        assert read.need_row(conn, "RQ-0000000001", 0).tried_centers == f'["{CENTER}"]'  # type: ignore[union-attr]
    assert view.needs[0].items[0].state == "expired"
    assert view.needs[0].plan.candidates == (cand,)
    assert (view.state, view.updated_at) == ("unserved", NOW + 5)


@pytest.mark.parametrize(
    ("outcomes", "cancelled", "state"),
    [
        (["accepted", "accepted"], False, "accepted"),
        (["accepted", "waiting"], False, "in-progress"),
        (["accepted", "unserved"], False, "partially-served"),
        (["unserved", "unserved"], False, "unserved"),
        (["accepted"], True, "cancelled"),
    ],
)
def test_request_state_follows_its_needs(outcomes: list[str], cancelled: bool, state: str) -> None:
    assert sr.derive_state(outcomes, cancelled) == state


def test_demand_signals_count_up(store: Store) -> None:
    for at in (NOW, NOW + 5):
        with write_tx(store.engine) as conn:
            sr.bump_demand(conn, "unserved", "tem", "", at)
    with write_tx(store.engine) as conn:
        sr.bump_demand(conn, "declined-no-capacity", "tem", CENTER, NOW + 9)
    with read_tx(store.engine) as conn:
        first, second = read.demand(conn, None, None, None)
        assert (first.kind, first.count, first.first_at, first.last_at) == (
            "unserved",
            2,
            NOW,
            NOW + 5,
        )
        assert second.center_id == CENTER
        assert read.demand(conn, None, None, CENTER) == [second]
        assert read.demand(conn, NOW + 6, None, None) == [second]


def test_client_request_id_is_unique_per_caller_when_given(store: Store) -> None:
    from sqlalchemy.exc import IntegrityError

    with write_tx(store.engine) as conn:
        _request(conn, "RQ-0000000001")
        _request(conn, "RQ-0000000002")  # both without a client_request_id
    sql = "UPDATE service_requests SET client_request_id = 'k' WHERE id = :id"
    with write_tx(store.engine) as conn:
        conn.exec_driver_sql(sql.replace(":id", "'RQ-0000000001'"))
    with pytest.raises(IntegrityError), write_tx(store.engine) as conn:
        conn.exec_driver_sql(sql.replace(":id", "'RQ-0000000002'"))
    assert rows(store, "SELECT count(*) FROM service_requests WHERE client_request_id = 'k'") == [
        (1,)
    ]


@pytest.mark.postgres
def test_concurrent_allocations_never_share_a_seq(pg_url: str) -> None:
    """Two PostgreSQL sessions allocating for one center at once: the cursor's row lock
    serialises them, so seqs are unique and gap-free."""
    s = Store.open(pg_url)
    try:
        s.add_center(CenterInfo(CENTER, "센터", "Center", "bio", "대전", "participating"), now=NOW)
        got: list[int] = []
        lock = threading.Lock()

        def worker() -> None:
            for _ in range(10):
                with write_tx(s.engine) as conn:
                    seq = sr.add_delivery(conn, CENTER, sr.DELIVERY_ITEM, "i", lambda q: b"", NOW)
                with lock:
                    got.append(seq)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(got) == list(range(1, 41))
    finally:
        s.close()

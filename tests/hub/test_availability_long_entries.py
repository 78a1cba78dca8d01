"""Entries overlapping a window are read through two bounded index range scans (short
entries from a day before the window; long ones from the partial index of migration
0004), on SQLite and PostgreSQL; the plans are checked so a dropped index shows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from hub.availability import candidates
from hub.availability.candidates import Candidate
from hub.store.engine import read_tx
from tests.helpers.availability import DAY, HOUR, MONDAY, World

C = "KR-MR-0001"


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    w = World.open(db_url)
    w.center(C)
    for eq_id in ("eq-1", "eq-2"):
        w.equipment(C, eq_id)
    yield w
    w.close()


def busy(world: World, lo: int, hi: int) -> dict[tuple[str, str], list[tuple[int, int]]]:
    cands = [Candidate(C, e, "available", "[]", None, None, None, "Asia/Seoul", None)
             for e in ("eq-1", "eq-2")]  # fmt: skip
    with read_tx(world.store.engine) as conn:
        found = candidates.busy(conn, cands, lo, hi)
    return {k: sorted(set(v)) for k, v in found.items()}


def test_short_long_and_edge_entries(world: World) -> None:
    entries = {
        "day-before": (MONDAY - DAY, MONDAY + HOUR),  # exactly a day: a short entry
        "ends-at-start": (MONDAY - 2 * HOUR, MONDAY),  # touches, does not overlap
        "year-closure": (MONDAY - 300 * DAY, MONDAY + 65 * DAY),  # long, began long ago
        "long-ended": (MONDAY - 90 * DAY, MONDAY - 30 * DAY),  # long, over before
        "after": (MONDAY + 2 * DAY, MONDAY + 3 * DAY),  # starts at the window end
        "inside": (MONDAY + 5 * HOUR, MONDAY + 6 * HOUR),
    }
    for name, (start, end) in entries.items():
        world.entry(C, "eq-1" if name != "inside" else "eq-2", start, end)
    found = busy(world, MONDAY, MONDAY + 2 * DAY)
    assert found == {
        (C, "eq-1"): sorted([entries["day-before"], entries["year-closure"]]),
        (C, "eq-2"): [entries["inside"]],
    }


def test_both_scans_are_index_range_scans(world: World) -> None:
    statement = candidates._busy_statement(world.store.dialect)
    with world.store.engine.connect() as conn:
        compiled = statement.compile(dialect=conn.dialect)
        if world.store.dialect == "sqlite":
            params = {**compiled.params, "k_json": '[["a", "b"]]', "lo": MONDAY, "hi": MONDAY + DAY}
            raw = conn.connection.driver_connection
            plan = " | ".join(
                str(r[3])
                for r in raw.execute(
                    "EXPLAIN QUERY PLAN " + str(compiled), [params[k] for k in compiled.positiontup]
                )
            )
            assert (
                "ix_entries_center_id_equipment_id_start_at (center_id=? AND equipment_id=? "
                "AND start_at>? AND start_at<?)" in plan
            ), plan
            assert "ix_entries_long (center_id=? AND equipment_id=? AND start_at<?)" in plan, plan
        else:
            conn.execute(text("SET enable_seqscan = off"))
            params = {
                **compiled.params,
                "k_c": ["a"],
                "k_e": ["b"],
                "lo": MONDAY,
                "hi": MONDAY + DAY,
            }
            plan = " | ".join(
                r[0] for r in conn.exec_driver_sql("EXPLAIN " + str(compiled), params)
            )
            # With an empty table either entries index may serve the short part; what
            # matters is that both parts are bounded index scans.
            assert "Seq Scan on entries" not in plan and "start_at >= " in plan, plan
            assert "Index Scan using ix_entries_long" in plan, plan

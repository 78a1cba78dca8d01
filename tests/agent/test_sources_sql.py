from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from agent.config import SourceConfig
from agent.errors import SourceError
from agent.sources import SqlSource
from proto import pb, timeconv

SEOUL = ZoneInfo("Asia/Seoul")

EQ_QUERY = """
SELECT eq_no AS id, name AS name_ko, name_en, cat AS category, state AS status,
       caps AS capabilities, year AS year_acquired, hours
FROM equipment ORDER BY eq_no
"""
CAL_QUERY = """
SELECT rsv_no AS id, eq_no AS equipment_id, begin_at AS start, end_at AS "end", kind, customer
FROM reservation ORDER BY rsv_no
"""


def source(url: str, columns: dict[str, str] | None = None, **queries: str) -> SqlSource:
    config = SourceConfig(
        name="db",
        type="sql",
        poll_seconds=60,
        watch=False,
        url=url,
        equipment_query=queries.get("equipment_query", EQ_QUERY),
        calendar_query=queries.get("calendar_query", CAL_QUERY),
        columns=MappingProxyType(columns or {}),
    )
    return SqlSource(config, SEOUL)


def utc(ts: object) -> datetime:
    return timeconv.to_datetime(ts)  # type: ignore[arg-type]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    path = tmp_path / "booking.db"
    with sqlite3.connect(path) as db:
        db.executescript(
            """
            CREATE TABLE equipment (eq_no TEXT, name TEXT, name_en TEXT, cat TEXT, state TEXT,
                                    caps TEXT, year INTEGER, hours TEXT);
            INSERT INTO equipment VALUES
              ('CYC-01', '충방전기', 'Cycler', 'battery-cycler', '사용가능', 'EIS;cycle', 2019,
               'mon-fri 09:00-18:00'),
              ('SEM-01', '전자현미경', NULL, 'sem', '고장', NULL, NULL, NULL),
              ('BAD-01', '장비', NULL, 'x', 'sometimes', NULL, NULL, NULL),
              ('CYC-01', '중복', NULL, 'x', 'available', NULL, NULL, NULL);
            CREATE TABLE reservation (rsv_no TEXT, eq_no TEXT, begin_at TEXT, end_at TEXT,
                                      kind TEXT, customer TEXT);
            INSERT INTO reservation VALUES
              ('r1', 'CYC-01', '2026-03-02 09:00:00', '2026-03-02 12:00:00', '예약', '홍길동'),
              ('r2', 'CYC-01', '2026-03-02T12:00:00+00:00', '2026-03-02T13:00:00+00:00',
               'maintenance', '홍길동'),
              ('r3', 'CYC-01', '2026-03-02 12:00:00', '2026-03-02 09:00:00', 'booked', '홍길동');
            """
        )
    db.close()
    return f"sqlite:///{path}"


def test_sqlite_rows_problems_and_privacy(sqlite_url: str) -> None:
    src = source(sqlite_url)
    try:
        snap = src.read()
        again = src.read()  # the engine is reused
    finally:
        src.close()
        src.close()  # idempotent
    assert again == snap
    ids = [e.id for e in snap.equipment]
    assert ids == ["CYC-01", "SEM-01"]
    cyc = snap.equipment[0]
    assert (cyc.name_ko, cyc.status, cyc.year_acquired) == (
        "충방전기",
        pb.EQUIPMENT_STATUS_AVAILABLE,
        2019,
    )
    assert list(cyc.capabilities) == ["EIS", "cycle"] and len(cyc.operating_hours) == 5
    assert snap.equipment[1].status == pb.EQUIPMENT_STATUS_OUT_OF_SERVICE
    got = {e.id: (utc(e.start), e.kind) for e in snap.entries}
    assert got == {
        "r1": (datetime(2026, 3, 2, 0, tzinfo=UTC), pb.ENTRY_KIND_BOOKED),
        "r2": (datetime(2026, 3, 2, 12, tzinfo=UTC), pb.ENTRY_KIND_MAINTENANCE),
    }
    problems = [str(p) for p in snap.problems]
    assert len(problems) == 3
    # BAD-01 is row 1, the duplicate CYC-01 row 3 (ORDER BY eq_no).
    assert problems[0].startswith(
        "query equipment_query row 1: unknown equipment status 'sometimes'"
    )
    assert problems[1].startswith(
        "query equipment_query row 3: duplicate id 'CYC-01' (first at row 2)"
    )
    assert problems[2].startswith("query calendar_query row 3: end is not after start")
    blob = b"".join(r.SerializeToString() for r in [*snap.equipment, *snap.entries])
    assert "홍길동".encode() not in blob and "홍길동" not in "".join(problems)


def test_column_mapping_and_empty_query(sqlite_url: str) -> None:
    src = source(
        sqlite_url,
        columns={"id": "RSV_NO", "equipment_id": "eq_no", "start": "begin_at", "end": "end_at"},
        equipment_query="",
        calendar_query="SELECT * FROM reservation",
    )
    snap = src.read()
    src.close()
    assert snap.equipment == [] and [e.id for e in snap.entries] == ["r1", "r2"]


def test_missing_columns_and_failing_queries(sqlite_url: str, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"calendar_query returns no column kind.*SELECT x AS id"):
        source(sqlite_url, calendar_query="SELECT rsv_no AS id, eq_no AS equipment_id, "
               "begin_at AS start, end_at AS \"end\" FROM reservation").read()  # fmt: skip
    with pytest.raises(SourceError, match=r"no such table: reservations.*run the query"):
        source(sqlite_url, calendar_query="SELECT * FROM reservations").read()


def test_unreachable_database_masks_password() -> None:
    src = source("postgresql+psycopg://reader:hunter2@127.0.0.1:9/booking")
    with pytest.raises(SourceError) as err:
        src.read()
    msg = str(err.value)
    assert "hunter2" not in msg and "reader:***@127.0.0.1:9/booking" in msg
    assert "reachable" in msg
    assert src.watch_paths() == []


def test_unknown_driver_is_a_source_error() -> None:
    with pytest.raises(SourceError, match="driver"):
        source("nosuchdb://x/y").read()


@pytest.mark.postgres
def test_postgresql_native_types(pg_url: str) -> None:
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                """
                CREATE TABLE equipment (eq_no text, name text, name_en text, cat text,
                                        state text, caps text[], year numeric, hours text);
                INSERT INTO equipment VALUES
                  ('XRD-01', 'X선회절분석기', 'XRD', 'xrd', '점검', ARRAY['powder','thin-film'],
                   2015, 'mon-fri 09:00-18:00; sat 09:00-13:00');
                CREATE TABLE reservation (rsv_no text, eq_no text, begin_at timestamptz,
                                          end_at timestamp, kind text, customer text);
                INSERT INTO reservation VALUES
                  ('r1', 'XRD-01', '2026-03-02 09:00+09', '2026-03-02 12:00', '가예약', '김철수');
                """
            )
        )
    engine.dispose()
    # PostgreSQL folds unquoted aliases to lower case; mapping names match case-insensitively.
    src = source(
        pg_url,
        columns={"name_ko": "NAME_KO_COL"},
        equipment_query=EQ_QUERY.replace("AS name_ko", "AS name_ko_col"),
    )
    try:
        snap = src.read()
    finally:
        src.close()
    assert snap.problems == []
    (xrd,) = snap.equipment
    assert (xrd.name_ko, xrd.status, xrd.year_acquired) == (
        "X선회절분석기",
        pb.EQUIPMENT_STATUS_MAINTENANCE,
        2015,
    )
    assert list(xrd.capabilities) == ["powder", "thin-film"] and len(xrd.operating_hours) == 6
    (r1,) = snap.entries
    # timestamptz is exact; a timestamp without zone is the center's local time.
    assert (utc(r1.start), utc(r1.end)) == (
        datetime(2026, 3, 2, 0, tzinfo=UTC),
        datetime(2026, 3, 2, 3, tzinfo=UTC),
    )
    assert r1.kind == pb.ENTRY_KIND_TENTATIVE
    assert b"\xea\xb9\x80" not in r1.SerializeToString()  # 김

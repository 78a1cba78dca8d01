"""apply_batch: the per-center ordered, idempotent apply (DESIGN.md section 5).

In one transaction: lock the center's ``center_sync`` row (SQLite: the write
transaction began with ``BEGIN IMMEDIATE``; PostgreSQL: ``SELECT ... FOR UPDATE``),
refuse a gap (``prev_seq > hwm``: rewind), skip replays (``seq <= hwm``), write the
rest with version guards, raise hwm, commit.

Version guards make every write safe against an older change whatever the hwm says
(a hub restored from a backup, a bug): an upsert only replaces a row whose version
is lower, a delete only removes one whose version is lower.

This is the ingest hot path (DESIGN.md section 9; measured by bench/, see
docs/benchmarks.md): ``prepare`` converts and plans a batch without the database, so
the hub runs it before taking its write lock and ``apply_prepared`` holds the lock only
for the transaction; the upserts of a table are one multi-row statement on SQLite and
one pipelined executemany on PostgreSQL; nothing uses RETURNING. The live feed's
change-log rows are appended last, in the same transaction (``hub.store.changelog``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from itertools import chain
from operator import itemgetter
from typing import Any, NamedTuple

from iplatform.v1 import enums_pb2 as e
from iplatform.v1 import message_pb2 as m
from sqlalchemy import Connection, Delete, Engine, Table, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.sql.dml import Insert

from hub.errors import UnknownCenter
from hub.store import changelog, convert
from hub.store.centers import unknown_message
from hub.store.engine import write_tx
from hub.store.model import ApplyResult
from hub.store.schema import center_sync, entries, equipment

_TABLES = {e.RECORD_KIND_EQUIPMENT: equipment, e.RECORD_KIND_ENTRY: entries}


_EQUIPMENT = e.RECORD_KIND_EQUIPMENT
_ENTRY = e.RECORD_KIND_ENTRY
_FEED_KIND = {_EQUIPMENT: changelog.EQUIPMENT, _ENTRY: changelog.ENTRY}


class _Prepared(NamedTuple):
    """One change, converted: ``row`` is None for a deletion."""

    seq: int
    kind: int
    id: str
    row: dict[str, Any] | None


@dataclass
class _Plan:
    upserts: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    deletes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    feed: list[tuple[str, str, str, str]] = field(default_factory=list)
    """(center_id, kind, id, op) change-log rows, built here, outside the lock."""


def _prepare(center_id: str, changes: Sequence[m.Change], now: int) -> list[_Prepared]:
    """Convert every change, or raise ValueError before anything is written."""
    out: list[_Prepared] = []
    append = out.append
    equipment_row, entry_row = convert.equipment_row, convert.entry_row
    for ch in changes:
        seq = ch.seq
        if ch.center_id != center_id:
            raise ValueError(
                f"change seq {seq} belongs to center {ch.center_id!r}, not {center_id!r}; "
                "a center may write only its own records, so nothing of this batch was applied"
            )
        body = ch.WhichOneof("body")
        key = ch.key
        kind, rid = int(key.kind), key.id
        if body == "entry":
            entry = ch.entry
            if kind != _ENTRY or rid != entry.id:
                raise ValueError(f"change seq {seq}: key does not match the calendar entry")
            append(_Prepared(seq, kind, rid, entry_row(center_id, entry, seq, now)))
        elif body == "equipment":
            eq = ch.equipment
            if kind != _EQUIPMENT or rid != eq.id:
                raise ValueError(f"change seq {seq}: key does not match the equipment record")
            append(_Prepared(seq, kind, rid, equipment_row(center_id, eq, seq, now)))
        elif body == "deleted":
            if kind not in _TABLES:
                raise ValueError(f"change seq {seq}: deletion has an unspecified record kind")
            append(_Prepared(seq, kind, rid, None))
        else:
            raise ValueError(f"change seq {seq} has no body (equipment, entry or deleted)")
    return out


def _plan(center_id: str, fresh: list[_Prepared]) -> _Plan:
    # At most one write per record: the change with the highest seq wins.
    latest: dict[tuple[int, str], _Prepared] = {}
    for p in fresh:
        cur = latest.get((p.kind, p.id))
        if cur is None or p.seq > cur.seq:
            latest[(p.kind, p.id)] = p
    plan = _Plan()
    # Key order keeps index writes local (and lock order stable on PostgreSQL).
    for (kind, rid), p in sorted(latest.items()):
        if p.row is not None:
            plan.upserts.setdefault(kind, []).append(p.row)
        else:
            plan.deletes.setdefault(kind, []).append(
                {"b_center": center_id, "b_id": rid, "b_seq": p.seq}
            )
        op = changelog.UPSERT if p.row is not None else changelog.DELETE
        plan.feed.append((center_id, _FEED_KIND[kind], rid, op))
    return plan


@cache
def _upsert_statement(dialect: str, table: Table) -> Insert:
    ins = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    keys = {c.name for c in table.primary_key.columns}
    return ins.on_conflict_do_update(
        index_elements=[table.c.center_id, table.c.id],
        set_={c.name: ins.excluded[c.name] for c in table.c if c.name not in keys},
        where=table.c.version < ins.excluded.version,
    )


# Bound parameters per SQLite statement: under the 32,766 of builds before 3.32, so a
# 1,000-row batch is one statement per table.
_SQLITE_MAX_PARAMS = 32_000


@dataclass(frozen=True)
class _MultiRow:
    """The SQLite upsert as one multi-row ``INSERT ... VALUES (..), (..) ON CONFLICT ...``."""

    head: str
    group: str
    tail: str
    row_values: Callable[[dict[str, Any]], tuple[Any, ...]]
    max_rows: int

    @lru_cache(maxsize=32)  # noqa: B019 - two instances, alive as long as the process
    def sql(self, rows: int) -> str:
        # Same text for the same row count, so sqlite3's statement cache hits.
        return self.head + ", ".join([self.group] * rows) + self.tail


@cache
def _sqlite_multirow(table: Table) -> _MultiRow:
    # SQLAlchemy's own upsert, compiled once with positional parameters; only its VALUES
    # group is repeated. sqlite3's executemany steps once per row and takes the GIL back
    # after each step, so on a busy hub the store thread queued behind the event loop for
    # every row; one statement binds and steps the whole batch in one call (2x the rows/s
    # measured by bench/, see docs/benchmarks.md).
    compiled = _upsert_statement("sqlite", table).compile(
        dialect=sqlite.dialect(paramstyle="qmark")
    )
    columns = tuple(compiled.positiontup or ())
    group = "(" + ", ".join(["?"] * len(columns)) + ")"
    head, values, tail = str(compiled).partition(f" VALUES {group} ")
    if set(columns) != set(table.c.keys()) or not values or not tail.startswith("ON CONFLICT "):
        raise AssertionError(f"unexpected upsert statement for {table.name}: {compiled}")
    return _MultiRow(
        head=head + " VALUES ",
        group=group,
        tail=" " + tail,
        row_values=itemgetter(*columns),
        max_rows=max(1, _SQLITE_MAX_PARAMS // len(columns)),
    )


@dataclass(frozen=True)
class _Unnest:
    """The PostgreSQL upsert fed by one array per column: ``INSERT ... SELECT * FROM
    unnest(%s::type[], ...) ON CONFLICT ...``."""

    sql: str
    columns: tuple[str, ...]


@cache
def _postgresql_unnest(table: Table) -> _Unnest:
    # SQLAlchemy's own upsert, with its VALUES group replaced by unnest() over one array
    # per column: one statement and 20 parameters per batch instead of a row-by-row
    # executemany, which cost the hub ~18 us of CPU per row in psycopg (10-13 us this way,
    # measured by bench/) and PostgreSQL one executor run per row.
    dialect = PGDialect(paramstyle="format")  # type: ignore[no-untyped-call]
    compiled = _upsert_statement("postgresql", table).compile(dialect=dialect)
    columns = tuple(compiled.positiontup or ())
    head, values, tail = str(compiled).partition(" VALUES (")
    _, paren, on_conflict = tail.partition(") ON CONFLICT ")
    if set(columns) != set(table.c.keys()) or not values or not paren:
        raise AssertionError(f"unexpected upsert statement for {table.name}: {compiled}")
    arrays = ", ".join(f"%s::{table.c[c].type.compile(dialect)}[]" for c in columns)
    sql = f"{head} SELECT * FROM unnest({arrays}) ON CONFLICT {on_conflict}"
    return _Unnest(sql=sql, columns=columns)


def upsert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Write ``rows`` into ``table``, each only over an older version of the same record.

    The store's bulk write: ``apply_batch`` uses it, and bench/ measures it on its own.
    ``rows`` must not hold the same record twice (``_plan`` keeps the latest change).
    """
    if conn.dialect.name == "postgresql":
        unnest = _postgresql_unnest(table)
        conn.exec_driver_sql(unnest.sql, tuple([r[c] for r in rows] for c in unnest.columns))
        return
    multi = _sqlite_multirow(table)
    for i in range(0, len(rows), multi.max_rows):
        chunk = rows[i : i + multi.max_rows]
        params = tuple(chain.from_iterable(map(multi.row_values, chunk)))
        conn.exec_driver_sql(multi.sql(len(chunk)), params)


@cache
def _delete_statement(table: Table) -> Delete:
    return delete(table).where(
        table.c.center_id == bindparam("b_center"),
        table.c.id == bindparam("b_id"),
        table.c.version < bindparam("b_seq"),
    )


# Built once (not per batch): the row lock / high-water mark read and its update.
_HWM = select(center_sync.c.hwm).where(center_sync.c.center_id == bindparam("b_center"))
_HWM_FOR_UPDATE = _HWM.with_for_update()
_SET_HWM = (
    update(center_sync)
    .where(center_sync.c.center_id == bindparam("b_center"))
    .values(hwm=bindparam("b_hwm"), last_sync=bindparam("b_now"), last_seen=bindparam("b_now"))
)


@dataclass(frozen=True)
class PreparedBatch:
    """A batch converted and planned for writing, before any database access.

    ``prepare`` does everything that needs no database (and raises ValueError for what
    cannot be stored), so that a caller serializing writes (the hub's SQLite write lock)
    holds its lock only for ``apply_prepared``'s transaction.
    """

    center_id: str
    now: int
    changes: list[_Prepared]
    plan: _Plan
    """The plan if every change is above the high-water mark (the usual case)."""
    min_seq: int
    max_seq: int


def prepare(center_id: str, changes: Sequence[m.Change], now: int) -> PreparedBatch:
    prepared = _prepare(center_id, changes, now)
    seqs = [p.seq for p in prepared]
    return PreparedBatch(
        center_id=center_id,
        now=now,
        changes=prepared,
        plan=_plan(center_id, prepared),
        min_seq=min(seqs, default=0),
        max_seq=max(seqs, default=0),
    )


def apply_prepared(engine: Engine, batch: PreparedBatch, prev_seq: int) -> ApplyResult:
    center_id, now = batch.center_id, batch.now
    dialect = engine.dialect.name
    with write_tx(engine) as conn:
        lock = _HWM_FOR_UPDATE if dialect == "postgresql" else _HWM
        hwm = conn.execute(lock, {"b_center": center_id}).scalar_one_or_none()
        if hwm is None:
            raise UnknownCenter(unknown_message(center_id))
        if prev_seq > hwm:
            return ApplyResult(hwm=hwm, applied=0, duplicates=0, rewind=True)
        if batch.min_seq > hwm:
            fresh, plan = batch.changes, batch.plan
        else:
            fresh = [p for p in batch.changes if p.seq > hwm]
            plan = _plan(center_id, fresh)
        duplicates = len(batch.changes) - len(fresh)
        if not fresh:
            # A pure replay writes nothing at all.
            return ApplyResult(hwm=hwm, applied=0, duplicates=duplicates)
        for kind, rows in plan.upserts.items():
            upsert_rows(conn, _TABLES[kind], rows)
        for kind, keys in plan.deletes.items():
            conn.execute(_delete_statement(_TABLES[kind]), keys)
        new_hwm = max(hwm, batch.max_seq)
        conn.execute(_SET_HWM, {"b_center": center_id, "b_hwm": new_hwm, "b_now": now})
        # Last: takes the global feed lock until commit (hub.store.changelog says why).
        changelog.append(conn, plan.feed, now)
    return ApplyResult(hwm=new_hwm, applied=len(fresh), duplicates=duplicates)


def apply_batch(
    engine: Engine, center_id: str, prev_seq: int, changes: Sequence[m.Change], now: int
) -> ApplyResult:
    return apply_prepared(engine, prepare(center_id, changes, now), prev_seq)

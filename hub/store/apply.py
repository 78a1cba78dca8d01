"""apply_batch: the per-center ordered, idempotent apply (DESIGN.md section 5).

In one transaction: lock the center's ``center_sync`` row (SQLite: the write
transaction began with ``BEGIN IMMEDIATE``; PostgreSQL: ``SELECT ... FOR UPDATE``),
refuse a gap (``prev_seq > hwm``: rewind), skip replays (``seq <= hwm``), write the
rest with version guards, raise hwm, commit.

Version guards make every write safe against an older change whatever the hwm says
(a hub restored from a backup, a bug): an upsert only replaces a row whose version
is lower, a delete only removes one whose version is lower.

This is the ingest hot path (DESIGN.md section 9): changes are converted to rows
before the transaction starts (the lock is held only for the writes), each kind of
write is one executemany, and nothing uses RETURNING.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from iplatform.v1 import enums_pb2 as e
from iplatform.v1 import message_pb2 as m
from sqlalchemy import Delete, Engine, Table, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from hub.errors import UnknownCenter
from hub.store import convert
from hub.store.centers import unknown_message
from hub.store.engine import write_tx
from hub.store.model import ApplyResult
from hub.store.schema import center_sync, entries, equipment

_TABLES = {e.RECORD_KIND_EQUIPMENT: equipment, e.RECORD_KIND_ENTRY: entries}


@dataclass(frozen=True)
class _Prepared:
    """One change, converted: ``row`` is None for a deletion."""

    seq: int
    kind: int
    id: str
    row: dict[str, Any] | None


@dataclass
class _Plan:
    upserts: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    deletes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)


def _prepare(center_id: str, changes: Sequence[m.Change], now: int) -> list[_Prepared]:
    """Convert every change, or raise ValueError before anything is written."""
    out: list[_Prepared] = []
    for ch in changes:
        where = f"change seq {ch.seq}"
        if ch.center_id != center_id:
            raise ValueError(
                f"{where} belongs to center {ch.center_id!r}, not {center_id!r}; "
                "a center may write only its own records, so nothing of this batch was applied"
            )
        body = ch.WhichOneof("body")
        kind, rid = int(ch.key.kind), ch.key.id
        if body == "equipment":
            if kind != e.RECORD_KIND_EQUIPMENT or rid != ch.equipment.id:
                raise ValueError(f"{where}: key does not match the equipment record")
            row = convert.equipment_row(center_id, ch.equipment, ch.seq, now)
        elif body == "entry":
            if kind != e.RECORD_KIND_ENTRY or rid != ch.entry.id:
                raise ValueError(f"{where}: key does not match the calendar entry")
            row = convert.entry_row(center_id, ch.entry, ch.seq, now)
        elif body == "deleted":
            if kind not in _TABLES:
                raise ValueError(f"{where}: deletion has an unspecified record kind")
            row = None
        else:
            raise ValueError(f"{where} has no body (equipment, entry or deleted)")
        out.append(_Prepared(seq=ch.seq, kind=kind, id=rid, row=row))
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


@cache
def _delete_statement(table: Table) -> Delete:
    return delete(table).where(
        table.c.center_id == bindparam("b_center"),
        table.c.id == bindparam("b_id"),
        table.c.version < bindparam("b_seq"),
    )


def apply_batch(
    engine: Engine, center_id: str, prev_seq: int, changes: Sequence[m.Change], now: int
) -> ApplyResult:
    prepared = _prepare(center_id, changes, now)
    dialect = engine.dialect.name
    with write_tx(engine) as conn:
        lock = select(center_sync.c.hwm).where(center_sync.c.center_id == center_id)
        if dialect == "postgresql":
            lock = lock.with_for_update()
        hwm = conn.execute(lock).scalar_one_or_none()
        if hwm is None:
            raise UnknownCenter(unknown_message(center_id))
        if prev_seq > hwm:
            return ApplyResult(hwm=hwm, applied=0, duplicates=0, rewind=True)
        fresh = [p for p in prepared if p.seq > hwm]
        duplicates = len(prepared) - len(fresh)
        if not fresh:
            # A pure replay writes nothing at all.
            return ApplyResult(hwm=hwm, applied=0, duplicates=duplicates)
        plan = _plan(center_id, fresh)
        for kind, rows in plan.upserts.items():
            conn.execute(_upsert_statement(dialect, _TABLES[kind]), rows)
        for kind, keys in plan.deletes.items():
            conn.execute(_delete_statement(_TABLES[kind]), keys)
        new_hwm = max(hwm, max(p.seq for p in fresh))
        conn.execute(
            update(center_sync)
            .where(center_sync.c.center_id == center_id)
            .values(hwm=new_hwm, last_sync=now, last_seen=now)
        )
    return ApplyResult(hwm=new_hwm, applied=len(fresh), duplicates=duplicates)

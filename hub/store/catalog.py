"""Paged reads for the portal API: centers with freshness, equipment of a center.

Pages are keyset pages (``id > after`` ordered by id, one index range scan each), so a
page cursor stays valid and stable while records are added or removed elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from iplatform.v1 import message_pb2 as m
from sqlalchemy import Engine, Select, func, select

from hub.store import convert
from hub.store.engine import read_tx
from hub.store.model import CenterInfo, SyncState
from hub.store.schema import center_sync, centers, equipment
from hub.store.view import is_stale


@dataclass(frozen=True)
class CenterEntry:
    """A center with its freshness and the number of equipment the hub holds for it."""

    center: CenterInfo
    state: SyncState
    stale: bool
    equipment_count: int


def _center_query() -> Select[Any]:
    counts = (
        select(equipment.c.center_id, func.count().label("equipment_count"))
        .group_by(equipment.c.center_id)
        .subquery()
    )
    return (
        select(centers, center_sync, func.coalesce(counts.c.equipment_count, 0).label("n"))
        .join(center_sync, center_sync.c.center_id == centers.c.id)
        .outerjoin(counts, counts.c.center_id == centers.c.id)
    )


def centers_page(
    engine: Engine,
    after: str | None,
    limit: int,
    now: int,
    stale_after: int,
    *,
    industry: str | None = None,
    region: str | None = None,
) -> list[CenterEntry]:
    """Up to ``limit`` centers with id > ``after``, by id, optionally filtered."""
    q = _center_query().order_by(centers.c.id).limit(limit)
    if after is not None:
        q = q.where(centers.c.id > after)
    if industry is not None:
        q = q.where(centers.c.industry == industry)
    if region is not None:
        q = q.where(centers.c.region == region)
    with read_tx(engine) as conn:
        rows = conn.execute(q).mappings().all()
    return [_entry(r, now, stale_after) for r in rows]


def center(engine: Engine, center_id: str, now: int, stale_after: int) -> CenterEntry | None:
    with read_tx(engine) as conn:
        row = conn.execute(_center_query().where(centers.c.id == center_id)).mappings().first()
    return None if row is None else _entry(row, now, stale_after)


def _entry(row: convert.Row, now: int, stale_after: int) -> CenterEntry:
    state = convert.sync_state_from_row(row)
    return CenterEntry(
        center=convert.center_from_row(row),
        state=state,
        stale=is_stale(state.last_seen, now, stale_after),
        equipment_count=int(row["n"]),
    )


def equipment_page(
    engine: Engine, center_id: str, after: str | None, limit: int
) -> list[m.Equipment]:
    """Up to ``limit`` equipment of the center with id > ``after``, by id."""
    q = (
        select(equipment)
        .where(equipment.c.center_id == center_id)
        .order_by(equipment.c.id)
        .limit(limit)
    )
    if after is not None:
        q = q.where(equipment.c.id > after)
    with read_tx(engine) as conn:
        rows = conn.execute(q).mappings().all()
    return [convert.equipment_from_row(r) for r in rows]


def equipment_one(engine: Engine, center_id: str, equipment_id: str) -> m.Equipment | None:
    with read_tx(engine) as conn:
        row = (
            conn.execute(
                select(equipment).where(
                    equipment.c.center_id == center_id, equipment.c.id == equipment_id
                )
            )
            .mappings()
            .first()
        )
    return None if row is None else convert.equipment_from_row(row)


def center_ids_page(engine: Engine, after: str | None, limit: int) -> list[str]:
    """Center ids > ``after``, by id (the snapshot's pages)."""
    q = select(centers.c.id).order_by(centers.c.id).limit(limit)
    if after is not None:
        q = q.where(centers.c.id > after)
    with read_tx(engine) as conn:
        return [str(v) for v in conn.execute(q).scalars()]

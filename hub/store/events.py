"""Each center's recent sync history, for operators (``center_events``).

Rows are written inside the transactions of :mod:`hub.store.sync_state` (a session
starting or ending, a summary of what synced, a reconciliation, a source starting or
stopping to fail, deletions held back), never per batch: the apply path stays as it was.
Each write prunes the center's history to its newest :data:`KEEP` rows, so the table stays
small without a cleanup job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select

from hub.store import convert
from hub.store.engine import read_tx
from hub.store.schema import center_events

KEEP = 200
"""Rows kept per center."""

KINDS = (
    "connected",
    "disconnected",
    "synced",
    "reconciled",
    "source_failing",
    "source_recovered",
    "deletes_held",
)


@dataclass(frozen=True)
class CenterEvent:
    """One line of a center's sync history."""

    id: int
    center_id: str
    at: int
    kind: str
    """One of :data:`KINDS`."""
    detail: dict[str, Any]


def append(conn: Connection, center_id: str, at: int, kind: str, detail: dict[str, Any]) -> None:
    """Add an event in the caller's transaction and prune the center's older ones."""
    if kind not in KINDS:
        raise ValueError(f"unknown center event kind {kind!r}")
    conn.execute(
        insert(center_events).values(
            center_id=center_id,
            at=at,
            kind=kind,
            detail=convert.dump_json("center event detail", detail),
        )
    )
    # The id below which nothing is kept: one index probe on (center_id, id).
    cutoff = (
        select(center_events.c.id)
        .where(center_events.c.center_id == center_id)
        .order_by(center_events.c.id.desc())
        .offset(KEEP)
        .limit(1)
        .scalar_subquery()
    )
    conn.execute(
        delete(center_events).where(
            center_events.c.center_id == center_id, center_events.c.id <= cutoff
        )
    )


def recent(engine: Engine, center_id: str, limit: int) -> list[CenterEvent]:
    """The center's newest ``limit`` events, newest first."""
    query = (
        select(center_events)
        .where(center_events.c.center_id == center_id)
        .order_by(center_events.c.id.desc())
        .limit(max(0, limit))
    )
    with read_tx(engine) as conn:
        rows = conn.execute(query).mappings().all()
    return [
        CenterEvent(
            id=r["id"],
            center_id=r["center_id"],
            at=r["at"],
            kind=r["kind"],
            detail=json.loads(r["detail"]),
        )
        for r in rows
    ]

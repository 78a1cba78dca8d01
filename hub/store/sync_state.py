"""Per-center sync state: liveness (hello, heartbeat, disconnect) and reconciliation.

The high-water mark itself is only ever written by ``apply.apply_batch``, under
the row lock; these updates touch the other columns of the same row.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select, update

from hub.errors import UnknownCenter
from hub.store import convert
from hub.store.centers import unknown_message
from hub.store.engine import read_tx, write_tx
from hub.store.model import SyncState
from hub.store.schema import center_sync


def sync_state(engine: Engine, center_id: str) -> SyncState:
    with read_tx(engine) as conn:
        row = (
            conn.execute(select(center_sync).where(center_sync.c.center_id == center_id))
            .mappings()
            .first()
        )
    if row is None:
        raise UnknownCenter(unknown_message(center_id))
    return convert.sync_state_from_row(row)


def _update(engine: Engine, center_id: str, values: dict[str, Any]) -> None:
    with write_tx(engine) as conn:
        result = conn.execute(
            update(center_sync).where(center_sync.c.center_id == center_id).values(**values)
        )
        if result.rowcount == 0:
            raise UnknownCenter(unknown_message(center_id))


def _count(what: str, value: int) -> int:
    if value < 0:
        raise ValueError(f"{what} must not be negative (got {value})")
    return value


def record_hello(engine: Engine, center_id: str, agent_version: str, now: int) -> None:
    _update(
        engine,
        center_id,
        {"connected": True, "last_seen": now, "agent_version": agent_version[:200]},
    )


def record_heartbeat(
    engine: Engine,
    center_id: str,
    now: int,
    *,
    backlog: int,
    quarantined_deletes: int,
    sources: list[dict[str, Any]],
) -> None:
    _update(
        engine,
        center_id,
        {
            "connected": True,
            "last_seen": now,
            "backlog": _count("backlog", backlog),
            "quarantined_deletes": _count("quarantined_deletes", quarantined_deletes),
            "sources": convert.dump_json("heartbeat sources", list(sources)),
        },
    )


def record_disconnect(engine: Engine, center_id: str, now: int) -> None:
    # The agent was there until now; staleness counts from here.
    _update(engine, center_id, {"connected": False, "last_seen": now})


def record_reconcile(engine: Engine, center_id: str, now: int, report: dict[str, Any]) -> None:
    _update(
        engine,
        center_id,
        {
            "last_reconcile": convert.dump_json("reconcile report", dict(report)),
            "last_reconcile_at": now,
        },
    )

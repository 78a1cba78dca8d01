"""Per-center sync state: liveness (hello, heartbeat, disconnect) and reconciliation.

The high-water mark itself is only ever written by ``apply.apply_batch``, under
the row lock; these updates touch the other columns of the same row. Each also writes
the center's sync history (:mod:`hub.store.events`) in the same transaction.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from hub.errors import UnknownCenter
from hub.store import convert, events
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


def _update_in(conn: Connection, center_id: str, values: dict[str, Any]) -> None:
    result = conn.execute(
        update(center_sync).where(center_sync.c.center_id == center_id).values(**values)
    )
    if result.rowcount == 0:
        raise UnknownCenter(unknown_message(center_id))


def _count(what: str, value: int) -> int:
    if value < 0:
        raise ValueError(f"{what} must not be negative (got {value})")
    return value


def record_hello(
    engine: Engine,
    center_id: str,
    agent_version: str,
    now: int,
    *,
    heartbeat_seconds: int | None = None,
) -> None:
    """A session started. ``heartbeat_seconds``: what the agent announced (0/None: nothing)."""
    with write_tx(engine) as conn:
        _update_in(
            conn,
            center_id,
            {
                "connected": True,
                "last_seen": now,
                "agent_version": agent_version[:200],
                "heartbeat_seconds": heartbeat_seconds or None,
            },
        )
        detail: dict[str, Any] = {"agent_version": agent_version[:200]}
        if heartbeat_seconds:
            detail["heartbeat_seconds"] = heartbeat_seconds
        events.append(conn, center_id, now, "connected", detail)


def _failing(source: dict[str, Any]) -> bool:
    return not source.get("ok", True) or int(source.get("problems") or 0) > 0


def _source_events(
    old: list[dict[str, Any]], new: list[dict[str, Any]]
) -> list[tuple[str, dict[str, Any]]]:
    """Sources that started failing (or fail differently now) and ones that recovered."""
    before = {str(s.get("name")): s for s in old}
    out: list[tuple[str, dict[str, Any]]] = []
    for src in new:
        name = str(src.get("name"))
        prev = before.get(name)
        was = prev is not None and _failing(prev)
        if _failing(src):
            if not was or prev is None or prev.get("first_problem") != src.get("first_problem"):
                out.append(
                    (
                        "source_failing",
                        {
                            "source": name,
                            "ok": bool(src.get("ok", True)),
                            "problems": int(src.get("problems") or 0),
                            "first_problem": str(src.get("first_problem") or "")[:500],
                        },
                    )
                )
        elif was:
            out.append(("source_recovered", {"source": name}))
    return out


def record_heartbeat(
    engine: Engine,
    center_id: str,
    now: int,
    *,
    backlog: int,
    quarantined_deletes: int,
    sources: list[dict[str, Any]],
    commit_lag_seconds: float | None = None,
    synced: dict[str, Any] | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """Store a heartbeat; return the history events it caused (kind, detail).

    ``commit_lag_seconds``: the serving hub's latest measurement (None keeps the stored
    one); ``synced``: what committed since the last summary (batches, changes, hwm), or None.
    """
    _count("backlog", backlog)
    _count("quarantined_deletes", quarantined_deletes)
    sources_json = convert.dump_json("heartbeat sources", list(sources))
    with write_tx(engine) as conn:
        old = (
            conn.execute(
                select(
                    center_sync.c.backlog,
                    center_sync.c.backlog_since,
                    center_sync.c.backlog_since_value,
                    center_sync.c.quarantined_deletes,
                    center_sync.c.sources,
                )
                .where(center_sync.c.center_id == center_id)
                .with_for_update()
            )
            .mappings()
            .first()
        )
        if old is None:
            raise UnknownCenter(unknown_message(center_id))
        values: dict[str, Any] = {
            "connected": True,
            "last_seen": now,
            "last_heartbeat_at": now,
            "backlog": backlog,
            "quarantined_deletes": quarantined_deletes,
            "sources": sources_json,
        }
        # The backlog trend: since when it has been non-zero without shrinking. A draining
        # outbox restarts the clock; an empty one clears it.
        if backlog == 0:
            values.update(backlog_since=None, backlog_since_value=None)
        elif old["backlog_since"] is None or backlog < old["backlog"]:
            values.update(backlog_since=now, backlog_since_value=backlog)
        if commit_lag_seconds is not None:
            values["commit_lag_seconds"] = max(0.0, float(commit_lag_seconds))
        _update_in(conn, center_id, values)
        caused = _source_events(json.loads(old["sources"] or "[]"), list(sources))
        if quarantined_deletes != old["quarantined_deletes"] and quarantined_deletes > 0:
            caused.append(
                (
                    "deletes_held",
                    {"count": quarantined_deletes, "before": int(old["quarantined_deletes"])},
                )
            )
        if synced:
            caused.insert(0, ("synced", dict(synced)))
        for kind, detail in caused:
            events.append(conn, center_id, now, kind, detail)
    return caused


def record_disconnect(engine: Engine, center_id: str, now: int, *, reason: str = "") -> None:
    """The session ended; ``now`` is when the agent was last heard (staleness counts from
    there)."""
    with write_tx(engine) as conn:
        _update_in(conn, center_id, {"connected": False, "last_seen": now})
        events.append(conn, center_id, now, "disconnected", {"reason": reason[:500]})


def record_reconcile(engine: Engine, center_id: str, now: int, report: dict[str, Any]) -> None:
    with write_tx(engine) as conn:
        _update_in(
            conn,
            center_id,
            {
                "last_reconcile": convert.dump_json("reconcile report", dict(report)),
                "last_reconcile_at": now,
            },
        )
        events.append(conn, center_id, now, "reconciled", dict(report))

"""The change log behind the live feed: appended inside the apply, read by position.

Every committed write of an apply adds one row ``(id, center_id, kind, record_id, op, at)``
in the apply's own transaction, so the feed never shows uncommitted data and never misses
committed data. Center freshness transitions add ``kind = "center"`` rows (op ``stale`` or
``fresh``, :func:`announce_freshness`).

Why positions come from a lock row, not a sequence: a reader follows the log with
``id > last position seen``. With a sequence (BIGSERIAL) on PostgreSQL, two applies of
different centers run concurrently; the one that drew id 11 may commit after the one that
drew id 12, and a reader that saw 12 would skip 11 forever. So an apply allocates its ids
at the *end* of its transaction with ``UPDATE feed_state SET last_id = last_id + n
RETURNING last_id`` on the single ``feed_state`` row. The row lock is held until commit,
so ids are handed out in commit order: whenever a reader can see id N, every id below N is
committed and visible too. The lock is held only for that update, one insert of the rows
and the commit (the record writes before it run concurrently per center). On SQLite,
writers are serialized by ``BEGIN IMMEDIATE`` anyway and the same statements apply.

Lock order is always "own rows first, feed_state last" (apply: center_sync then
feed_state; freshness: center_feed then feed_state; prune: old change_log rows then
feed_state), so no cycle can deadlock.

Reading (:func:`read`) returns each row with the record's *current* state, looked up in
the same snapshot: an upsert whose record has since been deleted is returned as a delete
(a later delete row follows anyway). A reader that applies the events in order therefore
ends exactly at the hub's state, whatever it missed in between.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain

from iplatform.v1 import message_pb2 as m
from sqlalchemy import Connection, Engine, RowMapping, Table, delete, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from hub.errors import StoreError
from hub.store import convert
from hub.store.engine import read_tx, write_tx
from hub.store.schema import (
    center_feed,
    center_sync,
    centers,
    change_log,
    entries,
    equipment,
    feed_state,
)
from hub.store.view import is_stale

EQUIPMENT = "equipment"
ENTRY = "entry"
CENTER = "center"
UPSERT = "upsert"
DELETE = "delete"
STALE = "stale"
FRESH = "fresh"

MAX_PAGE = 1000
_COLUMNS = ("id", "center_id", "kind", "record_id", "op", "at")
# SQLite binds at most ~32k parameters per statement (see hub.store.apply).
_SQLITE_ROWS = 32_000 // len(_COLUMNS)


class FeedPositionGone(StoreError):
    """The position is older than the retained log (pruned): resync from a snapshot."""

    def __init__(self, position: int, pruned_through: int) -> None:
        super().__init__(
            f"feed position {position} is older than the retained change log (pruned "
            f"through {pruned_through}); resync from a snapshot and follow the feed from "
            "the snapshot's feed token"
        )
        self.position = position
        self.pruned_through = pruned_through


class FeedPositionAhead(StoreError):
    """The position was never handed out by this database (a token of another hub, or a
    hub restored from an older backup): resync from a snapshot."""

    def __init__(self, position: int, last_id: int) -> None:
        super().__init__(
            f"feed position {position} is ahead of this hub's change log (last {last_id}): "
            "the token belongs to another hub or the hub was restored from a backup; resync "
            "from a snapshot and follow the feed from the snapshot's feed token"
        )
        self.position = position
        self.last_id = last_id


@dataclass(frozen=True)
class FeedHead:
    last_id: int
    """The newest committed feed position (0: empty log)."""
    pruned_through: int
    """Positions up to here were pruned; a reader behind it must resync."""


@dataclass(frozen=True)
class CenterFreshness:
    """A center's freshness as of the read, carried by every event of the center."""

    center_id: str
    last_sync: int | None
    last_seen: int | None
    connected: bool
    stale: bool


@dataclass(frozen=True)
class FeedEvent:
    """One change-log row with the record's current state."""

    position: int
    center_id: str
    kind: str
    """``equipment``, ``entry`` or ``center``."""
    record_id: str
    """The equipment or entry id; the center id for center events."""
    op: str
    """``upsert`` / ``delete`` for records, ``stale`` / ``fresh`` for centers."""
    at: int
    """When the change committed (epoch seconds)."""
    equipment: m.Equipment | None = None
    entry: m.CalendarEntry | None = None


@dataclass(frozen=True)
class FeedPage:
    events: list[FeedEvent]
    next_position: int
    """Where to continue: the last event's position (or the asked one if there are none)."""
    head: int
    """The newest committed position at the time of the read."""
    centers: dict[str, CenterFreshness]
    """Freshness of every center that has an event on this page."""


# -- append (inside apply's transaction) --------------------------------------------------------


def append(conn: Connection, rows: Sequence[tuple[str, str, str, str]], now: int) -> None:
    """Append ``(center_id, kind, record_id, op)`` rows at the next positions.

    Call last in a write transaction: it takes the feed_state row lock, which then is
    held until commit (see the module docstring).
    """
    if not rows:
        return
    last = conn.execute(
        update(feed_state)
        .where(feed_state.c.id == 1)
        .values(last_id=feed_state.c.last_id + len(rows))
        .returning(feed_state.c.last_id)
    ).scalar_one_or_none()
    if last is None:
        raise StoreError(
            "the feed_state row is missing (a manual edit?); restore it with "
            "INSERT INTO feed_state VALUES (1, (SELECT COALESCE(MAX(id), 0) FROM change_log), 0)"
        )
    first = last - len(rows) + 1
    if conn.dialect.name == "postgresql":
        # One statement with one array per column: psycopg's executemany costs ~18 us of
        # hub CPU per row, unnest() a fraction of it (bench/ measured the same for the
        # record upserts in hub.store.apply).
        centers_, kinds, rids, ops = (list(col) for col in zip(*rows, strict=True))
        ids = list(range(first, last + 1))
        conn.exec_driver_sql(_PG_INSERT, (ids, centers_, kinds, rids, ops, [now] * len(rows)))
        return
    # sqlite3's executemany steps (and retakes the GIL) once per row; one multi-row
    # statement per chunk is what hub.store.apply does for the records too.
    values = [
        (first + i, center_id, kind, rid, op, now)
        for i, (center_id, kind, rid, op) in enumerate(rows)
    ]
    for i in range(0, len(values), _SQLITE_ROWS):
        chunk = values[i : i + _SQLITE_ROWS]
        conn.exec_driver_sql(_sqlite_insert(len(chunk)), tuple(chain.from_iterable(chunk)))


_INSERT_HEAD = f"INSERT INTO change_log ({', '.join(_COLUMNS)}) "
_PG_INSERT = (
    _INSERT_HEAD + "SELECT * FROM unnest(%s::bigint[], %s::varchar[], %s::varchar[], "
    "%s::varchar[], %s::varchar[], %s::bigint[])"
)


@lru_cache(maxsize=64)
def _sqlite_insert(rows: int) -> str:
    # The same text for the same row count, so sqlite3's statement cache hits.
    return _INSERT_HEAD + "VALUES " + ", ".join(["(?, ?, ?, ?, ?, ?)"] * rows)


# -- read ---------------------------------------------------------------------------------------


def head(engine: Engine) -> FeedHead:
    with read_tx(engine) as conn:
        return _head(conn)


def _head(conn: Connection) -> FeedHead:
    row = conn.execute(select(feed_state.c.last_id, feed_state.c.pruned_through)).first()
    if row is None:
        return FeedHead(0, 0)
    return FeedHead(int(row.last_id), int(row.pruned_through))


def read(engine: Engine, after: int, limit: int, now: int, stale_after: int) -> FeedPage:
    """Events after position ``after``, oldest first, at most ``limit`` (1..MAX_PAGE).

    Raises FeedPositionGone / FeedPositionAhead when ``after`` cannot be continued.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be in 1..{MAX_PAGE} (got {limit})")
    if after < 0:
        raise ValueError(f"feed position must not be negative (got {after})")
    with read_tx(engine) as conn:
        state = _head(conn)
        if after < state.pruned_through:
            raise FeedPositionGone(after, state.pruned_through)
        if after > state.last_id:
            raise FeedPositionAhead(after, state.last_id)
        rows = conn.execute(
            select(change_log).where(change_log.c.id > after).order_by(change_log.c.id).limit(limit)
        ).all()
        eq_keys = {(r.center_id, r.record_id) for r in rows if r.kind == EQUIPMENT}
        en_keys = {(r.center_id, r.record_id) for r in rows if r.kind == ENTRY}
        eq_now = {
            (row["center_id"], row["id"]): convert.equipment_from_row(row)
            for row in _rows_by_key(conn, equipment, eq_keys)
        }
        en_now = {
            (row["center_id"], row["id"]): convert.entry_from_row(row)
            for row in _rows_by_key(conn, entries, en_keys)
        }
        fresh = _freshness(conn, {r.center_id for r in rows}, now, stale_after)
    events = []
    for r in rows:
        ev = FeedEvent(int(r.id), r.center_id, r.kind, r.record_id, r.op, int(r.at))
        if r.kind == EQUIPMENT and r.op == UPSERT:
            record = eq_now.get((r.center_id, r.record_id))
            ev = _upsert_or_delete(ev, equipment=record)
        elif r.kind == ENTRY and r.op == UPSERT:
            record_en = en_now.get((r.center_id, r.record_id))
            ev = _upsert_or_delete(ev, entry=record_en)
        events.append(ev)
    next_position = events[-1].position if events else after
    return FeedPage(events, next_position, state.last_id, fresh)


def _upsert_or_delete(
    ev: FeedEvent, equipment: m.Equipment | None = None, entry: m.CalendarEntry | None = None
) -> FeedEvent:
    if equipment is None and entry is None:
        # Deleted since: the delete's own row follows; say so already.
        return FeedEvent(ev.position, ev.center_id, ev.kind, ev.record_id, DELETE, ev.at)
    return FeedEvent(
        ev.position, ev.center_id, ev.kind, ev.record_id, ev.op, ev.at, equipment, entry
    )


def _rows_by_key(
    conn: Connection, table: Table, keys: set[tuple[str, str]]
) -> Iterable[RowMapping]:
    if not keys:
        return []
    q = select(table).where(tuple_(table.c.center_id, table.c.id).in_(sorted(keys)))
    return list(conn.execute(q).mappings())


def _freshness(
    conn: Connection, center_ids: set[str], now: int, stale_after: int
) -> dict[str, CenterFreshness]:
    if not center_ids:
        return {}
    q = select(
        center_sync.c.center_id,
        center_sync.c.last_sync,
        center_sync.c.last_seen,
        center_sync.c.connected,
    ).where(center_sync.c.center_id.in_(sorted(center_ids)))
    out = {}
    for row in conn.execute(q):
        out[row.center_id] = CenterFreshness(
            row.center_id,
            row.last_sync,
            row.last_seen,
            bool(row.connected),
            is_stale(row.last_seen, now, stale_after),
        )
    # A center deleted since its events: report it as stale, never as fresh.
    for cid in center_ids - out.keys():
        out[cid] = CenterFreshness(cid, None, None, False, True)
    return out


# -- center freshness events --------------------------------------------------------------------


def announce_freshness(engine: Engine, now: int, stale_after: int) -> list[tuple[str, bool]]:
    """Append a ``stale``/``fresh`` event for every center whose freshness changed since it
    was last announced; returns them as (center id, stale).

    A center never announced counts as stale (it was never seen fresh), so a new center
    produces its first event when it turns fresh. Several hub processes may call this at
    once: the conditional UPDATE lets exactly one of them announce each transition.
    """
    with read_tx(engine) as conn:
        rows = conn.execute(
            select(center_sync.c.center_id, center_sync.c.last_seen, center_feed.c.stale)
            .select_from(
                center_sync.outerjoin(
                    center_feed, center_feed.c.center_id == center_sync.c.center_id
                )
            )
            .join(centers, centers.c.id == center_sync.c.center_id)
        ).all()
    wanted = []
    for row in rows:
        stale_now = is_stale(row.last_seen, now, stale_after)
        announced = True if row.stale is None else bool(row.stale)
        if stale_now != announced:
            wanted.append((row.center_id, stale_now))
    if not wanted:
        return []
    done: list[tuple[str, bool]] = []
    with write_tx(engine) as conn:
        ins = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        for center_id, stale in sorted(wanted):
            conn.execute(
                ins(center_feed)
                .values(center_id=center_id, stale=True, changed_at=now)
                .on_conflict_do_nothing(index_elements=[center_feed.c.center_id])
            )
            result = conn.execute(
                update(center_feed)
                .where(center_feed.c.center_id == center_id, center_feed.c.stale != stale)
                .values(stale=stale, changed_at=now)
            )
            if result.rowcount:
                done.append((center_id, stale))
        append(
            conn,
            [(cid, CENTER, cid, STALE if stale else FRESH) for cid, stale in done],
            now,
        )
    return done


# -- retention ----------------------------------------------------------------------------------


def prune(engine: Engine, before: int, chunk: int = 10_000, max_chunks: int = 20) -> int:
    """Delete the oldest rows written before ``before`` (epoch seconds); the count.

    Walks from the oldest position and stops at the first younger row, so a slightly
    out-of-order ``at`` (clocks of several hubs) only delays pruning. Readers behind the
    pruned positions get :class:`FeedPositionGone` from then on.
    """
    removed = 0
    for _ in range(max_chunks):
        with write_tx(engine) as conn:
            rows = conn.execute(
                select(change_log.c.id, change_log.c.at).order_by(change_log.c.id).limit(chunk)
            ).all()
            cut = None
            for row in rows:
                if row.at >= before:
                    break
                cut = int(row.id)
            if cut is None:
                return removed
            n = conn.execute(delete(change_log).where(change_log.c.id <= cut)).rowcount
            conn.execute(
                update(feed_state)
                .where(feed_state.c.id == 1, feed_state.c.pruned_through < cut)
                .values(pruned_through=cut)
            )
            removed += n
        if cut != int(rows[-1].id) or len(rows) < chunk:
            return removed
    return removed


def positions(engine: Engine) -> list[int]:
    """Every position in the log, ascending (tests and diagnostics)."""
    with read_tx(engine) as conn:
        return [
            int(v)
            for v in conn.execute(select(change_log.c.id).order_by(change_log.c.id)).scalars()
        ]


__all__ = [
    "CENTER",
    "DELETE",
    "ENTRY",
    "EQUIPMENT",
    "FRESH",
    "MAX_PAGE",
    "STALE",
    "UPSERT",
    "CenterFreshness",
    "FeedEvent",
    "FeedHead",
    "FeedPage",
    "FeedPositionAhead",
    "FeedPositionGone",
    "announce_freshness",
    "append",
    "head",
    "positions",
    "prune",
    "read",
]

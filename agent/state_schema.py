"""The agent's state file: its tables, its format version, and how it is opened.

One SQLite database (``DIR/state.db``). It is opened in WAL mode with ``synchronous=FULL``
because a change the agent has recorded must survive ``kill -9`` and power loss until the
hub acknowledges it: WAL lets the ``status`` / ``approve-deletes`` CLI read while the agent
writes, and FULL makes every commit durable before it returns.

Format versions (stored in ``meta.format_version``):

1. records, outbox, meta, source_health.
2. inbox_items and answer_outbox: requests the hub routed to this center and the center's
   answers (``agent.inbox``); meta ``inbox.*`` counters.

A file of a newer version is refused (an older agent must not rewrite a layout it does not
know). Every version bump adds its step to ``_MIGRATIONS``; a new file is made by creating
version 1 and running every step, so new and upgraded files cannot drift apart.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from agent.errors import StateError

FORMAT_VERSION = 2

# Meta keys owned by AgentState; set_meta refuses them so a caller cannot corrupt them.
K_FORMAT = "format_version"
K_CENTER = "center_id"
K_CREATED = "created_at"
K_LAST_ASSIGNED = "last_assigned_seq"
K_LAST_ACKED = "last_acked_seq"
K_HOLDS = "held_deletes"
K_APPROVALS = "approved_deletes"
# Owned by agent.inbox.store: the last delivery seq stored and the last answer seq assigned.
K_DELIVERY_SEQ = "inbox.delivery_seq"
K_ANSWER_SEQ = "inbox.answer_seq"
RESERVED_META = frozenset(
    {
        K_FORMAT,
        K_CENTER,
        K_CREATED,
        K_LAST_ASSIGNED,
        K_LAST_ACKED,
        K_HOLDS,
        K_APPROVALS,
        K_DELIVERY_SEQ,
        K_ANSWER_SEQ,
    }
)

_SCHEMA_V1 = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- The last snapshot of every source, as published (hash over the canonical bytes).
CREATE TABLE records (
    kind INTEGER NOT NULL,
    id TEXT NOT NULL,
    source TEXT NOT NULL,
    hash BLOB NOT NULL,
    payload BLOB NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;
CREATE INDEX records_by_source ON records (source);

-- Changes the hub has not acknowledged. The primary key is the compaction: at most one
-- pending change per record (see agent/compaction.py).
CREATE TABLE outbox (
    kind INTEGER NOT NULL,
    id TEXT NOT NULL,
    seq INTEGER NOT NULL UNIQUE,
    deleted INTEGER NOT NULL CHECK (deleted IN (0, 1)),
    payload BLOB,
    PRIMARY KEY (kind, id),
    CHECK ((deleted = 1) = (payload IS NULL))
) WITHOUT ROWID;

CREATE TABLE source_health (
    name TEXT PRIMARY KEY,
    ok INTEGER NOT NULL,
    records INTEGER NOT NULL,
    problems INTEGER NOT NULL,
    first_problem TEXT NOT NULL,
    at REAL NOT NULL
) WITHOUT ROWID;
"""

_SCHEMA_V2 = """
-- Routed requests, keyed by item_id: a delivery the hub repeats finds its row and changes
-- nothing. payload is the serialized pb.WorkItem. revision counts every change the sink
-- must show (arrival, withdrawal, answer, the hub's verdict). handed_over = 1 once the sink
-- shows this revision, so a crash before the sink write is repaired at the next start.
CREATE TABLE inbox_items (
    item_id TEXT PRIMARY KEY,
    delivery_seq INTEGER NOT NULL,
    request_id TEXT NOT NULL,
    payload BLOB NOT NULL,
    received_at REAL NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('new', 'answered', 'withdrawn')),
    withdrawn_reason TEXT NOT NULL DEFAULT '',
    revision INTEGER NOT NULL DEFAULT 1,
    handed_over INTEGER NOT NULL DEFAULT 0 CHECK (handed_over IN (0, 1)),
    answer_seq INTEGER,
    answer_kind TEXT NOT NULL DEFAULT '',
    answer_start INTEGER,
    answer_end INTEGER,
    answer_reason TEXT NOT NULL DEFAULT '',
    answer_message TEXT NOT NULL DEFAULT '',
    answered_by TEXT NOT NULL DEFAULT '',
    answered_at REAL,
    hub_outcome TEXT NOT NULL DEFAULT '',
    hub_message TEXT NOT NULL DEFAULT '',
    hub_state TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX inbox_items_not_handed_over ON inbox_items (item_id) WHERE handed_over = 0;
CREATE INDEX inbox_items_by_state ON inbox_items (state, received_at);

-- The center's answers, kept until the hub's AnswerAck (and afterwards, for the record).
-- origin names where an answer came from (an answer file's name and content hash, an SQL
-- row's answer). UNIQUE makes picking the same answer up twice (a crash between queueing
-- it and moving its file) a no-op. payload is the serialized pb.ItemAnswer.
CREATE TABLE answer_outbox (
    answer_seq INTEGER PRIMARY KEY,
    item_id TEXT NOT NULL,
    payload BLOB NOT NULL,
    origin TEXT UNIQUE,
    created_at REAL NOT NULL,
    acked_at REAL,
    outcome TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX answer_outbox_unacked ON answer_outbox (answer_seq) WHERE acked_at IS NULL;
CREATE INDEX answer_outbox_by_item ON answer_outbox (item_id);
"""


def _execute_script(conn: sqlite3.Connection, script: str) -> None:
    # Statement by statement: executescript() would COMMIT the open transaction.
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _to_v2(conn: sqlite3.Connection) -> None:
    _execute_script(conn, _SCHEMA_V2)
    conn.executemany(
        "INSERT INTO meta (key, value) VALUES (?, '0') ON CONFLICT (key) DO NOTHING",
        [(K_DELIVERY_SEQ,), (K_ANSWER_SEQ,)],
    )


# from_version -> step that upgrades the schema to from_version + 1 (inside the open transaction).
_MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _to_v2}


def unusable(path: Path, exc: BaseException) -> StateError:
    """The one translation of a SQLite failure into an error that says what to do."""
    return StateError(
        f"state database {path} is unusable: {exc}. If another agent runs on this directory, "
        "stop it; if the disk is full or read-only, fix that; if the file is damaged, move it "
        "aside and restart the agent (it rebuilds the state from its sources and the hub "
        "reconciles)."
    )


def connect(path: Path, center_id: str, busy_timeout_s: float) -> sqlite3.Connection:
    """Open (creating if needed) the state file for ``center_id`` and check its format."""
    if not path.parent.is_dir():
        raise StateError(
            f"directory {path.parent} for the state database does not exist: create it or fix "
            "the agent directory in the service configuration"
        )
    try:
        # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE) so that two
        # processes wait for each other at the start instead of failing on lock upgrade.
        conn = sqlite3.connect(
            str(path), timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise unusable(path, exc) from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StateError(
                f"state database {path} cannot use write-ahead logging (journal mode {mode}); "
                "put the agent directory on a local disk, not a network share"
            )
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA cache_size = -16000")
        _prepare(conn, path, center_id)
    except sqlite3.Error as exc:
        conn.close()
        raise unusable(path, exc) from exc
    except StateError:
        conn.close()
        raise
    return conn


def _prepare(conn: sqlite3.Connection, path: Path, center_id: str) -> None:
    # A read transaction first, so that opening an existing file (the status CLI) does not
    # wait for a running agent's write; the write lock only to create or upgrade.
    for lock in ("BEGIN", "BEGIN IMMEDIATE"):
        conn.execute(lock)
        try:
            needs_write = _check_or_create(conn, path, center_id, may_write=lock != "BEGIN")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if not needs_write:
            return


def _check_or_create(conn: sqlite3.Connection, path: Path, center_id: str, may_write: bool) -> bool:
    """Check the file; returns True when it needs writing and ``may_write`` is False."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        if may_write:
            _create(conn, center_id)
        return not may_write
    if "meta" not in tables:
        raise StateError(
            f"{path} is a SQLite database but not an agent state file: point the agent at "
            "its own directory or move the file aside"
        )
    return _check(conn, path, center_id, may_write)


def _create(conn: sqlite3.Connection, center_id: str) -> None:
    _execute_script(conn, _SCHEMA_V1)
    for version in range(1, FORMAT_VERSION):
        _MIGRATIONS[version](conn)
    conn.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?)",
        [
            (K_FORMAT, str(FORMAT_VERSION)),
            (K_CENTER, center_id),
            (K_CREATED, repr(time.time())),
            (K_LAST_ASSIGNED, "0"),
            (K_LAST_ACKED, "0"),
        ],
    )


def _check(conn: sqlite3.Connection, path: Path, center_id: str, may_write: bool) -> bool:
    meta = dict(
        conn.execute("SELECT key, value FROM meta WHERE key IN (?, ?)", (K_FORMAT, K_CENTER))
    )
    raw = meta.get(K_FORMAT)
    if raw is None or not raw.isdigit():
        raise StateError(
            f"state database {path} has no valid format version ({raw!r}): move it aside and "
            "restart the agent to rebuild it"
        )
    version = int(raw)
    if version > FORMAT_VERSION:
        raise StateError(
            f"state database {path} has format version {version}, written by a newer agent "
            f"(this one reads up to {FORMAT_VERSION}): install that agent version again, or "
            "move the file aside to rebuild the state"
        )
    stored = meta.get(K_CENTER)
    if stored != center_id:
        raise StateError(
            f"state database {path} belongs to center {stored!r}, but the agent is configured "
            f"as {center_id!r}: fix center_id in agent.toml, or move the file aside if the "
            "center really changed"
        )
    if version < FORMAT_VERSION and not may_write:
        return True
    while version < FORMAT_VERSION:
        step = _MIGRATIONS.get(version)
        if step is None:
            raise StateError(
                f"state database {path} has format version {version}, which this agent cannot "
                "upgrade: move it aside and restart the agent to rebuild it"
            )
        step(conn)
        version += 1
        conn.execute("UPDATE meta SET value = ? WHERE key = ?", (str(version), K_FORMAT))
    return False

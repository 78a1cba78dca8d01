"""AgentState: the agent's durable records, compacted outbox and safety valve.

Everything the agent knows that the hub may not lives here, in one SQLite file (see
``agent.state_schema`` for the tables and why WAL + ``synchronous=FULL``). Each public method
is one transaction, so a ``kill -9`` at any instant leaves either all of a snapshot applied
(records *and* its outbox changes) or none of it.

The outbox holds at most one pending change per record; a newer change replaces the pending
one with a fresh seq (the rule and why it loses nothing: ``agent.compaction``).

Safety valve. A snapshot is *held* (nothing of it applied, the hold recorded) when

    deletions > max_delete_share * total

where ``deletions`` is what this snapshot would delete and ``total`` is the number of
records of the whole center (every source) before it. A snapshot deleting nothing is never
held, so a first snapshot never is; deleting the only record of a one-record center is a
share of 1.0 and is held. ``max_delete_share = 1.0`` switches the valve off. An operator's
``approve_deletes()`` lets the held source's next snapshot through if it deletes no more
than the hold reported; a snapshot within the limit clears the hold by itself.

All methods are blocking and thread-safe (one connection behind a lock); other processes
(the CLI) may use the same file concurrently and wait up to ``busy_timeout_s``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from agent import state_schema as sch
from agent.diff import diff
from agent.errors import StateError
from proto import pb, records
from proto.records import Key, Record

if TYPE_CHECKING:
    from iplatform.v1.message_pb2 import Change

_KIND_NAMES = {int(pb.RECORD_KIND_EQUIPMENT): "equipment", int(pb.RECORD_KIND_ENTRY): "entry"}

# (kind, id, deleted, payload or None): one change to write into the outbox.
_OutRow = tuple[int, str, int, bytes | None]


@dataclass(frozen=True)
class SnapshotResult:
    upserts: int
    """Records added or changed (0 when held)."""
    deletes: int
    """Records deleted (0 when held)."""
    unchanged: int
    held: bool
    """The safety valve held the whole snapshot back; nothing of it was applied."""
    held_deletes: int
    """Deletions waiting for approval (0 unless held)."""
    conflicts: list[str]
    """Records ignored because another source already provides them, or given twice."""


@dataclass(frozen=True)
class HeldInfo:
    source: str
    deletes: int
    """Deletions the held snapshot would make (the latest held snapshot)."""
    total: int
    """Records of the center when it was held."""
    at: float
    """Epoch seconds when the source was first held."""


class SourceHealthRow(TypedDict):
    name: str
    ok: bool
    records: int
    problems: int
    first_problem: str
    at: float


class AgentState:
    def __init__(self, path: Path, center_id: str, *, busy_timeout_s: float = 10.0) -> None:
        self.path = path
        self.center_id = center_id
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = sch.connect(path, center_id, busy_timeout_s)

    # -- plumbing ---------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> AgentState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self, immediate: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction; IMMEDIATE takes the write lock up front (waiting for the CLI)."""
        with self._lock:
            if self._conn is None:
                raise StateError(f"state database {self.path} is closed; open it again")
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
                yield conn
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise sch.unusable(self.path, exc) from exc
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def transaction(self, immediate: bool = True) -> AbstractContextManager[sqlite3.Connection]:
        """One transaction for a module owning other tables of this file (``agent.inbox``)."""
        return self._tx(immediate)

    def _read(self) -> AbstractContextManager[sqlite3.Connection]:
        # A deferred transaction: several statements see one snapshot, without the write lock.
        return self._tx(immediate=False)

    @staticmethod
    def _meta_int(conn: sqlite3.Connection, key: str) -> int:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    @staticmethod
    def _meta_json(conn: sqlite3.Connection, key: str) -> dict[str, dict[str, float]]:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return dict(json.loads(row[0])) if row else {}

    @staticmethod
    def _put_meta(conn: sqlite3.Connection, items: Mapping[str, str]) -> None:
        conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            list(items.items()),
        )

    def _enqueue(self, conn: sqlite3.Connection, rows: Sequence[_OutRow]) -> None:
        """Write changes with fresh seqs; a pending change of the same key is replaced."""
        if not rows:
            return
        base = self._meta_int(conn, sch.K_LAST_ASSIGNED)
        conn.executemany(
            "INSERT INTO outbox (kind, id, seq, deleted, payload) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (kind, id) DO UPDATE SET "
            "seq = excluded.seq, deleted = excluded.deleted, payload = excluded.payload",
            [(k, i, base + n, d, p) for n, (k, i, d, p) in enumerate(rows, start=1)],
        )
        self._put_meta(conn, {sch.K_LAST_ASSIGNED: str(base + len(rows))})

    # -- snapshots and the safety valve -----------------------------------------------

    def apply_snapshot(
        self,
        source: str,
        snapshot: Sequence[Record],
        *,
        max_delete_share: float,
        approved: bool = False,
    ) -> SnapshotResult:
        """Make ``source``'s records equal ``snapshot`` and queue the changes, or hold it."""
        if not 0.0 <= max_delete_share <= 1.0:
            raise ValueError(f"max_delete_share must be within 0..1, not {max_delete_share}")
        conflicts: list[str] = []
        new: dict[Key, tuple[bytes, bytes]] = {}
        for record in snapshot:
            key = records.key_of(record)
            if key in new:
                conflicts.append(
                    f"{_name(key)} appears twice in source {source!r}; the last one is kept"
                )
            new[key] = (records.record_hash(record), records.canonical_bytes(record))
        with self._tx() as conn:
            mine: dict[Key, bytes] = {}
            total = 0
            for kind, rid, owner, h in conn.execute("SELECT kind, id, source, hash FROM records"):
                total += 1
                key = (kind, rid)
                if owner == source:
                    mine[key] = h
                elif key in new:
                    del new[key]
                    conflicts.append(
                        f"{_name(key)} from source {source!r} is already provided by source "
                        f"{owner!r} and was ignored: give each record to one source only"
                    )
            d = diff(mine, new)
            holds = self._meta_json(conn, sch.K_HOLDS)
            approvals = self._meta_json(conn, sch.K_APPROVALS)
            n_del = len(d.deletes)
            allowed = approved or n_del <= approvals.get(source, {}).get("deletes", -1)
            if n_del > max_delete_share * total and not allowed:
                first = holds.get(source, {}).get("at", time.time())
                holds[source] = {"deletes": n_del, "total": total, "at": first}
                approvals.pop(source, None)
                self._put_meta(
                    conn, {sch.K_HOLDS: json.dumps(holds), sch.K_APPROVALS: json.dumps(approvals)}
                )
                return SnapshotResult(0, 0, d.unchanged, True, n_del, conflicts)
            if source in holds or source in approvals:
                holds.pop(source, None)
                approvals.pop(source, None)
                self._put_meta(
                    conn, {sch.K_HOLDS: json.dumps(holds), sch.K_APPROVALS: json.dumps(approvals)}
                )
            conn.executemany(
                "INSERT INTO records (kind, id, source, hash, payload) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (kind, id) DO UPDATE SET "
                "source = excluded.source, hash = excluded.hash, payload = excluded.payload",
                [(u.key[0], u.key[1], source, u.hash, u.value) for u in d.upserts],
            )
            conn.executemany("DELETE FROM records WHERE kind = ? AND id = ?", d.deletes)
            # Deletions last and in reverse key order, so that within one snapshot entries are
            # deleted before equipment they may refer to (best effort: compaction reorders
            # across snapshots, so the hub must not rely on it).
            out: list[_OutRow] = [(u.key[0], u.key[1], 0, u.value) for u in d.upserts]
            out += [(k, i, 1, None) for k, i in reversed(d.deletes)]
            self._enqueue(conn, out)
        return SnapshotResult(len(d.upserts), n_del, d.unchanged, False, 0, conflicts)

    def holds(self) -> list[HeldInfo]:
        """Every source currently held by the safety valve, most recent first."""
        with self._read() as conn:
            raw = self._meta_json(conn, sch.K_HOLDS)
        infos = [
            HeldInfo(s, int(v["deletes"]), int(v["total"]), float(v["at"])) for s, v in raw.items()
        ]
        return sorted(infos, key=lambda h: (-h.at, h.source))

    def held(self) -> HeldInfo | None:
        holds = self.holds()
        return holds[0] if holds else None

    def approve_deletes(self, source: str | None = None) -> list[HeldInfo]:
        """Let the next snapshot of each held source (or only ``source``) through.

        Returns the holds approved (empty: nothing was held). The approval covers as many
        deletions as the hold reported; a next snapshot deleting more is held again.
        """
        with self._tx() as conn:
            holds = self._meta_json(conn, sch.K_HOLDS)
            approvals = self._meta_json(conn, sch.K_APPROVALS)
            done = []
            for name, info in holds.items():
                if source is None or name == source:
                    approvals[name] = {"deletes": info["deletes"], "at": time.time()}
                    done.append(
                        HeldInfo(name, int(info["deletes"]), int(info["total"]), float(info["at"]))
                    )
            self._put_meta(conn, {sch.K_APPROVALS: json.dumps(approvals)})
        return done

    # -- the outbox -------------------------------------------------------------------

    def pending(self, after_seq: int, limit: int) -> list[Change]:
        """Up to ``limit`` pending changes with seq > ``after_seq``, in seq order."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT kind, id, seq, deleted, payload FROM outbox "
                "WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit),
            ).fetchall()
        return [self._change(*row) for row in rows]

    def _change(self, kind: int, rid: str, seq: int, deleted: int, payload: bytes | None) -> Change:
        key = pb.RecordKey(kind=kind, id=rid)
        change: Change
        if deleted:
            change = pb.Change(key=key, seq=seq, center_id=self.center_id, deleted=True)
        elif kind == pb.RECORD_KIND_EQUIPMENT:
            change = pb.Change(
                key=key,
                seq=seq,
                center_id=self.center_id,
                equipment=pb.Equipment.FromString(payload),
            )
        else:
            change = pb.Change(
                key=key,
                seq=seq,
                center_id=self.center_id,
                entry=pb.CalendarEntry.FromString(payload),
            )
        return change

    def ack(self, hwm: int) -> int:
        """The hub committed everything up to ``hwm``: drop those changes; returns how many.

        A ``hwm`` above every seq this state assigned cannot acknowledge our changes: the
        hub remembers a previous life of this center (state file lost). Then nothing is
        dropped and the pending changes are renumbered above it (see ``ensure_seq_above``).
        """
        with self._tx() as conn:
            if hwm > self._meta_int(conn, sch.K_LAST_ASSIGNED):
                self._renumber_above(conn, hwm)
                removed = 0
            else:
                removed = conn.execute("DELETE FROM outbox WHERE seq <= ?", (hwm,)).rowcount
            acked = max(self._meta_int(conn, sch.K_LAST_ACKED), hwm)
            self._put_meta(conn, {sch.K_LAST_ACKED: str(acked)})
        return removed

    def ensure_seq_above(self, seq: int) -> int:
        """Make the next seq, and every pending one, exceed ``seq`` (keeping their order).

        For a hub that has committed seqs this state never assigned: it would take our
        changes numbered at or below them for replays. Returns how many were renumbered.
        """
        with self._tx() as conn:
            return self._renumber_above(conn, seq)

    def _renumber_above(self, conn: sqlite3.Connection, seq: int) -> int:
        last = self._meta_int(conn, sch.K_LAST_ASSIGNED)
        base = max(last, seq)
        low = conn.execute("SELECT count(*) FROM outbox WHERE seq <= ?", (seq,)).fetchone()[0]
        rows: list[tuple[int, str]] = []
        if low:
            # All of them, not only the low ones: renumbering only those would move them
            # after newer changes of other records. New seqs > base cannot collide.
            rows = conn.execute("SELECT kind, id FROM outbox ORDER BY seq").fetchall()
            conn.executemany(
                "UPDATE outbox SET seq = ? WHERE kind = ? AND id = ?",
                [(base + n, k, i) for n, (k, i) in enumerate(rows, start=1)],
            )
        if base + len(rows) != last:
            self._put_meta(conn, {sch.K_LAST_ASSIGNED: str(base + len(rows))})
        return len(rows)

    def backlog(self) -> int:
        with self._read() as conn:
            return int(conn.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def last_acked_seq(self) -> int:
        with self._read() as conn:
            return self._meta_int(conn, sch.K_LAST_ACKED)

    def last_assigned_seq(self) -> int:
        with self._read() as conn:
            return self._meta_int(conn, sch.K_LAST_ASSIGNED)

    # -- reconciliation ---------------------------------------------------------------

    def digest_items(self) -> list[tuple[Key, bytes]]:
        with self._read() as conn:
            return [((k, i), h) for k, i, h in conn.execute("SELECT kind, id, hash FROM records")]

    def bucket_digests(self, bucket_count: int) -> list[bytes]:
        return records.bucket_digests(self.digest_items(), bucket_count)

    def digests_as_of(self, bucket_count: int) -> tuple[int, list[bytes]]:
        """(last assigned seq, bucket digests) read together, for ``ReconcileDigest.as_of_seq``."""
        with self._read() as conn:
            seq = self._meta_int(conn, sch.K_LAST_ASSIGNED)
            items = [((k, i), h) for k, i, h in conn.execute("SELECT kind, id, hash FROM records")]
        return seq, records.bucket_digests(items, bucket_count)

    def queue_repair(
        self, hub_buckets: Mapping[int, Sequence[tuple[Key, bytes]]], bucket_count: int
    ) -> tuple[int, int]:
        """Queue what makes the hub's listed buckets equal ours; returns (upserts, deletes).

        Compared against our records as they are now, so whatever changed since the digest
        the queued changes are the current truth and safe to send.
        """
        bad = [b for b in hub_buckets if not 0 <= b < bucket_count]
        if bad:
            raise ValueError(f"bucket indexes {bad[:5]} are outside 0..{bucket_count - 1}")
        with self._tx() as conn:
            ours: dict[Key, bytes] = {}
            for k, i, h in conn.execute("SELECT kind, id, hash FROM records"):
                if records.bucket_of((k, i), bucket_count) in hub_buckets:
                    ours[(k, i)] = h
            theirs = {key: h[: records.HASH_BYTES] for b in hub_buckets.values() for key, h in b}
            up_keys = sorted(k for k, h in ours.items() if theirs.get(k) != h)
            del_keys = sorted((k for k in theirs if k not in ours), reverse=True)
            out: list[_OutRow] = []
            for k, i in up_keys:
                payload = conn.execute(
                    "SELECT payload FROM records WHERE kind = ? AND id = ?", (k, i)
                ).fetchone()[0]
                out.append((k, i, 0, payload))
            out += [(k, i, 1, None) for k, i in del_keys]
            self._enqueue(conn, out)
        return len(up_keys), len(del_keys)

    def requeue_all(self) -> int:
        """Queue every record (the hub lost this center's data); returns how many."""
        with self._tx() as conn:
            out: list[_OutRow] = [
                (k, i, 0, p)
                for k, i, p in conn.execute(
                    "SELECT kind, id, payload FROM records ORDER BY kind, id"
                )
            ]
            self._enqueue(conn, out)
        return len(out)

    # -- records, meta and source health ----------------------------------------------

    def record_count(self) -> int:
        with self._read() as conn:
            return int(conn.execute("SELECT count(*) FROM records").fetchone()[0])

    def load_records(self) -> dict[Key, Record]:
        """Every record, decoded (for status and tests; the sync path never needs it)."""
        with self._read() as conn:
            rows = conn.execute("SELECT kind, id, payload FROM records").fetchall()
        return {(k, i): _decode(k, p) for k, i, p in rows}

    def get_meta(self, key: str) -> str | None:
        with self._read() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.set_meta_many({key: value})

    def set_meta_many(self, items: Mapping[str, str]) -> None:
        reserved = sorted(set(items) & sch.RESERVED_META)
        if reserved:
            raise ValueError(f"meta keys {reserved} are managed by AgentState; use its methods")
        with self._tx() as conn:
            self._put_meta(conn, items)

    def set_source_health(
        self, name: str, *, ok: bool, records: int, problems: int, first_problem: str, at: float
    ) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO source_health (name, ok, records, problems, first_problem, at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET ok = excluded.ok, "
                "records = excluded.records, problems = excluded.problems, "
                "first_problem = excluded.first_problem, at = excluded.at",
                (name, int(ok), records, problems, first_problem, at),
            )

    def source_health(self) -> list[SourceHealthRow]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT name, ok, records, problems, first_problem, at "
                "FROM source_health ORDER BY name"
            ).fetchall()
        return [
            SourceHealthRow(name=n, ok=bool(o), records=r, problems=p, first_problem=f, at=a)
            for n, o, r, p, f, a in rows
        ]


def _name(key: Key) -> str:
    return f"{_KIND_NAMES.get(key[0], f'kind-{key[0]}')} {key[1]!r}"


def _decode(kind: int, payload: bytes) -> Record:
    record: Record
    if kind == pb.RECORD_KIND_EQUIPMENT:
        record = pb.Equipment.FromString(payload)
    else:
        record = pb.CalendarEntry.FromString(payload)
    return record

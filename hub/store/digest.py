"""Reconciliation digests and bucket contents, rebuilt from the stored columns.

Hashes are not stored: each record is rebuilt as a proto from its columns
(``convert``) and hashed like the agent hashes its own copy, so a row edited or
deleted directly in the database changes the digest and reconciliation repairs it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from iplatform.v1 import enums_pb2 as e
from sqlalchemy import Connection, Engine, select

from hub.store import convert
from hub.store.centers import require
from hub.store.engine import read_tx
from hub.store.schema import entries, equipment
from proto import records
from proto.records import Key

_EQUIPMENT_COLUMNS = [
    c for c in equipment.c if c.name not in ("center_id", "version", "updated_at")
]
_ENTRY_COLUMNS = [c for c in entries.c if c.name not in ("center_id", "version", "updated_at")]
# Rows fetched per round trip while streaming a large center.
_FETCH = 2000


def _hashes(conn: Connection, center_id: str) -> Iterator[tuple[Key, bytes]]:
    rows = conn.execution_options(yield_per=_FETCH).execute(
        select(*_EQUIPMENT_COLUMNS).where(equipment.c.center_id == center_id)
    )
    for row in rows.mappings():
        yield (
            (e.RECORD_KIND_EQUIPMENT, row["id"]),
            records.record_hash(convert.equipment_from_row(row)),
        )
    rows = conn.execution_options(yield_per=_FETCH).execute(
        select(*_ENTRY_COLUMNS).where(entries.c.center_id == center_id)
    )
    for row in rows.mappings():
        yield (e.RECORD_KIND_ENTRY, row["id"]), records.record_hash(convert.entry_from_row(row))


def _check_count(bucket_count: int) -> None:
    if bucket_count < 1:
        raise ValueError(f"bucket_count must be at least 1 (got {bucket_count})")


def bucket_digests(engine: Engine, center_id: str, bucket_count: int) -> list[bytes]:
    _check_count(bucket_count)
    with read_tx(engine) as conn:
        require(conn, center_id)
        return records.bucket_digests(_hashes(conn, center_id), bucket_count)


def bucket_contents(
    engine: Engine, center_id: str, bucket_count: int, buckets: Iterable[int]
) -> dict[int, list[tuple[Key, bytes]]]:
    """The hub's (key, hash) pairs, in key order, of each requested bucket (empty
    buckets included, so the agent knows the hub holds nothing there)."""
    _check_count(bucket_count)
    wanted = sorted(set(buckets))
    bad = [b for b in wanted if not 0 <= b < bucket_count]
    if bad:
        raise ValueError(f"bucket indexes {bad[:5]} are outside 0..{bucket_count - 1}")
    out: dict[int, list[tuple[Key, bytes]]] = {b: [] for b in wanted}
    if not wanted:
        return out
    with read_tx(engine) as conn:
        require(conn, center_id)
        for key, h in _hashes(conn, center_id):
            content = out.get(records.bucket_of(key, bucket_count))
            if content is not None:
                content.append((key, h))
    for content in out.values():
        content.sort()
    return out

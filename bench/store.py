"""The store's raw bulk upsert rate: the same rows straight into the same tables.

No gRPC, no agent, no validation, no conversion in the timed part: every batch is first
prepared by the store itself (``Store.prepare_batch``: rows and the live feed's change-log
rows, exactly as the hub builds them), then written with the store's own statements
(``hub.store.apply.upsert_rows`` and ``hub.store.changelog.append``: what
``apply_prepared`` runs, minus reading and raising the center's high-water mark), one
transaction per batch of the size the agents send, the centers' batches interleaved as
they arrive at the hub. Into a fresh database of the same kind, with the store's engine
settings (SQLite pragmas included).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from agent.sources import fields
from bench.hubproc import center_info
from bench.workload import CenterData
from hub.store import Store, apply, changelog
from hub.store import engine as store_engine
from hub.store.schema import entries, equipment
from proto import pb

_SEOUL = ZoneInfo("Asia/Seoul")
_TABLES = {pb.RECORD_KIND_EQUIPMENT: equipment, pb.RECORD_KIND_ENTRY: entries}


@dataclass
class RawResult:
    rows: int
    batches: int
    seconds: float
    writers: int = 1

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


def _changes(data: CenterData) -> list[Any]:
    """The center's changes in outbox (seq) order, as its agent sends them."""
    out: list[Any] = []
    for row in data.equipment_rows():
        eq, problems = fields.build_equipment(row)
        assert not problems, problems
        key = pb.RecordKey(kind=pb.RECORD_KIND_EQUIPMENT, id=eq.id)
        out.append(pb.Change(key=key, seq=len(out) + 1, center_id=data.center_id, equipment=eq))
    for row in data.calendar_rows():
        en, problems = fields.build_entry(row, _SEOUL)
        assert not problems, problems
        key = pb.RecordKey(kind=pb.RECORD_KIND_ENTRY, id=en.id)
        out.append(pb.Change(key=key, seq=len(out) + 1, center_id=data.center_id, entry=en))
    return out


def _batches(store: Store, datas: list[CenterData], batch: int, now: int) -> list[Any]:
    per_center = []
    for data in datas:
        changes = _changes(data)
        per_center.append(
            [
                store.prepare_batch(data.center_id, changes[i : i + batch], now)
                for i in range(0, len(changes), batch)
            ]
        )
    # Round-robin over centers: the order batches reach the hub when all sync at once.
    out = []
    for i in range(max(len(c) for c in per_center)):
        out += [chunks[i] for chunks in per_center if i < len(chunks)]
    return out


def run(db_url: str, datas: list[CenterData], batch: int, writers: int = 1) -> RawResult:
    """Write every batch; ``writers`` transactions at a time, as many as the hub runs.

    The hub serializes SQLite writes (one writer) and runs up to ``[server] store_threads``
    PostgreSQL transactions at once, so the caller passes 1 or that number.
    """
    now = int(time.time())
    with Store.open(db_url) as store:
        for data in datas:
            store.add_center(center_info(data.center_id))
        batches = _batches(store, datas, batch, now)
    sa = store_engine.create(store_engine.parse_url(db_url))

    def write(prepared: Any) -> None:
        with store_engine.write_tx(sa) as conn:
            for kind, rows in prepared.plan.upserts.items():
                apply.upsert_rows(conn, _TABLES[kind], rows)
            changelog.append(conn, prepared.plan.feed, now)

    try:
        with ThreadPoolExecutor(max_workers=writers, thread_name_prefix="raw") as pool:
            start = time.perf_counter()
            for _ in pool.map(write, batches):
                pass
            seconds = time.perf_counter() - start
        with sa.connect() as conn:
            stored = sum(
                conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (equipment, entries)
            )
    finally:
        sa.dispose()
    expected = sum(d.records for d in datas)
    if stored != expected:
        raise RuntimeError(f"raw upsert stored {stored} rows, expected {expected}")
    return RawResult(rows=expected, batches=len(batches), seconds=seconds, writers=writers)

"""Per-center ordering under concurrent appliers.

Two workers submit the same ordered batches of one center at the same time, like a
reconnecting agent whose old stream is still draining, or two hub processes sharing
one PostgreSQL. Each batch must be applied exactly once, the high-water mark never
goes back, and the final content is the last write of every record.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from hub.store import ApplyResult, Store
from proto import pb
from tests.hub.test_store_builders import CENTER, T0, center, equipment, gone, opened, up

BATCHES = 25
PER_BATCH = 40
KEYS = [f"eq-{i:03d}" for i in range(60)]


def make_batches() -> list[tuple[int, list[Any]]]:
    rnd = random.Random(7)
    out = []
    seq = 0
    for _ in range(BATCHES):
        prev = seq
        changes = []
        for key in rnd.sample(KEYS, PER_BATCH):
            seq += 1
            if rnd.random() < 0.25:
                changes.append(gone(seq, pb.RECORD_KIND_EQUIPMENT, key))
            else:
                changes.append(up(seq, equipment(key, name_en=f"v{seq}")))
        out.append((prev, changes))
    return out


def expected_state(batches: list[tuple[int, list[Any]]]) -> dict[str, str]:
    state: dict[str, str] = {}
    for _, changes in batches:
        for ch in changes:
            if ch.WhichOneof("body") == "deleted":
                state.pop(ch.key.id, None)
            else:
                state[ch.key.id] = ch.equipment.name_en
    return state


def run_workers(stores: list[Store], batches: list[tuple[int, list[Any]]]) -> list[ApplyResult]:
    start = threading.Barrier(len(stores))

    def worker(store: Store) -> list[ApplyResult]:
        start.wait(timeout=30)
        results = []
        for prev, changes in batches:
            results.append(store.apply_batch(CENTER, prev, changes, T0))
        return results

    with ThreadPoolExecutor(max_workers=len(stores)) as pool:
        futures = [pool.submit(worker, s) for s in stores]
        per_worker = [f.result(timeout=100) for f in futures]
    for results in per_worker:
        # A worker's own previous call committed up to its batch, so it is never
        # asked to rewind, and the hwm it sees never goes back.
        assert not any(r.rewind for r in results)
        hwms = [r.hwm for r in results]
        assert hwms == sorted(hwms)
    return [r for results in per_worker for r in results]


def check(store: Store, results: list[ApplyResult], batches: list[tuple[int, list[Any]]]) -> None:
    total = BATCHES * PER_BATCH
    # Every change applied exactly once, and replayed exactly once by the other worker.
    assert sum(r.applied for r in results) == total
    assert sum(r.duplicates for r in results) == total
    assert store.sync_state(CENTER).hwm == total
    (snap,) = store.national_view(T0, 60, center_ids=[CENTER])
    got = {e.equipment.id: e.equipment.name_en for e in snap.equipment}
    assert got == expected_state(batches)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = opened(db_url, center())
    yield s
    s.close()


def test_two_threads_on_one_store_keep_per_center_order(store: Store) -> None:
    batches = make_batches()
    results = run_workers([store, store], batches)
    check(store, results, batches)


def test_two_stores_on_one_database_keep_per_center_order(store: Store, db_url: str) -> None:
    # A second engine: on PostgreSQL this is what a second hub process looks like.
    second = Store.open(db_url)
    try:
        batches = make_batches()
        results = run_workers([store, second], batches)
        check(second, results, batches)
    finally:
        second.close()

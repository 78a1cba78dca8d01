"""Feed positions on PostgreSQL while applies of several centers run concurrently.

A reader following the log with ``id > last seen`` must never see a position before a
smaller one becomes visible: it would skip that change forever. With a plain sequence
this happens whenever the transaction that drew the smaller id commits later. The
change log allocates ids under the feed_state row lock at the end of the apply instead
(hub.store.changelog); here six writers apply small batches for six centers at once
while a reader polls, and every page the reader gets must continue exactly where the
last one ended, without a gap, until it has seen every change.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from hub.store import Store
from tests.helpers.portal import T0, Seeder, equipment

pytestmark = pytest.mark.postgres

CENTERS = [f"KR-MR-{i:04d}" for i in range(1, 7)]
BATCHES = 40
PER_BATCH = 5


@pytest.fixture
def store(pg_url: str) -> Iterator[Store]:
    s = Store.open(pg_url)
    seeder = Seeder(s)
    for c in CENTERS:
        seeder.add_center(c)
    yield s
    s.close()


def _writer(store: Store, center_id: str, start: threading.Barrier) -> int:
    seeder = Seeder(store)
    start.wait(timeout=30)
    for b in range(BATCHES):
        records = [
            equipment(f"EQ-{b:03d}-{i}", name_en=f"{center_id} {b}") for i in range(PER_BATCH)
        ]
        seeder.apply(center_id, *records, now=T0 + b)
    return BATCHES * PER_BATCH


def test_concurrent_applies_never_show_a_reader_a_gap(store: Store) -> None:
    total = len(CENTERS) * BATCHES * PER_BATCH
    start = threading.Barrier(len(CENTERS))
    seen: list[int] = []
    gaps: list[tuple[int, int]] = []
    position = 0
    with ThreadPoolExecutor(len(CENTERS)) as pool:
        futures = [pool.submit(_writer, store, c, start) for c in CENTERS]
        polls = 0
        while position < total:
            # Asked before the read: a writer finishing between an empty read and this
            # check would otherwise end the loop with its last commit unread.
            finished = all(f.done() for f in futures)
            page = store.read_feed(position, 1000, T0, 30)
            polls += 1
            for ev in page.events:
                if ev.position != position + 1:
                    gaps.append((position, ev.position))
                seen.append(ev.position)
                position = ev.position
            if finished and not page.events and position < total:
                break  # every writer finished and nothing more arrives: the gaps say why
        assert sum(f.result() for f in futures) == total
    assert gaps == [], f"reader saw positions jump (last seen, next): {gaps[:5]}"
    assert seen == list(range(1, total + 1))
    # The reader really ran alongside the writers (not once at the end).
    assert polls > 3

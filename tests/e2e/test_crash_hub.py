"""``kill -9`` of the hub in the middle of a large initial sync loses nothing
(DESIGN.md 5.4 durability, 5.5 resume, 5.2 idempotent apply).

Two centers push 5,000 records each in small batches; the hub is SIGKILLed at a seeded
random point once batches are flowing, restarted on the same data dir and port, and the
hub's copy must then equal both centers' CSVs entry by entry.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.helpers.agentenv import FAST_SYNC, make_agent_dir
from tests.helpers.e2e import (
    Procs,
    agent_meta,
    hub_db,
    make_sources,
    repairs,
    rng_for,
    wait_converged,
)
from tests.helpers.hubenv import init_hub
from tests.helpers.wait import eventually

CENTERS = ("KR-MR-0001", "KR-BI-0001")
EQUIPMENT, ENTRIES = 1000, 4000
TOTAL = EQUIPMENT + ENTRIES
# Small batches make the initial sync last long enough to be cut in the middle.
SYNC = {**FAST_SYNC, "batch_changes": 100}

pytestmark = pytest.mark.slow


def test_hub_kill_9_mid_initial_sync_loses_nothing(
    tmp_path: Path, db_url: str, procs: Procs
) -> None:
    rng = rng_for("crash_hub")
    hub = procs.hub(init_hub(tmp_path / "hub", db_url=db_url))
    agent_dirs, sources = {}, {}
    for n, center in enumerate(CENTERS):
        ad = make_agent_dir(hub, tmp_path / center, center, sync=SYNC)
        sources[center] = make_sources(rng, EQUIPMENT, ENTRIES, prefix=f"C{n}-")
        sources[center].write(ad)
        agent_dirs[center] = ad
    kill_at = rng.randrange(TOTAL // 6, TOTAL * 2 // 3)

    with hub_db(db_url) as db:
        t0 = time.monotonic()
        for ad in agent_dirs.values():
            procs.agent(ad)
        # Whichever center gets there first: the other is usually mid-sync too.
        eventually(
            lambda: max(db.hwm(c) for c in CENTERS) >= kill_at,
            timeout=60,
            interval=0.005,
            what="batches flowing",
        )
        hub.kill()
        committed = {c: db.hwm(c) for c in CENTERS}
        print(
            f"\nkill -9 of the hub at hwm {committed} (target {kill_at}), "
            f"{time.monotonic() - t0:.1f}s after start"
        )
        # The kill really landed mid-sync: some center had not been committed in full.
        assert min(committed.values()) < TOTAL, committed
        for center, ad in agent_dirs.items():
            # Acks come only after commit: no agent may believe in more than was committed.
            acked = int(agent_meta(ad).get("last_acked_seq", "0"))
            assert acked <= committed[center], (center, acked, committed[center])

        hub = procs.restart_hub(hub, kill=True)
        for center, ad in agent_dirs.items():
            wait_converged(hub.data_dir, ad, sources[center], db)
            # No gap and nothing beyond: the hub committed exactly what the agent assigned.
            assert db.hwm(center) == ad.status()["last_assigned_seq"]
        print(f"converged {time.monotonic() - t0:.1f}s after start")
    # Nothing was repaired by reconciliation: the data came through on durability alone.
    for agent in procs.agents:
        assert not repairs(agent), repairs(agent)

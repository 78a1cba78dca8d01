"""Bounded backlog (DESIGN.md 5.6): 10,000 changes to 100 records while the hub is down
leave at most 100 outbox entries, and after the hub is back the catch-up is those 100
changes, not 10,000, and the hub equals the final sources.

The changes are made the way a center makes them: 100 saves of the CSVs, each picked up
by the running agent's file watcher (so the test takes ~10 s of polls). Compaction lives
in the agent's state; the hub's store only sees the 100-change catch-up, which the other
e2e tests exercise on both databases, so this one runs on the default SQLite hub only.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

import pytest

from proto import timeconv
from tests.helpers.agentenv import FAST_SYNC, AgentDir, make_agent_dir
from tests.helpers.e2e import (
    BASE_EPOCH,
    Procs,
    Sources,
    agent_meta,
    hub_db,
    sent_changes,
    wait_converged,
)
from tests.helpers.hubenv import init_hub
from tests.helpers.wait import eventually

CENTER = "KR-MT-0001"
EQUIPMENT, ENTRIES = 70, 30
ROUNDS = 100  # x 100 records = 10,000 changes

pytestmark = pytest.mark.slow


def _version(r: int) -> Sources:
    """Round ``r`` of the sources: every one of the 100 records differs from round r-1."""
    src = Sources()
    for i in range(EQUIPMENT):
        eq_id = f"EQ-{i:03d}"
        src.equipment[eq_id] = {
            "id": eq_id,
            "name_ko": f"장비 {i} 판 {r}",
            "name_en": f"Equipment {i} rev {r}",
            "category": "battery-cycler",
            "status": ("available", "limited", "maintenance")[(i + r) % 3],
        }
    for i in range(ENTRIES):
        start = BASE_EPOCH + (r * ENTRIES + i) * 3600
        src.entries[f"BK-{i:03d}"] = {
            "id": f"BK-{i:03d}",
            "equipment_id": f"EQ-{i % EQUIPMENT:03d}",
            "start": timeconv.iso(start),
            "end": timeconv.iso(start + 7200),
            "kind": "booked",
        }
    return src


def _assigned(ad: AgentDir) -> int:
    return int(agent_meta(ad).get("last_assigned_seq", "0"))


def _assigned_at_least(ad: AgentDir, seq: int) -> bool:
    return _assigned(ad) >= seq


def test_offline_changes_are_compacted_and_drain_in_one_catch_up(
    tmp_path: Path, procs: Procs
) -> None:
    hub = procs.hub(init_hub(tmp_path / "hub"))
    ad = make_agent_dir(hub, tmp_path / "agent", CENTER, sync=FAST_SYNC)
    src = _version(0)
    src.write(ad)
    agent = procs.agent(ad)
    with hub_db(hub.config.database_url) as db:
        wait_converged(hub.data_dir, ad, src, db)
        hub.kill()
        eventually(lambda: ad.status()["connection"] == "backoff", timeout=15)

        before = _assigned(ad)
        t0 = time.monotonic()
        for r in range(1, ROUNDS + 1):
            src = _version(r)
            src.write(ad)
            # Each save is one poll (file notification) assigning 100 fresh seqs.
            target = before + r * (EQUIPMENT + ENTRIES)
            eventually(
                functools.partial(_assigned_at_least, ad, target), timeout=15, interval=0.005
            )
        offline = ad.status()
        print(
            f"\n{offline['last_assigned_seq'] - before} changes in {time.monotonic() - t0:.1f}s "
            f"offline; backlog {offline['backlog']}"
        )
        assert offline["last_assigned_seq"] - before == ROUNDS * (EQUIPMENT + ENTRIES)
        assert offline["backlog"] <= EQUIPMENT + ENTRIES
        assert offline["running"] and offline["connection"] == "backoff"

        sent_before = sent_changes(agent)
        hub = procs.hub(hub.data_dir, hub.address)
        wait_converged(hub.data_dir, ad, src, db)
        # The catch-up carried one change per record, numbered at their latest seqs.
        assert sent_changes(agent) - sent_before == offline["backlog"]
        assert db.hwm(CENTER) == offline["last_assigned_seq"]

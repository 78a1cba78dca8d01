"""``kill -9`` of the agent while it is sending batches loses nothing, and each restart
resumes from the hub's committed high-water mark (DESIGN.md 5.4 durability, 5.5 resume).

The agent pushes 6,000 records in small batches through a byte-counting proxy and is
SIGKILLed twice at seeded random points while batches are in flight. Every new life must
start sending right after the hub's committed hwm: no change at or below it goes out
again, the hub reports no replays, and the bytes of the last life match what was left.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

from tests.helpers.agentenv import FAST_SYNC, AgentProcess, make_agent_dir
from tests.helpers.e2e import (
    HubDb,
    Procs,
    ack_duplicates,
    agent_meta,
    hub_db,
    make_sources,
    repairs,
    rng_for,
    route_through,
    sent_changes,
    wait_converged,
    wait_hwm,
)
from tests.helpers.hubenv import RunningHub, init_hub
from tests.helpers.wait import eventually

CENTER = "KR-EE-0001"
EQUIPMENT, ENTRIES = 1000, 5000
TOTAL = EQUIPMENT + ENTRIES
BATCH = 100
SYNC = {**FAST_SYNC, "batch_changes": BATCH}
KILLS = 2

pytestmark = pytest.mark.slow


def _hub_sessions_ended(hub: RunningHub, more_than: int) -> bool:
    """The hub has finished more than ``more_than`` Sync streams of CENTER."""
    n = 0
    for line in hub.log_text().splitlines():
        if line.startswith("{") and '"session_end"' in line:
            record = json.loads(line)
            n += record.get("event") == "session_end" and record.get("center_id") == CENTER
    return n > more_than


def _disconnected(db: HubDb) -> bool:
    sql = "SELECT connected FROM center_sync WHERE center_id = :c"
    return not db.scalar(sql, c=CENTER)


def _resumed_at(agent: AgentProcess) -> int:
    start = eventually(lambda: agent.events("session_start"), timeout=30)[0]
    return int(start["hub_hwm"])


def test_agent_kill_9_mid_batch_resumes_from_the_committed_hwm(
    tmp_path: Path, db_url: str, procs: Procs
) -> None:
    rng = rng_for("crash_agent")
    hub = procs.hub(init_hub(tmp_path / "hub", db_url=db_url))
    proxy = procs.proxy(hub.address)
    ad = make_agent_dir(hub, tmp_path / "agent", CENTER, sync=SYNC)
    route_through(ad, proxy)
    src = make_sources(rng, EQUIPMENT, ENTRIES)
    src.write(ad)

    with hub_db(db_url) as db:
        lives: list[tuple[AgentProcess, int, int]] = []  # (process, resumed at, bytes up)
        resumed_at = committed = 0
        for n in range(KILLS):
            agent = procs.agent(ad, f"life{n}.log")
            if n:
                # The Welcome carries at least what was committed when the last life died
                # (more if a batch it sent was still being applied).
                resumed_at = _resumed_at(agent)
                assert resumed_at >= committed
            # Somewhere in this life's stream of batches, never before it sent one.
            kill_at = resumed_at + rng.randrange(5 * BATCH, 20 * BATCH)
            wait_hwm(db, CENTER, kill_at)
            agent.kill()
            # The hub notices the dead stream and finishes it (with any batch it was
            # applying) ...
            eventually(functools.partial(_hub_sessions_ended, hub, more_than=n), timeout=15)
            # ... and no longer counts the center as connected (regression: the handler's
            # cleanup was cancelled along with the vanished stream, skipping both).
            eventually(functools.partial(_disconnected, db), timeout=5)
            committed = db.hwm(CENTER)
            acked = int(agent_meta(ad).get("last_acked_seq", "0"))
            assert acked <= committed < TOTAL, (acked, committed)
            lives.append((agent, resumed_at, proxy.reset().up))
            print(
                f"\nlife {n}: resumed at {resumed_at}, killed at hub hwm {committed} "
                f"(target {kill_at}), sent {sent_changes(agent)} changes"
            )

        last = procs.agent(ad, "last.log")
        resumed_at = _resumed_at(last)
        assert resumed_at >= committed
        wait_converged(hub.data_dir, ad, src, db)
        lives.append((last, resumed_at, proxy.reset().up))

    for n, (agent, resumed, _) in enumerate(lives):
        batches = agent.events("batch_sent")
        # Resume: each life's first batch follows the hub's committed hwm, and no batch
        # ever reaches back to or below it (nothing committed is sent again).
        assert batches and batches[0]["prev_seq"] == resumed, (n, batches[:1], resumed)
        assert min(b["prev_seq"] for b in batches) >= resumed, n
        assert ack_duplicates(agent) == 0, n
        assert not agent.events("rewind"), n
        assert not repairs(agent), n
    # The last life sent exactly what the hub still lacked, and its bytes say the same:
    # its upstream traffic is the remaining share of the whole (first life: hwm 0).
    last_sent = sent_changes(last)
    assert last_sent == TOTAL - lives[-1][1]
    sent_all = sum(sent_changes(a) for a, _, _ in lives)
    bytes_all = sum(b for _, _, b in lives)
    per_change = bytes_all / sent_all
    print(
        f"bytes up per life {[b for _, _, b in lives]}; last life {lives[-1][2]} B for "
        f"{last_sent} changes ({lives[-1][2] / per_change:.0f} changes' worth)"
    )
    assert lives[-1][2] < 1.2 * per_change * last_sent + 20_000

"""Two hub processes sharing one PostgreSQL (DESIGN.md 8, 5.3): an agent behind a
load-balancer-like proxy is moved from one hub to the other several times in the middle
of a large sync, while its sources change underneath. Per-center order must hold across
the processes (PostgreSQL's row lock on the center serialises their applies), the
committed hwm the agent sees never goes back, and the final state equals the sources.
"""

from __future__ import annotations

import asyncio
import functools
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.agentenv import FAST_SYNC, make_agent_dir
from tests.helpers.e2e import (
    Procs,
    hub_db,
    hub_view,
    make_sources,
    mutate,
    rng_for,
    route_through,
    wait_converged,
    wait_hwm,
)
from tests.helpers.hubenv import RunningHub, SyncSession, equipment_change, init_hub
from tests.helpers.wait import eventually

CENTER = "KR-MR-0002"
EQUIPMENT, ENTRIES = 1000, 5000
TOTAL = EQUIPMENT + ENTRIES
SWITCHES = 4
SYNC = {**FAST_SYNC, "batch_changes": 100}

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def _second_hub_dir(first: Path, second: Path) -> Path:
    """Another hub on the same database and CA (a replica): config and PKI copied."""
    shutil.copytree(first, second, ignore=shutil.ignore_patterns("hub.log", "serve.json"))
    return second


def _sessions(hub: RunningHub) -> int:
    return hub.log_text().count('"event": "session_start"')


def _more_sessions(hub: RunningHub, than: int) -> bool:
    return _sessions(hub) > than


def test_agent_moved_between_two_hubs_mid_sync_keeps_order_and_converges(
    tmp_path: Path, pg_url: str, procs: Procs
) -> None:
    rng = rng_for("two_hubs")
    data_a = init_hub(tmp_path / "hub-a", db_url=pg_url)
    hubs = [procs.hub(data_a), procs.hub(_second_hub_dir(data_a, tmp_path / "hub-b"))]
    proxy = procs.proxy(hubs[0].address)
    ad = make_agent_dir(hubs[0], tmp_path / "agent", CENTER, sync=SYNC)
    route_through(ad, proxy)
    src = make_sources(rng, EQUIPMENT, ENTRIES)
    src.write(ad)
    points = sorted(rng.sample(range(TOTAL // 10, TOTAL * 9 // 10, 50), SWITCHES))

    with hub_db(pg_url) as db:
        agent = procs.agent(ad)
        for n, point in enumerate(points):
            wait_hwm(db, CENTER, point)
            if n == 1:
                # New versions of a quarter of the records while older ones are in flight.
                src = mutate(src, rng, changes=TOTAL // 4, deletes=100, adds=50, tag="v1")
                src.write(ad)
            # Like a load balancer losing a backend: new connections go to the other hub,
            # the open one is cut wherever it is (a batch may be mid-apply on the old hub).
            target = hubs[(n + 1) % 2]
            sessions = _sessions(target)
            proxy.retarget(target.address)
            proxy.cut()
            eventually(functools.partial(_more_sessions, target, sessions), timeout=15)
        wait_converged(data_a, ad, src, db)
        assert db.hwm(CENTER) == ad.status()["last_assigned_seq"]

    # Both processes really served this center, in turns.
    assert _sessions(hubs[0]) >= 1 + SWITCHES // 2 and _sessions(hubs[1]) >= SWITCHES // 2
    # The committed hwm, as either hub reported it, never went back, and no hub ever
    # welcomed the agent below what it had already acknowledged.
    hwms = [int(e["hub_hwm"]) for e in agent.events("ack")]
    assert hwms == sorted(hwms)
    assert not agent.events("hub_lost_data")


def test_concurrent_streams_on_two_hubs_never_let_an_older_change_win(
    tmp_path: Path, pg_url: str, procs: Procs
) -> None:
    """The same center on both hubs at once (an old stream not yet noticed dead). Each
    round races a batch of older versions to hub A against the next batch, newer versions
    of the same records, to hub B. Whatever the interleaving, B's batch is applied only
    after A's committed (otherwise it is rewound and resent), and replaying the old
    versions afterwards on either hub changes nothing."""
    data_a = init_hub(tmp_path / "hub-a", centers=[CENTER], db_url=pg_url)
    a, b = procs.hub(data_a), procs.hub(_second_hub_dir(data_a, tmp_path / "hub-b"))
    n, rounds = 300, 4

    def version(first_seq: int, label: str) -> list[Any]:
        return [
            equipment_change(CENTER, first_seq + i, f"EQ-{i:03d}", name_ko=label) for i in range(n)
        ]

    async def run() -> list[bool]:
        async with (
            SyncSession(a.address, a.credentials(CENTER)) as sa,
            SyncSession(b.address, b.credentials(CENTER)) as sb,
        ):
            await sa.hello(CENTER)
            await sb.hello(CENTER)
            rewinds = []
            for r in range(rounds):
                base = 2 * n * r
                old, new = version(base + 1, f"old {r}"), version(base + n + 1, f"new {r}")
                ack_a, ack_b = await asyncio.gather(
                    sa.batch(CENTER, base, old), sb.batch(CENTER, base + n, new)
                )
                assert (ack_a.applied, ack_a.rewind) == (n, False)
                rewinds.append(ack_b.rewind)
                if ack_b.rewind:
                    assert ack_b.applied == 0
                    ack_b = await sb.batch(CENTER, base + n, new)
                assert (ack_b.applied, ack_b.high_water_mark) == (n, base + 2 * n)
                # The round's old versions replayed on both hubs: duplicates only.
                for session in (sa, sb):
                    ack = await session.batch(CENTER, base, old)
                    assert (ack.applied, ack.duplicates) == (0, n)
            return rewinds

    rewinds = asyncio.run(run())
    print(f"\nB's batch arrived before A's commit (rewound) in rounds: {rewinds}")
    equipment = hub_view(data_a, CENTER)["equipment"]
    assert len(equipment) == n
    assert {e["name_ko"] for e in equipment} == {f"new {rounds - 1}"}

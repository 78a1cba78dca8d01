"""A state file lost at the agent (DESIGN.md 5.4, 5.7): the agent starts from an empty
state.db and numbers its changes from 1 again, while the hub still holds the previous
life's data and high-water mark. Both orders must converge with nothing lost:

- the new counter ends *above* the hub's hwm: its first seqs look "already committed" to
  the hub; a never-welcomed state must not acknowledge by the previous life's hwm, or it
  would drop unsent changes (the fix in agent/client.py ``_handshake``);
- the new counter stays *below* the hub's hwm: the agent renumbers above it.

Records deleted while the state was gone are unknown to the new state; only the
reconciliation that follows can remove them from the hub.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.agentenv import FAST_SYNC, AgentDir, AgentProcess, make_agent_dir
from tests.helpers.e2e import (
    Procs,
    Sources,
    hub_db,
    make_sources,
    mutate,
    rng_for,
    route_through,
    wait_converged,
)
from tests.helpers.hubenv import init_hub
from tests.helpers.tcpproxy import TcpProxy
from tests.helpers.wait import eventually

CENTER = "KR-AA-0001"

pytestmark = pytest.mark.slow


def _lose_state(ad: AgentDir) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{ad.state_path}{suffix}").unlink(missing_ok=True)


def _fresh_life(
    procs: Procs, ad: AgentDir, proxy: TcpProxy, src: Sources, log: str
) -> AgentProcess:
    """Start the agent on an empty state while the hub is unreachable, so that it has
    numbered all of ``src`` from 1 before it first meets the hub; then let it through."""
    proxy.cut(refuse_new=True)
    agent = procs.agent(ad, log)
    eventually(lambda: ad.status()["last_assigned_seq"] == src.count, timeout=20)
    assert ad.status()["last_acked_seq"] == 0
    proxy.heal()
    return agent


def test_lost_state_converges_whether_the_hub_hwm_is_below_or_above_the_new_counter(
    tmp_path: Path, db_url: str, procs: Procs
) -> None:
    rng = rng_for("state_loss")
    hub = procs.hub(init_hub(tmp_path / "hub", db_url=db_url))
    proxy = procs.proxy(hub.address)
    ad = make_agent_dir(hub, tmp_path / "agent", CENTER, sync=FAST_SYNC)
    route_through(ad, proxy)

    with hub_db(db_url) as db:
        # Life 1: 100 records, hwm 100.
        src = make_sources(rng, 40, 60)
        src.write(ad)
        first = procs.agent(ad, "life1.log")
        wait_converged(hub.data_dir, ad, src, db)
        first.kill()
        hwm = db.hwm(CENTER)
        assert hwm == src.count == 100

        # Life 2, hub hwm BELOW the new counter: every record edited, 10 bookings deleted
        # and 100 records added while the state was gone; the new state numbers them
        # 1..290, so its seqs 1..100 are not the hub's 1..100.
        _lose_state(ad)
        keys = len(src.equipment) + len(src.entries)
        src = mutate(src, rng, changes=keys, deletes=10, adds=50, tag="life2")
        src.write(ad)
        assert src.count > hwm
        second = _fresh_life(procs, ad, proxy, src, "life2.log")
        event = eventually(lambda: second.events("hub_knows_previous_state"), timeout=20)[0]
        assert event["hub_hwm"] == hwm
        wait_converged(hub.data_dir, ad, src, db)
        second.kill()
        hwm = db.hwm(CENTER)

        # Life 3, hub hwm ABOVE the new counter: 20 edits and 10 deletions meanwhile.
        _lose_state(ad)
        src = mutate(src, rng, changes=20, deletes=10, tag="life3")
        src.write(ad)
        assert src.count < hwm
        third = _fresh_life(procs, ad, proxy, src, "life3.log")
        event = eventually(lambda: third.events("hub_ahead_of_agent"), timeout=20)[0]
        assert (event["hub_hwm"], event["last_assigned_seq"]) == (hwm, src.count)
        wait_converged(hub.data_dir, ad, src, db)
        assert db.hwm(CENTER) == ad.status()["last_assigned_seq"] > hwm

"""A flaky link (DESIGN.md 5.2, 5.4, 5.5): the connection between agent and hub is cut
again and again during a large sync while the sources change; the hub must end equal to
the sources, with no loss, no duplicate rows, and no bulk resend (what is sent again is at
most the batches in flight at each cut)."""

from __future__ import annotations

from pathlib import Path

import pytest

from proto import limits
from tests.helpers.agentenv import FAST_SYNC, make_agent_dir
from tests.helpers.e2e import (
    Procs,
    ack_duplicates,
    hub_db,
    make_sources,
    mutate,
    rng_for,
    route_through,
    sent_changes,
    wait_converged,
    wait_hwm,
)
from tests.helpers.hubenv import init_hub

CENTER = "KR-EE-0002"
EQUIPMENT, ENTRIES = 400, 2600
BATCH = 100
SYNC = {**FAST_SYNC, "batch_changes": BATCH}
CUTS = 8

pytestmark = pytest.mark.slow


def test_repeated_cuts_during_sync_converge_without_loss_or_bulk_resend(
    tmp_path: Path, db_url: str, procs: Procs
) -> None:
    rng = rng_for("flaky_link")
    hub = procs.hub(init_hub(tmp_path / "hub", db_url=db_url))
    proxy = procs.proxy(hub.address)
    ad = make_agent_dir(hub, tmp_path / "agent", CENTER, sync=SYNC)
    route_through(ad, proxy)
    src = make_sources(rng, EQUIPMENT, ENTRIES)
    src.write(ad)

    with hub_db(db_url) as db:
        agent = procs.agent(ad)
        mark = 0
        for n in range(CUTS):
            # Cut after a random amount of progress: mid-batch, mid-ack, anywhere.
            mark += rng.randrange(BATCH // 2, 5 * BATCH)
            wait_hwm(db, CENTER, mark)
            proxy.cut()
            if n == CUTS // 2:
                src = mutate(src, rng, changes=800, deletes=200, adds=100, tag="v1")
                src.write(ad)
        wait_converged(hub.data_dir, ad, src, db)
        assigned = ad.status()["last_assigned_seq"]
        assert db.hwm(CENTER) == assigned

    sessions = len(agent.events("session_start"))
    sent, duplicates = sent_changes(agent), ack_duplicates(agent)
    # Sent at most once, except what was in flight (unacknowledged) at each cut. Changes
    # superseded by a newer edit before they went out are never sent at all.
    in_flight = limits.DEFAULT_MAX_INFLIGHT_BATCHES * BATCH
    print(
        f"\n{sessions} sessions, {assigned} seqs assigned, {sent} changes sent, "
        f"{duplicates} acknowledged as replays"
    )
    # A cut can land on a reconnect still in its handshake, so not every cut costs a
    # session; most do.
    assert sessions > CUTS // 2
    assert sent <= assigned + CUTS * in_flight
    assert duplicates <= CUTS * in_flight

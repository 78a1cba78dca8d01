"""The safety valve with a running agent: a truncated CSV is held back (the hub keeps its
data, status and the hub's heartbeat show it), and approve-deletes publishes it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import hubenv
from tests.helpers.agentenv import (
    equipment_row,
    hub_records,
    hub_sync_state,
    make_agent_dir,
    new_center_id,
    running_agent,
)
from tests.helpers.hubenv import RunningHub
from tests.helpers.wait import eventually


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    data_dir = hubenv.init_hub(tmp_path_factory.mktemp("hub"), settings={"heartbeat_seconds": 1})
    with hubenv.running_hub(data_dir) as running:
        yield running


def _hub_quarantined(hub: RunningHub, center: str) -> int:
    return int(hub_sync_state(hub, center).quarantined_deletes)


def test_truncated_csv_is_held_until_approved(hub: RunningHub, tmp_path: Path) -> None:
    center = new_center_id()
    ad = make_agent_dir(hub, tmp_path / "agent", center)
    everything = [equipment_row(f"EQ-{i:02d}") for i in range(30)]
    ad.write_equipment(everything)
    with running_agent(ad) as agent:
        eventually(lambda: len(hub_records(hub, center)) == 30, timeout=30, what="first sync")

        ad.write_equipment(everything[:3])  # an export that stopped after three rows
        status = eventually(lambda: ad.status()["held"], timeout=10, what="held")
        assert status[0]["source"] == "equipment" and status[0]["deletes"] == 27
        text = ad.cli("status")[1]
        assert "HELD         27 deletion(s) from source 'equipment'" in text
        assert f"iplat-agent approve-deletes --config {ad.config}" in text
        held_logs = eventually(lambda: agent.events("snapshot_held"), timeout=5)
        assert "approve-deletes" in held_logs[0]["action"]
        assert held_logs[0]["center_id"] == center
        # The hub hears about it in heartbeats, and keeps every record.
        eventually(lambda: _hub_quarantined(hub, center) == 27, timeout=10, what="heartbeat")
        assert len(hub_records(hub, center)) == 30

        code, out, err = ad.cli("approve-deletes")
        assert code == 0, err
        assert "27 deletion(s)" in out
        eventually(
            lambda: set(hub_records(hub, center)) == {"EQ-00", "EQ-01", "EQ-02"},
            timeout=10,
            what="approved deletions reach the hub",
        )
        assert not ad.status()["held"]
        eventually(lambda: _hub_quarantined(hub, center) == 0, timeout=10)

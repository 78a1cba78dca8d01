"""Agent restarts: resume from the hub's high-water mark without resending, survive
``kill -9`` right after a change, and rebuild a lost state file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import hubenv
from tests.helpers.agentenv import (
    AgentDir,
    AgentProcess,
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
    data_dir = hubenv.init_hub(tmp_path_factory.mktemp("hub"))
    with hubenv.running_hub(data_dir) as running:
        yield running


def _statuses(hub: RunningHub, center: str) -> dict[str, str]:
    return {k: v[1] for k, v in hub_records(hub, center).items()}


def _synced(ad: AgentDir) -> bool:
    s = ad.status()
    return bool(s["backlog"] == 0 and s["hub_hwm"] and s["hub_hwm"] == s["last_assigned_seq"])


def _polled_all(agent: AgentProcess) -> bool:
    return {e["source"] for e in agent.events("poll")} == {"equipment", "calendar"}


def test_restart_resumes_from_the_hub_hwm_without_resending(
    hub: RunningHub, tmp_path: Path
) -> None:
    center = new_center_id()
    ad = make_agent_dir(hub, tmp_path / "agent", center)
    ad.write_equipment([equipment_row(f"EQ-{i:02d}") for i in range(50)])
    with running_agent(ad, "first.log") as first:
        eventually(lambda: _synced(ad), timeout=30, what="first sync")
        hwm = hub_sync_state(hub, center).hwm
        assert hwm >= 50
        first.kill()
    assert ad.status()["running"] is False

    with running_agent(ad, "second.log") as second:
        start = eventually(lambda: second.events("session_start"), timeout=30)[0]
        assert start["hub_hwm"] == hwm
        assert start["last_acked_seq"] == hwm
        # Both sources were read again and found unchanged: nothing may go out.
        eventually(lambda: _polled_all(second), timeout=10)
        eventually(lambda: ad.status()["connection"] == "connected", timeout=10)
        assert second.events("batch_sent") == []
        assert ad.status()["backlog"] == 0
        assert hub_sync_state(hub, center).hwm == hwm


def test_kill_9_after_a_change_was_recorded_loses_nothing(hub: RunningHub, tmp_path: Path) -> None:
    center = new_center_id()
    ad = make_agent_dir(hub, tmp_path / "agent", center)
    rows = [equipment_row(f"EQ-{i:02d}") for i in range(10)]
    ad.write_equipment(rows)
    with running_agent(ad, "first.log") as first:
        eventually(lambda: _synced(ad), timeout=30, what="first sync")
        rows = [equipment_row(f"EQ-{i:02d}", status="limited") for i in range(10)]
        ad.write_equipment(rows)
        # SIGKILL as soon as the change is in the outbox, sent or not.
        eventually(lambda: any(e.get("upserts") == 10 for e in first.events("poll")), timeout=10)
        first.kill()
    with running_agent(ad, "second.log"):
        eventually(
            lambda: set(_statuses(hub, center).values()) == {"limited"},
            timeout=30,
            what="the change reaches the hub after the restart",
        )
        eventually(lambda: _synced(ad), timeout=10)


def test_lost_state_file_is_rebuilt_above_the_hub_hwm(hub: RunningHub, tmp_path: Path) -> None:
    center = new_center_id()
    ad = make_agent_dir(hub, tmp_path / "agent", center)
    ad.write_equipment([equipment_row(f"EQ-{i:02d}") for i in range(10)])
    with running_agent(ad, "first.log") as first:
        eventually(lambda: _synced(ad), timeout=30, what="first sync")
        first.stop()
    hwm = hub_sync_state(hub, center).hwm
    for suffix in ("", "-wal", "-shm"):
        Path(f"{ad.state_path}{suffix}").unlink(missing_ok=True)
    # While the state was gone a row changed and one went away.
    rows = [equipment_row(f"EQ-{i:02d}") for i in range(9)]
    rows[4] = equipment_row("EQ-04", status="retired")
    ad.write_equipment(rows)
    with running_agent(ad, "second.log") as second:
        eventually(lambda: second.events("hub_ahead_of_agent"), timeout=30)
        expected = {r["id"]: r["status"] for r in rows}
        eventually(lambda: _statuses(hub, center) == expected, timeout=30, what="rebuilt")
        eventually(lambda: _synced(ad), timeout=10)
        assert hub_sync_state(hub, center).hwm > hwm
        assert ad.status()["last_assigned_seq"] > hwm

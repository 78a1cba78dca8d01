"""The hub goes away: the agent keeps polling with a compacted backlog and converges when
the hub is back, also when the hub came back from an old backup."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import hubenv
from tests.helpers.agentenv import (
    AgentDir,
    equipment_row,
    hub_records,
    make_agent_dir,
    new_center_id,
    restart_hub,
    running_agent,
)
from tests.helpers.hubenv import RunningHub
from tests.helpers.wait import eventually


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[RunningHub]:
    """A hub of this test only (the tests stop and restart it)."""
    running = hubenv.start_hub(hubenv.init_hub(tmp_path / "hub"))
    yield running
    running.kill()


def _statuses(hub: RunningHub, center: str) -> dict[str, str]:
    return {k: v[1] for k, v in hub_records(hub, center).items()}


def _synced(ad: AgentDir) -> bool:
    s = ad.status()
    return bool(s["backlog"] == 0 and s["hub_hwm"] and s["hub_hwm"] == s["last_assigned_seq"])


def test_hub_down_backlog_is_compacted_and_drains_when_it_returns(
    hub: RunningHub, tmp_path: Path
) -> None:
    center = new_center_id()
    ad = make_agent_dir(hub, tmp_path / "agent", center)
    rows = [equipment_row(f"EQ-{i:02d}") for i in range(10)]
    ad.write_equipment(rows)
    with running_agent(ad) as agent:
        eventually(lambda: _synced(ad), timeout=30, what="first sync")
        hub.stop()
        down = eventually(lambda: (s := ad.status())["connection"] == "backoff" and s, timeout=15)
        assert "unavailable" in down["last_error"]
        assert down["running"] is True

        # Three edits of the same two records while offline: one pending change each.
        seq = ad.status()["last_assigned_seq"]
        for status in ("limited", "maintenance", "out-of-service"):
            rows[1] = equipment_row("EQ-01", status=status)
            rows[2] = equipment_row("EQ-02", status=status)
            ad.write_equipment(rows)
            seq += 2
            eventually(lambda s=seq: ad.status()["last_assigned_seq"] == s, timeout=10)
        offline = ad.status()
        assert offline["backlog"] == 2
        # Between backoffs the agent is briefly "connecting" again; it reads DISCONNECTED
        # for the rest of each wait.
        eventually(lambda: "DISCONNECTED" in ad.cli("status")[1], timeout=15)
        assert agent.events("session_failed")

        back = restart_hub(hub)
        try:
            expected = {r["id"]: r["status"] for r in rows}
            eventually(lambda: _statuses(back, center) == expected, timeout=30, what="drain")
            eventually(lambda: _synced(ad), timeout=10)
            assert ad.status()["connection"] == "connected"
        finally:
            back.stop()


def test_hub_restored_from_an_old_backup_is_repaired_by_reconciliation(
    hub: RunningHub, tmp_path: Path
) -> None:
    center = new_center_id()
    ad = make_agent_dir(hub, tmp_path / "agent", center)
    rows = [equipment_row(f"EQ-{i:02d}") for i in range(10)]
    ad.write_equipment(rows)
    backup = tmp_path / "backup.db"
    with running_agent(ad) as agent:
        eventually(lambda: _synced(ad), timeout=30, what="first sync")
        hub_db = hub.data_dir / "hub.db"
        with sqlite3.connect(hub_db) as live, sqlite3.connect(backup) as copy:
            live.backup(copy)

        # Acknowledged after the backup, so lost when the hub is restored from it.
        rows[1] = equipment_row("EQ-01", status="retired")
        del rows[9]
        rows.append(equipment_row("EQ-10"))
        ad.write_equipment(rows)
        expected = {r["id"]: r["status"] for r in rows}
        eventually(lambda: _statuses(hub, center) == expected, timeout=10)
        eventually(lambda: _synced(ad), timeout=10)

        hub.stop()
        for suffix in ("-wal", "-shm"):
            Path(f"{hub_db}{suffix}").unlink(missing_ok=True)
        backup.replace(hub_db)
        back = restart_hub(hub)
        try:
            lost = eventually(lambda: agent.events("hub_lost_data"), timeout=30)[0]
            assert lost["hub_hwm"] < lost["last_acked_seq"]
            eventually(lambda: _statuses(back, center) == expected, timeout=30, what="repair")
            report = eventually(
                lambda: [e for e in agent.events("reconcile_done") if e["deletes_queued"]],
                timeout=10,
            )[0]
            # Only the differences travel: EQ-01 and EQ-10 up, EQ-09 down.
            assert (report["upserts_queued"], report["deletes_queued"]) == (2, 1)
            # No bulk resend: nothing but the repair was sent after the restore.
            assert sum(e["changes"] for e in agent.events("batch_sent")) == 10 + 3 + 3
        finally:
            back.stop()

"""The agent daemon as a real subprocess against a real hub: first sync, edits, deletions,
status while running, graceful stop."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import hubenv
from tests.helpers.agentenv import (
    AgentDir,
    calendar_row,
    equipment_row,
    hub_center,
    hub_records,
    make_agent_dir,
    new_center_id,
    running_agent,
)
from tests.helpers.hubenv import RunningHub
from tests.helpers.wait import eventually

KST = "+09:00"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    data_dir = hubenv.init_hub(tmp_path_factory.mktemp("hub"))
    with hubenv.running_hub(data_dir) as running:
        yield running


def _slot(day: int, hour: int, hours: int) -> tuple[str, str, str, str]:
    """(local start, local end, UTC start, UTC end) of a booking in March 2026, KST."""
    start = datetime(2026, 3, day, hour)
    end = start + timedelta(hours=hours)
    utc = [t - timedelta(hours=9) for t in (start, end)]
    return (
        start.strftime("%Y-%m-%dT%H:%M") + KST,
        end.strftime("%Y-%m-%dT%H:%M") + KST,
        *(t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in utc),
    )


def _expected(equipment: list[dict[str, Any]], bookings: list[tuple[Any, ...]]) -> dict[str, Any]:
    out: dict[str, Any] = {str(eq["id"]): (eq["name_ko"], eq["status"], {}) for eq in equipment}
    for entry_id, eq_id, (_, _, utc_start, utc_end), kind in bookings:
        out[eq_id][2][entry_id] = (utc_start, utc_end, kind)
    return out


def _write(ad: AgentDir, equipment: list[dict[str, Any]], bookings: list[tuple[Any, ...]]) -> None:
    ad.write_equipment(equipment)
    ad.write_calendar([calendar_row(eid, eq, s[0], s[1], kind) for eid, eq, s, kind in bookings])


def test_sources_reach_the_hub_and_follow_edits_and_deletions(
    hub: RunningHub, tmp_path: Path
) -> None:
    center = new_center_id()
    ad = make_agent_dir(hub, tmp_path / "agent", center)
    equipment = [equipment_row(f"EQ-{i:02d}", name_ko=f"충방전기 {i}") for i in range(20)]
    bookings = [
        (f"B-{i}", f"EQ-{i:02d}", _slot(2 + i, 9, 3), "booked" if i % 2 else "maintenance")
        for i in range(5)
    ]
    _write(ad, equipment, bookings)
    with running_agent(ad) as agent:
        eventually(
            lambda: hub_records(hub, center) == _expected(equipment, bookings),
            timeout=30,
            what="first sync",
        )

        # An edited row, a moved booking, a new booking: the watcher picks the save up.
        equipment[3] = equipment_row("EQ-03", name_ko="충방전기 3", status="maintenance")
        bookings[0] = ("B-0", "EQ-00", _slot(2, 13, 2), "maintenance")
        bookings.append(("B-new", "EQ-07", _slot(20, 10, 4), "tentative"))
        _write(ad, equipment, bookings)
        eventually(
            lambda: hub_records(hub, center) == _expected(equipment, bookings),
            timeout=10,
            what="edit",
        )

        # Deleting a few rows (within the safety valve) deletes them on the hub.
        del equipment[15:18]
        bookings = [b for b in bookings if b[0] != "B-1"]
        _write(ad, equipment, bookings)
        eventually(
            lambda: hub_records(hub, center) == _expected(equipment, bookings),
            timeout=10,
            what="deletion",
        )

        status = eventually(lambda: _settled(ad), timeout=10, what="status settles")
        assert status["running"] is True and status["pid"] == agent.process.pid
        assert status["connection"] == "connected"
        assert status["hub_hwm"] == status["last_assigned_seq"] == status["last_acked_seq"]
        assert status["records"] == len(equipment) + len(bookings)
        assert {s["name"]: (s["ok"], s["records"]) for s in status["sources"]} == {
            "equipment": (True, len(equipment)),
            "calendar": (True, len(bookings)),
        }
        assert hub_center(hub, center)["hwm"] == status["hub_hwm"]
        text = ad.cli("status")[1]
        assert "connection   connected since" in text
        assert "backlog      0 change(s)" in text

        agent.process.send_signal(signal.SIGTERM)
        assert agent.process.wait(timeout=30) == 0
    assert '"event": "agent_stopped"' in agent.log_text()
    stopped = ad.status()
    assert (stopped["running"], stopped["connection"]) == (False, "stopped")


def _settled(ad: AgentDir) -> dict[str, Any] | None:
    status = ad.status()
    return status if status["backlog"] == 0 and status["connection"] == "connected" else None


def test_rows_with_problems_are_left_out_and_reported(hub: RunningHub, tmp_path: Path) -> None:
    center = new_center_id()
    ad = make_agent_dir(hub, tmp_path / "agent", center)
    ad.write_equipment(
        [equipment_row("EQ-1"), equipment_row("EQ-2", status="broken-ish"), equipment_row("EQ-3")]
    )
    with running_agent(ad):
        eventually(lambda: set(hub_records(hub, center)) == {"EQ-1", "EQ-3"}, timeout=30)
        status = eventually(
            lambda: next((s for s in ad.status()["sources"] if s["name"] == "equipment"), None)
        )
        assert status["problems"] == 1
        assert "equipment.csv:3" in status["first_problem"]
        # A source that cannot be read at all keeps the last good records.
        ad.equipment_csv.unlink()
        failed = eventually(
            lambda: next(
                (s for s in ad.status()["sources"] if s["name"] == "equipment" and not s["ok"]),
                None,
            ),
            timeout=10,
        )
        assert failed["records"] == 2
        assert set(hub_records(hub, center)) == {"EQ-1", "EQ-3"}

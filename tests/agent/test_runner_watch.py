"""File-system notifications: a saved CSV is read at once (not at the next poll), bursts
are debounced, and reading a file never triggers another read."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from agent.watch import FileWatcher
from tests.helpers import hubenv
from tests.helpers.agentenv import (
    equipment_row,
    hub_records,
    make_agent_dir,
    new_center_id,
    running_agent,
)
from tests.helpers.wait import aeventually, eventually


def test_watcher_fires_once_per_burst_and_ignores_reads_and_other_files(tmp_path: Path) -> None:
    watched = tmp_path / "equipment.csv"
    watched.write_text("a\n")
    marker = tmp_path / "marker.csv"
    other = tmp_path / "notes.txt"

    async def main() -> list[str]:
        calls: list[str] = []
        watcher = FileWatcher(asyncio.get_running_loop(), debounce=0.05)
        watcher.add("equipment", [watched], lambda: calls.append("equipment"))
        watcher.add("marker", [marker], lambda: calls.append("marker"))
        watcher.start()

        async def settle() -> None:
            # Events arrive in order and debounce equally: once the marker's callback ran,
            # every callback due to earlier events has run too. No sleeping needed.
            n = calls.count("marker")
            marker.write_text(str(n))
            await aeventually(lambda: _at_least(calls, "marker", n + 1), timeout=5)

        try:
            # Editor-style save: write a temp file, rename it over the original.
            tmp = tmp_path / ".equipment.csv.swp"
            tmp.write_text("b\n")
            os.replace(tmp, watched)
            await settle()
            # A burst of in-place writes is one notification (after it went quiet).
            for i in range(20):
                with watched.open("a") as f:
                    f.write(f"{i}\n")
            await settle()
            # Reads (our own polls) and unrelated files in the same directory: nothing.
            watched.read_text()
            other.write_text("x")
            await settle()
            return calls
        finally:
            watcher.stop()
            watcher.stop()  # idempotent

    calls = asyncio.run(main())
    assert calls == ["equipment", "marker", "equipment", "marker", "marker"]


async def _at_least(calls: list[str], name: str, n: int) -> bool:
    return calls.count(name) >= n


def test_saved_csv_reaches_the_hub_without_waiting_for_the_poll(tmp_path: Path) -> None:
    with hubenv.running_hub(hubenv.init_hub(tmp_path / "hub")) as hub:
        center = new_center_id()
        ad = make_agent_dir(hub, tmp_path / "agent", center)
        ad.set_sync(poll_seconds=3600)  # only the watcher can explain a quick update
        ad.write_equipment([equipment_row("EQ-1")])
        with running_agent(ad):
            eventually(lambda: set(hub_records(hub, center)) == {"EQ-1"}, timeout=30)
            ad.write_equipment([equipment_row("EQ-1", status="maintenance"), equipment_row("EQ-2")])
            eventually(
                lambda: (
                    hub_records(hub, center).get("EQ-2") is not None
                    and hub_records(hub, center)["EQ-1"][1] == "maintenance"
                ),
                timeout=10,
                what="watched save reaches the hub",
            )

"""The served path on the other database: a hub process on PostgreSQL (and on SQLite)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.helpers.hubenv import (
    SyncSession,
    entry_change,
    equipment_change,
    init_hub,
    run_cli,
    running_hub,
)

CENTER = "KR-MR-0001"
START = 1_795_748_400


def test_sync_and_view_on_each_database(tmp_path: Path, db_url: str) -> None:
    data_dir = init_hub(tmp_path / "hub", centers=[CENTER], db_url=db_url)
    with running_hub(data_dir) as hub:

        async def run() -> tuple[int, int, int]:
            changes = [
                equipment_change(CENTER, 1, "EQ-1"),
                entry_change(CENTER, 2, "BK-1", "EQ-1", START, START + 600),
            ]
            async with SyncSession(hub.address, hub.credentials(CENTER)) as s:
                await s.hello(CENTER)
                first = await s.batch(CENTER, 0, changes)
                replay = await s.batch(CENTER, 0, changes)
                later = await s.batch(
                    CENTER, 2, [equipment_change(CENTER, 3, "EQ-1", name_ko="새 이름")]
                )
            return first.applied, replay.duplicates, later.high_water_mark

        assert asyncio.run(run()) == (2, 2, 3)
        assert hub.stop() == 0
    code, out = run_cli("view", "--data-dir", str(data_dir), "--json")
    assert code == 0
    [center] = json.loads(out)["centers"]
    assert center["hwm"] == 3
    [eq] = center["equipment"]
    assert eq["name_ko"] == "새 이름" and [e["id"] for e in eq["entries"]] == ["BK-1"]

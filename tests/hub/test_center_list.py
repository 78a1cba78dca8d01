"""``iplat-hub center list``: every center's state as operators see it."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pytest

from hub import config
from hub.cli_centers import center_state
from hub.store import Store
from tests.helpers.hubenv import init_hub, run_cli
from tests.hub.test_store_builders import center as center_info

STATES = ["banned", "enrolled", "evicted", "offline", "online", "registered", "reenrolled", "stale"]


def test_center_list_json_shows_each_state(tmp_path: Path) -> None:
    data_dir = init_hub(tmp_path / "hub", centers=[f"KR-S-{s}" for s in STATES])
    cfg = config.load(data_dir)
    hb, stale_after = cfg.sync.heartbeat_seconds, cfg.sync.stale_after_seconds
    now = int(time.time())
    later = now + 30 * 86400
    with Store.open(cfg.database_url) as store:
        for name in ("enrolled", "online", "stale", "offline", "evicted", "banned", "reenrolled"):
            store.record_certificate(
                f"KR-S-{name}", f"a{len(name)}{name[:3].encode().hex()}", later
            )
        store.record_hello("KR-S-online", "test/1", now)
        store.record_hello("KR-S-stale", "test/1", now - 2 * hb - 3)
        store.record_hello("KR-S-offline", "test/1", now - stale_after - 60)
        store.record_disconnect("KR-S-offline", now - stale_after - 5)
        store.evict_center("KR-S-evicted", now)
        store.ban_center("KR-S-banned", now)
        store.evict_center("KR-S-reenrolled", now)
        store.record_certificate("KR-S-reenrolled", "beef01", later + 86400)
    code, out = run_cli("center", "list", "--json", "--data-dir", str(data_dir))
    assert code == 0, out
    rows = {r["id"].removeprefix("KR-S-"): r for r in json.loads(out)}
    assert {k: r["state"] for k, r in rows.items()} == {
        "banned": "banned",
        "enrolled": "enrolled",
        "evicted": "evicted",
        "offline": "offline",
        "online": "online",
        "registered": "registered",
        "reenrolled": "enrolled",
        "stale": "stale",
    }
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(later))
    assert rows["online"]["cert_expires_at"] == iso
    assert rows["online"]["last_seen"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    assert rows["registered"]["cert_expires_at"] is None and rows["registered"]["last_seen"] is None
    # Revoked certificates do not count; the re-enrolled one does.
    assert rows["evicted"]["cert_expires_at"] is None
    assert rows["reenrolled"]["cert_expires_at"] == time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(later + 86400)
    )
    code, text = run_cli("center", "list", "--data-dir", str(data_dir))
    assert "cert_expires" in text.splitlines()[0]
    assert any(line.startswith("KR-S-banned") and "banned" in line for line in text.splitlines())


@pytest.mark.parametrize(
    ("age", "connected", "state"),
    [(0, True, "online"), (10, True, "online"), (11, True, "stale"), (3, False, "stale"),
     (30, True, "stale"), (31, True, "offline"), (31, False, "offline")],
)  # fmt: skip
def test_liveness_thresholds(tmp_path: Path, age: int, connected: bool, state: str) -> None:
    sync = config.SyncSettings(heartbeat_seconds=5, stale_after_seconds=30)
    # No grace period: online within 2 heartbeats, stale until 6 ([ops] defaults).
    ops = config.OpsSettings(grace_seconds=0)
    with Store.open(f"sqlite:///{tmp_path / 'hub.db'}") as store:
        store.add_center(center_info())
        status = store.center_statuses(1000)[0]
    seen = dataclasses.replace(status.state, last_seen=1000 - age, connected=connected)
    live = dataclasses.replace(status, state=seen, certificates=1, cert_expires_at=5000)
    assert center_state(live, 1000, sync, ops) == state


def test_add_center_points_to_token_create(tmp_path: Path) -> None:
    data_dir = init_hub(tmp_path / "hub")
    code, out = run_cli(
        "center", "add", "KR-MR-0009", "--industry", "bio", "--name-ko", "가", "--name-en", "A",
        "--region", "서울", "--data-dir", str(data_dir),
    )  # fmt: skip
    assert code == 0
    assert f"iplat-hub token create --center KR-MR-0009 --data-dir {data_dir}" in out


def test_statuses_on_each_database(db_url: str) -> None:
    from tests.hub.test_store_builders import CENTER, OTHER

    t0 = 1_795_748_400
    with Store.open(db_url) as store:
        store.add_center(center_info())
        store.add_center(center_info(OTHER, industry="bio"))
        store.record_certificate(CENTER, "a1", t0 + 100, issued_at=t0)
        store.record_certificate(CENTER, "a2", t0 + 900, issued_at=t0 + 5)
        store.record_certificate(CENTER, "a3", t0 + 50, issued_at=t0 + 9)
        store.record_certificate(OTHER, "b1", t0 + 900, issued_at=t0)
        store.evict_center(OTHER, t0 + 1)
        by_id = {s.center.id: s for s in store.center_statuses(t0 + 60)}
    mine, other = by_id[CENTER], by_id[OTHER]
    assert (mine.cert_expires_at, mine.cert_issued_at, mine.certificates) == (t0 + 900, t0 + 5, 3)
    assert (mine.banned, mine.evicted_at) == (False, None)
    assert (other.cert_expires_at, other.evicted_at, other.certificates) == (None, t0 + 1, 1)

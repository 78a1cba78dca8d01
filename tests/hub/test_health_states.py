"""Center states and problems (hub.health): thresholds from each agent's own heartbeat
interval, the problem rules with their "what to do" lines, worst-first order."""

from __future__ import annotations

import dataclasses

import pytest

from hub.config import OpsSettings, SyncSettings
from hub.health import assess, assess_fleet, center_state, thresholds
from hub.health.session import CommitLag, SessionHealth
from hub.store import CenterStatus, SyncState
from tests.hub.test_store_builders import center

NOW = 1_800_000_000
SYNC = SyncSettings(heartbeat_seconds=5, stale_after_seconds=30)
OPS = OpsSettings(grace_seconds=2, stale_after_heartbeats=2, offline_after_heartbeats=6)


def status(center_id: str = "KR-MR-0001", **state: object) -> CenterStatus:
    fields: dict[str, object] = {
        "center_id": center_id,
        "hwm": 10,
        "last_sync": NOW - 60,
        "last_seen": NOW,
        "connected": True,
        "agent_version": "0.1.0",
        "backlog": 0,
        "quarantined_deletes": 0,
    }
    fields.update(state)
    return CenterStatus(
        center=center(center_id),
        state=SyncState(**fields),  # type: ignore[arg-type]
        banned=False,
        evicted_at=None,
        certificates=1,
        cert_expires_at=NOW + 60 * 86400,
    )


@pytest.mark.parametrize(
    ("announced", "age", "connected", "state"),
    [
        # The hub's interval (5 s): online <= 2*5+2, stale <= 6*5+2, then offline.
        (None, 12, True, "online"),
        (None, 13, True, "stale"),
        (None, 0, False, "stale"),
        (None, 32, True, "stale"),
        (None, 33, False, "offline"),
        # An agent announcing 20 s is judged by 20 s: online <= 42, stale <= 122.
        (20, 42, True, "online"),
        (20, 43, True, "stale"),
        (20, 122, True, "stale"),
        (20, 123, True, "offline"),
        # Announcing less than the hub's interval changes nothing (agents adopt the hub's).
        (1, 12, True, "online"),
        (1, 13, True, "stale"),
        # A day of silence: missing.
        (None, 86400, False, "offline"),
        (None, 86401, False, "missing"),
    ],
)
def test_states_follow_each_agents_interval_plus_grace(
    announced: int | None, age: int, connected: bool, state: str
) -> None:
    s = status(heartbeat_seconds=announced, last_seen=NOW - age, connected=connected)
    assert center_state(s, NOW, SYNC, OPS) == state


def test_thresholds_are_reported() -> None:
    limits = thresholds(status(heartbeat_seconds=20).state, SYNC, OPS)
    assert (limits.heartbeat_seconds, limits.stale_after, limits.offline_after) == (20, 42, 122)


def test_registry_states_come_first() -> None:
    never = status(last_seen=None, connected=False)
    assert center_state(never, NOW, SYNC, OPS) == "enrolled"
    assert center_state(dataclasses.replace(never, cert_expires_at=None), NOW, SYNC) == "registered"
    assert center_state(dataclasses.replace(never, banned=True), NOW, SYNC) == "banned"
    evicted = dataclasses.replace(status(), evicted_at=NOW - 5, cert_expires_at=None)
    assert center_state(evicted, NOW, SYNC) == "evicted"


def lines(s: CenterStatus, now: int = NOW) -> list[str]:
    return [p.line(s.center.id) for p in assess(s, now, SYNC, OPS, "0.1.0").problems]


def test_failing_source_says_fix_the_file_and_last_good_data_is_served() -> None:
    broken = {
        "name": "calendar",
        "ok": False,
        "records": 12,
        "problems": 1,
        "first_problem": "calendar.csv:17: end before start",
        "last_poll": NOW,
    }
    skipped = {**broken, "name": "equipment", "ok": True, "problems": 3}
    got = lines(status(sources=[broken, skipped]))
    assert got == [
        "KR-MR-0001: source 'calendar' failing: calendar.csv:17: end before start -> fix the "
        "source at the center; the last good data is served until then",
        "KR-MR-0001: source 'equipment': 3 row(s) left out: calendar.csv:17: end before start "
        "-> fix these rows in the source at the center; they are left out until then",
    ]


def test_held_deletes_expiring_certificate_and_offline() -> None:
    s = dataclasses.replace(
        status(quarantined_deletes=3, last_seen=NOW - 600, connected=False),
        cert_expires_at=NOW + 5 * 86400 + 100,
    )
    got = lines(s)
    assert got[0].startswith("KR-MR-0001: offline: silent for 10 min")
    assert "check the agent service at the center" in got[0]
    assert any(
        "certificate expires in 5 d" in line and "iplat-hub token create --center" in line
        for line in got
    )
    assert (
        "KR-MR-0001: 3 deletion(s) held back by the safety valve -> ask the center to check its "
        "source (a truncated file?), then run iplat-agent approve-deletes"
    ) in got


def test_backlog_growing_and_not_draining() -> None:
    ops = OPS
    growing = status(backlog=900, backlog_since=NOW - 400, backlog_since_value=300)
    assert any(
        "backlog growing: 900 changes waiting at the center, up from 300 over 6 min" in line
        for line in lines(growing)
    )
    stuck = status(backlog=300, backlog_since=NOW - 400, backlog_since_value=300)
    assert any("backlog not draining: 300 changes waiting for 6 min" in x for x in lines(stuck))
    recent = status(backlog=300, backlog_since=NOW - ops.backlog_growing_seconds + 1)
    assert not any("backlog" in x for x in lines(recent))


def test_version_skew_and_korean_text() -> None:
    old = status("KR-MR-0002", agent_version="0.1.0")
    new = status("KR-MR-0003", agent_version="0.2.1")
    report = assess_fleet([old, new], NOW, SYNC, OPS)
    skew = [p for c in report.centers for p in c.problems if p.code == "version_skew"]
    assert [p.line("KR-MR-0002") for p in skew] == [
        "KR-MR-0002: agent 0.1.0 is older than the newest in the fleet (0.2.1) -> upgrade the "
        "agent at the center: run iplat-install agent again with the new release (it upgrades "
        "in place and restarts the service)"
    ]
    assert skew[0].what.ko.startswith("에이전트 0.1.0 버전이")


def test_fleet_is_sorted_worst_first() -> None:
    statuses = [
        status("KR-MR-0001"),
        status("KR-MR-0002", last_seen=NOW - 20),  # stale
        status("KR-MR-0003", last_seen=NOW - 100, connected=False),  # offline
        status("KR-MR-0004", sources=[{"name": "c", "ok": False, "first_problem": "x"}]),
        dataclasses.replace(status("KR-MR-0005", last_seen=None), cert_expires_at=None),
    ]
    report = assess_fleet(statuses, NOW, SYNC, OPS)
    assert [c.id for c in report.centers] == [
        "KR-MR-0003",  # critical
        "KR-MR-0002",  # warning, stale
        "KR-MR-0004",  # warning, online
        "KR-MR-0005",  # info: registered
        "KR-MR-0001",  # fine
    ]
    assert report.state_counts()["online"] == 2
    assert report.to_json()["counts"]["industries"]["machinery-robotics"]["offline"] == 1


def test_commit_lag_from_heartbeats_and_acks() -> None:
    lag = CommitLag(hwm=10)
    assert lag.heartbeat(10, 0, 100.0) is None  # nothing pending, nothing measured
    assert lag.heartbeat(15, 5, 101.0) == 0.0  # the hub learns of seq 15
    lag.committed(12, 102.0)
    assert lag.heartbeat(15, 3, 103.5) == 2.5  # still pending: grows while commits stall
    lag.committed(15, 104.0)
    assert lag.heartbeat(15, 0, 105.0) == 3.0  # measured: 104 - 101
    lag.heartbeat(20, 5, 106.0)
    assert lag.heartbeat(20, 0, 107.0) == 3.0  # drained without an ack of 20: no sample


def test_sync_summaries_are_written_at_most_once_a_minute() -> None:
    h = SessionHealth.start(hwm=0, now=0.0)
    assert h.summary_due(1.0) is None
    h.batch_committed(5, 0, 5, 1.0)
    first = h.summary_due(1.5)
    assert first is not None and (first["batches"], first["changes"], first["hwm"]) == (1, 5, 5)
    h.batch_committed(3, 1, 8, 2.0)
    assert h.summary_due(30.0) is None
    later = h.summary_due(62.0)
    assert later is not None and (later["changes"], later["duplicates"]) == (3, 1)

"""Operator health with real hub and agent processes (short thresholds: 1 s heartbeats,
stale after 2.5 s of silence, offline after 5.5 s).

- A center whose agent stops moves to stale and then offline at the configured times.
- A broken source at a center shows in ``iplat-hub status``, in /metrics and on the
  dashboard with the agent's message, while the hub keeps serving the last good data.
- /metrics of a live hub parses and keeps the golden names; every log line about a center
  carries its id, in the hub's log and the agent's.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.helpers.agentenv import AgentProcess, hub_records, running_agent
from tests.helpers.hubenv import RunningHub, running_hub, set_config
from tests.helpers.opsenv import (
    OFFLINE_AFTER,
    STALE_AFTER,
    fast_agent,
    fast_hub,
    freeze,
    get,
    metrics_text,
    status_of,
    thaw,
)
from tests.helpers.portal import http_address
from tests.helpers.wait import eventually
from tests.hub.test_metrics_names import GOLDEN_SAMPLE_NAMES

FROZEN, STOPPED, BROKEN = "KR-EE-0101", "KR-BI-0102", "KR-MT-0103"


def watch(hub: RunningHub, centers: tuple[str, ...], until: float) -> dict[str, list[Any]]:
    """(state, silent seconds) of each center, read every 0.1 s until every one is offline
    or ``until`` (monotonic) passes."""
    seen: dict[str, list[Any]] = {c: [] for c in centers}
    while time.monotonic() < until:
        for c in centers:
            s = status_of(hub, c)
            seen[c].append((s["state"], s["silent_seconds"]))
        if all(obs[-1][0] == "offline" for obs in seen.values()):
            break
        time.sleep(0.1)  # the sampling period of the observation itself, not a wait for a state
    return seen


def check_timeline(observed: list[Any], first: str) -> None:
    states = [s for s, _ in observed]
    assert states[0] == first, observed
    assert states[-1] == "offline", observed
    # Never back, never skipping: first -> (stale) -> offline.
    order = ["online", "stale", "offline"]
    assert [order.index(s) for s in states] == sorted(order.index(s) for s in states), observed
    for state, silent in observed:
        if state == "online":
            assert silent <= STALE_AFTER, observed
        if state == "stale":
            assert silent <= OFFLINE_AFTER, observed
        if state == "offline":
            assert silent > OFFLINE_AFTER, observed
    # The transitions happen at the thresholds, not a heartbeat-or-more later.
    first_stale = next((silent for s, silent in observed if s == "stale"), None)
    if first == "online":
        assert first_stale is not None and first_stale <= STALE_AFTER + 1.5, observed
    first_offline = next(silent for s, silent in observed if s == "offline")
    assert first_offline <= OFFLINE_AFTER + 1.5, observed


def log_lines(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return out


def test_stopped_agents_go_stale_then_offline_at_the_configured_times(tmp_path: Path) -> None:
    with running_hub(fast_hub(tmp_path / "hub")) as hub:
        frozen_dir = fast_agent(hub, tmp_path / "frozen", FROZEN)
        stopped_dir = fast_agent(hub, tmp_path / "stopped", STOPPED)
        with running_agent(frozen_dir) as frozen, running_agent(stopped_dir) as stopped:
            for c in (FROZEN, STOPPED):
                eventually(lambda c=c: status_of(hub, c)["state"] == "online", timeout=20)
            # Both at a fresh heartbeat, then: one agent freezes (its stream stays open,
            # heartbeats stop), the other stops cleanly (its stream ends).
            eventually(lambda: status_of(hub, FROZEN)["silent_seconds"] == 0, timeout=5)
            freeze(frozen.process.pid)
            try:
                stopped.stop()
                observed = watch(hub, (FROZEN, STOPPED), time.monotonic() + OFFLINE_AFTER + 6)
            finally:
                thaw(frozen.process.pid)
        check_timeline(observed[FROZEN], first="online")
        check_timeline(observed[STOPPED], first="stale")
        # Within the stale phase the stopped center reads as disconnected, not late.
        assert status_of(hub, STOPPED)["thresholds"]["offline_after_seconds"] == OFFLINE_AFTER


def break_calendar(agent: AgentProcess) -> None:
    """Bytes that are not UTF-8: the whole source is unreadable (not just a row)."""
    path = agent.agent_dir.calendar_csv
    path.write_bytes(path.read_bytes() + b"BK-2,EQ-1,2027-03-03T09:00,\xff\xfe,booked\n")


def test_source_error_shows_in_status_metrics_and_dashboard(tmp_path: Path) -> None:
    data_dir = fast_hub(tmp_path / "hub")
    set_config(data_dir, "log_level", "debug")  # every line, to check each names its center
    with running_hub(data_dir) as hub:
        ad = fast_agent(hub, tmp_path / "broken", BROKEN)
        with running_agent(ad) as agent:
            eventually(lambda: "BK-1" in hub_records(hub, BROKEN)["EQ-1"][2], timeout=20)
            break_calendar(agent)

            def failing() -> dict[str, Any]:
                center = status_of(hub, BROKEN)
                return next((p for p in center["problems"] if p["code"] == "source_failing"), {})

            problem = eventually(failing, timeout=20, what="source failure reported")
            message = problem["what"]["en"]
            assert message.startswith("source 'calendar' failing: ") and "calendar.csv" in message
            assert "not valid utf-8" in message.lower()
            assert problem["action"]["en"] == (
                "fix the source at the center; the last good data is served until then"
            )
            # The last good data is indeed still served.
            assert "BK-1" in hub_records(hub, BROKEN)["EQ-1"][2]

            families = {f.name: f for f in text_string_to_metric_families(metrics_text(hub))}
            labels = {"center": BROKEN, "industry": "machinery-robotics", "source": "calendar"}
            ok = [s for s in families["iplat_center_source_ok"].samples if s.labels == labels]
            errors = [
                s for s in families["iplat_center_source_errors"].samples if s.labels == labels
            ]
            assert [s.value for s in ok] == [0] and [s.value for s in errors] == [1]
            names = {s.name for f in families.values() for s in f.samples}
            # Names stay those of the golden list (series without data yet are absent).
            assert names <= GOLDEN_SAMPLE_NAMES, sorted(names - GOLDEN_SAMPLE_NAMES)
            assert {"iplat_center_up", "iplat_changes_applied_total", "iplat_sync_streams"} <= names

            page = get(f"http://{http_address(hub)}/ops/centers/{BROKEN}").decode()
            detail = message.removeprefix("source 'calendar' failing: ")
            assert detail.replace('"', "&quot;").replace("'", "&#x27;") in page
            history = json.loads(get(f"http://{http_address(hub)}/ops/api/centers/{BROKEN}"))
            assert "source_failing" in [e["kind"] for e in history["history"]]
        hub_log, agent_log = log_lines(hub.log_path), log_lines(agent.log_path)

    # Structured logs: every line about a center carries its id.
    about = [r for r in hub_log if BROKEN in json.dumps(r, ensure_ascii=False)]
    assert about and all(r.get("center_id") == BROKEN for r in about), [
        r for r in about if r.get("center_id") != BROKEN
    ]
    events = {r["event"] for r in about}
    assert {"center_source_failing", "session_start", "batch_applied", "http_request"} <= events
    assert agent_log and all(r.get("center_id") == BROKEN for r in agent_log)

"""Judging `iplat-agent status --json` for the first acknowledged sync."""

from __future__ import annotations

from typing import Any

from installer.agentctl import first_sync
from proto import timeconv

START = 1_780_000_000.0  # the agent was started at this epoch second


def _iso(offset: float) -> str:
    return str(timeconv.iso(int(START + offset)))


def _report(**over: Any) -> dict[str, Any]:
    report: dict[str, Any] = {
        "running": True,
        "connection": "connected",
        "session_started_at": _iso(1),
        "last_error": "",
        "backlog": 0,
        "records": 3,
        "hub_hwm": 3,
        "last_ack_at": _iso(2),
        "sources": [
            {"name": "equipment", "ok": True, "last_poll": _iso(1)},
            {"name": "calendar", "ok": True, "last_poll": _iso(1)},
        ],
        "certificate": {"problem": None},
    }
    report.update(over)
    return report


def test_connected_read_and_acknowledged_is_done() -> None:
    progress = first_sync(_report(), START)
    assert progress.done and "3 record(s)" in progress.summary


def test_empty_sources_need_no_ack() -> None:
    assert first_sync(_report(records=0, hub_hwm=0, last_ack_at=None), START).done


def test_not_yet() -> None:
    assert not first_sync(None, START).done
    assert not first_sync(_report(running=False), START).done
    assert not first_sync(_report(connection="backoff", last_error="refused"), START).done
    assert not first_sync(_report(backlog=2), START).done
    # a session or a poll from before this start belongs to the previous agent process
    assert not first_sync(_report(session_started_at=_iso(-60)), START).done
    old = [{"name": "equipment", "ok": True, "last_poll": _iso(-60)}]
    assert not first_sync(_report(sources=old), START).done
    assert not first_sync(_report(sources=[]), START).done


def test_the_summary_says_what_is_wrong() -> None:
    report = _report(
        connection="backoff",
        last_error="hub unavailable",
        certificate={"problem": "agent.crt expired"},
    )
    summary = first_sync(report, START).summary
    assert "backoff" in summary and "hub unavailable" in summary and "expired" in summary

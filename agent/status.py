"""The agent's live status: written into the state database's meta by the daemon, read back
by ``iplat-agent status`` (whether or not the daemon runs).

The daemon records its connection state, last error, last acknowledgement and hub
high-water mark as they change (:class:`LiveStatus`); :func:`read_status` combines them
with the outbox, the safety valve and source health into a :class:`StatusReport`.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from agent.config import AgentConfig
from agent.errors import StateError
from agent.inbox.store import InboxStore
from agent.state import AgentState
from proto import timeconv

# Meta keys owned by the daemon ("live." keeps them apart from AgentState's own keys).
K_PID = "live.pid"
K_VERSION = "live.agent_version"
K_STARTED = "live.started_at"
K_HUB = "live.hub"
K_CONN = "live.conn_state"
K_CONN_SINCE = "live.conn_since"
K_LAST_ERROR = "live.last_error"
K_LAST_ERROR_AT = "live.last_error_at"
K_RETRY_AT = "live.retry_at"
K_SESSION_STARTED = "live.session_started_at"
K_LAST_ACK_AT = "live.last_ack_at"
K_HUB_HWM = "live.hub_hwm"
K_LAST_RECONCILE = "live.last_reconcile"
# Set once this state file has been welcomed by a hub (see client._handshake).
K_HUB_BOUND = "sync.hub_bound"

CONNECTING = "connecting"
CONNECTED = "connected"
BACKOFF = "backoff"
STOPPED = "stopped"


class LiveStatus:
    """Writes the daemon's live fields into the state meta (through a worker thread)."""

    def __init__(self, state: AgentState) -> None:
        self._state = state

    async def update(self, fields: Mapping[str, object]) -> None:
        await asyncio.to_thread(self.update_now, fields)

    def update_now(self, fields: Mapping[str, object]) -> None:
        self._state.set_meta_many({k: _text(v) for k, v in fields.items()})

    async def connection(self, conn_state: str, **extra: object) -> None:
        await self.update({K_CONN: conn_state, K_CONN_SINCE: time.time(), **extra})


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


@dataclass(frozen=True)
class SourceStatus:
    name: str
    ok: bool
    records: int
    problems: int
    first_problem: str
    last_poll: float


@dataclass(frozen=True)
class HeldStatus:
    source: str
    deletes: int
    total: int
    since: float


@dataclass(frozen=True)
class StatusReport:
    center_id: str
    hub: str
    running: bool
    """A daemon process for this state database is alive."""
    pid: int | None
    agent_version: str
    connection: str
    """connected, connecting, backoff, stopped (or not running)."""
    connection_since: float | None
    last_error: str
    last_error_at: float | None
    retry_at: float | None
    session_started_at: float | None
    last_ack_at: float | None
    hub_hwm: int | None
    backlog: int
    last_assigned_seq: int
    last_acked_seq: int
    records: int
    held: tuple[HeldStatus, ...]
    last_reconcile: dict[str, Any] | None
    sources: tuple[SourceStatus, ...]
    approve_command: str
    requests_waiting: int = 0
    """Routed requests waiting for the center's answer."""
    answers_unacked: int = 0
    """Answers the hub has not acknowledged yet."""
    answers_rejected: int = 0
    """Requests whose latest answer the hub rejected (see ``iplat-agent requests list``)."""

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for key in (
            "connection_since",
            "last_error_at",
            "retry_at",
            "session_started_at",
            "last_ack_at",
        ):
            out[key] = _iso(out[key])
        out["held"] = [{**asdict(h), "since": _iso(h.since)} for h in self.held]
        out["sources"] = [{**asdict(s), "last_poll": _iso(s.last_poll)} for s in self.sources]
        return out


def _iso(value: float | None) -> str | None:
    return None if value is None else timeconv.iso(int(value))


def _float(raw: str | None) -> float | None:
    try:
        return float(raw) if raw else None
    except ValueError:
        return None


def _pid_alive(pid: int | None) -> bool:
    if pid is None or pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user (the service account)
    return True


def daemon_running(state: AgentState) -> bool:
    """A daemon for this state file is alive (for CLI commands that rely on it to act)."""
    raw = state.get_meta(K_PID)
    pid = int(raw) if raw and raw.isdigit() else None
    return _pid_alive(pid) and (state.get_meta(K_CONN) or STOPPED) != STOPPED


def read_status(config: AgentConfig) -> StatusReport:
    """Read the status from the state database; StateError if the agent never ran."""
    if not config.state_path.exists():
        raise StateError(
            f"no state database at {config.state_path}: the agent has not run yet; start it "
            f"with: iplat-agent run --config {config.path}"
        )
    with AgentState(config.state_path, config.center_id) as state:
        return report_from_state(config, state)


def report_from_state(config: AgentConfig, state: AgentState) -> StatusReport:
    def meta(key: str) -> str | None:
        return state.get_meta(key)

    raw_pid = meta(K_PID)
    pid = int(raw_pid) if raw_pid and raw_pid.isdigit() else None
    running = _pid_alive(pid) and (meta(K_CONN) or STOPPED) != STOPPED
    connection = (meta(K_CONN) or STOPPED) if running else STOPPED
    hwm = meta(K_HUB_HWM)
    reconcile = meta(K_LAST_RECONCILE)
    inbox = InboxStore(state).counts()
    return StatusReport(
        center_id=config.center_id,
        hub=config.hub,
        running=running,
        pid=pid if running else None,
        agent_version=meta(K_VERSION) or "",
        connection=connection,
        connection_since=_float(meta(K_CONN_SINCE)),
        last_error=meta(K_LAST_ERROR) or "",
        last_error_at=_float(meta(K_LAST_ERROR_AT)),
        retry_at=_float(meta(K_RETRY_AT)) if connection == BACKOFF else None,
        session_started_at=_float(meta(K_SESSION_STARTED)),
        last_ack_at=_float(meta(K_LAST_ACK_AT)),
        hub_hwm=int(hwm) if hwm and hwm.isdigit() else None,
        backlog=state.backlog(),
        last_assigned_seq=state.last_assigned_seq(),
        last_acked_seq=state.last_acked_seq(),
        records=state.record_count(),
        held=tuple(HeldStatus(h.source, h.deletes, h.total, h.at) for h in state.holds()),
        last_reconcile=json.loads(reconcile) if reconcile else None,
        sources=tuple(
            SourceStatus(
                name=row["name"],
                ok=row["ok"],
                records=row["records"],
                problems=row["problems"],
                first_problem=row["first_problem"],
                last_poll=row["at"],
            )
            for row in state.source_health()
        ),
        approve_command=f"iplat-agent approve-deletes --config {config.path}",
        requests_waiting=inbox.waiting,
        answers_unacked=inbox.unacked,
        answers_rejected=inbox.rejected,
    )


def _when(ts: float | None, now: float) -> str:
    if ts is None:
        return "never"
    ago = max(0, int(now - ts))
    if ago < 120:
        rel = f"{ago} s ago"
    elif ago < 7200:
        rel = f"{ago // 60} min ago"
    else:
        rel = f"{ago // 3600} h ago"
    return f"{timeconv.iso(int(ts))} ({rel})"


def format_status(report: StatusReport, now: float | None = None) -> str:
    now = time.time() if now is None else now
    lines = [
        f"center       {report.center_id}",
        f"hub          {report.hub}",
    ]
    if report.running:
        lines.append(f"agent        running (pid {report.pid}), version {report.agent_version}")
    else:
        lines.append("agent        NOT RUNNING: start it with iplat-agent run (or its service)")
    conn = report.connection
    if conn == CONNECTED:
        lines.append(f"connection   connected since {_when(report.session_started_at, now)}")
    elif conn == BACKOFF:
        retry = f", retrying at {timeconv.iso(int(report.retry_at))}" if report.retry_at else ""
        lines.append(f"connection   DISCONNECTED (waiting to reconnect{retry})")
    elif conn == CONNECTING:
        lines.append("connection   connecting")
    else:
        lines.append("connection   stopped")
    if report.last_error and conn != CONNECTED:
        lines.append(f"last error   {report.last_error} (at {_when(report.last_error_at, now)})")
    hwm = "unknown" if report.hub_hwm is None else str(report.hub_hwm)
    lines.append(f"last ack     {_when(report.last_ack_at, now)}, hub high-water mark {hwm}")
    lines.append(
        f"backlog      {report.backlog} change(s) waiting for the hub "
        f"(last assigned seq {report.last_assigned_seq}, last acked {report.last_acked_seq})"
    )
    lines.append(f"records      {report.records}")
    if report.held:
        for h in report.held:
            lines.append(
                f"HELD         {h.deletes} deletion(s) from source {h.source!r} held back by the "
                f"safety valve since {_when(h.since, now)} (center had {h.total} records)"
            )
        lines.append(
            "             if the source is right, publish them with: " + report.approve_command
        )
    else:
        lines.append("held         none")
    if report.last_reconcile:
        r = report.last_reconcile
        lines.append(
            f"reconcile    {_when(_float(str(r.get('at', ''))), now)}: "
            f"{r.get('buckets_differing', 0)} bucket(s) differed, "
            f"{r.get('upserts_queued', 0)} upsert(s) and {r.get('deletes_queued', 0)} "
            "deletion(s) queued"
        )
    rejected = f", {report.answers_rejected} REJECTED by the hub" if report.answers_rejected else ""
    lines.append(
        f"requests     {report.requests_waiting} waiting for an answer, "
        f"{report.answers_unacked} answer(s) not yet acknowledged{rejected} "
        "(iplat-agent requests list)"
    )
    lines.append("sources")
    if not report.sources:
        lines.append("  (not polled yet)")
    width = max((len(s.name) for s in report.sources), default=0)
    for s in report.sources:
        lines.append(
            f"  {s.name:<{width}}  {'ok  ' if s.ok else 'FAIL'}  {s.records} record(s), "
            f"{s.problems} problem(s), last poll {_when(s.last_poll, now)}"
        )
        if s.first_problem:
            lines.append(f"  {'':<{width}}  first problem: {s.first_problem}")
    return "\n".join(lines)

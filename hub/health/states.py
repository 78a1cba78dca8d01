"""A center's state, as ``center list``, ``status``, /metrics and the dashboard show it.

First match wins:

- ``banned``: refused everything until ``center unban``;
- ``evicted``: its certificates were revoked and it has not enrolled again;
- ``registered``: added, never enrolled (no certificate issued, never seen);
- ``enrolled``: has a certificate but has never connected;
- ``online``: on an open stream and heard within ``stale_after``;
- ``stale``: not online, but heard within ``offline_after`` (heartbeats late, or the stream
  just ended and the agent is reconnecting);
- ``offline``: silent for longer, up to ``missing_after``; every answer flags its data stale;
- ``missing``: silent for longer still: the agent is gone until someone looks.

The thresholds come from the center's own heartbeat interval ``h`` plus a grace period
(``[ops]`` in hub.toml): ``stale_after = stale_after_heartbeats * h + grace``,
``offline_after = offline_after_heartbeats * h + grace``. ``h`` is the larger of what the
agent announced in its Hello and the hub's ``[sync] heartbeat_seconds``: agents adopt the
hub's interval from Welcome, and an agent that announced a slower one must never be called
stale for keeping to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.config import OpsSettings, SyncSettings
from hub.store import CenterStatus, SyncState

# Worst first: the order of ``status`` and of the dashboard's default sort.
STATES = (
    "missing",
    "offline",
    "stale",
    "enrolled",
    "registered",
    "online",
    "evicted",
    "banned",
)
LIVE_STATES = ("online", "stale", "offline", "missing")
"""States of a center whose agent has connected at least once."""


@dataclass(frozen=True)
class Thresholds:
    """Seconds of silence after which a center changes state."""

    heartbeat_seconds: int
    stale_after: float
    offline_after: float
    missing_after: float


def thresholds(state: SyncState, sync: SyncSettings, ops: OpsSettings) -> Thresholds:
    h = max(state.heartbeat_seconds or 0, sync.heartbeat_seconds)
    stale_after = ops.stale_after_heartbeats * h + ops.grace_seconds
    offline_after = ops.offline_after_heartbeats * h + ops.grace_seconds
    return Thresholds(
        heartbeat_seconds=h,
        stale_after=stale_after,
        offline_after=offline_after,
        missing_after=max(float(ops.missing_after_seconds), offline_after),
    )


def center_state(
    status: CenterStatus, now: int, sync: SyncSettings, ops: OpsSettings | None = None
) -> str:
    """The center's state (see the module docstring)."""
    st = status.state
    if status.banned:
        return "banned"
    if status.evicted_at is not None and status.cert_expires_at is None:
        return "evicted"
    if st.last_seen is None:
        return "enrolled" if status.cert_expires_at is not None else "registered"
    limits = thresholds(st, sync, ops or OpsSettings())
    age = now - st.last_seen
    if st.connected and age <= limits.stale_after:
        return "online"
    if age <= limits.offline_after:
        return "stale"
    if age <= limits.missing_after:
        return "offline"
    return "missing"


def state_rank(state: str) -> int:
    """0 for the worst state; unknown states sort last."""
    return STATES.index(state) if state in STATES else len(STATES)

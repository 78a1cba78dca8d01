"""What one Sync session measures for operator health: commit lag and sync summaries.

Change-to-commit lag
    Changes carry no timestamp, so the hub measures the lag from what it sees: a heartbeat
    reports the agent's ``last_assigned_seq`` S; if S is above the committed high-water
    mark, the hub now knows of a change it has not committed and notes (S, t). When an Ack's
    high-water mark reaches S, the lag is the Ack's time minus t. While such a change is
    pending, the lag reported is how long it has been pending, so a stalled stream shows
    a growing lag. A change can be made up to one heartbeat before the hub hears of it: the
    real lag is at most the measured one plus one heartbeat interval. An empty backlog ends
    a pending measurement without a sample (compaction can drop a seq that is then never
    sent).

Sync summaries
    Batches are counted in memory and written to the center's history at most once per
    ``summary_seconds``, with a heartbeat: the apply path writes nothing extra.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SUMMARY_SECONDS = 60.0


@dataclass
class CommitLag:
    """Change-to-commit lag of one session (see the module docstring)."""

    hwm: int
    """The highest committed sequence number this session knows of."""
    last: float | None = None
    """The last completed measurement, seconds."""
    pending_seq: int | None = None
    pending_since: float | None = None

    def committed(self, hwm: int, now: float) -> None:
        self.hwm = max(self.hwm, hwm)
        if self.pending_seq is not None and self.hwm >= self.pending_seq:
            assert self.pending_since is not None
            self.last = max(0.0, now - self.pending_since)
            self.pending_seq = self.pending_since = None

    def heartbeat(self, assigned_seq: int, backlog: int, now: float) -> float | None:
        """Note a heartbeat; return the lag to report (None: nothing measured yet)."""
        if backlog == 0 and self.pending_seq is not None:
            self.pending_seq = self.pending_since = None
        if self.pending_seq is None and assigned_seq > self.hwm and backlog > 0:
            self.pending_seq, self.pending_since = assigned_seq, now
        if self.pending_since is not None:
            return max(self.last or 0.0, now - self.pending_since)
        return self.last


@dataclass
class SessionHealth:
    """Per-session health bookkeeping, owned by :class:`hub.sync_service.Session`."""

    lag: CommitLag
    started: float
    summary_seconds: float = SUMMARY_SECONDS
    _batches: int = 0
    _changes: int = 0
    _duplicates: int = 0
    _last_summary: float | None = field(default=None)

    @classmethod
    def start(cls, hwm: int, now: float) -> SessionHealth:
        return cls(lag=CommitLag(hwm), started=now)

    def batch_committed(self, applied: int, duplicates: int, hwm: int, now: float) -> None:
        self._batches += 1
        self._changes += applied
        self._duplicates += duplicates
        self.lag.committed(hwm, now)

    def summary_due(self, now: float) -> dict[str, Any] | None:
        """What synced since the last summary, if one is due (and anything synced)."""
        if self._batches == 0:
            return None
        since = self._last_summary if self._last_summary is not None else self.started
        # The first summary of a session is written at once: a catch-up after reconnecting
        # is what an operator looks for.
        if self._last_summary is not None and now - since < self.summary_seconds:
            return None
        out = {
            "batches": self._batches,
            "changes": self._changes,
            "duplicates": self._duplicates,
            "hwm": self.lag.hwm,
            "seconds": round(now - since, 1),
        }
        self._batches = self._changes = self._duplicates = 0
        self._last_summary = now
        return out

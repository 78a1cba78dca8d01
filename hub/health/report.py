"""Center health for the whole fleet: states, problems, worst first, and its JSON shape.

:func:`assess_fleet` turns ``Store.center_statuses`` into a :class:`FleetReport`; the
CLI (``iplat-hub status``), ``/metrics`` and the dashboard all read that one report, so
they never disagree about a center.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hub.config import OpsSettings, SyncSettings
from hub.health import problems as rules
from hub.health.problems import Problem, severity_rank
from hub.health.states import LIVE_STATES, STATES, Thresholds, center_state, state_rank, thresholds
from hub.store import CenterStatus
from proto import timeconv

MAX_SOURCES = 16
"""Sources shown (and exported as metrics) per center: a misbehaving agent cannot blow up
the label set."""


@dataclass(frozen=True)
class CenterHealth:
    status: CenterStatus
    state: str
    thresholds: Thresholds
    problems: tuple[Problem, ...]

    @property
    def id(self) -> str:
        return self.status.center.id

    @property
    def severity(self) -> str:
        """The worst problem's severity, or ``ok``."""
        if not self.problems:
            return "ok"
        return min((p.severity for p in self.problems), key=severity_rank)

    def sort_key(self) -> tuple[int, int, int, str]:
        worst = min((severity_rank(p.severity) for p in self.problems), default=9)
        return (worst, state_rank(self.state), -len(self.problems), self.id)

    def sources(self) -> list[dict[str, Any]]:
        return list(self.status.state.sources[:MAX_SOURCES])

    def to_json(self, now: int) -> dict[str, Any]:
        s, c, st = self.status, self.status.center, self.status.state
        return {
            "id": c.id,
            "name_ko": c.name_ko,
            "name_en": c.name_en,
            "industry": c.industry,
            "region": c.region,
            "role": c.role,
            "state": self.state,
            "severity": self.severity,
            "connected": st.connected,
            "last_seen": timeconv.iso(st.last_seen),
            "silent_seconds": (now - st.last_seen) if st.last_seen is not None else None,
            "last_heartbeat": timeconv.iso(st.last_heartbeat_at),
            "last_sync": timeconv.iso(st.last_sync),
            "hwm": st.hwm,
            "backlog": st.backlog,
            "backlog_since": timeconv.iso(st.backlog_since),
            "commit_lag_seconds": st.commit_lag_seconds,
            "quarantined_deletes": st.quarantined_deletes,
            "agent_version": st.agent_version,
            "heartbeat_seconds": self.thresholds.heartbeat_seconds,
            "thresholds": {
                "stale_after_seconds": self.thresholds.stale_after,
                "offline_after_seconds": self.thresholds.offline_after,
                "missing_after_seconds": self.thresholds.missing_after,
            },
            "cert_expires_at": timeconv.iso(s.cert_expires_at),
            "last_reconcile": st.last_reconcile,
            "last_reconcile_at": timeconv.iso(st.last_reconcile_at),
            "sources": [
                {
                    "name": str(src.get("name", "")),
                    "ok": bool(src.get("ok", True)),
                    "records": int(src.get("records") or 0),
                    "problems": int(src.get("problems") or 0),
                    "first_problem": str(src.get("first_problem") or ""),
                    "last_poll": timeconv.iso(src.get("last_poll")),
                }
                for src in self.sources()
            ],
            "problems": [problem_json(p) for p in self.problems],
        }


def problem_json(p: Problem) -> dict[str, Any]:
    return {
        "code": p.code,
        "severity": p.severity,
        "what": {"en": p.what.en, "ko": p.what.ko},
        "action": {"en": p.action.en, "ko": p.action.ko},
    }


@dataclass(frozen=True)
class FleetReport:
    now: int
    centers: tuple[CenterHealth, ...]
    """Worst first."""

    def by_id(self, center_id: str) -> CenterHealth | None:
        return next((c for c in self.centers if c.id == center_id), None)

    def state_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATES, 0)
        for c in self.centers:
            counts[c.state] = counts.get(c.state, 0) + 1
        return counts

    def industry_counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for c in self.centers:
            per = out.setdefault(c.status.center.industry, dict.fromkeys(STATES, 0))
            per[c.state] = per.get(c.state, 0) + 1
        return dict(sorted(out.items()))

    def to_json(self) -> dict[str, Any]:
        return {
            "generated_at": timeconv.iso(self.now),
            "now": self.now,
            "counts": {
                "total": len(self.centers),
                "states": self.state_counts(),
                "industries": self.industry_counts(),
                "problems": sum(len(c.problems) for c in self.centers),
            },
            "centers": [c.to_json(self.now) for c in self.centers],
        }


def assess(
    status: CenterStatus,
    now: int,
    sync: SyncSettings,
    ops: OpsSettings,
    newest_version: str | None = None,
) -> CenterHealth:
    state = center_state(status, now, sync, ops)
    limits = thresholds(status.state, sync, ops)
    found = [
        *rules.liveness(status, state, limits, now),
        *rules.certificate(status, state, now, ops),
    ]
    if state in LIVE_STATES:
        found += [
            *rules.sources(status),
            *rules.held_deletes(status),
            *rules.backlog(status, state, now, ops),
            *rules.lag(status, state, ops),
            *rules.version_skew(status, newest_version),
            *rules.reconciliation(status),
        ]
    found.sort(key=lambda p: severity_rank(p.severity))
    return CenterHealth(status, state, limits, tuple(found))


def assess_fleet(
    statuses: Sequence[CenterStatus], now: int, sync: SyncSettings, ops: OpsSettings
) -> FleetReport:
    newest = rules.newest_version([s.state.agent_version for s in statuses])
    centers = sorted(
        (assess(s, now, sync, ops, newest) for s in statuses), key=CenterHealth.sort_key
    )
    return FleetReport(now, tuple(centers))

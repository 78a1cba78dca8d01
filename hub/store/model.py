"""The store's value types, re-exported by ``hub.store``.

They live here rather than in ``hub/store/__init__.py`` so that the store's
modules can build them without importing the package that imports them.
Times are integer epoch seconds (UTC); codes are the text codes of
``proto.codes`` (``"bio"``, ``"representative"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from iplatform.v1 import message_pb2 as m

DEFAULT_TIME_ZONE = "Asia/Seoul"


@dataclass(frozen=True)
class CenterInfo:
    """A registered center, as the operator entered it."""

    id: str
    name_ko: str
    name_en: str
    industry: str
    """Industry code (``proto.codes.INDUSTRY``), e.g. ``"machinery-robotics"``."""
    region: str
    role: str
    """Role code (``proto.codes.ROLE``): representative, operating or participating."""
    time_zone: str = DEFAULT_TIME_ZONE


@dataclass(frozen=True)
class SyncState:
    """What the hub knows about a center's agent and its sync progress."""

    center_id: str
    hwm: int
    """Highest sequence number of this center the hub has committed (0: none)."""
    last_sync: int | None
    """When a batch with new changes last committed."""
    last_seen: int | None
    """When the agent last said anything (hello, batch, heartbeat, disconnect)."""
    connected: bool
    agent_version: str
    backlog: int
    quarantined_deletes: int
    sources: list[dict[str, Any]] = field(default_factory=list)
    last_reconcile: dict[str, Any] | None = None
    last_reconcile_at: int | None = None


@dataclass(frozen=True)
class ApplyResult:
    """Outcome of ``Store.apply_batch``; becomes the Ack."""

    hwm: int
    applied: int
    """Changes above the previous high-water mark (each took effect unless a newer
    version was already stored)."""
    duplicates: int
    """Changes at or below the previous high-water mark: replays, skipped."""
    rewind: bool = False
    """prev_seq was ahead of the hub; nothing was applied; resend from ``hwm``."""


@dataclass(frozen=True)
class CertificateInfo:
    serial: str
    center_id: str
    not_after: int
    issued_at: int


@dataclass(frozen=True)
class EquipmentSnapshot:
    equipment: m.Equipment
    entries: list[m.CalendarEntry]
    """Ordered by start (then id); empty when the view was asked without entries."""


@dataclass(frozen=True)
class CenterSnapshot:
    center: CenterInfo
    state: SyncState
    stale: bool
    """Never seen, or silent for longer than the view's ``stale_after``."""
    equipment: list[EquipmentSnapshot]

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
    heartbeat_seconds: int | None = None
    """Heartbeat interval the agent announced in its last Hello (None: not announced)."""
    last_heartbeat_at: int | None = None
    commit_lag_seconds: float | None = None
    """Change-to-commit lag the serving hub last measured (hub.health.lag says how)."""
    backlog_since: int | None = None
    """Since when the reported backlog has been non-zero without shrinking (None: it shrank
    or is empty)."""
    backlog_since_value: int | None = None
    """The backlog at ``backlog_since``."""


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


@dataclass(frozen=True)
class TokenInfo:
    """A one-time enrollment token as stored (the secret itself is never stored)."""

    id: str
    """Public id, the part of the token string before the dot."""
    secret_hash: str
    """Hex SHA-256 of the secret."""
    kind: str
    """Identity kind the token enrolls: center, portal or operator."""
    name: str
    """Center id or client name: the identity is decided here, never by the CSR."""
    created_at: int
    expires_at: int
    used_at: int | None = None
    used_by: str | None = None
    """Peer address of the Enroll call that consumed it."""
    cert_serial: str | None = None
    voided_at: int | None = None
    """Set when an evict or ban made the token worthless before use."""


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate the hub issued, of a center or of a portal/operator client."""

    serial: str
    kind: str
    name: str
    not_after: int
    issued_at: int
    ca_fingerprint: str | None
    """The signing CA (``sha256:HEX``); None if recorded before the hub tracked it."""
    revoked_at: int | None


@dataclass(frozen=True)
class AccessChange:
    """What an evict, ban or unban did."""

    center_id: str
    action: str
    certificates_revoked: int
    tokens_voided: int


@dataclass(frozen=True)
class ClientRevocation:
    """What ``iplat-hub client revoke`` did to a portal or operator."""

    kind: str
    name: str
    certificates_revoked: int
    tokens_voided: int


@dataclass(frozen=True)
class AccessEvent:
    """One row of the access log serving hubs follow."""

    seq: int
    at: int
    kind: str
    name: str
    action: str
    """evict, ban or unban (centers); revoke (portals, operators); void (one token)."""
    reason: str


@dataclass(frozen=True)
class RevocationSnapshot:
    """What a serving hub refuses, as of access event ``seq``."""

    seq: int
    revoked_serials: frozenset[str]
    """Revoked certificates that have not expired yet (expired ones fail TLS anyway)."""
    banned_centers: frozenset[str]


@dataclass(frozen=True)
class CenterStatus:
    """A center as operators see it in ``iplat-hub center list``."""

    center: CenterInfo
    state: SyncState
    banned: bool
    evicted_at: int | None
    certificates: int
    """Certificates ever issued to the center."""
    cert_expires_at: int | None
    """Expiry of its latest valid (unrevoked, unexpired) certificate."""
    cert_issued_at: int | None = None
    """When its newest valid certificate was issued."""

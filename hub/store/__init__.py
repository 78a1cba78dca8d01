"""The hub's store: one SQLAlchemy Core store for SQLite and PostgreSQL.

::

    store = Store.open("sqlite:///DATA_DIR/hub.db")   # or postgresql+psycopg://...
    store.apply_batch(center_id, prev_seq, changes, now) -> ApplyResult

All methods are blocking and thread-safe (the gRPC server calls them from worker
threads); times are integer epoch seconds (UTC). Errors: ``StoreError`` when the
database is unreachable or its schema unusable, ``CenterExists``/``UnknownCenter``
for the registry, ``ValueError`` for bad input (nothing is written).

Modules: ``engine`` (connections, transactions, migrations), ``schema`` (tables),
``centers``, ``sync_state``, ``apply``, ``digest``, ``view``, ``convert``
(rows <-> protos), ``model`` (the value types below); for identities: ``issued``
(certificates issued and revoked), ``tokens`` (one-time enrollment tokens), ``access``
(evict/ban and the access log serving hubs follow), ``status`` (centers as operators
see them); for one-stop routing: ``routing`` (writes) and ``routing_read`` (reads), which
take the caller's transaction and are used by :mod:`hub.routing.requests` on ``engine``
(an operation there spans several of them in one transaction, so they are not Store
methods).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from iplatform.v1 import message_pb2 as m
from sqlalchemy import Engine
from sqlalchemy import exc as sa_exc

from hub.errors import StoreError
from hub.store import (
    access,
    apikeys,
    apply,
    catalog,
    centers,
    changelog,
    digest,
    engine,
    events,
    issued,
    status,
    sync_state,
    tokens,
    view,
)
from hub.store.access import UnknownClient
from hub.store.apikeys import ApiKeyExists, ApiKeyInfo
from hub.store.catalog import CenterEntry
from hub.store.changelog import (
    CenterFreshness,
    FeedEvent,
    FeedHead,
    FeedPage,
    FeedPositionAhead,
    FeedPositionGone,
)
from hub.store.events import CenterEvent
from hub.store.model import (
    DEFAULT_TIME_ZONE,
    AccessChange,
    AccessEvent,
    ApplyResult,
    CenterInfo,
    CenterSnapshot,
    CenterStatus,
    CertificateInfo,
    ClientRevocation,
    EquipmentSnapshot,
    IssuedCertificate,
    RevocationSnapshot,
    SyncState,
    TokenInfo,
)
from hub.store.tokens import Redemption, TokenRejected
from proto.records import Key

__all__ = [
    "DEFAULT_TIME_ZONE",
    "AccessChange",
    "AccessEvent",
    "ApiKeyExists",
    "ApiKeyInfo",
    "ApplyResult",
    "CenterEntry",
    "CenterEvent",
    "CenterFreshness",
    "CenterInfo",
    "CenterSnapshot",
    "CenterStatus",
    "CertificateInfo",
    "ClientRevocation",
    "EquipmentSnapshot",
    "FeedEvent",
    "FeedHead",
    "FeedPage",
    "FeedPositionAhead",
    "FeedPositionGone",
    "IssuedCertificate",
    "Redemption",
    "RevocationSnapshot",
    "Store",
    "SyncState",
    "TokenInfo",
    "TokenRejected",
    "UnknownClient",
]


class Store:
    """The hub's database. Create with ``Store.open(url)``; ``close()`` when done."""

    def __init__(self, sa_engine: Engine) -> None:
        self._engine = sa_engine

    @classmethod
    def open(cls, url: str) -> Store:
        """Connect to ``url``, create or migrate the schema (alembic upgrade head).

        Raises StoreError when the URL is invalid, the database unreachable, or its
        schema newer than this code.
        """
        parsed = engine.parse_url(url)
        try:
            sa_engine = engine.create(parsed)
        except (ImportError, sa_exc.ArgumentError) as exc:
            raise StoreError(
                f"cannot use database {engine.safe_url(parsed)}: {exc}; "
                "install the PostgreSQL driver with `pip install iplatform-sync[postgres]`"
            ) from exc
        try:
            engine.migrate(sa_engine)
        except (StoreError, sa_exc.SQLAlchemyError):
            sa_engine.dispose()
            raise
        return cls(sa_engine)

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for read-only queries elsewhere in the hub and tests."""
        return self._engine

    def close(self) -> None:
        """Release all connections; idempotent."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- center registry -------------------------------------------------------

    def add_center(self, info: CenterInfo, *, now: int | None = None) -> CenterInfo:
        """Register a center; returns it with canonical codes.

        Raises ValueError (bad id, code, name or time zone) or CenterExists.
        """
        return centers.add_center(self._engine, info, _now(now))

    def get_center(self, center_id: str) -> CenterInfo | None:
        return centers.get_center(self._engine, center_id)

    def list_centers(self) -> list[CenterInfo]:
        """All centers, by id."""
        return centers.list_centers(self._engine)

    def record_certificate(
        self,
        center_id: str,
        serial_hex: str,
        not_after: int,
        *,
        issued_at: int | None = None,
        ca_fingerprint: str | None = None,
    ) -> None:
        """Remember a certificate signed for ``center_id`` (idempotent per serial)."""
        issued.record_certificate(
            self._engine,
            "center",
            center_id,
            serial_hex,
            not_after,
            _now(issued_at),
            ca_fingerprint,
        )

    def list_certificates(self, center_id: str | None = None) -> list[CertificateInfo]:
        return issued.list_certificates(self._engine, center_id)

    # -- identities: certificates, tokens, evict/ban ------------------------------

    def record_issued(
        self,
        kind: str,
        name: str,
        serial_hex: str,
        not_after: int,
        *,
        ca_fingerprint: str,
        issued_at: int | None = None,
    ) -> None:
        """Remember a certificate issued to any identity (center, portal, operator)."""
        issued.record_certificate(
            self._engine, kind, name, serial_hex, not_after, _now(issued_at), ca_fingerprint
        )

    def list_issued(self, kind: str, name: str) -> list[IssuedCertificate]:
        """Certificates issued to one identity, newest first."""
        return issued.list_issued(self._engine, kind, name)

    def certificates_depending_on(
        self, ca_fingerprint: str, now: int, active_fingerprint: str | None = None
    ) -> list[IssuedCertificate]:
        """Valid certificates signed by that CA (or by an unrecorded one) whose holder has
        not renewed under ``active_fingerprint``: retiring the CA would cut them off."""
        return issued.depending_on(self._engine, ca_fingerprint, now, active_fingerprint)

    def create_token(self, token: TokenInfo) -> None:
        """Store a new enrollment token (hash only). Raises UnknownCenter, ValueError, or
        TokenRejected(BANNED) for a banned center."""
        tokens.create_token(self._engine, token)

    def get_token(self, token_id: str) -> TokenInfo | None:
        return tokens.get_token(self._engine, token_id)

    def list_tokens(self, kind: str | None = None, name: str | None = None) -> list[TokenInfo]:
        return tokens.list_tokens(self._engine, kind, name)

    def redeem_token(
        self, token_id: str, secret_hash: str, now: int, redemption: Redemption
    ) -> TokenInfo:
        """Claim a token and record the certificate it buys, atomically (see ``tokens``)."""
        return tokens.redeem(self._engine, token_id, secret_hash, now, redemption)

    def void_token(self, token_id: str, now: int, reason: str = "") -> TokenInfo:
        """Make one unused token worthless. Raises TokenRejected (UNKNOWN, USED)."""
        return tokens.void_token(self._engine, token_id, now, reason)

    def list_client_certificates(self) -> list[IssuedCertificate]:
        """Every portal's and operator's certificate, by kind and name, newest first."""
        return issued.list_client_certificates(self._engine)

    def revoke_client(self, kind: str, name: str, now: int, reason: str = "") -> ClientRevocation:
        """Revoke a portal's/operator's certificates and void its tokens. Raises
        UnknownClient."""
        return access.revoke_client(self._engine, kind, name, now, reason)

    def evict_center(self, center_id: str, now: int, reason: str = "") -> AccessChange:
        """Revoke all of the center's certificates and unused tokens; it may re-enroll."""
        return access.change(self._engine, center_id, access.EVICT, now, reason)

    def ban_center(self, center_id: str, now: int, reason: str = "") -> AccessChange:
        """Evict and refuse new tokens and certificates until ``unban_center``."""
        return access.change(self._engine, center_id, access.BAN, now, reason)

    def unban_center(self, center_id: str, now: int, reason: str = "") -> AccessChange:
        return access.change(self._engine, center_id, access.UNBAN, now, reason)

    def is_banned(self, center_id: str) -> bool:
        return access.is_banned(self._engine, center_id)

    def access_events_since(self, seq: int) -> list[AccessEvent]:
        """Access events after ``seq``, oldest first (at most 1000 per call)."""
        return access.events_since(self._engine, seq)

    def last_access_event(self) -> int:
        """Position of the newest access event (0: none); what serving hubs poll."""
        return access.last_event_seq(self._engine)

    def revocation_snapshot(self, now: int) -> RevocationSnapshot:
        return access.snapshot(self._engine, now)

    def center_statuses(self, now: int) -> list[CenterStatus]:
        """Every center with liveness, evict/ban state and latest valid certificate."""
        return status.center_statuses(self._engine, now)

    # -- sync state --------------------------------------------------------------

    def sync_state(self, center_id: str) -> SyncState:
        """Raises UnknownCenter."""
        return sync_state.sync_state(self._engine, center_id)

    def record_hello(
        self,
        center_id: str,
        agent_version: str,
        now: int,
        *,
        heartbeat_seconds: int | None = None,
    ) -> None:
        sync_state.record_hello(
            self._engine, center_id, agent_version, now, heartbeat_seconds=heartbeat_seconds
        )

    def record_heartbeat(
        self,
        center_id: str,
        now: int,
        *,
        backlog: int,
        quarantined_deletes: int,
        sources: list[dict[str, Any]],
        commit_lag_seconds: float | None = None,
        synced: dict[str, Any] | None = None,
    ) -> list[tuple[str, dict[str, Any]]]:
        """Returns the history events the heartbeat caused (source failures, held deletes)."""
        return sync_state.record_heartbeat(
            self._engine,
            center_id,
            now,
            backlog=backlog,
            quarantined_deletes=quarantined_deletes,
            sources=sources,
            commit_lag_seconds=commit_lag_seconds,
            synced=synced,
        )

    def record_disconnect(self, center_id: str, now: int, *, reason: str = "") -> None:
        sync_state.record_disconnect(self._engine, center_id, now, reason=reason)

    def record_reconcile(self, center_id: str, now: int, report: dict[str, Any]) -> None:
        sync_state.record_reconcile(self._engine, center_id, now, report)

    def center_events(self, center_id: str, limit: int = 50) -> list[CenterEvent]:
        """The center's recent sync history, newest first (``hub.store.events``)."""
        return events.recent(self._engine, center_id, limit)

    # -- sync --------------------------------------------------------------------

    def apply_batch(
        self, center_id: str, prev_seq: int, changes: Sequence[m.Change], now: int
    ) -> ApplyResult:
        """Apply one batch in one transaction (see ``hub.store.apply``).

        Raises UnknownCenter, or ValueError (nothing applied) when a change belongs
        to another center or cannot be stored exactly.
        """
        return apply.apply_batch(self._engine, center_id, prev_seq, changes, now)

    def prepare_batch(
        self, center_id: str, changes: Sequence[m.Change], now: int
    ) -> apply.PreparedBatch:
        """The first half of ``apply_batch``: convert the changes to rows, no database.

        Pure computation, so a caller serializing its writes can run it outside that
        serialization. Raises ValueError (nothing applied) like ``apply_batch``.
        """
        return apply.prepare(center_id, changes, now)

    def apply_prepared(self, batch: apply.PreparedBatch, prev_seq: int) -> ApplyResult:
        """The second half of ``apply_batch``: its transaction. Raises UnknownCenter."""
        return apply.apply_prepared(self._engine, batch, prev_seq)

    def bucket_digests(self, center_id: str, bucket_count: int) -> list[bytes]:
        return digest.bucket_digests(self._engine, center_id, bucket_count)

    def bucket_contents(
        self, center_id: str, bucket_count: int, buckets: Iterable[int]
    ) -> dict[int, list[tuple[Key, bytes]]]:
        return digest.bucket_contents(self._engine, center_id, bucket_count, buckets)

    # -- national view -------------------------------------------------------------

    def national_view(
        self,
        now: int,
        stale_after: int,
        center_ids: Iterable[str] | None = None,
        include_entries: bool = True,
    ) -> list[CenterSnapshot]:
        """Centers by id, their equipment by id, entries by start. Raises UnknownCenter
        when ``center_ids`` names a center that is not registered."""
        return view.national_view(self._engine, now, stale_after, center_ids, include_entries)

    # -- portal API: paged reads, the change feed, API keys ------------------------------

    def centers_page(
        self,
        after: str | None,
        limit: int,
        now: int,
        stale_after: int,
        *,
        industry: str | None = None,
        region: str | None = None,
    ) -> list[catalog.CenterEntry]:
        """Centers with id > ``after`` (by id), with freshness (see ``catalog``)."""
        return catalog.centers_page(
            self._engine, after, limit, now, stale_after, industry=industry, region=region
        )

    def center_entry(
        self, center_id: str, now: int, stale_after: int
    ) -> catalog.CenterEntry | None:
        return catalog.center(self._engine, center_id, now, stale_after)

    def equipment_page(self, center_id: str, after: str | None, limit: int) -> list[m.Equipment]:
        return catalog.equipment_page(self._engine, center_id, after, limit)

    def get_equipment(self, center_id: str, equipment_id: str) -> m.Equipment | None:
        return catalog.equipment_one(self._engine, center_id, equipment_id)

    def center_ids_page(self, after: str | None, limit: int) -> list[str]:
        return catalog.center_ids_page(self._engine, after, limit)

    def feed_head(self) -> changelog.FeedHead:
        """The newest committed feed position and the pruned horizon (one row read)."""
        return changelog.head(self._engine)

    def read_feed(self, after: int, limit: int, now: int, stale_after: int) -> changelog.FeedPage:
        """Feed events after ``after`` with the records' current state (``changelog``).
        Raises FeedPositionGone / FeedPositionAhead."""
        return changelog.read(self._engine, after, limit, now, stale_after)

    def announce_freshness(self, now: int, stale_after: int) -> list[tuple[str, bool]]:
        """Log a stale/fresh feed event per center whose freshness changed."""
        return changelog.announce_freshness(self._engine, now, stale_after)

    def prune_feed(self, before: int) -> int:
        """Drop change-log rows written before ``before``; the number removed."""
        return changelog.prune(self._engine, before)

    def create_api_key(self, info: apikeys.ApiKeyInfo) -> None:
        """Raises ApiKeyExists or ValueError (unknown role)."""
        apikeys.create(self._engine, info)

    def get_api_key(self, key_id: str) -> apikeys.ApiKeyInfo | None:
        return apikeys.get(self._engine, key_id)

    def list_api_keys(self) -> list[apikeys.ApiKeyInfo]:
        return apikeys.list_keys(self._engine)

    def revoke_api_key(self, name: str, now: int) -> apikeys.ApiKeyInfo | None:
        return apikeys.revoke(self._engine, name, now)


def _now(now: int | None) -> int:
    return int(time.time()) if now is None else now

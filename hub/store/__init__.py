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
(rows <-> protos), ``model`` (the value types below).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from iplatform.v1 import message_pb2 as m
from sqlalchemy import Engine
from sqlalchemy import exc as sa_exc

from hub.errors import StoreError
from hub.store import apply, centers, digest, engine, sync_state, view
from hub.store.model import (
    DEFAULT_TIME_ZONE,
    ApplyResult,
    CenterInfo,
    CenterSnapshot,
    CertificateInfo,
    EquipmentSnapshot,
    SyncState,
)
from proto.records import Key

__all__ = [
    "DEFAULT_TIME_ZONE",
    "ApplyResult",
    "CenterInfo",
    "CenterSnapshot",
    "CertificateInfo",
    "EquipmentSnapshot",
    "Store",
    "SyncState",
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
        self, center_id: str, serial_hex: str, not_after: int, *, issued_at: int | None = None
    ) -> None:
        """Remember a certificate signed for ``center_id`` (idempotent per serial)."""
        centers.record_certificate(self._engine, center_id, serial_hex, not_after, _now(issued_at))

    def list_certificates(self, center_id: str | None = None) -> list[CertificateInfo]:
        return centers.list_certificates(self._engine, center_id)

    # -- sync state --------------------------------------------------------------

    def sync_state(self, center_id: str) -> SyncState:
        """Raises UnknownCenter."""
        return sync_state.sync_state(self._engine, center_id)

    def record_hello(self, center_id: str, agent_version: str, now: int) -> None:
        sync_state.record_hello(self._engine, center_id, agent_version, now)

    def record_heartbeat(
        self,
        center_id: str,
        now: int,
        *,
        backlog: int,
        quarantined_deletes: int,
        sources: list[dict[str, Any]],
    ) -> None:
        sync_state.record_heartbeat(
            self._engine,
            center_id,
            now,
            backlog=backlog,
            quarantined_deletes=quarantined_deletes,
            sources=sources,
        )

    def record_disconnect(self, center_id: str, now: int) -> None:
        sync_state.record_disconnect(self._engine, center_id, now)

    def record_reconcile(self, center_id: str, now: int, report: dict[str, Any]) -> None:
        sync_state.record_reconcile(self._engine, center_id, now, report)

    # -- sync --------------------------------------------------------------------

    def apply_batch(
        self, center_id: str, prev_seq: int, changes: Sequence[m.Change], now: int
    ) -> ApplyResult:
        """Apply one batch in one transaction (see ``hub.store.apply``).

        Raises UnknownCenter, or ValueError (nothing applied) when a change belongs
        to another center or cannot be stored exactly.
        """
        return apply.apply_batch(self._engine, center_id, prev_seq, changes, now)

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


def _now(now: int | None) -> int:
    return int(time.time()) if now is None else now

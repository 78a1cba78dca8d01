"""Evicting and banning centers, and the access log serving hubs follow.

- **evict**: every certificate issued to the center so far is revoked (by serial) and its
  unused tokens are voided; the center may come back with a new token.
- **ban**: the same, and no new token or certificate is issued until ``unban``.
- **unban**: lifts the ban only; the revoked certificates stay revoked.
- **revoke** (portals and operators): every certificate issued to the client is revoked
  and its unused tokens are voided; it may come back with a new token.

Each change appends one row to ``access_events`` in the same transaction. ``iplat-hub``
commands run in their own process; a serving hub polls ``events_since(seq)`` (one index
probe on the primary key) and, when something happened, reloads :func:`snapshot` and
closes the affected streams.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, func, insert, select, update

from hub.errors import StoreError
from hub.store.centers import require
from hub.store.engine import read_tx, write_tx
from hub.store.issued import (
    CLIENT_KINDS,
    revoke_center_certificates,
    revoke_client_certificates,
    revoked_serials,
)
from hub.store.model import AccessChange, AccessEvent, ClientRevocation, RevocationSnapshot
from hub.store.schema import access_events, center_access, client_certificates, enrollment_tokens
from hub.store.tokens import void_tokens

EVICT = "evict"
BAN = "ban"
UNBAN = "unban"
REVOKE = "revoke"


class UnknownClient(StoreError):
    """No certificate and no token was ever issued to that portal or operator."""


def _ensure_row(conn: Connection, center_id: str) -> None:
    exists = conn.execute(
        select(center_access.c.center_id).where(center_access.c.center_id == center_id)
    ).first()
    if exists is None:
        conn.execute(insert(center_access).values(center_id=center_id))


def _log(conn: Connection, kind: str, name: str, action: str, reason: str, now: int) -> None:
    conn.execute(
        insert(access_events).values(
            at=now, kind=kind, name=name, action=action, reason=reason[:500]
        )
    )


def change(engine: Engine, center_id: str, action: str, now: int, reason: str = "") -> AccessChange:
    """Evict, ban or unban ``center_id``. Raises UnknownCenter."""
    if action not in (EVICT, BAN, UNBAN):
        raise ValueError(f"unknown access action {action!r}")
    revoked = voided = 0
    with write_tx(engine) as conn:
        require(conn, center_id)
        _ensure_row(conn, center_id)
        where = center_access.c.center_id == center_id
        if action == UNBAN:
            conn.execute(update(center_access).where(where).values(banned=False, banned_at=None))
        else:
            revoked = revoke_center_certificates(conn, center_id, now)
            voided = void_tokens(conn, "center", center_id, now)
            values: dict[str, object] = {"evicted_at": now, "reason": reason[:500]}
            if action == BAN:
                values.update(banned=True, banned_at=now)
            conn.execute(update(center_access).where(where).values(**values))
        _log(conn, "center", center_id, action, reason, now)
    return AccessChange(center_id, action, revoked, voided)


def _client_known(conn: Connection, kind: str, name: str) -> bool:
    for table in (client_certificates, enrollment_tokens):
        found = conn.execute(
            select(table.c.kind).where(table.c.kind == kind, table.c.name == name).limit(1)
        ).first()
        if found is not None:
            return True
    return False


def revoke_client(
    engine: Engine, kind: str, name: str, now: int, reason: str = ""
) -> ClientRevocation:
    """Revoke a portal's or operator's certificates and void its unused tokens, in one
    transaction logged for serving hubs. Raises UnknownClient, ValueError (bad kind)."""
    if kind not in CLIENT_KINDS:
        raise ValueError(f"only portals and operators are revoked this way, not {kind!r}")
    with write_tx(engine) as conn:
        if not _client_known(conn, kind, name):
            raise UnknownClient(f"no certificate or token was ever issued to {kind} {name!r}")
        revoked = revoke_client_certificates(conn, kind, name, now)
        voided = void_tokens(conn, kind, name, now)
        _log(conn, kind, name, REVOKE, reason, now)
    return ClientRevocation(kind, name, revoked, voided)


def is_banned(engine: Engine, center_id: str) -> bool:
    with read_tx(engine) as conn:
        row = conn.execute(
            select(center_access.c.banned).where(center_access.c.center_id == center_id)
        ).first()
    return bool(row and row.banned)


def last_event_seq(engine: Engine) -> int:
    with read_tx(engine) as conn:
        return int(
            conn.execute(select(func.coalesce(func.max(access_events.c.seq), 0))).scalar_one()
        )


def events_since(engine: Engine, seq: int, limit: int = 1000) -> list[AccessEvent]:
    """Access events after ``seq``, oldest first."""
    with read_tx(engine) as conn:
        rows = conn.execute(
            select(access_events)
            .where(access_events.c.seq > seq)
            .order_by(access_events.c.seq)
            .limit(limit)
        ).mappings()
        return [
            AccessEvent(
                seq=r["seq"],
                at=r["at"],
                kind=r["kind"],
                name=r["name"],
                action=r["action"],
                reason=r["reason"],
            )
            for r in rows
        ]


def snapshot(engine: Engine, now: int) -> RevocationSnapshot:
    """Everything a serving hub refuses, consistent with the access log up to ``seq``."""
    with read_tx(engine) as conn:
        seq = int(
            conn.execute(select(func.coalesce(func.max(access_events.c.seq), 0))).scalar_one()
        )
        banned = conn.execute(
            select(center_access.c.center_id).where(center_access.c.banned)
        ).scalars()
        banned_set = frozenset(banned)
        serials = frozenset(revoked_serials(conn, now))
    return RevocationSnapshot(seq=seq, revoked_serials=serials, banned_centers=banned_set)

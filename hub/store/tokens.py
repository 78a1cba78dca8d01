"""One-time enrollment tokens: create, list, redeem atomically, void.

Only the SHA-256 of a token's secret is stored. Redeeming is one transaction: the
conditional ``UPDATE ... WHERE used_at IS NULL AND voided_at IS NULL AND expires_at > now``
claims the token, and the certificate it paid for is recorded in the same transaction.
Of two concurrent redeems exactly one updates a row (SQLite: ``BEGIN IMMEDIATE``
serialises them; PostgreSQL: the second UPDATE waits for the first's row lock and then
re-checks its WHERE clause), so one token can never buy two certificates.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from hub.errors import StoreError
from hub.store.centers import require
from hub.store.engine import read_tx, write_tx
from hub.store.issued import CLIENT_KINDS, insert_certificate
from hub.store.model import TokenInfo
from hub.store.schema import access_events, center_access, centers, enrollment_tokens


class TokenRejected(StoreError):
    """The token cannot be used; ``reason`` is one of the class attributes below."""

    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    VOIDED = "voided"
    BANNED = "banned"
    GONE = "gone"  # the center was deleted after the token was made

    def __init__(self, reason: str, token: TokenInfo | None) -> None:
        super().__init__(f"enrollment token {reason}")
        self.reason = reason
        self.token = token


@dataclass(frozen=True)
class Redemption:
    """The certificate a token is being exchanged for, recorded when the token is claimed."""

    serial_hex: str
    not_after: int
    ca_fingerprint: str
    peer: str


def _token(row: Any) -> TokenInfo:
    return TokenInfo(
        id=row["id"],
        secret_hash=row["secret_hash"],
        kind=row["kind"],
        name=row["name"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        used_at=row["used_at"],
        used_by=row["used_by"],
        cert_serial=row["cert_serial"],
        voided_at=row["voided_at"],
    )


def _banned(conn: Connection, center_id: str) -> bool:
    row = conn.execute(
        select(center_access.c.banned).where(center_access.c.center_id == center_id)
    ).first()
    return bool(row and row.banned)


def create_token(engine: Engine, token: TokenInfo) -> None:
    """Store a new token. Raises UnknownCenter/ValueError; TokenRejected(BANNED)."""
    if token.kind != "center" and token.kind not in CLIENT_KINDS:
        raise ValueError(f"tokens enroll centers, portals or operators, not {token.kind!r}")
    if token.expires_at <= token.created_at:
        raise ValueError("a token must expire after it is created")
    with write_tx(engine) as conn:
        if token.kind == "center":
            require(conn, token.name)
            if _banned(conn, token.name):
                raise TokenRejected(TokenRejected.BANNED, token)
        conn.execute(
            insert(enrollment_tokens).values(
                id=token.id,
                secret_hash=token.secret_hash,
                kind=token.kind,
                name=token.name,
                created_at=token.created_at,
                expires_at=token.expires_at,
            )
        )


def get_token(engine: Engine, token_id: str) -> TokenInfo | None:
    with read_tx(engine) as conn:
        row = (
            conn.execute(select(enrollment_tokens).where(enrollment_tokens.c.id == token_id))
            .mappings()
            .first()
        )
    return _token(row) if row is not None else None


def list_tokens(
    engine: Engine, kind: str | None = None, name: str | None = None
) -> list[TokenInfo]:
    query = select(enrollment_tokens).order_by(
        enrollment_tokens.c.created_at, enrollment_tokens.c.id
    )
    if kind is not None:
        query = query.where(enrollment_tokens.c.kind == kind)
    if name is not None:
        query = query.where(enrollment_tokens.c.name == name)
    with read_tx(engine) as conn:
        return [_token(r) for r in conn.execute(query).mappings()]


USABLE = "usable"
STATES = (USABLE, TokenRejected.USED, TokenRejected.EXPIRED, TokenRejected.VOIDED)


def state(token: TokenInfo, now: int) -> str:
    """usable, used, voided or expired (in that order of precedence)."""
    if token.used_at is not None:
        return TokenRejected.USED
    if token.voided_at is not None:
        return TokenRejected.VOIDED
    if token.expires_at <= now:
        return TokenRejected.EXPIRED
    return USABLE


def check(token: TokenInfo | None, secret_hash: str, now: int) -> TokenInfo:
    """``token`` if it may still be redeemed with ``secret_hash``; else TokenRejected."""
    # compare_digest: the time taken must not tell a guesser how much of the hash matched.
    if token is None or not hmac.compare_digest(token.secret_hash, secret_hash):
        raise TokenRejected(TokenRejected.UNKNOWN, None)
    if token.used_at is not None:
        raise TokenRejected(TokenRejected.USED, token)
    if token.voided_at is not None:
        raise TokenRejected(TokenRejected.VOIDED, token)
    if token.expires_at <= now:
        raise TokenRejected(TokenRejected.EXPIRED, token)
    return token


def redeem(
    engine: Engine, token_id: str, secret_hash: str, now: int, redemption: Redemption
) -> TokenInfo:
    """Claim the token and record the certificate in one transaction; return the token.

    Raises TokenRejected when the token is unknown, used (also by a concurrent redeem that
    won), voided, expired, or its center is banned or gone; nothing is written then.
    """
    t = enrollment_tokens
    with write_tx(engine) as conn:
        row = conn.execute(select(t).where(t.c.id == token_id)).mappings().first()
        token = check(_token(row) if row is not None else None, secret_hash, now)
        if token.kind == "center":
            if conn.execute(select(centers.c.id).where(centers.c.id == token.name)).first() is None:
                raise TokenRejected(TokenRejected.GONE, token)
            if _banned(conn, token.name):
                raise TokenRejected(TokenRejected.BANNED, token)
        claimed = conn.execute(
            update(t)
            .where(
                t.c.id == token_id,
                t.c.secret_hash == secret_hash,
                t.c.used_at.is_(None),
                t.c.voided_at.is_(None),
                t.c.expires_at > now,
            )
            .values(used_at=now, used_by=redemption.peer[:200], cert_serial=redemption.serial_hex)
        )
        if claimed.rowcount != 1:
            # Another redeem committed between our read and this UPDATE.
            raise TokenRejected(TokenRejected.USED, token)
        insert_certificate(
            conn,
            token.kind,
            token.name,
            redemption.serial_hex,
            redemption.not_after,
            now,
            redemption.ca_fingerprint,
        )
    return token


def void_tokens(conn: Connection, kind: str, name: str, now: int) -> int:
    """Make every unused token of an identity worthless (evict/ban); return how many."""
    t = enrollment_tokens
    result = conn.execute(
        update(t)
        .where(t.c.kind == kind, t.c.name == name, t.c.used_at.is_(None), t.c.voided_at.is_(None))
        .values(voided_at=now)
    )
    return int(result.rowcount)


def void_token(engine: Engine, token_id: str, now: int, reason: str = "") -> TokenInfo:
    """Make one unused token worthless (an expired one too); return it as now stored.

    Voiding a voided token changes nothing. Raises TokenRejected(UNKNOWN) for an unknown
    id and TokenRejected(USED) for a token that already bought a certificate (revoke that
    instead). The access log records the voiding, with ``reason``.
    """
    t = enrollment_tokens
    with write_tx(engine) as conn:
        row = conn.execute(select(t).where(t.c.id == token_id)).mappings().first()
        if row is None:
            raise TokenRejected(TokenRejected.UNKNOWN, None)
        token = _token(row)
        if token.used_at is None and token.voided_at is not None:
            return token
        voided = conn.execute(
            update(t)
            .where(t.c.id == token_id, t.c.used_at.is_(None), t.c.voided_at.is_(None))
            .values(voided_at=now)
        )
        if voided.rowcount != 1:  # used, also by a redeem that committed after our read
            row = conn.execute(select(t).where(t.c.id == token_id)).mappings().one()
            raise TokenRejected(TokenRejected.USED, _token(row))
        text = f"token {token_id}" + (f": {reason}" if reason else "")
        conn.execute(
            insert(access_events).values(
                at=now, kind=token.kind, name=token.name, action="void", reason=text[:500]
            )
        )
    return replace(token, voided_at=now)

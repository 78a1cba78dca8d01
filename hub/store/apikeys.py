"""API keys of the HTTP API: create, look up, list, revoke.

Only the SHA-256 of a key's secret is stored (``hub.http.apikeys`` makes and parses the
key strings); a copy of the database cannot be used to call the API. A revoked key keeps
its row, so that using it is answered "revoked" (403) rather than "unknown" (401), and
its name stays taken: a replacement gets a new name.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, RowMapping, insert, select, update
from sqlalchemy import exc as sa_exc

from hub.errors import StoreError
from hub.store.engine import read_tx, write_tx
from hub.store.schema import api_keys

ROLES = ("portal", "operator")


class ApiKeyExists(StoreError):
    """An API key with this name exists (perhaps revoked)."""


@dataclass(frozen=True)
class ApiKeyInfo:
    id: str
    """Public id: the part of the key string before the dot."""
    name: str
    role: str
    """``portal`` or ``operator``."""
    secret_hash: str
    """Hex SHA-256 of the secret."""
    created_at: int
    revoked_at: int | None = None


def _info(row: RowMapping) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=row["id"],
        name=row["name"],
        role=row["role"],
        secret_hash=row["secret_hash"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


def create(engine: Engine, info: ApiKeyInfo) -> None:
    """Store a new key. Raises ValueError (bad role) or ApiKeyExists."""
    if info.role not in ROLES:
        raise ValueError(f"API key role {info.role!r} is not one of {', '.join(ROLES)}")
    try:
        with write_tx(engine) as conn:
            taken = conn.execute(select(api_keys.c.id).where(api_keys.c.name == info.name))
            if taken.first() is not None:
                raise ApiKeyExists(f"an API key named {info.name!r} exists")
            conn.execute(
                insert(api_keys).values(
                    id=info.id,
                    name=info.name,
                    role=info.role,
                    secret_hash=info.secret_hash,
                    created_at=info.created_at,
                    revoked_at=None,
                )
            )
    except sa_exc.IntegrityError:
        # Two concurrent creates of one name on PostgreSQL: the unique index decides.
        raise ApiKeyExists(f"an API key named {info.name!r} exists") from None


def get(engine: Engine, key_id: str) -> ApiKeyInfo | None:
    with read_tx(engine) as conn:
        row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
    return None if row is None else _info(row)


def list_keys(engine: Engine) -> list[ApiKeyInfo]:
    """Every key, revoked ones included, by name."""
    with read_tx(engine) as conn:
        rows = conn.execute(select(api_keys).order_by(api_keys.c.name)).mappings().all()
    return [_info(r) for r in rows]


def revoke(engine: Engine, name: str, now: int) -> ApiKeyInfo | None:
    """Revoke the key named ``name`` (idempotent); None when there is no such key."""
    with write_tx(engine) as conn:
        conn.execute(
            update(api_keys)
            .where(api_keys.c.name == name, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        row = conn.execute(select(api_keys).where(api_keys.c.name == name)).mappings().first()
    return None if row is None else _info(row)

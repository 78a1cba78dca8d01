"""The center registry. Certificates issued to centers live in ``hub.store.issued``."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy import exc as sa_exc

from hub.errors import CenterExists, UnknownCenter
from hub.store import convert
from hub.store.engine import read_tx, write_tx
from hub.store.model import CenterInfo
from hub.store.schema import center_sync, centers
from proto import codes, identity, limits


def normalise(info: CenterInfo) -> CenterInfo:
    """``info`` with canonical codes, or ValueError saying what to fix."""
    identity.check_center_id(info.id)
    if not (info.name_ko.strip() or info.name_en.strip()):
        raise ValueError(f"center {info.id}: give a Korean or an English name")
    for what, value in (
        ("name_ko", info.name_ko),
        ("name_en", info.name_en),
        ("region", info.region),
    ):
        if len(value) > limits.MAX_TEXT_LENGTH or "\x00" in value:
            raise ValueError(
                f"center {info.id}: {what} must be at most {limits.MAX_TEXT_LENGTH} "
                "characters without NUL"
            )
    industry = codes.INDUSTRY.code(codes.INDUSTRY.value(info.industry))
    role = codes.ROLE.code(codes.ROLE.value(info.role))
    try:
        ZoneInfo(info.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"center {info.id}: unknown time zone {info.time_zone!r}; use an IANA name "
            "such as Asia/Seoul"
        ) from None
    return CenterInfo(
        id=info.id,
        name_ko=info.name_ko.strip(),
        name_en=info.name_en.strip(),
        industry=industry,
        region=info.region.strip(),
        role=role,
        time_zone=info.time_zone,
    )


def add_center(engine: Engine, info: CenterInfo, now: int) -> CenterInfo:
    info = normalise(info)
    try:
        with write_tx(engine) as conn:
            if conn.execute(select(centers.c.id).where(centers.c.id == info.id)).first():
                raise CenterExists(_exists(info.id))
            conn.execute(
                insert(centers).values(
                    id=info.id,
                    name_ko=info.name_ko,
                    name_en=info.name_en,
                    industry=info.industry,
                    region=info.region,
                    role=info.role,
                    time_zone=info.time_zone,
                    created_at=now,
                )
            )
            conn.execute(insert(center_sync).values(center_id=info.id))
    except sa_exc.IntegrityError:
        # Another hub process added it between our check and insert.
        raise CenterExists(_exists(info.id)) from None
    return info


def _exists(center_id: str) -> str:
    return (
        f"center {center_id} is already registered; choose another id, or use "
        "`iplat-hub center list` to see it"
    )


def get_center(engine: Engine, center_id: str) -> CenterInfo | None:
    with read_tx(engine) as conn:
        row = conn.execute(select(centers).where(centers.c.id == center_id)).mappings().first()
    return convert.center_from_row(row) if row is not None else None


def list_centers(engine: Engine) -> list[CenterInfo]:
    with read_tx(engine) as conn:
        rows = conn.execute(select(centers).order_by(centers.c.id)).mappings().all()
    return [convert.center_from_row(r) for r in rows]


def require(conn: Connection, center_id: str) -> None:
    """Raise UnknownCenter unless ``center_id`` is registered."""
    if conn.execute(select(centers.c.id).where(centers.c.id == center_id)).first() is None:
        raise UnknownCenter(unknown_message(center_id))


def unknown_message(center_id: str) -> str:
    return (
        f"center {center_id!r} is not registered on this hub; add it with "
        "`iplat-hub center add` (or check the id)"
    )

"""The center registry: centers and the certificates issued to their agents."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy import exc as sa_exc

from hub.errors import CenterExists, UnknownCenter
from hub.store import convert
from hub.store.engine import read_tx, write_tx
from hub.store.model import CenterInfo, CertificateInfo
from hub.store.schema import center_sync, centers, certificates
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


def record_certificate(
    engine: Engine, center_id: str, serial_hex: str, not_after: int, issued_at: int
) -> None:
    serial = serial_hex.lower().removeprefix("0x")
    try:
        int(serial, 16)
    except ValueError:
        raise ValueError(f"certificate serial {serial_hex!r} is not hexadecimal") from None
    if len(serial) > 64:
        raise ValueError(f"certificate serial {serial_hex!r} is longer than 64 hex digits")
    with write_tx(engine) as conn:
        require(conn, center_id)
        row = conn.execute(
            select(certificates.c.center_id).where(certificates.c.serial == serial)
        ).first()
        if row is not None and row.center_id != center_id:
            raise ValueError(
                f"certificate serial {serial} is already recorded for center {row.center_id}"
            )
        if row is None:
            conn.execute(
                insert(certificates).values(
                    serial=serial, center_id=center_id, not_after=not_after, issued_at=issued_at
                )
            )


def list_certificates(engine: Engine, center_id: str | None = None) -> list[CertificateInfo]:
    """Certificates, newest first (per center when ``center_id`` is given)."""
    query = select(certificates).order_by(
        certificates.c.center_id, certificates.c.issued_at.desc(), certificates.c.serial
    )
    if center_id is not None:
        query = query.where(certificates.c.center_id == center_id)
    with read_tx(engine) as conn:
        rows = conn.execute(query).mappings().all()
    return [
        CertificateInfo(
            serial=r["serial"],
            center_id=r["center_id"],
            not_after=r["not_after"],
            issued_at=r["issued_at"],
        )
        for r in rows
    ]

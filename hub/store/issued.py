"""Certificates the hub issued: centers' (``certificates``) and portals'/operators'
(``client_certificates``), with the CA that signed each and its revocation.

Serials are lower-case hex without ``0x`` (``hub.pki.serial_hex``), the form the serving
hub compares peer certificates against.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, Table, insert, or_, select, update

from hub.store.centers import require
from hub.store.engine import read_tx, write_tx
from hub.store.model import CertificateInfo, IssuedCertificate
from hub.store.schema import certificates, client_certificates

CLIENT_KINDS = ("portal", "operator")


def normalise_serial(serial_hex: str) -> str:
    serial = serial_hex.lower().removeprefix("0x")
    try:
        int(serial, 16)
    except ValueError:
        raise ValueError(f"certificate serial {serial_hex!r} is not hexadecimal") from None
    if len(serial) > 64:
        raise ValueError(f"certificate serial {serial_hex!r} is longer than 64 hex digits")
    return serial


def _check_kind(kind: str) -> None:
    if kind != "center" and kind not in CLIENT_KINDS:
        raise ValueError(f"no certificates are issued to kind {kind!r}")


def insert_certificate(
    conn: Connection,
    kind: str,
    name: str,
    serial_hex: str,
    not_after: int,
    issued_at: int,
    ca_fingerprint: str | None,
) -> None:
    """Record one issued certificate inside the caller's transaction (idempotent per serial).

    Raises UnknownCenter for an unregistered center, ValueError for a serial already
    recorded for someone else.
    """
    _check_kind(kind)
    serial = normalise_serial(serial_hex)
    if kind == "center":
        require(conn, name)
        row = conn.execute(
            select(certificates.c.center_id).where(certificates.c.serial == serial)
        ).first()
        owner = row.center_id if row is not None else None
        values: dict[str, Any] = {"center_id": name}
        table: Table = certificates
    else:
        row = conn.execute(
            select(client_certificates.c.kind, client_certificates.c.name).where(
                client_certificates.c.serial == serial
            )
        ).first()
        owner = f"{row.kind}/{row.name}" if row is not None else None
        values = {"kind": kind, "name": name}
        table = client_certificates
    if row is not None:
        if owner != (name if kind == "center" else f"{kind}/{name}"):
            raise ValueError(f"certificate serial {serial} is already recorded for {owner}")
        return
    conn.execute(
        insert(table).values(
            serial=serial,
            not_after=not_after,
            issued_at=issued_at,
            ca_fingerprint=ca_fingerprint,
            **values,
        )
    )


def record_certificate(
    engine: Engine,
    kind: str,
    name: str,
    serial_hex: str,
    not_after: int,
    issued_at: int,
    ca_fingerprint: str | None = None,
) -> None:
    with write_tx(engine) as conn:
        insert_certificate(conn, kind, name, serial_hex, not_after, issued_at, ca_fingerprint)


def list_certificates(engine: Engine, center_id: str | None = None) -> list[CertificateInfo]:
    """Centers' certificates, newest first (per center when ``center_id`` is given)."""
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


def _center_cert(row: Any) -> IssuedCertificate:
    return IssuedCertificate(
        serial=row["serial"],
        kind="center",
        name=row["center_id"],
        not_after=row["not_after"],
        issued_at=row["issued_at"],
        ca_fingerprint=row["ca_fingerprint"],
        revoked_at=row["revoked_at"],
    )


def _client_cert(row: Any) -> IssuedCertificate:
    return IssuedCertificate(
        serial=row["serial"],
        kind=row["kind"],
        name=row["name"],
        not_after=row["not_after"],
        issued_at=row["issued_at"],
        ca_fingerprint=row["ca_fingerprint"],
        revoked_at=row["revoked_at"],
    )


def list_issued(engine: Engine, kind: str, name: str) -> list[IssuedCertificate]:
    """Every certificate issued to one identity, newest first."""
    _check_kind(kind)
    with read_tx(engine) as conn:
        if kind == "center":
            rows = conn.execute(
                select(certificates)
                .where(certificates.c.center_id == name)
                .order_by(certificates.c.issued_at.desc(), certificates.c.serial)
            ).mappings()
            return [_center_cert(r) for r in rows]
        rows = conn.execute(
            select(client_certificates)
            .where(client_certificates.c.kind == kind, client_certificates.c.name == name)
            .order_by(client_certificates.c.issued_at.desc(), client_certificates.c.serial)
        ).mappings()
        return [_client_cert(r) for r in rows]


def depending_on(
    engine: Engine, ca_fingerprint: str, now: int, active_fingerprint: str | None = None
) -> list[IssuedCertificate]:
    """Unrevoked, unexpired certificates signed by ``ca_fingerprint`` that someone still
    needs: their holder has no valid certificate from ``active_fingerprint`` (a renewal
    under the active CA supersedes them).

    Rows without a recorded CA (from before revision 0002) are included: nobody can tell
    which CA signed them, and retiring the wrong one would cut those peers off.
    """
    out: list[IssuedCertificate] = []
    with read_tx(engine) as conn:
        for table, build, holder in (
            (certificates, _center_cert, (certificates.c.center_id,)),
            (
                client_certificates,
                _client_cert,
                (client_certificates.c.kind, client_certificates.c.name),
            ),
        ):
            renewed: set[tuple[Any, ...]] = set()
            if active_fingerprint is not None:
                renewed = {
                    tuple(r)
                    for r in conn.execute(
                        select(*holder).where(
                            table.c.revoked_at.is_(None),
                            table.c.not_after > now,
                            table.c.ca_fingerprint == active_fingerprint,
                        )
                    )
                }
            rows = conn.execute(
                select(table)
                .where(
                    table.c.revoked_at.is_(None),
                    table.c.not_after > now,
                    or_(
                        table.c.ca_fingerprint == ca_fingerprint,
                        table.c.ca_fingerprint.is_(None),
                    ),
                )
                .order_by(table.c.not_after, table.c.serial)
            ).mappings()
            for r in rows:
                if tuple(r[c.name] for c in holder) not in renewed:
                    out.append(build(r))
    return out


def revoke_center_certificates(conn: Connection, center_id: str, now: int) -> int:
    """Revoke every not yet revoked certificate of a center; return how many."""
    result = conn.execute(
        update(certificates)
        .where(certificates.c.center_id == center_id, certificates.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount)


def list_client_certificates(engine: Engine) -> list[IssuedCertificate]:
    """Every portal's and operator's certificate, by kind and name, newest first."""
    c = client_certificates.c
    with read_tx(engine) as conn:
        rows = conn.execute(
            select(client_certificates).order_by(c.kind, c.name, c.issued_at.desc(), c.serial)
        ).mappings()
        return [_client_cert(r) for r in rows]


def revoke_client_certificates(conn: Connection, kind: str, name: str, now: int) -> int:
    """Revoke every not yet revoked certificate of a portal or operator; return how many."""
    if kind not in CLIENT_KINDS:
        raise ValueError(f"client certificates are issued to {CLIENT_KINDS}, not {kind!r}")
    c = client_certificates.c
    result = conn.execute(
        update(client_certificates)
        .where(c.kind == kind, c.name == name, c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount)


def revoked_serials(conn: Connection, now: int) -> set[str]:
    """Serials of revoked certificates that have not expired (expired ones fail TLS)."""
    out: set[str] = set()
    for table in (certificates, client_certificates):
        out.update(
            conn.execute(
                select(table.c.serial).where(
                    table.c.revoked_at.is_not(None), table.c.not_after > now
                )
            ).scalars()
        )
    return out

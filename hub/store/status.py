"""Centers as operators see them (``iplat-hub center list``): registry, sync liveness,
evict/ban state and the latest valid certificate, read in one snapshot."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from hub.store import convert
from hub.store.engine import read_tx
from hub.store.model import CenterStatus
from hub.store.schema import center_access, center_sync, centers, certificates


def center_statuses(engine: Engine, now: int) -> list[CenterStatus]:
    valid = (
        select(
            certificates.c.center_id,
            func.max(certificates.c.not_after).label("expires"),
            func.max(certificates.c.issued_at).label("issued"),
        )
        .where(certificates.c.revoked_at.is_(None), certificates.c.not_after > now)
        .group_by(certificates.c.center_id)
        .subquery()
    )
    issued = (
        select(certificates.c.center_id, func.count().label("n"))
        .group_by(certificates.c.center_id)
        .subquery()
    )
    query = (
        select(
            centers,
            center_sync,
            center_access.c.banned,
            center_access.c.evicted_at,
            valid.c.expires,
            valid.c.issued,
            issued.c.n,
        )
        .join(center_sync, center_sync.c.center_id == centers.c.id)
        .outerjoin(center_access, center_access.c.center_id == centers.c.id)
        .outerjoin(valid, valid.c.center_id == centers.c.id)
        .outerjoin(issued, issued.c.center_id == centers.c.id)
        .order_by(centers.c.id)
    )
    with read_tx(engine) as conn:
        rows = conn.execute(query).mappings().all()
    return [
        CenterStatus(
            center=convert.center_from_row(r),
            state=convert.sync_state_from_row(r),
            banned=bool(r["banned"]),
            evicted_at=r["evicted_at"],
            certificates=int(r["n"] or 0),
            cert_expires_at=r["expires"],
            cert_issued_at=r["issued"],
        )
        for r in rows
    ]

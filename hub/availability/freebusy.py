"""free_busy(): busy time per equipment of one center, for iCalendar VFREEBUSY.

Kinds follow RFC 5545's FBTYPE: booked -> BUSY, tentative -> BUSY-TENTATIVE;
maintenance, closures, time outside operating hours, and the whole window of equipment
whose status does not allow use -> BUSY-UNAVAILABLE. Periods are disjoint: where kinds
overlap the stronger wins (UNAVAILABLE over BUSY over TENTATIVE), so a client that
draws them needs no rules of its own. Booking rules (lead time, slot sizes) are rules
for requests, not busy time, and do not appear.
"""

from __future__ import annotations

from sqlalchemy import Engine, select, union_all

from hub.availability import hours, intervals, slots
from hub.availability.candidates import overlapping
from hub.availability.errors import InvalidFilter, InvalidWindow, NotFound
from hub.availability.intervals import Interval
from hub.availability.model import (
    BusyKind,
    BusyPeriod,
    CenterFreshness,
    EquipmentFreeBusy,
    FreeBusy,
)
from hub.availability.query import MAX_WINDOW_DAYS
from hub.store import Store
from hub.store.engine import read_tx
from hub.store.schema import center_sync, centers, entries, equipment
from hub.store.view import is_stale
from proto import identity

_UNAVAILABLE_KINDS = ("maintenance", "closure")


def _check(center_id: str, equipment_id: str | None, window: tuple[int, int]) -> None:
    lo, hi = window
    if not isinstance(lo, int) or not isinstance(hi, int) or hi <= lo:
        raise InvalidWindow("to", "the window is empty or inverted: 'to' must be after 'from'")
    if hi - lo > MAX_WINDOW_DAYS * 86400:
        raise InvalidWindow("to", f"ask for at most {MAX_WINDOW_DAYS} days of free/busy at a time")
    if not identity.valid_name(center_id):
        raise InvalidFilter("center_id", f"invalid center id {center_id[:80]!r}")
    if equipment_id is not None and not identity.valid_name(equipment_id):
        raise InvalidFilter("equipment_id", f"invalid equipment id {equipment_id[:80]!r}")


def periods(
    template: hours.Template,
    zone_name: str,
    status: str,
    busy: list[tuple[int, int, str]],
    window: Interval,
) -> tuple[BusyPeriod, ...]:
    """One equipment's disjoint busy periods in ``window`` (``busy``: start, end, kind)."""
    lo, hi = window
    if status not in slots.USABLE_STATUSES:
        return (BusyPeriod(lo, hi, BusyKind.BUSY_UNAVAILABLE),)
    closed = intervals.complement(list(hours.open_intervals(template, zone_name, lo, hi)), lo, hi)
    unavailable = intervals.merge(
        [*closed, *((a, b) for a, b, k in busy if k in _UNAVAILABLE_KINDS)]
    )
    unavailable = intervals.clip(unavailable, lo, hi)
    booked = intervals.clip(intervals.merge((a, b) for a, b, k in busy if k == "booked"), lo, hi)
    booked = intervals.subtract(booked, unavailable)
    tentative = intervals.merge((a, b) for a, b, k in busy if k == "tentative")
    tentative = intervals.subtract(
        intervals.subtract(intervals.clip(tentative, lo, hi), unavailable), booked
    )
    out = [BusyPeriod(a, b, BusyKind.BUSY_UNAVAILABLE) for a, b in unavailable]
    out += [BusyPeriod(a, b, BusyKind.BUSY) for a, b in booked]
    out += [BusyPeriod(a, b, BusyKind.BUSY_TENTATIVE) for a, b in tentative]
    return tuple(sorted(out, key=lambda p: p.start))


def free_busy(
    store: Store | Engine,
    center_id: str,
    equipment_id: str | None,
    window: tuple[int, int],
    *,
    now: int,
    stale_after: int,
) -> FreeBusy:
    """Busy periods of one equipment (or every equipment of the center when None) in
    ``window`` = (from, to) epoch seconds, at most MAX_WINDOW_DAYS long.

    Raises QueryError (bad window or id) or NotFound (unknown center or equipment).
    """
    _check(center_id, equipment_id, window)
    lo, hi = window
    engine = store.engine if isinstance(store, Store) else store
    e, n = equipment.c, entries.c
    eq_q = (
        select(e.id, e.name_ko, e.name_en, e.status, e.operating_hours)
        .where(e.center_id == center_id)
        .order_by(e.id)
    )
    en_parts = []
    for condition in overlapping(lo, hi):
        part = select(n.equipment_id, n.start_at, n.end_at, n.kind).where(
            n.center_id == center_id, condition
        )
        if equipment_id is not None:
            part = part.where(n.equipment_id == equipment_id)
        en_parts.append(part)
    en_q = union_all(*en_parts)
    if equipment_id is not None:
        eq_q = eq_q.where(e.id == equipment_id)
    center_q = (
        select(centers, center_sync.c.last_seen, center_sync.c.last_sync)
        .select_from(centers.join(center_sync, center_sync.c.center_id == centers.c.id))
        .where(centers.c.id == center_id)
    )
    with read_tx(engine) as conn:
        center = conn.execute(center_q).mappings().first()
        if center is None:
            raise NotFound(
                f"center {center_id} is not registered; list centers with the national view"
            )
        rows = conn.execute(eq_q).all()
        if equipment_id is not None and not rows:
            raise NotFound(
                f"center {center_id} has no equipment {equipment_id}; "
                "ask for the center's free/busy without an equipment id to see all"
            )
        busy: dict[str, list[tuple[int, int, str]]] = {}
        for eq_id, start, end, kind in conn.execute(en_q).all():
            busy.setdefault(eq_id, []).append((start, end, kind))
    zone_name = center["time_zone"]
    return FreeBusy(
        center=CenterFreshness(
            id=center["id"],
            name_ko=center["name_ko"],
            name_en=center["name_en"],
            industry=center["industry"],
            region=center["region"],
            time_zone=zone_name,
            last_seen=center["last_seen"],
            last_sync=center["last_sync"],
            stale=is_stale(center["last_seen"], now, stale_after),
        ),
        window_from=lo,
        window_to=hi,
        equipment=tuple(
            EquipmentFreeBusy(
                equipment_id=r.id,
                name_ko=r.name_ko,
                name_en=r.name_en,
                status=r.status,
                busy=periods(
                    slots.template(r.operating_hours),
                    zone_name,
                    r.status,
                    busy.get(r.id, []),
                    (lo, hi),
                ),
            )
            for r in rows
        ),
    )

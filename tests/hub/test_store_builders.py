"""Builders shared by the store tests (no tests here)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from hub.store import CenterInfo, Store
from proto import pb, timeconv

CENTER = "KR-MR-0001"
OTHER = "KR-BI-0002"
T0 = 1_800_000_000  # 2027-01-15, inside the validated 2000-2100 range


def center(center_id: str = CENTER, **overrides: Any) -> CenterInfo:
    fields: dict[str, Any] = {
        "id": center_id,
        "name_ko": "경남기계로봇센터",
        "name_en": "Gyeongnam Machinery Center",
        "industry": "machinery-robotics",
        "region": "Gyeongnam",
        "role": "representative",
    }
    fields.update(overrides)
    return CenterInfo(**fields)


def equipment(eid: str, **overrides: Any) -> Any:
    fields: dict[str, Any] = {
        "id": eid,
        "name_ko": f"장비 {eid}",
        "name_en": f"Equipment {eid}",
        "category": "battery-cycler",
        "capabilities": ["cycling", "eis"],
        "status": pb.EQUIPMENT_STATUS_AVAILABLE,
        "stages": [pb.RD_STAGE_VALIDATION],
        "services": [pb.SERVICE_KIND_TEST_ANALYSIS],
    }
    fields.update(overrides)
    return pb.Equipment(**fields)


def entry(enid: str, eid: str, start: int, hours: int = 2, kind: Any = None) -> Any:
    return pb.CalendarEntry(
        id=enid,
        equipment_id=eid,
        start=timeconv.from_epoch(start),
        end=timeconv.from_epoch(start + hours * 3600),
        kind=pb.ENTRY_KIND_BOOKED if kind is None else kind,
    )


def up(seq: int, record: Any, center_id: str = CENTER) -> Any:
    if isinstance(record, pb.Equipment):
        key = pb.RecordKey(kind=pb.RECORD_KIND_EQUIPMENT, id=record.id)
        return pb.Change(key=key, seq=seq, center_id=center_id, equipment=record)
    key = pb.RecordKey(kind=pb.RECORD_KIND_ENTRY, id=record.id)
    return pb.Change(key=key, seq=seq, center_id=center_id, entry=record)


def gone(seq: int, kind: Any, rid: str, center_id: str = CENTER) -> Any:
    key = pb.RecordKey(kind=kind, id=rid)
    return pb.Change(key=key, seq=seq, center_id=center_id, deleted=True)


def opened(url: str, *centers: CenterInfo) -> Store:
    store = Store.open(url)
    for info in centers:
        store.add_center(info, now=T0)
    return store


def sql(store: Store, statement: str, **params: Any) -> list[Any]:
    """Run SQL behind the store's back (as an operator or a bug would)."""
    with store.engine.begin() as conn:
        result = conn.execute(text(statement), params)
        return list(result) if result.returns_rows else []


def view_of(store: Store, center_id: str = CENTER) -> dict[str, tuple[Any, list[Any]]]:
    """{equipment id: (equipment, [entries])} of one center in the national view."""
    (snap,) = store.national_view(T0, 60, center_ids=[center_id])
    return {s.equipment.id: (s.equipment, s.entries) for s in snap.equipment}

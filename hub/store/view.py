"""The national view: every (or the chosen) center with its freshness, equipment and
busy time, read in one consistent snapshot."""

from __future__ import annotations

from collections.abc import Iterable

from iplatform.v1 import message_pb2 as m
from sqlalchemy import Engine, Select, select

from hub.errors import UnknownCenter
from hub.store import convert
from hub.store.centers import unknown_message
from hub.store.engine import read_tx
from hub.store.model import CenterSnapshot, EquipmentSnapshot
from hub.store.schema import center_sync, centers, entries, equipment


def is_stale(last_seen: int | None, now: int, stale_after: int) -> bool:
    return last_seen is None or now - last_seen > stale_after


def national_view(
    engine: Engine,
    now: int,
    stale_after: int,
    center_ids: Iterable[str] | None = None,
    include_entries: bool = True,
) -> list[CenterSnapshot]:
    if stale_after < 0:
        raise ValueError(f"stale_after must not be negative (got {stale_after})")
    wanted = sorted(set(center_ids)) if center_ids is not None else None
    center_q: Select[tuple[object, ...]] = (
        select(centers, center_sync)
        .join(center_sync, center_sync.c.center_id == centers.c.id)
        .order_by(centers.c.id)
    )
    equipment_q = select(equipment).order_by(equipment.c.center_id, equipment.c.id)
    entries_q = select(entries).order_by(
        entries.c.center_id, entries.c.equipment_id, entries.c.start_at, entries.c.id
    )
    if wanted is not None:
        center_q = center_q.where(centers.c.id.in_(wanted))
        equipment_q = equipment_q.where(equipment.c.center_id.in_(wanted))
        entries_q = entries_q.where(entries.c.center_id.in_(wanted))

    with read_tx(engine) as conn:
        center_rows = conn.execute(center_q).mappings().all()
        if wanted is not None and len(center_rows) < len(wanted):
            found = {r["id"] for r in center_rows}
            missing = [c for c in wanted if c not in found]
            raise UnknownCenter(unknown_message(missing[0]))
        by_center: dict[str, list[EquipmentSnapshot]] = {r["id"]: [] for r in center_rows}
        by_equipment: dict[tuple[str, str], list[m.CalendarEntry]] = {}
        for row in conn.execute(equipment_q).mappings():
            snapshot = EquipmentSnapshot(equipment=convert.equipment_from_row(row), entries=[])
            by_center[row["center_id"]].append(snapshot)
            by_equipment[(row["center_id"], row["id"])] = snapshot.entries
        if include_entries:
            for row in conn.execute(entries_q).mappings():
                # Entries of equipment the center has not sent (or deleted) are not shown.
                busy = by_equipment.get((row["center_id"], row["equipment_id"]))
                if busy is not None:
                    busy.append(convert.entry_from_row(row))

    out = []
    for row in center_rows:
        state = convert.sync_state_from_row(row)
        out.append(
            CenterSnapshot(
                center=convert.center_from_row(row),
                state=state,
                stale=is_stale(state.last_seen, now, stale_after),
                equipment=by_center[row["id"]],
            )
        )
    return out

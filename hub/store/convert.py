"""Rows <-> protos and store value types.

The round trip record -> row -> record is exact (same deterministic bytes, so the
same ``proto.records.record_hash``): reconciliation compares the agent's hash of its
record with the hub's hash of the record rebuilt from the *columns*, so a row
changed behind the hub's back shows up as a difference. Anything the columns cannot
hold exactly (sub-second times, NUL characters, a missing start) is refused with
ValueError rather than silently altered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from iplatform.v1 import message_pb2 as m
from sqlalchemy import RowMapping

from hub.store.model import CenterInfo, SyncState
from proto import codes, timeconv

Row = Mapping[str, Any] | RowMapping

_EQUIPMENT_TEXT = (
    "name_ko",
    "name_en",
    "category",
    "manufacturer",
    "model",
    "location",
    "fee_note",
)


# One encoder for all rows: json.dumps with options builds a new encoder per call,
# which showed up in the ingest profile. Compact, and Korean text stays readable.
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _json(value: list[Any]) -> str:
    return _encode(value) if value else "[]"


def _refuse_nul(what: str, names: tuple[str, ...], values: list[str]) -> None:
    # PostgreSQL text cannot hold NUL; refuse it on both backends alike. One joined
    # scan per record keeps the hot path cheap; the slow search runs only on failure.
    if "\x00" in "".join(values):
        bad = next(n for n, v in zip(names, values, strict=False) if "\x00" in v)
        raise ValueError(f"{what} {bad} contains a NUL character; remove it at the source")


_EQUIPMENT_TEXT_CHECKED = ("id", *_EQUIPMENT_TEXT)


def equipment_row(center_id: str, eq: m.Equipment, version: int, now: int) -> dict[str, Any]:
    texts = [eq.id, eq.name_ko, eq.name_en, eq.category, eq.manufacturer, eq.model]
    texts += [eq.location, eq.fee_note]
    capabilities = list(eq.capabilities)
    if "\x00" in "".join(texts) or "\x00" in "".join(capabilities):
        _refuse_nul(
            f"equipment {eq.id!r}",
            (*_EQUIPMENT_TEXT_CHECKED, *["capability"] * len(capabilities)),
            texts + capabilities,
        )
    if eq.HasField("booking_rules"):
        rules = eq.booking_rules
        slots = (rules.min_slot_minutes, rules.max_slot_minutes, rules.lead_time_minutes)
    else:
        slots = (None, None, None)
    return {
        "center_id": center_id,
        "id": texts[0],
        "name_ko": texts[1],
        "name_en": texts[2],
        "category": texts[3],
        "manufacturer": texts[4],
        "model": texts[5],
        "location": texts[6],
        "fee_note": texts[7],
        "capabilities": _json(capabilities),
        "year_acquired": eq.year_acquired,
        "status": codes.STATUS.code(eq.status),
        "stages": _json([codes.STAGE.code(s) for s in eq.stages]),
        "services": _json([codes.SERVICE.code(s) for s in eq.services]),
        "min_slot_minutes": slots[0],
        "max_slot_minutes": slots[1],
        "lead_time_minutes": slots[2],
        "operating_hours": _json(
            [[h.weekday, h.start_minute, h.end_minute] for h in eq.operating_hours]
        ),
        "version": version,
        "updated_at": now,
    }


def equipment_from_row(row: Row) -> m.Equipment:
    eq = m.Equipment(
        id=row["id"],
        capabilities=json.loads(row["capabilities"]),
        year_acquired=row["year_acquired"],
        status=codes.STATUS.value(row["status"]),
        stages=[codes.STAGE.value(s) for s in json.loads(row["stages"])],
        services=[codes.SERVICE.value(s) for s in json.loads(row["services"])],
        operating_hours=[
            m.WeeklyHours(weekday=w, start_minute=s, end_minute=e)
            for w, s, e in json.loads(row["operating_hours"])
        ],
    )
    for name in _EQUIPMENT_TEXT:
        setattr(eq, name, row[name])
    if row["min_slot_minutes"] is not None:
        eq.booking_rules.SetInParent()
        eq.booking_rules.min_slot_minutes = row["min_slot_minutes"]
        eq.booking_rules.max_slot_minutes = row["max_slot_minutes"] or 0
        eq.booking_rules.lead_time_minutes = row["lead_time_minutes"] or 0
    return eq


def _seconds(what: str, entry_id: str, entry: m.CalendarEntry) -> int:
    if not entry.HasField(what):
        raise ValueError(
            f"calendar entry {entry_id!r} has no {what}; both start and end are required"
        )
    ts = getattr(entry, what)
    if ts.nanos:
        raise ValueError(
            f"calendar entry {entry_id!r} {what} has fractions of a second; "
            "send whole seconds (the hub stores epoch seconds)"
        )
    return int(ts.seconds)


def entry_row(center_id: str, en: m.CalendarEntry, version: int, now: int) -> dict[str, Any]:
    rid, equipment_id, start, end = en.id, en.equipment_id, en.start, en.end
    # Hot path (most of what agents send): a few attribute reads decide that nothing is
    # unusual; only then do the checks below run, which say exactly what is wrong.
    if (
        "\x00" in rid
        or "\x00" in equipment_id
        or start.nanos
        or end.nanos
        or not (en.HasField("start") and en.HasField("end"))
    ):
        _refuse_nul(f"entry {rid!r}", ("id", "equipment_id"), [rid, equipment_id])
        _seconds("start", rid, en)
        _seconds("end", rid, en)
    return {
        "center_id": center_id,
        "id": rid,
        "equipment_id": equipment_id,
        "start_at": int(start.seconds),
        "end_at": int(end.seconds),
        "kind": codes.ENTRY_KIND.code(en.kind),
        "version": version,
        "updated_at": now,
    }


def entry_from_row(row: Row) -> m.CalendarEntry:
    return m.CalendarEntry(
        id=row["id"],
        equipment_id=row["equipment_id"],
        start=timeconv.from_epoch(row["start_at"]),
        end=timeconv.from_epoch(row["end_at"]),
        kind=codes.ENTRY_KIND.value(row["kind"]),
    )


def center_from_row(row: Row) -> CenterInfo:
    return CenterInfo(
        id=row["id"],
        name_ko=row["name_ko"],
        name_en=row["name_en"],
        industry=row["industry"],
        region=row["region"],
        role=row["role"],
        time_zone=row["time_zone"],
    )


def sync_state_from_row(row: Row) -> SyncState:
    reconcile = row["last_reconcile"]
    return SyncState(
        center_id=row["center_id"],
        hwm=row["hwm"],
        last_sync=row["last_sync"],
        last_seen=row["last_seen"],
        connected=bool(row["connected"]),
        agent_version=row["agent_version"],
        backlog=row["backlog"],
        quarantined_deletes=row["quarantined_deletes"],
        sources=json.loads(row["sources"]),
        last_reconcile=json.loads(reconcile) if reconcile is not None else None,
        last_reconcile_at=row["last_reconcile_at"],
        # .get: queries that select only some center_sync columns still convert.
        heartbeat_seconds=row.get("heartbeat_seconds"),
        last_heartbeat_at=row.get("last_heartbeat_at"),
        commit_lag_seconds=row.get("commit_lag_seconds"),
        backlog_since=row.get("backlog_since"),
        backlog_since_value=row.get("backlog_since_value"),
    )


def dump_json(what: str, value: object) -> str:
    """JSON text for a column, or ValueError naming ``what`` when it cannot be encoded."""
    try:
        return _encode(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{what} must be JSON-serialisable (lists, dicts, text, numbers): {exc}"
        ) from None

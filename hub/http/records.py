"""Records as the HTTP API's JSON: centers, freshness, equipment, calendar entries, feed events.

Codes are the readable text codes of :mod:`proto.codes` (``bio``, ``out-of-service``);
instants are ISO 8601 UTC with ``Z``; absent values are ``null``, never left out, so every
object has one shape (the OpenAPI schemas in :mod:`hub.http.openapi` list them).
Calendar entries carry busy time only: there is no customer field anywhere.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from aiohttp import web
from iplatform.v1 import message_pb2 as m

from hub.feed import tokens
from hub.store import CenterEntry, CenterFreshness, FeedEvent
from proto import codes, timeconv

_dumps = partial(json.dumps, ensure_ascii=False)


def json_response(data: Any) -> web.Response:
    """A 200 JSON answer; Korean text stays readable (UTF-8, not \\u escapes)."""
    return web.json_response(data, dumps=_dumps)


def _code(cmap: codes.CodeMap, value: int) -> str | None:
    try:
        return cmap.code(value)
    except ValueError:
        return None


def freshness(
    last_sync: int | None, last_seen: int | None, connected: bool, stale: bool
) -> dict[str, Any]:
    return {
        "last_sync": timeconv.iso(last_sync),
        "last_seen": timeconv.iso(last_seen),
        "connected": connected,
        "stale": stale,
    }


def center(entry: CenterEntry) -> dict[str, Any]:
    c, st = entry.center, entry.state
    return {
        "id": c.id,
        "name_ko": c.name_ko,
        "name_en": c.name_en,
        "industry": c.industry,
        "region": c.region,
        "role": c.role,
        "time_zone": c.time_zone,
        "equipment_count": entry.equipment_count,
        "freshness": freshness(st.last_sync, st.last_seen, st.connected, entry.stale),
    }


def center_state(c: CenterFreshness) -> dict[str, Any]:
    return {"id": c.center_id, **freshness(c.last_sync, c.last_seen, c.connected, c.stale)}


def equipment(center_id: str, eq: m.Equipment) -> dict[str, Any]:
    rules = None
    if eq.HasField("booking_rules"):
        r = eq.booking_rules
        rules = {
            "min_slot_minutes": r.min_slot_minutes or None,
            "max_slot_minutes": r.max_slot_minutes or None,
            "lead_time_minutes": r.lead_time_minutes or None,
        }
    return {
        "id": eq.id,
        "center_id": center_id,
        "name_ko": eq.name_ko,
        "name_en": eq.name_en,
        "category": eq.category,
        "capabilities": list(eq.capabilities),
        "manufacturer": eq.manufacturer,
        "model": eq.model,
        "year_acquired": eq.year_acquired or None,
        "status": _code(codes.STATUS, eq.status),
        "stages": [c for c in (_code(codes.STAGE, s) for s in eq.stages) if c],
        "services": [c for c in (_code(codes.SERVICE, s) for s in eq.services) if c],
        "location": eq.location,
        "fee_note": eq.fee_note,
        "booking_rules": rules,
        "operating_hours": [
            {"weekday": h.weekday, "start_minute": h.start_minute, "end_minute": h.end_minute}
            for h in eq.operating_hours
        ],
    }


def entry(center_id: str, en: m.CalendarEntry) -> dict[str, Any]:
    return {
        "id": en.id,
        "center_id": center_id,
        "equipment_id": en.equipment_id,
        "start": timeconv.iso(en.start.seconds),
        "end": timeconv.iso(en.end.seconds),
        "kind": _code(codes.ENTRY_KIND, en.kind),
    }


def event(ev: FeedEvent, centers: dict[str, CenterFreshness]) -> dict[str, Any]:
    c = centers.get(ev.center_id) or CenterFreshness(ev.center_id, None, None, False, True)
    return {
        "token": tokens.encode(ev.position),
        "center_id": ev.center_id,
        "kind": ev.kind,
        "id": ev.record_id,
        "op": ev.op,
        "at": timeconv.iso(ev.at),
        "equipment": equipment(ev.center_id, ev.equipment) if ev.equipment is not None else None,
        "entry": entry(ev.center_id, ev.entry) if ev.entry is not None else None,
        "center": center_state(c),
    }

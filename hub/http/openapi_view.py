"""The OpenAPI paths and schemas of the national view: centers, equipment, free-slot
search, the change feed, the snapshot and the iCalendar free/busy feeds.

Built from the constants the handlers validate with (:mod:`hub.http.routes_centers`,
:mod:`hub.http.routes_search`, ...), so the document cannot promise a range the API
refuses; :mod:`hub.http.openapi` merges it into ``/openapi.json``.
"""

from __future__ import annotations

from hub import availability as av
from hub.feed import tokens
from hub.http import routes_centers, routes_feed, routes_ical, routes_search
from hub.http.openapi_parts import (
    BOOL,
    CURSOR,
    CURSOR_PARAM,
    ICS_SECURITY,
    INT,
    LOCAL_TIME,
    STR,
    TIME,
    TOKEN,
    Schema,
    enum,
    limit,
    nullable,
    obj,
    op,
    path,
    query,
    ref,
    responses,
    safe,
    text,
)
from proto import codes


def schemas() -> dict[str, Schema]:
    """Centers, equipment, busy time, the feed and the search answer."""
    freshness = {
        "last_sync": {**nullable(TIME), "description": "Commit of the last applied batch"},
        "last_seen": {**nullable(TIME), "description": "Last time the agent was heard from"},
        "connected": {**BOOL, "description": "The agent has a sync stream open"},
        "stale": {
            **BOOL,
            "description": "Silent past the staleness threshold (or never seen): do not "
            "present this center's data as current",
        },
    }
    return {
        "Freshness": obj(freshness),
        "Center": obj(
            {
                "id": STR,
                "name_ko": STR,
                "name_en": STR,
                "industry": enum(codes.INDUSTRY),
                "region": STR,
                "role": enum(codes.ROLE),
                "time_zone": STR,
                "equipment_count": {"type": "integer", "minimum": 0},
                "freshness": ref("Freshness"),
            }
        ),
        "CenterPage": obj(
            {"items": {"type": "array", "items": ref("Center")}, "next_cursor": nullable(CURSOR)}
        ),
        "BookingRules": obj(
            {
                "min_slot_minutes": nullable(INT),
                "max_slot_minutes": nullable(INT),
                "lead_time_minutes": nullable(INT),
            }
        ),
        "OperatingHours": obj(
            {
                "weekday": {"type": "integer", "minimum": 1, "maximum": 7, "description": "ISO"},
                "start_minute": {"type": "integer", "minimum": 0, "maximum": 1440},
                "end_minute": {"type": "integer", "minimum": 0, "maximum": 1440},
            },
            "Weekly template in the center's time zone; minutes from midnight",
        ),
        "Equipment": obj(
            {
                "id": STR,
                "center_id": STR,
                "name_ko": STR,
                "name_en": STR,
                "category": STR,
                "capabilities": {"type": "array", "items": STR},
                "manufacturer": STR,
                "model": STR,
                "year_acquired": nullable(INT),
                "status": nullable(enum(codes.STATUS)),
                "stages": {"type": "array", "items": enum(codes.STAGE)},
                "services": {"type": "array", "items": enum(codes.SERVICE)},
                "location": STR,
                "fee_note": STR,
                "booking_rules": nullable(ref("BookingRules")),
                "operating_hours": {
                    "type": "array",
                    "items": ref("OperatingHours"),
                    "description": "Empty: around the clock",
                },
            }
        ),
        "EquipmentPage": obj(
            {
                "items": {"type": "array", "items": ref("Equipment")},
                "next_cursor": nullable(CURSOR),
            }
        ),
        "EquipmentDetail": obj({"equipment": ref("Equipment"), "center": ref("Center")}),
        "Entry": obj(
            {
                "id": STR,
                "center_id": STR,
                "equipment_id": STR,
                "start": TIME,
                "end": TIME,
                "kind": nullable(enum(codes.ENTRY_KIND)),
            },
            "Busy time on one equipment. Who booked it never leaves the center.",
        ),
        "CenterState": obj({"id": STR, **freshness}),
        "FeedEvent": obj(
            {
                "token": TOKEN,
                "center_id": STR,
                "kind": {"type": "string", "enum": ["equipment", "entry", "center"]},
                "id": {**STR, "description": "Record id (the center id for center events)"},
                "op": {
                    "type": "string",
                    "enum": ["upsert", "delete", "stale", "fresh"],
                    "description": "upsert/delete for records; stale/fresh for centers",
                },
                "at": {**TIME, "description": "When the change committed at the hub"},
                "equipment": {
                    **nullable(ref("Equipment")),
                    "description": "Current state, for equipment upserts",
                },
                "entry": {
                    **nullable(ref("Entry")),
                    "description": "Current state, for entry upserts",
                },
                "center": ref("CenterState"),
            },
            "One committed change. Upserts carry the record's current state (newer than the "
            "change if it changed again; a later event follows then). Apply events in order.",
        ),
        "FeedChanges": obj(
            {
                "events": {"type": "array", "items": ref("FeedEvent")},
                "next": {**TOKEN, "description": "Pass as `after` for the next page"},
                "head": {**TOKEN, "description": "The newest committed change"},
                "caught_up": BOOL,
            }
        ),
        "SnapshotCenter": obj(
            {
                "center": ref("Center"),
                "equipment": {"type": "array", "items": ref("Equipment")},
                "entries": {
                    "type": "array",
                    "items": ref("Entry"),
                    "description": "Busy time of the listed equipment",
                },
            }
        ),
        "Snapshot": obj(
            {
                "feed_token": {
                    **TOKEN,
                    "description": "Follow GET /v1/feed from here after the last page",
                },
                "centers": {"type": "array", "items": ref("SnapshotCenter")},
                "next_cursor": nullable(CURSOR),
            }
        ),
        "SearchCenter": obj(
            {
                "id": STR,
                "name_ko": STR,
                "name_en": STR,
                "industry": STR,
                "region": STR,
                "time_zone": STR,
                "last_seen": nullable(LOCAL_TIME),
                "last_sync": nullable(LOCAL_TIME),
                "stale": BOOL,
            }
        ),
        "Slot": obj(
            {
                "start": LOCAL_TIME,
                "end": LOCAL_TIME,
                "unconfirmed": {
                    **BOOL,
                    "description": "The center's data is stale: the slot may be taken",
                },
            }
        ),
        "SearchResult": obj(
            {
                "center": ref("SearchCenter"),
                "equipment_id": STR,
                "name_ko": STR,
                "name_en": STR,
                "category": STR,
                "capabilities": {"type": "array", "items": STR},
                "status": STR,
                "stages": {"type": "array", "items": STR},
                "services": {"type": "array", "items": STR},
                "stale": BOOL,
                "slots": {"type": "array", "items": ref("Slot")},
            }
        ),
        "Reason": obj(
            {
                "code": {"type": "string", "enum": [str(c) for c in av.ReasonCode]},
                "message": STR,
                "earliest_free": nullable(LOCAL_TIME),
            }
        ),
        "SearchAnswer": obj(
            {
                "generated_at": LOCAL_TIME,
                "time_zone": STR,
                "matched": {"type": "integer", "minimum": 0},
                "total": {"type": "integer", "minimum": 0},
                "results": {"type": "array", "items": ref("SearchResult")},
                "reasons": {"type": "array", "items": ref("Reason")},
                "next_cursor": nullable(CURSOR),
            }
        ),
    }


_CENTER_ID = path("center_id", "Center id, e.g. KR-MR-0001")
_EQUIPMENT_ID = path("equipment_id", "Equipment id, local to the center")
_AFTER = query(
    "after",
    {**TOKEN, "maxLength": tokens.TOKEN_LENGTH},
    "Resume after this token (omit: from the beginning)",
)
_WINDOW = (
    query(
        "from",
        text(routes_search.MAX_INSTANT),
        "Window start, ISO 8601 (2026-12-01T09:00, ...+09:00, ...Z or a date)",
    ),
    query("to", text(routes_search.MAX_INSTANT), "Window end (exclusive), ISO 8601"),
)


def paths() -> dict[str, Schema]:
    """Centers, equipment, search, the feed, the snapshot and the iCalendar feeds."""
    ics_description = (
        "VCALENDAR with one VFREEBUSY per equipment (RFC 5545): FREEBUSY;FBTYPE=BUSY, "
        "BUSY-TENTATIVE or BUSY-UNAVAILABLE periods in UTC; no summaries, no customer data. "
        "Calendar apps cannot send headers, so this route also takes the API key as "
        "`?key=`: such a URL is a credential; give each subscriber its own key."
    )
    ics_params = [
        query(
            "from",
            text(routes_ical.MAX_INSTANT),
            "Window start (ISO 8601; no offset: UTC); default today",
        ),
        query(
            "to",
            text(routes_ical.MAX_INSTANT),
            f"Window end; default from + 90 days; at most {av.MAX_WINDOW_DAYS} days",
        ),
    ]
    search_params = [
        *[{**p, "required": True} for p in _WINDOW],
        query(
            "hours",
            {"type": "number", "exclusiveMinimum": 0, "maximum": routes_search.MAX_HOURS},
            "Contiguous free time wanted, in hours (whole minutes: 1.5 is fine)",
            required=True,
        ),
        query("industry", enum(codes.INDUSTRY), "Industry of the center"),
        query("category", safe(av.MAX_TEXT_LENGTH), "Equipment category code, exact"),
        {
            **query(
                "capability",
                {
                    "type": "array",
                    "items": safe(av.MAX_TEXT_LENGTH),
                    "maxItems": av.MAX_CAPABILITIES,
                },
                "Capability tag the equipment must have (repeatable: all must match)",
            ),
            "style": "form",
            "explode": True,
        },
        query("region", safe(av.MAX_TEXT_LENGTH), "Region of the center, exact"),
        query("stage", enum(codes.STAGE), "R&D stage the equipment serves"),
        query("service", enum(codes.SERVICE), "Service kind the equipment offers"),
        query("text", safe(av.MAX_TEXT_LENGTH), "Substring of the Korean or English name"),
        query(
            "tz",
            {
                "type": "string",
                "pattern": routes_search.TZ_PATTERN,
                "maxLength": routes_search.MAX_TZ,
            },
            "IANA time zone of `from`/`to` without offset and of the answer (default Asia/Seoul)",
        ),
        limit(av.MAX_LIMIT, routes_search.DEFAULT_LIMIT),
        CURSOR_PARAM,
    ]
    return {
        "/v1/centers": op(
            "listCenters",
            "Centers with their freshness, by id",
            responses(ref("CenterPage")),
            parameters=[
                limit(routes_centers.MAX_LIMIT, routes_centers.DEFAULT_LIMIT),
                CURSOR_PARAM,
                query("industry", enum(codes.INDUSTRY), "Only centers of this industry"),
                query("region", safe(routes_centers.MAX_REGION), "Only centers of this region"),
            ],
        ),
        "/v1/centers/{center_id}": op(
            "getCenter",
            "One center with its freshness",
            responses(ref("Center"), found=True),
            parameters=[_CENTER_ID],
        ),
        "/v1/centers/{center_id}/equipment": op(
            "listEquipment",
            "The center's equipment, by id",
            responses(ref("EquipmentPage"), found=True),
            parameters=[
                _CENTER_ID,
                limit(routes_centers.MAX_LIMIT, routes_centers.DEFAULT_LIMIT),
                CURSOR_PARAM,
            ],
        ),
        "/v1/centers/{center_id}/equipment/{equipment_id}": op(
            "getEquipment",
            "One equipment with its center (and freshness)",
            responses(ref("EquipmentDetail"), found=True),
            parameters=[_CENTER_ID, _EQUIPMENT_ID],
        ),
        "/v1/equipment/search": op(
            "searchEquipment",
            "Equipment free for N hours in a window, earliest fit first (fresh centers first)",
            responses(ref("SearchAnswer")),
            parameters=search_params,
        ),
        "/v1/feed": op(
            "followFeed",
            "The live change feed as Server-Sent Events",
            responses(
                None,
                media="text/event-stream",
                feed=True,
                description="`event: change` per committed change (`id:` = its token, "
                "`data:` = a FeedEvent); `event: caught-up` on reaching the newest change; "
                "comment lines keep idle streams open. Reconnect with Last-Event-ID.",
            ),
            parameters=[
                _AFTER,
                {
                    "name": "Last-Event-ID",
                    "in": "header",
                    "required": False,
                    "description": "Resume after this token (EventSource sends it)",
                    "schema": {**TOKEN, "maxLength": tokens.TOKEN_LENGTH},
                },
            ],
        ),
        "/v1/feed/changes": op(
            "feedChanges",
            "The change feed, one page at a time (polling form of /v1/feed)",
            responses(ref("FeedChanges"), feed=True),
            parameters=[_AFTER, limit(routes_feed.MAX_LIMIT, routes_feed.DEFAULT_LIMIT)],
        ),
        "/v1/snapshot": op(
            "snapshot",
            "Every center with its equipment and busy time, and the feed token to follow from",
            responses(ref("Snapshot")),
            parameters=[
                limit(routes_feed.SNAPSHOT_MAX, routes_feed.SNAPSHOT_DEFAULT),
                CURSOR_PARAM,
            ],
        ),
        "/v1/centers/{center_id}/freebusy.ics": op(
            "centerFreeBusy",
            "Free/busy of every equipment of a center (iCalendar)",
            responses(None, media="text/calendar", found=True, description=ics_description),
            parameters=[_CENTER_ID, *ics_params],
            security=ICS_SECURITY,
        ),
        "/v1/centers/{center_id}/equipment/{equipment_id}/freebusy.ics": op(
            "equipmentFreeBusy",
            "Free/busy of one equipment (iCalendar)",
            responses(None, media="text/calendar", found=True, description=ics_description),
            parameters=[_CENTER_ID, _EQUIPMENT_ID, *ics_params],
            security=ICS_SECURITY,
        ),
    }

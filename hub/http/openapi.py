"""The OpenAPI 3.1 document of the HTTP API, served at ``/openapi.json``.

Built from the same constants the handlers validate with (limits, patterns, codes), so the
document cannot promise a parameter range the API refuses, or the reverse. Every operation
lists every status it can answer; every error is the ``Problem`` schema (RFC 9457). The
test suite fuzzes the running hub against this document (schemathesis) and fails on any
answer that does not match it.
"""

from __future__ import annotations

from typing import Any

from hub import availability as av
from hub.feed import tokens
from hub.http import cursors, problems, routes_centers, routes_feed, routes_ical, routes_search
from hub.http.params import ID_PATTERN, SAFE_TEXT_PATTERN
from proto import codes

JSON = "application/json"
Schema = dict[str, Any]

# -- schemas ------------------------------------------------------------------------------------


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: dict[str, Schema], description: str = "") -> Schema:
    out: Schema = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if description:
        out["description"] = description
    return out


def _nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


STR: Schema = {"type": "string"}
BOOL: Schema = {"type": "boolean"}
INT: Schema = {"type": "integer"}
TIME: Schema = {"type": "string", "format": "date-time", "description": "ISO 8601, UTC (Z)"}
LOCAL_TIME: Schema = {
    "type": "string",
    "format": "date-time",
    "description": "ISO 8601 with the offset of the query's time zone",
}
TOKEN: Schema = {"type": "string", "pattern": tokens.PATTERN, "description": "Opaque feed token"}
CURSOR: Schema = {"type": "string", "pattern": cursors.PATTERN}


def _enum(cmap: codes.CodeMap) -> Schema:
    return {"type": "string", "enum": list(cmap.codes)}


def _schemas() -> dict[str, Schema]:
    freshness = {
        "last_sync": {**_nullable(TIME), "description": "Commit of the last applied batch"},
        "last_seen": {**_nullable(TIME), "description": "Last time the agent was heard from"},
        "connected": {**BOOL, "description": "The agent has a sync stream open"},
        "stale": {
            **BOOL,
            "description": "Silent past the staleness threshold (or never seen): do not "
            "present this center's data as current",
        },
    }
    return {
        "Problem": {
            "type": "object",
            "description": "RFC 9457 problem details",
            "properties": {
                "type": {
                    "type": "string",
                    "enum": [k.type for k in problems.KINDS],
                    "description": "URN of the kind of problem",
                },
                "title": STR,
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "detail": {**STR, "description": "What went wrong and what to do next"},
                "instance": {**STR, "description": "The request path"},
                "errors": {
                    "type": "array",
                    "description": "Validation problems: one per offending parameter",
                    "items": _obj(
                        {
                            "name": {**STR, "description": "The parameter"},
                            "in": {"type": "string", "enum": ["query", "path", "header"]},
                            "detail": STR,
                        }
                    ),
                },
            },
            "required": ["type", "title", "status", "detail", "instance"],
            "additionalProperties": False,
        },
        "Freshness": _obj(freshness),
        "Center": _obj(
            {
                "id": STR,
                "name_ko": STR,
                "name_en": STR,
                "industry": _enum(codes.INDUSTRY),
                "region": STR,
                "role": _enum(codes.ROLE),
                "time_zone": STR,
                "equipment_count": {"type": "integer", "minimum": 0},
                "freshness": _ref("Freshness"),
            }
        ),
        "CenterPage": _obj(
            {"items": {"type": "array", "items": _ref("Center")}, "next_cursor": _nullable(CURSOR)}
        ),
        "BookingRules": _obj(
            {
                "min_slot_minutes": _nullable(INT),
                "max_slot_minutes": _nullable(INT),
                "lead_time_minutes": _nullable(INT),
            }
        ),
        "OperatingHours": _obj(
            {
                "weekday": {"type": "integer", "minimum": 1, "maximum": 7, "description": "ISO"},
                "start_minute": {"type": "integer", "minimum": 0, "maximum": 1440},
                "end_minute": {"type": "integer", "minimum": 0, "maximum": 1440},
            },
            "Weekly template in the center's time zone; minutes from midnight",
        ),
        "Equipment": _obj(
            {
                "id": STR,
                "center_id": STR,
                "name_ko": STR,
                "name_en": STR,
                "category": STR,
                "capabilities": {"type": "array", "items": STR},
                "manufacturer": STR,
                "model": STR,
                "year_acquired": _nullable(INT),
                "status": _nullable(_enum(codes.STATUS)),
                "stages": {"type": "array", "items": _enum(codes.STAGE)},
                "services": {"type": "array", "items": _enum(codes.SERVICE)},
                "location": STR,
                "fee_note": STR,
                "booking_rules": _nullable(_ref("BookingRules")),
                "operating_hours": {
                    "type": "array",
                    "items": _ref("OperatingHours"),
                    "description": "Empty: around the clock",
                },
            }
        ),
        "EquipmentPage": _obj(
            {
                "items": {"type": "array", "items": _ref("Equipment")},
                "next_cursor": _nullable(CURSOR),
            }
        ),
        "EquipmentDetail": _obj({"equipment": _ref("Equipment"), "center": _ref("Center")}),
        "Entry": _obj(
            {
                "id": STR,
                "center_id": STR,
                "equipment_id": STR,
                "start": TIME,
                "end": TIME,
                "kind": _nullable(_enum(codes.ENTRY_KIND)),
            },
            "Busy time on one equipment. Who booked it never leaves the center.",
        ),
        "CenterState": _obj({"id": STR, **freshness}),
        "FeedEvent": _obj(
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
                    **_nullable(_ref("Equipment")),
                    "description": "Current state, for equipment upserts",
                },
                "entry": {
                    **_nullable(_ref("Entry")),
                    "description": "Current state, for entry upserts",
                },
                "center": _ref("CenterState"),
            },
            "One committed change. Upserts carry the record's current state (newer than the "
            "change if it changed again; a later event follows then). Apply events in order.",
        ),
        "FeedChanges": _obj(
            {
                "events": {"type": "array", "items": _ref("FeedEvent")},
                "next": {**TOKEN, "description": "Pass as `after` for the next page"},
                "head": {**TOKEN, "description": "The newest committed change"},
                "caught_up": BOOL,
            }
        ),
        "SnapshotCenter": _obj(
            {
                "center": _ref("Center"),
                "equipment": {"type": "array", "items": _ref("Equipment")},
                "entries": {
                    "type": "array",
                    "items": _ref("Entry"),
                    "description": "Busy time of the listed equipment",
                },
            }
        ),
        "Snapshot": _obj(
            {
                "feed_token": {
                    **TOKEN,
                    "description": "Follow GET /v1/feed from here after the last page",
                },
                "centers": {"type": "array", "items": _ref("SnapshotCenter")},
                "next_cursor": _nullable(CURSOR),
            }
        ),
        "SearchCenter": _obj(
            {
                "id": STR,
                "name_ko": STR,
                "name_en": STR,
                "industry": STR,
                "region": STR,
                "time_zone": STR,
                "last_seen": _nullable(LOCAL_TIME),
                "last_sync": _nullable(LOCAL_TIME),
                "stale": BOOL,
            }
        ),
        "Slot": _obj(
            {
                "start": LOCAL_TIME,
                "end": LOCAL_TIME,
                "unconfirmed": {
                    **BOOL,
                    "description": "The center's data is stale: the slot may be taken",
                },
            }
        ),
        "SearchResult": _obj(
            {
                "center": _ref("SearchCenter"),
                "equipment_id": STR,
                "name_ko": STR,
                "name_en": STR,
                "category": STR,
                "capabilities": {"type": "array", "items": STR},
                "status": STR,
                "stages": {"type": "array", "items": STR},
                "services": {"type": "array", "items": STR},
                "stale": BOOL,
                "slots": {"type": "array", "items": _ref("Slot")},
            }
        ),
        "Reason": _obj(
            {
                "code": {"type": "string", "enum": [str(c) for c in av.ReasonCode]},
                "message": STR,
                "earliest_free": _nullable(LOCAL_TIME),
            }
        ),
        "SearchAnswer": _obj(
            {
                "generated_at": LOCAL_TIME,
                "time_zone": STR,
                "matched": {"type": "integer", "minimum": 0},
                "total": {"type": "integer", "minimum": 0},
                "results": {"type": "array", "items": _ref("SearchResult")},
                "reasons": {"type": "array", "items": _ref("Reason")},
                "next_cursor": _nullable(CURSOR),
            }
        ),
        "Health": _obj({"status": {"type": "string", "enum": ["ok"]}, "feed_head": TOKEN}),
    }


# -- parameters -----------------------------------------------------------------------------------


def _query(name: str, schema: Schema, description: str, required: bool = False) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


def _text(max_length: int) -> Schema:
    return {"type": "string", "minLength": 1, "maxLength": max_length}


def _safe(max_length: int) -> Schema:
    return {**_text(max_length), "pattern": SAFE_TEXT_PATTERN}


def _limit(maximum: int, default: int) -> Schema:
    return _query(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": maximum, "default": default},
        "Page size",
    )


_CURSOR = _query(
    "cursor",
    {**CURSOR, "maxLength": cursors.MAX_LENGTH},
    "`next_cursor` of the previous page (same filters); omit for the first page",
)
_ID_SCHEMA: Schema = {"type": "string", "pattern": ID_PATTERN, "maxLength": 64}


def _path(name: str, description: str) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": _ID_SCHEMA,
    }


_CENTER_ID = _path("center_id", "Center id, e.g. KR-MR-0001")
_EQUIPMENT_ID = _path("equipment_id", "Equipment id, local to the center")
_AFTER = _query(
    "after",
    {**TOKEN, "maxLength": tokens.TOKEN_LENGTH},
    "Resume after this token (omit: from the beginning)",
)
_WINDOW = (
    _query(
        "from",
        _text(routes_search.MAX_INSTANT),
        "Window start, ISO 8601 (2026-12-01T09:00, ...+09:00, ...Z or a date)",
    ),
    _query("to", _text(routes_search.MAX_INSTANT), "Window end (exclusive), ISO 8601"),
)

# -- responses ----------------------------------------------------------------------------------

_DESCRIPTIONS = {
    400: "Invalid parameter (see `errors`)",
    401: "No API key, or an unknown one",
    403: "The API key was revoked",
    404: "No such center or equipment",
    410: "The token is older than the retained change log: resync from GET /v1/snapshot",
    413: "Request body too large",
    503: "The hub's database is unavailable; retry",
}


def _problem(status: int) -> Schema:
    return {
        "description": _DESCRIPTIONS[status],
        "content": {problems.MEDIA_TYPE: {"schema": _ref("Problem")}},
    }


def _responses(
    ok: Schema | None,
    *,
    media: str = JSON,
    secured: bool = True,
    found: bool = False,
    feed: bool = False,
    description: str = "OK",
) -> dict[str, Schema]:
    out: dict[str, Schema] = {
        "200": {"description": description, "content": {media: {"schema": ok or STR}}}
    }
    codes_ = [400, 413, 503]
    if secured:
        codes_ += [401, 403]
    if found:
        codes_.append(404)
    if feed:
        codes_.append(410)
    for status in sorted(codes_):
        out[str(status)] = _problem(status)
    return out


KEY_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"apiKeyHeader": []}]
ICS_SECURITY: list[dict[str, list[str]]] = [*KEY_SECURITY, {"apiKeyQuery": []}]


def _op(op_id: str, summary: str, responses: dict[str, Schema], **extra: Any) -> Schema:
    return {"get": {"operationId": op_id, "summary": summary, "responses": responses, **extra}}


def _paths() -> dict[str, Schema]:
    ics_description = (
        "VCALENDAR with one VFREEBUSY per equipment (RFC 5545): FREEBUSY;FBTYPE=BUSY, "
        "BUSY-TENTATIVE or BUSY-UNAVAILABLE periods in UTC; no summaries, no customer data. "
        "Calendar apps cannot send headers, so this route also takes the API key as "
        "`?key=`: such a URL is a credential; give each subscriber its own key."
    )
    ics_params = [
        _query(
            "from",
            _text(routes_ical.MAX_INSTANT),
            "Window start (ISO 8601; no offset: UTC); default today",
        ),
        _query(
            "to",
            _text(routes_ical.MAX_INSTANT),
            f"Window end; default from + 90 days; at most {av.MAX_WINDOW_DAYS} days",
        ),
    ]
    search_params = [
        *[{**p, "required": True} for p in _WINDOW],
        _query(
            "hours",
            {"type": "number", "exclusiveMinimum": 0, "maximum": routes_search.MAX_HOURS},
            "Contiguous free time wanted, in hours (whole minutes: 1.5 is fine)",
            required=True,
        ),
        _query("industry", _enum(codes.INDUSTRY), "Industry of the center"),
        _query("category", _safe(av.MAX_TEXT_LENGTH), "Equipment category code, exact"),
        {
            **_query(
                "capability",
                {
                    "type": "array",
                    "items": _safe(av.MAX_TEXT_LENGTH),
                    "maxItems": av.MAX_CAPABILITIES,
                },
                "Capability tag the equipment must have (repeatable: all must match)",
            ),
            "style": "form",
            "explode": True,
        },
        _query("region", _safe(av.MAX_TEXT_LENGTH), "Region of the center, exact"),
        _query("stage", _enum(codes.STAGE), "R&D stage the equipment serves"),
        _query("service", _enum(codes.SERVICE), "Service kind the equipment offers"),
        _query("text", _safe(av.MAX_TEXT_LENGTH), "Substring of the Korean or English name"),
        _query(
            "tz",
            {
                "type": "string",
                "pattern": routes_search.TZ_PATTERN,
                "maxLength": routes_search.MAX_TZ,
            },
            "IANA time zone of `from`/`to` without offset and of the answer (default Asia/Seoul)",
        ),
        _limit(av.MAX_LIMIT, routes_search.DEFAULT_LIMIT),
        _CURSOR,
    ]
    return {
        "/healthz": _op(
            "healthz",
            "Liveness and database reachability (no API key)",
            _responses(_ref("Health"), secured=False),
            security=[],
        ),
        "/openapi.json": _op(
            "openapi",
            "This document (no API key)",
            {
                "200": {
                    "description": "OpenAPI 3.1",
                    "content": {JSON: {"schema": {"type": "object"}}},
                },
                "400": _problem(400),
                "413": _problem(413),
            },
            security=[],
        ),
        "/v1/centers": _op(
            "listCenters",
            "Centers with their freshness, by id",
            _responses(_ref("CenterPage")),
            parameters=[
                _limit(routes_centers.MAX_LIMIT, routes_centers.DEFAULT_LIMIT),
                _CURSOR,
                _query("industry", _enum(codes.INDUSTRY), "Only centers of this industry"),
                _query("region", _safe(routes_centers.MAX_REGION), "Only centers of this region"),
            ],
        ),
        "/v1/centers/{center_id}": _op(
            "getCenter",
            "One center with its freshness",
            _responses(_ref("Center"), found=True),
            parameters=[_CENTER_ID],
        ),
        "/v1/centers/{center_id}/equipment": _op(
            "listEquipment",
            "The center's equipment, by id",
            _responses(_ref("EquipmentPage"), found=True),
            parameters=[
                _CENTER_ID,
                _limit(routes_centers.MAX_LIMIT, routes_centers.DEFAULT_LIMIT),
                _CURSOR,
            ],
        ),
        "/v1/centers/{center_id}/equipment/{equipment_id}": _op(
            "getEquipment",
            "One equipment with its center (and freshness)",
            _responses(_ref("EquipmentDetail"), found=True),
            parameters=[_CENTER_ID, _EQUIPMENT_ID],
        ),
        "/v1/equipment/search": _op(
            "searchEquipment",
            "Equipment free for N hours in a window, earliest fit first (fresh centers first)",
            _responses(_ref("SearchAnswer")),
            parameters=search_params,
        ),
        "/v1/feed": _op(
            "followFeed",
            "The live change feed as Server-Sent Events",
            _responses(
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
        "/v1/feed/changes": _op(
            "feedChanges",
            "The change feed, one page at a time (polling form of /v1/feed)",
            _responses(_ref("FeedChanges"), feed=True),
            parameters=[_AFTER, _limit(routes_feed.MAX_LIMIT, routes_feed.DEFAULT_LIMIT)],
        ),
        "/v1/snapshot": _op(
            "snapshot",
            "Every center with its equipment and busy time, and the feed token to follow from",
            _responses(_ref("Snapshot")),
            parameters=[_limit(routes_feed.SNAPSHOT_MAX, routes_feed.SNAPSHOT_DEFAULT), _CURSOR],
        ),
        "/v1/centers/{center_id}/freebusy.ics": _op(
            "centerFreeBusy",
            "Free/busy of every equipment of a center (iCalendar)",
            _responses(None, media="text/calendar", found=True, description=ics_description),
            parameters=[_CENTER_ID, *ics_params],
            security=ICS_SECURITY,
        ),
        "/v1/centers/{center_id}/equipment/{equipment_id}/freebusy.ics": _op(
            "equipmentFreeBusy",
            "Free/busy of one equipment (iCalendar)",
            _responses(None, media="text/calendar", found=True, description=ics_description),
            parameters=[_CENTER_ID, _EQUIPMENT_ID, *ics_params],
            security=ICS_SECURITY,
        ),
    }


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "i-Platform hub API",
            "version": "1.0.0",
            "description": (
                "The national view of i-Platform's equipment centers for portals: centers "
                "with freshness, equipment, free-slot search, iCalendar free/busy, and the "
                "live change feed. Every answer says how fresh each center's data is; data "
                "of a center silent past the threshold is flagged stale. Errors are RFC 9457 "
                "problem details. API keys: `iplat-hub apikey create NAME` (hub operator); "
                "send `Authorization: Bearer KEY` or `X-API-Key: KEY`. To keep a copy: read "
                "GET /v1/snapshot, then follow GET /v1/feed from its feed_token."
            ),
        },
        "security": KEY_SECURITY,
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "ipk_<id>.<secret>"},
                "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "apiKeyQuery": {
                    "type": "apiKey",
                    "in": "query",
                    "name": "key",
                    "description": "Only the .ics feeds (calendar subscriptions)",
                },
            },
        },
    }

"""``GET /v1/equipment/search``: which equipment, anywhere, is free for N hours in a window.

The parameters map one to one onto :class:`hub.availability.SearchQuery`, which validates
them (the CLI and gRPC share its rules and messages); its :class:`QueryError` names the
offending field, which becomes the problem's ``errors[].name``. Times in the answer are
ISO 8601 in the query's time zone (``tz``, default Asia/Seoul), with their offset.

Results from centers whose data is stale come after fresh ones, flagged ``stale`` with
``unconfirmed`` slots; ``reasons`` says why there is no confirmed free slot. Pages: the
cursor carries the offset and a digest of the filters, so it cannot be replayed against
another query. A first page with nothing free is counted as demand
(:mod:`hub.routing.search_demand`), off the answer's path.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from aiohttp import web

from hub import availability as av
from hub.http import cursors, records
from hub.http.context import context
from hub.http.params import Query
from hub.http.problems import FieldError, invalid, invalid_one
from hub.routing import search_demand
from proto import codes

routes = web.RouteTableDef()

MAX_INSTANT = 40
MAX_TZ = 64
MAX_HOURS = av.MAX_WINDOW_DAYS * 24
DEFAULT_LIMIT = 20
_TZ = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$")
TZ_PATTERN = _TZ.pattern

PARAMS = (
    "from",
    "to",
    "hours",
    "industry",
    "category",
    "capability",
    "region",
    "stage",
    "service",
    "text",
    "tz",
    "limit",
    "cursor",
)
# SearchQuery field -> the HTTP parameter it comes from.
_FIELD_NAMES = {
    "capabilities": "capability",
    "window_from": "from",
    "window_to": "to",
    "time_zone": "tz",
    "offset": "cursor",
}


@cache
def _zones() -> frozenset[str]:
    # Checked against the list, not by trying ZoneInfo(name): a directory of the tz
    # database ("Asia") raises IsADirectoryError there, and "zone.tab" a ValueError.
    return frozenset(available_timezones())


def _local(t: int, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(t, tz).isoformat()


def _answer(answer: av.SearchAnswer, next_cursor: str | None) -> dict[str, Any]:
    tz = ZoneInfo(answer.time_zone)
    results = []
    for r in answer.results:
        c = r.center
        results.append(
            {
                "center": {
                    "id": c.id,
                    "name_ko": c.name_ko,
                    "name_en": c.name_en,
                    "industry": c.industry,
                    "region": c.region,
                    "time_zone": c.time_zone,
                    "last_seen": _local(c.last_seen, tz) if c.last_seen is not None else None,
                    "last_sync": _local(c.last_sync, tz) if c.last_sync is not None else None,
                    "stale": c.stale,
                },
                "equipment_id": r.equipment_id,
                "name_ko": r.name_ko,
                "name_en": r.name_en,
                "category": r.category,
                "capabilities": list(r.capabilities),
                "status": r.status,
                "stages": list(r.stages),
                "services": list(r.services),
                "stale": r.stale,
                "slots": [
                    {
                        "start": _local(s.start, tz),
                        "end": _local(s.end, tz),
                        "unconfirmed": s.unconfirmed,
                    }
                    for s in r.slots
                ],
            }
        )
    return {
        "generated_at": _local(answer.generated_at, tz),
        "time_zone": answer.time_zone,
        "matched": answer.matched,
        "total": answer.total,
        "results": results,
        "reasons": [
            {
                "code": str(reason.code),
                "message": reason.message,
                "earliest_free": (
                    _local(reason.earliest_free, tz) if reason.earliest_free is not None else None
                ),
            }
            for reason in answer.reasons
        ],
        "next_cursor": next_cursor,
    }


@routes.get("/v1/equipment/search")
async def search(request: web.Request) -> web.Response:
    ctx = context(request)
    q = Query(request, PARAMS)
    tz = q.text("tz", MAX_TZ, pattern=_TZ, shape="an IANA time zone name") or av.DEFAULT_TIME_ZONE
    raw_from = q.text("from", MAX_INSTANT, required=True)
    raw_to = q.text("to", MAX_INSTANT, required=True)
    hours = q.number("hours", 0, MAX_HOURS, required=True)
    filters: dict[str, Any] = {
        "industry": q.code("industry", codes.INDUSTRY),
        "category": q.safe_text("category", av.MAX_TEXT_LENGTH),
        "capabilities": tuple(q.texts("capability", av.MAX_CAPABILITIES, av.MAX_TEXT_LENGTH)),
        "region": q.safe_text("region", av.MAX_TEXT_LENGTH),
        "stage": q.code("stage", codes.STAGE),
        "service": q.code("service", codes.SERVICE),
        "text": q.safe_text("text", av.MAX_TEXT_LENGTH),
    }
    limit = q.integer("limit", 1, av.MAX_LIMIT, DEFAULT_LIMIT)
    cursor = q.text("cursor", cursors.MAX_LENGTH)
    if tz not in _zones():
        q.fail("tz", f"unknown time zone {tz[:64]!r}; use an IANA name such as Asia/Seoul")
    q.done()
    assert raw_from is not None and raw_to is not None  # required: q.done() raised otherwise
    errors: list[FieldError] = []
    window: dict[str, int] = {}
    for name, raw in (("from", raw_from), ("to", raw_to)):
        try:
            window[name] = av.parse_instant(raw, name, tz)
        except av.QueryError as exc:
            errors.append(FieldError(_FIELD_NAMES.get(exc.field, exc.field), str(exc)))
    if errors:
        raise invalid(errors)
    digest = cursors.query_digest(
        [
            ("from", window["from"]),
            ("to", window["to"]),
            ("hours", hours),
            ("tz", tz),
            *sorted(filters.items()),
        ]
    )
    offset = 0
    if cursor is not None:
        data = cursors.decode(cursor, "search")
        if data.get("q") != digest:
            raise cursors.mismatch()
        carried = data.get("o")
        if not isinstance(carried, int) or isinstance(carried, bool) or carried < 0:
            raise invalid_one("cursor", "not a search cursor; start again without cursor")
        offset = carried
    try:
        query = av.SearchQuery(
            window_from=window["from"],
            window_to=window["to"],
            hours=hours,
            time_zone=tz,
            limit=limit,
            offset=offset,
            **filters,
        )
    except av.QueryError as exc:
        raise invalid_one(_FIELD_NAMES.get(exc.field, exc.field), str(exc)) from None
    answer = await ctx.access.read(av.search, ctx.store, query, ctx.now(), ctx.stale_after)
    search_demand.note_search(ctx.router, answer, query.category, offset)
    next_cursor = (
        cursors.encode("search", o=answer.next_offset, q=digest)
        if answer.next_offset is not None
        else None
    )
    return records.json_response(_answer(answer, next_cursor))

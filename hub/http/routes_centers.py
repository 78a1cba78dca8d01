"""Centers and their equipment: ``/v1/centers``, ``/v1/centers/{center_id}``,
``/v1/centers/{center_id}/equipment`` and ``/v1/centers/{center_id}/equipment/{equipment_id}``.

Listings are keyset pages by id with an opaque ``cursor``; every center carries its
freshness (``stale`` once silent past ``[sync] stale_after_seconds``).
"""

from __future__ import annotations

from aiohttp import web

from hub.http import cursors, records
from hub.http.context import ApiContext, context
from hub.http.params import Query, path_id
from hub.http.problems import not_found
from hub.store import CenterEntry
from proto import codes

routes = web.RouteTableDef()

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_REGION = 100


def _page(items: list[object], next_cursor: str | None) -> web.Response:
    return records.json_response({"items": items, "next_cursor": next_cursor})


async def _center(ctx: ApiContext, center_id: str) -> CenterEntry:
    entry = await ctx.access.read(ctx.store.center_entry, center_id, ctx.now(), ctx.stale_after)
    if entry is None:
        raise not_found(f"center {center_id} is not registered; GET /v1/centers lists them")
    return entry


@routes.get("/v1/centers")
async def list_centers(request: web.Request) -> web.Response:
    ctx = context(request)
    q = Query(request, ("limit", "cursor", "industry", "region"))
    limit = q.integer("limit", 1, MAX_LIMIT, DEFAULT_LIMIT)
    cursor = q.text("cursor", cursors.MAX_LENGTH)
    industry = q.code("industry", codes.INDUSTRY)
    region = q.safe_text("region", MAX_REGION)
    q.done()
    digest = cursors.query_digest([("industry", industry), ("region", region)])
    after = cursors.after_id(cursor, "centers", digest)
    rows = await ctx.access.read(
        ctx.store.centers_page,
        after,
        limit + 1,
        ctx.now(),
        ctx.stale_after,
        industry=industry,
        region=region,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = cursors.encode("centers", a=rows[-1].center.id, q=digest) if more else None
    return _page([records.center(r) for r in rows], next_cursor)


@routes.get("/v1/centers/{center_id}")
async def get_center(request: web.Request) -> web.Response:
    ctx = context(request)
    center_id = path_id(request, "center_id")
    Query(request, ()).done()
    return records.json_response(records.center(await _center(ctx, center_id)))


@routes.get("/v1/centers/{center_id}/equipment")
async def list_equipment(request: web.Request) -> web.Response:
    ctx = context(request)
    center_id = path_id(request, "center_id")
    q = Query(request, ("limit", "cursor"))
    limit = q.integer("limit", 1, MAX_LIMIT, DEFAULT_LIMIT)
    cursor = q.text("cursor", cursors.MAX_LENGTH)
    q.done()
    after = cursors.after_id(cursor, f"equipment:{center_id}")
    await _center(ctx, center_id)
    items = await ctx.access.read(ctx.store.equipment_page, center_id, after, limit + 1)
    more = len(items) > limit
    items = items[:limit]
    next_cursor = cursors.encode(f"equipment:{center_id}", a=items[-1].id) if more else None
    return _page([records.equipment(center_id, eq) for eq in items], next_cursor)


@routes.get("/v1/centers/{center_id}/equipment/{equipment_id}")
async def get_equipment(request: web.Request) -> web.Response:
    ctx = context(request)
    center_id = path_id(request, "center_id")
    equipment_id = path_id(request, "equipment_id")
    Query(request, ()).done()
    entry = await _center(ctx, center_id)
    eq = await ctx.access.read(ctx.store.get_equipment, center_id, equipment_id)
    if eq is None:
        raise not_found(
            f"center {center_id} has no equipment {equipment_id}; "
            f"GET /v1/centers/{center_id}/equipment lists it"
        )
    return records.json_response(
        {"equipment": records.equipment(center_id, eq), "center": records.center(entry)}
    )

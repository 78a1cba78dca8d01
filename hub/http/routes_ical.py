"""iCalendar free/busy feeds a calendar app can subscribe to:

- ``GET /v1/centers/{center_id}/freebusy.ics``: every equipment of the center;
- ``GET /v1/centers/{center_id}/equipment/{equipment_id}/freebusy.ics``: one equipment.

``from``/``to`` (ISO 8601; without an offset read as UTC) choose the window, by default
today (UTC) and the 90 days after. Calendar apps cannot send headers, so these two routes
also take the API key as ``?key=``: such a URL is a credential; give each subscriber its
own key (``iplat-hub apikey create``) so it can be revoked alone.
"""

from __future__ import annotations

from aiohttp import web

from hub import availability as av
from hub.http import ical
from hub.http.context import context
from hub.http.middleware import key_in_query
from hub.http.params import Query, path_id
from hub.http.problems import FieldError, invalid, not_found

routes = web.RouteTableDef()

MAX_INSTANT = 40
DEFAULT_DAYS = 90
PARAMS = ("from", "to", "key")


def _window(request: web.Request, now: int) -> tuple[int, int]:
    q = Query(request, PARAMS)
    raw = {name: q.text(name, MAX_INSTANT) for name in ("from", "to")}
    q.one("key")  # checked by the middleware; only its shape (single, non-empty) here
    q.done()
    errors: list[FieldError] = []
    bounds: dict[str, int] = {}
    for name, text in raw.items():
        if text is None:
            continue
        try:
            bounds[name] = av.parse_instant(text, name, "UTC")
        except av.QueryError as exc:
            errors.append(FieldError(exc.field, str(exc)))
    if errors:
        raise invalid(errors)
    start = bounds.get("from", now - now % 86400)
    end = bounds.get("to", start + DEFAULT_DAYS * 86400)
    if end <= start:
        raise invalid([FieldError("to", "'to' must be after 'from'")])
    if end - start > av.MAX_WINDOW_DAYS * 86400:
        raise invalid(
            [FieldError("to", f"the window is longer than {av.MAX_WINDOW_DAYS} days; shorten it")]
        )
    return start, end


async def _feed(request: web.Request, equipment_id: str | None) -> web.Response:
    ctx = context(request)
    center_id = path_id(request, "center_id")
    now = ctx.now()
    window = _window(request, now)
    try:
        fb = await ctx.access.read(
            av.free_busy,
            ctx.store,
            center_id,
            equipment_id,
            window,
            now=now,
            stale_after=ctx.stale_after,
        )
    except av.NotFound as exc:
        raise not_found(f"{exc}; GET /v1/centers lists centers and their equipment") from None
    except av.QueryError as exc:
        raise invalid([FieldError(exc.field, str(exc))]) from None
    name = f"{center_id}-{equipment_id}" if equipment_id else center_id
    return web.Response(
        body=ical.render(fb, now),
        content_type=ical.MEDIA_TYPE,
        charset="utf-8",
        headers={
            "Content-Disposition": f'inline; filename="{name}-freebusy.ics"',
            "Cache-Control": "private, max-age=60",
        },
    )


@routes.get("/v1/centers/{center_id}/freebusy.ics")
@key_in_query
async def center_freebusy(request: web.Request) -> web.Response:
    return await _feed(request, None)


@routes.get("/v1/centers/{center_id}/equipment/{equipment_id}/freebusy.ics")
@key_in_query
async def equipment_freebusy(request: web.Request) -> web.Response:
    return await _feed(request, path_id(request, "equipment_id"))

"""The live change feed over HTTP, and the snapshot it continues from.

- ``GET /v1/feed``: Server-Sent Events. Starts after ``?after=TOKEN`` or the
  ``Last-Event-ID`` header (what EventSource sends when it reconnects; it wins over
  ``after``), or from the beginning. Each change is an ``event: change`` whose ``id:`` is
  its token; ``event: caught-up`` marks reaching the newest committed change.
- ``GET /v1/feed/changes?after=TOKEN&limit=N``: the same events as pages, for clients
  that poll.
- ``GET /v1/snapshot``: every center with its equipment and busy time, a few centers per
  page, with the ``feed_token`` to follow the feed from afterwards. The token is read
  *before* the data, so following from it may replay changes the snapshot already holds:
  harmless, because events carry the records' current state.

A token older than the retained log (``[feed] retention_seconds``), or one this hub never
issued, is answered 410 with the ``feed-token-expired`` problem: resync from the snapshot.
Events semantics are those of :mod:`hub.store.changelog` (and :mod:`hub.feed_service`,
which serves the same feed over gRPC).
"""

from __future__ import annotations

import logging

from aiohttp import web

from hub import logs
from hub.errors import StoreError
from hub.feed import tokens
from hub.http import cursors, records, sse
from hub.http.context import ApiContext, context
from hub.http.middleware import API_KEY, check_key, cors_headers
from hub.http.params import Query
from hub.http.problems import FEED_GONE, Problem, invalid_one
from hub.store import CenterEntry, FeedPage, FeedPositionAhead, FeedPositionGone

log = logging.getLogger("hub.http")
routes = web.RouteTableDef()

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
STREAM_PAGE = 500
SNAPSHOT_DEFAULT = 5
SNAPSHOT_MAX = 20


def _position(token: str | None, name: str, location: str = "query") -> int:
    try:
        return tokens.decode(token or "")
    except ValueError as exc:
        raise invalid_one(name, str(exc), location) from None


async def _read(ctx: ApiContext, position: int, limit: int) -> FeedPage:
    try:
        return await ctx.access.read(
            ctx.store.read_feed, position, limit, ctx.now(), ctx.stale_after
        )
    except (FeedPositionGone, FeedPositionAhead) as exc:
        raise Problem(
            FEED_GONE, f"{exc}: GET /v1/snapshot returns the snapshot and its feed_token"
        ) from None


@routes.get("/v1/feed/changes")
async def feed_changes(request: web.Request) -> web.Response:
    ctx = context(request)
    q = Query(request, ("after", "limit"))
    after = q.text("after", tokens.TOKEN_LENGTH + 20)
    limit = q.integer("limit", 1, MAX_LIMIT, DEFAULT_LIMIT)
    q.done()
    page = await _read(ctx, _position(after, "after"), limit)
    return records.json_response(
        {
            "events": [records.event(ev, page.centers) for ev in page.events],
            "next": tokens.encode(page.next_position),
            "head": tokens.encode(page.head),
            "caught_up": page.next_position >= page.head,
        }
    )


@routes.get("/v1/feed", allow_head=False)
async def feed_stream(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    q = Query(request, ("after",))
    after = q.text("after", tokens.TOKEN_LENGTH + 20)
    q.done()
    resume = request.headers.get("Last-Event-ID", "").strip()
    if resume:
        position = _position(resume[:100], "Last-Event-ID", "header")
    else:
        position = _position(after, "after")
    # Read before answering 200, so that a bad position is a plain 410 problem.
    page = await _read(ctx, position, STREAM_PAGE)
    response = web.StreamResponse(headers={**sse.headers(), **cors_headers(request)})
    await response.prepare(request)
    writer = sse.SseWriter(response)
    key = request[API_KEY]
    logs.event(log, "feed_stream_start", key=key.name, after=position)
    try:
        await writer.start()
        await _follow(ctx, request, writer, page, position)
    except ConnectionResetError:
        logs.event(log, "feed_stream_end", key=key.name, reason="client gone")
    return response


async def _follow(
    ctx: ApiContext, request: web.Request, writer: sse.SseWriter, page: FeedPage, position: int
) -> None:
    keepalive = ctx.config.http.sse_keepalive_seconds
    announced = False
    next_page: FeedPage | None = page
    while next_page is not None:
        page = next_page
        for ev in page.events:
            await writer.send(
                sse.frame("change", records.event(ev, page.centers), tokens.encode(ev.position))
            )
        position = page.next_position
        if position >= page.head and not announced:
            token = tokens.encode(position)
            await writer.send(
                sse.frame("caught-up", {"token": token, "head": tokens.encode(page.head)}, token)
            )
            announced = True
        if position >= page.head:
            while not await ctx.follower.wait_beyond(position, keepalive):
                if ctx.follower.closed:
                    await writer.send(sse.frame("end", {"detail": "hub shutting down; reconnect"}))
                    return
                await writer.comment("keepalive")
                if not await _key_still_valid(request, writer):
                    return
        next_page = await _stream_read(ctx, writer, position)


async def _stream_read(ctx: ApiContext, writer: sse.SseWriter, position: int) -> FeedPage | None:
    try:
        return await _read(ctx, position, STREAM_PAGE)
    except (Problem, StoreError) as exc:
        # Headers are sent: say it as an event, then end; EventSource reconnects with
        # Last-Event-ID and gets a proper status (410 or 503) then.
        await writer.send(sse.frame("error", {"detail": str(exc)}))
        return None


async def _key_still_valid(request: web.Request, writer: sse.SseWriter) -> bool:
    """Re-check the stream's key on every keepalive: a revoked key's stream ends."""
    key = request[API_KEY]
    try:
        await check_key(request, key.id, key.secret_hash)
    except Problem as problem:
        await writer.send(sse.frame("error", problem.body(request.path)))
        logs.event(log, "feed_stream_end", key=key.name, reason="key revoked")
        return False
    return True


@routes.get("/v1/snapshot")
async def snapshot(request: web.Request) -> web.Response:
    ctx = context(request)
    q = Query(request, ("limit", "cursor"))
    limit = q.integer("limit", 1, SNAPSHOT_MAX, SNAPSHOT_DEFAULT)
    cursor = q.text("cursor", cursors.MAX_LENGTH)
    q.done()
    if cursor is None:
        after = None
        position = (await ctx.access.read(ctx.store.feed_head)).last_id
    else:
        after = cursors.after_id(cursor, "snapshot")
        carried = cursors.decode(cursor, "snapshot").get("t")
        if not isinstance(carried, int) or isinstance(carried, bool) or not 0 <= carried < 2**63:
            raise invalid_one("cursor", "not a snapshot cursor; start again without cursor")
        position = carried
    ids = await ctx.access.read(ctx.store.center_ids_page, after, limit + 1)
    more = len(ids) > limit
    ids = ids[:limit]
    snaps = (
        await ctx.access.read(ctx.store.national_view, ctx.now(), ctx.stale_after, ids, True)
        if ids
        else []
    )
    centers = []
    for snap in snaps:
        entry = CenterEntry(snap.center, snap.state, snap.stale, len(snap.equipment))
        centers.append(
            {
                "center": records.center(entry),
                "equipment": [
                    records.equipment(snap.center.id, e.equipment) for e in snap.equipment
                ],
                "entries": [
                    records.entry(snap.center.id, en) for e in snap.equipment for en in e.entries
                ],
            }
        )
    next_cursor = cursors.encode("snapshot", a=ids[-1], t=position) if more else None
    return records.json_response(
        {"feed_token": tokens.encode(position), "centers": centers, "next_cursor": next_cursor}
    )

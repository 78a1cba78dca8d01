"""One-stop requests over HTTP/JSON: submit, preview, follow, answer proposals, cancel.

::

    POST /v1/requests                 201 + Location; Idempotency-Key = client_request_id
    POST /v1/requests/preview         the plan, nothing stored
    GET  /v1/requests[?state&center&limit&cursor]
    GET  /v1/requests/{request_id}
    POST /v1/requests/{request_id}/items/{item_id}/proposal    {"accept": true|false}
    POST /v1/requests/{request_id}/cancel                       {"reason": "..."}
    GET  /v1/demand[?since&category&center&tz]
    GET  /v1/technology-areas[?industry]

Bodies are JSON in the shape of :mod:`hub.routing.jsonbody`, answers that of
:mod:`hub.routing.render`. A body that is not JSON of that shape is a 400 naming the
field; a well-formed body that is not a valid request is a 422 whose ``errors`` name
each field by its path (``needs[1].latest``), nothing stored either way.

The caller is the API key (``apikey:<name>`` in the request's events). A portal key sees
and acts on the requests it submitted only (another's is 404, never 403: ids do not
leak); an operator key sees all.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from hub import availability as av
from hub import logs
from hub.http import records
from hub.http.context import context
from hub.http.middleware import API_KEY
from hub.http.params import Query, path_id
from hub.http.problems import (
    CONFLICT,
    NOT_FOUND,
    FieldError,
    Problem,
    invalid,
    invalid_fields,
    invalid_one,
)
from hub.http.routes_search import MAX_INSTANT, MAX_TZ, TZ_PATTERN
from hub.routing import jsonbody, model, pages, render
from hub.routing.errors import RequestNotFound, RoutingConflict
from hub.routing.model import Draft, RequestInvalid
from proto import codes, identity

if TYPE_CHECKING:
    from hub.routing.router import Router

log = logging.getLogger("hub.http.requests")
routes = web.RouteTableDef()

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_IDEMPOTENCY_KEY = 128
MAX_REASON = 500
IDEMPOTENCY_HEADER = "Idempotency-Key"
LIST_PARAMS = ("state", "center", "limit", "cursor")
DEMAND_PARAMS = ("since", "category", "center", "tz")
_TZ = re.compile(TZ_PATTERN)


# -- who, and with what ---------------------------------------------------------------------


def _router(request: web.Request) -> Router:
    router = context(request).router
    if router is None:
        raise Problem(NOT_FOUND, "one-stop routing is not served by this process")
    return router


def actor(request: web.Request) -> tuple[str, str | None]:
    """(the actor recorded in events, the ``submitted_by`` filter: None for operator keys)."""
    key = request[API_KEY]
    name = f"apikey:{key.name}"
    return name, None if key.role == "operator" else name


def _body_problem(exc: jsonbody.BodyError) -> Problem:
    return invalid([FieldError(e.field, e.message, "body") for e in exc.errors])


async def _json(request: web.Request, *, required: bool) -> Any:
    raw = await request.read()
    if not raw.strip():
        if required:
            raise invalid_one("body", "is required: send the request as JSON", "body")
        return {}
    try:
        return jsonbody.loads(raw)
    except jsonbody.BodyError as exc:
        raise _body_problem(exc) from None


async def _draft(request: web.Request) -> Draft:
    Query(request, ()).done()
    try:
        return jsonbody.draft_from_json(await _json(request, required=True))
    except jsonbody.BodyError as exc:
        raise _body_problem(exc) from None


def _routing_problem(exc: Exception) -> Problem:
    if isinstance(exc, RequestInvalid):
        return invalid_fields([FieldError(e.field, e.message, "body") for e in exc.errors])
    if isinstance(exc, RequestNotFound):
        return Problem(NOT_FOUND, str(exc))
    return Problem(CONFLICT, str(exc))


def _created(view: model.RequestView) -> web.Response:
    response = records.json_response(render.request(view))
    response.set_status(201)
    response.headers["Location"] = f"/v1/requests/{view.id}"
    return response


# -- routes ---------------------------------------------------------------------------------


@routes.post("/v1/requests")
async def submit(request: web.Request) -> web.Response:
    key = request.headers.get(IDEMPOTENCY_HEADER, "")
    if len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable():
        raise invalid_one(
            IDEMPOTENCY_HEADER,
            f"use at most {MAX_IDEMPOTENCY_KEY} printable characters (e.g. a UUID)",
            "header",
        )
    draft = await _draft(request)
    who, _ = actor(request)
    try:
        view, _centers = await _router(request).submit(draft, actor=who, client_request_id=key)
    except (RequestInvalid, RoutingConflict) as exc:
        raise _routing_problem(exc) from None
    logs.event(log, "request_submitted", request_id=view.id, actor=who)
    return _created(view)


@routes.post("/v1/requests/preview")
async def preview(request: web.Request) -> web.Response:
    draft = await _draft(request)
    try:
        plan = await _router(request).preview(draft)
    except RequestInvalid as exc:
        raise _routing_problem(exc) from None
    return records.json_response(render.plan(plan))


@routes.get("/v1/requests")
async def list_requests(request: web.Request) -> web.Response:
    q = Query(request, LIST_PARAMS)
    state = q.text("state", 40)
    if state is not None and state not in model.REQUEST_STATES:
        q.fail(
            "state", f"{state[:40]!r} is not a state; use one of: {', '.join(model.REQUEST_STATES)}"
        )
    center = q.text("center", 64)
    if center is not None:
        try:
            center = path_id_value(center)
        except ValueError as exc:
            q.fail("center", str(exc))
    limit = q.integer("limit", 1, MAX_LIMIT, DEFAULT_LIMIT)
    cursor = q.text("cursor", pages.MAX_LENGTH)
    q.done()
    _, mine = actor(request)
    filters = [("state", state), ("center", center), ("by", mine)]
    before = None
    if cursor is not None:
        try:
            before = pages.decode(cursor, filters)
        except ValueError as exc:
            raise invalid_one("cursor", str(exc)) from None
    try:
        views, next_before = await _router(request).list(
            state=state, center_id=center, submitted_by=mine, limit=limit, before=before
        )
    except ValueError as exc:  # a cursor of the right shape holding a key this hub never made
        raise invalid_one("cursor", str(exc)) from None
    return records.json_response(
        {
            "items": [render.request(v) for v in views],
            "next_cursor": pages.encode(next_before, filters) if next_before else None,
        }
    )


def path_id_value(value: str) -> str:
    """A center id from a query value; ValueError saying what one looks like."""
    if not identity.valid_name(value):
        raise ValueError(f"{value[:80]!r} is not a center id (e.g. KR-MR-0001)")
    return value


@routes.get("/v1/requests/{request_id}")
async def get_request(request: web.Request) -> web.Response:
    rid = path_id(request, "request_id")
    Query(request, ()).done()
    _, mine = actor(request)
    try:
        view = await _router(request).get(rid, submitted_by=mine)
    except RequestNotFound as exc:
        raise _routing_problem(exc) from None
    return records.json_response(render.request(view))


@routes.post("/v1/requests/{request_id}/items/{item_id}/proposal")
async def respond(request: web.Request) -> web.Response:
    rid, item = path_id(request, "request_id"), path_id(request, "item_id")
    Query(request, ()).done()
    body = await _json(request, required=True)
    accept = body.get("accept") if isinstance(body, dict) else None
    if not isinstance(body, dict) or set(body) - {"accept"}:
        raise invalid_one("body", 'must be {"accept": true} or {"accept": false}', "body")
    if not isinstance(accept, bool):
        raise invalid_one(
            "accept", "is required: true takes the proposed time, false re-routes", "body"
        )
    who, mine = actor(request)
    try:
        view, _ = await _router(request).respond_to_proposal(
            rid, item, accept, actor=who, submitted_by=mine
        )
    except (RequestNotFound, RoutingConflict) as exc:
        raise _routing_problem(exc) from None
    return records.json_response(render.request(view))


@routes.post("/v1/requests/{request_id}/cancel")
async def cancel(request: web.Request) -> web.Response:
    rid = path_id(request, "request_id")
    Query(request, ()).done()
    body = await _json(request, required=False)
    if not isinstance(body, dict) or set(body) - {"reason"}:
        raise invalid_one("body", 'must be {"reason": "..."} or empty', "body")
    reason = body.get("reason", "")
    if reason is None:
        reason = ""
    if not isinstance(reason, str) or len(reason) > MAX_REASON or "\x00" in reason:
        raise invalid_one("reason", f"must be text of at most {MAX_REASON} characters", "body")
    who, mine = actor(request)
    try:
        view, _ = await _router(request).cancel(rid, actor=who, reason=reason, submitted_by=mine)
    except (RequestNotFound, RoutingConflict) as exc:
        raise _routing_problem(exc) from None
    return records.json_response(render.request(view))


@routes.get("/v1/demand")
async def demand(request: web.Request) -> web.Response:
    q = Query(request, DEMAND_PARAMS)
    tz = q.text("tz", MAX_TZ, pattern=_TZ, shape="an IANA time zone name") or av.DEFAULT_TIME_ZONE
    raw_since = q.text("since", MAX_INSTANT)
    category = q.safe_text("category", av.MAX_TEXT_LENGTH)
    center = q.text("center", 64)
    if center is not None:
        try:
            center = path_id_value(center)
        except ValueError as exc:
            q.fail("center", str(exc))
    q.done()
    since = None
    if raw_since is not None:
        try:
            since = av.parse_instant(raw_since, "since", tz)
        except av.QueryError as exc:
            raise invalid_one("tz" if exc.field == "tz" else "since", str(exc)) from None
    signals = await _router(request).demand(since=since, category=category, center_id=center)
    return records.json_response({"signals": [render.signal(s) for s in signals]})


@routes.get("/v1/technology-areas")
async def technology_areas(request: web.Request) -> web.Response:
    q = Query(request, ("industry",))
    industry = q.code("industry", codes.INDUSTRY)
    q.done()
    guide = _router(request).guide
    return records.json_response(render.areas(guide.for_industry(industry), guide.version))

"""Operator routes on the HTTP port: ``/metrics``, the dashboard's JSON and its login.

::

    GET  /metrics                       Prometheus text format (hub.metrics)
    GET  /ops/api/fleet                 every center's health, worst first (hub.health), and
                                        the routing queue (hub.http.dashboard_routing)
    GET  /ops/api/centers/{center_id}   one center's health and recent sync history
    GET  /ops/login  POST /ops/login    the dashboard's key form; GET /ops/logout

Access (these routes bypass the portal API's key check and do their own): callers on
the loopback address need nothing while ``[ops] local_access`` is on (the default) and the
request came straight, not through a proxy (no ``Forwarded``/``X-Forwarded-For``); anyone
else presents an API key of role ``operator`` (``iplat-hub apikey create NAME --role
operator``): as ``Authorization: Bearer`` (Prometheus: ``authorization: {credentials:
KEY}`` in the scrape config), or once in the dashboard's login form, which keeps it in an
HttpOnly, SameSite=Strict cookie. Portal keys are refused: fleet health is not theirs to
read.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from hub import logs
from hub.health import problem_json
from hub.health.fleet import FleetHealth
from hub.http import apikeys, dashboard_routing
from hub.http.context import context
from hub.http.middleware import check_key, open_route
from hub.http.problems import FORBIDDEN, NOT_FOUND, UNAUTHENTICATED, Problem
from hub.metrics import CONTENT_TYPE, HubMetrics
from proto import identity, timeconv

log = logging.getLogger("hub.http.ops")

COOKIE = "iplat_ops_key"
COOKIE_MAX_AGE = 12 * 3600
HISTORY_LIMIT = 50
OPERATOR = "operator"
_PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")

routes = web.RouteTableDef()


@dataclass(frozen=True)
class OpsContext:
    """What the operator routes read: the cached fleet health and the metrics registry."""

    fleet: FleetHealth
    metrics: HubMetrics


def ops_context(request: web.Request) -> OpsContext:
    ops = context(request).ops
    if ops is None:
        raise Problem(NOT_FOUND, "operator health is not served by this process")
    return ops


def _is_local(request: web.Request) -> bool:
    if any(h in request.headers for h in _PROXY_HEADERS):
        return False
    peer = request.transport.get_extra_info("peername") if request.transport else None
    if not peer:
        return False
    try:
        return ipaddress.ip_address(str(peer[0]).split("%")[0]).is_loopback
    except ValueError:
        return False


def _presented_key(request: web.Request) -> str | None:
    try:
        return apikeys.presented(request.headers, {}, query_allowed=False)
    except apikeys.NoKey:
        return request.cookies.get(COOKIE) or None


async def _operator_key(request: web.Request, key: str) -> str:
    """The name of a valid operator key; Problem 401/403 otherwise."""
    try:
        key_id, secret_hash = apikeys.parse(key[: apikeys.MAX_KEY_LENGTH + 1])
    except ValueError as exc:
        raise Problem(UNAUTHENTICATED, str(exc)) from None
    info = await check_key(request, key_id, secret_hash)
    if info.role != OPERATOR:
        logs.event(log, "ops_key_refused", logging.INFO, key=info.name, role=info.role)
        raise Problem(
            FORBIDDEN,
            f"API key {info.name!r} is a {info.role} key; operator health needs an operator "
            "key (iplat-hub apikey create NAME --role operator)",
        )
    return info.name


async def authorize(request: web.Request) -> str:
    """Who is asking (``local`` or a key name); raises Problem 401/403 otherwise."""
    if context(request).config.ops.local_access and _is_local(request):
        return "local"
    key = _presented_key(request)
    if key is None:
        raise Problem(
            UNAUTHENTICATED,
            "operator health needs an operator API key: send 'Authorization: Bearer <key>' "
            "or sign in at /ops/login (keys: iplat-hub apikey create NAME --role operator)",
            headers={"WWW-Authenticate": 'Bearer realm="iplatform-ops"'},
        )
    return await _operator_key(request, key)


# -- /metrics ---------------------------------------------------------------------------------


@routes.get("/metrics")
@open_route
async def metrics(request: web.Request) -> web.Response:
    await authorize(request)
    ops = ops_context(request)
    report = await ops.fleet.report()
    ctx = context(request)
    centers = (c.id for c in report.centers)
    routing = await dashboard_routing.snapshot(ctx.router, ctx.access, centers)
    body = ops.metrics.render(report, routing)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


# -- JSON for the dashboard -------------------------------------------------------------------


def _json(data: Any) -> web.Response:
    return web.Response(
        body=json.dumps(data, ensure_ascii=False).encode(),
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


@routes.get("/ops/api/fleet")
@open_route
async def fleet_json(request: web.Request) -> web.Response:
    await authorize(request)
    report = await ops_context(request).fleet.report()
    data = report.to_json()
    ctx = context(request)
    data["routing"] = await dashboard_routing.queue_json(ctx.router, ctx.access, report.now)
    return _json(data)


async def center_detail(request: web.Request, center_id: str) -> dict[str, Any]:
    """A center's health plus its recent sync history (also rendered by the dashboard)."""
    if not identity.valid_name(center_id):
        raise Problem(NOT_FOUND, f"no center {center_id[:80]!r}")
    ops = ops_context(request)
    report = await ops.fleet.report()
    health = report.by_id(center_id)
    if health is None:
        raise Problem(NOT_FOUND, f"no center {center_id!r}; see /ops/api/fleet")
    ctx = context(request)
    history = await ctx.access.read(ctx.store.center_events, center_id, HISTORY_LIMIT)
    out = health.to_json(report.now)
    out["generated_at"] = timeconv.iso(report.now)
    out["history"] = [
        {"at": timeconv.iso(e.at), "kind": e.kind, "detail": e.detail} for e in history
    ]
    out["problems"] = [problem_json(p) for p in health.problems]
    return out


@routes.get("/ops/api/centers/{center_id}")
@open_route
async def center_json(request: web.Request) -> web.Response:
    await authorize(request)
    return _json(await center_detail(request, request.match_info["center_id"]))


# -- login ------------------------------------------------------------------------------------


@routes.post("/ops/login")
@open_route
async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    key = str(form.get("key", "")).strip()
    try:
        name = await _operator_key(request, key)
    except Problem as refused:
        from hub.http.dashboard import login_page  # the page module imports this one

        return login_page(request, error=refused.detail, status=refused.http_status)
    logs.event(log, "ops_login", key=name)
    response = web.HTTPSeeOther("/ops/")
    response.set_cookie(
        COOKIE,
        key,
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="Strict",
        secure=request.secure,
        path="/",
    )
    raise response


@routes.get("/ops/logout")
@open_route
async def logout(request: web.Request) -> web.StreamResponse:
    response = web.HTTPSeeOther("/ops/login")
    response.del_cookie(COOKIE, path="/")
    raise response

"""The HTTP/JSON API's application and server (aiohttp, in the hub's event loop).

:func:`build_app` wires the routes (``routes_*`` modules), ``/healthz``, ``/openapi.json``
and the middleware; :class:`HttpServer` binds ``[http] listen`` and serves it beside the
gRPC server (:class:`hub.server.HubServer` starts and stops both).
"""

from __future__ import annotations

import json
import logging
import socket
from typing import Any

from aiohttp import web

from hub import logs
from hub.config import parse_listen
from hub.errors import ServeError
from hub.feed import tokens
from hub.http import (
    dashboard,
    openapi,
    records,
    routes_centers,
    routes_feed,
    routes_ical,
    routes_ops,
    routes_requests,
    routes_search,
)
from hub.http.context import CONTEXT, ApiContext, context
from hub.http.middleware import MIDDLEWARES, open_route
from hub.http.params import Query

log = logging.getLogger("hub.http")

# Request line and header limits: above aiohttp's 8 KiB so that an over-long parameter
# reaches the validation (a problem document naming it) instead of the parser's bare 400.
MAX_LINE_BYTES = 32 * 1024
MAX_FIELD_BYTES = 16 * 1024


@open_route
async def healthz(request: web.Request) -> web.Response:
    """Liveness and database reachability for load balancers (no key needed)."""
    Query(request, ()).done()
    ctx = context(request)
    head = await ctx.access.read(ctx.store.feed_head)
    return records.json_response({"status": "ok", "feed_head": tokens.encode(head.last_id)})


def _openapi_handler(document: bytes) -> Any:
    @open_route
    async def openapi_json(request: web.Request) -> web.Response:
        Query(request, ()).done()
        return web.Response(body=document, content_type="application/json")

    return openapi_json


def build_app(ctx: ApiContext) -> web.Application:
    # The body limit is checked from Content-Length by the middleware; this is aiohttp's own
    # backstop for bodies sent without one (chunked), read by the POST routes.
    app = web.Application(
        middlewares=MIDDLEWARES, client_max_size=max(ctx.config.http.max_body_bytes, 1024)
    )
    app[CONTEXT] = ctx
    for module in (routes_centers, routes_search, routes_feed, routes_ical, routes_requests):
        app.add_routes(module.routes)
    # Operator health: /metrics, the dashboard (/ops/) and its JSON (hub.http.routes_ops).
    app.add_routes(routes_ops.routes)
    app.add_routes(dashboard.routes)
    app.router.add_get("/healthz", healthz)
    document = json.dumps(openapi.document(), ensure_ascii=False).encode()
    app.router.add_get("/openapi.json", _openapi_handler(document))
    return app


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class HttpServer:
    """``await start()`` binds and serves; ``await stop()`` ends it (idempotent)."""

    def __init__(self, ctx: ApiContext, listen: str, shutdown_grace: float) -> None:
        self._ctx = ctx
        self._listen = listen
        self._grace = shutdown_grace
        self._runner: web.AppRunner | None = None
        self.address = ""

    async def start(self) -> str:
        host, port = parse_listen(self._listen)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            sock = socket.create_server((host, port), family=family)
        except OSError as exc:
            raise ServeError(
                f"cannot listen for HTTP on {self._listen} ({exc.strerror or exc}); stop the "
                "other process or change [http] listen in hub.toml (or --http-listen)"
            ) from None
        runner = web.AppRunner(
            build_app(self._ctx),
            access_log=None,
            shutdown_timeout=self._grace,
            max_line_size=MAX_LINE_BYTES,
            max_field_size=MAX_FIELD_BYTES,
        )
        try:
            await runner.setup()
            await web.SockSite(runner, sock).start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self._runner = runner
        self.address = _address(host, sock.getsockname()[1])
        logs.event(log, "http_listening", address=self.address)
        return self.address

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
            logs.event(log, "http_stopped")

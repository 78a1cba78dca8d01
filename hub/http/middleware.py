"""The HTTP API's middleware, outermost first: CORS, errors as problems, limits, API keys.

- CORS: answers preflights for the configured origins and adds the CORS headers to every
  answer (errors included, so a browser can read the problem document).
- Problems: every error leaves as RFC 9457 problem details: :class:`Problem` raised by
  handlers, aiohttp's own errors (unknown route 404, wrong method 405, body too large
  413), the store being down (503). Anything else is a bug: logged with its traceback
  and answered 500 without internals.
- Limits: a declared body larger than ``[http] max_body_bytes`` is refused (413) before
  anything reads it.
- API keys: every route needs a key unless marked :func:`open_route`; routes marked
  :func:`key_in_query` also take ``?key=`` (calendar subscriptions).

One JSON log line per request (``http_request``): method, path (never the query string,
which may carry a key), status, duration and the key's name.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web

from hub import logs
from hub.errors import StoreError
from hub.http import apikeys
from hub.http.context import context
from hub.http.problems import (
    BODY_TOO_LARGE,
    FORBIDDEN,
    HTTP_ERROR,
    INTERNAL,
    KEY_REVOKED,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    UNAUTHENTICATED,
    UNAVAILABLE,
    Problem,
)
from hub.store import ApiKeyInfo

log = logging.getLogger("hub.http")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
F = TypeVar("F", bound=Callable[..., Any])

_AUTH_ATTR = "_iplat_auth"
OPEN, HEADER, HEADER_OR_QUERY = "open", "header", "header-or-query"
API_KEY = web.RequestKey("iplat_api_key", ApiKeyInfo)

ALLOWED_METHODS = "GET, HEAD, POST, OPTIONS"
ALLOWED_HEADERS = (
    "Authorization, X-API-Key, Last-Event-ID, Accept, Cache-Control, Content-Type, Idempotency-Key"
)
PREFLIGHT_MAX_AGE = "600"


def open_route(handler: F) -> F:
    """Mark a handler as callable without an API key."""
    setattr(handler, _AUTH_ATTR, OPEN)
    return handler


def key_in_query(handler: F) -> F:
    """Mark a handler as also taking the key as ``?key=`` (calendar subscriptions)."""
    setattr(handler, _AUTH_ATTR, HEADER_OR_QUERY)
    return handler


def _rule(request: web.Request) -> str:
    handler = request.match_info.handler
    return str(getattr(handler, _AUTH_ATTR, HEADER))


# -- CORS ---------------------------------------------------------------------------------------


def _origin_allowed(request: web.Request, origin: str) -> bool:
    allowed = context(request).config.http.cors_origins
    return "*" in allowed or origin in allowed


@web.middleware
async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
    origin = request.headers.get("Origin")
    if (
        request.method == "OPTIONS"
        and origin is not None
        and "Access-Control-Request-Method" in request.headers
    ):
        return _preflight(request, origin)
    response = await handler(request)
    if not response.prepared:
        response.headers.update(cors_headers(request))
    return response


def cors_headers(request: web.Request) -> dict[str, str]:
    """The CORS headers of an answer to ``request`` (streams add them before preparing)."""
    origin = request.headers.get("Origin")
    if origin is None or not _origin_allowed(request, origin):
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def _preflight(request: web.Request, origin: str) -> web.StreamResponse:
    instance = request.path
    if isinstance(request.match_info.http_exception, web.HTTPNotFound):
        return Problem(NOT_FOUND, f"no route {request.path}; see /openapi.json").response(instance)
    if not _origin_allowed(request, origin):
        logs.event(log, "cors_refused", logging.INFO, origin=origin[:200], path=request.path)
        return Problem(
            FORBIDDEN,
            f"origin {origin[:200]!r} may not call this API from a browser; the hub operator "
            "can allow it in hub.toml ([http] cors_origins)",
        ).response(instance)
    return web.Response(
        status=204,
        headers={
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": ALLOWED_METHODS,
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
            "Vary": "Origin",
        },
    )


# -- errors as problems ---------------------------------------------------------------------------


def _from_http_exception(exc: web.HTTPException, request: web.Request) -> Problem:
    if isinstance(exc, web.HTTPNotFound):
        return Problem(NOT_FOUND, f"no route {request.path}; the routes are in /openapi.json")
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allow = ", ".join(sorted(exc.allowed_methods))
        return Problem(
            METHOD_NOT_ALLOWED,
            f"{request.method} is not allowed on {request.path}; use {allow}",
            headers={"Allow": allow},
        )
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        limit = context(request).config.http.max_body_bytes
        return Problem(
            BODY_TOO_LARGE,
            f"the request body is larger than {limit} bytes; send a smaller JSON body (GET "
            "operations take none)",
        )
    return Problem(HTTP_ERROR, exc.reason or "HTTP error", status=exc.status)


@web.middleware
async def problems(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.monotonic()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except Problem as raised:
        status = raised.http_status
        return raised.response(request.path)
    except web.HTTPException as exc:
        if exc.status < 400:
            status = exc.status
            raise
        converted = _from_http_exception(exc, request)
        status = converted.http_status
        return converted.response(request.path)
    except StoreError as exc:
        logs.event(log, "store_error", logging.ERROR, path=request.path, error=str(exc))
        status = 503
        return Problem(
            UNAVAILABLE,
            "the hub's database is not answering; retry in a few seconds",
            headers={"Retry-After": "5"},
        ).response(request.path)
    except Exception:
        log.exception("http_handler_crashed", extra={"iplat_fields": {"path": request.path}})
        return Problem(
            INTERNAL, "the hub failed to answer; the operator finds the cause in its log"
        ).response(request.path)
    finally:
        key = request.get(API_KEY)
        # Lines about one center carry its id, so its story greps out of the hub's log.
        center = request.match_info.get("center_id")
        logs.event(
            log,
            "http_request",
            logging.DEBUG,
            method=request.method,
            path=request.path[:200],
            status=status,
            ms=round((time.monotonic() - started) * 1000, 1),
            key=key.name if key is not None else None,
            **({"center_id": center[:64]} if center else {}),
        )


# -- limits -------------------------------------------------------------------------------------


@web.middleware
async def limits(request: web.Request, handler: Handler) -> web.StreamResponse:
    limit = context(request).config.http.max_body_bytes
    length = request.content_length
    if length is not None and length > limit:
        raise Problem(
            BODY_TOO_LARGE,
            f"the request body is {length} bytes; this API takes at most {limit} "
            "(GET operations take no body)",
        )
    return await handler(request)


# -- API keys -----------------------------------------------------------------------------------


def _unauthenticated(detail: str) -> Problem:
    return Problem(
        UNAUTHENTICATED, detail, headers={"WWW-Authenticate": 'Bearer realm="iplatform"'}
    )


async def authenticate(request: web.Request, *, query_allowed: bool) -> ApiKeyInfo:
    """The valid key the request presents; 401/403 problems otherwise."""
    try:
        key = apikeys.presented(request.headers, request.query, query_allowed=query_allowed)
        key_id, secret_hash = apikeys.parse(key[: apikeys.MAX_KEY_LENGTH + 1])
    except apikeys.NoKey as exc:
        raise _unauthenticated(str(exc)) from None
    except ValueError as exc:
        raise _unauthenticated(str(exc)) from None
    return await check_key(request, key_id, secret_hash)


async def check_key(request: web.Request, key_id: str, secret_hash: str) -> ApiKeyInfo:
    ctx = context(request)
    info = await ctx.access.read(ctx.store.get_api_key, key_id)
    if info is None or not apikeys.matches(info, secret_hash):
        logs.event(log, "api_key_refused", logging.INFO, key_id=key_id, path=request.path)
        raise _unauthenticated(
            "this API key is not known to the hub; check that it was copied whole, or ask "
            "the operator for a new one"
        )
    if info.revoked_at is not None:
        logs.event(log, "api_key_revoked_refused", logging.INFO, key=info.name)
        raise Problem(
            KEY_REVOKED,
            f"API key {info.name!r} was revoked; ask the hub operator for a new key",
        )
    return info


@web.middleware
async def api_keys(request: web.Request, handler: Handler) -> web.StreamResponse:
    rule = _rule(request)
    if rule != OPEN and request.match_info.http_exception is None:
        request[API_KEY] = await authenticate(request, query_allowed=rule == HEADER_OR_QUERY)
    return await handler(request)


MIDDLEWARES = (cors, problems, limits, api_keys)

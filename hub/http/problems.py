"""Errors of the HTTP API as RFC 9457 problem details (``application/problem+json``).

Every error the API answers is a :class:`Problem`: ``type`` (a URN naming the kind of
problem, stable for clients to switch on), ``title`` (fixed per type), ``status``,
``detail`` (what went wrong with this request and what to do next) and ``instance`` (the
request path). Validation problems add ``errors``: one item per offending parameter, with
its ``name``, where it was (``in``: query, path, header or body) and the ``detail``. A
body that is not JSON of the documented shape is a 400 like a bad parameter; a body of
the right shape whose values do not make a valid request is a 422 (``invalid-request``),
its ``errors`` naming each field by its path in the body (``needs[2].hours``).

Handlers raise Problems; the middleware (:mod:`hub.http.middleware`) turns them, and
aiohttp's own HTTP errors (unknown route, wrong method), into responses, so no error
leaves the API in another shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

MEDIA_TYPE = "application/problem+json"
_BASE = "urn:iplatform:problem:"


@dataclass(frozen=True)
class Kind:
    """A kind of problem: its type URN, title and HTTP status."""

    slug: str
    title: str
    status: int

    @property
    def type(self) -> str:
        return _BASE + self.slug


INVALID_PARAMETER = Kind("invalid-parameter", "A request parameter is invalid", 400)
UNAUTHENTICATED = Kind("unauthenticated", "An API key is required", 401)
KEY_REVOKED = Kind("key-revoked", "The API key was revoked", 403)
FORBIDDEN = Kind("forbidden", "The request is not allowed", 403)
NOT_FOUND = Kind("not-found", "Not found", 404)
METHOD_NOT_ALLOWED = Kind("method-not-allowed", "Method not allowed", 405)
CONFLICT = Kind("conflict", "The operation does not fit the current state", 409)
FEED_GONE = Kind("feed-token-expired", "Resync from a snapshot", 410)
BODY_TOO_LARGE = Kind("body-too-large", "The request body is too large", 413)
INVALID_REQUEST = Kind("invalid-request", "The request has invalid fields", 422)
UNAVAILABLE = Kind("unavailable", "The hub's database is unavailable", 503)
INTERNAL = Kind("internal", "Internal error", 500)
HTTP_ERROR = Kind("http-error", "HTTP error", 400)

KINDS = (
    INVALID_PARAMETER,
    UNAUTHENTICATED,
    KEY_REVOKED,
    FORBIDDEN,
    NOT_FOUND,
    METHOD_NOT_ALLOWED,
    CONFLICT,
    FEED_GONE,
    BODY_TOO_LARGE,
    INVALID_REQUEST,
    UNAVAILABLE,
    INTERNAL,
    HTTP_ERROR,
)


@dataclass(frozen=True)
class FieldError:
    """One invalid parameter."""

    name: str
    detail: str
    location: str = "query"
    """``query``, ``path``, ``header`` or ``body`` (a field path such as ``needs[0].hours``)."""

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "in": self.location, "detail": self.detail}


@dataclass(eq=False)
class Problem(Exception):
    """An error answer; raise it from a handler."""

    kind: Kind
    detail: str
    errors: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    status: int | None = None
    """Overrides the kind's status (aiohttp errors of kind HTTP_ERROR)."""

    def __post_init__(self) -> None:
        super().__init__(self.detail)

    @property
    def http_status(self) -> int:
        return self.status or self.kind.status

    def body(self, instance: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.kind.type,
            "title": self.kind.title,
            "status": self.http_status,
            "detail": self.detail,
            "instance": instance,
        }
        if self.errors:
            out["errors"] = [e.as_json() for e in self.errors]
        return out

    def response(self, instance: str) -> web.Response:
        return web.Response(
            status=self.http_status,
            body=json.dumps(self.body(instance), ensure_ascii=False).encode(),
            content_type=MEDIA_TYPE,
            headers=self.headers,
        )


def invalid(errors: list[FieldError]) -> Problem:
    """A 400 for one or more invalid parameters."""
    names = ", ".join(dict.fromkeys(e.name for e in errors))
    first = errors[0].detail
    more = f" (and {len(errors) - 1} more, see errors)" if len(errors) > 1 else ""
    return Problem(INVALID_PARAMETER, f"invalid {names}: {first}{more}", errors)


def invalid_fields(errors: list[FieldError]) -> Problem:
    """A 422 for a well-formed body whose values do not make a valid request."""
    names = ", ".join(dict.fromkeys(e.name for e in errors))
    more = f" (and {len(errors) - 1} more, see errors)" if len(errors) > 1 else ""
    return Problem(
        INVALID_REQUEST, f"invalid {names}: {errors[0].detail}{more}; nothing was stored", errors
    )


def invalid_one(name: str, detail: str, location: str = "query") -> Problem:
    return invalid([FieldError(name, detail, location)])


def not_found(detail: str) -> Problem:
    return Problem(NOT_FOUND, detail)

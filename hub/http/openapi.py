"""The OpenAPI 3.1 document of the HTTP API, served at ``/openapi.json``.

Built from the same constants the handlers validate with (limits, patterns, codes), so the
document cannot promise a parameter range the API refuses, or the reverse. Every operation
lists every status it can answer; every error is the ``Problem`` schema (RFC 9457). The
test suite fuzzes the running hub against this document (schemathesis) and fails on any
answer that does not match it.

This module assembles the document and holds what every operation shares (the problem
document, health, security); the operations live by concept: the national view in
:mod:`hub.http.openapi_view`, one-stop requests in :mod:`hub.http.openapi_routing`, both
built from :mod:`hub.http.openapi_parts`.
"""

from __future__ import annotations

from typing import Any

from hub.http import openapi_routing, openapi_view, problems
from hub.http.openapi_parts import (
    JSON,
    KEY_SECURITY,
    STR,
    TOKEN,
    Schema,
    obj,
    op,
    problem,
    ref,
    responses,
)


def _shared_schemas() -> dict[str, Schema]:
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
                    "description": "Validation problems: one per offending parameter or field",
                    "items": obj(
                        {
                            "name": {
                                **STR,
                                "description": "The parameter, or the field's path in the "
                                "body (needs[0].hours)",
                            },
                            "in": {"type": "string", "enum": ["query", "path", "header", "body"]},
                            "detail": STR,
                        }
                    ),
                },
            },
            "required": ["type", "title", "status", "detail", "instance"],
            "additionalProperties": False,
        },
        "Health": obj({"status": {"type": "string", "enum": ["ok"]}, "feed_head": TOKEN}),
    }


def _shared_paths() -> dict[str, Schema]:
    return {
        "/healthz": op(
            "healthz",
            "Liveness and database reachability (no API key)",
            responses(ref("Health"), secured=False),
            security=[],
        ),
        "/openapi.json": op(
            "openapi",
            "This document (no API key)",
            {
                "200": {
                    "description": "OpenAPI 3.1",
                    "content": {JSON: {"schema": {"type": "object"}}},
                },
                "400": problem(400),
                "413": problem(413),
            },
            security=[],
        ),
    }


def _merge(*parts: dict[str, Schema]) -> dict[str, Schema]:
    out: dict[str, Schema] = {}
    for part in parts:
        for name, value in part.items():
            if name in out:
                raise ValueError(f"OpenAPI entry {name!r} is defined twice")
            out[name] = value
    return out


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "i-Platform hub API",
            "version": "1.0.0",
            "description": (
                "The national view of i-Platform's equipment centers for portals: centers "
                "with freshness, equipment, free-slot search, iCalendar free/busy, and the "
                "live change feed; and one-stop requests: a company asks once, the hub routes "
                "each need to the center holding fitting equipment and follows it to an "
                "answer. Every answer says how fresh each center's data is; data of a center "
                "silent past the threshold is flagged stale. Errors are RFC 9457 problem "
                "details. API keys: `iplat-hub apikey create NAME` (hub operator); send "
                "`Authorization: Bearer KEY` or `X-API-Key: KEY`. To keep a copy: read "
                "GET /v1/snapshot, then follow GET /v1/feed from its feed_token."
            ),
        },
        "security": KEY_SECURITY,
        "paths": _merge(_shared_paths(), openapi_view.paths(), openapi_routing.paths()),
        "components": {
            "schemas": _merge(_shared_schemas(), openapi_view.schemas(), openapi_routing.schemas()),
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

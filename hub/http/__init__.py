"""The hub's HTTP/JSON API for portals (aiohttp, in the hub's event loop).

::

    GET /healthz                                  liveness (no key)
    GET /openapi.json                             the OpenAPI 3.1 document (no key)
    GET /v1/centers[?industry&region&limit&cursor]
    GET /v1/centers/{center_id}
    GET /v1/centers/{center_id}/equipment[?limit&cursor]
    GET /v1/centers/{center_id}/equipment/{equipment_id}
    GET /v1/equipment/search?from&to&hours[&industry&category&capability...&region
                              &stage&service&text&tz&limit&cursor]
    GET /v1/snapshot[?limit&cursor]               everything, with the feed token to follow
    GET /v1/feed[?after]                          Server-Sent Events (Last-Event-ID resumes)
    GET /v1/feed/changes[?after&limit]            the feed, polled
    GET /v1/centers/{center_id}/freebusy.ics[?from&to&key]
    GET /v1/centers/{center_id}/equipment/{equipment_id}/freebusy.ics[?from&to&key]
    POST /v1/requests                             one-stop request (201; Idempotency-Key)
    POST /v1/requests/preview                     its plan, nothing stored
    GET /v1/requests[?state&center&limit&cursor]  a portal key sees its own
    GET /v1/requests/{request_id}
    POST /v1/requests/{request_id}/items/{item_id}/proposal   {"accept": true|false}
    POST /v1/requests/{request_id}/cancel         {"reason": "..."}
    GET /v1/demand[?since&category&center&tz]     demand signals (upgrade program)
    GET /v1/technology-areas[?industry]           the stage guide's areas

Modules: ``app`` (application, server), ``middleware`` (CORS, problems, limits, API keys),
``problems`` (RFC 9457), ``params`` (strict parameter validation), ``cursors`` (opaque
page cursors), ``apikeys`` (key strings; no HTTP import, the CLI uses it), ``records``
(JSON shapes), ``routes_centers``, ``routes_search``, ``routes_feed`` (+ ``sse``),
``routes_ical`` (+ ``ical``), ``routes_requests`` (one-stop requests), ``openapi`` (the
document; its parts in ``openapi_parts``, ``openapi_view`` and ``openapi_routing``),
``context``.

Operators (not part of the portal API or its OpenAPI document; loopback callers or operator
keys): ``GET /metrics`` and the dashboard ``/ops/`` with its JSON, in ``routes_ops`` and
``dashboard`` (+ ``dashboard_html``, ``dashboard_routing`` for the routing queue, ``static/``);
see docs/operations.md.

This package's ``__init__`` imports nothing: the CLI imports :mod:`hub.http.apikeys`
without loading aiohttp.
"""

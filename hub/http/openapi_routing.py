"""The OpenAPI paths and schemas of one-stop requests (:mod:`hub.http.routes_requests`).

Answers are described exactly as :mod:`hub.routing.render` writes them (closed objects,
absent values null). Request bodies are described no stricter than the hub checks them
(:mod:`hub.routing.jsonbody` for shape, :mod:`hub.routing.validate` for values): a body
the document calls invalid is always refused (400 or 422), and the fuzz tests hold the
hub to that.
"""

from __future__ import annotations

from hub import availability as av
from hub.http import routes_requests, routes_search
from hub.http.openapi_parts import (
    BOOL,
    CURSOR,
    CURSOR_PARAM,
    ID_SCHEMA,
    INT,
    NUMBER,
    STR,
    TIME,
    Schema,
    array,
    enum,
    json_body,
    limit,
    nullable,
    obj,
    op,
    path,
    query,
    ref,
    responses,
    safe,
    text,
)
from hub.routing import model
from hub.routing.jsonbody import MAX_HOURS, MAX_LIST
from proto import codes

_TEXT: Schema = nullable(STR)
_INPUT_TIME: Schema = {
    **nullable({"type": "string", "maxLength": routes_search.MAX_INSTANT}),
    "description": "ISO 8601 (2027-01-04T09:00 is read in `time_zone`; or with an offset)",
}
_CODES = nullable(STR)
_NONNEG: Schema = {"type": "integer", "minimum": 0}


def _open(properties: dict[str, Schema], required: tuple[str, ...], description: str) -> Schema:
    """An input object: unknown fields are refused, only ``required`` must be present."""
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


def _input_schemas() -> dict[str, Schema]:
    stage = f"R&D stage: {', '.join(codes.STAGE.codes)}"
    return {
        "CompanyInput": _open(
            {
                "name": _TEXT,
                "business_number": {**_TEXT, "description": "사업자등록번호, 123-45-67890"},
                "contact_name": _TEXT,
                "contact_email": _TEXT,
                "contact_phone": _TEXT,
            },
            (),
            "Who asks; the centers the request is routed to see it",
        ),
        "NeedInput": _open(
            {
                "stage": {**_CODES, "description": stage},
                "category": {**_TEXT, "description": "Equipment category code"},
                "capabilities": nullable(array(STR, maxItems=MAX_LIST)),
                "service": {**_CODES, "description": ", ".join(codes.SERVICE.codes)},
                "hours": {
                    **nullable({**NUMBER, "maximum": MAX_HOURS, "minimum": -MAX_HOURS}),
                    "description": "Whole minutes: 1.5 is fine",
                },
                "earliest": _INPUT_TIME,
                "latest": {**_INPUT_TIME, "description": "End of the window (exclusive)"},
                "region": {**_TEXT, "description": "Preferred region (ranked first)"},
                "note": _TEXT,
            },
            (),
            "What the company needs at one stage; category or capabilities (or both)",
        ),
        "RequestDraft": _open(
            {
                "company": ref("CompanyInput"),
                "project_title": _TEXT,
                "technology_area": {**_TEXT, "description": "GET /v1/technology-areas"},
                "goal": _TEXT,
                "needs": nullable(array(ref("NeedInput"), maxItems=MAX_LIST)),
                "stages": {
                    **nullable(array(STR, maxItems=MAX_LIST)),
                    "description": "Without needs: the guide proposes them for these stages",
                },
                "earliest": _INPUT_TIME,
                "latest": _INPUT_TIME,
                "region": _TEXT,
                "hours": nullable({**NUMBER, "maximum": MAX_HOURS, "minimum": -MAX_HOURS}),
                "time_zone": {
                    **nullable({"type": "string", "maxLength": routes_search.MAX_TZ}),
                    "description": "Of times without an offset (default Asia/Seoul)",
                },
            },
            ("company", "project_title", "technology_area"),
            "A request as the company writes it: `needs`, or `stages` with a window",
        ),
        "ProposalAnswer": _open(
            {"accept": {**BOOL, "description": "true: take the time; false: re-route"}},
            ("accept",),
            "The company's answer to a time a center proposed",
        ),
        "CancelBody": _open(
            {"reason": nullable({"type": "string", "maxLength": routes_requests.MAX_REASON})},
            (),
            "Why (recorded in the request's events)",
        ),
    }


def schemas() -> dict[str, Schema]:
    need = {
        "stage": enum(codes.STAGE),
        "category": nullable(STR),
        "capabilities": array(STR),
        "service": nullable(enum(codes.SERVICE)),
        "hours": NUMBER,
        "earliest": TIME,
        "latest": TIME,
        "region": nullable(STR),
        "note": STR,
    }
    company = ("name", "business_number", "contact_name", "contact_email", "contact_phone")
    return {
        **_input_schemas(),
        "Company": obj({k: STR for k in company}),
        "Need": obj(need),
        "Candidate": obj(
            {
                "center_id": STR,
                "center_name": STR,
                "equipment_id": STR,
                "equipment_name": STR,
                "region": STR,
                "time_zone": STR,
                "slot_start": {**TIME, "description": "Earliest free slot the hub saw"},
                "slot_end": TIME,
                "score": {**NUMBER, "description": "Higher is better; the sum of the parts"},
                "fit": NUMBER,
                "earliness": NUMBER,
                "region_match": NUMBER,
                "load": NUMBER,
                "open_items": {**_NONNEG, "description": "Items already waiting at the center"},
                "stale": BOOL,
            },
            "An equipment that can serve a need, and why it ranks where it does",
        ),
        "PlannedNeed": obj(
            {
                "index": _NONNEG,
                "need": ref("Need"),
                "origin": {"type": "string", "enum": [model.ORIGIN_REQUEST, model.ORIGIN_GUIDE]},
                "candidates": {**array(ref("Candidate")), "description": "Best first"},
                "unserved_reason": {**nullable(STR), "description": "Why no candidate"},
            }
        ),
        "Coordinator": obj({"center_id": STR, "name": STR, "industry": enum(codes.INDUSTRY)}),
        "Plan": obj(
            {
                "needs": array(ref("PlannedNeed")),
                "coordinator": nullable(ref("Coordinator")),
                "generated_at": TIME,
            }
        ),
        "RoutedItem": obj(
            {
                "item_id": STR,
                "request_id": STR,
                "need_index": _NONNEG,
                "attempt": {"type": "integer", "minimum": 1},
                "state": {"type": "string", "enum": list(model.ITEM_STATES)},
                "candidate": ref("Candidate"),
                "routed_at": TIME,
                "delivered_at": nullable(TIME),
                "deadline": {**TIME, "description": "Unanswered by then: the next candidate"},
                "answered_at": nullable(TIME),
                "start": {**nullable(TIME), "description": "Accepted or proposed time"},
                "end": nullable(TIME),
                "decline_reason": nullable({"type": "string", "enum": list(model.DECLINE_REASONS)}),
                "message": STR,
            }
        ),
        "RequestEvent": obj(
            {
                "at": TIME,
                "actor": {**STR, "description": "hub, center:<id>, apikey:<name>, ..."},
                "kind": STR,
                "item_id": nullable(STR),
                "detail": STR,
            }
        ),
        "NeedStatus": obj(
            {
                "plan": ref("PlannedNeed"),
                "items": {**array(ref("RoutedItem")), "description": "The last is current"},
            }
        ),
        "ServiceRequest": obj(
            {
                "id": STR,
                "state": {"type": "string", "enum": list(model.REQUEST_STATES)},
                "company": ref("Company"),
                "project_title": STR,
                "technology_area": STR,
                "industry": enum(codes.INDUSTRY),
                "goal": STR,
                "coordinator": nullable(ref("Coordinator")),
                "needs": array(ref("NeedStatus")),
                "events": array(ref("RequestEvent")),
                "created_at": TIME,
                "updated_at": TIME,
                "submitted_by": STR,
                "client_request_id": nullable(STR),
            }
        ),
        "RequestPage": obj(
            {"items": array(ref("ServiceRequest")), "next_cursor": nullable(CURSOR)}
        ),
        "DemandSignal": obj(
            {
                "kind": {
                    "type": "string",
                    "enum": [
                        model.SIGNAL_SEARCH_NONE_FREE,
                        model.SIGNAL_DECLINED_NO_CAPACITY,
                        model.SIGNAL_UNSERVED,
                    ],
                },
                "category": {**STR, "description": "(any): a search without a category"},
                "center_id": nullable(STR),
                "count": {**INT, "minimum": 1},
                "first_at": TIME,
                "last_at": TIME,
            }
        ),
        "DemandSignals": obj({"signals": array(ref("DemandSignal"))}),
        "GuideNeed": obj(
            {
                "stage": enum(codes.STAGE),
                "category": nullable(STR),
                "capabilities": array(STR),
                "service": nullable(enum(codes.SERVICE)),
                "hours": NUMBER,
                "note": STR,
            }
        ),
        "TechnologyArea": obj(
            {
                "code": STR,
                "name_ko": STR,
                "name_en": STR,
                "industry": enum(codes.INDUSTRY),
                "needs": array(ref("GuideNeed")),
            }
        ),
        "TechnologyAreas": obj({"areas": array(ref("TechnologyArea")), "guide_version": STR}),
    }


def paths() -> dict[str, Schema]:
    rid = path("request_id", "Request id, e.g. RQ-7K2M9Q4XJD")
    item = path("item_id", "Item id (request id, need number, attempt)")
    draft = json_body(ref("RequestDraft"), "The request (JSON)")
    idempotency = {
        "name": routes_requests.IDEMPOTENCY_HEADER,
        "in": "header",
        "required": False,
        "description": "Makes the submit safe to retry: a repeat returns the stored request",
        "schema": {"type": "string", "maxLength": routes_requests.MAX_IDEMPOTENCY_KEY},
    }
    location = {"Location": {"description": "/v1/requests/{id}", "schema": STR}}
    answer = responses(ref("ServiceRequest"), found=True, extra=(409,))
    return {
        "/v1/requests": {
            **op(
                "submitRequest",
                "Validate, plan and route a request to the centers (Idempotency-Key: once)",
                responses(
                    ref("ServiceRequest"),
                    status=201,
                    extra=(404, 409, 422),
                    description="Stored and routed",
                    headers=location,
                ),
                method="post",
                requestBody=draft,
                parameters=[idempotency],
            ),
            **op(
                "listRequests",
                "Requests, newest first (a portal key sees its own)",
                responses(ref("RequestPage"), extra=(404,)),
                parameters=[
                    query("state", enum_of(model.REQUEST_STATES), "Only requests in this state"),
                    query("center", ID_SCHEMA, "Only requests with an item routed to this center"),
                    limit(routes_requests.MAX_LIMIT, routes_requests.DEFAULT_LIMIT),
                    CURSOR_PARAM,
                ],
            ),
        },
        "/v1/requests/preview": op(
            "previewRequest",
            "The plan a request would get; nothing is stored or routed",
            responses(ref("Plan"), extra=(404, 422)),
            method="post",
            requestBody=draft,
        ),
        "/v1/requests/{request_id}": op(
            "getRequest",
            "One request with every item and event",
            responses(ref("ServiceRequest"), found=True),
            parameters=[rid],
        ),
        "/v1/requests/{request_id}/items/{item_id}/proposal": op(
            "respondToProposal",
            "Take a time a center proposed, or route the need to the next candidate",
            answer,
            method="post",
            parameters=[rid, item],
            requestBody=json_body(ref("ProposalAnswer"), "The answer"),
        ),
        "/v1/requests/{request_id}/cancel": op(
            "cancelRequest",
            "Withdraw every open item (accepted ones stay accepted)",
            answer,
            method="post",
            parameters=[rid],
            requestBody=json_body(ref("CancelBody"), "Why (optional)", required=False),
        ),
        "/v1/demand": op(
            "listDemandSignals",
            "Demand signals for the equipment-upgrade program, most counted first",
            responses(ref("DemandSignals"), extra=(404,)),
            parameters=[
                query("since", text(routes_search.MAX_INSTANT), "Seen since (ISO 8601)"),
                query("category", safe(av.MAX_TEXT_LENGTH), "Equipment category code"),
                query("center", ID_SCHEMA, "Only signals of this center"),
                query(
                    "tz",
                    {
                        "type": "string",
                        "pattern": routes_search.TZ_PATTERN,
                        "maxLength": routes_search.MAX_TZ,
                    },
                    "Time zone of `since` without offset (default Asia/Seoul)",
                ),
            ],
        ),
        "/v1/technology-areas": op(
            "listTechnologyAreas",
            "The stage guide's technology areas and what each stage needs",
            responses(ref("TechnologyAreas"), extra=(404,)),
            parameters=[query("industry", enum(codes.INDUSTRY), "Only this industry's areas")],
        ),
    }


def enum_of(values: tuple[str, ...]) -> Schema:
    return {"type": "string", "enum": list(values)}

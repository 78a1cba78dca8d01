"""Routing values as JSON: the HTTP API's answers and ``iplat-hub requests ... --json``.

Shapes mirror the protobuf messages (``pb.ServiceRequest``, ``pb.PreviewRequestResponse``,
...) in snake_case, so a portal switching between gRPC and HTTP reads the same fields.
Codes are text (``"in-progress"``, ``"validation"``), instants ISO 8601 UTC with ``Z``,
and absent values ``null`` (never left out), as in the rest of the HTTP API
(:mod:`hub.http.records`); the OpenAPI schemas in :mod:`hub.http.openapi_routing` list them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from hub.routing import model as m
from proto import timeconv

if TYPE_CHECKING:
    from hub.routing.guide import Area

iso = timeconv.iso


def company(c: m.Company) -> dict[str, Any]:
    return {
        "name": c.name,
        "business_number": c.business_number,
        "contact_name": c.contact_name,
        "contact_email": c.contact_email,
        "contact_phone": c.contact_phone,
    }


def need(n: m.Need) -> dict[str, Any]:
    return {
        "stage": n.stage,
        "category": n.category,
        "capabilities": list(n.capabilities),
        "service": n.service,
        "hours": n.hours,
        "earliest": iso(n.earliest),
        "latest": iso(n.latest),
        "region": n.region,
        "note": n.note,
    }


def candidate(c: m.Candidate) -> dict[str, Any]:
    return {
        "center_id": c.center_id,
        "center_name": c.center_name,
        "equipment_id": c.equipment_id,
        "equipment_name": c.equipment_name,
        "region": c.region,
        "time_zone": c.time_zone,
        "slot_start": iso(c.slot_start),
        "slot_end": iso(c.slot_end),
        "score": c.score,
        "fit": c.fit,
        "earliness": c.earliness,
        "region_match": c.region_match,
        "load": c.load,
        "open_items": c.open_items,
        "stale": c.stale,
    }


def planned_need(p: m.PlannedNeed) -> dict[str, Any]:
    return {
        "index": p.index,
        "need": need(p.need),
        "origin": p.need.origin,
        "candidates": [candidate(c) for c in p.candidates],
        "unserved_reason": p.unserved_reason or None,
    }


def coordinator(c: m.Coordinator | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {"center_id": c.center_id, "name": c.name, "industry": c.industry}


def plan(p: m.Plan) -> dict[str, Any]:
    return {
        "needs": [planned_need(n) for n in p.needs],
        "coordinator": coordinator(p.coordinator),
        "generated_at": iso(p.generated_at),
    }


def item(i: m.ItemView) -> dict[str, Any]:
    return {
        "item_id": i.item_id,
        "request_id": i.request_id,
        "need_index": i.need_index,
        "attempt": i.attempt,
        "state": i.state,
        "candidate": candidate(i.candidate),
        "routed_at": iso(i.routed_at),
        "delivered_at": iso(i.delivered_at),
        "deadline": iso(i.deadline),
        "answered_at": iso(i.answered_at),
        "start": iso(i.start),
        "end": iso(i.end),
        "decline_reason": i.decline_reason or None,
        "message": i.message,
    }


def event(e: m.EventView) -> dict[str, Any]:
    return {
        "at": iso(e.at),
        "actor": e.actor,
        "kind": e.kind,
        "item_id": e.item_id or None,
        "detail": e.detail,
    }


def request(r: m.RequestView) -> dict[str, Any]:
    return {
        "id": r.id,
        "state": r.state,
        "company": company(r.company),
        "project_title": r.project_title,
        "technology_area": r.technology_area,
        "industry": r.industry,
        "goal": r.goal,
        "coordinator": coordinator(r.coordinator),
        "needs": [
            {"plan": planned_need(n.plan), "items": [item(i) for i in n.items]} for n in r.needs
        ],
        "events": [event(e) for e in r.events],
        "created_at": iso(r.created_at),
        "updated_at": iso(r.updated_at),
        "submitted_by": r.submitted_by,
        "client_request_id": r.client_request_id or None,
    }


def signal(s: m.DemandSignal) -> dict[str, Any]:
    return {
        "kind": s.kind,
        "category": s.category,
        "center_id": s.center_id or None,
        "count": s.count,
        "first_at": iso(s.first_at),
        "last_at": iso(s.last_at),
    }


def area(a: Area) -> dict[str, Any]:
    return {
        "code": a.code,
        "name_ko": a.name_ko,
        "name_en": a.name_en,
        "industry": a.industry,
        "needs": [
            {
                "stage": n.stage,
                "category": n.category,
                "capabilities": list(n.capabilities),
                "service": n.service,
                "hours": n.hours,
                "note": n.note,
            }
            for n in a.needs
        ],
    }


def areas(items: Iterable[Area], guide_version: str) -> dict[str, Any]:
    return {"areas": [area(a) for a in items], "guide_version": guide_version}

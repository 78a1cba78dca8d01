"""Routing values to and from protobuf (``iplatform.v1`` routing messages).

The model (:mod:`hub.routing.model`) speaks text codes and epoch seconds; the wire speaks
prefixed enums and ``Timestamp``. Every mapping lives here so the gRPC service, the
dispatcher and tests agree on it.

Reading a draft never rejects it: an UNSPECIFIED enum becomes ``""`` (unset) and an enum
value this hub does not know becomes its number as text (``"9"``), so that
:func:`hub.routing.validate.validate` reports it with its field path beside every other
error of the draft, instead of the first bad enum hiding the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from hub.routing import model as m
from proto import codes, pb, timeconv

if TYPE_CHECKING:
    from hub.routing.guide import Area, GuideNeed

REQUEST_STATE = codes.CodeMap(
    "request state",
    {
        m.REQUEST_IN_PROGRESS: pb.REQUEST_STATE_IN_PROGRESS,
        m.REQUEST_ACCEPTED: pb.REQUEST_STATE_ACCEPTED,
        m.REQUEST_PARTIALLY_SERVED: pb.REQUEST_STATE_PARTIALLY_SERVED,
        m.REQUEST_UNSERVED: pb.REQUEST_STATE_UNSERVED,
        m.REQUEST_CANCELLED: pb.REQUEST_STATE_CANCELLED,
    },
)
ITEM_STATE = codes.CodeMap(
    "item state",
    {
        m.ITEM_ROUTED: pb.ITEM_STATE_ROUTED,
        m.ITEM_DELIVERED: pb.ITEM_STATE_DELIVERED,
        m.ITEM_ACCEPTED: pb.ITEM_STATE_ACCEPTED,
        m.ITEM_PROPOSED: pb.ITEM_STATE_PROPOSED,
        m.ITEM_DECLINED: pb.ITEM_STATE_DECLINED,
        m.ITEM_EXPIRED: pb.ITEM_STATE_EXPIRED,
        m.ITEM_WITHDRAWN: pb.ITEM_STATE_WITHDRAWN,
    },
)
DECLINE_REASON = codes.CodeMap(
    "decline reason",
    {
        "no-capacity": pb.DECLINE_REASON_NO_CAPACITY,
        "equipment-unavailable": pb.DECLINE_REASON_EQUIPMENT_UNAVAILABLE,
        "out-of-scope": pb.DECLINE_REASON_OUT_OF_SCOPE,
        "other": pb.DECLINE_REASON_OTHER,
    },
)
ANSWER_KIND = codes.CodeMap(
    "answer kind",
    {
        "accept": pb.ANSWER_KIND_ACCEPT,
        "decline": pb.ANSWER_KIND_DECLINE,
        "propose": pb.ANSWER_KIND_PROPOSE,
    },
)
ANSWER_OUTCOME = codes.CodeMap(
    "answer outcome",
    {
        "applied": pb.ANSWER_OUTCOME_APPLIED,
        "duplicate": pb.ANSWER_OUTCOME_DUPLICATE,
        "rejected": pb.ANSWER_OUTCOME_REJECTED,
    },
)


# -- reading ------------------------------------------------------------------------------


def code_of(cmap: codes.CodeMap, value: int) -> str:
    """The text code of an enum value; ``""`` for UNSPECIFIED, the number for unknown ones."""
    if value == 0:
        return ""
    try:
        return cmap.code(value)
    except ValueError:
        return str(value)


def instant(msg: Any, name: str) -> int | None:
    """Epoch seconds of a Timestamp field; None when it is not set."""
    return timeconv.to_epoch(getattr(msg, name)) if msg.HasField(name) else None


def company_from_pb(msg: Any) -> m.Company:
    return m.Company(
        name=msg.name,
        business_number=msg.business_number,
        contact_name=msg.contact_name,
        contact_email=msg.contact_email,
        contact_phone=msg.contact_phone,
    )


def need_from_pb(msg: Any) -> m.DraftNeed:
    return m.DraftNeed(
        stage=code_of(codes.STAGE, msg.stage),
        category=msg.category,
        capabilities=tuple(msg.capabilities),
        service=code_of(codes.SERVICE, msg.service),
        # proto3 doubles have no presence: 0 is "not given", which validation reports.
        hours=msg.hours or None,
        earliest=instant(msg, "earliest"),
        latest=instant(msg, "latest"),
        region=msg.region,
        note=msg.note,
    )


def draft_from_pb(msg: Any) -> m.Draft:
    """A ``pb.RequestDraft`` as a :class:`~hub.routing.model.Draft` (not validated)."""
    return m.Draft(
        company=company_from_pb(msg.company),
        project_title=msg.project_title,
        technology_area=msg.technology_area,
        goal=msg.goal,
        needs=tuple(need_from_pb(n) for n in msg.needs),
        stages=tuple(code_of(codes.STAGE, s) for s in msg.stages),
        earliest=instant(msg, "earliest"),
        latest=instant(msg, "latest"),
        region=msg.region,
        hours=msg.hours or None,
    )


def answer_from_pb(msg: Any) -> m.Answer:
    """A center's ``pb.ItemAnswer`` (unknown kinds/reasons become their number as text)."""
    return m.Answer(
        answer_seq=msg.answer_seq,
        item_id=msg.item_id,
        kind=code_of(ANSWER_KIND, msg.kind),
        start=instant(msg, "start"),
        end=instant(msg, "end"),
        decline_reason=code_of(DECLINE_REASON, msg.decline_reason),
        message=msg.message,
        answered_by=msg.answered_by,
        answered_at=instant(msg, "answered_at"),
    )


# -- writing ------------------------------------------------------------------------------


def _value(cmap: codes.CodeMap, code: str | None) -> int:
    """The enum value of a code; 0 (UNSPECIFIED) for unset or unknown codes."""
    if not code:
        return 0
    try:
        return cmap.value(code)
    except ValueError:
        return 0


def _ts(fields: dict[str, Any], **instants: int | None) -> dict[str, Any]:
    for name, value in instants.items():
        if value is not None:
            fields[name] = timeconv.from_epoch(value)
    return fields


def company_to_pb(c: m.Company) -> Any:
    return pb.Company(
        name=c.name,
        business_number=c.business_number,
        contact_name=c.contact_name,
        contact_email=c.contact_email,
        contact_phone=c.contact_phone,
    )


def need_to_pb(n: m.Need | m.DraftNeed) -> Any:
    fields: dict[str, Any] = {
        "stage": _value(codes.STAGE, n.stage),
        "category": n.category or "",
        "capabilities": list(n.capabilities),
        "service": _value(codes.SERVICE, n.service),
        "hours": n.hours or 0.0,
        "region": n.region or "",
        "note": n.note,
    }
    return pb.Need(**_ts(fields, earliest=n.earliest, latest=n.latest))


def draft_to_pb(d: m.Draft) -> Any:
    fields: dict[str, Any] = {
        "company": company_to_pb(d.company),
        "project_title": d.project_title,
        "technology_area": d.technology_area,
        "goal": d.goal,
        "needs": [need_to_pb(n) for n in d.needs],
        "stages": [_value(codes.STAGE, s) for s in d.stages],
        "region": d.region,
        "hours": d.hours or 0.0,
    }
    return pb.RequestDraft(**_ts(fields, earliest=d.earliest, latest=d.latest))


def candidate_to_pb(c: m.Candidate) -> Any:
    return pb.Candidate(
        center_id=c.center_id,
        center_name=c.center_name,
        equipment_id=c.equipment_id,
        equipment_name=c.equipment_name,
        region=c.region,
        slot_start=timeconv.from_epoch(c.slot_start),
        slot_end=timeconv.from_epoch(c.slot_end),
        score=c.score,
        fit=c.fit,
        earliness=c.earliness,
        region_match=c.region_match,
        load=c.load,
        open_items=c.open_items,
        stale=c.stale,
    )


def planned_need_to_pb(p: m.PlannedNeed) -> Any:
    return pb.PlannedNeed(
        index=p.index,
        need=need_to_pb(p.need),
        origin=p.need.origin,
        candidates=[candidate_to_pb(c) for c in p.candidates],
        unserved_reason=p.unserved_reason,
    )


def coordinator_to_pb(c: m.Coordinator) -> Any:
    return pb.Coordinator(
        center_id=c.center_id, name=c.name, industry=_value(codes.INDUSTRY, c.industry)
    )


def plan_to_pb(plan: m.Plan) -> Any:
    """A plan as the PreviewRequest answer."""
    response = pb.PreviewRequestResponse(
        needs=[planned_need_to_pb(p) for p in plan.needs],
        generated_at=timeconv.from_epoch(plan.generated_at),
    )
    if plan.coordinator is not None:
        response.coordinator.CopyFrom(coordinator_to_pb(plan.coordinator))
    return response


def item_to_pb(i: m.ItemView) -> Any:
    fields: dict[str, Any] = {
        "item_id": i.item_id,
        "need_index": i.need_index,
        "attempt": i.attempt,
        "state": _value(ITEM_STATE, i.state),
        "candidate": candidate_to_pb(i.candidate),
        "decline_reason": _value(DECLINE_REASON, i.decline_reason),
        "message": i.message,
    }
    _ts(
        fields,
        routed_at=i.routed_at,
        delivered_at=i.delivered_at,
        deadline=i.deadline,
        answered_at=i.answered_at,
        start=i.start,
        end=i.end,
    )
    return pb.RoutedItem(**fields)


def event_to_pb(e: m.EventView) -> Any:
    return pb.RequestEvent(
        at=timeconv.from_epoch(e.at), actor=e.actor, kind=e.kind, item_id=e.item_id, detail=e.detail
    )


def request_to_pb(r: m.RequestView) -> Any:
    """A stored request as ``pb.ServiceRequest``."""
    msg = pb.ServiceRequest(
        id=r.id,
        state=_value(REQUEST_STATE, r.state),
        company=company_to_pb(r.company),
        project_title=r.project_title,
        technology_area=r.technology_area,
        goal=r.goal,
        needs=[
            pb.RequestNeedStatus(
                plan=planned_need_to_pb(n.plan), items=[item_to_pb(i) for i in n.items]
            )
            for n in r.needs
        ],
        events=[event_to_pb(e) for e in r.events],
        created_at=timeconv.from_epoch(r.created_at),
        updated_at=timeconv.from_epoch(r.updated_at),
        submitted_by=r.submitted_by,
        client_request_id=r.client_request_id,
    )
    if r.coordinator is not None:
        msg.coordinator.CopyFrom(coordinator_to_pb(r.coordinator))
    return msg


def signal_to_pb(s: m.DemandSignal) -> Any:
    return pb.DemandSignal(
        kind=s.kind,
        category=s.category,
        center_id=s.center_id,
        count=s.count,
        first_at=timeconv.from_epoch(s.first_at),
        last_at=timeconv.from_epoch(s.last_at),
    )


def guide_need_to_pb(n: GuideNeed) -> Any:
    return pb.GuideNeed(
        stage=_value(codes.STAGE, n.stage),
        category=n.category or "",
        capabilities=list(n.capabilities),
        service=_value(codes.SERVICE, n.service),
        hours=n.hours,
        note=n.note,
    )


def area_to_pb(a: Area) -> Any:
    return pb.TechnologyArea(
        code=a.code,
        name_ko=a.name_ko,
        name_en=a.name_en,
        industry=_value(codes.INDUSTRY, a.industry),
        needs=[guide_need_to_pb(n) for n in a.needs],
    )


def areas_to_pb(areas: Iterable[Area], guide_version: str) -> Any:
    return pb.ListTechnologyAreasResponse(
        areas=[area_to_pb(a) for a in areas], guide_version=guide_version
    )

"""Routing values to and from protobuf, and the JSON body of a request draft: every field
crosses, unset stays unset, unknown enums reach validation instead of hiding other errors."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from hub.availability import Reason, ReasonCode, SearchAnswer
from hub.errors import StoreError
from hub.routing import convert, jsonbody, render, search_demand
from hub.routing import model as m
from hub.routing.guide import load_guide
from hub.routing.validate import validate
from proto import pb, timeconv

T = 1_800_000_000
COMPANY = m.Company("(주)한빛배터리", "124-81-00998", "김담당", "kim@hanbit.kr", "02-1234-5678")
NEED = m.DraftNeed(
    stage="validation",
    category="battery-cycler",
    capabilities=("pouch", "45c"),
    service="test-analysis",
    hours=8.5,
    earliest=T,
    latest=T + 7 * 86400,
    region="대전",
    note="셀 수명 시험",
)
CANDIDATE = m.Candidate(
    "KR-EE-0001", "센터", "cycler-1", "충방전기", "대전", "Asia/Seoul",
    T + 3600, T + 7200, 0.8, 0.5, 0.2, 0.1, 0.0, 3, False,
)  # fmt: skip


def test_a_draft_crosses_the_wire_unchanged() -> None:
    draft = m.Draft(
        company=COMPANY,
        project_title="파우치 셀",
        technology_area="secondary-battery-cell",
        goal="수명 2배",
        needs=(NEED, m.DraftNeed(stage="design", category="xrd")),
        region="대전",
    )
    assert convert.draft_from_pb(convert.draft_to_pb(draft)) == draft
    staged = m.Draft(company=COMPANY, stages=("validation", "design"), earliest=T, latest=T + 9)
    assert convert.draft_from_pb(convert.draft_to_pb(staged)) == staged


def test_unset_and_unknown_values_in_a_draft() -> None:
    assert convert.draft_from_pb(pb.RequestDraft(stages=[0, 42])).stages == ("", "42")
    draft = convert.draft_from_pb(pb.RequestDraft(needs=[pb.Need(stage=99, service=0)]))
    assert draft.company == m.Company("", "", "")
    assert draft.earliest is None and draft.latest is None
    need = draft.needs[0]
    assert (need.stage, need.service, need.hours, need.earliest) == ("99", "", None, None)
    # Validation names each of them, with the HTTP API's field paths.
    with pytest.raises(m.RequestInvalid) as caught:
        validate(draft, load_guide(), T)
    fields = {e.field for e in caught.value.errors}
    assert {"needs[0].stage", "needs[0].hours", "needs[0].earliest", "company.name"} <= fields
    assert any("99" in e.message for e in caught.value.errors if e.field == "needs[0].stage")


def _view() -> m.RequestView:
    need = m.Need("validation", "battery-cycler", (), "test-analysis", 8, T, T + 86400, "대전")
    planned = m.PlannedNeed(0, need, (CANDIDATE,))
    unserved = m.PlannedNeed(1, m.Need("design", None, ("eds",), None, 2, T, T + 9000), (), "none")
    item = m.ItemView(
        "RQ-1-1-1", "RQ-1", 0, 1, m.ITEM_PROPOSED, CANDIDATE, T, T + 172800,
        delivered_at=T + 5, answered_at=T + 60, start=T + 100, end=T + 200, message="오후에",
    )  # fmt: skip
    return m.RequestView(
        id="RQ-1",
        state=m.REQUEST_IN_PROGRESS,
        company=COMPANY,
        project_title="파우치 셀",
        technology_area="secondary-battery-cell",
        industry="electrical-electronics",
        goal="",
        coordinator=m.Coordinator("KR-EE-0001", "대표기관", "electrical-electronics"),
        needs=(m.NeedStatus(planned, (item,)), m.NeedStatus(unserved, ())),
        events=(m.EventView(T, "apikey:web", "submitted"), m.EventView(T + 5, "hub", "routed")),
        created_at=T,
        updated_at=T + 60,
        submitted_by="apikey:web",
        client_request_id="abc",
    )


def test_a_request_view_as_a_message() -> None:
    msg = convert.request_to_pb(_view())
    assert msg.state == pb.REQUEST_STATE_IN_PROGRESS and msg.id == "RQ-1"
    assert msg.coordinator.industry == pb.INDUSTRY_ELECTRICAL_ELECTRONICS
    first, second = msg.needs
    assert first.plan.need.stage == pb.RD_STAGE_VALIDATION and first.plan.origin == "request"
    assert first.plan.candidates[0].slot_start.seconds == T + 3600
    item = first.items[0]
    assert item.state == pb.ITEM_STATE_PROPOSED and item.delivered_at.seconds == T + 5
    assert (item.start.seconds, item.end.seconds, item.message) == (T + 100, T + 200, "오후에")
    assert item.decline_reason == pb.DECLINE_REASON_UNSPECIFIED
    assert not second.items and second.plan.unserved_reason == "none"
    assert second.plan.need.service == 0 and list(second.plan.need.capabilities) == ["eds"]
    assert [e.kind for e in msg.events] == ["submitted", "routed"]
    assert msg.client_request_id == "abc" and msg.updated_at.seconds == T + 60


def test_unset_instants_stay_unset() -> None:
    item = m.ItemView("RQ-1-1-1", "RQ-1", 0, 1, m.ITEM_ROUTED, CANDIDATE, T, T + 9)
    msg = convert.item_to_pb(item)
    assert not msg.HasField("delivered_at") and not msg.HasField("start")
    assert msg.HasField("deadline") and msg.state == pb.ITEM_STATE_ROUTED
    plan = m.Plan((), None, T)
    assert not convert.plan_to_pb(plan).HasField("coordinator")


def test_answers_signals_and_areas() -> None:
    answer = convert.answer_from_pb(
        pb.ItemAnswer(
            answer_seq=3,
            item_id="RQ-1-1-1",
            kind=pb.ANSWER_KIND_DECLINE,
            decline_reason=pb.DECLINE_REASON_NO_CAPACITY,
            message="만석",
            answered_at=timeconv.from_epoch(T),
        )
    )
    assert answer == m.Answer(3, "RQ-1-1-1", "decline", None, None, "no-capacity", "만석", "", T)
    signal = convert.signal_to_pb(m.DemandSignal("search-none-free", "(any)", "", 4, T, T + 9))
    assert (signal.count, signal.first_at.seconds, signal.center_id) == (4, T, "")
    guide = load_guide()
    response = convert.areas_to_pb(guide.areas, guide.version)
    assert response.guide_version == guide.version
    assert [a.code for a in response.areas] == [a.code for a in guide.areas]
    first = response.areas[0]
    assert first.industry != 0 and all(n.stage != 0 and n.hours > 0 for n in first.needs)


# -- the JSON body ----------------------------------------------------------------------------


def _body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "company": {"name": "한빛", "business_number": "124-81-00998", "contact_name": "김"},
        "project_title": "파우치 셀",
        "technology_area": "secondary-battery-cell",
        "needs": [
            {
                "stage": "validation",
                "category": "battery-cycler",
                "hours": 8,
                "earliest": "2027-01-04T09:00",
                "latest": "2027-01-05T00:00:00Z",
            }
        ],
    }
    body.update(changes)
    return body


def test_json_body_times_are_read_in_its_time_zone() -> None:
    draft = jsonbody.draft_from_json(_body())
    need = draft.needs[0]
    assert need.earliest == timeconv.to_epoch(timeconv.from_datetime(_seoul(2027, 1, 4, 9)))
    assert need.latest == need.earliest + 24 * 3600  # 00:00Z is 09:00 in Seoul
    berlin = jsonbody.draft_from_json(_body(time_zone="Europe/Berlin"))
    assert berlin.needs[0].earliest == need.earliest + 8 * 3600
    assert draft.company.contact_email == "" and draft.hours is None


def _seoul(*args: int) -> Any:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo("Asia/Seoul"))


def test_json_body_shape_errors_name_every_field() -> None:
    bad = _body(
        project_title=5,
        needs=[{"stage": "validation", "hours": "8", "earliest": "next monday", "colour": "red"}],
        stages="validation",
        time_zone="Mars/Olympus",
    )
    with pytest.raises(jsonbody.BodyError) as caught:
        jsonbody.draft_from_json(bad)
    fields = [e.field for e in caught.value.errors]
    assert fields == [
        "time_zone",
        "needs[0].colour",
        "needs[0].hours",
        "needs[0].earliest",
        "project_title",
        "stages",
    ]
    assert "not an ISO 8601 time" in caught.value.errors[3].message
    for raw in (b"[1,", b"NaN", b"\xff\xfe", b'{"hours": Infinity}'):
        with pytest.raises(jsonbody.BodyError) as caught:
            jsonbody.parse_draft(raw)
    with pytest.raises(jsonbody.BodyError, match="company: must be a JSON object"):
        jsonbody.draft_from_json(_body(company="ACME"))
    with pytest.raises(jsonbody.BodyError, match="must be a JSON object, not a list"):
        jsonbody.draft_from_json([])


def test_reassignment_targets() -> None:
    assert jsonbody.parse_target("") is None
    assert jsonbody.parse_target("KR-MR-0001/cycler-1") == ("KR-MR-0001", "cycler-1")
    for bad in ("KR-MR-0001", "KR-MR-0001/", "/x", "a b/c"):
        with pytest.raises(ValueError, match="center_id"):
            jsonbody.parse_target(bad)


def test_json_render_keeps_one_shape() -> None:
    doc = render.request(_view())
    assert doc["needs"][0]["items"][0]["decline_reason"] is None
    assert doc["needs"][1]["plan"]["unserved_reason"] == "none"
    assert doc["needs"][0]["plan"]["unserved_reason"] is None
    assert doc["events"][0]["item_id"] is None and doc["created_at"] == timeconv.iso(T)
    assert doc["needs"][0]["items"][0]["candidate"]["slot_start"] == timeconv.iso(T + 3600)


# -- the search-none-free rule ------------------------------------------------------------------


def _answer(*codes_: ReasonCode) -> SearchAnswer:
    return SearchAnswer((), tuple(Reason(c, "") for c in codes_), T, "Asia/Seoul", 0, 0, None)


class _Router:
    """Stands in for Router.record_demand only: what the search paths call."""

    def __init__(self, fail: bool = False) -> None:
        self.recorded: list[tuple[str, str, str]] = []
        self.fail = fail

    async def record_demand(self, kind: str, category: str, center_id: str = "") -> None:
        if self.fail:
            raise StoreError("database gone")
        self.recorded.append((kind, category, center_id))


def test_only_a_fruitless_first_page_is_demand(caplog: pytest.LogCaptureFixture) -> None:
    assert search_demand.counts_as_demand(_answer(ReasonCode.NONE_FREE), 0)
    assert search_demand.counts_as_demand(_answer(ReasonCode.NO_MATCH), 0)
    assert not search_demand.counts_as_demand(_answer(ReasonCode.NO_MATCH), 20)
    assert not search_demand.counts_as_demand(_answer(ReasonCode.ONLY_STALE), 0)
    assert not search_demand.counts_as_demand(_answer(), 0)

    async def run(router: Any) -> None:
        tasks = [
            search_demand.note_search(router, _answer(ReasonCode.NO_MATCH), None, 0),
            search_demand.note_search(router, _answer(ReasonCode.NONE_FREE), "sem", 0),
            search_demand.note_search(router, _answer(), "sem", 0),
            search_demand.note_search(None, _answer(ReasonCode.NO_MATCH), "sem", 0),
        ]
        await asyncio.gather(*(t for t in tasks if t is not None))

    ok = _Router()
    asyncio.run(run(ok))
    assert ok.recorded == [("search-none-free", "(any)", ""), ("search-none-free", "sem", "")]
    with caplog.at_level(logging.WARNING, logger="hub.routing"):
        asyncio.run(run(_Router(fail=True)))  # the search never sees the failure
    assert "demand_signal_failed" in caplog.text

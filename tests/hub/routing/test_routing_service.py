"""RoutingService on a real hub process over mutual TLS: portals submit and follow their own
requests only, operators see all and reassign, field errors come back one per line, a
retried submit is not a second request, and a fruitless search counts as demand."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration

from hub import config as hub_config
from proto import grpc_services, pb, timeconv
from tests.helpers.availability import World
from tests.helpers.hubenv import RunningHub, init_hub, running_hub
from tests.helpers.wait import eventually

A, B = "KR-EE-0001", "KR-EE-0002"
DAY = 86400


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    data_dir = init_hub(tmp_path_factory.mktemp("routing") / "hub")
    world = World.open(hub_config.load(data_dir).database_url)
    for center in (A, B):
        world.center(center, industry="electrical-electronics")
        world.equipment(center, f"cycler-{center[-1]}")  # free around the clock
    world.close()
    with running_hub(data_dir) as running:
        yield running


def call(hub: RunningHub, who: tuple[str, str], method: str, request: Any) -> Any:
    """``who`` = (kind, name) of the caller's certificate."""

    async def go() -> Any:
        creds = hub.credentials(who[1], who[0])
        async with grpc.aio.secure_channel(hub.address, creds) as channel:
            stub: Any = grpc_services.RoutingServiceStub(channel)
            if method == "Search":
                stub = grpc_services.AvailabilityServiceStub(channel)
            return await getattr(stub, method)(request, timeout=20)

    return asyncio.run(go())


def refused(
    hub: RunningHub, who: tuple[str, str], method: str, request: Any
) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        call(hub, who, method, request)
    return caught.value


WEB, OTHER, OPS = ("portal", "web"), ("portal", "other-portal"), ("operator", "ops")


def draft(**changes: Any) -> Any:
    now = int(time.time())
    fields: dict[str, Any] = {
        "company": pb.Company(
            name="(주)한빛배터리",
            business_number="124-81-00998",
            contact_name="김담당",
            contact_email="kim@hanbit.kr",
        ),
        "project_title": "파우치 셀 수명 시험",
        "technology_area": "secondary-battery-cell",
        "needs": [
            pb.Need(
                stage=pb.RD_STAGE_VALIDATION,
                category="battery-cycler",
                service=pb.SERVICE_KIND_TEST_ANALYSIS,
                hours=8,
                earliest=timeconv.from_epoch(now + DAY),
                latest=timeconv.from_epoch(now + 8 * DAY),
            )
        ],
    }
    fields.update(changes)
    return pb.RequestDraft(**fields)


def submit(hub: RunningHub, who: tuple[str, str] = WEB, client_id: str = "") -> Any:
    request = pb.SubmitRequestRequest(draft=draft(), client_request_id=client_id)
    return call(hub, who, "SubmitRequest", request).request


def test_preview_plans_without_storing(hub: RunningHub) -> None:
    plan = call(hub, WEB, "PreviewRequest", pb.PreviewRequestRequest(draft=draft()))
    (need,) = plan.needs
    assert {c.center_id for c in need.candidates} == {A, B}
    assert need.origin == "request" and need.need.stage == pb.RD_STAGE_VALIDATION
    listed = call(hub, ("portal", "previewer"), "ListRequests", pb.ListRequestsRequest())
    assert list(listed.requests) == []


def test_submit_routes_and_a_retry_returns_the_same_request(hub: RunningHub) -> None:
    first = submit(hub, client_id="form-1")
    assert first.id.startswith("RQ-") and first.state == pb.REQUEST_STATE_IN_PROGRESS
    assert first.submitted_by == "portal:web" and first.client_request_id == "form-1"
    (need,) = first.needs
    (item,) = need.items
    assert item.state == pb.ITEM_STATE_ROUTED and item.candidate.center_id in (A, B)
    assert item.item_id == f"{first.id}-1-1" and item.HasField("deadline")
    assert first.events[0].kind == "submitted" and first.events[0].actor == "portal:web"
    again = submit(hub, client_id="form-1")
    assert again.id == first.id
    # The same client id from another portal is another request.
    assert submit(hub, OTHER, client_id="form-1").id != first.id


def test_a_portal_sees_only_its_own_requests(hub: RunningHub) -> None:
    mine = submit(hub)
    theirs = submit(hub, OTHER)
    got = call(hub, WEB, "GetRequest", pb.GetRequestRequest(id=mine.id)).request
    assert got.id == mine.id and len(got.events) >= 2
    error = refused(hub, WEB, "GetRequest", pb.GetRequestRequest(id=theirs.id))
    assert error.code() == grpc.StatusCode.NOT_FOUND and theirs.id in (error.details() or "")
    unknown = refused(hub, WEB, "GetRequest", pb.GetRequestRequest(id="RQ-0000000000"))
    assert unknown.code() == grpc.StatusCode.NOT_FOUND
    listed = call(hub, WEB, "ListRequests", pb.ListRequestsRequest(limit=100)).requests
    assert mine.id in {r.id for r in listed} and theirs.id not in {r.id for r in listed}
    assert {r.submitted_by for r in listed} == {"portal:web"}
    everything = call(hub, OPS, "ListRequests", pb.ListRequestsRequest(limit=100)).requests
    assert {mine.id, theirs.id} <= {r.id for r in everything}
    # Acting on another's request is NOT_FOUND too, never PERMISSION_DENIED.
    error = refused(hub, WEB, "CancelRequest", pb.CancelRequestRequest(id=theirs.id))
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_pages_follow_the_filter(hub: RunningHub) -> None:
    for _ in range(3):
        submit(hub, ("portal", "pager"))
    pager = ("portal", "pager")
    first = call(hub, pager, "ListRequests", pb.ListRequestsRequest(limit=2))
    assert len(first.requests) == 2 and first.next_page_token
    second = call(
        hub,
        pager,
        "ListRequests",
        pb.ListRequestsRequest(limit=2, page_token=first.next_page_token),
    )
    assert len(second.requests) == 1 and not second.next_page_token
    assert not {r.id for r in first.requests} & {r.id for r in second.requests}
    stale = pb.ListRequestsRequest(
        limit=2, page_token=first.next_page_token, state=pb.REQUEST_STATE_CANCELLED
    )
    error = refused(hub, pager, "ListRequests", stale)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (error.details() or "").startswith("page_token: ")
    error = refused(hub, pager, "ListRequests", pb.ListRequestsRequest(limit=101))
    assert (error.details() or "").startswith("limit: ")


def test_invalid_drafts_name_every_field_one_per_line(hub: RunningHub) -> None:
    bad = draft(
        company=pb.Company(name="", business_number="124-81-00999", contact_name="김"),
        technology_area="warp-drive",
    )
    error = refused(hub, WEB, "SubmitRequest", pb.SubmitRequestRequest(draft=bad))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    lines = (error.details() or "").splitlines()
    fields = [line.split(": ", 1)[0] for line in lines]
    assert {"company.name", "company.business_number", "technology_area"} <= set(fields)
    assert all(": " in line for line in lines)
    error = refused(hub, WEB, "PreviewRequest", pb.PreviewRequestRequest(draft=bad))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert not call(hub, ("portal", "nobody"), "ListRequests", pb.ListRequestsRequest()).requests


def test_cancel_and_respond(hub: RunningHub) -> None:
    request = submit(hub)
    item_id = request.needs[0].items[0].item_id
    answer = pb.RespondToProposalRequest(request_id=request.id, item_id=item_id, accept=True)
    error = refused(hub, WEB, "RespondToProposal", answer)
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION and "not proposed" in (
        error.details() or ""
    )
    cancelled = call(
        hub, WEB, "CancelRequest", pb.CancelRequestRequest(id=request.id, reason="예산 삭감")
    ).request
    assert cancelled.state == pb.REQUEST_STATE_CANCELLED
    assert cancelled.needs[0].items[0].state == pb.ITEM_STATE_WITHDRAWN
    assert cancelled.events[-1].kind == "cancelled" and cancelled.events[-1].actor == "portal:web"


def test_only_operators_reassign(hub: RunningHub) -> None:
    request = submit(hub)
    item = request.needs[0].items[0]
    move = pb.ReassignItemRequest(request_id=request.id, item_id=item.item_id, reason="점검")
    error = refused(hub, WEB, "ReassignItem", move)
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    bad = pb.ReassignItemRequest(request_id=request.id, item_id=item.item_id, target="nowhere")
    error = refused(hub, OPS, "ReassignItem", bad)
    assert (error.details() or "").startswith("target: ")
    moved = call(hub, OPS, "ReassignItem", move).request
    old, new = moved.needs[0].items
    assert old.state == pb.ITEM_STATE_WITHDRAWN and new.state == pb.ITEM_STATE_ROUTED
    assert {old.candidate.center_id, new.candidate.center_id} == {A, B}
    assert any(e.kind == "reassigned" and e.actor == "operator:ops" for e in moved.events)


def test_agents_may_not_call_it(hub: RunningHub) -> None:
    error = refused(hub, ("center", A), "ListRequests", pb.ListRequestsRequest())
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED


def test_technology_areas_and_demand_signals(hub: RunningHub) -> None:
    areas = call(hub, WEB, "ListTechnologyAreas", pb.ListTechnologyAreasRequest())
    assert areas.guide_version and "secondary-battery-cell" in {a.code for a in areas.areas}
    bio = call(
        hub, WEB, "ListTechnologyAreas", pb.ListTechnologyAreasRequest(industry=pb.INDUSTRY_BIO)
    )
    assert bio.areas and {a.industry for a in bio.areas} == {pb.INDUSTRY_BIO}
    now = int(time.time())
    search = pb.SearchRequest(
        window_start=timeconv.from_epoch(now + DAY),
        window_end=timeconv.from_epoch(now + 2 * DAY),
        duration=Duration(seconds=3600),
        category="cryo-tem",
    )
    answer = call(hub, WEB, "Search", search)
    assert [r.code for r in answer.reasons] == [pb.SEARCH_REASON_CODE_NO_MATCH]

    def counted() -> Any:
        response = call(
            hub, OPS, "ListDemandSignals", pb.ListDemandSignalsRequest(category="cryo-tem")
        )
        return [s for s in response.signals if s.kind == "search-none-free"]

    (signal,) = eventually(counted, timeout=10)
    assert signal.count == 1 and signal.center_id == "" and signal.HasField("first_at")
    # A search that finds something free is no demand signal: by the time a later
    # fruitless search is counted, the fruitful one would have been too.
    call(hub, WEB, "Search", pb.SearchRequest(**{**_fields(search), "category": "battery-cycler"}))
    call(hub, WEB, "Search", pb.SearchRequest(**{**_fields(search), "category": "sem"}))
    eventually(lambda: signals(hub, "sem"), timeout=10)
    assert signals(hub, "battery-cycler") == []


def signals(hub: RunningHub, category: str) -> list[Any]:
    request = pb.ListDemandSignalsRequest(category=category)
    return list(call(hub, OPS, "ListDemandSignals", request).signals)


def _fields(msg: Any) -> dict[str, Any]:
    return {f.name: v for f, v in msg.ListFields()}

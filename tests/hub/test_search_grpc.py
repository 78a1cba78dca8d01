"""AvailabilityService on a real hub process over mutual TLS: portals and operators may
search and read free/busy; an agent's certificate is refused."""

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
from tests.helpers.availability import DAY, HOUR, MONDAY, World, at
from tests.helpers.hubenv import RunningHub, init_hub, running_hub

A, S = "KR-MR-0001", "KR-MA-0003"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    data_dir = init_hub(tmp_path_factory.mktemp("avail") / "hub")
    world = World.open(hub_config.load(data_dir).database_url)
    world.center(A, region="대전")
    # The hub judges freshness by the real clock: S was last heard of an hour ago.
    world.center(S, industry="materials", seen=int(time.time()) - 3600)
    world.equipment(A, "cycler-1", name_ko="배터리 충방전기", name_en="Battery Cycler",
                    hours=[(d, 9 * 60, 18 * 60) for d in range(1, 6)])  # fmt: skip
    world.entry(A, "cycler-1", at("2027-01-04T09:00"), at("2027-01-04T12:00"))
    world.equipment(S, "cycler-2")
    world.close()
    with running_hub(data_dir) as running:
        yield running


def call(hub: RunningHub, kind: str, method: str, request: Any) -> Any:
    async def go() -> Any:
        creds = hub.credentials("gw" if kind != "center" else A, kind)
        async with grpc.aio.secure_channel(hub.address, creds) as channel:
            stub = grpc_services.AvailabilityServiceStub(channel)
            return await getattr(stub, method)(request, timeout=15)

    return asyncio.run(go())


def search_request(**kw: Any) -> Any:
    fields: dict[str, Any] = {
        "window_start": timeconv.from_epoch(MONDAY),
        "window_end": timeconv.from_epoch(MONDAY + DAY),
        "duration": Duration(seconds=4 * 3600),
        "category": "battery-cycler",
    }
    fields.update(kw)
    return pb.SearchRequest(**fields)


def test_portal_searches_and_sees_freshness(hub: RunningHub) -> None:
    response = call(hub, "portal", "Search", search_request())
    assert [r.equipment_id for r in response.results] == ["cycler-1", "cycler-2"]
    fresh, stale = response.results
    assert fresh.center.id == A and not fresh.stale and fresh.center.HasField("last_seen")
    assert [(s.start.seconds, s.end.seconds, s.unconfirmed) for s in fresh.slots] == [
        (at("2027-01-04T12:00"), at("2027-01-04T18:00"), False)
    ]
    assert fresh.status == pb.EQUIPMENT_STATUS_AVAILABLE and fresh.name_ko == "배터리 충방전기"
    assert stale.stale and stale.center.stale and all(s.unconfirmed for s in stale.slots)
    assert response.matched == 2 and response.total == 2 and not response.HasField("next_offset")
    assert list(response.reasons) == []


def test_operator_reads_reasons_and_free_busy(hub: RunningHub) -> None:
    response = call(hub, "operator", "Search", search_request(category="none"))
    assert [r.code for r in response.reasons] == [pb.SEARCH_REASON_CODE_NO_MATCH]
    seven_hours = Duration(seconds=7 * HOUR)  # 12:00-18:00 is only six
    response = call(hub, "operator", "Search", search_request(text="충방전", duration=seven_hours))
    assert [r.code for r in response.reasons] == [pb.SEARCH_REASON_CODE_NONE_FREE]
    assert response.reasons[0].earliest_free.seconds == at("2027-01-05T09:00")
    fb = call(
        hub, "operator", "GetFreeBusy",
        pb.GetFreeBusyRequest(center_id=A, equipment_id="cycler-1",
                              window_start=timeconv.from_epoch(MONDAY),
                              window_end=timeconv.from_epoch(MONDAY + DAY)),
    )  # fmt: skip
    busy = [(p.start.seconds, p.end.seconds, p.type) for p in fb.equipment[0].busy]
    assert (at("2027-01-04T09:00"), at("2027-01-04T12:00"), pb.BUSY_TYPE_BUSY) in busy


def test_agent_certificate_is_refused(hub: RunningHub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        call(hub, "center", "Search", search_request())
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize(
    ("request_", "words"),
    [
        (search_request(window_end=timeconv.from_epoch(MONDAY - 1)), "to: the window is empty"),
        (search_request(duration=Duration(seconds=0)), "hours: hours must be positive"),
        (search_request(text="x" * 201), "text: text is 201 characters"),
        (search_request(time_zone="Nowhere/City"), "unknown time zone"),
        (pb.SearchRequest(category="x"), "duration is required"),
    ],
)
def test_invalid_requests_are_invalid_argument(hub: RunningHub, request_: Any, words: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        call(hub, "portal", "Search", request_)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert words in (err.value.details() or "")


def test_free_busy_of_an_unknown_center_is_not_found(hub: RunningHub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        call(hub, "portal", "GetFreeBusy", pb.GetFreeBusyRequest(
            center_id="KR-XX-0009", window_start=timeconv.from_epoch(MONDAY),
            window_end=timeconv.from_epoch(MONDAY + DAY)))  # fmt: skip
    assert err.value.code() == grpc.StatusCode.NOT_FOUND

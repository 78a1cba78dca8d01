"""One-stop requests over the HTTP/JSON API of a real hub process: 201 + Location, the
Idempotency-Key, ISO times read in the body's time zone, problems for every kind of bad
body (400 shape, 422 values, 413 size), 404 for another key's request, cursor paging,
answers that match the OpenAPI document, demand signals from fruitless searches."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema_rs
import pytest

from hub import config
from tests.helpers.availability import World
from tests.helpers.hubenv import RunningHub, init_hub, running_hub
from tests.helpers.portal import Reply, create_api_key, fetch, http_address
from tests.helpers.wait import eventually

A, B = "KR-EE-0001", "KR-EE-0002"
SEOUL = ZoneInfo("Asia/Seoul")


@dataclass
class Api:
    hub: RunningHub
    address: str
    keys: dict[str, str]
    document: dict[str, Any]

    def call(self, path: str, who: str = "web", **kw: Any) -> Reply:
        body = kw.pop("body", None)
        if body is not None:
            kw["data"] = body if isinstance(body, bytes) else json.dumps(body).encode()
            kw.setdefault("headers", {})
            kw["headers"].setdefault("Content-Type", "application/json")
            kw.setdefault("method", "POST")
        return fetch(self.address, path, key=self.keys[who], **kw)

    def conforms(self, reply: Reply, schema: str) -> dict[str, Any]:
        """The reply's JSON, checked against the OpenAPI schema ``schema``."""
        doc: dict[str, Any] = reply.json()
        root = {"$ref": f"#/components/schemas/{schema}", "components": self.document["components"]}
        jsonschema_rs.Draft202012Validator(root).validate(doc)
        return doc


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    data_dir = init_hub(tmp_path_factory.mktemp("hub"))
    world = World.open(config.load(data_dir).database_url)
    for center in (A, B):
        world.center(center, industry="electrical-electronics")
        world.equipment(center, f"cycler-{center[-1]}")
    world.close()
    keys = {
        name: create_api_key(data_dir, name, role)
        for name, role in (("web", "portal"), ("other", "portal"), ("ops", "operator"))
    }
    with running_hub(data_dir) as hub:
        address = http_address(hub)
        yield Api(hub, address, keys, fetch(address, "/openapi.json").json())


def local(days: int, hour: int) -> datetime:
    """A wall-clock time in Seoul ``days`` from today, without an offset."""
    day = datetime.now(SEOUL).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour)


def body(**changes: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "company": {
            "name": "(주)한빛배터리",
            "business_number": "124-81-00998",
            "contact_name": "김담당",
            "contact_email": "kim@hanbit.kr",
        },
        "project_title": "파우치 셀 수명 시험",
        "technology_area": "secondary-battery-cell",
        "needs": [
            {
                "stage": "validation",
                "category": "battery-cycler",
                "service": "test-analysis",
                "hours": 8,
                "earliest": local(2, 9).isoformat(),
                "latest": local(9, 18).isoformat(),
            }
        ],
    }
    out.update(changes)
    return out


def submit(api: Api, who: str = "web", **kw: Any) -> dict[str, Any]:
    reply = api.call("/v1/requests", who, body=body(), **kw)
    assert reply.status == 201, reply.body[:500]
    return api.conforms(reply, "ServiceRequest")


def test_submit_answers_201_with_location_and_times_in_utc(api: Api) -> None:
    reply = api.call("/v1/requests", body=body())
    assert reply.status == 201 and reply.content_type == "application/json"
    doc = api.conforms(reply, "ServiceRequest")
    assert reply.headers["Location"] == f"/v1/requests/{doc['id']}"
    assert doc["state"] == "in-progress" and doc["submitted_by"] == "apikey:web"
    need = doc["needs"][0]["plan"]["need"]
    # 09:00 without an offset is Seoul time: 00:00 UTC.
    expected = local(2, 9).replace(tzinfo=SEOUL).astimezone(ZoneInfo("UTC"))
    assert need["earliest"] == expected.strftime("%Y-%m-%dT%H:%M:%SZ")
    (item,) = doc["needs"][0]["items"]
    assert item["state"] == "routed" and item["candidate"]["center_id"] in (A, B)
    assert doc["company"]["business_number"] == "124-81-00998"
    got = api.call(reply.headers["Location"])
    assert got.status == 200 and api.conforms(got, "ServiceRequest")["id"] == doc["id"]


def test_a_time_zone_in_the_body_and_explicit_offsets(api: Api) -> None:
    start = local(3, 9)
    changed = body(time_zone="Europe/Berlin")
    changed["needs"][0]["earliest"] = start.isoformat()
    changed["needs"][0]["latest"] = local(6, 9).isoformat() + "+09:00"
    doc = api.conforms(api.call("/v1/requests/preview", body=changed), "Plan")
    need = doc["needs"][0]["need"]
    berlin = start.replace(tzinfo=ZoneInfo("Europe/Berlin")).astimezone(ZoneInfo("UTC"))
    assert need["earliest"] == berlin.strftime("%Y-%m-%dT%H:%M:%SZ")
    seoul = local(6, 9).replace(tzinfo=SEOUL).astimezone(ZoneInfo("UTC"))
    assert need["latest"] == seoul.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert {c["center_id"] for c in doc["needs"][0]["candidates"]} == {A, B}


def test_the_idempotency_key_makes_a_retry_safe(api: Api) -> None:
    first = submit(api, headers={"Idempotency-Key": "9b1f-retry"})
    again = submit(api, headers={"Idempotency-Key": "9b1f-retry"})
    assert again["id"] == first["id"] and again["client_request_id"] == "9b1f-retry"
    assert submit(api, "other", headers={"Idempotency-Key": "9b1f-retry"})["id"] != first["id"]
    long = api.call("/v1/requests", body=body(), headers={"Idempotency-Key": "k" * 129})
    assert long.status == 400
    assert long.problem()["errors"][0] == {
        "name": "Idempotency-Key",
        "in": "header",
        "detail": long.problem()["errors"][0]["detail"],
    }


def test_invalid_values_are_422_naming_each_field(api: Api) -> None:
    bad = body(technology_area="warp-drive")
    bad["company"]["business_number"] = "124-81-00999"
    bad["needs"][0]["hours"] = 0
    reply = api.call("/v1/requests", body=bad)
    assert reply.status == 422
    problem = reply.problem()
    assert problem["type"] == "urn:iplatform:problem:invalid-request"
    assert "nothing was stored" in problem["detail"]
    fields = {e["name"]: e for e in problem["errors"]}
    assert {"company.business_number", "technology_area", "needs[0].hours"} <= fields.keys()
    assert fields["needs[0].hours"]["in"] == "body"
    assert "warp-drive" in fields["technology_area"]["detail"]
    assert api.call("/v1/requests/preview", body=bad).status == 422
    listed = api.call("/v1/requests", "other").json()["items"]
    assert all(r["company"]["business_number"] != "124-81-00999" for r in listed)


def test_bodies_that_are_not_the_documented_json_are_400(api: Api) -> None:
    cases: list[tuple[bytes | dict[str, Any], str]] = [
        (b"{not json", "body"),
        (b"", "body"),
        (b"[1, 2]", "body"),
        (body(project_title=5), "project_title"),
        (body(needs=[{"hours": "8"}]), "needs[0].hours"),
        (body(needs=[{"earliest": "next monday"}]), "needs[0].earliest"),
        (body(colour="red"), "colour"),
        (body(time_zone="Mars/Olympus"), "time_zone"),
    ]
    for sent, field in cases:
        reply = api.call("/v1/requests", body=sent)
        assert reply.status == 400, (sent, reply.body[:300])
        problem = reply.problem()
        assert problem["type"] == "urn:iplatform:problem:invalid-parameter"
        assert field in {e["name"] for e in problem["errors"]}, (field, problem)


def test_bodies_over_64_kib_are_413(api: Api) -> None:
    huge = body(goal="x" * (65 * 1024))
    reply = api.call("/v1/requests", body=huge)
    assert reply.status == 413
    assert "65536" in reply.problem()["detail"]


def test_another_keys_request_is_not_found(api: Api) -> None:
    mine = submit(api)
    assert api.call(f"/v1/requests/{mine['id']}", "other").status == 404
    assert api.call(f"/v1/requests/{mine['id']}", "ops").status == 200
    cancel = api.call(f"/v1/requests/{mine['id']}/cancel", "other", body={})
    assert cancel.status == 404
    assert api.call("/v1/requests/RQ-0000000000").status == 404
    assert api.call("/v1/requests/not%20an%20id").status == 400


def test_listing_pages_and_filters(api: Api) -> None:
    for _ in range(3):
        submit(api, "ops")
    first = api.conforms(api.call("/v1/requests", "ops", params={"limit": "2"}), "RequestPage")
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = api.call("/v1/requests", "ops", params={"limit": "2", "cursor": first["next_cursor"]})
    second = api.conforms(rest, "RequestPage")
    assert not {r["id"] for r in first["items"]} & {r["id"] for r in second["items"]}
    created = [r["created_at"] for r in first["items"] + second["items"]]
    assert created == sorted(created, reverse=True)
    other_filter = {"limit": "2", "cursor": first["next_cursor"], "state": "cancelled"}
    assert api.call("/v1/requests", "ops", params=other_filter).status == 400
    mine = api.call("/v1/requests", params={"limit": "100"}).json()["items"]
    assert mine and {r["submitted_by"] for r in mine} == {"apikey:web"}
    for params in ({"state": "lost"}, {"limit": "0"}, {"center": "a b"}, {"cursor": "%%"}):
        assert api.call("/v1/requests", params=params).status == 400, params
    by_center = api.call("/v1/requests", "ops", params={"center": A, "limit": "100"}).json()
    assert all(
        any(i["candidate"]["center_id"] == A for n in r["needs"] for i in n["items"])
        for r in by_center["items"]
    )


def test_proposals_and_cancel(api: Api) -> None:
    request = submit(api)
    item = request["needs"][0]["items"][0]["item_id"]
    path = f"/v1/requests/{request['id']}/items/{item}/proposal"
    conflict = api.call(path, body={"accept": True})
    assert conflict.status == 409 and "not proposed" in conflict.problem()["detail"]
    for bad in ({}, {"accept": "yes"}, {"accept": True, "more": 1}):
        assert api.call(path, body=bad).status == 400, bad
    cancel = api.call(f"/v1/requests/{request['id']}/cancel", body={"reason": "예산"})
    doc = api.conforms(cancel, "ServiceRequest")
    assert doc["state"] == "cancelled" and doc["needs"][0]["items"][0]["state"] == "withdrawn"
    assert doc["events"][-1]["kind"] == "cancelled" and doc["events"][-1]["detail"] == "예산"
    again = submit(api)
    empty = api.call(f"/v1/requests/{again['id']}/cancel", method="POST")
    assert empty.status == 200 and empty.json()["state"] == "cancelled"


def test_technology_areas_and_demand(api: Api) -> None:
    areas = api.conforms(api.call("/v1/technology-areas"), "TechnologyAreas")
    assert "secondary-battery-cell" in {a["code"] for a in areas["areas"]}
    bio = api.call("/v1/technology-areas", params={"industry": "bio"}).json()
    assert bio["areas"] and {a["industry"] for a in bio["areas"]} == {"bio"}
    assert api.call("/v1/technology-areas", params={"industry": "space"}).status == 400
    now = datetime.now(SEOUL)
    window = {
        "from": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "to": (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        "hours": "2",
    }
    found = api.call("/v1/equipment/search", params={**window, "category": "battery-cycler"})
    assert found.status == 200 and not found.json()["reasons"]
    none = api.call("/v1/equipment/search", params={**window, "category": "cryo-tem"})
    assert [r["code"] for r in none.json()["reasons"]] == ["NO_MATCH"]

    def signals(category: str) -> list[dict[str, Any]]:
        reply = api.call("/v1/demand", "ops", params={"category": category})
        return list(api.conforms(reply, "DemandSignals")["signals"])

    (signal,) = eventually(lambda: signals("cryo-tem"), timeout=10)
    assert signal["kind"] == "search-none-free" and signal["count"] == 1
    assert signal["center_id"] is None
    # The fruitful search came first: had it counted, it would be there by now.
    assert signals("battery-cycler") == []
    since = api.call("/v1/demand", params={"since": "2999-01-01T00:00"}).json()
    assert since == {"signals": []}
    assert api.call("/v1/demand", params={"since": "tomorrow"}).status == 400


def test_the_document_lists_the_routes(api: Api) -> None:
    paths = api.document["paths"]
    assert "post" in paths["/v1/requests"] and "get" in paths["/v1/requests"]
    assert "201" in paths["/v1/requests"]["post"]["responses"]
    assert "422" in paths["/v1/requests/preview"]["post"]["responses"]
    errors = api.document["components"]["schemas"]["Problem"]["properties"]["errors"]
    assert "body" in errors["items"]["properties"]["in"]["enum"]
    assert time.time() > 0

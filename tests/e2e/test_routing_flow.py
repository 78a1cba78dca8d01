"""One-stop routing with real processes (issue #5): a hub (``iplat-hub serve``) and four
center agents (``iplat-agent run``) over mTLS on SQLite, each center with a folder inbox.

The centers hold what the shipped stage guide asks for a secondary-battery cell:

- KR-MA-0001 (materials, representative of materials): XRD and SEM with EDS (design);
- KR-MR-0001 (machinery-robotics): a roll-to-roll pilot coater (prototype);
- KR-EE-0001 (electrical-electronics): a battery cycler and an abuse chamber (validation,
  commercialization), in Daejeon like the company;
- KR-EE-0002 (electrical-electronics, its representative institution): the same kinds of
  equipment in Busan, not listed for those stages, so always the second candidate.

One hub serves every test of the module (requests are independent of each other; every
check names its own request and items). The deadline and SIGKILL cases need hubs of their
own: tests/e2e/test_routing_faults.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest

from tests.helpers.e2e import Procs
from tests.helpers.portal import create_api_key, fetch, http_address
from tests.helpers.routing_e2e import (
    WAIT,
    CenterSpec,
    RoutingWorld,
    Site,
    battery_request,
    company,
    current_items,
    equipment,
    events_of,
    items_of,
    local,
    logs_on_failure,
    need,
)
from tests.helpers.wait import eventually

pytestmark = pytest.mark.slow

MA, MR, EE1, EE2 = "KR-MA-0001", "KR-MR-0001", "KR-EE-0001", "KR-EE-0002"
CENTERS = (
    CenterSpec(
        MA,
        "materials",
        (
            equipment("xrd-1", "xrd", stages=["design"]),
            equipment("sem-1", "sem", capabilities=["eds"], stages=["design"]),
        ),
        role="representative",
    ),
    CenterSpec(
        MR,
        "machinery-robotics",
        (
            equipment(
                "coater-1", "pilot-coater", capabilities=["roll-to-roll"], stages=["prototype"]
            ),
        ),
    ),
    CenterSpec(
        EE1,
        "electrical-electronics",
        (
            equipment("cycler-1", "battery-cycler", stages=["validation"]),
            equipment(
                "abuse-1",
                "abuse-chamber",
                capabilities=["overcharge"],
                stages=["validation", "commercialization"],
            ),
        ),
    ),
    CenterSpec(
        EE2,
        "electrical-electronics",
        (
            equipment("cycler-2", "battery-cycler"),
            equipment("abuse-2", "abuse-chamber", capabilities=["overcharge"]),
        ),
        region="부산",
        role="representative",
    ),
)
STAGES = ("design", "prototype", "validation", "commercialization")
# What the shipped guide proposes for those stages, in order, and where each must go.
EXPECTED = (
    ("design", "xrd", MA),
    ("design", "sem", MA),
    ("prototype", "pilot-coater", MR),
    ("validation", "battery-cycler", EE1),
    ("validation", "abuse-chamber", EE1),
    ("commercialization", "abuse-chamber", EE1),
)
EXPECTED_CENTERS = [center for _, _, center in EXPECTED]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RoutingWorld]:
    procs = Procs()
    try:
        yield RoutingWorld.start(procs, tmp_path_factory.mktemp("routing"), CENTERS)
    finally:
        procs.close()


@pytest.fixture
def world(shared: RoutingWorld, request: pytest.FixtureRequest) -> Iterator[RoutingWorld]:
    with logs_on_failure(request.session, shared.log_paths()):
        yield shared
        assert not shared.errors()


def _in_one_inbox_once(world: RoutingWorld, item: dict[str, Any]) -> None:
    """The item's file is in its center's inbox and in no other, and entered it once."""
    item_id, center = item["item_id"], item["candidate"]["center_id"]
    for site in world.sites.values():
        if site.id == center:
            assert item_id in site.item_files(), f"{item_id} not in {center}'s inbox"
            assert [e["new"] for e in site.received(item_id)] == [True], site.received(item_id)
        else:
            assert item_id not in site.item_files(), f"{item_id} also in {site.id}'s inbox"


def _hub_state_shown(site: Site, item_id: str, state: str) -> bool:
    return bool(site.item_file(item_id)["hub_state"] == state)


def test_battery_cell_request_routed_to_three_centers_and_followed_to_acceptance(
    world: RoutingWorld,
) -> None:
    body = battery_request(stages=STAGES)
    # A preview shows the plan and stores nothing.
    before = world.list_requests()
    plan = world.preview(body)
    assert [(n["need"]["stage"], n["need"]["category"]) for n in plan["needs"]] == [
        (stage, category) for stage, category, _ in EXPECTED
    ]
    assert [n["candidates"][0]["center_id"] for n in plan["needs"]] == EXPECTED_CENTERS
    assert world.list_requests() == before

    request = world.submit(body)
    rid = request["id"]
    assert request["state"] == "in-progress"
    assert all(n["plan"]["origin"] == "guide" for n in request["needs"])
    # The industry's representative institution coordinates (it serves none of the items);
    # the materials representative, which serves two, does not.
    assert request["industry"] == "electrical-electronics"
    assert request["coordinator"]["center_id"] == EE2
    items = current_items(request)
    assert [i["candidate"]["center_id"] for i in items] == EXPECTED_CENTERS
    assert {i["state"] for i in items} == {"routed"}
    assert len(set(EXPECTED_CENTERS)) == 3

    ids = [i["item_id"] for i in items]
    request = world.wait_state(rid, ids, "delivered")
    for site in world.sites.values():
        mine = {i for i, c in zip(ids, EXPECTED_CENTERS, strict=True) if c == site.id}
        assert {i for i in site.item_files() if i.startswith(rid)} == mine, site.id
    for item in current_items(request):
        _in_one_inbox_once(world, item)
        doc = world.sites[item["candidate"]["center_id"]].item_file(item["item_id"])
        assert (doc["state"], doc["request_id"]) == ("new", rid)
        assert doc["equipment_id"] == item["candidate"]["equipment_id"]
        assert doc["coordinator"]["center_id"] == EE2
        assert doc["company"]["contact_name"] == "김담당"

    # The centers answer: five with the CLI, the coater's by an answer file.
    answer_file = None
    for item_id, center in zip(ids, EXPECTED_CENTERS, strict=True):
        if center == MR:
            answer_file = world.sites[center].drop_answer(item_id, message="파일로 수락")
        else:
            world.sites[center].accept(item_id)
    request = world.wait_request(rid, "accepted")
    assert answer_file is not None
    assert not answer_file.exists() and (answer_file.parent / "done" / answer_file.name).exists()

    submitted = request["events"][0]
    assert (submitted["kind"], submitted["item_id"]) == ("submitted", None)
    assert EE2 in submitted["detail"]
    for item_id, center in zip(ids, EXPECTED_CENTERS, strict=True):
        item = items_of(request)[item_id]
        assert item["state"] == "accepted"
        assert (item["start"], item["end"]) == (
            item["candidate"]["slot_start"],
            item["candidate"]["slot_end"],
        )  # the slot the hub suggested
        evs = events_of(request, item_id)
        assert [(e["kind"], e["actor"]) for e in evs] == [
            ("routed", submitted["actor"]),
            ("delivered", f"center:{center}"),
            ("accepted", f"center:{center}"),
        ], evs
        assert submitted["actor"].startswith("operator:")
        assert all(e["at"] for e in evs)
        # The hub's verdict is shown in the center's inbox file.
        eventually(
            partial(_hub_state_shown, world.sites[center], item_id, "accepted"),
            timeout=WAIT,
            interval=0.1,
        )


def test_declined_item_moves_to_the_next_candidate_and_counts_demand(world: RoutingWorld) -> None:
    # This one comes from a portal, over the HTTP API with its key.
    key = create_api_key(world.data_dir, "web")
    body = battery_request(needs=[need("battery-cycler")], title="셀 수명 시험")
    reply = world.http("/v1/requests", key, method="POST", body=body)
    assert reply.status == 201, reply.body[:500]
    request = reply.json()
    rid = request["id"]
    assert reply.headers["Location"] == f"/v1/requests/{rid}"
    assert request["events"][0]["actor"] == "apikey:web"
    [first] = current_items(request)
    assert first["candidate"]["center_id"] == EE1
    [planned] = [n["plan"] for n in request["needs"]]
    assert [c["center_id"] for c in planned["candidates"]] == [EE1, EE2]
    ee1, ee2 = world.sites[EE1], world.sites[EE2]
    eventually(lambda: ee1.has_received(first["item_id"]), timeout=WAIT, interval=0.1)

    ee1.decline(first["item_id"], "no-capacity")
    doc = world.wait_state(rid, first["item_id"], "declined")
    [_, second] = doc["needs"][0]["items"]
    assert second["candidate"]["center_id"] == EE2
    assert second["attempt"] == 2
    ee2.wait_file(second["item_id"], "new")
    _in_one_inbox_once(world, second)
    assert first["item_id"] not in ee2.item_files()

    signals = [
        s
        for s in world.demand()
        if (s["kind"], s["category"], s["center_id"])
        == ("declined-no-capacity", "battery-cycler", EE1)
    ]
    assert [s["count"] for s in signals] == [1], world.demand()

    ee2.accept(second["item_id"])
    doc = world.wait_request(rid, "accepted")
    kinds = [(e["kind"], e["actor"], e["item_id"]) for e in events_of(doc)]
    assert ("declined", f"center:{EE1}", first["item_id"]) in kinds
    assert ("rerouted", "hub", second["item_id"]) in kinds
    assert ("accepted", f"center:{EE2}", second["item_id"]) in kinds
    declined = next(e for e in events_of(doc, first["item_id"]) if e["kind"] == "declined")
    assert "no-capacity" in declined["detail"]
    # The portal follows it to the same end.
    followed = world.http(f"/v1/requests/{rid}", key).json()
    assert followed["state"] == "accepted"
    assert followed["events"] == doc["events"]
    # The declining center's inbox shows its answer and the hub's verdict.
    eventually(partial(_hub_state_shown, ee1, first["item_id"], "declined"), timeout=WAIT)


def test_offline_center_gets_its_item_when_its_agent_is_back(world: RoutingWorld) -> None:
    ma, ee1 = world.sites[MA], world.sites[EE1]
    ma.stop()
    try:
        body = battery_request(needs=[need("xrd", "design"), need("battery-cycler")])
        request = world.submit(body)
        rid = request["id"]
        waiting, online = (i["item_id"] for i in current_items(request))
        assert items_of(request)[waiting]["candidate"]["center_id"] == MA
        # The online center has its item while the offline one's waits at the hub.
        eventually(lambda: ee1.has_received(online), timeout=WAIT, interval=0.1)
        doc = world.wait_state(rid, online, "delivered")
        assert items_of(doc)[waiting]["state"] == "routed"
        assert items_of(doc)[waiting]["delivered_at"] is None
        assert waiting not in ma.item_files()
    finally:
        ma.start()
    ma.wait_file(waiting, "new")
    doc = world.wait_state(rid, waiting, "delivered")
    _in_one_inbox_once(world, items_of(doc)[waiting])
    delivered = [e for e in events_of(doc, waiting) if e["kind"] == "delivered"]
    assert [e["actor"] for e in delivered] == [f"center:{MA}"]

    ma.drop_answer(waiting)
    ee1.accept(online)
    doc = world.wait_request(rid, "accepted")
    assert [e["kind"] for e in events_of(doc, waiting)] == ["routed", "delivered", "accepted"]


DAY = 86400
NEED_DEFECTS = ("unknown stage", "window in the past", "hours longer than the window")


def _defects(now: float) -> dict[str, tuple[dict[str, Any], str, str]]:
    """Bad request bodies, one defect each: (body, the field named, what its error says)."""
    good = battery_request(needs=[need("xrd", "design")])
    [n] = good["needs"]

    def with_need(**changes: object) -> dict[str, Any]:
        return {**good, "needs": [{**n, **changes}]}

    return {
        "unknown area": (
            {**good, "technology_area": "perpetual-motion"},
            "technology_area",
            "unknown technology area 'perpetual-motion'; use one of: secondary-battery-cell",
        ),
        "unknown stage": (
            with_need(stage="daydreaming"),
            "needs[0].stage",
            "unknown R&D stage 'daydreaming'; use one of: planning, design",
        ),
        "window in the past": (
            with_need(earliest=local(now - 5 * DAY), latest=local(now - 3 * DAY)),
            "needs[0].latest",
            "the window ends in the past",
        ),
        # 100 hours asked in a window of two days.
        "hours longer than the window": (
            with_need(hours=100, latest=local(now + 3 * DAY)),
            "needs[0].hours",
            "hours 100 is longer than the window (48 h between earliest and latest)",
        ),
        "missing contact": (
            {**good, "company": company(contact_name="", contact_email="", contact_phone="")},
            "company.contact_name",
            "is required; write who the center calls",
        ),
    }


def _cli_errors(stderr: str) -> dict[str, str]:
    """The ``  field: message`` lines of ``iplat-hub requests submit`` as a dict."""
    out = {}
    for line in stderr.splitlines():
        field, sep, message = line.strip().partition(": ")
        if sep and line.startswith("  "):
            out[field] = message
    return out


def test_bad_requests_get_field_errors_and_store_nothing(world: RoutingWorld) -> None:
    before = world.list_requests()
    demand = world.demand()
    files = {s.id: set(s.item_files()) for s in world.sites.values()}
    defects = _defects(time.time())

    for what, (body, field, text) in defects.items():
        code, out, err = world.cli("requests", "submit", "--file", str(world.body_file(body)))
        assert code == 2, (what, out, err)
        assert "the request is invalid (nothing was stored)" in err, err
        assert text in _cli_errors(err).get(field, "<not named>"), (what, err)

    # Every defect at once, over HTTP with a portal's API key: each field named.
    body = {
        **defects["missing contact"][0],
        "technology_area": "perpetual-motion",
        "needs": [defects[d][0]["needs"][0] for d in NEED_DEFECTS],
    }
    expected = {
        "technology_area": defects["unknown area"][2],
        "company.contact_name": defects["missing contact"][2],
        "company.contact_email": "give a contact email or a phone number",
    }
    for i, d in enumerate(NEED_DEFECTS):
        _, field, text = defects[d]
        expected[field.replace("needs[0]", f"needs[{i}]")] = text
    reply = fetch(
        http_address(world.hub),
        "/v1/requests",
        key=create_api_key(world.data_dir, "web-bad"),
        method="POST",
        headers={"Content-Type": "application/json"},
        data=json.dumps(body).encode(),
    )
    assert reply.status == 422, reply.body[:500]
    problem = reply.problem()
    assert "nothing was stored" in problem["detail"]
    errors = {e["name"]: e["detail"] for e in problem["errors"] if e["in"] == "body"}
    assert set(errors) == set(expected), errors
    for field, text in expected.items():
        assert text in errors[field], (field, errors)

    assert world.list_requests() == before
    assert world.demand() == demand
    assert {s.id: set(s.item_files()) for s in world.sites.values()} == files

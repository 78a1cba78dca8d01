"""Search and iCalendar free/busy through the HTTP API of a real hub process.

The iCalendar answers are parsed with the ``icalendar`` library: one VFREEBUSY per
equipment whose FREEBUSY periods are exactly the busy intervals, and nothing that could
carry customer data (no SUMMARY, DESCRIPTION, ATTENDEE or LOCATION).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from icalendar import Calendar

from hub import config
from hub.store import Store
from proto import pb, timeconv
from tests.helpers.hubenv import RunningHub, init_hub, running_hub
from tests.helpers.portal import (
    Reply,
    Seeder,
    create_api_key,
    entry,
    equipment,
    fetch,
    http_address,
    revoke_api_key,
)

FRESH, STALE = "KR-FR-0001", "KR-ST-0002"
NOW = int(time.time())
DAY = 86400
# Tomorrow 00:00 UTC: the window of every query here.
W0 = NOW - NOW % DAY + DAY
HOUR = 3600


@dataclass
class Api:
    hub: RunningHub
    address: str
    key: str

    def get(self, path: str, **kw: object) -> Reply:
        kw.setdefault("key", self.key)
        return fetch(self.address, path, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    data_dir = init_hub(tmp_path_factory.mktemp("hub"))
    store = Store.open(config.load(data_dir).database_url)
    try:
        s = Seeder(store)
        s.add_center(FRESH, region="대전")
        s.add_center(STALE, region="경남")
        now = int(time.time())  # seeded now: fresh for the default 30 s threshold
        s.apply(
            FRESH,
            equipment("EQ-1", capabilities=["pouch", "cycling"]),
            equipment("EQ-2", status=pb.EQUIPMENT_STATUS_MAINTENANCE),
            equipment("EQ-3", category="sem"),
            entry("BK-1", "EQ-1", W0 + 1 * HOUR, W0 + 3 * HOUR),
            entry("BK-2", "EQ-1", W0 + 5 * HOUR, W0 + 6 * HOUR, pb.ENTRY_KIND_TENTATIVE),
            entry("BK-3", "EQ-1", W0 + 40 * DAY, W0 + 40 * DAY + HOUR),  # outside the window
            now=now,
        )
        # Silent for an hour: far past the threshold.
        s.apply(STALE, equipment("EQ-9", capabilities=["pouch"]), now=now - HOUR)
    finally:
        store.close()
    with running_hub(data_dir) as hub:
        yield Api(hub, http_address(hub), create_api_key(data_dir, "web"))


def _iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


WINDOW = {"from": _iso(W0), "to": _iso(W0 + DAY)}


# -- search ---------------------------------------------------------------------------------


def test_search_ranks_fresh_first_and_flags_stale_results(api: Api) -> None:
    reply = api.get(
        "/v1/equipment/search",
        params=[*WINDOW.items(), ("hours", "2"), ("capability", "pouch"), ("tz", "Asia/Seoul")],
    )
    assert reply.status == 200, reply.body
    answer = reply.json()
    ids = [(r["center"]["id"], r["equipment_id"]) for r in answer["results"]]
    assert ids == [(FRESH, "EQ-1"), (STALE, "EQ-9")]
    fresh, stale = answer["results"]
    assert not fresh["stale"] and not fresh["slots"][0]["unconfirmed"]
    assert stale["stale"] and stale["center"]["stale"]
    assert all(slot["unconfirmed"] for slot in stale["slots"])
    # EQ-1 is booked 01:00-03:00 UTC: its first 2 h slot starts at the window, 00:00 UTC
    # is too short (1 h), so 03:00 UTC = 12:00 in Seoul.
    assert fresh["slots"][0]["start"].endswith("12:00:00+09:00")
    assert answer["time_zone"] == "Asia/Seoul" and answer["reasons"] == []


def test_search_pages_with_a_cursor_tied_to_the_query(api: Api) -> None:
    params = [*WINDOW.items(), ("hours", "1"), ("limit", "1")]
    first = api.get("/v1/equipment/search", params=params).json()
    assert len(first["results"]) == 1 and first["next_cursor"]
    second = api.get(
        "/v1/equipment/search", params=[*params, ("cursor", first["next_cursor"])]
    ).json()
    assert second["results"][0]["equipment_id"] != first["results"][0]["equipment_id"]
    changed = api.get(
        "/v1/equipment/search",
        params=[*WINDOW.items(), ("hours", "3"), ("limit", "1"), ("cursor", first["next_cursor"])],
    )
    assert changed.status == 400 and changed.problem()["errors"][0]["name"] == "cursor"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({**WINDOW, "hours": "0.001"}, "hours"),
        ({"from": WINDOW["to"], "to": WINDOW["from"], "hours": "1"}, "to"),
        ({"from": _iso(W0), "to": _iso(W0 + 100 * DAY), "hours": "1"}, "to"),
        ({**WINDOW, "hours": "1", "tz": "Asia"}, "tz"),
        ({**WINDOW, "hours": "1", "stage": "launch"}, "stage"),
        ({"from": "yesterday", "to": WINDOW["to"], "hours": "1"}, "from"),
        ({"to": WINDOW["to"], "hours": "1"}, "from"),
    ],
)
def test_search_refuses_bad_queries_naming_the_parameter(
    api: Api, params: dict[str, str], field: str
) -> None:
    reply = api.get("/v1/equipment/search", params=params)
    assert reply.status == 400, reply.body
    assert field in [e["name"] for e in reply.problem()["errors"]]


# -- iCalendar --------------------------------------------------------------------------------


def _freebusy(reply: Reply) -> dict[str, list[tuple[int, int, str]]]:
    """{equipment URN: [(start, end, FBTYPE)]} of a VCALENDAR answer."""
    assert reply.status == 200, reply.body
    assert reply.content_type == "text/calendar"
    cal = Calendar.from_ical(reply.body)
    out = {}
    for comp in cal.walk("VFREEBUSY"):
        for name in ("SUMMARY", "DESCRIPTION", "ATTENDEE", "LOCATION"):
            assert name not in comp, f"{name} in a VFREEBUSY"
        values = comp.get("FREEBUSY", [])
        values = values if isinstance(values, list) else [values]
        periods = [
            (int(v.dt[0].timestamp()), int(v.dt[1].timestamp()), v.params["FBTYPE"]) for v in values
        ]
        out[str(comp["ORGANIZER"])] = periods
    return out


def test_equipment_freebusy_holds_exactly_the_busy_intervals(api: Api) -> None:
    # The key in the URL: what a calendar app subscribing to the feed does.
    reply = fetch(
        api.address,
        f"/v1/centers/{FRESH}/equipment/EQ-1/freebusy.ics",
        params={**WINDOW, "key": api.key},
    )
    assert _freebusy(reply) == {
        f"urn:iplatform:equipment:{FRESH}:EQ-1": [
            (W0 + 1 * HOUR, W0 + 3 * HOUR, "BUSY"),
            (W0 + 5 * HOUR, W0 + 6 * HOUR, "BUSY-TENTATIVE"),
        ]
    }
    cal = Calendar.from_ical(reply.body)
    [comp] = cal.walk("VFREEBUSY")
    assert comp["DTSTART"].dt.timestamp() == W0 and comp["DTEND"].dt.timestamp() == W0 + DAY
    assert "EQ-1" in comp["ORGANIZER"].params["CN"]
    assert b"SUMMARY" not in reply.body and cal["METHOD"] == "PUBLISH"


def test_center_freebusy_has_one_vfreebusy_per_equipment(api: Api) -> None:
    fb = _freebusy(api.get(f"/v1/centers/{FRESH}/freebusy.ics", params=WINDOW))
    urn = f"urn:iplatform:equipment:{FRESH}:"
    assert sorted(fb) == [urn + "EQ-1", urn + "EQ-2", urn + "EQ-3"]
    # Equipment in maintenance is unavailable the whole window; idle equipment is free.
    assert fb[urn + "EQ-2"] == [(W0, W0 + DAY, "BUSY-UNAVAILABLE")]
    assert fb[urn + "EQ-3"] == []
    stale = api.get(f"/v1/centers/{STALE}/freebusy.ics", params=WINDOW)
    assert b"stale" in Calendar.from_ical(stale.body).walk("VFREEBUSY")[0]["COMMENT"].encode()
    # No window: from today (UTC), 90 days.
    default = Calendar.from_ical(api.get(f"/v1/centers/{FRESH}/freebusy.ics").body)
    start = default.walk("VFREEBUSY")[0]["DTSTART"].dt.timestamp()
    assert start == NOW - NOW % DAY or start == W0  # the test may straddle midnight


def test_freebusy_errors_are_problems(api: Api) -> None:
    path = f"/v1/centers/{FRESH}/equipment/EQ-1/freebusy.ics"
    assert fetch(api.address, path).problem()["status"] == 401
    missing = api.get(f"/v1/centers/{FRESH}/equipment/NOPE/freebusy.ics")
    assert missing.status == 404 and missing.problem()
    assert api.get("/v1/centers/KR-NO-0000/freebusy.ics").status == 404
    long = api.get(path, params={"from": _iso(W0), "to": _iso(W0 + 200 * DAY)})
    assert long.status == 400 and long.problem()["errors"][0]["name"] == "to"
    key = create_api_key(api.hub.data_dir, "calendar-subscriber")
    assert fetch(api.address, path, params={"key": key}).status == 200
    revoke_api_key(api.hub.data_dir, "calendar-subscriber")
    assert fetch(api.address, path, params={"key": key}).problem()["status"] == 403


def test_entry_times_round_trip_through_the_feed(api: Api) -> None:
    events = api.get("/v1/feed/changes", params={"limit": "100"}).json()["events"]
    bk1 = next(e for e in events if e["id"] == "BK-1")
    assert bk1["entry"]["start"] == timeconv.iso(W0 + HOUR)
    assert bk1["entry"]["kind"] == "booked"

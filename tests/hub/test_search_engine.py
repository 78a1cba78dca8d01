"""The search engine on SQLite and PostgreSQL: each rule, each filter, each empty answer.

One world is built per backend (module scope) through the sync path; each test searches
its own category, so tests do not see each other's equipment.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.availability import SearchAnswer, SearchQuery, search
from hub.store.schema import centers, entries, equipment
from tests.helpers import postgres
from tests.helpers.availability import DAY, HOUR, MONDAY, NOW, STALE_AFTER, World, at

A, B, S = "KR-MR-0001", "KR-BI-0002", "KR-MA-0003"
WEEKDAYS_9_TO_18 = [(d, 9 * 60, 18 * 60) for d in range(1, 6)]


def build(world: World) -> None:
    world.center(A, region="대전")
    world.center(B, industry="bio", region="부산", time_zone="Europe/Berlin")
    world.center(S, industry="materials", region="대전", seen=NOW - DAY)
    eq = world.equipment

    eq(A, "hours-1", category="t-hours", hours=WEEKDAYS_9_TO_18)
    # Berlin, Sunday 01:00-04:00 local: on 2027-03-28 02:00-03:00 does not exist.
    eq(B, "dst-1", category="t-dst", hours=[(7, 60, 240)])

    eq(A, "closed-1", category="t-closure")
    world.entry(A, "closed-1", MONDAY, MONDAY + DAY, kind="closure")
    world.entry(A, "closed-1", MONDAY + DAY, MONDAY + DAY + 6 * HOUR, kind="booked")
    # A 30-day closure that began 20 days before the window: found through the partial
    # index of long entries (the short-entry scan reaches back one day only).
    eq(A, "long-1", category="t-long")
    world.entry(A, "long-1", MONDAY - 20 * DAY, MONDAY + 10 * DAY, kind="closure")

    # A booking of exactly a day from the evening before: the longest a short-entry scan
    # must reach back (not in the long-entry index).
    eq(A, "floor-1", category="t-floor")
    world.entry(A, "floor-1", MONDAY - 20 * HOUR, MONDAY + 4 * HOUR)

    for kind in ("booked", "tentative", "maintenance", "closure"):
        eq(A, f"kind-{kind}", category=f"t-kind-{kind}")
        world.entry(A, f"kind-{kind}", MONDAY + 2 * HOUR, MONDAY + 22 * HOUR, kind=kind)

    eq(A, "min-1", category="t-min", hours=WEEKDAYS_9_TO_18, rules=(240, 0, 0))
    world.entry(A, "min-1", at("2027-01-04T11:00"), at("2027-01-04T13:00"))
    eq(A, "max-1", category="t-max", rules=(0, 120, 0))
    eq(A, "lead-1", category="t-lead", rules=(0, 0, 2 * 24 * 60))

    for status in ("available", "limited", "maintenance", "out-of-service", "retired"):
        eq(A, f"status-{status}", category="t-status", status=status)

    for center, eq_id, caps, stages, service, name_ko, name_en in (
        (A, "f-1", ["cycling", "EIS"], ["validation"], "test-analysis",
         "배터리 충방전기", "Battery Cycler"),
        (B, "f-2", ["cycling"], ["design"], "equipment-use",
         "주사전자현미경", "Scanning Electron Microscope"),
        (A, "f-3", ["eis", "Straße", "고진공"], ["validation", "design"], "consulting",
         "100%_순도 분석기", "100%_pure analyzer"),
    ):  # fmt: skip
        eq(center, eq_id, category="t-filter", capabilities=caps, stages=stages,
           services=[service], name_ko=name_ko, name_en=name_en)  # fmt: skip

    eq(A, "unusable-1", category="t-unusable", status="maintenance")
    eq(A, "unusable-2", category="t-unusable", status="retired")

    eq(A, "stale-fresh", category="t-stale")
    eq(S, "stale-stale", category="t-stale")
    eq(S, "only-stale", category="t-only-stale")

    eq(A, "busy-1", category="t-busy")
    world.entry(A, "busy-1", MONDAY - DAY, MONDAY + 3 * DAY + 5 * HOUR)

    # Ranking: first fits at +3 h (B), +1 h (A, two of them), +2 h (A).
    for center, eq_id, busy_hours in ((B, "r-4", 3), (A, "r-2", 1), (A, "r-1", 1), (A, "r-3", 2)):
        eq(center, eq_id, category="t-rank")
        world.entry(center, eq_id, MONDAY, MONDAY + busy_hours * HOUR)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("search") / "hub.db"
        w = World.open(f"sqlite:///{path}")
        build(w)
        yield w
        w.close()
    else:
        with postgres.fresh_database() as url:
            w = World.open(url)
            build(w)
            yield w
            w.close()


def find(world: World, now: int = NOW, **kw: Any) -> SearchAnswer:
    fields: dict[str, Any] = {"window_from": MONDAY, "window_to": MONDAY + DAY, "hours": 4}
    fields.update(kw)
    return search(world.store, SearchQuery(**fields), now=now, stale_after=STALE_AFTER)


def ids(answer: SearchAnswer) -> list[str]:
    return [r.equipment_id for r in answer.results]


def slots(answer: SearchAnswer) -> list[tuple[int, int]]:
    (result,) = answer.results
    return [(s.start, s.end) for s in result.slots]


def codes(answer: SearchAnswer) -> list[str]:
    return [str(r.code) for r in answer.reasons]


# -- operating hours, entries, rules, status ------------------------------------------------


def test_operating_hours_in_the_center_zone(world: World) -> None:
    answer = find(world, category="t-hours", window_to=MONDAY + 2 * DAY)
    assert slots(answer) == [
        (at("2027-01-04T09:00"), at("2027-01-04T18:00")),
        (at("2027-01-05T09:00"), at("2027-01-05T18:00")),
    ]
    assert answer.reasons == ()
    assert find(world, category="t-hours", hours=10, window_to=MONDAY + 2 * DAY).results == ()


def test_dst_gap_shortens_the_day(world: World) -> None:
    window = {
        "window_from": at("2027-03-27T12:00", "UTC"),
        "window_to": at("2027-03-29T00:00", "UTC"),
    }
    answer = find(world, category="t-dst", hours=2, **window)
    # 01:00 CET .. 04:00 CEST is two real hours: 00:00-02:00 UTC.
    assert slots(answer) == [(at("2027-03-28T00:00", "UTC"), at("2027-03-28T02:00", "UTC"))]
    assert find(world, category="t-dst", hours=2.5, **window).results == ()


def test_closures_and_bookings_block(world: World) -> None:
    answer = find(world, category="t-closure", hours=12, window_to=MONDAY + 3 * DAY)
    assert slots(answer)[0] == (MONDAY + DAY + 6 * HOUR, MONDAY + 3 * DAY)


def test_a_long_closure_that_began_before_the_window_blocks(world: World) -> None:
    answer = find(world, category="t-long", hours=1, window_to=MONDAY + 20 * DAY)
    assert slots(answer) == [(MONDAY + 10 * DAY, MONDAY + 20 * DAY)]


def test_a_day_long_entry_from_the_day_before_blocks(world: World) -> None:
    assert slots(find(world, category="t-floor", hours=1))[0][0] == MONDAY + 4 * HOUR


@pytest.mark.parametrize("kind", ["booked", "tentative", "maintenance", "closure"])
def test_every_entry_kind_blocks(world: World, kind: str) -> None:
    assert slots(find(world, category=f"t-kind-{kind}", hours=2)) == [
        (MONDAY, MONDAY + 2 * HOUR),
        (MONDAY + 22 * HOUR, MONDAY + DAY),
    ]
    assert find(world, category=f"t-kind-{kind}", hours=3).results == ()


def test_minimum_slot_raises_the_need(world: World) -> None:
    # Free 09-11 and 13-18; one hour is asked but a booking takes at least four.
    assert slots(find(world, category="t-min", hours=1)) == [
        (at("2027-01-04T13:00"), at("2027-01-04T18:00"))
    ]


def test_maximum_slot_excludes_longer_requests(world: World) -> None:
    assert ids(find(world, category="t-max", hours=2)) == ["max-1"]
    answer = find(world, category="t-max", hours=3)
    assert answer.results == ()
    assert codes(answer) == ["NONE_FREE"]
    assert "maximum slot" in answer.reasons[0].message


def test_lead_time_counts_from_now(world: World) -> None:
    now = MONDAY + 30
    answer = find(world, now=now, category="t-lead", hours=1, window_to=MONDAY + 7 * DAY)
    # Two days of lead time from 00:00:30, rounded up to the minute.
    assert slots(answer)[0][0] == MONDAY + 2 * DAY + 60
    # A slot never starts in the past, even without lead time.
    answer = find(
        world, now=now + 3 * HOUR, category="t-closure", hours=1, window_to=MONDAY + 3 * DAY
    )
    assert slots(answer)[0][0] == MONDAY + DAY + 6 * HOUR


def test_only_usable_statuses_are_free(world: World) -> None:
    answer = find(world, category="t-status")
    assert sorted(ids(answer)) == ["status-available", "status-limited"]
    assert answer.matched == 5
    assert {r.status for r in answer.results} == {"available", "limited"}


# -- filters and free text -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({}, ["f-1", "f-2", "f-3"]),
        ({"capabilities": ("cycling",)}, ["f-1", "f-2"]),
        ({"capabilities": ("CYCLING", "eis")}, ["f-1"]),
        ({"capabilities": ("cycl",)}, []),  # a tag matches whole, not as a substring
        ({"capabilities": ("STRAßE",)}, ["f-3"]),  # case-insensitive beyond ASCII
        ({"capabilities": ("고진공", "EIS")}, ["f-3"]),
        ({"stage": "validation"}, ["f-1", "f-3"]),
        ({"stage": "design", "service": "consulting"}, ["f-3"]),
        ({"service": "equipment-use"}, ["f-2"]),
        ({"region": "부산"}, ["f-2"]),
        ({"industry": "bio"}, ["f-2"]),
        ({"industry": "machinery-robotics", "region": "대전"}, ["f-1", "f-3"]),
        ({"text": "충방전"}, ["f-1"]),
        ({"text": "battery cycler"}, ["f-1"]),
        ({"text": "MICROSCOPE"}, ["f-2"]),
        ({"text": "전자현미"}, ["f-2"]),
        ({"text": "%_"}, ["f-3"]),  # wildcards are literal
        ({"text": "100%"}, ["f-3"]),
        ({"text": "_"}, ["f-3"]),
        ({"text": "%"}, ["f-3"]),
    ],
)
def test_filters(world: World, kw: dict[str, Any], expected: list[str]) -> None:
    assert sorted(ids(find(world, category="t-filter", **kw))) == expected


@pytest.mark.parametrize(
    "kw",
    [
        {"text": "'; DROP TABLE equipment; --"},
        {"category": "'; DROP TABLE equipment; --"},
        {"category": "%"},
        {"category": "t-filter%"},
        {"category": "_-filter"},
        {"region": "' OR '1'='1"},
        {"capabilities": ('"] OR 1=1 --', "%")},
        {"text": "\\"},
    ],
)
def test_injection_attempts_find_nothing_and_harm_nothing(world: World, kw: dict[str, Any]) -> None:
    with world.store.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(equipment)).scalar_one()
    answer = find(world, **kw)
    assert answer.results == ()
    assert codes(answer) == ["NO_MATCH"]
    with world.store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(equipment)).scalar_one() == before
        assert conn.execute(select(func.count()).select_from(entries)).scalar_one() > 0
        assert conn.execute(select(func.count()).select_from(centers)).scalar_one() == 3


# -- freshness, ranking, reasons --------------------------------------------------------------


def test_stale_results_are_flagged_and_ranked_after_fresh(world: World) -> None:
    answer = find(world, category="t-stale")
    assert ids(answer) == ["stale-fresh", "stale-stale"]
    fresh, stale = answer.results
    assert not fresh.stale and not any(s.unconfirmed for s in fresh.slots)
    assert stale.stale and stale.center.stale and all(s.unconfirmed for s in stale.slots)
    assert stale.center.last_seen == NOW - DAY
    assert answer.reasons == ()


def test_only_stale(world: World) -> None:
    answer = find(world, category="t-only-stale")
    assert ids(answer) == ["only-stale"] and answer.results[0].slots[0].unconfirmed
    assert codes(answer) == ["ONLY_STALE"]
    assert "unconfirmed" in answer.reasons[0].message


def test_no_match(world: World) -> None:
    answer = find(world, category="no-such-category")
    assert (answer.results, answer.matched, codes(answer)) == ((), 0, ["NO_MATCH"])


def test_none_free_names_the_earliest_fit_after_the_window(world: World) -> None:
    answer = find(world, category="t-busy", window_to=MONDAY + 2 * DAY)
    assert codes(answer) == ["NONE_FREE"]
    assert answer.reasons[0].earliest_free == MONDAY + 3 * DAY + 5 * HOUR
    assert "2027-01-07 05:00 KST" in answer.reasons[0].message
    # A fit that starts inside the window but ends after it is the earliest free time.
    answer = find(world, category="t-kind-closure", hours=23)
    assert codes(answer) == ["NONE_FREE"]
    assert answer.reasons[0].earliest_free == MONDAY + 22 * HOUR


def test_none_free_when_everything_is_unusable(world: World) -> None:
    answer = find(world, category="t-unusable", window_to=MONDAY + 7 * DAY)
    assert (answer.results, answer.matched, codes(answer)) == ((), 2, ["NONE_FREE"])
    reason = answer.reasons[0]
    assert "2 of them are in maintenance, out of service or retired" in reason.message
    assert reason.earliest_free is None and "30 days after it" in reason.message


def test_ranking_and_paging(world: World) -> None:
    answer = find(world, category="t-rank", hours=1)
    assert ids(answer) == ["r-1", "r-2", "r-3", "r-4"]
    assert [r.first_fit for r in answer.results] == [
        MONDAY + HOUR, MONDAY + HOUR, MONDAY + 2 * HOUR, MONDAY + 3 * HOUR,
    ]  # fmt: skip
    assert (answer.total, answer.next_offset) == (4, None)
    first = find(world, category="t-rank", hours=1, limit=2)
    assert ids(first) == ["r-1", "r-2"] and first.next_offset == 2
    second = find(world, category="t-rank", hours=1, limit=2, offset=2)
    assert ids(second) == ["r-3", "r-4"] and second.next_offset is None
    assert [s.start for s in second.results[1].slots] == [MONDAY + 3 * HOUR]

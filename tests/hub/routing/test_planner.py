"""The planner on a real store: candidates ranked by fit, earliness, region and load; stale
centers last; exclusions; and why a need has no candidate."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hub.routing import planner
from hub.routing.model import Company, Need, ValidRequest
from tests.helpers.availability import DAY, HOUR, MONDAY, NOW, STALE_AFTER, World
from tests.helpers.routing_world import (
    INDUSTRY,
    PORTAL,
    Clock,
    draft,
    representative,
    requests_on,
)
from tests.helpers.routing_world import need as draft_need

WEEK = 7 * DAY


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    w = World.open(db_url)
    yield w
    w.close()


def need(category: str | None = "battery-cycler", **kw: object) -> Need:
    values: dict[str, object] = {
        "stage": "validation",
        "category": category,
        "capabilities": (),
        "service": None,
        "hours": 4.0,
        "earliest": MONDAY,
        "latest": MONDAY + WEEK,
    }
    values.update(kw)
    return Need(**values)  # type: ignore[arg-type]


def request(*needs: Need) -> ValidRequest:
    return ValidRequest(
        company=Company("(주)한빛", "124-81-00998", "김하나", "kim@example.com"),
        project_title="t",
        technology_area="secondary-battery-cell",
        industry=INDUSTRY,
        goal="",
        needs=needs or (need(),),
    )


def ranked(world: World, n: Need, **kw: object) -> list[tuple[str, str]]:
    p = planner.plan(world.store, request(n), NOW, STALE_AFTER, kw.pop("max_candidates", 5), **kw)  # type: ignore[arg-type]
    return [(c.center_id, c.equipment_id) for c in p.needs[0].candidates]


def test_earlier_slot_ranks_first_and_parts_add_up(world: World) -> None:
    for c in ("KR-A-0001", "KR-B-0002"):
        world.center(c)
        world.equipment(c, "cyc")
    world.entry("KR-A-0001", "cyc", MONDAY, MONDAY + 3 * DAY)
    p = planner.plan(world.store, request(), NOW, STALE_AFTER, 5)
    first, second = p.needs[0].candidates
    assert (first.center_id, second.center_id) == ("KR-B-0002", "KR-A-0001")
    assert first.slot_start == MONDAY and first.slot_end == MONDAY + 4 * HOUR
    assert second.slot_start == MONDAY + 3 * DAY
    # Earliness counts from when the hours are done: 4 h after the slot starts.
    assert first.earliness == pytest.approx(0.30 * (1 - 4 / 168), abs=1e-4)
    assert second.earliness == pytest.approx(0.30 * (1 - (3 * 24 + 4) / 168), abs=1e-4)
    for c in (first, second):
        assert c.score == pytest.approx(c.fit + c.earliness + c.region_match + c.load, abs=1e-3)
        assert c.fit == pytest.approx(0.35) and c.load == pytest.approx(0.20)
        assert c.time_zone == "Asia/Seoul" and not c.stale


def test_fit_prefers_the_listed_stage_and_available_status(world: World) -> None:
    world.center("KR-A-0001")
    world.equipment("KR-A-0001", "a-other-stage", stages=("design",))
    world.equipment("KR-A-0001", "b-limited", status="limited")
    world.equipment("KR-A-0001", "c-best")
    assert [e for _, e in ranked(world, need())] == ["c-best", "b-limited", "a-other-stage"]


def test_region_preference_and_deterministic_ties(world: World) -> None:
    world.center("KR-A-0001", region="대전")
    world.center("KR-B-0002", region="부산")
    world.center("KR-C-0003", region="대전")
    for c in ("KR-C-0003", "KR-B-0002", "KR-A-0001"):
        world.equipment(c, "cyc")
    assert [c for c, _ in ranked(world, need(region="부산"))] == [
        "KR-B-0002",
        "KR-A-0001",
        "KR-C-0003",
    ]
    # No preference: every center matches; equal scores fall back to center id.
    assert [c for c, _ in ranked(world, need())] == ["KR-A-0001", "KR-B-0002", "KR-C-0003"]


def test_load_spreads_requests_over_centers(world: World) -> None:
    for c in ("KR-A-0001", "KR-B-0002"):
        world.center(c)
        world.equipment(c, "cyc")
    rq = requests_on(world.store, Clock(NOW))
    rq.submit(draft(draft_need(), draft_need(hours=2)), actor=PORTAL)  # both to A (id order)
    p = planner.plan(world.store, request(), NOW, STALE_AFTER, 5)
    first, second = p.needs[0].candidates
    assert (first.center_id, first.open_items) == ("KR-B-0002", 0)
    assert (second.center_id, second.open_items) == ("KR-A-0001", 2)
    assert second.load == pytest.approx(0.20 / 3, abs=1e-4)


def test_stale_centers_come_last_and_exclusions_are_skipped(world: World) -> None:
    world.center("KR-A-0001", seen=NOW - DAY)  # stale
    world.center("KR-B-0002")
    world.center("KR-C-0003")
    for c in ("KR-A-0001", "KR-B-0002", "KR-C-0003"):
        world.equipment(c, "cyc")
    world.entry("KR-B-0002", "cyc", MONDAY, MONDAY + 5 * DAY)
    p = planner.plan(world.store, request(), NOW, STALE_AFTER, 5)
    got = [(c.center_id, c.stale) for c in p.needs[0].candidates]
    assert got == [("KR-C-0003", False), ("KR-B-0002", False), ("KR-A-0001", True)]
    assert ranked(world, need(), exclude={0: frozenset({"KR-C-0003"})}) == [
        ("KR-B-0002", "cyc"),
        ("KR-A-0001", "cyc"),
    ]
    assert ranked(world, need(), max_candidates=1) == [("KR-C-0003", "cyc")]


def test_coordinator_is_the_industrys_representative(world: World) -> None:
    world.center("KR-A-0001")
    assert planner.plan(world.store, request(), NOW, STALE_AFTER, 5).coordinator is None
    representative(world.store, "KR-R-0002")
    representative(world.store, "KR-R-0001")
    representative(world.store, "KR-M-0001", industry="bio")
    coordinator = planner.plan(world.store, request(), NOW, STALE_AFTER, 5).coordinator
    assert coordinator is not None
    assert (coordinator.center_id, coordinator.industry) == ("KR-R-0001", INDUSTRY)


def test_unserved_reasons_say_why_and_what_to_do(world: World) -> None:
    world.center("KR-A-0001")
    world.equipment("KR-A-0001", "cyc")
    world.entry("KR-A-0001", "cyc", MONDAY, MONDAY + WEEK + 2 * DAY)
    p = planner.plan(world.store, request(need("tem"), need(), need()), NOW, STALE_AFTER, 5)
    no_match, none_free, _ = p.needs
    assert no_match.candidates == ()
    assert "no equipment on the platform offers category 'tem'" in no_match.unserved_reason
    assert none_free.candidates == ()
    text = none_free.unserved_reason
    assert "none is free for 4 h" in text and "earliest fit starts 2027-01-13" in text
    assert "widen the window" in text
    gone = planner.plan_need(
        world.store, 0, need(latest=NOW - HOUR, earliest=NOW - DAY), NOW, STALE_AFTER, 5
    )
    assert "has ended" in gone.unserved_reason


def test_every_candidate_tried_is_unserved(world: World) -> None:
    world.center("KR-A-0001")
    world.equipment("KR-A-0001", "cyc")
    planned = planner.plan_need(
        world.store, 0, need(), NOW, STALE_AFTER, 5, frozenset({"KR-A-0001"})
    )
    assert planned.candidates == ()
    assert "already tried (KR-A-0001)" in planned.unserved_reason


def test_candidate_at_names_one_equipment(world: World) -> None:
    world.center("KR-A-0001")
    world.equipment("KR-A-0001", "cyc")
    world.equipment("KR-A-0001", "xrd", category="xrd")
    world.equipment("KR-A-0001", "down", status="maintenance")
    got = planner.candidate_at(world.store, need(), "KR-A-0001", "cyc", NOW, STALE_AFTER)
    assert got is not None and (got.slot_start, got.slot_end) == (MONDAY, MONDAY + 4 * HOUR)
    assert planner.candidate_at(world.store, need(), "KR-A-0001", "xrd", NOW, STALE_AFTER) is None
    down = planner.candidate_at(world.store, need(), "KR-A-0001", "down", NOW, STALE_AFTER)
    assert down is not None and (down.slot_start, down.slot_end) == (0, 0)


OFFICE_HOURS = tuple((day, 9 * 60, 18 * 60) for day in range(1, 6))


def test_hours_are_total_time_done_in_blocks_over_several_days(world: World) -> None:
    # 20 h on equipment open 09:00-18:00 cannot be one block; it takes three working days.
    world.center("KR-A-0001")
    world.equipment("KR-A-0001", "coater", hours=OFFICE_HOURS)
    p = planner.plan(world.store, request(need(hours=20.0)), NOW, STALE_AFTER, 5)
    (only,) = p.needs[0].candidates
    # Done on Wednesday at 11:00 (9 + 9 + 2 h): the suggested time spans the work, and
    # earliness counts from when it is done.
    done = MONDAY + 2 * DAY + 11 * HOUR
    assert (only.slot_start, only.slot_end) == (MONDAY + 9 * HOUR, done)
    assert only.earliness == pytest.approx(0.30 * (1 - (done - MONDAY) / WEEK), abs=1e-4)


def test_too_little_free_time_in_all_blocks_is_unserved_with_why(world: World) -> None:
    world.center("KR-A-0001")
    world.equipment("KR-A-0001", "coater", hours=OFFICE_HOURS)
    # Two days' window: 18 h of opening hours, 20 h asked.
    n = need(hours=20.0, latest=MONDAY + 2 * DAY)
    planned = planner.plan(world.store, request(n), NOW, STALE_AFTER, 5).needs[0]
    assert planned.candidates == ()
    assert "less than 20 h free in the window" in planned.unserved_reason
    assert "KR-A-0001" in planned.unserved_reason

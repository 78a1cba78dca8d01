"""Early stopping never changes the answer: pages of any size, concatenated, equal a
brute-force ranking computed equipment by equipment (SQLite and PostgreSQL)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.availability import SearchQuery, search, slots
from hub.availability.hours import parse_template
from tests.helpers import postgres
from tests.helpers.availability import DAY, HOUR, MONDAY, NOW, STALE_AFTER, World

TEMPLATES = [[], [(d, 540, 1080) for d in range(1, 6)], [(d, 480, 1200) for d in range(1, 7)]]
RULES = [None, (60, 0, 0), (0, 240, 0), (0, 0, 24 * 60)]
CENTERS = ["KR-MR-0001", "KR-MR-0002", "KR-MR-0003"]


def build(world: World, rng: random.Random) -> dict[tuple[str, str], dict[str, object]]:
    """150 equipment (more than the walk's first chunk) with random calendars."""
    truth: dict[tuple[str, str], dict[str, object]] = {}
    for i, center in enumerate(CENTERS):
        world.center(center, time_zone="Asia/Seoul" if i else "Europe/Berlin")
    world.seen(CENTERS[2], NOW - DAY)  # stale: ranked last
    for n in range(150):
        center = CENTERS[n % 3]
        eq_id = f"eq-{n:03d}"
        hours, rules = rng.choice(TEMPLATES), rng.choice(RULES)
        world.equipment(center, eq_id, category="t-walk", hours=hours, rules=rules)
        busy = []
        if rng.random() < 0.6:
            # Booked at the window start: its bound is early, its real fit is not, and an
            # unbooked equipment later in bound order beats it. A walk that stopped on
            # bounds alone would rank them wrong.
            end = MONDAY + rng.randint(1, 40) * HOUR
            world.entry(center, eq_id, MONDAY - DAY, end)
            busy.append((MONDAY - DAY, end))
        for _ in range(rng.randint(0, 4)):
            start = MONDAY + rng.randint(-2 * 24, 6 * 24) * HOUR
            end = start + rng.randint(1, 48) * HOUR
            world.entry(center, eq_id, start, end)
            busy.append((start, end))
        truth[(center, eq_id)] = {"hours": hours, "rules": rules, "busy": busy}
    return truth


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[World, dict[tuple[str, str], dict[str, object]]]]:
    rng = random.Random(7)
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("walk") / "hub.db"
        w = World.open(f"sqlite:///{path}")
        truth = build(w, rng)
        yield w, truth
        w.close()
    else:
        with postgres.fresh_database() as url:
            w = World.open(url)
            truth = build(w, rng)
            yield w, truth
            w.close()


def brute_force(
    truth: dict[tuple[str, str], dict[str, object]], q: SearchQuery, now: int
) -> list[str]:
    import json

    ranked = []
    for (center, eq_id), t in truth.items():
        rules = slots.Rules(*t["rules"]) if t["rules"] else slots.NO_RULES  # type: ignore[misc]
        zone = "Europe/Berlin" if center == CENTERS[0] else "Asia/Seoul"
        fits = slots.fits(
            parse_template(json.dumps(t["hours"])), zone, list(t["busy"]),  # type: ignore[arg-type]
            (q.window_from, q.window_to), now, rules, q.duration_seconds, 1,
        )  # fmt: skip
        if fits:
            ranked.append((center == CENTERS[2], fits[0][0], center, eq_id))
    return [r[3] for r in sorted(ranked)]


@pytest.mark.parametrize(
    ("hours", "days", "page"), [(1, 2, 7), (8, 3, 1), (30, 7, 20), (4, 5, 100)]
)
def test_pages_concatenated_equal_the_brute_force_ranking(
    world: tuple[World, dict[tuple[str, str], dict[str, object]]], hours: int, days: int, page: int
) -> None:
    w, truth = world
    now = MONDAY - HOUR
    base = SearchQuery(
        window_from=MONDAY, window_to=MONDAY + days * DAY, hours=hours, category="t-walk"
    )
    expected = brute_force(truth, base, now)
    assert expected, "the scenario should have free equipment"
    got: list[str] = []
    stopped_early = False
    offset: int | None = 0
    while offset is not None:
        q = SearchQuery(
            window_from=base.window_from, window_to=base.window_to, hours=hours,
            category="t-walk", limit=page, offset=offset,
        )  # fmt: skip
        answer = search(w.store, q, now=now, stale_after=STALE_AFTER)
        got += [r.equipment_id for r in answer.results]
        stopped_early |= answer.total is None
        assert len(answer.results) <= page
        offset = answer.next_offset
        assert len(got) <= 150
    assert got == expected
    if page < 20:
        assert stopped_early, "small pages should let the walk stop early"

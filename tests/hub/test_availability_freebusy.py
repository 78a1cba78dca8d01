"""free_busy: disjoint busy periods per equipment with RFC 5545 types (both backends)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hub.availability import BusyKind, InvalidFilter, InvalidWindow, NotFound, free_busy
from tests.helpers.availability import DAY, MONDAY, NOW, STALE_AFTER, World, at

C = "KR-MR-0001"
WINDOW = (MONDAY, MONDAY + DAY)


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    w = World.open(db_url)
    w.center(C)
    w.equipment(C, "eq-1", hours=[(d, 9 * 60, 18 * 60) for d in range(1, 6)])
    w.entry(C, "eq-1", at("2027-01-04T10:00"), at("2027-01-04T12:00"), "booked")
    w.entry(C, "eq-1", at("2027-01-04T11:00"), at("2027-01-04T14:00"), "tentative")
    w.entry(C, "eq-1", at("2027-01-04T16:00"), at("2027-01-04T17:00"), "maintenance")
    w.entry(C, "eq-1", MONDAY - 3 * DAY, MONDAY - 2 * DAY, "booked")  # before the window
    w.equipment(C, "eq-2", status="out-of-service")
    yield w
    w.close()


def test_kinds_are_disjoint_and_ordered(world: World) -> None:
    fb = free_busy(world.store, C, "eq-1", WINDOW, now=NOW, stale_after=STALE_AFTER)
    (eq,) = fb.equipment
    unavailable, busy, tentative = (
        BusyKind.BUSY_UNAVAILABLE, BusyKind.BUSY, BusyKind.BUSY_TENTATIVE
    )  # fmt: skip
    assert [(p.start, p.end, p.kind) for p in eq.busy] == [
        (MONDAY, at("2027-01-04T09:00"), unavailable),  # before opening
        (at("2027-01-04T10:00"), at("2027-01-04T12:00"), busy),
        (at("2027-01-04T12:00"), at("2027-01-04T14:00"), tentative),  # booked wins 11-12
        (at("2027-01-04T16:00"), at("2027-01-04T17:00"), unavailable),
        (at("2027-01-04T18:00"), MONDAY + DAY, unavailable),
    ]
    assert (fb.window_from, fb.window_to, fb.center.stale) == (*WINDOW, False)


def test_every_equipment_of_the_center_and_unusable_status(world: World) -> None:
    fb = free_busy(world.store, C, None, WINDOW, now=NOW, stale_after=STALE_AFTER)
    assert [e.equipment_id for e in fb.equipment] == ["eq-1", "eq-2"]
    assert [(p.start, p.end, p.kind) for p in fb.equipment[1].busy] == [
        (*WINDOW, BusyKind.BUSY_UNAVAILABLE)
    ]


def test_stale_center_is_flagged(world: World) -> None:
    world.seen(C, NOW - DAY)
    assert free_busy(world.store, C, None, WINDOW, now=NOW, stale_after=STALE_AFTER).center.stale


def test_unknown_center_or_equipment_and_bad_windows(world: World) -> None:
    with pytest.raises(NotFound, match="not registered"):
        free_busy(world.store, "KR-XX-9999", None, WINDOW, now=NOW, stale_after=STALE_AFTER)
    with pytest.raises(NotFound, match="no equipment nope"):
        free_busy(world.store, C, "nope", WINDOW, now=NOW, stale_after=STALE_AFTER)
    with pytest.raises(InvalidWindow, match="inverted"):
        free_busy(world.store, C, None, (MONDAY, MONDAY), now=NOW, stale_after=STALE_AFTER)
    with pytest.raises(InvalidWindow, match="92 days"):
        free_busy(world.store, C, None, (MONDAY, MONDAY + 93 * DAY), now=NOW, stale_after=1)
    with pytest.raises(InvalidFilter):
        free_busy(world.store, C, "'; DROP TABLE entries; --", WINDOW, now=NOW, stale_after=1)

"""Operating hours -> UTC intervals, checked minute by minute against the rule itself:
a UTC instant is open iff its local wall-clock time falls in the template for its local
weekday. Windows straddle DST transitions (Berlin, New York, Lord Howe's 30-minute shift)
and a zone without DST (Seoul)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.availability import hours
from tests.hub.test_availability_intervals import runs

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Seoul"]


def utc(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


# DST changes of 2027 (and a quiet day) in the zones above.
ANCHORS = [
    utc("2027-03-28T01:00"),  # Berlin spring forward, 02:00 -> 03:00
    utc("2027-10-31T01:00"),  # Berlin fall back, 03:00 -> 02:00
    utc("2027-03-14T07:00"),  # New York spring forward
    utc("2027-11-07T06:00"),  # New York fall back
    utc("2027-04-03T15:00"),  # Lord Howe, 30 minutes
    utc("2027-10-02T15:30"),
    utc("2027-06-15T00:00"),
]

item = st.tuples(st.integers(1, 7), st.integers(0, 96), st.integers(1, 96)).map(
    lambda t: [t[0], min(t[1], t[2] - 1) * 15, t[2] * 15]
)
templates = st.lists(item, max_size=6)


def oracle(template: list[list[int]], zone: str, lo: int, hi: int) -> set[int]:
    tz = ZoneInfo(zone)
    out = set()
    for t in range(lo, hi, 60):
        local = datetime.fromtimestamp(t, tz)
        minute = local.hour * 60 + local.minute
        if any(w == local.isoweekday() and s <= minute < e for w, s, e in template):
            out.add(t)
    return out


def minutes(intervals: tuple[tuple[int, int], ...]) -> set[int]:
    for a, b in intervals:
        assert a % 60 == 0 and b % 60 == 0, (a, b)
    return {t for a, b in intervals for t in range(a, b, 60)}


@given(
    templates,
    st.sampled_from(ZONES),
    st.sampled_from(ANCHORS),
    st.integers(-2 * 1440, 1440),
    st.integers(1, 3 * 1440),
)
@settings(max_examples=150, deadline=None)
def test_expansion_matches_the_minute_grid(
    template: list[list[int]], zone: str, anchor: int, offset: int, length: int
) -> None:
    lo = anchor + offset * 60
    hi = lo + length * 60
    expanded = hours.open_intervals(hours.parse_template(json.dumps(template)), zone, lo, hi)
    expected = oracle(template, zone, lo, hi) if template else set(range(lo, hi, 60))
    assert minutes(expanded) == expected
    assert list(expanded) == runs_in_seconds(expected)


def runs_in_seconds(pts: set[int]) -> list[tuple[int, int]]:
    return [(a * 60, b * 60) for a, b in runs({p // 60 for p in pts})]


def test_spring_forward_skips_the_missing_hour() -> None:
    # Sunday 2027-03-28 in Berlin: 02:00-03:00 does not exist; 01:00-04:00 is 2 hours.
    template = hours.parse_template(json.dumps([[7, 60, 240]]))
    day = utc("2027-03-27T12:00")
    (opened,) = hours.open_intervals(template, "Europe/Berlin", day, day + 86400)
    assert opened == (utc("2027-03-28T00:00"), utc("2027-03-28T02:00"))


def test_fall_back_opens_the_repeated_hour_twice() -> None:
    # Sunday 2027-10-31 in Berlin: 02:00-03:00 happens twice (CEST, then CET).
    template = hours.parse_template(json.dumps([[7, 120, 180]]))
    day = utc("2027-10-30T12:00")
    assert hours.open_intervals(template, "Europe/Berlin", day, day + 86400) == (
        (utc("2027-10-31T00:00"), utc("2027-10-31T02:00")),
    )
    template = hours.parse_template(json.dumps([[7, 150, 160]]))
    assert hours.open_intervals(template, "Europe/Berlin", day, day + 86400) == (
        (utc("2027-10-31T00:30"), utc("2027-10-31T00:40")),
        (utc("2027-10-31T01:30"), utc("2027-10-31T01:40")),
    )


def test_no_template_means_around_the_clock() -> None:
    assert hours.open_intervals(hours.parse_template("[]"), "Asia/Seoul", 0, 100) == ((0, 100),)


def test_days_join_across_midnight() -> None:
    # Mon 00:00-24:00 and Tue 00:00-12:00 in Seoul: one period of 36 hours.
    template = hours.parse_template(json.dumps([[1, 0, 1440], [2, 0, 720]]))
    monday = int(datetime(2027, 1, 4, tzinfo=ZoneInfo("Asia/Seoul")).timestamp())
    assert hours.open_intervals(template, "Asia/Seoul", monday - 3600, monday + 3 * 86400) == (
        (monday, monday + 36 * 3600),
    )

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.sources.fields import format_hours, parse_hours, parse_uint, split_list
from proto import pb


def triples(hours: list[pb.WeeklyHours]) -> list[tuple[int, int, int]]:
    return [(h.weekday, h.start_minute, h.end_minute) for h in hours]


def test_hours_forms() -> None:
    assert triples(parse_hours("sat-mon 10:00-24:00")) == [
        (1, 600, 1440),
        (6, 600, 1440),
        (7, 600, 1440),
    ]
    assert triples(parse_hours("월,수 09:00-12:00, 13:00-18:00\n금 9:30-10:00")) == [
        (1, 540, 720),
        (1, 780, 1080),
        (3, 540, 720),
        (3, 780, 1080),
        (5, 570, 600),
    ]
    assert parse_hours("") == [] and parse_hours(None) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("09:00-18:00", "write days then times"),
        ("weekdays 09:00-18:00", "unknown day 'weekdays'"),
        ("mon-xyz 09:00-18:00", "unknown day range"),
        ("mon 9-18", "not a range like 09:00-18:00"),
        ("mon 22:00-06:00", "split ranges at midnight"),
        ("mon 09:00-24:30", "not a time of day"),
        ("mon 09:75-10:00", "not a time of day"),
    ],
)
def test_hours_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_hours(text)


def test_uint_and_lists() -> None:
    assert parse_uint("", "x") == 0 and parse_uint(None, "x") == 0
    assert parse_uint(Decimal("2019"), "x") == 2019 and parse_uint(2019.0, "x") == 2019
    assert parse_uint(" 42 ", "x") == 42
    for bad in ("-1", "1e3", "٣", True, 2.5, 2**32):
        with pytest.raises(ValueError, match="x must be"):
            parse_uint(bad, "x")
    assert split_list(" a ; b|a ;; ") == ["a", "b"]
    assert split_list(["x", " y ", "", "x"]) == ["x", "y"]


@given(
    st.sets(
        st.tuples(st.integers(1, 7), st.integers(0, 1439), st.integers(1, 1440)).filter(
            lambda t: t[1] < t[2]
        ),
        max_size=10,
    )
)
def test_hours_round_trip(items: set[tuple[int, int, int]]) -> None:
    hours = [pb.WeeklyHours(weekday=d, start_minute=s, end_minute=e) for d, s, e in sorted(items)]
    assert triples(parse_hours(format_hours(hours))) == sorted(items)

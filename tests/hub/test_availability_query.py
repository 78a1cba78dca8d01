"""SearchQuery validation: each bad input is a QueryError naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from hub.availability import (
    InvalidDuration,
    InvalidFilter,
    InvalidWindow,
    QueryError,
    SearchQuery,
    UnknownCode,
    parse_instant,
)

T0 = 1_800_000_000
DAY = 86400


def query(**kw: Any) -> SearchQuery:
    fields: dict[str, Any] = {"window_from": T0, "window_to": T0 + 7 * DAY, "hours": 4}
    fields.update(kw)
    return SearchQuery(**fields)


@pytest.mark.parametrize(
    ("kw", "error", "field", "words"),
    [
        ({"window_to": T0}, InvalidWindow, "to", "inverted"),
        ({"window_to": T0 - 1}, InvalidWindow, "to", "inverted"),
        ({"window_to": T0 + 93 * DAY}, InvalidWindow, "to", "at most 92 days"),
        ({"hours": 0}, InvalidDuration, "hours", "positive"),
        ({"hours": -1}, InvalidDuration, "hours", "positive"),
        ({"hours": float("nan")}, InvalidDuration, "hours", "number"),
        ({"hours": 1.01}, InvalidDuration, "hours", "whole number of minutes"),
        ({"hours": 7 * 24 + 1}, InvalidDuration, "hours", "do not fit"),
        ({"industry": "space"}, UnknownCode, "industry", "machinery-robotics"),
        ({"stage": "dreaming"}, UnknownCode, "stage", "validation"),
        ({"service": "catering"}, UnknownCode, "service", "test-analysis"),
        ({"time_zone": "Mars/Olympus"}, UnknownCode, "tz", "IANA"),
        ({"text": "x" * 201}, InvalidFilter, "text", "at most 200"),
        ({"category": "c" * 201}, InvalidFilter, "category", "at most 200"),
        ({"text": "a\x00b"}, InvalidFilter, "text", "NUL"),
        ({"capabilities": tuple(f"t{i}" for i in range(17))}, InvalidFilter, "capabilities", "16"),
        ({"limit": 0}, InvalidFilter, "limit", "1..100"),
        ({"limit": 101}, InvalidFilter, "limit", "1..100"),
        ({"offset": -1}, InvalidFilter, "offset", "0..10000"),
        ({"slots_per_result": 11}, InvalidFilter, "slots_per_result", "1..10"),
    ],
)
def test_invalid_queries_say_which_field_and_what_to_do(
    kw: dict[str, Any], error: type[QueryError], field: str, words: str
) -> None:
    with pytest.raises(error, match=words) as info:
        query(**kw)
    assert info.value.field == field
    assert isinstance(info.value, ValueError)  # the HTTP layer maps ValueError to 4xx


def test_codes_are_normalised_and_blank_filters_dropped() -> None:
    q = query(industry=" Bio ", stage="Mass_Production", text="  ", capabilities=("EIS", "eis"))
    assert (q.industry, q.stage, q.text, q.capabilities) == (
        "bio",
        "mass-production",
        None,
        ("eis",),
    )
    assert q.duration_seconds == 4 * 3600


def test_parse_instant_reads_local_time_in_the_zone() -> None:
    assert parse_instant("2027-01-04T09:00", "from", "Asia/Seoul") == parse_instant(
        "2027-01-04T00:00:00Z", "from"
    )
    assert parse_instant("2027-01-04", "from", "UTC") == parse_instant("2027-01-04T00:00Z", "x")
    with pytest.raises(InvalidWindow, match="ISO 8601") as info:
        parse_instant("next tuesday", "from")
    assert info.value.field == "from"

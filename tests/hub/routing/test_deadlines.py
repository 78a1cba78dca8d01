"""Answer deadlines: business days end at local midnight in the center's zone, DST included."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.routing.deadlines import (
    BUSINESS_DAYS,
    DeadlineRule,
    deadline,
    is_business_day,
)

SEOUL = ZoneInfo("Asia/Seoul")
NEW_YORK = ZoneInfo("America/New_York")
TWO_DAYS = DeadlineRule(2, BUSINESS_DAYS)


def _at(text: str, tz: ZoneInfo) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=tz).timestamp())


def _local(instant: int, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(instant, tz)


def test_friday_afternoon_plus_two_business_days_is_tuesday_midnight() -> None:
    due = deadline(_at("2026-11-27T15:00", SEOUL), "Asia/Seoul", TWO_DAYS)
    # "Tuesday 24:00" is the first instant of Wednesday.
    assert _local(due, SEOUL) == datetime(2026, 12, 2, 0, 0, tzinfo=SEOUL)


@pytest.mark.parametrize(
    ("routed", "holidays", "due_day"),
    [
        ("2026-11-28T10:00", (), "2026-12-02"),  # Saturday: Monday and Tuesday count
        ("2026-11-26T23:59", (), "2026-12-01"),  # Thursday night: Friday, Monday
        ("2026-11-30T00:00", (), "2026-12-03"),  # Monday's own day never counts
        ("2026-11-27T15:00", ("2026-11-30",), "2026-12-03"),  # Monday a holiday
        ("2026-12-24T09:00", ("2026-12-25",), "2026-12-30"),  # Christmas Friday
    ],
)
def test_weekends_and_holidays_do_not_count(
    routed: str, holidays: tuple[str, ...], due_day: str
) -> None:
    days = frozenset(date.fromisoformat(d) for d in holidays)
    due = deadline(_at(routed, SEOUL), "Asia/Seoul", TWO_DAYS, days)
    assert _local(due, SEOUL) == datetime.fromisoformat(due_day).replace(tzinfo=SEOUL)


def test_the_local_date_decides_not_the_utc_one() -> None:
    # Friday 00:30 in Seoul is still Thursday in UTC.
    routed = _at("2026-11-27T00:30", SEOUL)
    assert datetime.fromtimestamp(routed, UTC).day == 26
    assert _local(deadline(routed, "Asia/Seoul", TWO_DAYS), SEOUL).date() == date(2026, 12, 2)


def test_deadlines_across_dst_changes_end_at_local_midnight() -> None:
    # New York springs forward on Sunday 2026-03-08: Tuesday 24:00 is EDT (UTC-4).
    spring = deadline(_at("2026-03-06T15:00", NEW_YORK), "America/New_York", TWO_DAYS)
    assert spring == int(datetime(2026, 3, 11, 4, 0, tzinfo=UTC).timestamp())
    # ... and falls back on Sunday 2026-11-01: Tuesday 24:00 is EST (UTC-5).
    autumn = deadline(_at("2026-10-30T15:00", NEW_YORK), "America/New_York", TWO_DAYS)
    assert autumn == int(datetime(2026, 11, 4, 5, 0, tzinfo=UTC).timestamp())
    # Counted on the wall clock: Friday noon to Monday 24:00 is 84 local hours, 83 real ones.
    monday = DeadlineRule(1, BUSINESS_DAYS)
    friday_noon = _at("2026-03-06T12:00", NEW_YORK)
    assert deadline(friday_noon, "America/New_York", monday) - friday_noon == 84 * 3600 - 3600


def test_plain_durations_are_added_as_they_are() -> None:
    t = _at("2026-11-27T15:00", SEOUL)
    assert deadline(t, "Asia/Seoul", DeadlineRule.parse("4 hours")) == t + 4 * 3600
    assert deadline(t, "Asia/Seoul", DeadlineRule.parse("1.5 hours")) == t + 5400
    assert deadline(t, "Asia/Seoul", DeadlineRule.parse("30 minutes")) == t + 1800
    assert deadline(t, "Nowhere/City", DeadlineRule.parse("90 seconds")) == t + 90


def test_an_unknown_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'; use an IANA name"):
        deadline(0, "Mars/Olympus", TWO_DAYS)


@pytest.mark.parametrize(
    ("text", "amount", "unit", "shown"),
    [
        ("2 business days", 2, "business-days", "2 business days"),
        ("1 Business Day", 1, "business-days", "1 business day"),
        (" 3 business-days ", 3, "business-days", "3 business days"),
        ("4 hours", 4, "hours", "4 hours"),
        ("1 hour", 1, "hours", "1 hour"),
        ("0.5 hours", 0.5, "hours", "0.5 hours"),
        ("90 minutes", 90, "minutes", "90 minutes"),
        ("90 seconds", 90, "seconds", "90 seconds"),
        ("30 business days", 30, "business-days", "30 business days"),
    ],
)
def test_rules_parse_and_print_back(text: str, amount: float, unit: str, shown: str) -> None:
    rule = DeadlineRule.parse(text)
    assert (rule.amount, rule.unit, str(rule)) == (amount, unit, shown)
    assert DeadlineRule.parse(str(rule)) == rule


FORMS = '"2 business days", "4 hours", "30 minutes" or "90 seconds"'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0 business days", "must be more than 0"),
        ("-1 hours", "must be more than 0"),
        ("0 seconds", "must be more than 0"),
        ("31 business days", "a whole number from 1 to 30"),
        ("1.5 business days", "a whole number from 1 to 30"),
        ("721 hours", "at most 30 days"),
        ("0.5 seconds", "at least 1 second"),
        ("2 weeks", "unit 'weeks' is not known"),
        ("2 days", "unit 'days' is not known"),
        ("two days", "is not understood"),
        ("", "is not understood"),
        ("2", "is not understood"),
    ],
)
def test_bad_rules_are_refused_listing_the_accepted_forms(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        DeadlineRule.parse(text)
    assert FORMS in str(info.value)


def test_rules_built_in_code_are_checked_too() -> None:
    with pytest.raises(ValueError, match="unit 'days' is not known"):
        DeadlineRule(2, "days")
    with pytest.raises(ValueError, match="must be more than 0"):
        DeadlineRule(0, BUSINESS_DAYS)


ZONES = ["Asia/Seoul", "America/New_York", "Europe/Berlin", "Australia/Sydney", "UTC"]


@settings(max_examples=300, deadline=None)
@given(
    routed=st.integers(
        int(datetime(2024, 1, 1, tzinfo=UTC).timestamp()),
        int(datetime(2032, 1, 1, tzinfo=UTC).timestamp()),
    ),
    zone_name=st.sampled_from(ZONES),
    n=st.integers(1, 30),
    offsets=st.frozensets(st.integers(0, 60), max_size=15),
)
def test_business_day_deadlines_hold_their_promises(
    routed: int, zone_name: str, n: int, offsets: frozenset[int]
) -> None:
    tz = ZoneInfo(zone_name)
    routed_day = _local(routed, tz).date()
    holidays = frozenset(routed_day + timedelta(days=k) for k in offsets)
    due = deadline(routed, zone_name, DeadlineRule(n, BUSINESS_DAYS), holidays)
    local = _local(due, tz)
    assert (local.hour, local.minute, local.second) == (0, 0, 0)
    assert due > routed
    last_day = local.date() - timedelta(days=1)
    assert is_business_day(last_day, holidays)
    between = (routed_day + timedelta(days=k) for k in range(1, (last_day - routed_day).days + 1))
    assert sum(is_business_day(d, holidays) for d in between) == n

"""When a center must answer a routed item before the need goes to the next candidate.

Center staff work office days, so the usual rule is "N business days": the item is due at
the end (24:00 local) of the Nth working day after the day it was routed, counted in the
center's own time zone and skipping weekends and the configured holidays. Tests and small
pilots use plain durations ("4 hours", "90 seconds"). Local midnight is computed through
:mod:`zoneinfo`, so days that are 23 or 25 hours long (DST) still end at midnight.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

BUSINESS_DAYS = "business-days"
HOURS = "hours"
MINUTES = "minutes"
SECONDS = "seconds"
MAX_BUSINESS_DAYS = 30
MAX_DURATION_SECONDS = 30 * 86400
"""Plain durations are capped like business days: an answer may take at most a month."""

_UNIT_SECONDS = {HOURS: 3600, MINUTES: 60, SECONDS: 1}
_UNITS = {
    "business day": BUSINESS_DAYS,
    "business days": BUSINESS_DAYS,
    "business-day": BUSINESS_DAYS,
    "business-days": BUSINESS_DAYS,
    "hour": HOURS,
    "hours": HOURS,
    "minute": MINUTES,
    "minutes": MINUTES,
    "second": SECONDS,
    "seconds": SECONDS,
}
_FORMS = '"2 business days", "4 hours", "30 minutes" or "90 seconds"'
_RULE = re.compile(r"^\s*([+-]?[0-9]+(?:\.[0-9]+)?)\s*([a-z][a-z -]*?)\s*$")


@dataclass(frozen=True)
class DeadlineRule:
    """How long a center has to answer: ``amount`` of ``unit``."""

    amount: float
    unit: str
    """``business-days``, ``hours``, ``minutes`` or ``seconds``."""

    def __post_init__(self) -> None:
        # Checked here, not only in parse(), so a rule built in code is held to the same limits.
        amount, unit = self.amount, self.unit
        if unit not in _UNIT_SECONDS and unit != BUSINESS_DAYS:
            raise ValueError(
                f"deadline unit {unit!r} is not known; use business-days, hours, minutes or "
                f"seconds, as in {_FORMS}"
            )
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            raise ValueError(f"deadline amount {amount!r} is not a number; write e.g. {_FORMS}")
        if not math.isfinite(amount) or amount <= 0:
            raise ValueError(f"deadline amount {amount:g} must be more than 0; write e.g. {_FORMS}")
        if unit == BUSINESS_DAYS:
            if amount != int(amount) or amount > MAX_BUSINESS_DAYS:
                raise ValueError(
                    f"deadline of {amount:g} business days: write a whole number from 1 to "
                    f"{MAX_BUSINESS_DAYS}, e.g. {_FORMS}"
                )
        elif not 1 <= amount * _UNIT_SECONDS[unit] <= MAX_DURATION_SECONDS:
            raise ValueError(
                f"deadline of {amount:g} {unit}: write at least 1 second and at most "
                f"{MAX_DURATION_SECONDS // 86400} days, e.g. {_FORMS}"
            )

    @classmethod
    def parse(cls, text: str) -> DeadlineRule:
        """``"2 business days"`` -> ``DeadlineRule(2, "business-days")``; ValueError if not."""
        match = _RULE.match(text.lower())
        if match is None:
            raise ValueError(f"deadline {text[:60]!r} is not understood; write {_FORMS}")
        number, unit_text = match.groups()
        unit = _UNITS.get(re.sub(r"\s+", " ", unit_text))
        if unit is None:
            raise ValueError(
                f"deadline unit {unit_text!r} is not known; write {_FORMS} "
                "(units: business days, hours, minutes, seconds)"
            )
        return cls(amount=float(number), unit=unit)

    def __str__(self) -> str:
        """The rule as parse() reads it back: ``"2 business days"``, ``"1 hour"``."""
        word = {BUSINESS_DAYS: "business day", HOURS: "hour", MINUTES: "minute"}.get(
            self.unit, "second"
        )
        return f"{self.amount:g} {word}{'' if self.amount == 1 else 's'}"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    # A directory of the zone database ("Asia") or an odd path raises OSError/ValueError.
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"unknown time zone {name[:80]!r}; use an IANA name such as Asia/Seoul"
        ) from None


def is_business_day(day: date, holidays: frozenset[date] = frozenset()) -> bool:
    return day.weekday() < 5 and day not in holidays


def nth_business_day_after(day: date, n: int, holidays: frozenset[date] = frozenset()) -> date:
    """The ``n``-th business day after ``day`` (``day`` itself never counts)."""
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        if is_business_day(day, holidays):
            counted += 1
    return day


def local_midnight(day: date, tz: ZoneInfo) -> int:
    """Epoch seconds of the first instant of ``day`` in ``tz``.

    Where midnight itself is skipped by a DST change (fold=0 maps it through the offset
    before the change), this is the moment of the change: still the first instant of the day.
    """
    return math.floor(datetime.combine(day, time(0), tzinfo=tz).timestamp())


def deadline(
    routed_at: int, time_zone: str, rule: DeadlineRule, holidays: frozenset[date] = frozenset()
) -> int:
    """The instant (epoch seconds) by which an item routed at ``routed_at`` must be answered.

    Business days: 24:00 local time of the Nth business day after the local date of
    ``routed_at`` in ``time_zone`` (routed on Friday 15:00 with 2 business days: Tuesday
    24:00). Other units: ``routed_at`` plus the duration. ValueError for an unknown zone.
    """
    if rule.unit != BUSINESS_DAYS:
        return routed_at + round(rule.amount * _UNIT_SECONDS[rule.unit])
    tz = _zone(time_zone)
    routed_day = datetime.fromtimestamp(routed_at, tz).date()
    last_day = nth_business_day_after(routed_day, int(rule.amount), holidays)
    return local_midnight(last_day + timedelta(days=1), tz)

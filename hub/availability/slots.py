"""One equipment's free periods: operating hours - busy time, under its booking rules.

Booking rules (all in minutes, 0 or NULL = no rule):

- minimum slot: a booking is at least this long, so the period needed is
  max(asked duration, minimum slot);
- maximum slot: a booking is at most this long; equipment whose maximum is shorter than
  the asked duration cannot serve the request at all;
- lead time: a booking starts no earlier than now + lead time (rounded up to the whole
  minute, so answers show clean times).

Every calendar entry blocks, whatever its kind (booked, tentative, maintenance,
closure). Only equipment whose status is available or limited has free time.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from hub.availability import hours, intervals
from hub.availability.intervals import Interval

USABLE_STATUSES = ("available", "limited")


@dataclass(frozen=True)
class Rules:
    min_slot_minutes: int = 0
    max_slot_minutes: int = 0
    lead_time_minutes: int = 0

    def needed(self, duration: int) -> int | None:
        """Seconds of contiguous free time a booking of ``duration`` seconds needs, or
        None when the maximum slot forbids it."""
        if self.max_slot_minutes and self.max_slot_minutes * 60 < duration:
            return None
        return max(duration, self.min_slot_minutes * 60)

    def earliest_start(self, now: int) -> int:
        t = now + self.lead_time_minutes * 60
        return -(-t // 60) * 60


NO_RULES = Rules()


def rules_of(min_slot: int | None, max_slot: int | None, lead: int | None) -> Rules:
    if not (min_slot or max_slot or lead):
        return NO_RULES
    return Rules(min_slot or 0, max_slot or 0, lead or 0)


@lru_cache(maxsize=1024)
def template(text: str) -> hours.Template:
    """The parsed operating-hours column (cached: equipment share templates)."""
    return hours.parse_template(text)


def free_periods(
    template_: hours.Template,
    zone_name: str,
    busy: list[Interval],
    window: Interval,
    earliest: int,
) -> list[Interval]:
    """Free time in ``window`` from ``earliest`` on: open hours minus ``busy`` (any list)."""
    lo, hi = window
    start = max(lo, earliest)
    if start >= hi:
        return []
    open_ = intervals.clip(hours.open_intervals(template_, zone_name, lo, hi), start, hi)
    return intervals.subtract(open_, intervals.merge(busy)) if busy else open_


def fits(
    template_: hours.Template,
    zone_name: str,
    busy: list[Interval],
    window: Interval,
    now: int,
    rules: Rules,
    duration: int,
    count: int,
) -> list[Interval]:
    """The first ``count`` free periods long enough for ``duration`` seconds under
    ``rules`` (empty when none, or when the rules forbid the duration).

    Same answer as ``first_fits(free_periods(...), needed, count)``, computed lazily.
    """
    needed = rules.needed(duration)
    if needed is None:
        return []
    lo, hi = window
    start = max(lo, rules.earliest_start(now))
    if start >= hi:
        return []
    open_ = hours.open_intervals(template_, zone_name, lo, hi)
    merged = intervals.merge(busy) if busy else []
    return intervals.first_free_fits(open_, merged, needed, count, start)


__all__ = ["NO_RULES", "USABLE_STATUSES", "Rules", "fits", "free_periods", "rules_of", "template"]

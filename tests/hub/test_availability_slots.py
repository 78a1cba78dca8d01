"""One equipment's fits (hours - entries, under booking rules) against a minute grid."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.availability import hours, slots
from tests.hub.test_availability_hours import ANCHORS, ZONES, oracle, templates
from tests.hub.test_availability_intervals import runs


@given(
    templates,
    st.sampled_from(ZONES),
    st.sampled_from(ANCHORS),
    st.integers(-1440, 1440),
    st.integers(60, 2 * 1440),
    # Entries in minutes from the window start: before it, cutting through its edges,
    # overlapping each other, zero-length.
    st.lists(st.tuples(st.integers(-600, 3500), st.integers(0, 900)), max_size=6),
    st.integers(-600, 2000),
    st.tuples(st.integers(0, 300), st.integers(0, 600), st.integers(0, 600)),
    st.integers(1, 400),
    st.integers(1, 4),
)
@settings(max_examples=200, deadline=None)
def test_fits_match_the_minute_grid(
    template: list[list[int]],
    zone: str,
    anchor: int,
    offset: int,
    length: int,
    busy: list[tuple[int, int]],
    now_offset: int,
    rule_values: tuple[int, int, int],
    duration_minutes: int,
    count: int,
) -> None:
    lo = anchor + offset * 60
    hi = lo + length * 60
    now = lo + now_offset * 60 + 17  # not on a minute: lead time rounds up
    rules = slots.Rules(*rule_values)
    if rules.max_slot_minutes and rules.min_slot_minutes > rules.max_slot_minutes:
        rules = slots.Rules(rules.max_slot_minutes, rules.max_slot_minutes, rules.lead_time_minutes)
    entries = [(lo + s * 60, lo + (s + d) * 60) for s, d in busy]
    duration = duration_minutes * 60

    got = slots.fits(
        hours.parse_template(json.dumps(template)), zone, entries, (lo, hi), now, rules,
        duration, count,
    )  # fmt: skip

    open_ = oracle(template, zone, lo, hi) if template else set(range(lo, hi, 60))
    earliest = now + rules.lead_time_minutes * 60
    free = {t // 60 for t in open_ if t >= earliest and not any(a <= t < b for a, b in entries)}
    needed = max(duration_minutes, rules.min_slot_minutes)
    if rules.max_slot_minutes and rules.max_slot_minutes < duration_minutes:
        expected = []
    else:
        expected = [(a * 60, b * 60) for a, b in runs(free) if b - a >= needed][:count]
    assert got == expected


def test_rules() -> None:
    assert slots.Rules(60, 0, 0).needed(1800) == 3600  # min slot lengthens the need
    assert slots.Rules(0, 120, 0).needed(3 * 3600) is None  # max slot forbids it
    assert slots.Rules(0, 0, 90).earliest_start(1000) == 1000 + 90 * 60 + 20  # next minute
    assert slots.rules_of(None, None, None) is slots.NO_RULES

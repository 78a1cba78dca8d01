"""Weekly operating hours (local wall-clock time) -> UTC intervals, DST-correct.

The rule, which the property tests check minute by minute: a UTC instant is within
operating hours iff its local wall-clock time (in the center's zone) falls in the
template for its local ISO weekday. So on a spring-forward day the skipped local hour
simply does not occur, and on a fall-back day a repeated local hour is open twice.

How: the window is split where the zone's UTC offset changes (found by sampling every
:data:`SAMPLE_SECONDS` and bisecting); within a piece the offset is constant, local time
is UTC + offset, and the template's minutes map to UTC by plain subtraction. Expansions
are cached: equipment share a handful of templates, centers a handful of zones.

An equipment without a template is open around the clock (DESIGN.md section 4).
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from hub.availability.intervals import Interval, merge

DAY = 86_400
# Tz database offsets change at most a few times a year and never twice within hours of
# each other in the zones we serve, so sampling twice a day finds every change.
SAMPLE_SECONDS = 12 * 3600

Template = tuple[tuple[Interval, ...], ...]
"""Seven tuples (Monday..Sunday) of normalised (start, end) seconds after local midnight."""


def parse_template(text: str) -> Template:
    """The stored JSON ``[[weekday, start_minute, end_minute], ...]`` -> a Template.

    Invalid items (which the hub refuses on ingest anyway) are ignored rather than
    widening the hours.
    """
    days: list[list[Interval]] = [[] for _ in range(7)]
    for item in json.loads(text):
        weekday, start, end = item
        if 1 <= weekday <= 7 and 0 <= start < end <= 1440:
            days[weekday - 1].append((start * 60, end * 60))
    return tuple(tuple(merge(d)) for d in days)


def is_always_open(template: Template) -> bool:
    return not any(template)


def _offset(zone: ZoneInfo, t: int) -> int:
    delta = datetime.fromtimestamp(t, zone).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


@lru_cache(maxsize=256)
def offset_pieces(zone_name: str, lo: int, hi: int) -> tuple[tuple[int, int, int], ...]:
    """[lo, hi) cut where the UTC offset of ``zone_name`` changes: (start, end, offset)."""
    zone = ZoneInfo(zone_name)
    pieces: list[tuple[int, int, int]] = []
    start, current = lo, _offset(zone, lo)
    probe = lo
    while probe < hi:
        nxt = min(probe + SAMPLE_SECONDS, hi - 1)
        if nxt <= probe:
            break
        off = _offset(zone, nxt)
        if off != current:
            # Bisect (probe, nxt] for the first second with the new offset.
            a, b = probe, nxt
            while b - a > 1:
                mid = (a + b) // 2
                if _offset(zone, mid) == current:
                    a = mid
                else:
                    b = mid
            pieces.append((start, b, current))
            start, current = b, off
        probe = nxt
    pieces.append((start, hi, current))
    return tuple(pieces)


def _expand_piece(template: Template, lo: int, hi: int, offset: int) -> list[Interval]:
    out: list[Interval] = []
    local_lo, local_hi = lo + offset, hi + offset
    day = local_lo // DAY
    while day * DAY < local_hi:
        # Day 0 (1970-01-01) was a Thursday: ISO weekday 4, index 3.
        for start, end in template[(day + 3) % 7]:
            a = max(day * DAY + start, local_lo) - offset
            b = min(day * DAY + end, local_hi) - offset
            if a < b:
                out.append((a, b))
        day += 1
    return out


@lru_cache(maxsize=4096)
def _expand_cached(template: Template, zone_name: str, lo: int, hi: int) -> tuple[Interval, ...]:
    out: list[Interval] = []
    for a, b, offset in offset_pieces(zone_name, lo, hi):
        out += _expand_piece(template, a, b, offset)
    return tuple(merge(out))


def open_intervals(template: Template, zone_name: str, lo: int, hi: int) -> tuple[Interval, ...]:
    """UTC intervals within [lo, hi) when the template is open (normalised; shared from a
    cache, hence a tuple).

    ``zone_name`` must be a valid IANA zone (centers' zones are checked on registration).
    """
    if lo >= hi:
        return ()
    if is_always_open(template):
        return ((lo, hi),)
    return _expand_cached(template, zone_name, lo, hi)


__all__ = ["Template", "is_always_open", "offset_pieces", "open_intervals", "parse_template"]

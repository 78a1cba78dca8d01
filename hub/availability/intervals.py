"""Half-open integer intervals [start, end): the arithmetic under every free-slot answer.

An *interval list* is normalised when it is sorted, every interval is non-empty
(start < end), and no two overlap or touch ([1, 3) and [3, 5) become [1, 5): touching
free time is one contiguous period). :func:`merge` normalises anything; the other
functions take normalised lists and return normalised lists. Zero-length and inverted
intervals are empty and disappear.

Pure functions on ints (epoch seconds in practice); property-tested against a
brute-force grid in tests/hub/test_availability_intervals.py.
"""

from __future__ import annotations

from collections.abc import Iterable

Interval = tuple[int, int]


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Normalise: sort, drop empty intervals, join overlapping and touching ones."""
    out: list[Interval] = []
    for start, end in sorted(intervals):
        if start >= end:
            continue
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def clip(intervals: Iterable[Interval], lo: int, hi: int) -> list[Interval]:
    """The parts of ``intervals`` inside [lo, hi) (order kept, empties dropped)."""
    out: list[Interval] = []
    for start, end in intervals:
        start, end = max(start, lo), min(end, hi)
        if start < end:
            out.append((start, end))
    return out


def intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    """Time in both ``a`` and ``b`` (both normalised)."""
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start = max(a[i][0], b[j][0])
        end = min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        # Advance whichever ends first; the other may still overlap the next one.
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(a: list[Interval], b: list[Interval]) -> list[Interval]:
    """Time in ``a`` but not in ``b`` (both normalised)."""
    if not b:
        return list(a)
    out: list[Interval] = []
    j = 0
    for start, end in a:
        # Skip busy intervals that end before this one starts; they cannot matter again
        # because ``a`` is sorted.
        while j < len(b) and b[j][1] <= start:
            j += 1
        k = j
        cursor = start
        while k < len(b) and b[k][0] < end:
            if b[k][0] > cursor:
                out.append((cursor, b[k][0]))
            cursor = max(cursor, b[k][1])
            if cursor >= end:
                break
            k += 1
        if cursor < end:
            out.append((cursor, end))
    return out


def complement(intervals: list[Interval], lo: int, hi: int) -> list[Interval]:
    """[lo, hi) minus ``intervals`` (normalised)."""
    return subtract([(lo, hi)] if lo < hi else [], intervals)


def first_fits(intervals: Iterable[Interval], duration: int, count: int) -> list[Interval]:
    """The first ``count`` intervals at least ``duration`` long (``duration`` > 0)."""
    if duration <= 0:
        raise ValueError(f"duration must be positive (got {duration})")
    out: list[Interval] = []
    if count <= 0:
        return out
    for start, end in intervals:
        if end - start >= duration:
            out.append((start, end))
            if len(out) == count:
                break
    return out


def first_free_fits(
    open_: Iterable[Interval],
    busy: list[Interval],
    duration: int,
    count: int,
    start: int | None = None,
) -> list[Interval]:
    """``first_fits(subtract(clip(open_, start, ...), busy), duration, count)``, fused.

    Stops at the ``count``-th fit instead of computing the whole free list: ranking needs
    only the earliest fit of each of hundreds of candidates, and it is usually in the first
    open interval. ``open_`` and ``busy`` are normalised; ``start`` clips from below.
    """
    if duration <= 0:
        raise ValueError(f"duration must be positive (got {duration})")
    out: list[Interval] = []
    if count <= 0:
        return out
    j = 0
    n = len(busy)
    for a, b in open_:
        if start is not None:
            if b <= start:
                continue
            if a < start:
                a = start
        if b - a < duration:
            continue
        while j < n and busy[j][1] <= a:
            j += 1
        k = j
        cursor = a
        while k < n and busy[k][0] < b:
            if busy[k][0] - cursor >= duration:
                out.append((cursor, busy[k][0]))
                if len(out) == count:
                    return out
            if busy[k][1] > cursor:
                cursor = busy[k][1]
            if cursor >= b:
                break
            k += 1
        if b - cursor >= duration:
            out.append((cursor, b))
            if len(out) == count:
                return out
    return out


__all__ = [
    "Interval",
    "clip",
    "complement",
    "first_fits",
    "first_free_fits",
    "intersect",
    "merge",
    "subtract",
]

"""Interval arithmetic against a brute-force oracle: sets of integer points on a grid."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.availability import intervals as iv

GRID = 60
Interval = tuple[int, int]

# Zero-length and inverted intervals are allowed on purpose: they must vanish.
raw_interval = st.tuples(st.integers(0, GRID), st.integers(0, GRID))
raw_list = st.lists(raw_interval, max_size=8)


def points(intervals: list[Interval]) -> set[int]:
    return {t for a, b in intervals for t in range(a, b)}


def runs(pts: set[int]) -> list[Interval]:
    """Maximal runs of consecutive points: the normal form of a point set."""
    out: list[Interval] = []
    for t in sorted(pts):
        if out and out[-1][1] == t:
            out[-1] = (out[-1][0], t + 1)
        else:
            out.append((t, t + 1))
    return out


def normalised(intervals: list[Interval]) -> bool:
    return all(a < b for a, b in intervals) and all(
        intervals[i][1] < intervals[i + 1][0] for i in range(len(intervals) - 1)
    )


@given(raw_list)
def test_merge_is_the_runs_of_the_union(a: list[Interval]) -> None:
    merged = iv.merge(a)
    assert normalised(merged)
    assert merged == runs(points(a))


@given(raw_list, raw_list)
def test_subtract_intersect_complement(a: list[Interval], b: list[Interval]) -> None:
    ma, mb = iv.merge(a), iv.merge(b)
    assert iv.subtract(ma, mb) == runs(points(a) - points(b))
    assert iv.intersect(ma, mb) == runs(points(a) & points(b))
    assert iv.complement(mb, 10, 50) == runs(set(range(10, 50)) - points(b))


@given(raw_list, st.integers(0, GRID), st.integers(0, GRID))
def test_clip(a: list[Interval], lo: int, hi: int) -> None:
    assert iv.clip(iv.merge(a), lo, hi) == runs(points(a) & set(range(lo, hi)))


@given(raw_list, raw_list, st.integers(1, 20), st.integers(0, 4), st.integers(0, GRID))
@settings(max_examples=300)
def test_first_free_fits_equals_the_slow_pipeline(
    a: list[Interval], b: list[Interval], duration: int, count: int, start: int
) -> None:
    free = runs((points(a) - points(b)) & set(range(start, GRID + 1)))
    expected = [r for r in free if r[1] - r[0] >= duration][:count]
    assert iv.first_fits(free, duration, count) == expected
    assert iv.first_free_fits(iv.merge(a), iv.merge(b), duration, count, start) == expected


def test_touching_intervals_are_one_period() -> None:
    assert iv.merge([(3, 5), (1, 3), (7, 7)]) == [(1, 5)]
    assert iv.first_fits([(1, 5)], 4, 1) == [(1, 5)]

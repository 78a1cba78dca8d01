"""What the availability engine answers. Times are epoch seconds (UTC); the answer's
``time_zone`` is the zone callers should render them in (:mod:`hub.availability.render`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class Slot:
    """One free period [start, end) at least the asked duration long.

    ``unconfirmed`` is set when the center's data is stale: the period was free when the
    center last reported, and may not be any more. Never show it as plainly free.
    """

    start: int
    end: int
    unconfirmed: bool = False


@dataclass(frozen=True)
class CenterFreshness:
    """The center holding a result, with how fresh the hub's copy of its data is."""

    id: str
    name_ko: str
    name_en: str
    industry: str
    region: str
    time_zone: str
    last_seen: int | None
    """When its agent last said anything; None if never."""
    last_sync: int | None
    """When its last batch of changes committed; None if never."""
    stale: bool
    """Silent for longer than the hub's ``[sync] stale_after_seconds`` (or never seen)."""


@dataclass(frozen=True)
class SearchResult:
    """One piece of equipment with its earliest free periods in the window."""

    center: CenterFreshness
    equipment_id: str
    name_ko: str
    name_en: str
    category: str
    capabilities: tuple[str, ...]
    status: str
    """``available`` or ``limited`` (other statuses are never results)."""
    stages: tuple[str, ...]
    services: tuple[str, ...]
    slots: tuple[Slot, ...]
    """Earliest first; at least one."""

    @property
    def stale(self) -> bool:
        return self.center.stale

    @property
    def first_fit(self) -> int:
        """Start of the earliest free period: the ranking key."""
        return self.slots[0].start


class ReasonCode(StrEnum):
    """Why an answer has no confirmed free slot."""

    NO_MATCH = "NO_MATCH"
    """No equipment matches the filters at all."""
    NONE_FREE = "NONE_FREE"
    """Equipment matches, but none is free (and usable) for the duration in the window."""
    ONLY_STALE = "ONLY_STALE"
    """What matches (or what is free) is only at centers whose data is stale."""


@dataclass(frozen=True)
class Reason:
    code: ReasonCode
    message: str
    """A sentence for people, saying what to try next."""
    earliest_free: int | None = None
    """NONE_FREE: the earliest start of a fit after the window, within the look-ahead
    (:data:`hub.availability.search.LOOKAHEAD_DAYS`); None when there is none."""


@dataclass(frozen=True)
class SearchAnswer:
    results: tuple[SearchResult, ...]
    """Fresh centers first, then stale; each group by earliest fit, then center and id."""
    reasons: tuple[Reason, ...]
    """Empty when a result from a fresh center is free; else why not (see ReasonCode)."""
    generated_at: int
    """The ``now`` the answer was computed for."""
    time_zone: str
    """The query's zone, for rendering."""
    matched: int
    """Equipment matching the filters (any status)."""
    total: int | None
    """Equipment with a fit in the window (fresh and stale), or None when the engine
    stopped as soon as the page was certain (then ``next_offset`` is set: more may follow)."""
    next_offset: int | None
    """Offset of the next page; None on the last page."""


class BusyKind(StrEnum):
    """RFC 5545 FBTYPE values, for VFREEBUSY."""

    BUSY = "BUSY"
    """Booked."""
    BUSY_TENTATIVE = "BUSY-TENTATIVE"
    """Tentatively booked."""
    BUSY_UNAVAILABLE = "BUSY-UNAVAILABLE"
    """Closed, in maintenance, outside operating hours, or the equipment is not usable."""


@dataclass(frozen=True)
class BusyPeriod:
    start: int
    end: int
    kind: BusyKind


@dataclass(frozen=True)
class EquipmentFreeBusy:
    equipment_id: str
    name_ko: str
    name_en: str
    status: str
    busy: tuple[BusyPeriod, ...]
    """Disjoint, by start, clipped to the window. Where kinds overlap the stronger wins:
    BUSY-UNAVAILABLE over BUSY over BUSY-TENTATIVE."""


@dataclass(frozen=True)
class FreeBusy:
    center: CenterFreshness
    window_from: int
    window_to: int
    equipment: tuple[EquipmentFreeBusy, ...]
    """By equipment id."""

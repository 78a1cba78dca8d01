"""Free slots across the country: "which equipment of this kind is free for N hours?"

::

    from hub.availability import SearchQuery, search, free_busy, parse_instant

    query = SearchQuery(
        window_from=parse_instant("2026-12-01T09:00", "from"),   # local to time_zone
        window_to=parse_instant("2026-12-08T18:00", "to"),
        hours=4,
        category="battery-cycler",
        capabilities=("pouch",),
        time_zone="Asia/Seoul",
    )                                   # raises QueryError (a ValueError) when invalid
    answer = search(store, query, now=int(time.time()), stale_after=cfg.sync.stale_after_seconds)
    answer.results[0].slots[0].start    # epoch seconds; render with render.answer_json()
    answer.reasons                      # why there is no confirmed free slot (empty if there is)

    fb = free_busy(store, "KR-MR-0001", None, (start, end), now=..., stale_after=...)
    fb.equipment[0].busy                # BusyPeriod(start, end, BusyKind) for VFREEBUSY

Free time = operating hours (weekly template in the center's zone, DST-correct; none =
around the clock) - calendar entries (booked, tentative, maintenance, closure all block),
within the window and not before ``now`` + lead time, in periods of at least
max(hours, min slot) and only on equipment whose status is available or limited and whose
max slot allows the duration. Data of stale centers is returned flagged (``stale``,
slots ``unconfirmed``) and ranked after fresh data.

Both functions are blocking (run them on a worker thread under asyncio) and accept a
:class:`hub.store.Store` or its SQLAlchemy ``Engine``. Errors: :class:`QueryError`
subclasses for bad input (see :mod:`hub.availability.errors`), :class:`NotFound` for an
unknown center/equipment in free_busy, :class:`hub.errors.StoreError` when the database
fails.

Modules: ``intervals`` (pure interval arithmetic), ``hours`` (weekly template -> UTC
intervals), ``slots`` (one equipment's free periods), ``query`` (SearchQuery and its
validation), ``candidates`` (the SQL), ``search``, ``freebusy``, ``model`` (the answer
types), ``render`` (JSON and text).
"""

from __future__ import annotations

from hub.availability.errors import (
    InvalidDuration,
    InvalidFilter,
    InvalidWindow,
    NotFound,
    QueryError,
    UnknownCode,
)
from hub.availability.freebusy import free_busy
from hub.availability.model import (
    BusyKind,
    BusyPeriod,
    CenterFreshness,
    EquipmentFreeBusy,
    FreeBusy,
    Reason,
    ReasonCode,
    SearchAnswer,
    SearchResult,
    Slot,
)
from hub.availability.query import (
    DEFAULT_TIME_ZONE,
    MAX_CAPABILITIES,
    MAX_LIMIT,
    MAX_TEXT_LENGTH,
    MAX_WINDOW_DAYS,
    SearchQuery,
    parse_instant,
)
from hub.availability.search import LOOKAHEAD_DAYS, search

__all__ = [
    "DEFAULT_TIME_ZONE",
    "LOOKAHEAD_DAYS",
    "MAX_CAPABILITIES",
    "MAX_LIMIT",
    "MAX_TEXT_LENGTH",
    "MAX_WINDOW_DAYS",
    "BusyKind",
    "BusyPeriod",
    "CenterFreshness",
    "EquipmentFreeBusy",
    "FreeBusy",
    "InvalidDuration",
    "InvalidFilter",
    "InvalidWindow",
    "NotFound",
    "QueryError",
    "Reason",
    "ReasonCode",
    "SearchAnswer",
    "SearchQuery",
    "SearchResult",
    "Slot",
    "UnknownCode",
    "free_busy",
    "parse_instant",
    "search",
]

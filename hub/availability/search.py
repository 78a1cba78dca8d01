"""search(): filters in SQL, free periods in Python for as few candidates as ranking needs.

Ranking: results from fresh centers first, then stale ones (flagged, slots unconfirmed);
within each group by the start of the earliest fit, then center and equipment id, so
pages are stable.

Why it can stop early: calendar entries only ever remove free time, so an equipment's
first fit *without* its entries is a lower bound of its real first fit. That bound
depends only on (operating hours, zone, booking rules), which candidates share, so it
is computed once per combination. The walk visits candidates in bound order, reads the
entries of a chunk of them, computes their real first fits, and stops as soon as the
``offset + limit`` best fits found so far all rank before the next candidate's bound:
nothing unvisited can overtake them. A category search usually stops after the first
chunk; free text matching thousands of equipment reads entries of a few hundred.

An answer with no confirmed (fresh) result says why in ``reasons``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine

from hub.availability import candidates as sql
from hub.availability import slots
from hub.availability.candidates import Candidate
from hub.availability.model import (
    CenterFreshness,
    Reason,
    ReasonCode,
    SearchAnswer,
    SearchResult,
    Slot,
)
from hub.availability.query import SearchQuery
from hub.store import Store
from hub.store.engine import read_tx
from hub.store.view import is_stale

LOOKAHEAD_DAYS = 30
"""How far past the window NONE_FREE looks for the earliest free time."""
FIRST_CHUNK = 64
"""Candidates whose entries the walk reads first; each further chunk is twice as big."""

Window = tuple[int, int]


def engine_of(store: Store | Engine) -> Engine:
    return store.engine if isinstance(store, Store) else store


@dataclass(frozen=True, slots=True)
class Fit:
    stale: bool
    start: int
    """Start of the first fit."""
    candidate: Candidate
    busy: list[tuple[int, int]]
    """The candidate's entries in the window (to list its further slots)."""

    @property
    def key(self) -> tuple[bool, int, str, str]:
        return (self.stale, self.start, self.candidate.center_id, self.candidate.equipment_id)


def search(store: Store | Engine, query: SearchQuery, now: int, stale_after: int) -> SearchAnswer:
    """Equipment free for ``query.hours`` in the window, earliest fit first (fresh before
    stale). ``now`` bounds slots (none starts before now + lead time) and decides
    staleness with ``stale_after`` (the hub's ``[sync] stale_after_seconds``)."""
    if stale_after < 0:
        raise ValueError(f"stale_after must not be negative (got {stale_after})")
    engine = engine_of(store)
    window = (query.window_from, query.window_to)
    end = query.offset + query.limit
    with read_tx(engine) as conn:
        found = sql.candidates(conn, query, engine.dialect.name)
        fits, complete = walk(conn, found, window, query, now, stale_after, need=end)
        page = fits[query.offset : end]
        rows = sql.details(conn, [(f.candidate.center_id, f.candidate.equipment_id) for f in page])
        fresh_found = bool(fits) and not fits[0].stale
        reasons = () if fresh_found else _reasons(conn, query, found, fits, now, stale_after)
    results = tuple(
        _result(
            rows[(f.candidate.center_id, f.candidate.equipment_id)],
            f.stale,
            _fits(f.candidate, window, query, now, query.slots_per_result, f.busy),
        )
        for f in page
    )
    if complete:
        total: int | None = len(fits)
        next_offset = end if len(fits) > end else None
    else:
        total, next_offset = None, end
    return SearchAnswer(
        results=results,
        reasons=reasons,
        generated_at=now,
        time_zone=query.time_zone,
        matched=len(found),
        total=total,
        next_offset=next_offset,
    )


def _rules(c: Candidate) -> slots.Rules:
    return slots.rules_of(c.min_slot_minutes, c.max_slot_minutes, c.lead_time_minutes)


def _fits(
    c: Candidate,
    window: Window,
    query: SearchQuery,
    now: int,
    count: int,
    busy: list[tuple[int, int]],
) -> list[tuple[int, int]]:
    return slots.fits(
        slots.template(c.operating_hours),
        c.time_zone,
        busy,
        window,
        now,
        _rules(c),
        query.duration_seconds,
        count,
    )


def walk(
    conn: Connection,
    found: list[Candidate],
    window: Window,
    query: SearchQuery,
    now: int,
    stale_after: int,
    need: int | None,
) -> tuple[list[Fit], bool]:
    """Usable candidates with a fit in ``window``, ranked.

    With ``need``, stops once the first ``need`` are certain; returns (fits, complete):
    when not complete, only the first ``need`` fits are final.
    """
    shared: dict[tuple[Any, ...], int | None] = {}
    stale_of: dict[str, bool] = {}
    bounds: list[tuple[bool, int, str, str, Candidate]] = []
    usable = slots.USABLE_STATUSES
    for c in found:
        if c.status not in usable:
            continue
        # Fields 3..7: operating hours, rules, zone.
        key = c[3:8]
        if key in shared:
            bound = shared[key]
        else:
            fit = _fits(c, window, query, now, 1, [])
            bound = shared[key] = fit[0][0] if fit else None
        if bound is not None:
            stale = stale_of.get(c.center_id)
            if stale is None:
                stale = stale_of[c.center_id] = is_stale(c.last_seen, now, stale_after)
            bounds.append((stale, bound, c.center_id, c.equipment_id, c))
    bounds.sort(key=lambda b: b[:4])
    fits: list[Fit] = []
    chunk, i = FIRST_CHUNK if need is None else max(FIRST_CHUNK, 2 * need), 0
    while i < len(bounds):
        batch = bounds[i : i + chunk]
        i += len(batch)
        busy = sql.busy(conn, [b[4] for b in batch], *window)
        for stale, bound, center_id, equipment_id, c in batch:
            entries = busy.get((center_id, equipment_id))
            if entries:
                fit = _fits(c, window, query, now, 1, entries)
                if fit:
                    fits.append(Fit(stale, fit[0][0], c, entries))
            else:
                fits.append(Fit(stale, bound, c, []))
        fits.sort(key=lambda f: f.key)
        if (
            need is not None
            and i < len(bounds)
            and len(fits) >= need
            and fits[need - 1].key < bounds[i][:4]
        ):
            return fits, False
        chunk *= 2
    return fits, True


def _json_list(text: str) -> tuple[str, ...]:
    return tuple(str(v) for v in json.loads(text))


def _result(r: Any, stale: bool, fits: list[tuple[int, int]]) -> SearchResult:
    center = CenterFreshness(
        id=r.center_id,
        name_ko=r.center_name_ko,
        name_en=r.center_name_en,
        industry=r.industry,
        region=r.region,
        time_zone=r.time_zone,
        last_seen=r.last_seen,
        last_sync=r.last_sync,
        stale=stale,
    )
    return SearchResult(
        center=center,
        equipment_id=r.id,
        name_ko=r.name_ko,
        name_en=r.name_en,
        category=r.category,
        capabilities=_json_list(r.capabilities),
        status=r.status,
        stages=_json_list(r.stages),
        services=_json_list(r.services),
        slots=tuple(Slot(a, b, unconfirmed=stale) for a, b in fits),
    )


def _local(t: int, query: SearchQuery) -> str:
    return datetime.fromtimestamp(t, ZoneInfo(query.time_zone)).strftime("%Y-%m-%d %H:%M %Z")


def _reasons(
    conn: Connection,
    query: SearchQuery,
    found: list[Candidate],
    fits: list[Fit],
    now: int,
    stale_after: int,
) -> tuple[Reason, ...]:
    """Why there is no fresh result (``fits`` holds stale ones only, if any)."""
    if not found:
        return (
            Reason(
                ReasonCode.NO_MATCH,
                "no equipment matches these filters; drop or widen a filter "
                "(category, capabilities, region, stage, service, text)",
            ),
        )
    fresh = [c for c in found if not is_stale(c.last_seen, now, stale_after)]
    reasons: list[Reason] = []
    if fresh or not fits:
        reasons.append(_none_free(conn, query, fresh or found, now, stale_after))
    if fits or not fresh:
        if fits:
            centers = len({f.candidate.center_id for f in fits})
            text = (
                f"free time was found only at {centers} center(s) whose data is stale (their "
                "agent has been silent): the slots are unconfirmed; ask the center before "
                "relying on them"
            )
        else:
            centers = len({c.center_id for c in found})
            text = (
                f"all matching equipment is at {centers} center(s) whose data is stale (their "
                "agent has been silent); the hub cannot confirm any free time"
            )
        reasons.append(Reason(ReasonCode.ONLY_STALE, text))
    return tuple(reasons)


def _none_free(
    conn: Connection, query: SearchQuery, pool: list[Candidate], now: int, stale_after: int
) -> Reason:
    usable = [c for c in pool if c.status in slots.USABLE_STATUSES]
    duration = query.duration_seconds
    bookable = [c for c in usable if _rules(c).needed(duration) is not None]
    parts = [f"{len(pool)} equipment match"]
    if len(usable) < len(pool):
        parts.append(
            f"{len(pool) - len(usable)} of them are in maintenance, out of service or retired"
        )
    if len(bookable) < len(usable):
        parts.append(
            f"{len(usable) - len(bookable)} do not take bookings of {query.hours:g} h "
            "(maximum slot)"
        )
    window = f"{_local(query.window_from, query)} and {_local(query.window_to, query)}"
    text = "; ".join(parts) + f"; none is free for {query.hours:g} h between {window}"
    # The earliest fit in [from, to + look-ahead): it necessarily ends after the window.
    longer = (query.window_from, query.window_to + LOOKAHEAD_DAYS * 86400)
    later, _ = walk(conn, bookable, longer, query, now, stale_after, need=1)
    earliest = min((f.start for f in later), default=None)
    if earliest is not None:
        text += f"; the earliest fit starts {_local(earliest, query)}: try a later window"
    else:
        text += f" or in the {LOOKAHEAD_DAYS} days after it; try fewer hours or other filters"
    return Reason(ReasonCode.NONE_FREE, text, earliest)

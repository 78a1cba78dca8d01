"""Which equipment should serve each need: candidates, ranked, with why.

For each need the free-slot search (:func:`hub.availability.search.search`) finds the
equipment matching the need's hard criteria (category, capabilities, service) with free
blocks in the window; a need's ``hours`` are total equipment time, done in blocks of at
least :data:`BLOCK_HOURS`, so an equipment qualifies when its blocks add up to them. The
planner then scores every result and keeps the best ``max_candidates``. The R&D stage
is a soft criterion (an equipment that does not list the
stage may still do the job), so it lowers ``fit`` instead of filtering.

Ranking: fresh centers before stale ones (a stale center's slots are unconfirmed: its
agent has been silent, so an item routed there may sit unanswered until its deadline),
then by score, then by center id and equipment id, so the same data always gives the same
plan. A need with no candidate gets ``unserved_reason``: why, and what the company can
change.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass

from sqlalchemy import Connection, select

from hub.availability import candidates as sql
from hub.availability.errors import QueryError
from hub.availability.model import Reason, ReasonCode
from hub.availability.query import MAX_LIMIT, MAX_SLOTS, SearchQuery
from hub.availability.search import search, walk
from hub.routing.model import Candidate, Coordinator, Need, Plan, PlannedNeed, ValidRequest
from hub.store import Store
from hub.store import routing_read as read
from hub.store.engine import read_tx
from hub.store.schema import centers
from hub.store.view import is_stale

# The score is the sum of four parts, each a weight times a 0..1 measure. Fit weighs most:
# equipment that does not serve the need's stage, or is only of limited use, costs the
# company a failed job. Earliness is next: a company asking for equipment time usually
# needs it soon (the window says how soon). Load spreads requests so one popular center
# does not receive every item while others idle; it matters more than region, which is a
# preference the company stated but rarely a requirement (equipment time is booked, not
# commuted to daily).
FIT_WEIGHT = 0.35
EARLINESS_WEIGHT = 0.30
REGION_WEIGHT = 0.15
LOAD_WEIGHT = 0.20

STAGE_NOT_LISTED = 0.4
"""Fit lost when the equipment does not list the need's stage: plausible, not proven."""
LIMITED_STATUS = 0.3
"""Fit lost when the equipment's status is ``limited`` (usable with restrictions)."""

BLOCK_HOURS = 4.0
"""Longest block one need must find in one piece. A need is total equipment time: 40 h on
a pilot coater open 09:00-18:00 is booked as several days, so the search looks for free
blocks of at least this long (or the whole need when it is shorter) and the planner adds
them up. Shorter free gaps do not count: half an hour between bookings is not usable
time for R&D work."""

SEARCH_PAGES = 5
"""Result pages (of MAX_LIMIT) read per need at most, when excluded centers fill them."""

Exclusions = Mapping[int, frozenset[str]]


@dataclass(frozen=True)
class _Found:
    """One equipment with its earliest fit, from a search result or a details row."""

    center_id: str
    center_name: str
    equipment_id: str
    equipment_name: str
    region: str
    time_zone: str
    status: str
    stages: tuple[str, ...]
    slot: tuple[int, int] | None
    stale: bool
    done_at: int | None = None
    """When the need's hours, added up over free blocks, are complete (ranks earliness)."""


def plan(
    store: Store,
    request: ValidRequest,
    now: int,
    stale_after: int,
    max_candidates: int,
    exclude: Exclusions | None = None,
) -> Plan:
    """The plan of ``request``: per need its candidates (best first) or why none."""
    exclude = exclude or {}
    needs = tuple(
        plan_need(store, i, need, now, stale_after, max_candidates, exclude.get(i, frozenset()))
        for i, need in enumerate(request.needs)
    )
    with read_tx(store.engine) as conn:
        coordinator = coordinator_for(conn, request.industry)
    return Plan(needs=needs, coordinator=coordinator, generated_at=now)


def coordinator_for(conn: Connection, industry: str) -> Coordinator | None:
    """The industry's representative institution (the lowest id if several are)."""
    c = centers.c
    row = conn.execute(
        select(c.id, c.name_ko, c.name_en)
        .where(c.industry == industry, c.role == "representative")
        .order_by(c.id)
        .limit(1)
    ).first()
    if row is None:
        return None
    return Coordinator(center_id=row.id, name=row.name_ko or row.name_en, industry=industry)


def _query(need: Need, now: int, offset: int = 0) -> SearchQuery:
    """Raises QueryError when the window cannot hold the hours any more."""
    return SearchQuery(
        window_from=max(need.earliest, now),
        window_to=need.latest,
        hours=min(need.hours, BLOCK_HOURS),
        category=need.category,
        capabilities=need.capabilities,
        service=need.service,
        limit=MAX_LIMIT,
        offset=offset,
        slots_per_result=MAX_SLOTS,
    )


def completion(periods: Sequence[tuple[int, int]], seconds: int) -> int | None:
    """When ``seconds`` of work, done in the free ``periods`` in order, is complete; None
    if they do not add up to it."""
    left = seconds
    for start, end in periods:
        if end - start >= left:
            return start + left
        left -= end - start
    return None


def plan_need(
    store: Store,
    index: int,
    need: Need,
    now: int,
    stale_after: int,
    max_candidates: int,
    exclude: frozenset[str] = frozenset(),
) -> PlannedNeed:
    """Candidates for one need, skipping the centers in ``exclude`` (already tried)."""
    try:
        query = _query(need, now)
    except QueryError as exc:
        return PlannedNeed(index, need, (), _window_gone(need, now, exc))
    found: list[_Found] = []
    reasons: tuple[Reason, ...] = ()
    skipped: set[str] = set()
    short: set[str] = set()
    wanted = round(need.hours * 3600)
    for page in range(SEARCH_PAGES):
        answer = search(
            store, dataclasses.replace(query, offset=page * MAX_LIMIT), now, stale_after
        )
        if page == 0:
            reasons = answer.reasons
        for r in answer.results:
            if r.center.id in exclude:
                skipped.add(r.center.id)
                continue
            periods = [(p.start, p.end) for p in r.slots]
            done_at = completion(periods, wanted)
            if done_at is None and len(periods) < MAX_SLOTS:
                short.add(r.center.id)  # every free block listed, and still too little
                continue
            # More blocks than listed may be needed: the last listed end bounds it.
            done = done_at if done_at is not None else periods[-1][1]
            found.append(
                _Found(
                    center_id=r.center.id,
                    center_name=r.center.name_ko or r.center.name_en,
                    equipment_id=r.equipment_id,
                    equipment_name=r.name_ko or r.name_en,
                    region=r.center.region,
                    time_zone=r.center.time_zone,
                    status=r.status,
                    stages=r.stages,
                    # From the first free block to when the hours are done: the span of
                    # the work, which a center accepting without times agrees to.
                    slot=(periods[0][0], done),
                    stale=r.stale,
                    done_at=done,
                )
            )
        if answer.next_offset is None or len(found) >= MAX_LIMIT:
            break
    if not found:
        return PlannedNeed(index, need, (), _unserved(need, reasons, skipped, short))
    ranked = rank(store, need, query.window_from, found)
    return PlannedNeed(index, need, tuple(ranked[:max_candidates]))


def rank(store: Store, need: Need, window_from: int, found: Sequence[_Found]) -> list[Candidate]:
    with read_tx(store.engine) as conn:
        load = read.open_counts(conn, (f.center_id for f in found))
    scored = [score(need, window_from, f, load.get(f.center_id, 0)) for f in found]
    scored.sort(key=lambda c: (c.stale, -c.score, c.center_id, c.equipment_id))
    return scored


def score(need: Need, window_from: int, f: _Found, open_items: int) -> Candidate:
    raw_fit = 1.0
    if need.stage not in f.stages:
        raw_fit -= STAGE_NOT_LISTED
    if f.status == "limited":
        raw_fit -= LIMITED_STATUS
    span = need.latest - window_from
    done = f.done_at if f.done_at is not None else (f.slot[1] if f.slot else None)
    if done is None or span <= 0:
        earliness = 0.0
    else:
        earliness = min(1.0, max(0.0, 1.0 - (done - window_from) / span))
    # No preference: every center matches it equally.
    region = 1.0 if not need.region or f.region == need.region else 0.0
    load = 1.0 / (1.0 + open_items)
    parts = (
        round(FIT_WEIGHT * raw_fit, 4),
        round(EARLINESS_WEIGHT * earliness, 4),
        round(REGION_WEIGHT * region, 4),
        round(LOAD_WEIGHT * load, 4),
    )
    slot = f.slot or (0, 0)
    return Candidate(
        center_id=f.center_id,
        center_name=f.center_name,
        equipment_id=f.equipment_id,
        equipment_name=f.equipment_name,
        region=f.region,
        time_zone=f.time_zone,
        slot_start=slot[0],
        slot_end=slot[1],
        score=round(sum(parts), 4),
        fit=parts[0],
        earliness=parts[1],
        region_match=parts[2],
        load=parts[3],
        open_items=open_items,
        stale=f.stale,
    )


def candidate_at(
    store: Store, need: Need, center_id: str, equipment_id: str, now: int, stale_after: int
) -> Candidate | None:
    """The named equipment as a candidate for ``need`` (operator reassignment).

    None when it does not exist or does not match the need's category, capabilities and
    service. An equipment with no free fit in the window is still returned (the operator
    may know better than the calendar), with slot (0, 0): no slot suggested.
    """
    try:
        query = _query(need, now)
    except QueryError:
        # The window has (nearly) passed: match the need's criteria over a nominal day.
        query = _query(dataclasses.replace(need, earliest=now, latest=now + 86400, hours=1), now)
    engine = store.engine
    with read_tx(engine) as conn:
        matches = [
            c
            for c in sql.candidates(conn, query, engine.dialect.name)
            if c.center_id == center_id and c.equipment_id == equipment_id
        ]
        if not matches:
            return None
        window = (query.window_from, query.window_to)
        fits, _ = walk(conn, matches, window, query, now, stale_after, need=1)
        row = sql.details(conn, [(center_id, equipment_id)])[(center_id, equipment_id)]
        load = read.open_counts(conn, [center_id]).get(center_id, 0)
    stale = fits[0].stale if fits else is_stale(row.last_seen, now, stale_after)
    f = _Found(
        center_id=center_id,
        center_name=row.center_name_ko or row.center_name_en,
        equipment_id=equipment_id,
        equipment_name=row.name_ko or row.name_en,
        region=row.region,
        time_zone=row.time_zone,
        status=row.status,
        stages=read.strings(row.stages),
        slot=(fits[0].start, fits[0].start + query.duration_seconds) if fits else None,
        stale=stale,
    )
    return score(need, query.window_from, f, load)


# -- why a need has no candidate ---------------------------------------------------------


def describe(need: Need) -> str:
    """The need as the company named it: ``category 'x' with capabilities a, b``."""
    parts = []
    if need.category:
        parts.append(f"category {need.category!r}")
    if need.capabilities:
        parts.append(f"capabilities {', '.join(need.capabilities)}")
    text = " with ".join(parts) or "equipment"
    if need.service:
        text += f" for {need.service}"
    return f"{text} ({need.stage}, {need.hours:g} h)"


def _window_gone(need: Need, now: int, exc: QueryError) -> str:
    if need.latest <= now:
        return (
            f"the window of {describe(need)} has ended; submit the need again with a "
            "window in the future"
        )
    return (
        f"{describe(need)}: {exc}; the time left in the window is too short now: widen "
        "the window (a later 'latest') or ask for fewer hours"
    )


def _unserved(
    need: Need, reasons: Iterable[Reason], skipped: set[str], short: Set[str] = frozenset()
) -> str:
    what = describe(need)
    if short and not skipped:
        return (
            f"{what}: the equipment that matches ({', '.join(sorted(short))}) has less than "
            f"{need.hours:g} h free in the window (counting blocks of at least "
            f"{min(need.hours, BLOCK_HOURS):g} h); widen the window or split the work"
        )
    if skipped:
        tried = ", ".join(sorted(skipped))
        return (
            f"every center with {what} free in the window was already tried ({tried}); "
            "widen the window or ask for fewer hours to reach other equipment, or ask the "
            "coordinating center for help"
        )
    texts = []
    for r in reasons:
        if r.code is ReasonCode.NO_MATCH:
            texts.append(
                f"no equipment on the platform offers {what}; change the category or "
                "capabilities, or ask the coordinating center for a provider outside it"
            )
        elif r.code is ReasonCode.NONE_FREE:
            texts.append(
                f"{what}: {r.message}; widen the window (a later 'latest') or ask for fewer hours"
            )
        else:
            texts.append(f"{what}: {r.message}")
    return " / ".join(texts) or f"no equipment offers {what} in the window"

"""Requests: the blocking operations of one-stop routing, for the CLI and the server.

Each operation that changes anything is one write transaction: a request is stored with
its needs, items, events and deliveries together or not at all; an answer, a cancel, a
reassignment or an expiry commits with its re-route. Searches (planning) run before the
transaction, so the write lock is held only for writes; the conditional item updates of
:mod:`hub.store.routing` catch whatever changed in between (another hub process, the CLI).

Methods that route return the centers that got new deliveries: the caller wakes their
delivery pumps (:class:`hub.routing.router.Router` does). Errors: RequestInvalid (field
errors), RequestNotFound, RoutingConflict, DeliveryAhead (:mod:`hub.routing.errors`),
ValueError for bad arguments, StoreError when the database fails.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import exc as sa_exc

from hub.config_routing import RoutingSettings
from hub.routing import answers, changes, planner
from hub.routing import transitions as tr
from hub.routing.errors import RequestNotFound
from hub.routing.guide import StageGuide
from hub.routing.model import (
    ITEM_STATES,
    REQUEST_IN_PROGRESS,
    REQUEST_STATES,
    SIGNAL_DECLINED_NO_CAPACITY,
    SIGNAL_SEARCH_NONE_FREE,
    SIGNAL_UNSERVED,
    Answer,
    AnswerResult,
    DemandSignal,
    Draft,
    FieldError,
    ItemView,
    Need,
    Plan,
    PlannedNeed,
    RequestInvalid,
    RequestView,
    ValidRequest,
)
from hub.routing.validate import validate
from hub.store import Store
from hub.store import routing as store
from hub.store import routing_read as read
from hub.store.engine import read_tx, write_tx

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford base32: no I, L, O, U, so ids read aloud over the phone survive."""
MAX_CLIENT_REQUEST_ID = 128
MAX_LIST = 100
SIGNAL_KINDS = (SIGNAL_SEARCH_NONE_FREE, SIGNAL_DECLINED_NO_CAPACITY, SIGNAL_UNSERVED)


# The class defines a method named ``list``: annotations inside it use these names.
Views = list[RequestView]
Items = list[ItemView]
Deliveries = list[tuple[int, bytes]]
Signals = list[DemandSignal]


def new_request_id() -> str:
    return "RQ-" + "".join(secrets.choice(ALPHABET) for _ in range(10))


class Requests:
    """One-stop requests on a store. Blocking; thread-safe like the store."""

    def __init__(
        self,
        store_: Store,
        guide: StageGuide,
        settings: RoutingSettings,
        stale_after: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store_
        self.guide = guide
        self.settings = settings
        self.stale_after = stale_after
        self.clock = clock
        self.policy = tr.Policy(
            settings.deadline_rule, settings.holiday_dates, settings.proposal_rule
        )
        self.engine = store_.engine

    def now(self) -> int:
        return int(self.clock())

    def plan_need(self, index: int, need: Need, now: int, exclude: frozenset[str]) -> PlannedNeed:
        return planner.plan_need(
            self.store, index, need, now, self.stale_after, self.settings.max_candidates, exclude
        )

    # -- submitting ---------------------------------------------------------------------

    def preview(self, draft: Draft) -> Plan:
        """The plan ``draft`` would get; stores nothing. Raises RequestInvalid."""
        now = self.now()
        valid = validate(draft, self.guide, now)
        return planner.plan(self.store, valid, now, self.stale_after, self.settings.max_candidates)

    def submit(
        self, draft: Draft, *, actor: str, client_request_id: str = ""
    ) -> tuple[RequestView, tuple[str, ...]]:
        """Validate, plan, store and route; returns the request and the centers to wake.

        A repeat of (actor, client_request_id) returns the stored request and routes
        nothing. Raises RequestInvalid; nothing is stored on any error.
        """
        if len(client_request_id) > MAX_CLIENT_REQUEST_ID or "\x00" in client_request_id:
            raise RequestInvalid(
                [
                    FieldError(
                        "client_request_id",
                        f"use at most {MAX_CLIENT_REQUEST_ID} characters without NUL",
                    )
                ]
            )
        if client_request_id:
            known = self._by_client_id(actor, client_request_id)
            if known is not None:
                return known, ()
        now = self.now()
        valid = validate(draft, self.guide, now)
        plan = planner.plan(self.store, valid, now, self.stale_after, self.settings.max_candidates)
        request_id = new_request_id()
        try:
            with write_tx(self.engine) as conn:
                centers = self._store_request(
                    conn, request_id, valid, plan, actor, client_request_id, now
                )
        except sa_exc.IntegrityError:
            # The same client_request_id committed by a concurrent call (another replica).
            known = self._by_client_id(actor, client_request_id) if client_request_id else None
            if known is None:
                raise
            return known, ()
        return self.get(request_id), centers

    def _by_client_id(self, actor: str, client_request_id: str) -> RequestView | None:
        with read_tx(self.engine) as conn:
            found = read.find_client_request(conn, actor, client_request_id)
            views = read.load_requests(conn, [found]) if found else []
        return views[0] if views else None

    def _store_request(
        self,
        conn: Any,
        request_id: str,
        valid: ValidRequest,
        plan: Plan,
        actor: str,
        client_request_id: str,
        now: int,
    ) -> tuple[str, ...]:
        c, coordinator = valid.company, plan.coordinator
        store.insert_request(
            conn,
            {
                "id": request_id,
                "state": REQUEST_IN_PROGRESS,
                "submitted_by": actor,
                "client_request_id": client_request_id,
                "company_name": c.name,
                "business_number": c.business_number,
                "contact_name": c.contact_name,
                "contact_email": c.contact_email,
                "contact_phone": c.contact_phone,
                "project_title": valid.project_title,
                "technology_area": valid.technology_area,
                "industry": valid.industry,
                "goal": valid.goal,
                "coordinator_center_id": coordinator.center_id if coordinator else None,
                "coordinator_name": coordinator.name if coordinator else "",
                "created_at": now,
                "updated_at": now,
            },
        )
        if coordinator is not None:
            note = f"coordinator {coordinator.center_id} ({coordinator.name})"
        else:
            note = (
                f"no representative center is registered for industry {valid.industry}: "
                "the request has no coordinator"
            )
        store.add_event(
            conn, request_id, now, actor, "submitted", detail=f"{len(plan.needs)} need(s); {note}"
        )
        head = read.request_row(conn, request_id)
        centers = [p.candidates[0].center_id for p in plan.needs if p.candidates]
        tr.lock_centers(conn, *centers)
        for planned in plan.needs:
            store.insert_need(
                conn,
                request_id,
                planned.index,
                planned.need,
                planned.candidates,
                planned.unserved_reason,
            )
            if planned.candidates:
                best = planned.candidates[0]
                tr.route(conn, self.policy, head, planned.index, planned.need, 1, best, now, actor)
        # Demand rows are locked in key order (hub.store.routing): unserved needs by category.
        unserved = [p for p in plan.needs if not p.candidates]
        for planned in sorted(unserved, key=lambda p: tr.demand_category(p.need)):
            tr.unserved(
                conn, head, planned.index, planned.need, planned.unserved_reason, now, actor
            )
        store.refresh_state(conn, request_id, now)
        return tuple(dict.fromkeys(centers))

    # -- reading ------------------------------------------------------------------------

    def get(self, request_id: str, *, submitted_by: str | None = None) -> RequestView:
        """Raises RequestNotFound (also for another caller's request when ``submitted_by``)."""
        with read_tx(self.engine) as conn:
            views = read.load_requests(conn, [request_id])
        if not views or (submitted_by is not None and views[0].submitted_by != submitted_by):
            raise RequestNotFound(request_id)
        return views[0]

    def list(
        self,
        *,
        state: str | None = None,
        center_id: str | None = None,
        submitted_by: str | None = None,
        limit: int = 20,
        before: str | None = None,
    ) -> tuple[Views, str | None]:
        """Newest first; returns the page and the ``before`` key of the next one (None: last)."""
        if state is not None and state not in REQUEST_STATES:
            raise ValueError(
                f"unknown request state {state!r}; use one of {', '.join(REQUEST_STATES)}"
            )
        if isinstance(limit, bool) or not 1 <= limit <= MAX_LIST:
            raise ValueError(f"limit must be 1..{MAX_LIST} (got {limit})")
        key = _parse_before(before) if before else None
        with read_tx(self.engine) as conn:
            keys = read.list_ids(
                conn,
                state=state,
                center_id=center_id,
                submitted_by=submitted_by,
                limit=limit + 1,
                before=key,
            )
            page = keys[:limit]
            views = read.load_requests(conn, [rid for _, rid in page])
        following = f"{page[-1][0]}:{page[-1][1]}" if len(keys) > limit else None
        return views, following

    def queue(self, limit: int = 50) -> Items:
        """Items waiting for a center or the company, oldest first (the dashboard's queue)."""
        with read_tx(self.engine) as conn:
            return read.queue(conn, max(1, min(limit, 1000)))

    def counts(self) -> dict[str, int]:
        """Items per state (every state present, 0 when none)."""
        with read_tx(self.engine) as conn:
            found = read.counts(conn)
        return {s: found.get(s, 0) for s in ITEM_STATES}

    # -- the company, operators, centers: hub.routing.changes and .answers ----------------

    def respond_to_proposal(
        self,
        request_id: str,
        item_id: str,
        accept: bool,
        *,
        actor: str,
        submitted_by: str | None = None,
    ) -> tuple[RequestView, tuple[str, ...]]:
        """The company takes the proposed time, or rejects it (the need is re-routed).
        Raises RequestNotFound or RoutingConflict (the item is not proposed)."""
        return changes.respond_to_proposal(
            self, request_id, item_id, accept, actor=actor, submitted_by=submitted_by
        )

    def cancel(
        self, request_id: str, *, actor: str, reason: str = "", submitted_by: str | None = None
    ) -> tuple[RequestView, tuple[str, ...]]:
        """Withdraw every waiting item; accepted items stay accepted. Idempotent."""
        return changes.cancel(
            self, request_id, actor=actor, reason=reason, submitted_by=submitted_by
        )

    def reassign(
        self,
        request_id: str,
        item_id: str,
        target: tuple[str, str] | None,
        *,
        actor: str,
        reason: str = "",
    ) -> tuple[RequestView, tuple[str, ...]]:
        """Operators: move the need of ``item_id`` to ``target`` (center id, equipment id)
        or, with None, to the next candidate; the old item is withdrawn if it still waits.
        Raises RequestNotFound or RoutingConflict (accepted item, unfit target ...)."""
        return changes.reassign(self, request_id, item_id, target, actor=actor, reason=reason)

    def answer(self, center_id: str, answer: Answer) -> AnswerResult:
        """Apply a center's answer once (:mod:`hub.routing.answers`); never raises for a
        bad or late answer: the result says REJECTED and why."""
        return answers.answer(self, center_id, answer)

    def sweep(self) -> tuple[str, ...]:
        """Expire open items past their deadline and re-route their needs; returns the
        centers that got deliveries. Safe on several hub processes at once."""
        return changes.sweep(self)

    def delivered(self, center_id: str, seq: int) -> int:
        """The center stored every delivery up to ``seq``; returns the items newly marked
        delivered. Raises DeliveryAhead (nothing applied) for a seq never allocated."""
        now = self.now()
        with write_tx(self.engine) as conn:
            marked = store.acknowledge(conn, center_id, seq, now)
            actor = tr.center_actor(center_id)
            for request_id, item_id in marked:
                store.add_event(conn, request_id, now, actor, "delivered", item_id=item_id)
        return len(marked)

    def pending_deliveries(
        self, center_id: str, after_seq: int = 0, limit: int = 100
    ) -> Deliveries:
        """Unacknowledged deliveries of the center above ``after_seq``, in seq order."""
        with read_tx(self.engine) as conn:
            _, acked = read.cursor(conn, center_id)
            return read.pending(conn, center_id, max(after_seq, acked), limit)

    def delivery_heads(self) -> dict[str, int]:
        """Centers with unacknowledged deliveries -> the highest seq allocated."""
        with read_tx(self.engine) as conn:
            return read.heads(conn)

    # -- demand signals -------------------------------------------------------------

    def demand(
        self, *, since: int | None = None, category: str | None = None, center_id: str | None = None
    ) -> Signals:
        """Demand signals, most counted first."""
        with read_tx(self.engine) as conn:
            return read.demand(conn, since, category, center_id)

    def record_demand(self, kind: str, category: str, center_id: str = "") -> None:
        if kind not in SIGNAL_KINDS:
            raise ValueError(
                f"unknown demand signal {kind!r}; use one of {', '.join(SIGNAL_KINDS)}"
            )
        if not category or len(category) > 200:
            raise ValueError("a demand signal needs a category of 1..200 characters")
        with write_tx(self.engine) as conn:
            store.bump_demand(conn, kind, category, center_id, self.now())


def _parse_before(text: str) -> tuple[int, str]:
    at, sep, rid = text.partition(":")
    if not sep or not at.isdigit() or not rid:
        raise ValueError(
            f"page key {text[:40]!r} is not one this hub made; start from the first page"
        )
    return int(at), rid

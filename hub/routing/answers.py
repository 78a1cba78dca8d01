"""A center's answer to a routed item: check it, judge it against the item, apply it.

Answers arrive at least once (the agent resends every answer until it gets an AnswerAck),
so applying is idempotent: the applied answer's fingerprint is stored with the item, and
the same answer again is a DUPLICATE, while a different answer to an answered item is
REJECTED. An invalid answer is REJECTED with a message naming the field rather than
aborting the stream: the agent would otherwise resend it on every new stream, forever.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from hub.routing import transitions as tr
from hub.routing.changes import replan
from hub.routing.deadlines import deadline
from hub.routing.model import (
    DECLINE_REASONS,
    ITEM_ACCEPTED,
    ITEM_DECLINED,
    ITEM_EXPIRED,
    ITEM_PROPOSED,
    ITEM_WITHDRAWN,
    OPEN_ITEM_STATES,
    SIGNAL_DECLINED_NO_CAPACITY,
    Answer,
    AnswerResult,
    PlannedNeed,
)
from hub.routing.transitions import when
from hub.store import routing as store
from hub.store import routing_read as read
from hub.store.engine import read_tx, write_tx

if TYPE_CHECKING:
    from hub.routing.requests import Requests

APPLIED = "applied"
DUPLICATE = "duplicate"
REJECTED = "rejected"

ACCEPT = "accept"
DECLINE = "decline"
PROPOSE = "propose"
NO_CAPACITY = "no-capacity"
KIND_STATE = {ACCEPT: ITEM_ACCEPTED, DECLINE: ITEM_DECLINED, PROPOSE: ITEM_PROPOSED}

MAX_ITEM_ID = 64
MAX_MESSAGE = 2000
MAX_ANSWERED_BY = 200
MAX_AHEAD_SECONDS = 365 * 86400
"""A proposed or accepted time must end within a year: a later one is a typo."""


def problem(answer: Answer, now: int) -> str:
    """What is wrong with the answer's fields ("" if nothing), naming the field."""
    if not answer.item_id or len(answer.item_id) > MAX_ITEM_ID:
        return f"item_id must be 1..{MAX_ITEM_ID} characters"
    if answer.kind not in KIND_STATE:
        return f"kind {answer.kind or 'unspecified'!r} is not known; use accept, decline or propose"
    for name, text, limit in (
        ("message", answer.message, MAX_MESSAGE),
        ("answered_by", answer.answered_by, MAX_ANSWERED_BY),
    ):
        if len(text) > limit or "\x00" in text:
            return f"{name} must be at most {limit} characters without NUL"
    start, end = answer.start, answer.end
    if answer.kind == PROPOSE and (start is None or end is None):
        return "a proposal needs start and end: the time the center offers"
    if (start is None) != (end is None):
        return "give both start and end, or neither (accept: the suggested slot)"
    if start is not None and end is not None:
        if end <= start:
            return f"end {when(end)} must be after start {when(start)}"
        if end <= now:
            return f"the time {when(start)}..{when(end)} has passed; offer a time in the future"
        if end > now + MAX_AHEAD_SECONDS:
            return f"end {when(end)} is more than 365 days ahead; check the date"
    if answer.kind == DECLINE and answer.decline_reason not in ("", *DECLINE_REASONS):
        return (
            f"decline_reason {answer.decline_reason!r} is not known; use one of "
            f"{', '.join(DECLINE_REASONS)}"
        )
    return ""


def fingerprint(answer: Answer) -> str:
    """Same item + same kind/start/end = the same answer (a replay)."""
    start = "" if answer.start is None else str(answer.start)
    end = "" if answer.end is None else str(answer.end)
    return f"{answer.kind}|{start}|{end}"


def rejected(state: str, message: str) -> AnswerResult:
    return AnswerResult(outcome=REJECTED, item_state=state, message=message)


def judge(item: Any, center_id: str, answer: Answer) -> AnswerResult | None:
    """The outcome when the answer cannot be applied to ``item`` (a row, or None when
    unknown); None when it can."""
    if item is None or item.center_id != center_id:
        # Also for another center's item: its existence is none of this center's business.
        return rejected("", f"item {answer.item_id} is not routed to this center")
    if item.answer_key and item.answer_key == fingerprint(answer):
        return AnswerResult(
            outcome=DUPLICATE, item_state=item.state, message="this answer was applied before"
        )
    state = item.state
    if state in OPEN_ITEM_STATES:
        return None
    if state == ITEM_WITHDRAWN:
        return rejected(
            state,
            f"item {item.item_id} was withdrawn on {when(item.closed_at)} "
            f"({item.closed_reason}); do not act on it",
        )
    if state == ITEM_EXPIRED:
        return rejected(
            state,
            f"the deadline passed on {when(item.deadline)}; the request moved to another "
            "center: do not act on it",
        )
    return rejected(
        state,
        f"item {item.item_id} was already answered ({state}) on {when(item.answered_at)}; "
        "a different answer cannot replace it: ask the hub operator to change it",
    )


def accepted_time(item: Any, candidate_slot: tuple[int, int], answer: Answer) -> tuple[int, int]:
    """The agreed time: the one given, else the slot the hub suggested. ValueError when
    neither exists."""
    if answer.start is not None and answer.end is not None:
        return answer.start, answer.end
    start, end = candidate_slot
    if end <= start:
        raise ValueError(
            f"item {item.item_id} came with no suggested slot; accept with the agreed start and end"
        )
    return start, end


def event_detail(answer: Answer, start: int | None, end: int | None) -> str:
    parts = []
    if answer.kind == DECLINE:
        parts.append(answer.decline_reason or "other")
    if start is not None and end is not None:
        parts.append(f"{when(start)}..{when(end)}")
    if answer.answered_by:
        parts.append(f"by {answer.answered_by}")
    if answer.message:
        parts.append(answer.message)
    return "; ".join(parts)


def answer(rq: Requests, center_id: str, answer: Answer) -> AnswerResult:
    """Apply a center's answer once: judge it, plan the re-route of a decline (outside
    the transaction), then judge again and apply under the item's row lock."""
    now = rq.now()
    trouble = problem(answer, now)
    with read_tx(rq.engine) as conn:
        item = read.item_row(conn, answer.item_id) if answer.item_id else None
    if trouble:
        known = item is not None and item.center_id == center_id
        return rejected(item.state if item is not None and known else "", f"not applied: {trouble}")
    verdict = judge(item, center_id, answer)
    if verdict is not None:
        return verdict
    assert item is not None  # judge() answered for an unknown item
    planned = replan(rq, item, now) if answer.kind == DECLINE else None
    with write_tx(rq.engine) as conn:
        head = read.request_row(conn, item.request_id, lock=True)
        tr.lock_centers(conn, tr.first_choice(planned))
        current = read.item_row(conn, answer.item_id, lock=True)
        verdict = judge(current, center_id, answer)
        if verdict is not None:
            return verdict
        return _apply(rq, conn, head, current, center_id, answer, planned, now)


def _apply(
    rq: Requests,
    conn: Connection,
    head: Any,
    item: Any,
    center_id: str,
    answer: Answer,
    planned: PlannedNeed | None,
    now: int,
) -> AnswerResult:
    start, end = answer.start, answer.end
    if answer.kind == ACCEPT:
        candidate = read.candidate_from(json.loads(item.candidate))
        try:
            start, end = accepted_time(item, (candidate.slot_start, candidate.slot_end), answer)
        except ValueError as exc:
            return rejected(item.state, f"not applied: {exc}")
    state = KIND_STATE[answer.kind]
    extra: dict[str, Any] = {}
    if state == ITEM_PROPOSED:
        # From now on the company owes the answer: the item's deadline becomes its deadline.
        zone = read.candidate_from(json.loads(item.candidate)).time_zone
        extra["deadline"] = deadline(now, zone, rq.policy.proposal_rule, rq.policy.holidays)
    store.update_item(
        conn,
        item.item_id,
        (item.state,),
        **extra,
        state=state,
        answered_at=now,
        answered_by=answer.answered_by,
        message=answer.message,
        answer_key=fingerprint(answer),
        start_at=start,
        end_at=end,
        decline_reason=(answer.decline_reason or "other") if state == ITEM_DECLINED else "",
        # An answer to an item still "routed" implies delivery (its ack is on the way).
        delivered_at=item.delivered_at if item.delivered_at is not None else now,
    )
    actor = tr.center_actor(center_id)
    detail = event_detail(answer, start, end)
    store.add_event(conn, head.id, now, actor, state, item_id=item.item_id, detail=detail)
    centers: tuple[str, ...] = ()
    if answer.kind == DECLINE:
        if answer.decline_reason == NO_CAPACITY:
            need_row = read.need_row(conn, head.id, item.need_index)
            assert need_row is not None
            category = tr.demand_category(read.need_from_row(need_row))
            store.bump_demand(conn, SIGNAL_DECLINED_NO_CAPACITY, category, center_id, now)
        assert planned is not None
        cause = f"{center_id} declined ({answer.decline_reason or 'other'})"
        new = tr.reroute(conn, rq.policy, head, item.need_index, planned, now, cause)
        centers = (new,) if new else ()
    store.refresh_state(conn, head.id, now)
    return AnswerResult(outcome=APPLIED, item_state=state, center_ids_to_notify=centers)

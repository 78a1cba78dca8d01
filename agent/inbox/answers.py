"""What makes a center's answer sendable, checked before it is queued for the hub.

An answer comes from the CLI, an answer file or an SQL row; all three end up as
:class:`RawAnswer` (text as staff wrote it) and go through :func:`parse_answer`, so the rules
and the wording of problems are the same wherever staff answer. Every problem is reported
at once, each naming the field and what to write instead, because an answer file bounced
one problem at a time is a slow conversation.

Rules on the answer itself (:func:`parse_answer`): the kind is accept, decline or propose;
propose needs start and end; accept takes both or neither (neither = the slot the hub
suggested); start < end, the end not in the past, the start within a year; decline needs a
reason code and takes no times; message <= 1000 characters. Rules against the item
(:func:`item_problems`, checked inside the queueing transaction): the item is known, not
withdrawn, and has no answer the hub applied or has yet to answer (an answer the hub
rejected may be replaced).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from agent.errors import InboxError
from proto import pb, timeconv
from proto.codes import CodeMap

if TYPE_CHECKING:
    from agent.inbox.store import InboxItem

ANSWER_KIND = CodeMap(
    "answer",
    {
        "accept": pb.ANSWER_KIND_ACCEPT,
        "decline": pb.ANSWER_KIND_DECLINE,
        "propose": pb.ANSWER_KIND_PROPOSE,
    },
)
DECLINE_REASON = CodeMap(
    "decline reason",
    {
        "no-capacity": pb.DECLINE_REASON_NO_CAPACITY,
        "equipment-unavailable": pb.DECLINE_REASON_EQUIPMENT_UNAVAILABLE,
        "out-of-scope": pb.DECLINE_REASON_OUT_OF_SCOPE,
        "other": pb.DECLINE_REASON_OTHER,
    },
)
OUTCOME = {
    pb.ANSWER_OUTCOME_APPLIED: "applied",
    pb.ANSWER_OUTCOME_DUPLICATE: "duplicate",
    pb.ANSWER_OUTCOME_REJECTED: "rejected",
}
MAX_MESSAGE = 1000
MAX_BY = 200
# The hub refuses a proposed time further out than this.
MAX_AHEAD = timedelta(days=365)
TIME_EXAMPLE = "2026-12-03T09:00+09:00"


class AnswerInvalid(InboxError):
    """The answer was not queued; ``problems`` are ``"field: what is wrong; what to do"``."""

    def __init__(self, item_id: str, problems: list[str]) -> None:
        self.item_id = item_id
        self.problems = list(problems)
        super().__init__(
            f"answer to {item_id or 'an unnamed item'} not sent: " + "; ".join(self.problems)
        )


@dataclass(frozen=True)
class RawAnswer:
    """An answer as staff wrote it; every field text (empty = not given)."""

    item_id: str
    answer: str
    start: str = ""
    end: str = ""
    reason: str = ""
    message: str = ""
    by: str = ""


@dataclass(frozen=True)
class Answer:
    """A checked answer, ready to be numbered and queued."""

    item_id: str
    kind: str
    """accept, decline or propose."""
    start: int | None
    """Epoch seconds; None for decline and for accepting the suggested slot."""
    end: int | None
    reason: str
    """Decline reason code; empty otherwise."""
    message: str
    by: str
    answered_at: float

    def to_message(self, answer_seq: int) -> Any:
        msg = pb.ItemAnswer(
            answer_seq=answer_seq,
            item_id=self.item_id,
            kind=ANSWER_KIND.value(self.kind),
            message=self.message,
            answered_by=self.by,
            answered_at=timeconv.from_epoch(int(self.answered_at)),
        )
        if self.start is not None and self.end is not None:
            msg.start.CopyFrom(timeconv.from_epoch(self.start))
            msg.end.CopyFrom(timeconv.from_epoch(self.end))
        if self.reason:
            msg.decline_reason = DECLINE_REASON.value(self.reason)
        return msg


def parse_time(text: str, zone: ZoneInfo) -> int:
    """ISO 8601 to epoch seconds; without an offset the time is in the center's zone."""
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO 8601 time; write e.g. {TIME_EXAMPLE} "
            f"(without an offset: {zone.key} time)"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=zone)
    return int(dt.timestamp())


def parse_answer(raw: RawAnswer, zone: ZoneInfo, now: float | None = None) -> Answer:
    """Check ``raw`` on its own; raise AnswerInvalid listing every problem."""
    now = time.time() if now is None else now
    problems: list[str] = []
    item_id = raw.item_id.strip()
    if not item_id:
        problems.append("item_id: missing; copy the item_id of the request you answer")
    kind = raw.answer.strip().lower()
    if kind not in ANSWER_KIND:
        problems.append(
            f"answer: {raw.answer!r} is not an answer; use accept, decline or propose"
            if kind
            else "answer: missing; use accept, decline or propose"
        )
    start = _time_field("start", raw.start, zone, problems)
    end = _time_field("end", raw.end, zone, problems)
    reason = raw.reason.strip().lower().replace("_", "-")
    if kind == "decline":
        if not reason:
            problems.append(f"reason: a decline needs one of: {', '.join(DECLINE_REASON.codes)}")
        elif reason not in DECLINE_REASON:
            problems.append(
                f"reason: {raw.reason!r} is not a reason code; use one of: "
                f"{', '.join(DECLINE_REASON.codes)}"
            )
        if raw.start.strip() or raw.end.strip():
            problems.append("start/end: a decline takes no times; to offer a time use propose")
    elif reason and kind in ANSWER_KIND:
        problems.append(f"reason: only a decline has a reason; remove it from this {kind}")
    if kind == "propose" and (not raw.start.strip() or not raw.end.strip()):
        problems.append(f"start/end: a proposal needs both, e.g. start = {TIME_EXAMPLE}")
    if kind == "accept" and bool(raw.start.strip()) != bool(raw.end.strip()):
        problems.append(
            "start/end: give both to accept another time, or neither to accept the suggested slot"
        )
    if kind in ("accept", "propose") and start is not None and end is not None:
        problems.extend(_window_problems(start, end, now))
    message = raw.message.strip()
    if len(message) > MAX_MESSAGE:
        problems.append(f"message: {len(message)} characters, at most {MAX_MESSAGE}; shorten it")
    by = raw.by.strip()
    if len(by) > MAX_BY:
        problems.append(f"by: {len(by)} characters, at most {MAX_BY}; give just the name")
    for name, value in (("message", message), ("by", by), ("item_id", item_id)):
        if "\x00" in value:
            problems.append(f"{name}: contains a NUL character; remove it")
    if problems:
        raise AnswerInvalid(item_id, problems)
    keep_times = kind != "decline"
    return Answer(
        item_id=item_id,
        kind=kind,
        start=start if keep_times else None,
        end=end if keep_times else None,
        reason=reason if kind == "decline" else "",
        message=message,
        by=by,
        answered_at=now,
    )


def _time_field(name: str, text: str, zone: ZoneInfo, problems: list[str]) -> int | None:
    if not text.strip():
        return None
    try:
        return parse_time(text, zone)
    except ValueError as exc:
        problems.append(f"{name}: {exc}")
        return None


def _window_problems(start: int, end: int, now: float) -> list[str]:
    out = []
    if end <= start:
        out.append("end: must be after start")
    elif end <= now:
        out.append("end: the time is in the past; give a time still ahead")
    if start > now + MAX_AHEAD.total_seconds():
        out.append("start: more than 365 days ahead; the hub accepts times within a year")
    return out


def item_problems(item: InboxItem | None, item_id: str, open_ids: list[str]) -> list[str]:
    """Why ``item`` cannot take a new answer now (empty: it can)."""
    if item is None:
        hint = f"open requests: {', '.join(open_ids[:20])}" if open_ids else "no request is open"
        return [f"item_id: no request {item_id!r} was received; {hint}"]
    if item.state == "withdrawn":
        why = f" ({item.withdrawn_reason})" if item.withdrawn_reason else ""
        return [f"item_id: the hub took {item_id} back{why}; it needs no answer any more"]
    answer = item.answer
    if answer is not None and item.hub_outcome != "rejected":
        if not item.hub_outcome:
            return [
                f"item_id: {item_id} was answered already ({answer.kind}, answer "
                f"#{answer.seq}) and the hub has not confirmed it yet; wait for its verdict "
                f"(iplat-agent requests show {item_id})"
            ]
        return [
            f"item_id: {item_id} was answered already ({answer.kind}) and the hub "
            f"{item.hub_outcome} it; a different answer would be refused. Contact the "
            "coordinator to change it"
        ]
    return []

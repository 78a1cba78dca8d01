"""What a center receives on its Sync stream: serialized ``pb.Delivery`` messages.

A delivery is built in the transaction that routes (or withdraws) the item, with the seq
allocated there, and stored as bytes: the pump sends exactly what was committed, however
often it is resent, and a later change to the request cannot alter an item already
delivered. A work item carries what the center needs to contact the company and do the
work; nothing about other centers (who else was tried, other candidates) leaves the hub.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.routing import convert
from hub.routing.model import Candidate, Company, Coordinator, Need
from proto import pb, timeconv


@dataclass(frozen=True)
class Envelope:
    """The request-level part of every work item of one request."""

    request_id: str
    company: Company
    project_title: str
    technology_area: str
    goal: str
    coordinator: Coordinator | None


def work_item(
    seq: int,
    envelope: Envelope,
    item_id: str,
    attempt: int,
    need: Need,
    candidate: Candidate,
    routed_at: int,
    deadline: int,
) -> bytes:
    fields: dict[str, Any] = {
        "item_id": item_id,
        "request_id": envelope.request_id,
        "attempt": attempt,
        "company": convert.company_to_pb(envelope.company),
        "project_title": envelope.project_title,
        "technology_area": envelope.technology_area,
        "goal": envelope.goal,
        "equipment_id": candidate.equipment_id,
        "need": convert.need_to_pb(need),
        "deadline": timeconv.from_epoch(deadline),
        "routed_at": timeconv.from_epoch(routed_at),
    }
    if envelope.coordinator is not None:
        fields["coordinator"] = convert.coordinator_to_pb(envelope.coordinator)
    # (0, 0) means the hub saw no free slot (an operator's reassignment): leave it unset.
    if candidate.slot_end > candidate.slot_start:
        fields["slot_start"] = timeconv.from_epoch(candidate.slot_start)
        fields["slot_end"] = timeconv.from_epoch(candidate.slot_end)
    message = pb.Delivery(seq=seq, item=pb.WorkItem(**fields))
    return bytes(message.SerializeToString(deterministic=True))


def withdrawal(seq: int, item_id: str, reason: str) -> bytes:
    message = pb.Delivery(seq=seq, withdrawal=pb.Withdrawal(item_id=item_id, reason=reason))
    return bytes(message.SerializeToString(deterministic=True))


def confirmation(seq: int, item_id: str, start: int, end: int) -> bytes:
    message = pb.Delivery(
        seq=seq,
        confirmation=pb.Confirmation(
            item_id=item_id, start=timeconv.from_epoch(start), end=timeconv.from_epoch(end)
        ),
    )
    return bytes(message.SerializeToString(deterministic=True))

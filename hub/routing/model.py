"""The value types of one-stop routing, shared by the validator, planner, store and APIs.

Instants are integer epoch seconds (UTC). Codes are the text codes of :mod:`proto.codes`
(``"validation"``, ``"test-analysis"``, ``"electrical-electronics"``). Nothing here touches
the database or the wire: :mod:`hub.routing.convert` maps these to and from protobuf.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# -- states ------------------------------------------------------------------------------

REQUEST_IN_PROGRESS = "in-progress"
REQUEST_ACCEPTED = "accepted"
REQUEST_PARTIALLY_SERVED = "partially-served"
REQUEST_UNSERVED = "unserved"
REQUEST_CANCELLED = "cancelled"
REQUEST_STATES = (
    REQUEST_IN_PROGRESS,
    REQUEST_ACCEPTED,
    REQUEST_PARTIALLY_SERVED,
    REQUEST_UNSERVED,
    REQUEST_CANCELLED,
)

ITEM_ROUTED = "routed"
ITEM_DELIVERED = "delivered"
ITEM_ACCEPTED = "accepted"
ITEM_PROPOSED = "proposed"
ITEM_DECLINED = "declined"
ITEM_EXPIRED = "expired"
ITEM_WITHDRAWN = "withdrawn"
ITEM_STATES = (
    ITEM_ROUTED,
    ITEM_DELIVERED,
    ITEM_ACCEPTED,
    ITEM_PROPOSED,
    ITEM_DECLINED,
    ITEM_EXPIRED,
    ITEM_WITHDRAWN,
)
OPEN_ITEM_STATES = (ITEM_ROUTED, ITEM_DELIVERED)
"""Waiting for the center: these count as the center's load and have a deadline."""
WAITING_ITEM_STATES = (ITEM_ROUTED, ITEM_DELIVERED, ITEM_PROPOSED)
"""Items someone still has to act on: the center (routed, delivered) or the company
(proposed). They have a deadline; cancel and reassign take them back; the dashboard
queue lists them."""

DECLINE_REASONS = ("no-capacity", "equipment-unavailable", "out-of-scope", "other")

# Demand signal kinds.
SIGNAL_SEARCH_NONE_FREE = "search-none-free"
SIGNAL_DECLINED_NO_CAPACITY = "declined-no-capacity"
SIGNAL_UNSERVED = "unserved"

ORIGIN_REQUEST = "request"
ORIGIN_GUIDE = "guide"


# -- input -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Company:
    name: str
    business_number: str
    """Normalised by validation to ``NNN-NN-NNNNN``."""
    contact_name: str
    contact_email: str = ""
    contact_phone: str = ""


@dataclass(frozen=True)
class DraftNeed:
    """One need as the caller wrote it; not validated. Empty text / None means unset."""

    stage: str = ""
    category: str = ""
    capabilities: tuple[str, ...] = ()
    service: str = ""
    hours: float | None = None
    earliest: int | None = None
    latest: int | None = None
    region: str = ""
    note: str = ""


@dataclass(frozen=True)
class Draft:
    """A request as the caller wrote it; :func:`hub.routing.validate.validate` checks it.

    Either ``needs`` or ``stages`` (the guide then proposes the needs, using ``earliest``,
    ``latest``, ``region`` and, when set, ``hours`` for each).
    """

    company: Company
    project_title: str = ""
    technology_area: str = ""
    goal: str = ""
    needs: tuple[DraftNeed, ...] = ()
    stages: tuple[str, ...] = ()
    earliest: int | None = None
    latest: int | None = None
    region: str = ""
    hours: float | None = None


@dataclass(frozen=True)
class FieldError:
    field: str
    """Path as in the HTTP body: ``company.business_number``, ``needs[2].hours``."""
    message: str
    """What is wrong and what to write instead."""


class RequestInvalid(ValueError):
    """The request has field errors; nothing was stored."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in self.errors))


@dataclass(frozen=True)
class Need:
    """A validated need (codes canonical, window checked)."""

    stage: str
    category: str | None
    capabilities: tuple[str, ...]
    service: str | None
    hours: float
    earliest: int
    latest: int
    region: str | None = None
    note: str = ""
    origin: str = ORIGIN_REQUEST


@dataclass(frozen=True)
class ValidRequest:
    company: Company
    project_title: str
    technology_area: str
    industry: str
    """The area's industry: its representative institution coordinates."""
    goal: str
    needs: tuple[Need, ...]


# -- planning ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """An equipment that can serve a need, with why it ranks where it does."""

    center_id: str
    center_name: str
    equipment_id: str
    equipment_name: str
    region: str
    time_zone: str
    slot_start: int
    slot_end: int
    score: float
    """0..1, the sum of the weighted parts below."""
    fit: float
    earliness: float
    region_match: float
    load: float
    open_items: int
    stale: bool


@dataclass(frozen=True)
class PlannedNeed:
    index: int
    need: Need
    candidates: tuple[Candidate, ...]
    """Best first; routing takes the first."""
    unserved_reason: str = ""


@dataclass(frozen=True)
class Coordinator:
    center_id: str
    name: str
    industry: str


@dataclass(frozen=True)
class Plan:
    needs: tuple[PlannedNeed, ...]
    coordinator: Coordinator | None
    generated_at: int


# -- stored state, as read back ----------------------------------------------------------


@dataclass(frozen=True)
class ItemView:
    item_id: str
    request_id: str
    need_index: int
    attempt: int
    state: str
    candidate: Candidate
    routed_at: int
    deadline: int
    delivered_at: int | None = None
    answered_at: int | None = None
    start: int | None = None
    end: int | None = None
    decline_reason: str = ""
    message: str = ""


@dataclass(frozen=True)
class NeedStatus:
    plan: PlannedNeed
    items: tuple[ItemView, ...]
    """Oldest first; the last is the current one."""


@dataclass(frozen=True)
class EventView:
    at: int
    actor: str
    kind: str
    item_id: str = ""
    detail: str = ""


@dataclass(frozen=True)
class RequestView:
    id: str
    state: str
    company: Company
    project_title: str
    technology_area: str
    industry: str
    goal: str
    coordinator: Coordinator | None
    needs: tuple[NeedStatus, ...]
    events: tuple[EventView, ...]
    created_at: int
    updated_at: int
    submitted_by: str
    client_request_id: str = ""


@dataclass(frozen=True)
class DemandSignal:
    kind: str
    category: str
    center_id: str
    count: int
    first_at: int
    last_at: int


# -- the center's side -------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """A center's answer to an item, as read off the Sync stream."""

    answer_seq: int
    item_id: str
    kind: str
    """``accept``, ``decline`` or ``propose``."""
    start: int | None = None
    end: int | None = None
    decline_reason: str = ""
    message: str = ""
    answered_by: str = ""
    answered_at: int | None = None


@dataclass(frozen=True)
class AnswerResult:
    outcome: str
    """``applied``, ``duplicate`` or ``rejected``."""
    item_state: str
    message: str = ""
    center_ids_to_notify: tuple[str, ...] = field(default=())
    """Centers that got new deliveries because of this answer (a re-route)."""

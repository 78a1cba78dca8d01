"""One-stop routing tests on an availability World: drafts, a settable clock, Requests.

::

    world = World.open(db_url)                      # tests/helpers/availability.py
    world.center("KR-A-0001"); world.equipment("KR-A-0001", "eq-1")
    clock = Clock(NOW)
    rq = requests_on(world.store, clock)            # answer deadline: 4 hours
    view, centers = rq.submit(draft(need()), actor=PORTAL)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import text

from hub.config_routing import RoutingSettings
from hub.routing.guide import load_guide
from hub.routing.model import Answer, Company, Draft, DraftNeed
from hub.routing.requests import Requests
from hub.store import CenterInfo, Store
from proto import pb
from tests.helpers.availability import DAY, HOUR, MONDAY, NOW

AREA = "secondary-battery-cell"
"""An area of the shipped guide; its industry is electrical-electronics."""
INDUSTRY = "electrical-electronics"
BRN = "124-81-00998"
PORTAL = "portal:test"
GUIDE = load_guide()


@dataclass
class Clock:
    now: int = NOW

    def __call__(self) -> float:
        return float(self.now)

    def advance(self, seconds: int) -> None:
        self.now += seconds


def settings(**kw: Any) -> RoutingSettings:
    return replace(RoutingSettings(answer_deadline="4 hours", max_candidates=5), **kw)


def requests_on(store: Store, clock: Clock, stale_after: int = 60, **kw: Any) -> Requests:
    return Requests(store, GUIDE, settings(**kw), stale_after, clock)


def need(
    category: str = "battery-cycler",
    *,
    stage: str = "validation",
    hours: float = 4,
    earliest: int = MONDAY,
    latest: int = MONDAY + 7 * DAY,
    region: str = "",
    service: str = "",
    capabilities: Iterable[str] = (),
) -> DraftNeed:
    return DraftNeed(
        stage=stage,
        category=category,
        capabilities=tuple(capabilities),
        service=service,
        hours=hours,
        earliest=earliest,
        latest=latest,
        region=region,
    )


def draft(*needs: DraftNeed, title: str = "파우치 셀 검증") -> Draft:
    return Draft(
        company=Company(
            name="(주)한빛배터리",
            business_number=BRN,
            contact_name="김하나",
            contact_email="kim@example.com",
        ),
        project_title=title,
        technology_area=AREA,
        goal="파우치 셀 상용화",
        needs=needs or (need(),),
    )


def representative(store: Store, center_id: str, industry: str = INDUSTRY) -> None:
    store.add_center(
        CenterInfo(
            id=center_id,
            name_ko=f"대표 {center_id}",
            name_en=f"Lead {center_id}",
            industry=industry,
            region="대전",
            role="representative",
        ),
        now=NOW - DAY,
    )


def accept(item_id: str, seq: int = 1, **kw: Any) -> Answer:
    return Answer(answer_seq=seq, item_id=item_id, kind="accept", **kw)


def decline(item_id: str, reason: str = "no-capacity", seq: int = 1) -> Answer:
    return Answer(answer_seq=seq, item_id=item_id, kind="decline", decline_reason=reason)


def propose(item_id: str, start: int, end: int, seq: int = 1) -> Answer:
    return Answer(answer_seq=seq, item_id=item_id, kind="propose", start=start, end=end)


def rows(store: Store, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def count(store: Store, table: str) -> int:
    return int(rows(store, f"SELECT count(*) FROM {table}")[0][0])


def deliveries(rq: Requests, center_id: str) -> list[Any]:
    """The center's pending deliveries, decoded."""
    return [pb.Delivery.FromString(p) for _, p in rq.pending_deliveries(center_id)]


__all__ = ["DAY", "HOUR", "MONDAY", "NOW"]

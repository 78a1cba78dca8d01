"""A small world of centers, equipment and bookings for availability tests.

::

    world = World.open(db_url)
    world.center("KR-MR-0001", time_zone="Europe/Berlin", region="대전")
    world.equipment("KR-MR-0001", "eq-1", category="battery-cycler",
                    hours=[(1, 9 * 60, 18 * 60)], rules=(60, 480, 0))
    world.entry("KR-MR-0001", "eq-1", start, end, kind="closure")
    world.seen("KR-MR-0001", at=NOW - DAY)    # stale; centers are FRESH by default
    answer = search(world.store, query, now=NOW, stale_after=STALE_AFTER)

Records go through ``Store.apply_batch`` (the sync path), not SQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hub.store import CenterInfo, Store
from proto import codes, pb, timeconv

# Monday 2027-01-04 00:00 in Seoul (UTC+9, no DST) = 2027-01-03T15:00Z.
MONDAY = int(datetime(2027, 1, 4, tzinfo=ZoneInfo("Asia/Seoul")).timestamp())
HOUR = 3600
DAY = 86400
NOW = MONDAY - 7 * DAY
STALE_AFTER = 60
FRESH = MONDAY + 60 * DAY
"""last_seen of fresh centers: ahead of every ``now`` the tests use, so they stay fresh
whatever instant a test searches at."""


def at(text: str, tz: str = "Asia/Seoul") -> int:
    """Epoch seconds of local ISO text (``2027-01-04T09:00``) in ``tz``."""
    return int(datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).timestamp())


@dataclass
class World:
    store: Store
    seqs: dict[str, int] = field(default_factory=dict)
    seen_at: dict[str, int] = field(default_factory=dict)
    """When each center's agent was last heard of (an apply counts as contact)."""

    @classmethod
    def open(cls, url: str) -> World:
        return cls(Store.open(url))

    def close(self) -> None:
        self.store.close()

    def center(
        self,
        center_id: str,
        *,
        industry: str = "machinery-robotics",
        region: str = "대전",
        time_zone: str = "Asia/Seoul",
        seen: int | None = FRESH,
        name_ko: str | None = None,
        name_en: str | None = None,
    ) -> None:
        self.store.add_center(
            CenterInfo(
                id=center_id,
                name_ko=name_ko or f"센터 {center_id}",
                name_en=name_en or f"Center {center_id}",
                industry=industry,
                region=region,
                role="participating",
                time_zone=time_zone,
            ),
            now=NOW - DAY,
        )
        if seen is not None:
            self.seen(center_id, seen)

    def seen(self, center_id: str, at: int) -> None:
        self.seen_at[center_id] = at
        self.store.record_heartbeat(center_id, at, backlog=0, quarantined_deletes=0, sources=[])

    def _apply(self, center_id: str, changes: list[Any]) -> None:
        prev = self.seqs.get(center_id, 0)
        for i, ch in enumerate(changes, start=1):
            ch.seq = prev + i
            ch.center_id = center_id
        # Applying is contact too: keep last_seen what the test chose.
        result = self.store.apply_batch(
            center_id, prev, changes, self.seen_at.get(center_id, NOW - DAY)
        )
        assert result.applied == len(changes), result
        self.seqs[center_id] = prev + len(changes)

    def equipment(
        self,
        center_id: str,
        eq_id: str,
        *,
        category: str = "battery-cycler",
        name_ko: str | None = None,
        name_en: str | None = None,
        capabilities: Iterable[str] = ("cycling",),
        status: str = "available",
        stages: Iterable[str] = ("validation",),
        services: Iterable[str] = ("test-analysis",),
        hours: Iterable[tuple[int, int, int]] = (),
        rules: tuple[int, int, int] | None = None,
    ) -> None:
        eq = pb.Equipment(
            id=eq_id,
            name_ko=name_ko if name_ko is not None else f"장비 {eq_id}",
            name_en=name_en if name_en is not None else f"Equipment {eq_id}",
            category=category,
            capabilities=list(capabilities),
            status=codes.STATUS.value(status),
            stages=[codes.STAGE.value(s) for s in stages],
            services=[codes.SERVICE.value(s) for s in services],
            operating_hours=[
                pb.WeeklyHours(weekday=w, start_minute=s, end_minute=e) for w, s, e in hours
            ],
        )
        if rules is not None:
            eq.booking_rules.CopyFrom(
                pb.BookingRules(
                    min_slot_minutes=rules[0], max_slot_minutes=rules[1], lead_time_minutes=rules[2]
                )
            )
        key = pb.RecordKey(kind=pb.RECORD_KIND_EQUIPMENT, id=eq_id)
        self._apply(center_id, [pb.Change(key=key, equipment=eq)])

    def entry(self, center_id: str, eq_id: str, start: int, end: int, kind: str = "booked") -> str:
        entry_id = f"en-{eq_id}-{self.seqs.get(center_id, 0) + 1}"
        en = pb.CalendarEntry(
            id=entry_id,
            equipment_id=eq_id,
            start=timeconv.from_epoch(start),
            end=timeconv.from_epoch(end),
            kind=codes.ENTRY_KIND.value(kind),
        )
        key = pb.RecordKey(kind=pb.RECORD_KIND_ENTRY, id=entry_id)
        self._apply(center_id, [pb.Change(key=key, entry=en)])
        return entry_id

    def delete_entry(self, center_id: str, entry_id: str) -> None:
        key = pb.RecordKey(kind=pb.RECORD_KIND_ENTRY, id=entry_id)
        self._apply(center_id, [pb.Change(key=key, deleted=True)])

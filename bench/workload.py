"""The benchmark's data: per center, equipment and calendar rows as a center writes them.

Rows are the canonical CSV columns of ``agent.sources.fields`` (the agent reads them with
its real CSV source). Everything is deterministic from (center index, record index,
version), so a run is reproducible and a "change" is a new version of a few rows.

Sizes are chosen to look like a real center: an equipment record carries Korean and
English names, capabilities, stages, services, weekly hours and booking rules (~300
bytes as protobuf); a calendar entry is ids, two instants and a kind (~50 bytes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

_CATEGORIES = (
    ("battery-cycler", "배터리 충방전 시험기", "Battery cycler", "cycling;impedance;8-channel"),
    ("xrd", "X선 회절 분석기", "X-ray diffractometer", "powder;thin-film;high-temperature"),
    ("sem", "주사전자현미경", "Scanning electron microscope", "eds;ebsd;low-vacuum"),
    ("thermal-chamber", "항온항습 챔버", "Thermal chamber", "-40C;150C;humidity"),
    ("emc-chamber", "전자파 시험 챔버", "EMC chamber", "radiated;conducted;3m"),
    ("coater", "파일럿 코팅기", "Pilot coater", "slot-die;roll-to-roll;500mm"),
    ("cnc", "5축 가공기", "5-axis machining center", "titanium;inconel;prototype"),
    ("cae", "CAE 해석 서버", "CAE cluster", "fea;cfd;crash"),
)
_MAKERS = (("Maccor", "Series 4000"), ("Bruker", "D8 Advance"), ("Hitachi", "SU8600"))
_STATUSES = ("available", "available", "available", "limited", "maintenance")
_KINDS = ("booked", "booked", "booked", "tentative", "maintenance")
_EPOCH = datetime(2027, 3, 1, 9, 0)  # local (Asia/Seoul) time of the first booking


@dataclass
class CenterData:
    """One center's current rows; ``change_*`` bumps a row's version in place."""

    index: int
    equipment_count: int
    entry_count: int
    eq_versions: list[int] = field(default_factory=list)
    en_versions: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.eq_versions = [0] * self.equipment_count
        self.en_versions = [0] * self.entry_count

    @property
    def center_id(self) -> str:
        return center_id(self.index)

    @property
    def records(self) -> int:
        return self.equipment_count + self.entry_count

    def equipment_rows(self) -> list[dict[str, object]]:
        return [equipment_row(i, v) for i, v in enumerate(self.eq_versions)]

    def calendar_rows(self) -> list[dict[str, object]]:
        return [calendar_row(i, v, self.equipment_count) for i, v in enumerate(self.en_versions)]

    def change_equipment(self, i: int) -> None:
        self.eq_versions[i % self.equipment_count] += 1

    def change_entry(self, i: int) -> None:
        self.en_versions[i % self.entry_count] += 1


def center_id(index: int) -> str:
    return f"KR-BN-{index + 1:04d}"


def split(records: int) -> tuple[int, int]:
    """(equipment, entries) for ``records`` per center: 10% equipment, as in 200 + 1,800."""
    equipment = max(1, records // 10)
    return equipment, max(1, records - equipment)


def equipment_row(i: int, version: int) -> dict[str, object]:
    code, ko, en, caps = _CATEGORIES[i % len(_CATEGORIES)]
    maker, model = _MAKERS[i % len(_MAKERS)]
    return {
        "id": f"EQ-{i + 1:05d}",
        "name_ko": f"{ko} {i + 1}호기",
        "name_en": f"{en} No. {i + 1}",
        "category": code,
        "status": _STATUSES[(i + version) % len(_STATUSES)],
        "capabilities": caps,
        "manufacturer": maker,
        "model": model,
        "year_acquired": 2012 + i % 13,
        "stages": "prototype;validation" if i % 2 else "design;development",
        "services": "equipment-use;test-analysis",
        "location": f"본관 {1 + i % 5}층 {100 + i % 40}호",
        # The version shows up in a field, so every change really changes the record.
        "fee_note": f"시간당 {50 + i % 7 * 10 + version},000원 (중소기업 50% 감면)",
        "min_slot_minutes": 60,
        "max_slot_minutes": 480,
        "lead_time_minutes": 1440,
        "hours": "mon-fri 09:00-12:00 13:00-18:00; sat 09:00-13:00",
    }


def calendar_row(i: int, version: int, equipment_count: int) -> dict[str, object]:
    start = _EPOCH + timedelta(hours=4 * i + version)
    end = start + timedelta(hours=2 + i % 3)
    return {
        "id": f"BK-{i + 1:06d}",
        "equipment_id": f"EQ-{i % equipment_count + 1:05d}",
        "start": start.isoformat(timespec="minutes"),
        "end": end.isoformat(timespec="minutes"),
        "kind": _KINDS[i % len(_KINDS)],
    }

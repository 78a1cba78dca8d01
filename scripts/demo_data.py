"""Demo centers and their equipment/calendar CSVs: one center per industry.

The centers are illustrative (not real institutions); equipment kinds, makers
and R&D stages follow DESIGN.md's secondary-battery example and what such
centers typically hold. Data is deterministic for a given seed and start time.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

SEOUL = ZoneInfo("Asia/Seoul")


@dataclass(frozen=True)
class DemoCenter:
    id: str
    industry: str
    name_ko: str
    name_en: str
    region: str
    role: str


@dataclass(frozen=True)
class Kind:
    """An equipment kind a center may hold several units of."""

    category: str
    name_ko: str
    name_en: str
    capabilities: str
    manufacturer: str
    stages: str
    services: str
    hours: str


CENTERS = [
    DemoCenter(
        "KR-MR-0001",
        "machinery-robotics",
        "창원 기계로봇 시험평가센터",
        "Changwon Machinery & Robotics Test Center",
        "gyeongnam",
        "representative",
    ),
    DemoCenter(
        "KR-BI-0001",
        "bio",
        "오송 바이오의약 실증지원센터",
        "Osong Biopharma Validation Center",
        "chungbuk",
        "representative",
    ),
    DemoCenter(
        "KR-MT-0001",
        "materials",
        "포항 첨단소재 분석센터",
        "Pohang Advanced Materials Analysis Center",
        "gyeongbuk",
        "representative",
    ),
    DemoCenter(
        "KR-AA-0001",
        "automotive-aerospace",
        "광주 미래차 부품시험센터",
        "Gwangju Future Vehicle Parts Test Center",
        "gwangju",
        "representative",
    ),
    DemoCenter(
        "KR-EE-0001",
        "electrical-electronics",
        "오창 이차전지 안전성평가센터",
        "Ochang Secondary Battery Safety Center",
        "chungbuk",
        "representative",
    ),
    DemoCenter(
        "KR-SO-0001",
        "shipbuilding-ocean",
        "울산 조선해양 기자재 시험센터",
        "Ulsan Shipbuilding & Ocean Equipment Test Center",
        "ulsan",
        "representative",
    ),
]

WEEKDAYS = "mon-fri 09:00-18:00"
KINDS: dict[str, list[Kind]] = {
    "machinery-robotics": [
        Kind(
            "cnc-machining",
            "5축 CNC 가공기",
            "5-axis CNC machining center",
            "5-axis;titanium",
            "DN Solutions",
            "prototype;mass-production",
            "equipment-use;training",
            WEEKDAYS,
        ),
        Kind(
            "robot-test",
            "협동로봇 성능시험기",
            "Collaborative robot performance tester",
            "iso-9283;payload-20kg",
            "Doosan Robotics",
            "validation",
            "test-analysis",
            WEEKDAYS,
        ),
        Kind(
            "cmm",
            "3차원 측정기",
            "Coordinate measuring machine",
            "accuracy-1um",
            "Zeiss",
            "prototype;validation",
            "test-analysis",
            WEEKDAYS,
        ),
    ],
    "bio": [
        Kind(
            "bioreactor",
            "50L 바이오리액터",
            "50 L bioreactor",
            "gmp;cell-culture",
            "Sartorius",
            "development;prototype",
            "equipment-use",
            "mon-sun 00:00-24:00",
        ),
        Kind(
            "hplc",
            "고성능 액체크로마토그래피",
            "HPLC system",
            "uv-detector;purity",
            "Agilent",
            "development;validation",
            "test-analysis",
            WEEKDAYS,
        ),
        Kind(
            "lc-ms",
            "질량분석기 (LC-MS/MS)",
            "LC-MS/MS mass spectrometer",
            "proteomics",
            "Thermo Fisher",
            "validation",
            "test-analysis",
            WEEKDAYS,
        ),
    ],
    "materials": [
        Kind(
            "xrd",
            "X선 회절분석기",
            "X-ray diffractometer",
            "powder;thin-film",
            "Bruker",
            "design;development",
            "test-analysis",
            WEEKDAYS,
        ),
        Kind(
            "sem",
            "주사전자현미경",
            "Scanning electron microscope",
            "eds;1nm-resolution",
            "Hitachi",
            "design;development",
            "test-analysis;training",
            WEEKDAYS,
        ),
        Kind(
            "tensile-test",
            "만능재료시험기",
            "Universal testing machine",
            "100kN;high-temp",
            "Instron",
            "validation",
            "test-analysis",
            WEEKDAYS,
        ),
    ],
    "automotive-aerospace": [
        Kind(
            "emc-chamber",
            "전자파 적합성 챔버",
            "EMC anechoic chamber",
            "cispr-25;iso-11452",
            "ETS-Lindgren",
            "validation;commercialization",
            "test-analysis",
            WEEKDAYS,
        ),
        Kind(
            "vibration-test",
            "3축 진동시험기",
            "Tri-axial vibration shaker",
            "50kN;thermal",
            "IMV",
            "validation",
            "test-analysis",
            WEEKDAYS,
        ),
        Kind(
            "motor-dyno",
            "구동모터 다이나모",
            "EV drive motor dynamometer",
            "250kW;efficiency-map",
            "AVL",
            "development;validation",
            "test-analysis",
            "mon-sat 08:00-22:00",
        ),
    ],
    "electrical-electronics": [
        Kind(
            "battery-cycler",
            "배터리 충방전 시험기",
            "Battery cycler bank",
            "cell;module;512-ch",
            "Maccor",
            "validation",
            "test-analysis",
            "mon-sun 00:00-24:00",
        ),
        Kind(
            "abuse-chamber",
            "배터리 안전성(열폭주) 챔버",
            "Battery abuse & thermal runaway chamber",
            "nail-penetration;overcharge",
            "Espec",
            "validation;commercialization",
            "test-analysis",
            WEEKDAYS,
        ),
        Kind(
            "pilot-coater",
            "파일럿 전극 코터",
            "Pilot electrode coater",
            "roll-to-roll;nmp",
            "PNT",
            "prototype",
            "equipment-use;training",
            WEEKDAYS,
        ),
    ],
    "shipbuilding-ocean": [
        Kind(
            "welding-robot",
            "용접 로봇 셀",
            "Welding robot cell",
            "fcaw;hull-block",
            "Hyundai Robotics",
            "prototype;mass-production",
            "equipment-use;training",
            WEEKDAYS,
        ),
        Kind(
            "salt-spray",
            "염수분무 시험기",
            "Salt spray chamber",
            "iso-9227;marine",
            "Q-Lab",
            "validation",
            "test-analysis",
            WEEKDAYS,
        ),
        Kind(
            "towing-tank",
            "예인수조 모형시험",
            "Towing tank model test",
            "resistance;propulsion",
            "in-house",
            "design;validation",
            "test-analysis;consulting",
            WEEKDAYS,
        ),
    ],
}

EQUIPMENT_HEADER = [
    "id",
    "name_ko",
    "name_en",
    "category",
    "status",
    "capabilities",
    "manufacturer",
    "model",
    "year_acquired",
    "stages",
    "services",
    "location",
    "fee_note",
    "hours",
]
CALENDAR_HEADER = ["id", "equipment_id", "start", "end", "kind", "customer"]
STATUSES = ["available"] * 8 + ["limited", "maintenance"]
KINDS_OF_ENTRY = ["booked"] * 6 + ["tentative", "maintenance"]
CUSTOMERS = ["(주)한빛배터리", "대성정밀", "미래모빌리티", "바이오젠텍", "해양기술(주)"]


def write_center(
    center: DemoCenter,
    directory: Path,
    now: datetime,
    *,
    units: int = 4,
    entries_per_unit: int = 6,
    seed: int = 7,
) -> tuple[int, int]:
    """Write equipment.csv and calendar.csv for one center; return (equipment, entries).

    The calendar has a `customer` column on purpose: the agent must drop it.
    """
    rng = random.Random(f"{seed}:{center.id}")
    equipment_rows, calendar_rows = [], []
    local_start = now.astimezone(SEOUL).replace(hour=9, minute=0, second=0, microsecond=0)
    for k, kind in enumerate(KINDS[center.industry]):
        for u in range(units):
            eq_id = f"EQ-{k + 1}{u + 1:02d}"
            equipment_rows.append(
                {
                    "id": eq_id,
                    "name_ko": f"{kind.name_ko} #{u + 1}",
                    "name_en": f"{kind.name_en} #{u + 1}",
                    "category": kind.category,
                    "status": rng.choice(STATUSES),
                    "capabilities": kind.capabilities,
                    "manufacturer": kind.manufacturer,
                    "model": f"M-{rng.randint(100, 999)}",
                    "year_acquired": str(rng.randint(2012, 2025)),
                    "stages": kind.stages,
                    "services": kind.services,
                    "location": f"{rng.randint(1, 4)}동 {rng.randint(101, 420)}호",
                    "fee_note": f"시간당 {rng.randint(3, 40) * 10000:,}원",
                    "hours": kind.hours,
                }
            )
            day = local_start
            for n in range(entries_per_unit):
                day += timedelta(days=rng.randint(0, 2), hours=rng.choice([0, 2, 4]))
                length = timedelta(hours=rng.choice([2, 3, 4, 8]))
                calendar_rows.append(
                    {
                        "id": f"B-{eq_id}-{n + 1:03d}",
                        "equipment_id": eq_id,
                        "start": day.strftime("%Y-%m-%dT%H:%M"),  # naive: the center's time zone
                        "end": (day + length).strftime("%Y-%m-%dT%H:%M"),
                        "kind": rng.choice(KINDS_OF_ENTRY),
                        "customer": rng.choice(CUSTOMERS),
                    }
                )
                day += length
    write_csv(directory / "equipment.csv", EQUIPMENT_HEADER, equipment_rows)
    write_csv(directory / "calendar.csv", CALENDAR_HEADER, calendar_rows)
    return len(equipment_rows), len(calendar_rows)


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    """Write atomically (temp file + rename), as a center's export job should."""
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))

"""The availability search at national scale: 1,000 centers, 100,000 equipment,
1,000,000 calendar entries, on SQLite and PostgreSQL.

The data is generated from a seed and bulk-inserted with the drivers directly (sqlite3
executemany in one transaction; psycopg COPY), into a database migrated by
``Store.open`` (indexes included, 0004's partial index of long entries too), then ANALYZEd.
Then ``hub.availability.search`` runs in-process, timed per call:

- ``category``: a category + a window of 1-14 days starting within 30 days + 2/4/8 h;
- ``text``: a Korean or English name fragment + the same kind of window.

Shape of the data (documented in docs/benchmarks.md): 6 industries, 120 categories
(~830 equipment each), 17 regions, 3% of centers stale; 85% available, 8% limited,
7% unusable; four operating-hours templates (24/7 for 15%); booking rules on half the
equipment; 10 entries per equipment within +-60 days of "now" (bookings of 1-8 h,
maintenance of 1-3 days, closures of 1-7 days).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench import hubproc
from hub.availability import SearchQuery, search
from hub.store import Store

SEOUL = ZoneInfo("Asia/Seoul")
NOW = int(datetime(2027, 3, 1, 9, 0, tzinfo=SEOUL).timestamp())
STALE_AFTER = 30
DAY = 86_400
HOUR = 3_600

INDUSTRIES = {
    "machinery-robotics": "MR",
    "bio": "BI",
    "materials": "MA",
    "automotive-aerospace": "AA",
    "electrical-electronics": "EE",
    "shipbuilding-ocean": "SO",
}
REGIONS = [
    "서울", "부산", "대구", "인천", "광주", "대전", "울산", "세종", "경기",
    "강원", "충북", "충남", "전북", "전남", "경북", "경남", "제주",
]  # fmt: skip

# (code, Korean name, English name) per industry; each gets a standard and a
# high-capacity variant: 6 x 10 x 2 = 120 categories.
KINDS: dict[str, list[tuple[str, str, str]]] = {
    "machinery-robotics": [
        ("cnc-machining-center", "CNC 머시닝센터", "CNC machining center"),
        ("cmm", "3차원 측정기", "coordinate measuring machine"),
        ("robot-arm-tester", "로봇암 성능시험기", "robot arm tester"),
        ("fatigue-tester", "피로시험기", "fatigue testing machine"),
        ("laser-cutter", "레이저 절단기", "laser cutter"),
        ("metal-3d-printer", "금속 3D 프린터", "metal 3D printer"),
        ("vibration-tester", "진동시험기", "vibration tester"),
        ("gear-analyzer", "기어 측정기", "gear analyzer"),
        ("hydraulic-press", "유압 프레스", "hydraulic press"),
        ("noise-chamber", "소음 측정실", "noise measurement chamber"),
    ],
    "bio": [
        ("pcr", "실시간 PCR", "real-time PCR"),
        ("flow-cytometer", "유세포 분석기", "flow cytometer"),
        ("confocal-microscope", "공초점 현미경", "confocal microscope"),
        ("bioreactor", "생물반응기", "bioreactor"),
        ("hplc", "고성능 액체크로마토그래피", "HPLC"),
        ("lc-ms", "액체크로마토그래피 질량분석기", "LC-MS mass spectrometer"),
        ("freeze-dryer", "동결건조기", "freeze dryer"),
        ("cell-sorter", "세포 분리기", "cell sorter"),
        ("ngs-sequencer", "차세대 염기서열 분석기", "NGS sequencer"),
        ("centrifuge", "초원심분리기", "ultracentrifuge"),
    ],
    "materials": [
        ("xrd", "X선 회절분석기", "X-ray diffractometer"),
        ("sem", "주사전자현미경", "scanning electron microscope"),
        ("tem", "투과전자현미경", "transmission electron microscope"),
        ("xps", "X선 광전자분광기", "XPS spectrometer"),
        ("dsc", "시차주사열량계", "differential scanning calorimeter"),
        ("tga", "열중량분석기", "thermogravimetric analyzer"),
        ("utm", "만능재료시험기", "universal testing machine"),
        ("sputter", "스퍼터 증착장비", "sputter deposition system"),
        ("glovebox", "글로브박스", "glovebox"),
        ("ftir", "적외선 분광기", "FTIR spectrometer"),
    ],
    "automotive-aerospace": [
        ("battery-cycler", "배터리 충방전기", "battery cycler"),
        ("thermal-chamber", "항온항습 챔버", "thermal chamber"),
        ("abuse-tester", "배터리 안전성 시험기", "battery abuse tester"),
        ("chassis-dyno", "차대 동력계", "chassis dynamometer"),
        ("wind-tunnel", "풍동", "wind tunnel"),
        ("crash-sled", "충돌 슬레드", "crash sled"),
        ("emc-chamber", "전자파 챔버", "EMC chamber"),
        ("composite-autoclave", "복합재 오토클레이브", "composite autoclave"),
        ("engine-dyno", "엔진 동력계", "engine dynamometer"),
        ("salt-spray", "염수분무 시험기", "salt spray tester"),
    ],
    "electrical-electronics": [
        ("probe-station", "프로브 스테이션", "probe station"),
        ("oscilloscope", "고속 오실로스코프", "high-speed oscilloscope"),
        ("network-analyzer", "네트워크 분석기", "network analyzer"),
        ("reflow-oven", "리플로우 오븐", "reflow oven"),
        ("wire-bonder", "와이어 본더", "wire bonder"),
        ("esd-tester", "정전기 시험기", "ESD tester"),
        ("power-analyzer", "전력 분석기", "power analyzer"),
        ("semiconductor-analyzer", "반도체 특성 분석기", "semiconductor parameter analyzer"),
        ("pcb-inspector", "PCB 검사기", "PCB inspection system"),
        ("anechoic-chamber", "전파 무반사실", "anechoic chamber"),
    ],
    "shipbuilding-ocean": [
        ("towing-tank", "예인수조", "towing tank"),
        ("welding-robot", "용접 로봇", "welding robot"),
        ("corrosion-tester", "부식 시험기", "corrosion tester"),
        ("pressure-chamber", "고압 챔버", "pressure chamber"),
        ("hull-scanner", "선체 스캐너", "hull scanner"),
        ("propeller-tester", "프로펠러 시험기", "propeller tester"),
        ("wave-basin", "조파 수조", "wave basin"),
        ("cable-tester", "해저 케이블 시험기", "subsea cable tester"),
        ("ndt-ultrasonic", "초음파 비파괴 검사기", "ultrasonic NDT system"),
        ("lng-cryo-tester", "LNG 극저온 시험기", "LNG cryogenic tester"),
    ],
}
VARIANTS = [("", "", ""), ("-hc", " 대용량", " high-capacity")]
TEXT_TERMS = [
    "충방전", "현미경", "시험기", "분석기", "챔버", "동력계", "PCR", "3D",
    "cycler", "microscope", "tester", "Analyzer", "chamber", "spectrometer", "oven", "tank",
]  # fmt: skip
CAPABILITIES = ["cycling", "eis", "high-voltage", "cryogenic", "vacuum", "automated",
                "iso17025", "large-sample"]  # fmt: skip
STAGES = ["planning", "design", "development", "prototype", "validation",
          "commercialization", "mass-production"]  # fmt: skip
SERVICES = ["equipment-use", "test-analysis", "consulting", "training"]
WEEKDAYS = [1, 2, 3, 4, 5]
TEMPLATES = [
    (0.60, [[d, 540, 1080] for d in WEEKDAYS]),
    (0.15, [[d, 480, 1200] for d in WEEKDAYS] + [[6, 540, 780]]),
    (0.10, [[d, s, e] for d in [*WEEKDAYS, 6] for s, e in ((540, 720), (780, 1080))]),
    (0.15, []),
]
STATUSES = [(0.85, "available"), (0.08, "limited"), (0.04, "maintenance"),
            (0.02, "out-of-service"), (0.01, "retired")]  # fmt: skip


def _pick(rng: random.Random, weighted: list[tuple[float, Any]]) -> Any:
    x = rng.random()
    for weight, value in weighted:
        x -= weight
        if x < 0:
            return value
    return weighted[-1][1]


def categories() -> list[tuple[str, str, str, str]]:
    """(industry, code, name_ko, name_en) of every category."""
    return [
        (ind, code + v, ko + vko, en + ven)
        for ind, kinds in KINDS.items()
        for code, ko, en in kinds
        for v, vko, ven in VARIANTS
    ]


@dataclass
class Data:
    centers: list[tuple[Any, ...]] = field(default_factory=list)
    sync: list[tuple[Any, ...]] = field(default_factory=list)
    equipment: list[tuple[Any, ...]] = field(default_factory=list)
    entries: list[tuple[Any, ...]] = field(default_factory=list)


EQUIPMENT_COLUMNS = (
    "center_id", "id", "name_ko", "name_en", "category", "capabilities", "manufacturer",
    "model", "year_acquired", "status", "stages", "services", "location", "fee_note",
    "min_slot_minutes", "max_slot_minutes", "lead_time_minutes", "operating_hours",
    "version", "updated_at",
)  # fmt: skip
ENTRY_COLUMNS = ("center_id", "id", "equipment_id", "start_at", "end_at", "kind", "version",
                 "updated_at")  # fmt: skip


def generate(seed: int, n_centers: int, per_center: int, entries_per: int) -> Data:
    rng = random.Random(seed)
    cats = categories()
    by_industry: dict[str, list[tuple[str, str, str, str]]] = {}
    for c in cats:
        by_industry.setdefault(c[0], []).append(c)
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    templates = [(w, dumps(t)) for w, t in TEMPLATES]
    data = Data()
    industries = list(INDUSTRIES)
    for i in range(n_centers):
        industry = industries[i % len(industries)]
        cid = f"KR-{INDUSTRIES[industry]}-{i:04d}"
        data.centers.append(
            (cid, f"벤치 센터 {i}", f"Bench center {i}", industry, rng.choice(REGIONS),
             "participating", "Asia/Seoul", NOW - 30 * DAY)
        )  # fmt: skip
        stale = rng.random() < 0.03
        seen = NOW - (DAY if stale else 5)
        data.sync.append((cid, 1, NOW - 3600, seen, not stale))
        pool = by_industry[industry]
        version = 1
        for j in range(per_center):
            _, cat, ko, en = rng.choice(pool)
            eid = f"eq-{j:04d}"
            caps = rng.sample(CAPABILITIES, rng.randint(1, 3))
            rules = (
                (rng.choice([0, 30, 60, 120]), rng.choice([0, 480, 1440, 4320]),
                 rng.choice([0, 60, 1440, 2880]))
                if rng.random() < 0.5 else (None, None, None)
            )  # fmt: skip
            model = f"M-{rng.randint(100, 999)}"
            data.equipment.append(
                (cid, eid, f"{ko} {model}", f"{en} {model}", cat, dumps(caps), "Maker",
                 model, 2015, _pick(rng, STATUSES),
                 dumps(sorted(rng.sample(STAGES, rng.randint(1, 3)), key=STAGES.index)),
                 dumps(rng.sample(SERVICES, rng.randint(1, 2))), "Bldg 1", "",
                 rules[0], rules[1], rules[2], _pick(rng, templates), version, NOW - DAY)
            )  # fmt: skip
            version += 1
            for k in range(entries_per):
                kind = _pick(rng, [(0.80, "booked"), (0.12, "tentative"),
                                   (0.05, "maintenance"), (0.03, "closure")])  # fmt: skip
                day = NOW + rng.randint(-60, 60) * DAY
                if kind in ("booked", "tentative"):
                    start = day + rng.randint(0, 9) * HOUR
                    end = start + rng.randint(1, 8) * HOUR
                elif kind == "maintenance":
                    start, end = day, day + rng.randint(1, 3) * DAY
                else:
                    start, end = day, day + rng.randint(1, 7) * DAY
                data.entries.append((cid, f"{eid}-{k}", eid, start, end, kind, version, NOW - DAY))
                version += 1
    return data


def _insert_sqlite(store: Store, data: Data) -> None:
    raw = store.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("BEGIN")
        cur.executemany(
            "INSERT INTO centers (id, name_ko, name_en, industry, region, role, time_zone, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            data.centers,
        )
        cur.executemany(
            "INSERT INTO center_sync (center_id, hwm, last_sync, last_seen, connected) "
            "VALUES (?, ?, ?, ?, ?)",
            data.sync,
        )
        marks = ", ".join("?" * len(EQUIPMENT_COLUMNS))
        cur.executemany(
            f"INSERT INTO equipment ({', '.join(EQUIPMENT_COLUMNS)}) VALUES ({marks})",
            data.equipment,
        )
        marks = ", ".join("?" * len(ENTRY_COLUMNS))
        cur.executemany(
            f"INSERT INTO entries ({', '.join(ENTRY_COLUMNS)}) VALUES ({marks})", data.entries
        )
        cur.execute("COMMIT")
        cur.execute("ANALYZE")
    finally:
        raw.close()


def _insert_postgresql(store: Store, data: Data) -> None:
    raw = store.engine.raw_connection()
    try:
        conn: Any = raw.driver_connection
        with conn.cursor() as cur:
            for table, cols, rows in (
                ("centers", ("id", "name_ko", "name_en", "industry", "region", "role",
                             "time_zone", "created_at"), data.centers),
                ("center_sync", ("center_id", "hwm", "last_sync", "last_seen", "connected"),
                 data.sync),
                ("equipment", EQUIPMENT_COLUMNS, data.equipment),
                ("entries", ENTRY_COLUMNS, data.entries),
            ):  # fmt: skip
                with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        conn.commit()
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
        conn.autocommit = False
    finally:
        raw.close()


def load(store: Store, data: Data) -> None:
    if store.dialect == "sqlite":
        _insert_sqlite(store, data)
    else:
        _insert_postgresql(store, data)


def queries(seed: int, kind: str, count: int) -> list[SearchQuery]:
    rng = random.Random(seed * 7919 + (1 if kind == "text" else 0))
    cats = categories()
    out = []
    for _ in range(count):
        start = NOW + rng.randint(0, 30 * 24) * HOUR
        end = start + rng.randint(1, 14) * DAY
        hours = rng.choice([2, 4, 8])
        if kind == "category":
            out.append(
                SearchQuery(window_from=start, window_to=end, hours=hours,
                            category=rng.choice(cats)[1])
            )  # fmt: skip
        else:
            out.append(
                SearchQuery(window_from=start, window_to=end, hours=hours,
                            text=rng.choice(TEXT_TERMS))
            )  # fmt: skip
    return out


@dataclass
class Timing:
    kind: str
    samples: list[float]
    """Wall-clock seconds per search."""
    results: list[int]
    candidates: list[int]
    cpu: list[float] = field(default_factory=list)
    """CPU seconds of the searching thread (SQLite's work included, PostgreSQL's not):
    what the engine costs, whatever else the machine runs."""

    def pct(self, p: float, values: list[float] | None = None) -> float:
        ordered = sorted(self.samples if values is None else values)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    @property
    def summary(self) -> dict[str, float]:
        return {
            "p50_ms": round(self.pct(0.50), 2),
            "p95_ms": round(self.pct(0.95), 2),
            "p99_ms": round(self.pct(0.99), 2),
            "max_ms": round(max(self.samples) * 1000, 2),
            "cpu_p50_ms": round(self.pct(0.50, self.cpu), 2),
            "cpu_p95_ms": round(self.pct(0.95, self.cpu), 2),
            "mean_matched": round(statistics.mean(self.candidates), 1),
            "mean_results": round(statistics.mean(self.results), 1),
        }


def run_searches(store: Store, kind: str, qs: list[SearchQuery], warmup: int = 10) -> Timing:
    for q in qs[:warmup]:
        search(store, q, NOW, STALE_AFTER)
    t = Timing(kind, [], [], [])
    for q in qs:
        t0, c0 = time.perf_counter(), time.thread_time()
        answer = search(store, q, NOW, STALE_AFTER)
        t.samples.append(time.perf_counter() - t0)
        t.cpu.append(time.thread_time() - c0)
        t.results.append(len(answer.results))
        t.candidates.append(answer.matched)
    return t


@dataclass
class QueryOutcome:
    store: str
    build_seconds: float
    load_seconds: float
    centers: int
    equipment: int
    entries: int
    timings: list[Timing]


def run(
    url: str,
    *,
    seed: int = 1,
    centers: int = 1000,
    per_center: int = 100,
    entries_per: int = 10,
    searches: int = 200,
    log: Callable[[str], None] = print,
) -> QueryOutcome:
    t0 = time.perf_counter()
    data = generate(seed, centers, per_center, entries_per)
    built = time.perf_counter() - t0
    log(f"  generated {len(data.equipment):,} equipment, {len(data.entries):,} entries "
        f"in {built:.1f} s")  # fmt: skip
    with Store.open(url) as store:
        t0 = time.perf_counter()
        load(store, data)
        loaded = time.perf_counter() - t0
        log(f"  loaded into {store.dialect} in {loaded:.1f} s")
        timings = []
        for kind in ("category", "text"):
            timing = run_searches(store, kind, queries(seed, kind, searches))
            log(f"  {kind}: {timing.summary}")
            timings.append(timing)
    return QueryOutcome(
        store.dialect, built, loaded, len(data.centers), len(data.equipment),
        len(data.entries), timings,
    )  # fmt: skip


def table(outcomes: list[QueryOutcome]) -> Iterator[str]:
    yield (
        "| store | search | p50 ms | p95 ms | p99 ms | max ms | CPU p50 ms | CPU p95 ms "
        "| matched (mean) | results (mean) |"
    )
    yield "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for o in outcomes:
        for t in o.timings:
            s = t.summary
            yield (
                f"| {o.store} | {t.kind} ({len(t.samples)}) | {s['p50_ms']} | {s['p95_ms']} | "
                f"{s['p99_ms']} | {s['max_ms']} | {s['cpu_p50_ms']} | {s['cpu_p95_ms']} | "
                f"{s['mean_matched']} | {s['mean_results']} |"
            )


def main(kinds: list[str], json_path: Path | None = None, **scale: int) -> int:
    """Run the suite on each store kind in a fresh database; print the table."""
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="iplat-bench-query-") as tmp:
        for kind in kinds:
            print(f"[{kind}] availability search", flush=True)
            with hubproc.database(kind, Path(tmp), "query") as url:
                outcomes.append(run(url, log=lambda text: print(text, flush=True), **scale))
    print()
    print(
        f"Query: {outcomes[0].centers:,} centers, {outcomes[0].equipment:,} equipment, "
        f"{outcomes[0].entries:,} entries; wall-clock ms per search() in-process"
    )
    print()
    print("\n".join(table(outcomes)))
    if json_path is not None:
        json_path.write_text(
            json.dumps(
                {
                    o.store: {
                        "build_seconds": o.build_seconds,
                        "load_seconds": o.load_seconds,
                        **{t.kind: t.summary for t in o.timings},
                    }
                    for o in outcomes
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        prog="python -m bench.query", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--centers", type=int, default=1000)
    parser.add_argument("--per-center", type=int, default=100, help="equipment per center")
    parser.add_argument("--entries-per", type=int, default=10, help="entries per equipment")
    parser.add_argument("--searches", type=int, default=200, help="searches per kind")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path)
    a = parser.parse_args()
    raise SystemExit(
        main(
            ["sqlite", "postgresql"] if a.store == "both" else [a.store],
            a.json,
            centers=a.centers,
            per_center=a.per_center,
            entries_per=a.entries_per,
            searches=a.searches,
            seed=a.seed,
        )
    )

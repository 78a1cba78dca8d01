from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.config import SourceConfig
from agent.errors import SourceError
from agent.sources import CsvSource, Problem
from agent.sources.fields import format_hours
from proto import codes, pb, timeconv

SEOUL = ZoneInfo("Asia/Seoul")
EQ_HEADER = "id,name_ko,name_en,category,status"
CAL_HEADER = "id,equipment_id,start,end,kind"


def source(
    path: Path,
    kind: str = "calendar",
    columns: dict[str, str] | None = None,
    tz: ZoneInfo = SEOUL,
    **options: str,
) -> CsvSource:
    config = SourceConfig(
        name="test",
        type="csv",
        poll_seconds=60,
        watch=True,
        kind=kind,  # type: ignore[arg-type]
        path=path,
        columns=MappingProxyType(columns or {}),
        **options,  # type: ignore[arg-type]
    )
    return CsvSource(config, tz)


def write(tmp_path: Path, text: str, name: str = "data.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def utc(ts: object) -> datetime:
    return timeconv.to_datetime(ts)  # type: ignore[arg-type]


def test_equipment_all_columns_bom_korean(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "\ufeffid,name_ko,name_en,category,status,capabilities,manufacturer,model,year_acquired,"
        "stages,services,location,fee_note,min_slot_minutes,max_slot_minutes,lead_time_minutes,hours\n"
        "CYC-01,배터리 충방전기,Battery cycler,battery-cycler,사용가능,cycle-life; EIS | 4-probe,"
        "Maccor,S4000,2019,validation;prototype,test-analysis;equipment-use,B동 201호,"
        '"시간당 50,000원",60,480,1440,"mon-fri 09:00-12:00 13:00-18:00; sat 09:00-13:00"\n',
    )
    snap = source(path, "equipment").read()
    assert snap.problems == []
    (eq,) = snap.equipment
    assert eq.id == "CYC-01" and eq.name_ko == "배터리 충방전기" and eq.name_en == "Battery cycler"
    assert eq.status == pb.EQUIPMENT_STATUS_AVAILABLE
    assert list(eq.capabilities) == ["cycle-life", "EIS", "4-probe"]
    assert (eq.manufacturer, eq.model, eq.year_acquired) == ("Maccor", "S4000", 2019)
    assert list(eq.stages) == [pb.RD_STAGE_PROTOTYPE, pb.RD_STAGE_VALIDATION]
    assert list(eq.services) == [pb.SERVICE_KIND_EQUIPMENT_USE, pb.SERVICE_KIND_TEST_ANALYSIS]
    assert eq.location == "B동 201호" and eq.fee_note == "시간당 50,000원"
    r = eq.booking_rules
    assert (r.min_slot_minutes, r.max_slot_minutes, r.lead_time_minutes) == (60, 480, 1440)
    hours = [(h.weekday, h.start_minute, h.end_minute) for h in eq.operating_hours]
    assert len(hours) == 11
    assert hours[:2] == [(1, 540, 720), (1, 780, 1080)] and hours[-1] == (6, 540, 780)


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("사용가능", pb.EQUIPMENT_STATUS_AVAILABLE),
        ("가능", pb.EQUIPMENT_STATUS_AVAILABLE),
        ("Available", pb.EQUIPMENT_STATUS_AVAILABLE),
        ("제한", pb.EQUIPMENT_STATUS_LIMITED),
        ("점검", pb.EQUIPMENT_STATUS_MAINTENANCE),
        ("점검 중", pb.EQUIPMENT_STATUS_MAINTENANCE),
        ("유지보수", pb.EQUIPMENT_STATUS_MAINTENANCE),
        ("고장", pb.EQUIPMENT_STATUS_OUT_OF_SERVICE),
        ("out_of_service", pb.EQUIPMENT_STATUS_OUT_OF_SERVICE),
        ("폐기", pb.EQUIPMENT_STATUS_RETIRED),
        ("불용", pb.EQUIPMENT_STATUS_RETIRED),
    ],
)
def test_status_aliases(tmp_path: Path, word: str, status: int) -> None:
    path = write(tmp_path, f"{EQ_HEADER}\nX1,장비,,cat,{word}\n")
    (eq,) = source(path, "equipment").read().equipment
    assert eq.status == status


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("예약", pb.ENTRY_KIND_BOOKED),
        ("booked", pb.ENTRY_KIND_BOOKED),
        ("가예약", pb.ENTRY_KIND_TENTATIVE),
        ("점검", pb.ENTRY_KIND_MAINTENANCE),
        ("휴무", pb.ENTRY_KIND_CLOSURE),
        ("CLOSURE", pb.ENTRY_KIND_CLOSURE),
    ],
)
def test_kind_aliases(tmp_path: Path, word: str, kind: int) -> None:
    path = write(tmp_path, f"{CAL_HEADER}\nb1,X1,2026-03-02T09:00,2026-03-02T12:00,{word}\n")
    (en,) = source(path).read().entries
    assert en.kind == kind


def test_times_naive_offset_and_utc(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"{CAL_HEADER}\n"
        "naive,X1,2026-03-02T09:00,2026-03-02 12:30,booked\n"
        "offset,X1,2026-03-02T09:00+01:00,2026-03-02T10:00+01:00,booked\n"
        "zulu,X1,2026-03-02T00:00:00Z,2026-03-02T01:00:00Z,booked\n"
        "date,X1,2026-03-03,2026-03-04,closure\n",
    )
    got = {e.id: (utc(e.start), utc(e.end)) for e in source(path).read().entries}
    assert got["naive"] == (
        datetime(2026, 3, 2, 0, 0, tzinfo=UTC),
        datetime(2026, 3, 2, 3, 30, tzinfo=UTC),
    )
    assert got["offset"][0] == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert got["zulu"][0] == datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
    assert got["date"] == (
        datetime(2026, 3, 2, 15, tzinfo=UTC),
        datetime(2026, 3, 3, 15, tzinfo=UTC),
    )


def test_naive_times_across_dst_transitions(tmp_path: Path) -> None:
    """Berlin: clocks go 02:00 -> 03:00 on 2026-03-29 and 03:00 -> 02:00 on 2026-10-25."""
    path = write(
        tmp_path,
        f"{CAL_HEADER}\n"
        "spring,X1,2026-03-29T01:00,2026-03-29T04:00,booked\n"
        "gap,X1,2026-03-29T02:30,2026-03-29T05:00,booked\n"
        "autumn,X1,2026-10-25T01:00,2026-10-25T04:00,booked\n"
        "ambiguous,X1,2026-10-25T02:30,2026-10-25T03:30,booked\n",
    )
    got = {
        e.id: (utc(e.start), utc(e.end))
        for e in source(path, tz=ZoneInfo("Europe/Berlin")).read().entries
    }
    # 01:00 CET to 04:00 CEST is two real hours.
    assert got["spring"] == (
        datetime(2026, 3, 29, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 2, tzinfo=UTC),
    )
    # 02:30 does not exist: read with the offset before the gap (= 03:30 CEST).
    assert got["gap"][0] == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    # 01:00 CEST to 04:00 CET is four real hours.
    assert got["autumn"] == (
        datetime(2026, 10, 24, 23, tzinfo=UTC),
        datetime(2026, 10, 25, 3, tzinfo=UTC),
    )
    # The repeated 02:30 is its first occurrence (CEST).
    assert got["ambiguous"][0] == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_bad_rows_become_problems_with_line_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"{CAL_HEADER}\n"  # line 1
        "ok1,X1,2026-03-02T09:00,2026-03-02T10:00,booked\n"  # 2
        "inv,X1,2026-03-02T10:00,2026-03-02T09:00,booked\n"  # 3
        "\n"  # 4: blank, skipped
        "long,X1,2026-01-01T00:00,2036-01-01T00:00,booked\n"  # 5
        ",X1,2026-03-02T09:00,2026-03-02T10:00,booked\n"  # 6
        "badtime,X1,next tuesday,2026-03-02T10:00,booked\n"  # 7
        "badkind,X1,2026-03-02T09:00,2026-03-02T10:00,busy\n"  # 8
        '"multi\nline",X1,2026-03-02T09:00,2026-03-02T10:00,booked\n'  # 9-10
        "ok2,X1,2026-03-02T11:00,2026-03-02T12:00,booked,,\n"  # 11: empty padding is fine
        "ok1,X1,2026-03-02T13:00,2026-03-02T14:00,booked\n"  # 12: duplicate
        "wide,X1,2026-03-02T13:00,2026-03-02T14:00,booked,extra\n"  # 13
        "bad id!,X1,2026-03-02T09:00,2026-03-02T10:00,booked\n",  # 14
    )
    snap = source(path).read()
    assert [e.id for e in snap.entries] == ["ok1", "ok2"]
    assert snap.entries[0].end.seconds - snap.entries[0].start.seconds == 3600  # the first ok1 kept
    lines = {p.line: p.message for p in snap.problems}
    assert sorted(lines) == [3, 5, 6, 7, 8, 9, 12, 13, 14]
    assert "end is not after start" in lines[3]
    assert "longer than 366 days" in lines[5]
    assert "entry id is empty" in lines[6]
    assert "not an ISO 8601 time" in lines[7] and "next tuesday" in lines[7]
    assert "unknown calendar entry kind 'busy'" in lines[8] and "booked" in lines[8]
    assert "not a valid id" in lines[9]
    assert "duplicate id 'ok1' (first at line 2)" in lines[12]
    assert "6 fields but the header has 5" in lines[13]
    assert (
        str(snap.problems[0]) == "data.csv:3: end is not after start (inverted or empty interval)"
    )
    assert all(p.source == "test" and p.file == "data.csv" for p in snap.problems)


def test_equipment_problems(tmp_path: Path) -> None:
    long_name = "가" * 501
    path = write(
        tmp_path,
        f"{EQ_HEADER},stages,hours,year_acquired\n"
        "A,장비A,,cat,unknown-status,,,\n"  # 2
        "B,,,cat,available,,,\n"  # 3
        f"C,{long_name},,cat,available,,,\n"  # 4
        "D,장비D,,cat,available,design;cooking,,\n"  # 5
        "E,장비E,,cat,available,,mon 18:00-09:00,\n"  # 6
        "F,장비F,,cat,available,,,19xx\n"  # 7
        "G,장비G,,cat,available,,,1900\n"  # 8
        "H,장비H,,cat,available,,,2019.0\n",  # 9: spreadsheets write years as floats
    )
    snap = source(path, "equipment").read()
    assert [e.id for e in snap.equipment] == ["H"]
    msgs = {p.line: p.message for p in snap.problems}
    assert "unknown equipment status 'unknown-status'" in msgs[2] and "사용가능" in msgs[2]
    assert "needs a Korean or English name" in msgs[3]
    assert "name_ko is longer than 500" in msgs[4]
    assert "unknown R&D stage 'cooking'" in msgs[5]
    assert "ends before it starts" in msgs[6]
    assert "year_acquired must be a whole number" in msgs[7]
    assert "not a plausible year" in msgs[8]
    assert long_name not in str(snap.problems)  # messages stay readable


def test_column_mapping_and_case_insensitive_header(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "예약번호,장비번호,시작,종료,구분,고객명\n"
        "r1,X1,2026-03-02T09:00,2026-03-02T10:00,예약,홍길동\n",
    )
    mapping = {
        "id": "예약번호",
        "equipment_id": "장비번호",
        "start": "시작",
        "end": "종료",
        "kind": "구분",
    }
    (en,) = source(path, columns=mapping).read().entries
    assert (en.id, en.equipment_id, en.kind) == ("r1", "X1", pb.ENTRY_KIND_BOOKED)
    path2 = write(
        tmp_path, " ID , Equipment_ID,START,End,Kind\nr1,X1,2026-03-02,2026-03-03,booked\n", "b.csv"
    )
    assert len(source(path2).read().entries) == 1


def test_missing_column_is_a_source_error(tmp_path: Path) -> None:
    path = write(tmp_path, "id,equipment,start,end\nr1,X1,2026-03-02,2026-03-03\n")
    with pytest.raises(SourceError) as err:
        source(path, columns={"end": "end"}).read()
    msg = str(err.value)
    assert "equipment_id" in msg and "kind" in msg and "end (as" not in msg
    assert "Header found: id, equipment, start, end" in msg
    assert "end = 'end'" in msg and "[sources.columns]" in msg and str(path) in msg


def test_unreadable_files_are_source_errors(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="file not found; create it"):
        source(tmp_path / "missing.csv").read()
    with pytest.raises(SourceError, match="without even a header"):
        source(write(tmp_path, "\n\n")).read()
    with pytest.raises(SourceError, match='encoding = "cp949"'):
        source(write(tmp_path, f"{CAL_HEADER}\nr1,장비,x,y,z\n", encoding="cp949")).read()
    unclosed = (
        f'{CAL_HEADER}\nr1,"X1,2026-03-02,2026-03-03,booked\nr2,X1,2026-03-02,2026-03-03,booked\n'
    )
    with pytest.raises(SourceError, match=r"broken CSV structure near line 3.*unclosed quote"):
        source(write(tmp_path, unclosed)).read()
    with pytest.raises(SourceError, match="broken CSV structure near line 2"):
        source(write(tmp_path, f'{CAL_HEADER}\n"r1"x,X1,2026-03-02,2026-03-03,booked\n')).read()


def test_cp949_file_with_configured_encoding(tmp_path: Path) -> None:
    path = write(tmp_path, f"{EQ_HEADER}\nX1,전자현미경,SEM,sem,점검\n", encoding="cp949")
    (eq,) = source(path, "equipment", encoding="cp949").read().equipment
    assert eq.name_ko == "전자현미경" and eq.status == pb.EQUIPMENT_STATUS_MAINTENANCE


def test_header_only_is_an_empty_snapshot(tmp_path: Path) -> None:
    snap = source(write(tmp_path, f"\ufeff{CAL_HEADER}\r\n")).read()
    assert (snap.equipment, snap.entries, snap.problems) == ([], [], [])


def test_semicolon_delimiter_and_crlf(tmp_path: Path) -> None:
    path = write(
        tmp_path, "id;equipment_id;start;end;kind\r\nr1;X1;2026-03-02;2026-03-03;booked\r\n"
    )
    assert len(source(path, delimiter=";").read().entries) == 1


def test_customer_columns_never_leave(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "id,equipment_id,start,end,kind,customer,booked_by,phone\n"
        "r1,X1,2026-03-02T09:00,2026-03-02T10:00,booked,홍길동,(주)배터리랩 김철수,010-1234-5678\n"
        "r2,X1,bad,2026-03-02T10:00,booked,홍길동,(주)배터리랩 김철수,010-1234-5678\n",
    )
    snap = source(path).read()
    assert len(snap.entries) == 1 and len(snap.problems) == 1
    blob = b"".join(e.SerializeToString() for e in snap.entries)
    shown = str(snap.problems) + repr(snap.entries)
    for secret in ("홍길동", "김철수", "배터리랩", "010-1234-5678"):
        assert secret.encode() not in blob
        assert secret not in shown


def test_watch_paths(tmp_path: Path) -> None:
    assert source(tmp_path / "c.csv").watch_paths() == [tmp_path / "c.csv"]


# --- property test: rows written as CSV and read back are the same records ---

_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True)
_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), max_size=30
).map(str.strip)
_tag = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp", "Zs")),
    min_size=1,
    max_size=12,
).filter(lambda s: ";" not in s and "|" not in s)
_hours = st.lists(
    st.tuples(st.integers(1, 7), st.integers(0, 1439), st.integers(1, 1440)).filter(
        lambda t: t[1] < t[2]
    ),
    max_size=5,
    unique=True,
)


@st.composite
def equipment_rows(draw: st.DrawFn) -> list[pb.Equipment]:
    ids = draw(st.lists(_ids, min_size=0, max_size=6, unique=True))
    out = []
    for rid in ids:
        name_ko = draw(_text)
        eq = pb.Equipment(
            id=rid,
            name_ko=name_ko,
            name_en=draw(_text) if name_ko else draw(_text.filter(bool)),
            category=draw(_text),
            status=draw(st.sampled_from(list(codes.STATUS._to_code))),
            manufacturer=draw(_text),
            year_acquired=draw(st.sampled_from([0, 1950, 2019, 2100])),
            location=draw(_text),
        )
        eq.capabilities.extend(draw(st.lists(_tag, max_size=4, unique=True)))
        eq.stages.extend(sorted(draw(st.sets(st.sampled_from(list(codes.STAGE._to_code))))))
        eq.services.extend(sorted(draw(st.sets(st.sampled_from(list(codes.SERVICE._to_code))))))
        for d, s, e in sorted(draw(_hours)):
            eq.operating_hours.add(weekday=d, start_minute=s, end_minute=e)
        eq.booking_rules.min_slot_minutes = draw(st.integers(0, 100))
        eq.booking_rules.max_slot_minutes = draw(st.sampled_from([0, 600]))
        out.append(eq)
    return out


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(records=equipment_rows(), delimiter=st.sampled_from([",", ";", "\t"]), bom=st.booleans())
def test_equipment_round_trip(
    tmp_path: Path, records: list[pb.Equipment], delimiter: str, bom: bool
) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(["id", "name_ko", "name_en", "category", "status", "capabilities", "manufacturer",
                "year_acquired", "stages", "services", "location", "hours", "min_slot_minutes",
                "max_slot_minutes", "customer"])  # fmt: skip
    for eq in records:
        w.writerow([
            eq.id, eq.name_ko, eq.name_en, eq.category, codes.STATUS.code(eq.status),
            "|".join(eq.capabilities), eq.manufacturer, eq.year_acquired or "",
            ";".join(codes.STAGE.code(s) for s in eq.stages),
            ";".join(codes.SERVICE.code(s) for s in eq.services),
            eq.location, format_hours(eq.operating_hours),
            eq.booking_rules.min_slot_minutes or "", eq.booking_rules.max_slot_minutes, "홍길동",
        ])  # fmt: skip
    path = write(tmp_path, ("\ufeff" if bom else "") + buf.getvalue(), "eq.csv")
    snap = source(path, "equipment", delimiter=delimiter).read()
    assert snap.problems == []
    assert snap.equipment == records


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            _ids,
            _ids,
            # Ends stay inside the accepted years (start + up to 366 days < 2100).
            st.datetimes(datetime(2001, 1, 1), datetime(2098, 12, 1)),
            st.integers(60, 366 * 24 * 3600),
            st.sampled_from(codes.ENTRY_KIND.codes),
            st.sampled_from(["Z", "+09:00", "-05:30", ""]),
        ),
        max_size=8,
        unique_by=lambda r: r[0],
    )
)
def test_calendar_round_trip(
    tmp_path: Path, rows: list[tuple[str, str, datetime, int, str, str]]
) -> None:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["booked_by", *CAL_HEADER.split(",")])
    expected = []
    for rid, eid, start, seconds, kind, offset in rows:
        start = start.replace(microsecond=0)
        aware = (
            start.replace(tzinfo=SEOUL)
            if not offset
            else datetime.fromisoformat(start.isoformat() + offset)
        )
        end = datetime.fromtimestamp(aware.timestamp() + seconds, tz=UTC)
        w.writerow(["김철수", rid, eid, start.isoformat() + offset, end.isoformat(), kind])
        expected.append(
            pb.CalendarEntry(
                id=rid,
                equipment_id=eid,
                start=timeconv.from_datetime(aware),
                end=timeconv.from_datetime(end),
                kind=codes.ENTRY_KIND.value(kind),
            )
        )
    snap = source(write(tmp_path, buf.getvalue(), "cal.csv")).read()
    assert snap.problems == []
    assert snap.entries == expected


def test_problem_str() -> None:
    assert str(Problem("s", "calendar.csv", 17, "end is not after start")) == (
        "calendar.csv:17: end is not after start"
    )
    assert str(Problem("s", None, None, "x")) == "s: x"
    assert (
        str(Problem("s", "equipment_query", 5, "x", origin="query"))
        == "query equipment_query row 5: x"
    )

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.config import SourceConfig
from agent.errors import SourceError
from agent.sources import IcalSource
from agent.sources.ical import entry_id
from proto import identity, pb, timeconv

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)


def source(
    paths: list[Path], mode: str = "property", horizon_days: int = 28, default_kind: str = "booked"
) -> IcalSource:
    config = SourceConfig(
        name="ics",
        type="ical",
        poll_seconds=60,
        watch=True,
        paths=tuple(paths),
        equipment_id_from=mode,  # type: ignore[arg-type]
        horizon_days=horizon_days,
        default_kind=default_kind,
    )
    return IcalSource(config, SEOUL, clock=lambda: NOW)


def ics(*events: str, cal_props: str = "") -> str:
    body = "".join(f"BEGIN:VEVENT\r\n{e.strip()}\r\nEND:VEVENT\r\n" for e in events)
    body = body.replace("\n", "\r\n").replace("\r\r\n", "\r\n")
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
    return f"{head}{cal_props}{body}END:VCALENDAR\r\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def utc(ts: object) -> datetime:
    return timeconv.to_datetime(ts)  # type: ignore[arg-type]


WEEKLY = """
UID:weekly-1
X-IPLAT-EQUIPMENT-ID:CYC-01
DTSTART;TZID=Asia/Seoul:20260302T090000
DTEND;TZID=Asia/Seoul:20260302T120000
RRULE:FREQ=WEEKLY;BYDAY=MO
SUMMARY:홍길동 (주)배터리랩
ATTENDEE;CN=김철수:mailto:kim@battery.example
ORGANIZER:mailto:secret@center.example
DESCRIPTION:연락처 010-1234-5678
"""


def test_weekly_rrule_expands_within_horizon(tmp_path: Path) -> None:
    # Window: 2026-02-28T00:00Z .. 2026-03-29T00:00Z -> Mondays 2, 9, 16, 23 March.
    snap = source([write(tmp_path, "a.ics", ics(WEEKLY))]).read()
    assert snap.problems == []
    assert [utc(e.start) for e in snap.entries] == [
        datetime(2026, 3, d, 0, 0, tzinfo=UTC) for d in (2, 9, 16, 23)
    ]
    assert all(e.end.seconds - e.start.seconds == 3 * 3600 for e in snap.entries)
    assert snap.entries[0].id == entry_id("weekly-1", datetime(2026, 3, 2, tzinfo=UTC))
    assert all(identity.valid_name(e.id) for e in snap.entries)
    assert len({e.id for e in snap.entries}) == 4
    assert {(e.equipment_id, e.kind) for e in snap.entries} == {("CYC-01", pb.ENTRY_KIND_BOOKED)}
    longer = source([tmp_path / "a.ics"], horizon_days=90).read()
    assert len(longer.entries) == 13  # Mondays 2 March .. 25 May


def test_exdate_and_moved_instance(tmp_path: Path) -> None:
    text = ics(
        WEEKLY + "EXDATE;TZID=Asia/Seoul:20260309T090000\n",
        """
UID:weekly-1
X-IPLAT-EQUIPMENT-ID:CYC-01
RECURRENCE-ID;TZID=Asia/Seoul:20260316T090000
DTSTART;TZID=Asia/Seoul:20260317T140000
DTEND;TZID=Asia/Seoul:20260317T150000
""",
    )
    snap = source([write(tmp_path, "a.ics", text)]).read()
    assert snap.problems == []
    starts = {e.id: utc(e.start) for e in snap.entries}
    assert sorted(starts.values()) == [
        datetime(2026, 3, 2, 0, tzinfo=UTC),
        datetime(2026, 3, 17, 5, tzinfo=UTC),
        datetime(2026, 3, 23, 0, tzinfo=UTC),
    ]
    # The moved instance keeps the id of the slot it replaces.
    moved_id = entry_id("weekly-1", datetime(2026, 3, 16, 0, tzinfo=UTC))
    assert starts[moved_id] == datetime(2026, 3, 17, 5, tzinfo=UTC)


def test_tzid_floating_utc_and_all_day(tmp_path: Path) -> None:
    text = ics(
        "UID:berlin\nX-IPLAT-EQUIPMENT-ID:E1\n"
        "DTSTART;TZID=Europe/Berlin:20260310T090000\nDTEND;TZID=Europe/Berlin:20260310T100000",
        "UID:floating\nX-IPLAT-EQUIPMENT-ID:E1\nDTSTART:20260310T090000\nDURATION:PT2H",
        "UID:zulu\nX-IPLAT-EQUIPMENT-ID:E1\nDTSTART:20260310T090000Z\nDTEND:20260310T093000Z",
        "UID:allday\nX-IPLAT-EQUIPMENT-ID:E1\nDTSTART;VALUE=DATE:20260311\nDTEND;VALUE=DATE:20260313",
        "UID:oneday\nX-IPLAT-EQUIPMENT-ID:E1\nDTSTART;VALUE=DATE:20260320",
        "UID:past\nX-IPLAT-EQUIPMENT-ID:E1\nDTSTART:20250310T090000Z\nDTEND:20250310T093000Z",
        "UID:future\nX-IPLAT-EQUIPMENT-ID:E1\nDTSTART:20270310T090000Z\nDTEND:20270310T093000Z",
    )
    snap = source([write(tmp_path, "a.ics", text)]).read()
    assert snap.problems == []
    got = {e.id: (utc(e.start), utc(e.end)) for e in snap.entries}
    assert set(got) == {"berlin", "floating", "zulu", "allday", "oneday"}
    assert got["berlin"][0] == datetime(2026, 3, 10, 8, tzinfo=UTC)
    assert got["floating"] == (
        datetime(2026, 3, 10, 0, tzinfo=UTC),
        datetime(2026, 3, 10, 2, tzinfo=UTC),
    )
    assert got["zulu"][0] == datetime(2026, 3, 10, 9, tzinfo=UTC)
    # All-day: midnight to midnight in Seoul (UTC+9), end exclusive.
    assert got["allday"] == (
        datetime(2026, 3, 10, 15, tzinfo=UTC),
        datetime(2026, 3, 12, 15, tzinfo=UTC),
    )
    assert got["oneday"] == (
        datetime(2026, 3, 19, 15, tzinfo=UTC),
        datetime(2026, 3, 20, 15, tzinfo=UTC),
    )


def test_x_wr_timezone_applies_to_floating_times(tmp_path: Path) -> None:
    text = ics(
        "UID:f\nX-IPLAT-EQUIPMENT-ID:E1\nDTSTART:20260310T090000\nDTEND:20260310T100000",
        cal_props="X-WR-TIMEZONE:Europe/Berlin\r\n",
    )
    (entry,) = source([write(tmp_path, "a.ics", text)]).read().entries
    assert utc(entry.start) == datetime(2026, 3, 10, 8, tzinfo=UTC)


def test_transparent_cancelled_and_kinds(tmp_path: Path) -> None:
    base = "X-IPLAT-EQUIPMENT-ID:E1\nDTSTART:20260310T090000Z\nDTEND:20260310T100000Z\n"
    text = ics(
        "UID:free\nTRANSP:TRANSPARENT\n" + base,
        "UID:cancelled\nSTATUS:CANCELLED\n" + base,
        "UID:tentative\nSTATUS:TENTATIVE\n" + base,
        "UID:maint\nX-IPLAT-KIND:점검\n" + base,
        "UID:closed\nCATEGORIES:Meeting,closure\n" + base,
        "UID:plain\nTRANSP:OPAQUE\nSTATUS:CONFIRMED\n" + base,
        "UID:badkind\nX-IPLAT-KIND:busy\n" + base,
    )
    snap = source([write(tmp_path, "a.ics", text)], default_kind="maintenance").read()
    kinds = {e.id: e.kind for e in snap.entries}
    assert kinds == {
        "tentative": pb.ENTRY_KIND_TENTATIVE,
        "maint": pb.ENTRY_KIND_MAINTENANCE,
        "closed": pb.ENTRY_KIND_CLOSURE,
        "plain": pb.ENTRY_KIND_MAINTENANCE,  # the source's default_kind
    }
    (problem,) = snap.problems
    assert "unknown calendar entry kind 'busy'" in problem.message
    assert problem.file == "a.ics" and problem.line is not None


def test_equipment_from_filename(tmp_path: Path) -> None:
    event = "UID:b1\nDTSTART:20260310T090000Z\nDTEND:20260310T100000Z\nX-IPLAT-EQUIPMENT-ID:IGNORED"
    (tmp_path / "cal").mkdir()
    write(tmp_path / "cal", "XRD-01.ics", ics(event))
    write(tmp_path / "cal", "SEM_02.ICS", ics(event.replace("b1", "b2")))
    write(tmp_path / "cal", "장비 3.ics", ics(event.replace("b1", "b3")))
    write(tmp_path / "cal", "notes.txt", "not a calendar")
    src = source([tmp_path / "cal"], mode="filename")
    snap = src.read()
    assert sorted((e.id, e.equipment_id) for e in snap.entries) == [
        ("b1", "XRD-01"),
        ("b2", "SEM_02"),
    ]
    (problem,) = snap.problems
    assert problem.file == "장비 3.ics" and "rename the file" in problem.message
    assert src.watch_paths() == [tmp_path / "cal"]


def test_equipment_from_property_event_or_calendar(tmp_path: Path) -> None:
    times = "DTSTART:20260310T090000Z\nDTEND:20260310T100000Z"
    no_prop = write(
        tmp_path, "a.ics", ics(f"UID:x1\nX-IPLAT-EQUIPMENT-ID:E9\n{times}", f"UID:x2\n{times}")
    )
    snap = source([no_prop]).read()
    assert [(e.id, e.equipment_id) for e in snap.entries] == [("x1", "E9")]
    (problem,) = snap.problems
    assert problem.line == 11 and "no X-IPLAT-EQUIPMENT-ID property" in problem.message
    assert str(problem).startswith("a.ics:11: ")
    cal_level = write(
        tmp_path, "b.ics", ics(f"UID:y1\n{times}", cal_props="X-IPLAT-EQUIPMENT-ID:CAL-EQ\r\n")
    )
    assert [e.equipment_id for e in source([cal_level]).read().entries] == ["CAL-EQ"]


def test_bad_events_are_problems_good_ones_survive(tmp_path: Path) -> None:
    text = ics(
        "UID:good\nX-IPLAT-EQUIPMENT-ID:E1\nDTSTART:20260310T090000Z\nDTEND:20260310T100000Z",
        "UID:baddate\nX-IPLAT-EQUIPMENT-ID:E1\nDTSTART:not-a-date\nDTEND:20260310T100000Z",
        "UID:inverted\nX-IPLAT-EQUIPMENT-ID:E1\nDTSTART:20260310T100000Z\nDTEND:20260310T090000Z",
        "UID:badrule\nX-IPLAT-EQUIPMENT-ID:E1\nDTSTART:20260310T090000Z\nDTEND:20260310T100000Z\n"
        "RRULE:FREQ=SOMETIMES",
        "UID:badeq\nX-IPLAT-EQUIPMENT-ID:no spaces allowed\nDTSTART:20260310T090000Z\n"
        "DTEND:20260310T100000Z",
    )
    snap = source([write(tmp_path, "a.ics", text)]).read()
    assert [e.id for e in snap.entries] == ["good"]
    by_line = {p.line: p.message for p in snap.problems}
    lines = text.split("\r\n")
    for uid in ("baddate", "inverted", "badrule", "badeq"):
        line = lines.index(f"UID:{uid}") + 1
        assert line in by_line, (uid, snap.problems)
    assert "DTSTART" in by_line[lines.index("UID:baddate") + 1]
    assert "inverted" in by_line[lines.index("UID:inverted") + 1]
    assert "not a valid id" in by_line[lines.index("UID:badeq") + 1]


@pytest.mark.parametrize(
    "content",
    ["garbage\n", "", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n"],
)
def test_broken_file_is_a_source_error_naming_it(tmp_path: Path, content: str) -> None:
    good = write(
        tmp_path, "good.ics", ics("UID:g\nX-IPLAT-EQUIPMENT-ID:E\nDTSTART:20260310T090000Z")
    )
    bad = write(tmp_path, "broken.ics", content)
    with pytest.raises(SourceError, match=r"broken\.ics.*re-export"):
        source([good, bad]).read()


def test_missing_paths(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist; check 'paths'"):
        source([tmp_path / "nope.ics"]).read()
    with pytest.raises(SourceError, match=r"directory .* does not exist"):
        source([tmp_path / "nodir" / "*.ics"]).read()
    # An existing directory with no calendars is legitimately empty.
    (tmp_path / "empty").mkdir()
    assert source([tmp_path / "empty"]).read().entries == []


def test_glob_paths(tmp_path: Path) -> None:
    (tmp_path / "x" / "y").mkdir(parents=True)
    event = "UID:{}\nX-IPLAT-EQUIPMENT-ID:E\nDTSTART:20260310T090000Z\nDTEND:20260310T100000Z"
    write(tmp_path / "x", "one.ics", ics(event.format("u1")))
    write(tmp_path / "x" / "y", "two.ics", ics(event.format("u2")))
    src = source([tmp_path / "x" / "**" / "*.ics"])
    assert sorted(e.id for e in src.read().entries) == ["u1", "u2"]
    assert src.watch_paths() == [tmp_path / "x"]


def test_long_and_odd_uids_map_to_valid_distinct_ids(tmp_path: Path) -> None:
    outlook = "040000008200E00074C5B7101A82E00800000000" * 3
    uids = [outlook, outlook + "1", "abc@google.com", "abc_google.com", "-lead"]
    events = [
        f"UID:{u}\nX-IPLAT-EQUIPMENT-ID:E\nDTSTART:20260310T090000Z\nDTEND:20260310T100000Z"
        for u in uids
    ]
    snap = source([write(tmp_path, "a.ics", ics(*events))]).read()
    ids = [e.id for e in snap.entries]
    assert len(ids) == 5 and len(set(ids)) == 5
    assert all(identity.valid_name(i) and len(i) <= 64 for i in ids)
    assert entry_id("abc@google.com", None) == entry_id("abc@google.com", None)  # stable
    assert entry_id("ok-id", date(2026, 3, 2)) != entry_id("ok-id", date(2026, 3, 9))


def test_customer_data_never_leaves(tmp_path: Path) -> None:
    snap = source([write(tmp_path, "a.ics", ics(WEEKLY))]).read()
    blob = b"".join(e.SerializeToString() for e in snap.entries)
    for secret in ("홍길동", "김철수", "배터리랩", "kim@battery", "secret@center", "010-1234"):
        assert secret.encode() not in blob

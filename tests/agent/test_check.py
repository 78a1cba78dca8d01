from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from agent.check import format_check, run_check
from agent.config import load_config

CONFIG = """\
center_id = "KR-MR-0001"
hub = "hub.example.kr:7443"

[[sources]]
name = "equipment"
type = "csv"
kind = "equipment"
path = "equipment.csv"

[[sources]]
name = "more-equipment"
type = "csv"
kind = "equipment"
path = "more.csv"

[[sources]]
name = "calendar"
type = "csv"
kind = "calendar"
path = "calendar.csv"

[[sources]]
name = "ics"
type = "ical"
paths = "cal"
equipment_id_from = "filename"
"""

ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\nUID:b1\r\n"
    "DTSTART:20260310T090000Z\r\nDTEND:20260310T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def setup_center(tmp_path: Path, bad_rows: int = 1) -> Path:
    (tmp_path / "agent.toml").write_text(CONFIG, encoding="utf-8")
    rows = "".join(f"bad{i},이름,,cat,unknown\n" for i in range(bad_rows))
    (tmp_path / "equipment.csv").write_text(
        "id,name_ko,name_en,category,status\nE1,장비1,,cat,available\nE2,장비2,,cat,점검\n" + rows,
        encoding="utf-8",
    )
    (tmp_path / "more.csv").write_text(
        "id,name_ko,name_en,category,status\nE2,장비2,,cat,available\n", encoding="utf-8"
    )
    (tmp_path / "calendar.csv").write_text(
        "id,equipment_id,start,end,kind\n"
        "b1,E1,2026-03-10T09:00,2026-03-10T10:00,booked\n"
        "b2,GHOST,2026-03-10T09:00,2026-03-10T10:00,booked\n"
        "b3,GHOST,2026-03-11T09:00,2026-03-11T10:00,booked\n",
        encoding="utf-8",
    )
    (tmp_path / "cal").mkdir()
    (tmp_path / "cal" / "E1.ics").write_text(ICS, encoding="utf-8")
    return tmp_path / "agent.toml"


def clock() -> datetime:
    return datetime(2026, 3, 1, tzinfo=UTC)


def test_report_counts_problems_and_cross_checks(tmp_path: Path) -> None:
    report = run_check(load_config(setup_center(tmp_path)), clock=clock)
    assert report.ok
    counts = {s.name: (s.equipment, s.entries, len(s.problems), s.error) for s in report.sources}
    assert counts == {
        "equipment": (2, 0, 1, None),
        "more-equipment": (1, 0, 0, None),
        "calendar": (0, 3, 0, None),
        "ics": (0, 1, 0, None),
    }
    assert report.duplicate_equipment == {"E2": ("equipment", "more-equipment")}
    assert report.duplicate_entries == {"b1": ("calendar", "ics")}
    assert report.unknown_equipment == {"GHOST": 2}
    text = format_check(report)
    assert "Center KR-MR-0001: 4 source(s)" in text
    assert "[warn] equipment (csv): 2 equipment, 0 calendar entries, 1 problem(s)" in text
    assert "equipment.csv:4: unknown equipment status 'unknown'" in text
    assert "[ok] calendar (csv): 0 equipment, 3 calendar entries" in text
    assert "E2: equipment, more-equipment" in text
    assert "b1: calendar, ics" in text
    assert "2 calendar entries name equipment that no source provides" in text
    assert "GHOST: 2 entries" in text
    assert text.splitlines()[-1].startswith("OK: every source was read (1 record(s)")


def test_problem_list_is_truncated(tmp_path: Path) -> None:
    report = run_check(load_config(setup_center(tmp_path, bad_rows=30)), clock=clock)
    text = format_check(report, max_problems=5)
    assert text.count("unknown equipment status") == 5
    assert "... and 25 more problem(s)" in text
    assert report.problem_count == 30


def test_unreadable_source_makes_report_not_ok(tmp_path: Path) -> None:
    config = setup_center(tmp_path)
    (tmp_path / "more.csv").unlink()
    (tmp_path / "calendar.csv").write_text("id,start,end\n", encoding="utf-8")
    report = run_check(load_config(config), clock=clock)
    assert not report.ok
    failed = {s.name: s.error for s in report.sources if not s.ok}
    assert set(failed) == {"more-equipment", "calendar"}
    assert "file not found" in str(failed["more-equipment"])
    assert "equipment_id" in str(failed["calendar"])
    # With a source unread, missing equipment may be in it: no guess.
    assert report.unknown_equipment == {}
    text = format_check(report)
    assert "[FAILED] more-equipment (csv):" in text
    assert text.splitlines()[-1] == (
        "NOT OK: could not read more-equipment, calendar; fix the errors above and run check again."
    )
    # The sources that could be read are still reported.
    assert "[warn] equipment (csv): 2 equipment" in text

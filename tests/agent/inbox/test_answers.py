"""Answer rules: every problem at once, naming the field and the fix; times in the center's
zone unless they carry an offset; the ItemAnswer built from a valid answer."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.config import load_config
from agent.errors import ConfigError
from agent.inbox.answers import Answer, AnswerInvalid, RawAnswer, parse_answer, parse_time
from agent.inbox.config import inbox_dir
from proto import pb
from tests.agent.inbox.items import make_agent_dir

SEOUL = ZoneInfo("Asia/Seoul")
NOW = 1_796_000_000.0  # 2026-11-30T01:33:20Z
ITEM = "RQ-0123456789-1-1"


def parse(**kw: str) -> Answer:
    fields = {"item_id": ITEM, "answer": "accept", **kw}
    return parse_answer(RawAnswer(**fields), SEOUL, now=NOW)


def problems(**kw: str) -> list[str]:
    with pytest.raises(AnswerInvalid) as exc:
        parse(**kw)
    return exc.value.problems


def test_times_without_offset_are_the_centers_zone() -> None:
    assert parse_time("2026-12-03T09:00", SEOUL) == parse_time("2026-12-03T00:00Z", SEOUL)
    assert parse_time("2026-12-03T09:00+09:00", SEOUL) == parse_time(
        "2026-12-03 00:00+00:00", SEOUL
    )
    with pytest.raises(ValueError, match=r"not an ISO 8601 time; write e\.g\. 2026-12-03T09:00"):
        parse_time("next tuesday", SEOUL)


def test_accept_with_and_without_times() -> None:
    suggested = parse()
    assert (suggested.start, suggested.end, suggested.kind) == (None, None, "accept")
    other = parse(start="2026-12-03T09:00", end="2026-12-03T12:00", by=" 이담당 ", message=" ok ")
    assert other.start == parse_time("2026-12-03T09:00+09:00", SEOUL)
    assert (other.by, other.message) == ("이담당", "ok")
    msg = other.to_message(7)
    assert (msg.answer_seq, msg.kind, msg.answered_by) == (7, pb.ANSWER_KIND_ACCEPT, "이담당")
    assert msg.start.seconds == other.start and msg.answered_at.seconds == int(NOW)
    assert problems(start="2026-12-03T09:00") == [
        "start/end: give both to accept another time, or neither to accept the suggested slot"
    ]


def test_propose_needs_an_ordered_window_ahead_and_within_a_year() -> None:
    assert problems(answer="propose") == [
        "start/end: a proposal needs both, e.g. start = 2026-12-03T09:00+09:00"
    ]
    assert problems(answer="propose", start="2026-12-03T12:00", end="2026-12-03T09:00") == [
        "end: must be after start"
    ]
    assert problems(answer="propose", start="2026-01-03T09:00", end="2026-01-03T12:00") == [
        "end: the time is in the past; give a time still ahead"
    ]
    far = problems(answer="propose", start="2028-01-03T09:00", end="2028-01-03T12:00")
    assert far == ["start: more than 365 days ahead; the hub accepts times within a year"]
    ok = parse(answer="PROPOSE", start="2026-12-04T13:00", end="2026-12-04T17:00")
    assert ok.kind == "propose"


def test_decline_needs_a_reason_code_and_no_times() -> None:
    assert problems(answer="decline") == [
        "reason: a decline needs one of: no-capacity, equipment-unavailable, out-of-scope, other"
    ]
    found = problems(answer="decline", reason="busy", start="2026-12-03T09:00")
    assert found == [
        "reason: 'busy' is not a reason code; use one of: no-capacity, equipment-unavailable, "
        "out-of-scope, other",
        "start/end: a decline takes no times; to offer a time use propose",
    ]
    ok = parse(answer="decline", reason="No_Capacity")
    assert (ok.reason, ok.start) == ("no-capacity", None)
    assert ok.to_message(1).decline_reason == pb.DECLINE_REASON_NO_CAPACITY
    assert problems(reason="other") == [
        "reason: only a decline has a reason; remove it from this accept"
    ]


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(AnswerInvalid) as exc:
        parse_answer(
            RawAnswer(item_id="", answer="maybe", start="soon", message="x" * 1001, by="\x00"),
            SEOUL,
            now=NOW,
        )
    fields = [p.split(":")[0] for p in exc.value.problems]
    assert fields == ["item_id", "answer", "start", "message", "by"]
    assert "use accept, decline or propose" in str(exc.value)
    assert str(exc.value).startswith("answer to an unnamed item not sent: item_id: missing")


def test_inbox_config_section(tmp_path: Path) -> None:
    default = load_config(make_agent_dir(tmp_path / "a").config)
    assert (default.inbox.kind, default.inbox.poll_seconds) == ("folder", 2.0)
    assert inbox_dir(default) == tmp_path / "a" / "inbox"

    sql = load_config(
        make_agent_dir(
            tmp_path / "b", inbox='kind = "sql"\nurl = "sqlite:///req.db"\ntable = "requests_in"'
        ).config
    )
    assert sql.inbox.url == f"sqlite:///{tmp_path / 'b' / 'req.db'}"
    assert sql.inbox.table == "requests_in"

    folder = load_config(make_agent_dir(tmp_path / "c", inbox='path = "/srv/inbox"').config)
    assert inbox_dir(folder) == Path("/srv/inbox")


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ('kind = "mail"', "key 'inbox.kind': 'mail' is not allowed. Fix: use one of: folder, sql"),
        ('url = "sqlite:///x.db"', "key 'inbox.url': is only used with kind = \"sql\""),
        ('kind = "sql"\nurl = "sqlite:///x.db"\npath = "x"', "key 'inbox.path': is only used"),
        ('kind = "sql"', "key 'inbox.url': is missing"),
        ('kind = "sql"\nurl = "x"\n', "key 'inbox.url': is not a database URL"),
        ('kind = "sql"\nurl = "sqlite:///x.db"\ntable = "a;b"', "is not a plain table name"),
        ("poll_seconds = 0", "key 'inbox.poll_seconds': 0 is out of range"),
        ("pol_seconds = 2", "key 'inbox.pol_seconds': is not a known setting"),
    ],
)
def test_inbox_config_errors_name_key_and_fix(tmp_path: Path, section: str, message: str) -> None:
    ad = make_agent_dir(tmp_path / "a", inbox=section)
    with pytest.raises(ConfigError, match="Fix:") as exc:
        load_config(ad.config)
    assert message in str(exc.value)

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from agent.config import AgentConfig, load_config
from agent.errors import ConfigError
from agent.templates import (
    CALENDAR_CSV_TEMPLATE,
    EQUIPMENT_CSV_TEMPLATE,
    default_config_text,
    default_files,
)

MINIMAL = """\
center_id = "KR-MR-0001"
hub = "hub.example.kr:7443"

[[sources]]
name = "equipment"
type = "csv"
kind = "equipment"
path = "equipment.csv"
"""


def write(tmp_path: Path, text: str, name: str = "agent.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str) -> AgentConfig:
    return load_config(write(tmp_path, text))


def test_defaults_and_relative_paths(tmp_path: Path) -> None:
    cfg = load(tmp_path, MINIMAL)
    assert cfg.path == tmp_path / "agent.toml"
    assert cfg.base_dir == tmp_path
    assert cfg.center_id == "KR-MR-0001"
    assert cfg.hub == "hub.example.kr:7443"
    assert cfg.timezone == "Asia/Seoul"
    assert cfg.zone.key == "Asia/Seoul"
    assert cfg.state_path == tmp_path / "state.db"
    assert cfg.log_level == "info"
    assert cfg.tls.key == tmp_path / "agent.key"
    assert cfg.tls.cert == tmp_path / "agent.crt"
    assert cfg.tls.ca == tmp_path / "ca.pem"
    assert cfg.tls.server_name is None
    s = cfg.sync
    assert (s.heartbeat_seconds, s.reconcile_seconds, s.max_delete_share) == (5, 600, 0.5)
    assert (s.batch_changes, s.backoff_initial_seconds, s.backoff_max_seconds) == (1000, 0.5, 30.0)
    assert s.poll_seconds == 60
    (src,) = cfg.sources
    assert (src.name, src.type, src.kind) == ("equipment", "csv", "equipment")
    assert src.path == tmp_path / "equipment.csv"
    assert src.poll_seconds == 60 and src.watch is True
    assert (src.delimiter, src.encoding, dict(src.columns)) == (",", "utf-8", {})
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.center_id = "other"  # type: ignore[misc]


def test_full_config(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    cfg = load(
        tmp_path,
        """\
center_id = "KR-BIO-0042"
hub = "[::1]:7443"
timezone = "Europe/Berlin"
state_path = "sub/s.db"
log_level = "debug"

[tls]
key = "/etc/iplat/k.pem"
server_name = "hub.internal"

[sync]
poll_seconds = 30
max_delete_share = 1
batch_changes = 2000
backoff_max_seconds = 60

[[sources]]
name = "cal"
type = "csv"
kind = "calendar"
path = "sub/cal.csv"
delimiter = ";"
encoding = "cp949"
watch = false
[sources.columns]
equipment_id = "장비번호"

[[sources]]
name = "ics"
type = "ical"
paths = ["calendars/*.ics", "/abs/x.ics"]
equipment_id_from = "filename"
horizon_days = 30
default_kind = "maintenance"
poll_seconds = 5

[[sources]]
name = "db"
type = "sql"
url = "sqlite:///booking.db"
calendar_query = "SELECT 1"
""",
    )
    assert cfg.hub == "[::1]:7443"
    assert cfg.timezone == "Europe/Berlin"
    assert cfg.state_path == tmp_path / "sub" / "s.db"
    assert cfg.tls.key == Path("/etc/iplat/k.pem")
    assert cfg.tls.server_name == "hub.internal"
    assert cfg.sync.max_delete_share == 1.0 and cfg.sync.poll_seconds == 30
    cal, ics, db = cfg.sources
    assert cal.path == tmp_path / "sub" / "cal.csv"
    assert (cal.delimiter, cal.encoding, cal.watch, cal.poll_seconds) == (";", "cp949", False, 30)
    assert dict(cal.columns) == {"equipment_id": "장비번호"}
    assert ics.paths == (tmp_path / "calendars/*.ics", Path("/abs/x.ics"))
    assert (ics.equipment_id_from, ics.horizon_days, ics.default_kind) == (
        "filename",
        30,
        "maintenance",
    )
    assert ics.poll_seconds == 5 and ics.watch is True
    assert db.url == f"sqlite:///{tmp_path / 'booking.db'}"
    assert db.watch is False and db.equipment_query == ""


@pytest.mark.parametrize(
    ("change", "key", "fix"),
    [
        (('center_id = "KR-MR-0001"', 'center_id = "bad id!"'), "center_id", "hub operator"),
        (('center_id = "KR-MR-0001"', ""), "center_id", "add center_id"),
        (('hub = "hub.example.kr:7443"', 'hub = "hub.example.kr"'), "hub", "HOST:PORT"),
        (('hub = "hub.example.kr:7443"', 'hub = "h:99999"'), "hub", "hub.example.kr:7443"),
        (("[[sources]]", 'timezone = "Asia/Busan"\n[[sources]]'), "timezone", "IANA"),
        (("[[sources]]", 'log_level = "loud"\n[[sources]]'), "log_level", "debug"),
        (
            ("[[sources]]", "[sync]\nmax_delete_share = 1.5\n[[sources]]"),
            "sync.max_delete_share",
            "<= 1",
        ),
        (
            ("[[sources]]", "[sync]\nmax_delete_share = 0\n[[sources]]"),
            "sync.max_delete_share",
            "> 0",
        ),
        (
            ("[[sources]]", "[sync]\nbatch_changes = 5000\n[[sources]]"),
            "sync.batch_changes",
            "1 .. 2000",
        ),
        (
            ("[[sources]]", '[sync]\npoll_seconds = "60"\n[[sources]]'),
            "sync.poll_seconds",
            "e.g. 60",
        ),
        (
            (
                "[[sources]]",
                "[sync]\nbackoff_initial_seconds = 10\nbackoff_max_seconds = 5\n[[sources]]",
            ),
            "sync.backoff_max_seconds",
            "raise it",
        ),
        (("[[sources]]", "[sync]\nheartbeat = 5\n[[sources]]"), "sync.heartbeat", "spelling"),
        (("[[sources]]", "centre_id = 1\n[[sources]]"), "centre_id", "spelling"),
        (('type = "csv"', 'type = "excel"'), "sources[1].type", "csv, ical, sql"),
        (('kind = "equipment"', 'kind = "bookings"'), "sources[1].kind", "equipment, calendar"),
        (('path = "equipment.csv"', ""), "sources[1].path", "add path"),
        (
            ('path = "equipment.csv"', 'path = "e.csv"\nhorizon_days = 3'),
            "sources[1].horizon_days",
            "spelling",
        ),
        (
            ('path = "equipment.csv"', 'path = "e.csv"\nencoding = "klingon"'),
            "sources[1].encoding",
            "cp949",
        ),
        (
            ('path = "equipment.csv"', 'path = "e.csv"\ndelimiter = ";;"'),
            "sources[1].delimiter",
            "one character",
        ),
        (('path = "equipment.csv"', 'path = "e.csv"\nwatch = "yes"'), "sources[1].watch", "true"),
        (
            ('path = "equipment.csv"', 'path = "e.csv"\n[sources.columns]\ncustomer = "고객"'),
            "sources[1].columns.customer",
            "name_ko",
        ),
        (('name = "equipment"', 'name = "my source"'), "sources[1].name", "letters"),
    ],
)
def test_errors_name_file_key_and_fix(
    tmp_path: Path, change: tuple[str, str], key: str, fix: str
) -> None:
    old, new = change
    assert old in MINIMAL
    path = write(tmp_path, MINIMAL.replace(old, new, 1))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert str(path) in message
    assert f"key '{key}'" in message
    assert "Fix:" in message and fix in message


def test_source_errors(tmp_path: Path) -> None:
    base = MINIMAL.split("[[sources]]")[0]
    cases = {
        "sources": base,
        "sources[2].name": MINIMAL + MINIMAL[MINIMAL.index("[[sources]]") :],
        "sources[1].paths": base + '[[sources]]\nname = "i"\ntype = "ical"\npaths = []\n',
        "sources[1].default_kind": base
        + '[[sources]]\nname = "i"\ntype = "ical"\npaths = "a.ics"\ndefault_kind = "busy"\n',
        "sources[1].url": base + '[[sources]]\nname = "q"\ntype = "sql"\nurl = "::nonsense"\n',
        "sources[1].equipment_query": base
        + '[[sources]]\nname = "q"\ntype = "sql"\nurl = "sqlite://"\n',
        "sources[1].watch": base
        + '[[sources]]\nname = "q"\ntype = "sql"\nurl = "sqlite://"\n'
        + 'equipment_query = "x"\nwatch = true\n',
    }
    for key, text in cases.items():
        with pytest.raises(ConfigError, match=rf"key .{re.escape(key)}.*Fix: ") as err:
            load(tmp_path, text)
        assert "agent.toml" in str(err.value)


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not found\. Fix: run 'iplat-agent init'"):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match=r"not valid TOML .*line 1"):
        load(tmp_path, "center_id = \n")


def test_sql_password_is_kept_for_connecting(tmp_path: Path) -> None:
    cfg = load(
        tmp_path,
        MINIMAL.split("[[sources]]")[0]
        + '[[sources]]\nname = "q"\ntype = "sql"\n'
        + 'url = "postgresql+psycopg://reader:s3cret@db/booking"\nequipment_query = "x"\n',
    )
    assert cfg.sources[0].url == "postgresql+psycopg://reader:s3cret@db/booking"


def test_default_config_text_loads(tmp_path: Path) -> None:
    for name, text in default_files("KR-MR-0001", "hub.example.kr:7443").items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    cfg = load_config(tmp_path / "agent.toml")
    assert cfg.center_id == "KR-MR-0001" and cfg.hub == "hub.example.kr:7443"
    assert [(s.name, s.type, s.kind, s.path) for s in cfg.sources] == [
        ("equipment", "csv", "equipment", tmp_path / "equipment.csv"),
        ("calendar", "csv", "calendar", tmp_path / "calendar.csv"),
    ]
    text = default_config_text("KR-MR-0001", "hub.example.kr:7443")
    assert 'type = "ical"' in text and 'type = "sql"' in text
    assert EQUIPMENT_CSV_TEMPLATE.lstrip("\ufeff").startswith("id,name_ko,name_en,category,status")
    assert CALENDAR_CSV_TEMPLATE.lstrip("\ufeff") == "id,equipment_id,start,end,kind\n"


def test_default_config_text_commented_examples_are_valid(tmp_path: Path) -> None:
    """Uncommenting the ical and sql examples gives a config that loads."""
    text = default_config_text("KR-MR-0001", "hub.example.kr:7443")
    tail = text[text.index("# A calendar exported") :]
    uncommented = "\n".join(
        line[2:]
        if line.startswith("# ") and not line.startswith("# A ") and "The center" not in line
        else line
        for line in tail.splitlines()
    )
    cfg = load(tmp_path, text + "\n" + uncommented.replace('name = "', 'name = "x-'))
    assert [s.type for s in cfg.sources] == ["csv", "csv", "ical", "sql"]
    assert 'end_at AS "end"' in cfg.sources[3].calendar_query


def test_default_config_text_rejects_bad_center_id() -> None:
    with pytest.raises(ValueError, match="invalid center id"):
        default_config_text("no spaces", "h:1")

"""``iplat-hub search``: JSON shape, text table, usage errors (in-process, real SQLite)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from hub import config as hub_config
from tests.helpers.availability import World
from tests.helpers.hubenv import init_hub, run_cli

A, S = "KR-MR-0001", "KR-MA-0003"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = init_hub(tmp_path_factory.mktemp("cli") / "hub")
    world = World.open(hub_config.load(path).database_url)
    world.center(A, region="대전")
    world.center(S, industry="materials", seen=int(time.time()) - 3600)
    weekdays = [(d, 9 * 60, 18 * 60) for d in range(1, 6)]
    world.equipment(A, "cycler-1", name_ko="배터리 충방전기", name_en="Battery Cycler",
                    hours=weekdays, capabilities=["eis"])  # fmt: skip
    world.equipment(S, "cycler-2")
    world.close()
    return path


def search(data_dir: Path, *args: str) -> tuple[int, str]:
    return run_cli("search", "--data-dir", str(data_dir), *args)


def test_json_shape(data_dir: Path) -> None:
    code, out = search(data_dir, "--from", "2027-01-04T00:00", "--to", "2027-01-05T00:00",
                       "--hours", "4", "--category", "battery-cycler", "--json")  # fmt: skip
    assert code == 0, out
    doc = json.loads(out)
    assert doc["time_zone"] == "Asia/Seoul" and doc["reasons"] == []
    fresh, stale = doc["results"]
    assert (fresh["center_id"], fresh["equipment_id"], fresh["stale"]) == (A, "cycler-1", False)
    assert fresh["slots"] == [
        {"start": "2027-01-04T09:00:00+09:00", "end": "2027-01-04T18:00:00+09:00",
         "unconfirmed": False},
    ]  # fmt: skip
    assert fresh["center"]["region"] == "대전" and fresh["center"]["last_seen"].endswith("+09:00")
    assert (stale["center_id"], stale["stale"], stale["slots"][0]["unconfirmed"]) == (S, True, True)


def test_other_zone_and_reasons(data_dir: Path) -> None:
    code, out = search(data_dir, "--from", "2027-01-03T15:00Z", "--to", "2027-01-04T00:00Z",
                       "--hours", "2", "--capability", "EIS", "--tz", "UTC", "--json")  # fmt: skip
    assert code == 0, out
    doc = json.loads(out)
    assert doc["results"] == []
    (reason,) = doc["reasons"]
    assert reason["code"] == "NONE_FREE"
    assert reason["earliest_free"] == "2027-01-04T00:00:00+00:00"  # 09:00 KST, after the window
    assert "none is free for 2 h" in reason["message"]


def test_text_table(data_dir: Path) -> None:
    code, out = search(data_dir, "--from", "2027-01-04", "--to", "2027-01-06", "--hours", "1",
                       "--text", "충방전")  # fmt: skip
    assert code == 0, out
    assert "CENTER" in out and "배터리 충방전기" in out and "01-04 Mon 09:00-18:00" in out
    code, out = search(data_dir, "--from", "2027-01-04", "--to", "2027-01-06", "--hours", "1",
                       "--region", "제주")  # fmt: skip
    assert code == 0 and "NO_MATCH" in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--from", "2027-01-05", "--to", "2027-01-04", "--hours", "1"], "--to: the window"),
        (["--from", "2027-01-04", "--to", "2027-05-04", "--hours", "1"], "--to: the window is"),
        (["--from", "2027-01-04", "--to", "2027-01-05", "--hours", "0"], "--hours: hours must"),
        (["--from", "tomorrow", "--to", "2027-01-05", "--hours", "1"], "--from: from 'tomorrow'"),
        (["--from", "2027-01-04", "--to", "2027-01-05", "--hours", "1", "--industry", "x"],
         "--industry: unknown industry"),
        (["--from", "2027-01-04", "--to", "2027-01-05", "--hours", "1", "--tz", "Mars/X"],
         "--tz: unknown time zone"),
    ],
)  # fmt: skip
def test_usage_errors_name_the_option(
    data_dir: Path, args: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = search(data_dir, *args)
    assert code == 2
    assert words in capsys.readouterr().err


def test_time_zone_directory_is_a_clear_error() -> None:
    from hub.availability.query import UnknownCode, zone

    with pytest.raises(UnknownCode, match="unknown time zone"):
        zone("Asia")

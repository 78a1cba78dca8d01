"""``iplat-hub status``: all centers worst first, one line per problem saying what to do."""

from __future__ import annotations

import json
import time
from pathlib import Path

from hub import config
from hub.store import Store
from tests.helpers.hubenv import add_center, init_hub, run_cli

CSV_ERROR = "calendar.csv:17: end 2026-03-02T08:00 is before start 2026-03-02T09:00"


def seeded_hub(tmp_path: Path) -> Path:
    data_dir = init_hub(tmp_path / "hub")
    add_center(data_dir, "KR-EE-0001", "electrical-electronics")
    add_center(data_dir, "KR-BI-0002", "bio")
    add_center(data_dir, "KR-MT-0003", "materials")
    now = int(time.time())
    with Store.open(config.load(data_dir).database_url) as store:
        store.record_certificate("KR-EE-0001", "aa01", now + 5 * 86400 + 3600)
        store.record_certificate("KR-BI-0002", "bb02", now + 80 * 86400)
        store.record_hello("KR-EE-0001", "0.1.0", now, heartbeat_seconds=3600)
        broken = {"name": "calendar", "ok": False, "records": 12, "problems": 1,
                  "first_problem": CSV_ERROR, "last_poll": now}  # fmt: skip
        store.record_heartbeat(
            "KR-EE-0001", now, backlog=0, quarantined_deletes=3, sources=[broken]
        )
        store.record_hello("KR-BI-0002", "0.1.0", now - 600)
        store.record_disconnect("KR-BI-0002", now - 590)
    return data_dir


def test_text_lists_centers_worst_first_with_what_to_do(tmp_path: Path) -> None:
    data_dir = seeded_hub(tmp_path)
    code, out = run_cli("status", "--data-dir", str(data_dir))
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("hub status at ") and "3 centers (" in lines[0]
    assert lines[1].startswith("no hub is serving from this data dir")
    table = [line for line in lines if line.startswith("KR-")]
    assert [line.split()[0] for line in table] == ["KR-BI-0002", "KR-EE-0001", "KR-MT-0003"]
    assert table[0].split()[2] == "offline"
    problems = [line.strip() for line in lines if line.startswith("  KR-")]
    assert f"KR-EE-0001: source 'calendar' failing: {CSV_ERROR} -> fix the source at the center; " \
        "the last good data is served until then" in problems  # fmt: skip
    assert (
        "KR-EE-0001: 3 deletion(s) held back by the safety valve -> ask the center to check its "
        "source (a truncated file?), then run iplat-agent approve-deletes"
    ) in problems
    assert any(p.startswith("KR-EE-0001: certificate expires in 5 d (") for p in problems)
    assert problems[0].startswith("KR-BI-0002: offline: silent for 9 min")
    assert any(
        p == "KR-MT-0003: registered, not enrolled yet -> give the center's IT staff a token: "
        "iplat-hub token create --center KR-MT-0003"
        for p in problems
    )


def test_json_korean_and_one_center(tmp_path: Path) -> None:
    data_dir = seeded_hub(tmp_path)
    code, out = run_cli("status", "--json", "--data-dir", str(data_dir))
    data = json.loads(out)
    assert data["serving"] is None
    assert data["counts"]["states"]["offline"] == 1
    ee = next(c for c in data["centers"] if c["id"] == "KR-EE-0001")
    assert ee["sources"][0]["first_problem"] == CSV_ERROR
    assert {p["code"] for p in ee["problems"]} == {
        "source_failing",
        "deletes_held",
        "cert_expiring",
    }
    code, out = run_cli(
        "status", "--lang", "ko", "--center", "KR-EE-0001", "--data-dir", str(data_dir)
    )
    assert "KR-BI-0002" not in out
    assert f"KR-EE-0001: 소스 'calendar' 읽기 실패: {CSV_ERROR} -> 센터에서 소스를 고치세요" in out
    code, out = run_cli("status", "--center", "KR-XX-9999", "--data-dir", str(data_dir))
    assert code == 2


def test_watch_redraws(tmp_path: Path) -> None:
    data_dir = seeded_hub(tmp_path)
    code, out = run_cli(
        "status", "--watch", "0.5", "--iterations", "2", "--data-dir", str(data_dir)
    )
    assert code == 0
    assert out.count("hub status at ") == 2

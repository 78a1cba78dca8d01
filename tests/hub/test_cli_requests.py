"""``iplat-hub requests ...``, ``demand`` and ``guide`` in-process against a hub's database
(SQLite and PostgreSQL): the same JSON body as the HTTP API, field errors one per line with
exit 2, not found / not possible with exit 1, and the request's story in ``show``."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import pytest

from hub import cli
from hub import config as hub_config
from hub.routing.guide import DEFAULT_GUIDE_PATH
from tests.helpers.availability import World
from tests.helpers.hubenv import init_hub

A, B = "KR-EE-0001", "KR-EE-0002"
DAY = 86400


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def hub_dir(tmp_path: Path, db_url: str) -> Path:
    data_dir = init_hub(tmp_path / "hub", db_url=db_url)
    world = World.open(hub_config.load(data_dir).database_url)
    for center in (A, B):
        world.center(center, industry="electrical-electronics")
        world.equipment(center, f"cycler-{center[-1]}")
    world.close()
    return data_dir


def request_file(tmp_path: Path, **changes: Any) -> str:
    now = int(time.time())
    body: dict[str, Any] = {
        "company": {
            "name": "(주)한빛배터리",
            "business_number": "1248100998",
            "contact_name": "김담당",
            "contact_phone": "02-1234-5678",
        },
        "project_title": "파우치 셀 수명 시험",
        "technology_area": "secondary-battery-cell",
        "needs": [
            {
                "stage": "validation",
                "category": "battery-cycler",
                "hours": 8,
                "earliest": _iso(now + DAY),
                "latest": _iso(now + 8 * DAY),
            }
        ],
    }
    body.update(changes)
    path = tmp_path / "request.json"
    path.write_text(json.dumps(body, ensure_ascii=False))
    return str(path)


def _iso(t: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def test_submit_list_show_reassign_cancel(
    hub_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = ("--data-dir", str(hub_dir))
    code, out, _ = run(capsys, "requests", "preview", "--file", request_file(tmp_path), *d)
    assert code == 0 and "need #1  validation  battery-cycler  8 h" in out
    assert f"{A}/cycler-1" in out and f"{B}/cycler-2" in out
    code, out, _ = run(capsys, "requests", "list", *d)
    assert (code, out.strip()) == (0, "no requests yet")

    code, out, _ = run(capsys, "requests", "submit", "--file", request_file(tmp_path), "--json", *d)
    assert code == 0, out
    doc = json.loads(out)
    rid, item = doc["id"], doc["needs"][0]["items"][0]
    assert doc["submitted_by"].startswith("operator:") and item["state"] == "routed"
    first_center = item["candidate"]["center_id"]

    code, out, _ = run(capsys, "requests", "list", "--state", "in-progress", *d)
    assert code == 0 and rid in out and "0/1 accepted, 1 waiting" in out
    code, out, _ = run(capsys, "requests", "show", rid, *d)
    assert code == 0 and f"{item['item_id']}  routed  {first_center}/" in out
    assert "answer by" in out and "submitted" in out and "124-81-00998" in out

    code, out, _ = run(capsys, "requests", "reassign", rid, item["item_id"], "--reason", "점검", *d)
    assert code == 0, out
    other = B if first_center == A else A
    assert f"{rid}-1-2  routed  {other}/" in out and "withdrawn" in out and "reassigned" in out

    code, out, _ = run(capsys, "requests", "cancel", rid, "--reason", "예산", *d)
    assert (code, out.strip()) == (0, f"request {rid} is cancelled")
    code, out, _ = run(capsys, "requests", "show", rid, "--json", *d)
    assert json.loads(out)["state"] == "cancelled"


def test_refusals_and_exit_codes(
    hub_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = ("--data-dir", str(hub_dir))
    bad = request_file(tmp_path, technology_area="warp-drive", project_title="")
    code, out, err = run(capsys, "requests", "submit", "--file", bad, *d)
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert lines[0] == "iplat-hub: error: the request is invalid (nothing was stored):"
    assert any(line.startswith("  technology_area: unknown technology area") for line in lines)
    assert any(line.startswith("  project_title: is required") for line in lines)
    shape = request_file(tmp_path, needs=[{"hours": "eight"}])
    code, _, err = run(capsys, "requests", "preview", "--file", shape, *d)
    assert code == 2 and "  needs[0].hours: must be a number of hours" in err
    code, _, err = run(capsys, "requests", "submit", "--file", str(tmp_path / "none.json"), *d)
    assert code == 2 and "--file: cannot read" in err
    code, _, err = run(capsys, "requests", "list", *d)
    assert code == 0

    code, _, err = run(capsys, "requests", "show", "RQ-0000000000", *d)
    assert code == 1 and "not found" in err
    code, out, _ = run(capsys, "requests", "submit", "--file", request_file(tmp_path), "--json", *d)
    doc = json.loads(out)
    item = doc["needs"][0]["items"][0]["item_id"]
    code, _, err = run(capsys, "requests", "respond", doc["id"], item, "--accept", *d)
    assert code == 1 and "not proposed" in err
    code, _, err = run(capsys, "requests", "reassign", doc["id"], item, "--to", "nowhere", *d)
    assert code == 2 and "--to:" in err
    code, _, err = run(capsys, "requests", "reassign", doc["id"], item, "--to", f"{A}/nope", *d)
    assert code == 1 and "cannot serve" in err


def test_submit_reads_stdin_and_demand_lists_signals(
    hub_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    d = ("--data-dir", str(hub_dir))
    raw = Path(request_file(tmp_path)).read_bytes()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw)))
    code, out, _ = run(capsys, "requests", "submit", "--file", "-", *d)
    assert code == 0 and out.startswith("RQ-") and "routed to" in out
    code, out, _ = run(capsys, "demand", *d)
    assert (code, out.strip()) == (0, "no demand signals yet")
    from hub.routing.requests import Requests
    from hub.store import Store

    cfg = hub_config.load(hub_dir)
    with Store.open(cfg.database_url) as store:
        requests = Requests(store, cfg.routing.load_guide(), cfg.routing, 3600)
        requests.record_demand("search-none-free", "cryo-tem")
        requests.record_demand("search-none-free", "cryo-tem")
    code, out, _ = run(capsys, "demand", "--category", "cryo-tem", *d)
    assert code == 0 and "search-none-free  cryo-tem  -       2" in out
    code, out, _ = run(capsys, "demand", "--json", "--since", "2999-01-01", *d)
    assert (code, json.loads(out)) == (0, [])
    code, _, err = run(capsys, "demand", "--since", "soon", *d)
    assert code == 2 and "--since" in err


def test_guide_show_and_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = init_hub(tmp_path / "hub")
    d = ("--data-dir", str(data_dir))
    code, out, _ = run(capsys, "guide", "show", *d)
    assert code == 0 and "secondary-battery-cell  이차전지 셀" in out
    code, out, _ = run(capsys, "guide", "show", "--area", "secondary-battery-cell", *d)
    assert code == 0 and "validation" in out and "battery-cycler" in out
    code, out, _ = run(capsys, "guide", "show", "--json", *d)
    assert code == 0 and json.loads(out)["guide_version"]
    code, _, err = run(capsys, "guide", "show", "--area", "warp", *d)
    assert code == 2 and "unknown area" in err

    code, out, _ = run(capsys, "guide", "check", str(DEFAULT_GUIDE_PATH))
    assert code == 0 and ": ok, version" in out
    broken = tmp_path / "guide.toml"
    broken.write_text(
        DEFAULT_GUIDE_PATH.read_text().replace('stage = "design"', 'stage = "dezign"', 1)
    )
    code, _, err = run(capsys, "guide", "check", str(broken))
    assert code == 2 and "dezign" in err and str(broken) in err

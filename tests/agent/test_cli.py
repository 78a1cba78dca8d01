"""iplat-agent init / check / status / approve-deletes, in-process against tmp_path.

The daemon (``run``) is exercised with a real hub in test_runner_*.py.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from agent.config import load_config
from agent.sources import build_sources
from agent.state import AgentState
from agent.status import (
    BACKOFF,
    K_CONN,
    K_LAST_ERROR,
    K_LAST_ERROR_AT,
    K_PID,
    LiveStatus,
)
from tests.helpers import hubenv
from tests.helpers.agentenv import REPO, AgentDir, calendar_row, equipment_row, run_agent_cli

CENTER = "KR-MR-0001"


def _init(tmp_path: Path, *extra: str) -> tuple[int, str, str]:
    return run_agent_cli(
        "init", "--center", CENTER, "--hub", "hub.example.kr:7443", "--dir",
        str(tmp_path / "agent"), *extra,
    )  # fmt: skip


def _enrolled(tmp_path: Path) -> AgentDir:
    """An agent dir whose CSR a (not running) hub signed."""
    data_dir = hubenv.init_hub(tmp_path / "hub", centers=[CENTER])
    code, _, err = _init(tmp_path)
    assert code == 0, err
    code, out = hubenv.run_cli(
        "center", "sign", str(tmp_path / "agent" / "agent.csr"), "--center", CENTER,
        "--data-dir", str(data_dir),
    )  # fmt: skip
    assert code == 0, out
    return AgentDir(tmp_path / "agent", CENTER)


def _apply_sources(ad: AgentDir) -> list[bool]:
    """One poll of every source into the state, as the daemon does; held flags."""
    config = load_config(ad.config)
    held = []
    with AgentState(config.state_path, CENTER) as state:
        for source in build_sources(config):
            snap = source.read()
            result = state.apply_snapshot(
                source.name,
                [*snap.equipment, *snap.entries],
                max_delete_share=config.sync.max_delete_share,
            )
            held.append(result.held)
    return held


def test_init_makes_key_csr_config_and_csv_templates(tmp_path: Path) -> None:
    code, out, err = _init(tmp_path)
    assert code == 0, err
    d = tmp_path / "agent"
    assert stat.S_IMODE((d / "agent.key").stat().st_mode) == 0o600
    assert (d / "agent.csr").read_bytes().startswith(b"-----BEGIN CERTIFICATE REQUEST")
    config = load_config(d / "agent.toml")
    assert (config.center_id, config.hub) == (CENTER, "hub.example.kr:7443")
    assert (d / "equipment.csv").read_text(encoding="utf-8-sig").startswith("id,name_ko,")
    assert (d / "calendar.csv").read_text(encoding="utf-8-sig").startswith("id,equipment_id,")
    assert f"iplat-hub center sign agent.csr --center {CENTER}" in out
    assert f"put agent.crt and ca.pem in {d}" in out


def test_init_refuses_to_replace_a_key_without_force(tmp_path: Path) -> None:
    assert _init(tmp_path)[0] == 0
    d = tmp_path / "agent"
    key = (d / "agent.key").read_bytes()
    (d / "equipment.csv").write_text("id,name_ko,name_en,category,status\nEQ-1,a,b,c,available\n")
    code, _, err = _init(tmp_path)
    assert code != 0
    assert "--force" in err
    assert (d / "agent.key").read_bytes() == key
    code, _, err = _init(tmp_path, "--force")
    assert code == 0, err
    assert (d / "agent.key").read_bytes() != key
    assert "EQ-1" in (d / "equipment.csv").read_text()  # data files are never overwritten


def test_init_rejects_a_bad_center_id(tmp_path: Path) -> None:
    code, _, err = run_agent_cli(
        "init", "--center", "KR MR/1", "--hub", "h:1", "--dir", str(tmp_path / "a")
    )
    assert code == 2
    assert "invalid center id" in err
    assert not (tmp_path / "a" / "agent.key").exists()


def test_check_passes_with_signed_certificate_and_readable_sources(tmp_path: Path) -> None:
    ad = _enrolled(tmp_path)
    ad.write_equipment([equipment_row("EQ-1")])
    code, out, err = ad.cli("check")
    assert code == 0, out + err
    assert "ok   certificates: agent.crt for spiffe://" in out


def test_check_fails_without_certificate_and_says_what_to_do(tmp_path: Path) -> None:
    ad = _enrolled(tmp_path)
    (ad.dir / "agent.crt").unlink()
    code, out, _ = ad.cli("check")
    assert code == 1
    assert "FAIL certificates" in out
    assert "center sign agent.csr" in out


def test_check_fails_on_an_unreadable_source(tmp_path: Path) -> None:
    ad = _enrolled(tmp_path)
    ad.equipment_csv.write_text("name,colour\nx,y\n", encoding="utf-8")
    code, out, _ = ad.cli("check")
    assert code == 1
    assert "ok   certificates" in out


def test_check_with_missing_config_exits_2(tmp_path: Path) -> None:
    code, _, err = run_agent_cli("check", "--config", str(tmp_path / "nope.toml"))
    assert code == 2
    assert "iplat-agent init" in err


def test_status_before_the_first_run_says_to_start_the_agent(tmp_path: Path) -> None:
    ad = _enrolled(tmp_path)
    code, _, err = ad.cli("status")
    assert code == 1
    assert "has not run yet" in err
    assert "iplat-agent run --config" in err


def test_status_shows_connection_backlog_held_deletes_and_source_problems(
    tmp_path: Path,
) -> None:
    ad = _enrolled(tmp_path)
    ad.write_equipment([equipment_row(f"EQ-{i}") for i in range(10)])
    ad.write_calendar([calendar_row("B-1", "EQ-1", "2026-03-02T09:00", "2026-03-02T08:00")])
    assert _apply_sources(ad) == [False, False]
    ad.write_equipment([equipment_row("EQ-0")])
    assert _apply_sources(ad) == [True, False]
    with AgentState(ad.state_path, CENTER) as state:
        state.set_source_health(
            "calendar", ok=True, records=0, problems=1, first_problem="calendar.csv:2: end", at=1
        )
        # A dead daemon's last words: status must not claim it still runs.
        LiveStatus(state).update_now(
            {K_PID: 999_999_999, K_CONN: BACKOFF, K_LAST_ERROR: "hub down", K_LAST_ERROR_AT: 5}
        )
    code, out, err = ad.cli("status")
    assert code == 0, err
    assert f"center       {CENTER}" in out
    assert "NOT RUNNING" in out
    assert "connection   stopped" in out
    assert "backlog      10 change(s)" in out
    assert "HELD         9 deletion(s) from source 'equipment'" in out
    assert f"iplat-agent approve-deletes --config {ad.config}" in out
    assert "first problem: calendar.csv:2: end" in out

    data = json.loads(ad.cli("status", "--json")[1])
    assert data["running"] is False
    assert data["backlog"] == 10
    assert data["held"][0]["deletes"] == 9
    assert {s["name"]: s["problems"] for s in data["sources"]} == {"calendar": 1}


def test_approve_deletes_publishes_the_held_snapshot(tmp_path: Path) -> None:
    ad = _enrolled(tmp_path)
    ad.write_equipment([equipment_row(f"EQ-{i}") for i in range(10)])
    _apply_sources(ad)
    code, out, _ = ad.cli("approve-deletes")
    assert code == 0
    assert "nothing is held back" in out

    ad.write_equipment([equipment_row("EQ-0"), equipment_row("EQ-1")])
    assert _apply_sources(ad)[0] is True
    code, out, err = ad.cli("approve-deletes")
    assert code == 0, err
    assert "source 'equipment': approved; 8 deletion(s)" in out
    with AgentState(ad.state_path, CENTER) as state:
        assert state.record_count() == 2
        assert state.held() is None
    # Approval is for that snapshot: the next read is judged normally again.
    assert _apply_sources(ad)[0] is False


@pytest.mark.parametrize("argv", [["--version"], ["run", "--help"]])
def test_help_and_version_exit_cleanly(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        run_agent_cli(*argv)
    assert exc.value.code == 0


def test_run_without_certificate_exits_with_what_to_do(tmp_path: Path) -> None:
    ad = _enrolled(tmp_path)
    (ad.dir / "agent.crt").unlink()
    # A real process: `run` installs signal handlers and log handlers of its own.
    done = subprocess.run(
        [sys.executable, "-m", "agent", "run", "--config", str(ad.config)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 1, done.stderr
    assert "certificate" in done.stderr and "is missing" in done.stderr
    assert "iplat-hub center sign" in done.stderr
    assert "Traceback" not in done.stderr

"""`iplat-install agent` end to end, with a real hub and real tokens (``--service none``).

One center's whole life on one machine, in order (each stage needs the one before):
install, the agent syncing, a re-run, a failing re-run rolled back to the running install,
uninstall keeping the state, a re-install taking that state over, and a full uninstall
that leaves only the center's own files.
"""

from __future__ import annotations

import hashlib
import shutil
import stat
from pathlib import Path

import pytest

from agent.config import load_config
from agent.sources import fields
from installer import agentctl, background, manifest, systemd
from tests.helpers.agentenv import calendar_row, equipment_row, hub_records, write_csv
from tests.helpers.hubenv import RunningHub
from tests.helpers.wait import eventually
from tests.installer.support import Site, Token, new_token, processes_under, run_install, tree

pytestmark = pytest.mark.slow


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _outside_venv(site: Site) -> dict[str, str]:
    """Everything the install wrote except the venv (rebuilt by every run)."""
    return {
        f"{top.name}/{k}": v
        for top in (site.prefix, site.config_dir, site.state_dir / "tls")
        for k, v in tree(top).items()
        if not k.startswith("venv")
    }


def test_install_sync_rerun_rollback_keep_state_and_uninstall(
    site: Site, hub: RunningHub, token: Token, agent_wheel: Path
) -> None:
    # The center keeps its equipment list where the config goes, before any install.
    site.config_dir.mkdir(parents=True)
    equipment_csv = site.config_dir / "equipment.csv"
    write_csv(
        equipment_csv, fields.EQUIPMENT_COLUMNS, [equipment_row("EQ-1"), equipment_row("EQ-2")]
    )
    center_csv_hash = _sha(equipment_csv)
    agent_exe = site.prefix / "venv" / "bin" / "iplat-agent"
    config_file = site.config_dir / "agent.toml"

    # -- install -----------------------------------------------------------------------
    result = run_install(
        *site.install_args(hub.address, agent_wheel, token.token, token.ca_fingerprint)
    )
    assert result.code == 0, result.text
    m = manifest.load(site.prefix / "install.json")
    assert m is not None and m.complete
    center = m.center_id
    assert f"The i-Platform agent for center {center} is installed" in result.out
    assert f"iplat-install uninstall --prefix {site.prefix}" in result.out
    assert "connected, 2 record(s) acknowledged by the hub" in result.out

    # the center's file is untouched; the template it lacked was added and recorded
    assert _sha(equipment_csv) == center_csv_hash
    assert {Path(f.path).name for f in m.config_files} == {"agent.toml", "calendar.csv"}
    # agent.toml as the agent reads it: sources beside it, state and certificates in STATE_DIR
    config = load_config(config_file)
    assert config.center_id == center and config.hub == hub.address
    assert config.state_path == site.state_dir / "state.db"
    assert config.tls.key == site.state_dir / "tls" / "agent.key"
    assert stat.S_IMODE(config.tls.key.stat().st_mode) == 0o600
    assert stat.S_IMODE((site.state_dir / "tls").stat().st_mode) == 0o700
    assert not (site.config_dir / "agent.key").exists()
    # the unit (a reference copy with --service none) is written and valid
    unit = site.prefix / "iplatform-agent.service"
    spec = systemd.UnitSpec(
        agent_exe, config_file, site.state_dir, "iplatform-agent", "iplatform-agent", center
    )
    assert systemd.problems(unit.read_text(), spec) == []
    if shutil.which("systemd-analyze"):
        assert systemd.analyze_verify(unit) is not None
    # the agent runs detached, and its first sync reached the hub
    pid = background.read_pid(site.state_dir / "agent.pid")
    assert pid is not None and background.is_agent(pid, agent_exe)
    assert set(hub_records(hub, center)) == {"EQ-1", "EQ-2"}
    assert (agentctl.status(agent_exe, config_file, None) or {})["connection"] == "connected"
    # and keeps syncing what the center edits
    write_csv(
        equipment_csv, fields.EQUIPMENT_COLUMNS, [equipment_row(f"EQ-{i}") for i in (1, 2, 3)]
    )
    eventually(lambda: set(hub_records(hub, center)) == {"EQ-1", "EQ-2", "EQ-3"}, timeout=20)

    # -- re-run: no token needed; key, certificate, state and config kept ------------------
    key_hash, cert_hash, toml_hash = _sha(config.tls.key), _sha(config.tls.cert), _sha(config_file)
    result = run_install(*site.rerun_args(hub.address, agent_wheel))
    assert result.code == 0, result.text
    assert "upgrading it; key, state and agent.toml are kept" in result.out
    assert (_sha(config.tls.key), _sha(config.tls.cert), _sha(config_file)) == (
        key_hash, cert_hash, toml_hash,
    )  # fmt: skip
    new_pid = background.read_pid(site.state_dir / "agent.pid")
    assert new_pid is not None and new_pid != pid and not background.alive(pid)
    assert processes_under(site.root) == [new_pid]
    assert not (site.prefix / "venv.previous").exists()
    assert set(hub_records(hub, center)) == {"EQ-1", "EQ-2", "EQ-3"}

    # -- a re-run failing after it started the new agent puts the running install back --
    before, before_manifest = _outside_venv(site), manifest.load(site.prefix / "install.json")
    result = run_install(*site.rerun_args(hub.address, agent_wheel), "--fail-at", "start")
    assert result.code == 4, result.text
    assert _outside_venv(site) == before
    assert manifest.load(site.prefix / "install.json") == before_manifest
    assert not (site.prefix / "venv.previous").exists()
    pid = background.read_pid(site.state_dir / "agent.pid")
    assert pid is not None and background.is_agent(pid, agent_exe)
    eventually(
        lambda: (
            (agentctl.status(agent_exe, config_file, None) or {}).get("connection") == "connected"
        ),
        timeout=20,
    )

    # -- uninstall --keep-state, then a new install takes the state over ----------------
    # the center fills the calendar template: from now on it is the center's data
    calendar_csv = site.config_dir / "calendar.csv"
    booking = calendar_row("B-1", "EQ-1", "2026-12-01T09:00:00+09:00", "2026-12-01T12:00:00+09:00")
    write_csv(calendar_csv, fields.CALENDAR_COLUMNS, [booking])
    result = run_install("uninstall", "--prefix", str(site.prefix), "--keep-state")
    assert result.code == 0, result.text
    assert f"kept {calendar_csv}: changed since the install" in result.out
    assert processes_under(site.root) == [] and not site.prefix.exists()
    assert (site.state_dir / "state.db").exists() and config.tls.key.exists()
    assert not config_file.exists()

    again = new_token(hub, center, register=False)
    result = run_install(
        *site.install_args(hub.address, agent_wheel, again.token, again.ca_fingerprint)
    )
    assert result.code == 0, result.text
    assert f"taking over the agent state kept in {site.state_dir}" in result.out
    assert f"kept {calendar_csv} (yours)" in result.out
    assert _sha(config.tls.cert) != cert_hash  # a new certificate for the kept state
    assert not list((site.state_dir / "tls").glob("*.previous"))
    eventually(lambda: "B-1" in hub_records(hub, center)["EQ-1"][2], timeout=20)

    # -- uninstall: only the center's files stay ---------------------------------------
    before = tree(site.root)
    result = run_install("uninstall", "--prefix", str(site.prefix), "--dry-run")
    assert result.code == 0 and "[6/6] Removing the service account" in result.out
    assert tree(site.root) == before
    result = run_install("uninstall", "--prefix", str(site.prefix))
    assert result.code == 0, result.text
    assert processes_under(site.root) == []
    left = tree(site.root)
    assert set(left) == {
        "etc",
        "etc/iplatform-agent",
        *(f"etc/iplatform-agent/{n}" for n in ("calendar.csv", "equipment.csv")),
    }
    assert "EQ-3" in equipment_csv.read_text(encoding="utf-8")
    assert "B-1" in calendar_csv.read_text(encoding="utf-8")
    # nothing is left to uninstall
    result = run_install("uninstall", "--prefix", str(site.prefix))
    assert result.code == 7 and "no install in" in result.err

"""``--service systemd`` on a machine where systemd does not run (this container).

The unit is installed and validated; the installer says it could not start it and does
not wait for a sync. The service account is ``root`` here: it exists (so nothing is added
to the machine's accounts) and can execute this container's Python, which lives under
/root (a real server's /usr/bin/python3 is readable by the dedicated account).
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from installer import manifest, systemd
from tests.helpers.hubenv import RunningHub
from tests.installer.support import Site, Token, processes_under, run_install, tree

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="--service systemd needs root"),
    pytest.mark.skipif(systemd.running(), reason="would start a real service on this machine"),
]


def test_unit_written_and_validated_but_not_started(
    site: Site, hub: RunningHub, token: Token, agent_wheel: Path
) -> None:
    argv = site.install_args(hub.address, agent_wheel, token.token, token.ca_fingerprint)
    argv[argv.index("none")] = "systemd"
    argv += ["--unit-dir", str(site.unit_dir), "--service-user", "root"]
    result = run_install(*argv)
    assert result.code == 0, result.text
    assert "systemd is not running on this machine, so the service was NOT started" in result.out
    assert "skipped: the agent was not started" in result.out
    assert processes_under(site.root) == []

    unit = site.unit_dir / "iplatform-agent.service"
    spec = systemd.UnitSpec(
        agent_exe=site.prefix / "venv" / "bin" / "iplat-agent",
        config_file=site.config_dir / "agent.toml",
        state_dir=site.state_dir,
        user="root",
        group="root",
        center_id="",
    )
    assert systemd.problems(unit.read_text(), spec) == []
    if shutil.which("systemd-analyze"):
        assert systemd.analyze_verify(unit) is not None
    # agent.toml may hold a database password: root and the service group only
    assert stat.S_IMODE((site.config_dir / "agent.toml").stat().st_mode) == 0o640
    m = manifest.load(site.prefix / "install.json")
    assert m is not None and m.service == "systemd" and m.unit_path == str(unit)
    assert m.service_user == "root" and not m.user_created

    result = run_install("uninstall", "--prefix", str(site.prefix))
    assert result.code == 0, result.text
    assert "kept the account root" in result.out
    assert tree(site.root) == {}

"""A failure at any step of a first install leaves the machine exactly as it was.

``--fail-at STEP`` fails the run right after STEP succeeded, so STEP's own undo runs too.
Each case enrolls with a token of its own (a token works once).
"""

from __future__ import annotations

import io
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.sources import fields
from installer import cli, install_steps
from installer.console import Console
from installer.errors import ClockSkewError
from installer.install import install
from tests.helpers.agentenv import equipment_row, write_csv
from tests.helpers.hubenv import RunningHub
from tests.helpers.wait import eventually
from tests.installer.support import Site, Token, processes_under, run_install, tree

pytestmark = pytest.mark.slow


def _center_sources(site: Site) -> None:
    site.config_dir.mkdir(parents=True)
    write_csv(site.config_dir / "equipment.csv", fields.EQUIPMENT_COLUMNS, [equipment_row("EQ-1")])


@pytest.mark.parametrize("step", install_steps.STEP_NAMES)
def test_failure_after_each_step_leaves_nothing_behind(
    site: Site, hub: RunningHub, token: Token, agent_wheel: Path, step: str
) -> None:
    _center_sources(site)
    before = tree(site.root)
    argv = site.install_args(hub.address, agent_wheel, token.token, token.ca_fingerprint)
    result = run_install(*argv, "--fail-at", step)
    assert result.code == 4, result.text
    assert f"failure injected after step '{step}'" in result.err
    assert tree(site.root) == before
    assert processes_under(site.root) == []
    if install_steps.STEP_NAMES.index(step) >= install_steps.STEP_NAMES.index("enroll"):
        assert "the token is used up: ask the hub operator for a new one" in result.out


def test_clock_skew_is_refused_and_rolled_back(
    site: Site, hub: RunningHub, token: Token, agent_wheel: Path
) -> None:
    """A machine clock 10 minutes ahead of the hub's (a fake clock) stops the install."""
    _center_sources(site)
    before = tree(site.root)
    argv = site.install_args(hub.address, agent_wheel, token.token, token.ca_fingerprint)
    options = cli.install_options(cli.parse_args(argv))
    with pytest.raises(ClockSkewError, match=r"6\d\d s ahead of the hub's"):
        install(
            options, Console(io.StringIO()), clock=lambda: datetime.now(UTC) + timedelta(minutes=10)
        )
    assert tree(site.root) == before
    assert processes_under(site.root) == []


def test_sigterm_during_the_install_rolls_back(
    site: Site, hub: RunningHub, token: Token, agent_wheel: Path, tmp_path: Path
) -> None:
    """A closed SSH session or a `kill` mid-install undoes the run like any failure."""
    _center_sources(site)
    before = tree(site.root)
    log = tmp_path / "installer.out"
    argv = site.install_args(hub.address, agent_wheel, token.token, token.ca_fingerprint)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "installer", *argv], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        # once the agent is running, the run has done nearly everything there is to undo
        eventually(lambda: "[14/15] Waiting" in log.read_text(), timeout=60, what="sync step")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 130, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    text = log.read_text()
    assert "undo start" in text and "undo dirs" in text
    assert "interrupted; what this run had done was undone" in text
    assert tree(site.root) == before
    assert processes_under(site.root) == []


def test_no_first_sync_in_time_says_what_to_check_and_rolls_back(
    site: Site, hub: RunningHub, token: Token, agent_wheel: Path
) -> None:
    _center_sources(site)
    before = tree(site.root)
    argv = site.install_args(hub.address, agent_wheel, token.token, token.ca_fingerprint)
    # far too short for any agent to start: the wait times out on its first look
    result = run_install(*argv, "--wait", "0.2")
    assert result.code == 5, result.text
    assert f"no acknowledged sync with the hub {hub.address}" in result.err
    assert "outbound TCP" in result.err and "firewall" in result.err
    assert str(site.state_dir / "agent.log") in result.err
    assert tree(site.root) == before
    assert processes_under(site.root) == []

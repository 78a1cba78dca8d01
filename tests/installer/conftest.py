from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import hubenv
from tests.helpers.agentenv import new_center_id
from tests.helpers.hubenv import RunningHub
from tests.installer.support import Site, Token, build_wheel, new_token, processes_under


@pytest.fixture(scope="session")
def agent_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of this checkout, built once per session."""
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="session")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    """One real hub for the installer tests; each test enrolls a center of its own."""
    data_dir = hubenv.init_hub(tmp_path_factory.mktemp("hub") / "hub")
    with hubenv.running_hub(data_dir) as running:
        yield running


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """A center's machine in tmp_path; any agent still running at the end is killed."""
    machine = Site(tmp_path / "machine")
    machine.root.mkdir()
    try:
        yield machine
    finally:
        for pid in processes_under(machine.root):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def token(hub: RunningHub) -> Token:
    """A fresh token for a new center."""
    return new_token(hub, new_center_id("KR-IN"))

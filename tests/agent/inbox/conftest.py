"""Fixtures of the inbox tests: an agent directory, its config and state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.config import AgentConfig, load_config
from agent.state import AgentState
from tests.agent.inbox.items import make_agent_dir
from tests.helpers.agentenv import AgentDir


@pytest.fixture
def agent_dir(tmp_path: Path) -> AgentDir:
    return make_agent_dir(tmp_path / "agent", inbox="poll_seconds = 0.2")


@pytest.fixture
def config(agent_dir: AgentDir) -> AgentConfig:
    return load_config(agent_dir.config)


@pytest.fixture
def state(config: AgentConfig) -> Iterator[AgentState]:
    s = AgentState(config.state_path, config.center_id)
    yield s
    s.close()

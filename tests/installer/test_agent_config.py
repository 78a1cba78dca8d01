"""Pointing the agent.toml that enroll writes at STATE_DIR, checked with the agent's own loader."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent import templates
from agent.config import load_config
from installer import agent_config
from installer.errors import StepError
from installer.layout import Layout


def _layout(tmp_path: Path) -> Layout:
    return Layout.make(tmp_path / "opt", tmp_path / "etc", tmp_path / "var")


def _write(tmp_path: Path, text: str) -> Path:
    lay = _layout(tmp_path)
    lay.config_dir.mkdir(parents=True)
    lay.config_file.write_text(text, encoding="utf-8")
    return lay.config_file


def test_template_points_at_state_dir_and_the_agent_loads_it(tmp_path: Path) -> None:
    lay = _layout(tmp_path)
    text = templates.default_config_text("KR-MR-0001", "hub.example.kr:7443")
    new = agent_config.point_at_state_dir(text, lay)
    path = _write(tmp_path, new)

    config = load_config(path)
    assert config.state_path == lay.state_db
    assert (config.tls.key, config.tls.cert, config.tls.ca) == (lay.key, lay.cert, lay.ca)
    # the sources stay the CSV files next to agent.toml
    assert [s.path for s in config.sources] == [
        lay.config_dir / "equipment.csv",
        lay.config_dir / "calendar.csv",
    ]
    # the operator's comments survive, and a second edit changes nothing
    assert "# Equipment list: one row per piece of equipment." in new
    assert agent_config.point_at_state_dir(new, lay) == new
    got = agent_config.read(path)
    assert (got.center_id, got.hub) == ("KR-MR-0001", "hub.example.kr:7443")
    assert agent_config.matches_layout(got, lay)


def test_values_set_before_are_replaced_not_duplicated(tmp_path: Path) -> None:
    lay = _layout(tmp_path)
    text = 'center_id = "KR-MR-0001"\nhub = "h:1"\nstate_path = "x.db"\n\n[tls]\nkey = "k"\n'
    new = agent_config.point_at_state_dir(text, lay)
    got = agent_config.read(_write(tmp_path, new))
    assert (got.state_path, got.key, got.cert) == (lay.state_db, lay.key, lay.cert)


def test_a_config_it_cannot_edit_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(StepError, match="could not set state_path"):
        agent_config.point_at_state_dir("[tls\nbroken", _layout(tmp_path))


def test_relative_defaults_do_not_match_the_layout(tmp_path: Path) -> None:
    lay = _layout(tmp_path)
    path = _write(tmp_path, templates.default_config_text("KR-MR-0001", "h:1"))
    got = agent_config.read(path)
    assert got.state_path == lay.config_dir / "state.db"
    assert not agent_config.matches_layout(got, lay)

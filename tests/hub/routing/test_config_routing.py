"""``[routing]`` in hub.toml: defaults, round trip, and every refusal naming key and fix."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest

from hub import config
from hub.config_routing import RoutingSettings
from hub.errors import ConfigError
from hub.routing.deadlines import DeadlineRule
from hub.routing.guide import DEFAULT_GUIDE_PATH


def _load(tmp_path: Path, text: str) -> config.HubConfig:
    (tmp_path / "hub.toml").write_text(text, encoding="utf-8")
    return config.load(tmp_path)


def test_defaults_use_the_shipped_guide(tmp_path: Path) -> None:
    r = _load(tmp_path, "").routing
    assert r == RoutingSettings()
    assert (r.guide, r.answer_deadline, r.holidays, r.max_candidates) == (
        "",
        "2 business days",
        (),
        5,
    )
    assert (r.sweep_seconds, r.delivery_poll_seconds) == (5.0, 1.0)
    assert r.deadline_rule == DeadlineRule(2, "business-days")
    assert r.holiday_dates == frozenset()
    assert r.load_guide().source == str(DEFAULT_GUIDE_PATH)


def test_the_sample_config_documents_the_section_and_loads_back(tmp_path: Path) -> None:
    guide = tmp_path / "guide.toml"
    guide.write_bytes(DEFAULT_GUIDE_PATH.read_bytes())
    original = config.HubConfig(
        data_dir=tmp_path.resolve(),
        database_url=config.default_database_url(tmp_path),
        routing=RoutingSettings(
            guide=str(guide.resolve()),
            answer_deadline="4 hours",
            holidays=("2026-12-25", "2027-01-01"),
            max_candidates=3,
            sweep_seconds=0.5,
            delivery_poll_seconds=0.25,
        ),
    )
    text = config.render(original)
    assert "[routing]\n" in text and "representative" in text
    assert config.from_dict(tomllib.loads(text), tmp_path.resolve(), tmp_path / "x") == original
    default_text = config.render(config.HubConfig(data_dir=tmp_path))
    assert config.from_dict(tomllib.loads(default_text), tmp_path, tmp_path / "x").routing == (
        RoutingSettings()
    )


def test_a_relative_guide_is_read_from_the_data_directory(tmp_path: Path) -> None:
    (tmp_path / "guides").mkdir()
    (tmp_path / "guides" / "ours.toml").write_bytes(DEFAULT_GUIDE_PATH.read_bytes())
    r = _load(tmp_path, '[routing]\nguide = "guides/ours.toml"\n').routing
    assert r.guide == str((tmp_path / "guides" / "ours.toml").resolve())
    assert r.load_guide().source == r.guide


def test_holidays_may_be_toml_dates(tmp_path: Path) -> None:
    r = _load(tmp_path, '[routing]\nholidays = [2026-12-25, " 20270101 "]\n').routing
    assert r.holidays == ("2026-12-25", "2027-01-01")
    assert r.holiday_dates == {date(2026, 12, 25), date(2027, 1, 1)}


@pytest.mark.parametrize(
    ("text", "key", "fix"),
    [
        ("[routing]\nguid = 'x'\n", "[routing] guid: unknown key", "answer_deadline"),
        ("[routing]\nanswer_deadline = '2 weeks'\n", "[routing] answer_deadline", "4 hours"),
        ("[routing]\nanswer_deadline = '0 hours'\n", "must be more than 0", "2 business days"),
        ("[routing]\nanswer_deadline = 2\n", "[routing] answer_deadline", "quoted string"),
        ("[routing]\nproposal_deadline = 'soon'\n", "[routing] proposal_deadline", "4 hours"),
        ("[routing]\nholidays = ['12/25']\n", "[routing] holidays: '12/25' is not a date", "ISO"),
        ("[routing]\nholidays = [2026-12-25T10:00:00]\n", "[routing] holidays", "list of strings"),
        ("[routing]\nmax_candidates = 0\n", "[routing] max_candidates: 0", "between 1 and 20"),
        ("[routing]\nmax_candidates = 21\n", "[routing] max_candidates", "between 1 and 20"),
        ("[routing]\nsweep_seconds = 0.01\n", "[routing] sweep_seconds", "between 0.05 and 3600"),
        ("[routing]\ndelivery_poll_seconds = 4000\n", "delivery_poll_seconds", "3600"),
        ("routing = 1\n", "routing: must be a table", "[routing] section"),
        (
            "[routing]\nguide = 'missing.toml'\n",
            "[routing] guide: the stage guide is not usable",
            'set guide = "" to use the shipped guide',
        ),
    ],
)
def test_bad_routing_settings_are_refused(tmp_path: Path, text: str, key: str, fix: str) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, text)
    message = str(info.value)
    assert message.startswith(str(tmp_path.resolve() / "hub.toml"))
    assert key in message
    assert fix in message


def test_a_broken_guide_stops_the_hub_with_the_guides_own_message(tmp_path: Path) -> None:
    broken = DEFAULT_GUIDE_PATH.read_text(encoding="utf-8").replace(
        'industry = "bio"', 'industry = "biology"', 1
    )
    (tmp_path / "guide.toml").write_text(broken, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, '[routing]\nguide = "guide.toml"\n')
    message = str(info.value)
    assert "[routing] guide" in message
    assert "area 'biologics': industry: unknown industry 'biology'" in message
    assert str((tmp_path / "guide.toml").resolve()) in message

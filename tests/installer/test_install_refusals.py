"""What `iplat-install agent` refuses before it changes anything, and --dry-run."""

from __future__ import annotations

import time
from pathlib import Path

from tests.helpers.hubenv import RunningHub
from tests.installer.support import Site, closed_port, processes_under, run_install, tree

FAKE_TOKEN = "not-a-real-token"
FAKE_PIN = "sha256:" + "ab" * 32


def _with_center_csv(site: Site) -> None:
    """The center already keeps its equipment list where the config will go."""
    site.config_dir.mkdir(parents=True)
    (site.config_dir / "equipment.csv").write_text("id,name_ko\nEQ-1,장비\n", encoding="utf-8")


def test_closed_port_fails_fast_with_what_to_open(site: Site, agent_wheel: Path) -> None:
    _with_center_csv(site)
    before = tree(site.root)
    port = closed_port()
    started = time.monotonic()
    result = run_install(*site.install_args(f"127.0.0.1:{port}", agent_wheel, FAKE_TOKEN, FAKE_PIN))
    assert time.monotonic() - started < 3
    assert result.code == 3, result.text
    assert f"127.0.0.1:{port}" in result.err and "open outbound TCP" in result.err
    assert "firewall" in result.err
    assert result.err.startswith("iplat-install agent: error: ")
    assert tree(site.root) == before


def test_dry_run_changes_nothing_and_lists_every_step(
    site: Site, hub: RunningHub, agent_wheel: Path
) -> None:
    _with_center_csv(site)
    before = tree(site.root)
    result = run_install(
        *site.install_args(hub.address, agent_wheel, FAKE_TOKEN, FAKE_PIN), "--dry-run"
    )
    assert result.code == 0, result.text
    assert tree(site.root) == before
    for title in ("Checking the Python version", "Enrolling with the hub", "Starting the agent"):
        assert title in result.out
    assert f"would create {site.prefix / 'venv'} and pip install {agent_wheel}" in result.out
    assert "[15/15] Recording the install" in result.out
    assert processes_under(site.root) == []


def test_token_needed_for_a_first_install(site: Site, hub: RunningHub, agent_wheel: Path) -> None:
    result = run_install(*site.install_args(hub.address, agent_wheel))
    assert result.code == 2, result.text
    assert "--token and --ca-fingerprint needed" in result.err
    assert "iplat-hub token create" in result.err
    assert not site.prefix.exists()


def test_bad_fingerprint_is_a_usage_error(site: Site, hub: RunningHub, agent_wheel: Path) -> None:
    result = run_install(*site.install_args(hub.address, agent_wheel, FAKE_TOKEN, "sha256:xyz"))
    assert result.code == 2 and "64 hex digits" in result.err


def test_non_empty_prefix_without_manifest_is_refused(
    site: Site, hub: RunningHub, agent_wheel: Path
) -> None:
    site.prefix.mkdir(parents=True)
    (site.prefix / "something").write_text("not ours")
    before = tree(site.root)
    result = run_install(*site.install_args(hub.address, agent_wheel, FAKE_TOKEN, FAKE_PIN))
    assert result.code == 2 and "holds no install manifest" in result.err
    assert tree(site.root) == before


def test_foreign_agent_toml_is_refused_and_left_alone(
    site: Site, hub: RunningHub, agent_wheel: Path
) -> None:
    _with_center_csv(site)
    (site.config_dir / "agent.toml").write_text('center_id = "KR-X-1"\nhub = "h:1"\n')
    before = tree(site.root)
    result = run_install(*site.install_args(hub.address, agent_wheel, FAKE_TOKEN, FAKE_PIN))
    assert result.code == 2, result.text
    assert "was not written by this installer" in result.err and "move it" in result.err
    assert tree(site.root) == before


def test_systemd_needs_safe_paths(site: Site, hub: RunningHub, agent_wheel: Path) -> None:
    weird = Site(site.root / "with space")
    argv = weird.install_args(hub.address, agent_wheel, FAKE_TOKEN, FAKE_PIN)
    argv[argv.index("none")] = "systemd"
    result = run_install(*argv, "--unit-dir", str(weird.unit_dir))
    assert result.code == 2, result.text
    assert "letters, digits" in result.err or "needs root" in result.err

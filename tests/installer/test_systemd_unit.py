"""The hardened unit: every setting checked by our parser, and by systemd-analyze if present."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from installer import systemd
from installer.errors import StepError, UsageError


def _spec(tmp_path: Path, version: int | None = None) -> systemd.UnitSpec:
    exe = tmp_path / "venv" / "bin" / "iplat-agent"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    return systemd.UnitSpec(
        agent_exe=exe,
        config_file=tmp_path / "etc" / "agent.toml",
        state_dir=tmp_path / "state",
        user="iplatform-agent",
        group="iplatform-agent",
        center_id="KR-MR-0001",
        systemd_version=version,
    )


def test_rendered_unit_is_hardened(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    text = systemd.render(spec)
    assert systemd.problems(text, spec) == []
    service = systemd.parse(text)["Service"]
    assert service["User"] == ["iplatform-agent"]
    assert service["ReadWritePaths"] == [str(spec.state_dir)]  # not the config dir
    assert service["SocketBindDeny"] == ["any"]  # never listens
    assert service["ExecStart"] == [f"{spec.agent_exe} run --config {spec.config_file}"]
    for key, value in systemd.REQUIRED.items():
        assert service[key] == [value]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("ProtectSystem=strict", "ProtectSystem=strict missing"),
        ("NoNewPrivileges=yes", "NoNewPrivileges=yes missing"),
        ("CapabilityBoundingSet=", "CapabilityBoundingSet= missing"),
        ("Environment=GRPC_VERBOSITY=ERROR", "GRPC_VERBOSITY"),
        ("[Install]", "WantedBy"),
    ],
)
def test_a_missing_setting_is_found(tmp_path: Path, line: str, problem: str) -> None:
    spec = _spec(tmp_path)
    text = systemd.render(spec).replace(line + "\n", "")
    assert any(problem in p for p in systemd.problems(text, spec))


def test_writable_config_dir_or_missing_program_is_found(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    text = systemd.render(spec)
    wider = text.replace(
        f"ReadWritePaths={spec.state_dir}", f"ReadWritePaths={spec.state_dir} {tmp_path / 'etc'}"
    )
    assert any("ReadWritePaths must be exactly" in p for p in systemd.problems(wider, spec))
    spec.agent_exe.unlink()
    assert any("does not exist" in p for p in systemd.problems(text, spec))


def test_old_systemd_gets_no_settings_it_does_not_know(tmp_path: Path) -> None:
    spec = _spec(tmp_path, version=239)
    text = systemd.render(spec)
    assert "SocketBindDeny" not in text and "ProtectProc" not in text
    assert systemd.problems(text, spec) == []


def test_paths_that_need_quoting_are_refused() -> None:
    with pytest.raises(UsageError, match="letters, digits"):
        systemd.check_paths([Path("/opt/my agent")])


def test_garbage_is_not_a_unit() -> None:
    with pytest.raises(StepError, match="neither a section"):
        systemd.parse("[Service]\nthis is not a setting\n")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_accepts_it_and_rejects_unknown_keys(tmp_path: Path) -> None:
    spec = _spec(tmp_path, version=systemd.version())
    unit = tmp_path / "iplatform-agent.service"
    unit.write_text(systemd.render(spec))
    assert systemd.analyze_verify(unit) is not None
    unit.write_text(systemd.render(spec).replace("[Install]", "ProtectSystme=strict\n\n[Install]"))
    with pytest.raises(StepError, match="rejected the unit"):
        systemd.analyze_verify(unit)

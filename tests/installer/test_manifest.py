"""The install manifest: atomic, versioned, refusing what it cannot read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from installer import manifest
from installer.errors import ManifestError
from installer.manifest import Manifest


def _manifest() -> Manifest:
    return Manifest(
        prefix="/opt/p", config_dir="/etc/p", state_dir="/var/lib/p", service="none",
        unit_path="/opt/p/iplatform-agent.service", hub="hub:7443",
    )  # fmt: skip


def test_round_trip(tmp_path: Path) -> None:
    m = _manifest().with_dir(Path("/opt/p")).with_config_file(Path("/etc/p/agent.toml"), "ab")
    m = m.with_config_file(Path("/etc/p/agent.toml"), "cd")  # replaces, does not add
    path = tmp_path / "install.json"
    manifest.save(path, m)
    assert manifest.load(path) == m
    assert m.created(Path("/opt/p")) and m.created(Path("/etc/p/agent.toml"))
    assert not m.created(Path("/etc/p/equipment.csv"))
    assert json.loads(path.read_text())["format"] == manifest.FORMAT
    assert [p.name for p in tmp_path.iterdir()] == ["install.json"]  # no temp file left


def test_missing_is_none(tmp_path: Path) -> None:
    assert manifest.load(tmp_path / "install.json") is None


def test_newer_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "install.json"
    path.write_text(json.dumps({**_manifest().to_json(), "format": manifest.FORMAT + 1}))
    with pytest.raises(ManifestError, match="newer installer"):
        manifest.load(path)


@pytest.mark.parametrize("text", ["{", "[]", '{"prefix": "/x"}', '{"format": 1, "bogus": 1}'])
def test_damaged_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "install.json"
    path.write_text(text)
    with pytest.raises(ManifestError):
        manifest.load(path)

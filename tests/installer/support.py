"""Helpers for the installer tests: run ``iplat-install`` in-process, snapshot trees, tokens.

The installs go into temporary directories with ``--service none`` (the agent runs as a
background process of the test user) against a real hub subprocess (tests.helpers.hubenv).

Test-only speed-up (see installer.venv): the wheel of this checkout is built once per
session and installed with ``--test-deps-from`` = this venv's site-packages, so an install
costs ~1 s of pip instead of ~15 s of downloads and builds.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import sysconfig
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from installer import cli
from tests.helpers import hubenv
from tests.helpers.hubenv import RunningHub

REPO = Path(__file__).resolve().parents[2]
SITE_PACKAGES = Path(sysconfig.get_paths()["purelib"])
# What the wheel needs from the checkout (copied, so the build never writes into the repo).
_SOURCES = ("agent", "hub", "proto", "installer", "pyproject.toml", "README.md")


def build_wheel(out_dir: Path) -> Path:
    """The wheel of this checkout (no dependencies), built from a copy of the sources."""
    src = out_dir / "src"
    src.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in _SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            shutil.copy2(path, src / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "--wheel-dir", str(out_dir), str(src)],
        check=True, capture_output=True, cwd=src,
    )  # fmt: skip
    (wheel,) = out_dir.glob("iplatform_sync-*.whl")
    return wheel


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def run_install(*argv: str) -> Result:
    """``iplat-install ARGV`` in-process."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(list(argv))
    return Result(code, out.getvalue(), err.getvalue())


@dataclass(frozen=True)
class Site:
    """One center's machine, in a temporary directory."""

    root: Path

    @property
    def prefix(self) -> Path:
        return self.root / "opt" / "iplatform-agent"

    @property
    def config_dir(self) -> Path:
        return self.root / "etc" / "iplatform-agent"

    @property
    def state_dir(self) -> Path:
        return self.root / "var" / "lib" / "iplatform-agent"

    @property
    def unit_dir(self) -> Path:
        return self.root / "etc" / "systemd" / "system"

    def dir_args(self) -> list[str]:
        return [
            "--prefix", str(self.prefix), "--config-dir", str(self.config_dir),
            "--state-dir", str(self.state_dir),
        ]  # fmt: skip

    def install_args(
        self, hub: str, wheel: Path, token: str | None = None, fingerprint: str | None = None
    ) -> list[str]:
        argv = ["agent", "--hub", hub, *self.dir_args(), "--service", "none"]
        argv += ["--package", str(wheel), "--test-deps-from", str(SITE_PACKAGES), "--wait", "60"]
        if token:
            argv += ["--token", token]
        if fingerprint:
            argv += ["--ca-fingerprint", fingerprint]
        return argv

    def rerun_args(self, hub: str, wheel: Path) -> list[str]:
        """A re-run as IT staff type it: the manifest in PREFIX knows the rest."""
        argv = ["agent", "--hub", hub, "--prefix", str(self.prefix)]
        return [*argv, "--package", str(wheel), "--test-deps-from", str(SITE_PACKAGES)]


def tree(root: Path) -> dict[str, str]:
    """Relative path -> ``dir``, ``-> target`` or ``sha256 mode`` of everything under ``root``."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        st = path.lstat()
        if stat.S_ISDIR(st.st_mode):
            out[rel] = "dir"
        elif stat.S_ISLNK(st.st_mode):
            out[rel] = f"-> {os.readlink(path)}"
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
            out[rel] = f"{digest} {stat.S_IMODE(st.st_mode):o}"
    return out


def processes_under(root: Path) -> list[int]:
    """Pids of live processes whose command line names a path under ``root``."""
    found = []
    needle = str(root).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if needle in cmdline and state != "Z" and int(entry.name) != os.getpid():
            found.append(int(entry.name))
    return found


def closed_port() -> int:
    """A local TCP port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@dataclass(frozen=True)
class Token:
    token: str
    ca_fingerprint: str


def new_token(hub: RunningHub, center_id: str, *, register: bool = True) -> Token:
    """A real one-time token from ``iplat-hub token create`` (registering the center)."""
    if register:
        hubenv.add_center(hub.data_dir, center_id)
    code, out = hubenv.run_cli(
        "token", "create", "--center", center_id, "--json", "--data-dir", str(hub.data_dir)
    )
    assert code == 0, out
    data = json.loads(out)
    return Token(data["token"], data["ca_fingerprint"])

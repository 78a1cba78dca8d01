"""The agent's own virtual environment under PREFIX, and which package goes into it.

Production: ``python -m venv PREFIX/venv`` with the installer's interpreter, then the
venv's pip installs ``--package`` (default: the source this installer came from: the
project root when it runs from a checkout, else ``iplatform-sync==<this version>`` from the
package index). ``--wheelhouse DIR`` installs from a directory of wheels without any
index, for centers whose firewall lets nothing out but the hub.

Test-only (:class:`SiteDeps`, the hidden ``--test-deps-from SITE_PACKAGES`` option): the
venv is made without pip, a ``.pth`` file makes the test environment's already installed
dependencies importable, and the installer's own pip installs ``--package`` (a wheel built
once per test session) with ``--no-deps --no-index``. That turns ~15 s of pip work into
~1 s per install; it is never used outside the test suite.
"""

from __future__ import annotations

import os
import sys
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from installer import commands
from installer.errors import StepError

DIST_NAME = "iplatform-sync"
STEP = "venv"


@dataclass(frozen=True)
class SiteDeps:
    """Test-only: take dependencies from an existing site-packages instead of pip."""

    site_packages: Path


def default_package() -> str:
    """The source this installer came from: its checkout, or the same version from the index."""
    root = Path(__file__).resolve().parents[1]
    pyproject = root / "pyproject.toml"
    try:
        name = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["name"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        name = None
    if name == DIST_NAME:
        return str(root)
    try:
        return f"{DIST_NAME}=={metadata.version(DIST_NAME)}"
    except metadata.PackageNotFoundError:
        return DIST_NAME


def create(venv: Path, test_deps: SiteDeps | None = None) -> None:
    argv: list[str | Path] = [sys.executable, "-m", "venv"]
    if test_deps is not None:
        argv.append("--without-pip")
    argv.append(venv)
    commands.run(
        argv,
        step=STEP,
        what=f"creating the virtual environment {venv}",
        fix="install the venv module (Debian/Ubuntu: apt-get install python3-venv) and run again",
        timeout=300,
    )
    if test_deps is not None:
        site = next((venv / "lib").glob("python3*/site-packages"))
        (site / "_iplat_test_deps.pth").write_text(f"{test_deps.site_packages}\n")


def install_package(
    venv: Path,
    package: str,
    *,
    wheelhouse: Path | None = None,
    test_deps: SiteDeps | None = None,
) -> None:
    python = venv / "bin" / "python"
    if test_deps is not None:
        argv: list[str | Path] = [sys.executable, "-m", "pip", "--python", python, "install"]
        argv += ["--no-deps", "--no-index"]
    else:
        argv = [python, "-m", "pip", "install", "--upgrade"]
    argv += ["--disable-pip-version-check", "--no-input", "--quiet"]
    if wheelhouse is not None:
        argv += ["--no-index", "--find-links", wheelhouse]
    argv.append(package)
    where = f"from {wheelhouse}" if wheelhouse else "(from the package index unless SPEC is a path)"
    commands.run(
        argv,
        step=STEP,
        what=f"pip install {package} {where}",
        fix=(
            "check --package; if this machine cannot reach the package index, copy a "
            "directory of wheels here (pip download iplatform-sync -d wheels, on a machine "
            "that can) and pass --wheelhouse DIR"
        ),
        timeout=900,
    )


def agent_version(venv: Path) -> str:
    """The version of the agent package in ``venv``; StepError if it has no iplat-agent.

    Asked of the venv's metadata, not of ``iplat-agent --version``: the check step runs
    the agent right after, and this saves a second start of the agent's imports.
    """
    exe = venv / "bin" / "iplat-agent"
    if not os.access(exe, os.X_OK):
        raise StepError(
            f"the package installed no {exe}: check --package (it must be {DIST_NAME})", STEP
        )
    result = commands.run(
        [
            venv / "bin" / "python",
            "-c",
            f"import importlib.metadata as m; print(m.version({DIST_NAME!r}))",
        ],
        step=STEP,
        what=f"reading the version of {DIST_NAME} in {venv}",
        fix=f"check --package (it must be {DIST_NAME})",
        timeout=120,
    )
    return result.stdout.strip()

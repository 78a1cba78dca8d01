"""What an install was asked to do (:class:`InstallOptions`, frozen) and what its steps
found and did so far (:class:`InstallRun`, shared by the steps of one run)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from installer.account import Account
from installer.checks import HubAddress
from installer.commands import RunAs
from installer.console import Console
from installer.layout import Layout, Service
from installer.manifest import Manifest
from installer.transaction import Step
from installer.venv import SiteDeps

DEFAULT_SERVICE_USER = "iplatform-agent"
DEFAULT_WAIT_SECONDS = 120.0


@dataclass(frozen=True)
class InstallOptions:
    hub: HubAddress
    """The hub's gRPC address."""
    layout: Layout
    """Prefix, config, state and unit directories."""
    token: str | None = None
    """One-time enrollment token (needed unless a valid enrollment is kept)."""
    ca_fingerprint: str | None = None
    """sha256:HEX of the hub's CA, pinned by the enrollment."""
    service: Service = "systemd"
    """How the agent runs: a systemd unit, or a background process (none)."""
    service_user: str = DEFAULT_SERVICE_USER
    """Account of the systemd service (created when missing)."""
    package: str = ""
    """pip requirement or path installed into the venv."""
    wheelhouse: Path | None = None
    """Install from this directory of wheels only (no package index)."""
    wait_seconds: float = DEFAULT_WAIT_SECONDS
    """How long to wait for the first acknowledged sync (0: do not wait)."""
    reach_timeout: float = 5.0
    """TCP connect timeout of the reach check."""
    dry_run: bool = False
    fail_at: str | None = None
    """Test-only: fail right after this step (every earlier step is then undone)."""
    site_deps: SiteDeps | None = None
    """Test-only: see installer.venv."""


@dataclass
class InstallRun:
    """Mutable state of one install run, written by the steps in order."""

    options: InstallOptions
    console: Console
    clock: Callable[[], datetime]
    """Wall clock (UTC) for the clock-skew check; tests pass a skewed one."""
    previous: Manifest | None
    """The manifest of the install this run upgrades (None: a fresh install)."""
    manifest: Manifest
    """What this install has created so far; saved after each step once PREFIX exists."""
    manifest_live: bool = False
    """PREFIX exists and the manifest is being kept there."""
    needs_enrollment: bool = True
    account: Account | None = None
    agent_version: str = ""
    center_id: str = ""
    staging: Path | None = None
    """Where `iplat-agent enroll` wrote its files in this run."""
    enrolled_at: datetime | None = None
    """Local time right after the enrollment (for the clock-skew check)."""
    started: bool = False
    """The agent was started by this run."""
    started_at: float = 0.0
    pid: int | None = None
    notes: list[str] = field(default_factory=list)
    """Things the summary must repeat (warnings)."""

    @property
    def layout(self) -> Layout:
        return self.options.layout

    @property
    def run_as(self) -> RunAs | None:
        """Who runs the agent's commands: the service account, or the installer's user."""
        return RunAs(self.account.user, self.account.group) if self.account else None


class RunStep(Step):
    """A step of one install run: reads the options and records what it did in the run."""

    def __init__(self, run: InstallRun) -> None:
        self.run_ctx = run

"""Where an installed agent lives: every path the installer writes, derived from four dirs.

::

    PREFIX/                    /opt/iplatform-agent   (root-owned program files)
      venv/                    the agent's own virtual environment
      install.json             the install manifest (what was created, for uninstall)
      iplatform-agent.service  with --service none: the unit, for reference
    CONFIG_DIR/                /etc/iplatform-agent   (what the center's IT staff edit)
      agent.toml               hub, sources, state_path and tls paths
      equipment.csv            CSV templates, only where absent: the center's sources
      calendar.csv
    STATE_DIR/                 /var/lib/iplatform-agent  (the only dir the service writes)
      state.db                 records and outbox
      tls/agent.key (0600), tls/agent.crt, tls/ca.pem
      inbox/                   routed requests for the center's staff ([inbox] kind = "folder")
      agent.pid, agent.log     with --service none
    UNIT_DIR/iplatform-agent.service   with --service systemd

The key and certificates live in STATE_DIR, not next to agent.toml: the agent renews its
certificate by itself (a new key and certificate written beside the old ones, then
renamed), so their directory must be writable by the service. Keeping them in STATE_DIR
lets the systemd unit allow writes to STATE_DIR only; the service can then change neither
its own configuration nor the center's source files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Service = Literal["systemd", "none"]
"""How the agent runs: a systemd unit, or a background process with a pid file."""
SERVICES: tuple[Service, ...] = ("systemd", "none")
DEFAULT_PREFIX = Path("/opt/iplatform-agent")
DEFAULT_CONFIG_DIR = Path("/etc/iplatform-agent")
DEFAULT_STATE_DIR = Path("/var/lib/iplatform-agent")
DEFAULT_UNIT_DIR = Path("/etc/systemd/system")
SERVICE_NAME = "iplatform-agent"
UNIT_NAME = f"{SERVICE_NAME}.service"
MANIFEST_NAME = "install.json"
CONFIG_NAME = "agent.toml"
TLS_FILES = ("agent.key", "agent.crt", "ca.pem")
# Files an agent writes into STATE_DIR by itself; a STATE_DIR holding only these is the
# state of an earlier install (kept by `uninstall --keep-state`) and may be taken over.
KEPT_NAME = "kept-install.json"
STATE_NAMES = (
    "state.db",
    "state.db-wal",
    "state.db-shm",
    "state.db-journal",
    "tls",
    "inbox",
    KEPT_NAME,
)
RUN_NAMES = ("agent.pid", "agent.log")


@dataclass(frozen=True)
class Layout:
    prefix: Path
    """Program files: the venv and the manifest."""
    config_dir: Path
    """agent.toml and the default CSV sources."""
    state_dir: Path
    """State database, certificates, pid file and log (with --service none)."""
    unit_dir: Path = DEFAULT_UNIT_DIR
    """Where --service systemd writes the unit."""

    @classmethod
    def make(
        cls,
        prefix: Path = DEFAULT_PREFIX,
        config_dir: Path = DEFAULT_CONFIG_DIR,
        state_dir: Path = DEFAULT_STATE_DIR,
        unit_dir: Path = DEFAULT_UNIT_DIR,
    ) -> Layout:
        """A layout of absolute paths (relative ones resolve against the working dir)."""
        return cls(
            prefix.expanduser().absolute(),
            config_dir.expanduser().absolute(),
            state_dir.expanduser().absolute(),
            unit_dir.expanduser().absolute(),
        )

    @property
    def venv(self) -> Path:
        return self.prefix / "venv"

    @property
    def venv_previous(self) -> Path:
        """The venv of the install being upgraded, kept until the upgrade is committed."""
        return self.prefix / "venv.previous"

    @property
    def venv_python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def agent_exe(self) -> Path:
        return self.venv / "bin" / "iplat-agent"

    @property
    def manifest(self) -> Path:
        return self.prefix / MANIFEST_NAME

    @property
    def config_file(self) -> Path:
        return self.config_dir / CONFIG_NAME

    @property
    def tls_dir(self) -> Path:
        return self.state_dir / "tls"

    @property
    def key(self) -> Path:
        return self.tls_dir / TLS_FILES[0]

    @property
    def cert(self) -> Path:
        return self.tls_dir / TLS_FILES[1]

    @property
    def ca(self) -> Path:
        return self.tls_dir / TLS_FILES[2]

    @property
    def state_db(self) -> Path:
        return self.state_dir / "state.db"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "agent.pid"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "agent.log"

    def unit_path(self, service: str) -> Path:
        """The unit file: installed for systemd, a reference copy in PREFIX otherwise."""
        return (self.unit_dir if service == "systemd" else self.prefix) / UNIT_NAME

"""The agent's systemd unit: rendered hardened, validated, installed and driven by systemctl.

The service may write only STATE_DIR (ProtectSystem=strict + ReadWritePaths), runs as its
own unprivileged account with no capabilities, may open only IP and Unix sockets, and may
not bind any port (SocketBindDeny=any: the agent never listens; it only dials out).
IPAddressDeny= is not used: the hub is named by a host name whose addresses may change,
and an allow-list of resolved addresses would cut the agent off at the next DNS change.
MemoryDenyWriteExecute= is not used either: cffi (cryptography) needs writable-executable
memory on some platforms.

Every unit is checked twice: :func:`problems` parses it and checks each hardening setting
(always), and ``systemd-analyze verify`` checks it with systemd's own parser when the tool
is there. Whether systemd runs at all is :func:`running` (sd_booted(3): /run/systemd/system).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from installer import commands
from installer.errors import StepError, UsageError

# Settings newer than some supported distributions' systemd (RHEL 8 has 239): left out
# when the local systemd is older, instead of being warned about and ignored by it.
_MIN_VERSION = {"SocketBindDeny": 249, "ProtectProc": 247, "ProtectClock": 245}
# What problems() insists on, whatever the local systemd is.
REQUIRED = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "PrivateTmp": "yes",
    "ProtectHome": "yes",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    "CapabilityBoundingSet": "",
    "SystemCallFilter": "@system-service",
    "Restart": "on-failure",
}
_SAFE_PATH = re.compile(r"^/[A-Za-z0-9/._@+-]*$")


@dataclass(frozen=True)
class UnitSpec:
    agent_exe: Path
    config_file: Path
    state_dir: Path
    user: str
    """Account the service runs as ("" for the installer's own account, --service none)."""
    group: str
    center_id: str
    systemd_version: int | None = None
    """The local systemd's version, to leave out settings it does not know (None: all)."""


def check_paths(paths: Sequence[Path]) -> None:
    """Unit files split on spaces and expand % and $: refuse paths that would need quoting."""
    for path in paths:
        if not _SAFE_PATH.match(str(path)):
            raise UsageError(
                f"{path}: for a systemd unit, use a path of letters, digits and / . _ @ + - only"
            )


def render(spec: UnitSpec) -> str:
    def supported(key: str) -> bool:
        need = _MIN_VERSION.get(key)
        return need is None or spec.systemd_version is None or spec.systemd_version >= need

    account = f"User={spec.user}\nGroup={spec.group}\n" if spec.user else ""
    optional = "".join(
        line + "\n"
        for key, line in (
            ("ProtectClock", "ProtectClock=yes"),
            ("ProtectProc", "ProtectProc=invisible"),
            ("SocketBindDeny", "SocketBindDeny=any"),
        )
        if supported(key)
    )
    return f"""\
# Written by iplat-install; re-running the installer rewrites it.
# The agent dials out to the hub and never listens: no port is opened here.
[Unit]
Description=i-Platform sync agent for center {spec.center_id}
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
{account}ExecStart={spec.agent_exe} run --config {spec.config_file}
WorkingDirectory={spec.state_dir}
Restart=on-failure
RestartSec=5s
# SIGTERM lets the agent finish the batch in flight and close its stream.
TimeoutStopSec=30s
Environment=GRPC_VERBOSITY=ERROR
UMask=0077
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
RestrictSUIDSGID=yes
# Read-only everywhere except the state dir (state database and the certificates it renews).
ProtectSystem=strict
ReadWritePaths={spec.state_dir}
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectHostname=yes
{optional}RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
RestrictNamespaces=yes
RestrictRealtime=yes
LockPersonality=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallErrorNumber=EPERM

[Install]
WantedBy=multi-user.target
"""


def parse(text: str) -> dict[str, dict[str, list[str]]]:
    """Sections -> key -> values (a key may repeat), as systemd reads them (no line joins)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, sep, value = line.partition("=")
        if not sep or current is None:
            raise StepError(
                f"unit line {number} is neither a section nor KEY=VALUE: {raw!r}", "unit"
            )
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def problems(text: str, spec: UnitSpec) -> list[str]:
    """What is wrong with the unit ``text`` for ``spec`` (empty when it is right)."""
    found: list[str] = []
    units = parse(text)
    for name in ("Unit", "Service", "Install"):
        if name not in units:
            found.append(f"section [{name}] is missing")
    service = units.get("Service", {})

    def one(key: str) -> str | None:
        values = service.get(key)
        if not values:
            return None
        if len(values) > 1:
            found.append(f"{key}= is set {len(values)} times")
        return values[-1]

    for key, want in REQUIRED.items():
        got = one(key)
        if got != want:
            found.append(
                f"{key}={want} expected, found {key}={got}"
                if got is not None
                else f"{key}={want} missing"
            )
    if spec.user and one("User") != spec.user:
        found.append(f"User={spec.user} expected")
    writable = (one("ReadWritePaths") or "").split()
    if writable != [str(spec.state_dir)]:
        found.append(f"ReadWritePaths must be exactly {spec.state_dir}, found {writable}")
    if "GRPC_VERBOSITY=ERROR" not in service.get("Environment", []):
        found.append("Environment=GRPC_VERBOSITY=ERROR missing")
    exec_start = (one("ExecStart") or "").split()
    if not exec_start:
        found.append("ExecStart= missing")
    else:
        exe = Path(exec_start[0])
        if not exe.is_absolute() or not exe.is_file():
            found.append(f"ExecStart program {exe} does not exist")
        if exec_start[1:] != ["run", "--config", str(spec.config_file)]:
            found.append(f"ExecStart must run the agent with --config {spec.config_file}")
    if units.get("Install", {}).get("WantedBy") != ["multi-user.target"]:
        found.append("[Install] WantedBy=multi-user.target missing")
    return found


def analyze_verify(unit: Path) -> str | None:
    """``systemd-analyze verify``; None when the tool is not installed. StepError on errors.

    systemd only warns about keys it does not know and ignores them; a hardening setting
    that is silently ignored is a hole, so unknown keys fail the check here.
    """
    tool = shutil.which("systemd-analyze")
    if tool is None:
        return None
    result = commands.run(
        [tool, "verify", unit],
        step="unit",
        what="systemd-analyze verify",
        fix="",
        check=False,
        timeout=60,
    )
    out = result.stdout.strip()
    fatal = [
        ln
        for ln in out.splitlines()
        if re.search(r"Unknown (key|section|lvalue)|Failed to|not executable|Invalid", ln)
    ]
    if result.returncode != 0 or fatal:
        raise StepError(
            f"systemd-analyze verify {unit} rejected the unit:\n{out}\nreport this with the "
            "output of systemctl --version",
            "unit",
        )
    return out


def running() -> bool:
    """systemd is the init system here (sd_booted(3))."""
    return Path("/run/systemd/system").is_dir() and shutil.which("systemctl") is not None


def version() -> int | None:
    tool = shutil.which("systemctl")
    if tool is None:
        return None
    result = commands.run(
        [tool, "--version"],
        step="unit",
        what="systemctl --version",
        fix="",
        check=False,
        timeout=30,
    )
    match = re.match(r"systemd (\d+)", result.stdout)
    return int(match.group(1)) if match else None


def systemctl(*args: str, step: str = "start") -> None:
    commands.run(
        ["systemctl", *args],
        step=step,
        what=f"systemctl {' '.join(args)}",
        fix="see journalctl -u iplatform-agent for why, fix it and run the installer again",
        timeout=120,
    )


def is_active(unit: str) -> bool:
    result = commands.run(
        ["systemctl", "is-active", "--quiet", unit],
        step="stop",
        what="systemctl is-active",
        fix="",
        check=False,
        timeout=30,
    )
    return result.returncode == 0

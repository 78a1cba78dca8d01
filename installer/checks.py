"""Is this machine ready: interpreter version, outbound TCP to the hub, clock skew.

Clock skew: before enrollment the agent has no certificate, and a TLS handshake carries no
time, so the hub's clock is read from the certificate it issues at enrollment: the hub
sets notBefore to its own "now" minus :data:`HUB_BACKDATE`. Right after enrollment,
``local now - (notBefore + HUB_BACKDATE)`` is this machine's clock error (accurate to the
duration of the enrollment call, a few seconds at most). It cannot be measured again on a
re-run that keeps the existing certificate.
"""

from __future__ import annotations

import re
import socket
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509

from installer.errors import ClockSkewError, HubUnreachableError, PythonTooOldError, UsageError

MIN_PYTHON = (3, 11)
REACH_TIMEOUT_SECONDS = 5.0
# The hub backdates notBefore of the certificates it signs by this much
# (hub.pki.BACKDATE); it is part of what the hub promises, not a setting.
HUB_BACKDATE = timedelta(minutes=5)
SKEW_WARN = timedelta(minutes=1)
SKEW_MAX = timedelta(minutes=5)
_HUB = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(?P<port>\d{1,5})$")


@dataclass(frozen=True)
class HubAddress:
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> HubAddress:
        match = _HUB.match(text.strip())
        port = int(match["port"]) if match else 0
        if not match or not 0 < port < 65536:
            raise UsageError(
                f"--hub {text!r} is not HOST:PORT; write e.g. --hub hub.example.kr:7443"
            )
        return cls(match["host"].removeprefix("[").removesuffix("]"), port)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def check_python(version: tuple[int, ...] = tuple(sys.version_info[:3])) -> str:
    if version[:2] < MIN_PYTHON:
        have = ".".join(map(str, version))
        need = ".".join(map(str, MIN_PYTHON))
        raise PythonTooOldError(
            f"Python {have} runs this installer; the agent needs Python {need} or newer. "
            f"Install python{need} (e.g. apt-get install python{need} python{need}-venv) and run "
            f"the installer with it: python{need} -m installer agent ..."
        )
    return f"Python {'.'.join(map(str, version))} ({sys.executable})"


def check_reach(hub: HubAddress, timeout: float = REACH_TIMEOUT_SECONDS) -> str:
    """Open (and close) a TCP connection to the hub; HubUnreachableError saying what to open."""
    fix = f"open outbound TCP to {hub} in the firewall, and check the address with the hub operator"
    try:
        with socket.create_connection((hub.host, hub.port), timeout=timeout):
            pass
    except socket.gaierror as exc:
        raise HubUnreachableError(
            f"cannot resolve the hub's name {hub.host!r} ({exc.strerror}): check the name in "
            "--hub, this machine's DNS servers or /etc/hosts"
        ) from None
    except ConnectionRefusedError:
        raise HubUnreachableError(
            f"the hub {hub} refused the connection: nothing listens there, or a firewall "
            f"rejects it; {fix}"
        ) from None
    except TimeoutError:
        raise HubUnreachableError(
            f"no answer from the hub {hub} within {timeout:.0f} s: a firewall probably drops "
            f"the traffic; {fix}"
        ) from None
    except OSError as exc:
        raise HubUnreachableError(
            f"cannot connect to the hub {hub} ({exc.strerror or exc}); {fix}"
        ) from None
    return f"TCP connection to {hub} ok"


def cert_not_before(cert: Path) -> datetime:
    return x509.load_pem_x509_certificate(cert.read_bytes()).not_valid_before_utc


def clock_skew(not_before: datetime, local_now: datetime) -> timedelta:
    """How far this machine's clock is ahead of the hub's (negative: behind)."""
    return local_now - (not_before + HUB_BACKDATE)


def check_skew(skew: timedelta) -> str:
    """A note for a small skew; ClockSkewError past :data:`SKEW_MAX`."""
    seconds = int(skew.total_seconds())
    direction = "ahead of" if seconds > 0 else "behind"
    said = f"this machine's clock is {abs(seconds)} s {direction} the hub's"
    if abs(skew) > SKEW_MAX:
        raise ClockSkewError(
            f"{said} (more than {int(SKEW_MAX.total_seconds() // 60)} minutes): certificates "
            "would look not yet valid or expired. Turn on time synchronisation "
            "(timedatectl set-ntp true, or chrony/ntpd pointing at your NTP server), then run "
            "the installer again"
        )
    if abs(skew) > SKEW_WARN:
        return f"WARNING: {said}; turn on time synchronisation (timedatectl set-ntp true)"
    return f"clock ok ({said})"

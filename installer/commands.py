"""Running the programs the installer drives (pip, iplat-agent, systemctl, useradd).

Children get a clean environment: no PYTHONPATH/PYTHONHOME/VIRTUAL_ENV of whoever runs
the installer (they would make the agent's venv import other code than its own), and
``GRPC_VERBOSITY=ERROR`` so gRPC's C core does not print plain-text noise into JSON logs.
A failing program becomes a :class:`CommandError` carrying the tail of its output.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from installer.errors import CommandError

_DROP = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV")
OUTPUT_TAIL_LINES = 25


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _DROP}
    env["GRPC_VERBOSITY"] = "ERROR"
    env.update(extra or {})
    return env


@dataclass(frozen=True)
class RunAs:
    """Run a child as this account (the service user), so checks see what the service sees."""

    user: str
    group: str


def tail(text: str, lines: int = OUTPUT_TAIL_LINES) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def run(
    argv: Sequence[str | Path],
    *,
    step: str,
    what: str,
    fix: str,
    timeout: float = 600,
    run_as: RunAs | None = None,
    cwd: Path | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv``; on failure raise CommandError "``what`` failed (...): ``fix``"."""
    args = [str(a) for a in argv]
    try:
        result = subprocess.run(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            env=child_env(),
            timeout=timeout,
            cwd=cwd,
            user=run_as.user if run_as else None,
            group=run_as.group if run_as else None,
            extra_groups=[] if run_as else None,
        )
    except FileNotFoundError:
        raise CommandError(f"{what}: {args[0]} not found; {fix}", step, 127) from None
    except PermissionError as exc:
        who = f"the account {run_as.user}" if run_as else "this account"
        raise CommandError(
            f"{what}: {who} may not run {args[0]} ({exc.strerror}). The venv's Python must be "
            f"readable and executable by {who}: create the venv from a system-wide Python "
            "(e.g. /usr/bin/python3.11 -m installer ...), not one in a private home directory",
            step,
            126,
        ) from None
    except subprocess.TimeoutExpired as exc:
        out = exc.output if isinstance(exc.output, str) else ""
        raise CommandError(
            f"{what}: no result within {timeout:.0f} s; {fix}\n{tail(out)}".rstrip(), step, -1, out
        ) from None
    if check and result.returncode != 0:
        raise CommandError(
            f"{what} failed (exit code {result.returncode}):\n{tail(result.stdout)}\n{fix}",
            step,
            result.returncode,
            result.stdout,
        )
    return result

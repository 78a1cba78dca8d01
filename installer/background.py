"""``--service none``: the agent as a detached background process with a pid file.

The agent is started through a short-lived launcher process, so it is not a child of the
installer: it runs on after the installer exits, in its own session (no terminal hang-up
reaches it), with its output appended to the log file. The pid file holds its pid; before
signalling that pid, :func:`is_agent` checks that the process really runs this install's
agent (a pid can be reused by an unrelated process after a reboot).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from installer import commands, files
from installer.errors import StepError

STOP_TIMEOUT_SECONDS = 30.0
_POLL_SECONDS = 0.05

# Runs in a separate interpreter: starts the agent in a new session and prints its pid.
_LAUNCHER = """\
import subprocess, sys
cwd, log, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(log, "ab") as out:
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                         start_new_session=True, close_fds=True, cwd=cwd)
print(p.pid)
"""


def start(argv: list[str], log_file: Path, pid_file: Path, cwd: Path) -> int:
    """Start ``argv`` detached in ``cwd``; write and return its pid."""
    result = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, str(cwd), str(log_file), *argv],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=commands.child_env(),
        timeout=60,
        check=False,
    )
    if result.returncode != 0 or not result.stdout.strip().isdigit():
        raise StepError(
            f"could not start {argv[0]}: {result.stderr.strip() or result.stdout.strip()}",
            "start",
        )
    pid = int(result.stdout.strip())
    files.write_atomic(pid_file, f"{pid}\n".encode())
    return pid


def read_pid(pid_file: Path) -> int | None:
    try:
        text = pid_file.read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return int(text) if text.isdigit() else None


def _state(pid: int) -> str | None:
    """The process state letter from /proc (None: no such process)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name in parentheses may contain spaces: the state follows the last ')'.
    return stat.rsplit(")", 1)[1].split()[0]


def alive(pid: int) -> bool:
    state = _state(pid)
    if state == "Z":  # exited; reap it if it happens to be our child
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        return False
    return state is not None


def is_agent(pid: int, agent_exe: Path) -> bool:
    """``pid`` runs ``agent_exe`` (or a script of the same venv)."""
    if not alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return False
    return str(agent_exe).encode() in cmdline


def running_pid(pid_file: Path, agent_exe: Path) -> int | None:
    pid = read_pid(pid_file)
    return pid if pid is not None and is_agent(pid, agent_exe) else None


def stop(pid: int, timeout: float = STOP_TIMEOUT_SECONDS) -> bool:
    """SIGTERM, wait up to ``timeout`` for a graceful stop, then SIGKILL. True if it had to kill."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return False
        time.sleep(_POLL_SECONDS)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)
    return True

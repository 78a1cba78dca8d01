"""Driving the installed agent through its own command line: enroll, check, status.

The installer never imports the agent: it runs ``PREFIX/venv/bin/iplat-agent``, the program
the service will run, so what it checks is what will run.

:func:`first_sync` judges ``iplat-agent status --json``: the first sync is complete when the
agent process started by this install is connected (its session began after the start),
every source has been read since the start, and nothing waits in the outbox, so every
change read was acknowledged by the hub (an empty source has nothing to acknowledge; the
hub's Welcome then counts).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from installer import commands
from installer.commands import RunAs
from installer.errors import CommandError

# iplat-agent enroll's exit codes (agent.errors): the token was refused, the pin did not match.
ENROLL_TOKEN_REFUSED = 3
ENROLL_PIN_MISMATCH = 4


def enroll(
    agent_exe: Path,
    *,
    hub: str,
    token_file: Path,
    ca_fingerprint: str,
    directory: Path,
    center: str | None,
) -> str:
    """``iplat-agent enroll`` into ``directory``; returns its output."""
    argv: list[str | Path] = [agent_exe, "enroll", "--hub", hub, "--token-file", token_file]
    argv += ["--ca-fingerprint", ca_fingerprint, "--dir", directory]
    if center:
        argv += ["--center", center]
    result = commands.run(
        argv,
        step="enroll",
        what=f"enrolling with the hub {hub}",
        fix="",
        check=False,
        timeout=120,
    )
    if result.returncode == 0:
        return result.stdout
    if result.returncode == ENROLL_TOKEN_REFUSED:
        fix = (
            "ask the hub operator for a new token (iplat-hub token create --center ID) and run "
            "the installer again with it"
        )
    elif result.returncode == ENROLL_PIN_MISMATCH:
        fix = (
            "the hub did not prove it holds the CA of --ca-fingerprint: check the fingerprint "
            "and the --hub address with the hub operator; the token was not sent"
        )
    else:
        fix = "see the agent's message above; then run the installer again"
    raise CommandError(
        f"enrolling with the hub {hub} failed:\n{commands.tail(result.stdout)}\n{fix}",
        "enroll",
        result.returncode,
        result.stdout,
    )


def check(agent_exe: Path, config: Path, run_as: RunAs | None) -> str:
    """``iplat-agent check`` (as the service user when there is one); returns its report."""
    who = f" as user {run_as.user}" if run_as else ""
    result = commands.run(
        [agent_exe, "check", "--config", config],
        step="check",
        what=f"iplat-agent check --config {config}{who}",
        fix=(
            f"fix what the report above says (the sources named in {config} must exist and be "
            "readable by the service user), then run the installer again"
        ),
        timeout=300,
        run_as=run_as,
        cwd=Path("/"),
    )
    return result.stdout.rstrip()


def status(agent_exe: Path, config: Path, run_as: RunAs | None) -> dict[str, Any] | None:
    """``iplat-agent status --json``, or None while the agent has not written its state yet."""
    result = commands.run(
        [agent_exe, "status", "--config", config, "--json"],
        step="sync",
        what="iplat-agent status",
        fix="",
        check=False,
        timeout=60,
        run_as=run_as,
        cwd=Path("/"),
    )
    if result.returncode != 0:
        return None
    try:
        data = json.loads(result.stdout)
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def _epoch(value: object) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


@dataclass(frozen=True)
class SyncProgress:
    done: bool
    """The first sync since ``started_at`` is complete."""
    summary: str
    """Where it stands, for progress and for the timeout message."""


def first_sync(report: dict[str, Any] | None, started_at: float) -> SyncProgress:
    """Judge one ``status --json`` report against the agent start time (epoch seconds)."""
    if report is None:
        return SyncProgress(False, "the agent has not written its state yet")
    # status prints whole seconds; a session begun in the start's second counts.
    since = int(started_at)
    connection = str(report.get("connection", ""))
    problem = (report.get("certificate") or {}).get("problem") or ""
    error = str(report.get("last_error") or "")
    backlog = int(report.get("backlog") or 0)
    sources = report.get("sources") or []
    read = [s for s in sources if (_epoch(s.get("last_poll")) or 0) >= since]
    failing = [s for s in read if not s.get("ok")]
    session = _epoch(report.get("session_started_at")) or 0
    if not report.get("running"):
        return SyncProgress(False, "the agent is not running" + (f" ({error})" if error else ""))
    if connection != "connected" or session < since:
        why = f"; last error: {error}" if error else ""
        if problem:
            why += f"; certificate: {problem}"
        return SyncProgress(False, f"not connected yet ({connection or 'starting'}{why})")
    if len(read) < len(sources) or not sources:
        return SyncProgress(False, f"connected; {len(read)} of {len(sources)} source(s) read")
    if backlog:
        return SyncProgress(False, f"connected; {backlog} change(s) wait for the hub's ack")
    hwm = report.get("hub_hwm")
    bad = f"; source(s) with problems: {', '.join(s['name'] for s in failing)}" if failing else ""
    return SyncProgress(
        True,
        f"connected, {report.get('records', 0)} record(s) acknowledged by the hub "
        f"(high-water mark {hwm}){bad}",
    )

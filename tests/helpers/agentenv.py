"""A real agent for tests: ``iplat-agent init`` in-process, signed by a real hub's CA,
and ``iplat-agent run`` as a subprocess that can be stopped (SIGTERM) or killed (SIGKILL).

::

    with running_hub(init_hub(tmp_path / "hub")) as hub:
        add_center(hub.data_dir, "KR-MR-0001")
        ad = make_agent_dir(hub, tmp_path / "agent", "KR-MR-0001")
        ad.write_equipment([equipment_row("EQ-1")])
        with running_agent(ad) as agent:
            eventually(lambda: hub_equipment_ids(hub, "KR-MR-0001") == {"EQ-1"})
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent import cli as agent_cli
from agent.sources import fields
from hub.store import Store, SyncState
from tests.helpers import hubenv
from tests.helpers.hubenv import RunningHub

REPO = Path(__file__).resolve().parents[2]

# Fast timings for tests: reconnect quickly, poll often (watch makes edits immediate anyway).
FAST_SYNC: Mapping[str, object] = {
    "poll_seconds": 2,
    "backoff_initial_seconds": 0.2,
    "backoff_max_seconds": 1.0,
}


def run_agent_cli(*argv: str) -> tuple[int, str, str]:
    """``iplat-agent ARGV`` in-process; (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = agent_cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


def equipment_row(eq_id: str, **overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": eq_id,
        "name_ko": f"장비 {eq_id}",
        "name_en": f"Equipment {eq_id}",
        "category": "battery-cycler",
        "status": "available",
    }
    row.update(overrides)
    return row


def calendar_row(
    entry_id: str, equipment_id: str, start: str, end: str, kind: str = "booked"
) -> dict[str, object]:
    return {"id": entry_id, "equipment_id": equipment_id, "start": start, "end": end, "kind": kind}


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[Mapping[str, object]]) -> None:
    """Write ``rows`` the way editors do: a temp file renamed over the original."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in columns})
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    os.replace(tmp, path)


@dataclass(frozen=True)
class AgentDir:
    dir: Path
    center_id: str

    @property
    def config(self) -> Path:
        return self.dir / "agent.toml"

    @property
    def equipment_csv(self) -> Path:
        return self.dir / "equipment.csv"

    @property
    def calendar_csv(self) -> Path:
        return self.dir / "calendar.csv"

    @property
    def state_path(self) -> Path:
        return self.dir / "state.db"

    def write_equipment(self, rows: Sequence[Mapping[str, object]]) -> None:
        write_csv(self.equipment_csv, fields.EQUIPMENT_COLUMNS, rows)

    def write_calendar(self, rows: Sequence[Mapping[str, object]]) -> None:
        write_csv(self.calendar_csv, fields.CALENDAR_COLUMNS, rows)

    def set_sync(self, **values: object) -> None:
        """Set ``[sync]`` keys in agent.toml (replacing ones set before)."""
        text = self.config.read_text(encoding="utf-8")
        for key, value in values.items():
            text = re.sub(rf"(?m)^{re.escape(key)} = .*\n", "", text)
            text = text.replace("[sync]\n", f"[sync]\n{key} = {json.dumps(value)}\n", 1)
        self.config.write_text(text, encoding="utf-8")

    def set_top(self, key: str, value: object) -> None:
        """Set a top-level agent.toml key (``log_level``, ``state_path``...)."""
        text = self.config.read_text(encoding="utf-8")
        text = re.sub(rf"(?m)^{re.escape(key)} = .*\n", "", text)
        text = text.replace("\n[tls]\n", f"\n{key} = {json.dumps(value)}\n\n[tls]\n", 1)
        self.config.write_text(text, encoding="utf-8")

    def cli(self, *argv: str) -> tuple[int, str, str]:
        """``iplat-agent COMMAND --config agent.toml ARGS`` in-process."""
        command, *rest = argv
        return run_agent_cli(command, "--config", str(self.config), *rest)

    def status(self) -> dict[str, Any]:
        code, out, err = self.cli("status", "--json")
        assert code == 0, err
        result: dict[str, Any] = json.loads(out)
        return result


def make_agent_dir(
    hub: RunningHub,
    directory: Path,
    center_id: str,
    *,
    sync: Mapping[str, object] = FAST_SYNC,
    register: bool = True,
    log_level: str = "debug",
) -> AgentDir:
    """``iplat-agent init`` for ``center_id``, CSR signed by ``hub`` (registering the center)."""
    if register:
        hubenv.add_center(hub.data_dir, center_id)
    code, out, err = run_agent_cli(
        "init", "--center", center_id, "--hub", hub.address, "--dir", str(directory)
    )
    assert code == 0, err
    code, out = hubenv.run_cli(
        "center", "sign", str(directory / "agent.csr"), "--center", center_id,
        "--data-dir", str(hub.data_dir),
    )  # fmt: skip
    assert code == 0, out
    agent_dir = AgentDir(directory, center_id)
    agent_dir.set_sync(**sync)
    agent_dir.set_top("log_level", log_level)
    return agent_dir


@dataclass
class AgentProcess:
    agent_dir: AgentDir
    process: subprocess.Popen[bytes]
    log_path: Path

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        """The JSON log lines written so far (only event ``name`` if given)."""
        out = []
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        for line in text.splitlines():
            if not line.startswith("{"):
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line being written right now
            if name is None or record.get("event") == name:
                out.append(record)
        return out

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM and wait; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"agent did not stop on SIGTERM within {timeout}s") from None

    def kill(self) -> int:
        """SIGKILL: no chance to clean up."""
        if self.process.poll() is None:
            self.process.kill()
        return self.process.wait()


def start_agent(agent_dir: AgentDir, log_name: str = "agent.log") -> AgentProcess:
    log_path = agent_dir.dir / log_name
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "agent", "run", "--config", str(agent_dir.config)],
            stdout=log,
            stderr=log,
            cwd=REPO,
            env=env,
        )
    return AgentProcess(agent_dir, process, log_path)


@contextmanager
def running_agent(agent_dir: AgentDir, log_name: str = "agent.log") -> Iterator[AgentProcess]:
    agent = start_agent(agent_dir, log_name)
    try:
        yield agent
    finally:
        if agent.alive():
            try:
                agent.stop()
            finally:
                agent.kill()


# -- what the hub has ---------------------------------------------------------------------


def hub_center(hub: RunningHub, center_id: str) -> dict[str, Any]:
    """The center's part of ``iplat-hub view --json`` (read from the hub's database)."""
    code, out = hubenv.run_cli(
        "view", "--json", "--center", center_id, "--data-dir", str(hub.data_dir)
    )
    assert code == 0, out
    centers = json.loads(out)["centers"]
    assert len(centers) == 1, centers
    result: dict[str, Any] = centers[0]
    return result


def hub_records(hub: RunningHub, center_id: str) -> dict[str, Any]:
    """{equipment id: (name_ko, status, {entry id: (start, end, kind)})} on the hub."""
    center = hub_center(hub, center_id)
    return {
        eq["id"]: (
            eq["name_ko"],
            eq["status"],
            {en["id"]: (en["start"], en["end"], en["kind"]) for en in eq["entries"]},
        )
        for eq in center["equipment"]
    }


_ids = itertools.count(1)


def new_center_id(prefix: str = "KR-T") -> str:
    """A center id no other test of this process uses (tests share one hub)."""
    return f"{prefix}-{os.getpid() % 10000:04d}-{next(_ids):04d}"


def restart_hub(hub: RunningHub) -> RunningHub:
    """Stop ``hub`` (if running) and start it again on the same address."""
    if hub.process.poll() is None:
        hub.stop()
    return hubenv.start_hub(hub.data_dir, listen=hub.address)


def hub_sync_state(hub: RunningHub, center_id: str) -> SyncState:
    """The hub's sync state of a center (hwm, backlog, quarantined deletes, sources...)."""
    store = Store.open(hub.config.database_url)
    try:
        return store.sync_state(center_id)
    finally:
        store.close()
